"""The worker's side of the fast path of ``treaty status STATE --json`` (:mod:`cli.fast`).

The first worker process (``--processes N``: the one of index 0) listens on a Unix socket
in the embedded home, ``<home>/run/worker.sock`` (mode 0600; a stale file left by a
killed worker is replaced; removed on shutdown; not opened when another live worker
already answers on it, nor with ``TREATYFLOW_FAST_READS=0``). A client sends one JSON line
and gets one JSON object back, then the connection is closed:

    request   {"protocol": 1, "op": "status", "state": "Albania", "treaty": "CCM",
               "env": {...}, "source_root": "/path/to/treatyflow", "prefix": "/.venv"}
    answer    {"ok": true, "text": "<what `treaty status ... --json` prints>",
               "sources": [["/path/cli/render.py", mtime_ns, size], ...]}
              {"ok": false, "reason": "..."}   # "not handled": the client runs the CLI

The answer is computed with the command's own code (:func:`app.reads.state_status`,
:func:`app.reads.status_row`, :func:`app.jsontext.json_text`, the State and the treaty
resolved as :func:`cli.runtime._state` / :func:`cli.runtime._treaty` do) on the worker's
own :class:`~eventstore.store.EventStore`. It is "not handled" unless the normal path
would certainly print the same thing and exit 0 (see :meth:`StatusServer.refusal`): the
client's settings valid, naming this store (the embedded PostgreSQL of this home, or the
same ``DATABASE_URL`` with the same ``PG*`` variables), the same source tree and Python
environment, a CLI log level of WARNING or above, a known treaty and State, something
recorded for it. ``sources`` lets the client check that no source file changed since the
worker started (:data:`STARTUP_SOURCES`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import socket
import sys
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

import settings as settings_mod
from adapters.fast_protocol import PROTOCOL, socket_path
from eventstore.store import EventStore

log = structlog.get_logger("worker.fast_reads")

#: Seconds the worker gives a client to send its request.
READ_TIMEOUT = 2.0
#: Largest request accepted (bytes).
MAX_REQUEST = 1 << 20
_SOURCE_ROOT = Path(__file__).resolve().parent.parent
_MIGRATIONS = _SOURCE_ROOT / "eventstore" / "migrations"


# --- the client's settings, validated as the CLI would ------------------------------------

#: The environment of the request being validated (set just before the settings model is
#: built, synchronously: the worker's event loop runs one validation at a time).
_client_environ: Mapping[str, str] = {}


class _ClientEnv(EnvSettingsSource):
    """The settings' environment source, reading the client's variables instead of the
    worker's (same parsing: case, empty values, ``None`` strings)."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            _client_environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


class _ClientSettings(settings_mod.Settings):
    """:class:`settings.Settings` read from the client's environment alone."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _ClientEnv(settings_cls))


def client_settings(env: Mapping[str, str | None]) -> settings_mod.Settings | None:
    """The settings the CLI would load in the client's environment ``env`` (as sent by
    :func:`cli.fast._environment`: ``DATABASE_URL`` as a digest, secrets masked), or None
    when it would refuse them (the normal path then says why, exit 2)."""
    global _client_environ
    environ = {k: v for k, v in env.items() if isinstance(v, str)}
    key = tuple(sorted(environ.items()))
    if key in _validated:
        return _validated[key]
    try:
        _client_environ = environ
        result: settings_mod.Settings | None = _ClientSettings()
    except (ValidationError, ValueError, TypeError):
        result = None
    finally:
        _client_environ = {}
    if len(_validated) >= 64:
        _validated.clear()
    _validated[key] = result
    return result


#: Settings already validated, by client environment (the worker's own environment, which
#: the default home depends on, does not change while it runs).
_validated: dict[tuple[tuple[str, str], ...], settings_mod.Settings | None] = {}


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


def _pg_environment(env: Mapping[str, str | None], *, digested: bool) -> dict[str, str]:
    """The libpq variables (``PG*``: host, user, password, SSL files...) of ``env``, as
    digests; asyncpg reads them where the URL says nothing."""
    return {
        k: (v if digested else _digest(v))
        for k, v in env.items()
        if k.startswith("PG") and isinstance(v, str)
    }


# --- what the answer depends on -----------------------------------------------------------


#: Folders of this source tree whose files the CLI's answer depends on (besides
#: ``settings.py``).
_PACKAGES = (
    "activities",
    "adapters",
    "app",
    "audit",
    "cli",
    "domain",
    "eventstore",
    "workflows",
)


def tree_sources() -> list[list[Any]]:
    """``[path, mtime_ns, size]`` of every file of this source tree's packages (modules,
    migrations), of ``settings.py`` and ``worker.py``, and of the Python environment's
    ``site-packages`` folders (changed when a package is installed or removed)."""
    files = [_SOURCE_ROOT / "settings.py", _SOURCE_ROOT / "worker.py"]
    for package in _PACKAGES:
        files += [p for p in (_SOURCE_ROOT / package).rglob("*") if "__pycache__" not in p.parts]
    import site

    names = {str(p) for p in files if p.is_file()}
    names.update(os.path.realpath(p) for p in site.getsitepackages() if os.path.isdir(p))
    out = []
    for name in sorted(names):
        with suppress(OSError):
            st = os.stat(name)
            out.append([name, st.st_mtime_ns, st.st_size])
    return out


#: The source files as they were when the worker loaded its code (this module is imported
#: by ``worker.py`` as it starts): a client that finds any of them changed since runs the
#: normal path, so that an edited or upgraded tree is never answered by the old code.
STARTUP_SOURCES = tree_sources()


class NotHandled(Exception):
    """The normal path must answer (the reason is logged at DEBUG)."""


class StatusServer:
    """The Unix-socket server of one worker process (see the module docstring).

    ``settings``: the worker's; ``database_url``: the store the worker serves (``store``).
    """

    def __init__(
        self, settings: settings_mod.Settings, store: EventStore, database_url: str
    ) -> None:
        self.settings = settings
        self.store = store
        self.database_url = database_url
        self.path = Path(socket_path(str(settings.home)))
        self.server: asyncio.AbstractServer | None = None
        self._inode: tuple[int, int] | None = None

    # lifecycle

    async def start(self) -> bool:
        """Listen on the socket; False (logged) when it cannot or should not."""
        path = self.path
        if len(os.fsencode(str(path))) > 107:
            log.warning("fast reads off: socket path too long", path=str(path))
            return False
        if path.exists() or path.is_symlink():
            if _answers(path):
                log.warning("fast reads off: another worker answers", path=str(path))
                return False
            with suppress(FileNotFoundError):
                path.unlink()  # stale: its worker died
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with suppress(FileNotFoundError):
                tmp.unlink()
            sock.bind(str(tmp))
            os.chmod(tmp, 0o600)  # before anyone can find it under its name
            sock.listen(64)
            os.replace(tmp, path)
            st = path.stat()
            self._inode = (st.st_dev, st.st_ino)
            sock.setblocking(False)
            self.server = await asyncio.start_unix_server(self.handle, sock=sock)
        except OSError as err:
            sock.close()
            with suppress(OSError):
                tmp.unlink()
            log.warning("fast reads off: cannot listen", path=str(path), error=str(err))
            return False
        log.info("fast reads on", socket=str(path))
        return True

    async def stop(self) -> None:
        """Stop listening and remove the socket (if it is still this server's)."""
        if self.server is None:
            return
        self.server.close()
        with suppress(OSError):
            st = self.path.stat()
            if (st.st_dev, st.st_ino) == self._inode:
                self.path.unlink()
        self.server = None

    # one request

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT)
            try:
                if len(line) > MAX_REQUEST or not line.endswith(b"\n"):
                    raise NotHandled("incomplete or too long request")
                answer = {"ok": True, **await self.answer(json.loads(line))}
            except NotHandled as why:
                log.debug("fast read not handled", reason=str(why))
                answer = {"ok": False, "reason": str(why)}
            except Exception as err:  # noqa: BLE001 - the client falls back and says it
                log.warning("fast read failed", error=f"{type(err).__name__}: {err}")
                answer = {"ok": False, "reason": f"error: {type(err).__name__}"}
            writer.write(json.dumps(answer, ensure_ascii=False).encode() + b"\n")
            await writer.drain()
        except (TimeoutError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()

    def refusal(self, request: Any) -> str | None:
        """Why the normal path might answer otherwise than this worker (None: it would
        not)."""
        if not isinstance(request, dict) or request.get("protocol") != PROTOCOL:
            return "unknown protocol"
        if request.get("op") != "status":
            return "unknown operation"
        env = request.get("env")
        if not isinstance(env, dict):
            return "no environment"
        if request.get("source_root") != str(_SOURCE_ROOT):
            return "another source tree"
        if request.get("prefix") != os.path.realpath(sys.prefix):
            return "another Python environment"
        for key in ("HOME", "XDG_DATA_HOME"):  # the default home, ~/.pgpass
            if env.get(key) != os.environ.get(key):
                return f"another {key}"
        if _pg_environment(env, digested=True) != _pg_environment(os.environ, digested=False):
            return "other PG* variables"
        client = client_settings(env)
        if client is None:
            return "the client's settings are not valid"
        if client.home != self.settings.home:
            return "another home"
        level = (client.log_level or "WARNING").upper()
        if logging.getLevelNamesMapping().get(level, logging.INFO) < logging.WARNING:
            return "the CLI would log below WARNING"
        if client.database_url is None:  # the embedded PostgreSQL of this home
            if self.database_url != _embedded_url(self.settings):
                return "not the embedded PostgreSQL's store"
        elif client.database_url != _digest(self.database_url):
            return "another DATABASE_URL"
        return None

    async def answer(self, request: Any) -> dict[str, Any]:
        """``{"text": ..., "sources": ...}`` for a request the worker can answer, else
        :class:`NotHandled`."""
        why = self.refusal(request)
        if why is not None:
            raise NotHandled(why)
        state, treaty = request.get("state"), request.get("treaty")
        if not isinstance(state, str) or not state or not isinstance(treaty, str):
            raise NotHandled("no State or treaty")
        from app import reads
        from app.jsontext import json_text
        from domain.errors import DomainError
        from domain.states import resolve_state
        from domain.treaties import get_profile

        try:  # as cli.runtime._treaty and _state
            code = get_profile(treaty).code
            iso = resolve_state(state).code
        except DomainError as err:
            raise NotHandled(f"refused: {err}") from None
        states = await reads.state_status(self.store, code, iso)
        if not states:
            raise NotHandled("nothing recorded")
        text = json_text([reads.status_row(s) for s in states])
        return {"text": text, "sources": STARTUP_SOURCES}


def _embedded_url(settings: settings_mod.Settings) -> str | None:
    """The URL of the embedded PostgreSQL of ``settings.home`` if it runs (what the CLI
    would use with no ``DATABASE_URL``), else None."""
    from adapters.stack import _pg_uri, _postmaster

    info = _postmaster(settings)
    return _pg_uri(info) if info is not None else None


def _answers(path: Path) -> bool:
    """Whether a live server accepts connections on the socket ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True
