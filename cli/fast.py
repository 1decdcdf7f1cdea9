"""The ``treaty`` console script's entry point: ``treaty status STATE --json`` answered by the
running worker, everything else by the normal CLI (:func:`cli.main.run`).

A Python CLI cannot answer as fast as a Go binary if it first imports typer, pydantic and
asyncpg and connects to PostgreSQL (the target: ``treaty status STATE --json`` no slower
than the Temporal CLI's query; ``bench/cli_startup_bench.py``, figure 5b). The worker is
already running, with those imported and a pool connected, so it answers this one read on a
Unix socket in the embedded home (``$TREATYFLOW_HOME/run/worker.sock``,
:mod:`app.status_server`), with the very code the command uses
(:func:`app.reads.state_status`, :func:`app.reads.status_row`,
:func:`app.jsontext.json_text`). This module imports nothing but the standard library's
``sys``, ``os``, ``socket`` (its C module ``_socket``), ``json`` and a sha256 (CPython's
built-in one, not OpenSSL's): ``tests/e2e/test_cli_fast.py`` checks that it loads no typer,
pydantic, asyncpg nor Temporal.

The fast path is taken only when the answer is certainly the one the normal path would
print; in every other case the normal CLI runs, unchanged:

- the command line is ``status STATE --json`` with at most ``--treaty CODE`` /
  ``-t CODE`` / ``--treaty=CODE`` / ``-tCODE`` besides, in any order (nothing else: no
  other command, no ``--help``, no ``--``);
- ``TREATYFLOW_FAST_READS`` is not off (``0``, ``false``, ``no``, ``off``: no fast path,
  and a worker started with it opens no socket);
- the socket is there, is a socket, belongs to this user and nobody else may use it
  (mode 0600), and the worker answers within :data:`TIMEOUT` seconds;
- the worker says the client's settings would be valid and name the event store it
  serves: this process's ``TREATYFLOW_*`` / ``TEMPORAL_*`` variables are sent (secrets
  masked; ``DATABASE_URL`` and the libpq ``PG*`` variables only as sha256 digests), the
  worker validates them with the settings model and compares the store they name (the
  embedded PostgreSQL of the same home, or the same ``DATABASE_URL`` and ``PG*``) and the
  code (same source tree and Python environment) with its own; a log level below
  WARNING is left to the normal path (it would log to stderr);
- the State and the treaty are known and something is recorded for the State (else the
  normal path gives its own error and exit code);
- the source files the worker computed with are unchanged on disk (their size and
  modification time), so that an edited or upgraded tree is never answered by a worker
  still running the old code.
"""

from __future__ import annotations

import json
import os
import sys

from adapters.fast_protocol import PROTOCOL, enabled, socket_path

try:  # the C half of `socket` (~2.5 ms less: no enum classes, no selectors)
    import _socket as socket
except ImportError:  # pragma: no cover - another Python
    import socket  # type: ignore[no-redef]

try:  # CPython's built-in sha256 (no OpenSSL to load: ~2 ms less than hashlib)
    from _sha2 import sha256  # type: ignore[import-not-found]
except ImportError:
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef]
    except ImportError:  # pragma: no cover - another Python
        from hashlib import sha256  # type: ignore[assignment]

#: Seconds the client waits for the worker at each step (connect, send, each part of the
#: answer) before it runs the normal path instead.
TIMEOUT = 1.0
#: Answers longer than this (bytes) are not accepted (one State's row is well under 1 KiB).
MAX_ANSWER = 1 << 20
#: Variables whose value is a secret the worker does not need to see: sent as ``***``
#: (the settings accept any non-empty value for them).
MASKED = frozenset({"TEMPORAL_API_KEY", "TREATYFLOW_SMTP_PASSWORD"})
_SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def parse(argv: list[str]) -> tuple[str, str] | None:
    """``(state, treaty)`` for a command line ``status STATE --json [--treaty CODE]`` (the
    options anywhere after ``status``, as the typer command accepts them; treaty default
    ``CCM``), else None."""
    if not argv or argv[0] != "status":
        return None
    state: str | None = None
    treaty: str | None = None
    as_json = False
    rest = argv[1:]
    i = 0
    while i < len(rest):
        arg = rest[i]
        value: str | None = None
        if arg == "--json":
            as_json = True
        elif arg in ("--treaty", "-t"):
            if i + 1 >= len(rest):
                return None
            i += 1
            value = rest[i]
        elif arg.startswith("--treaty="):
            value = arg[len("--treaty=") :]
        elif arg.startswith("-t") and not arg.startswith("--"):
            value = arg[2:]
        elif arg.startswith("-") or state is not None or not arg:
            return None  # another option, `--`, a second argument, an empty State
        else:
            state = arg
        if value is not None:
            if treaty is not None or not value or value.startswith("-"):
                return None
            treaty = value
        i += 1
    if not as_json or state is None:
        return None
    return state, treaty if treaty is not None else "CCM"


def _digest(value: str) -> str:
    return sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


def _environment() -> dict[str, str | None]:
    """What the worker needs of this process's environment to know the CLI would run with
    valid settings on the store it serves (secrets masked or digested)."""
    env: dict[str, str | None] = {}
    for key, value in os.environ.items():
        if key in MASKED:
            env[key] = "***" if value else ""
        elif key == "DATABASE_URL":
            url = value.strip()
            env[key] = _digest(url) if url else None
        elif key.startswith("PG"):
            env[key] = _digest(value)
        elif key.startswith(("TREATYFLOW_", "TEMPORAL_")) or key in ("HOME", "XDG_DATA_HOME"):
            env[key] = value
    return env


def _home() -> str | None:
    """The embedded stack's home, as the settings find it (``TREATYFLOW_HOME``, else the
    platform's user data folder); None where that is not certain here (not Linux). Only
    where to look for the socket: the worker checks the home the settings would give."""
    home = os.environ.get("TREATYFLOW_HOME")
    if not home:
        if not sys.platform.startswith("linux"):
            return None
        data = os.environ.get("XDG_DATA_HOME", "")  # as platformdirs reads it
        base = data if data.startswith("/") else os.path.expanduser("~/.local/share")
        home = os.path.join(base, "treatyflow")
    return os.path.realpath(os.path.expanduser(home))


def ask(state: str, treaty: str) -> str | None:
    """The text the worker answers for ``treaty status STATE --json --treaty TREATY``, or
    None when the normal path must answer (see the module docstring)."""
    if not enabled(os.environ):
        return None
    home = _home()
    if home is None:
        return None
    path = socket_path(home)
    if len(os.fsencode(path)) > 107:  # sockaddr_un's limit
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    if (st.st_mode & 0o170000) != 0o140000 or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    request = {
        "protocol": PROTOCOL,
        "op": "status",
        "state": state,
        "treaty": treaty,
        "env": _environment(),
        "source_root": _SOURCE_ROOT,
        "prefix": os.path.realpath(sys.prefix),
    }
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(TIMEOUT)
            sock.connect(path)
            sock.sendall(json.dumps(request).encode() + b"\n")
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            size = 0
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_ANSWER:
                    return None
                chunks.append(chunk)
        finally:
            sock.close()
        answer = json.loads(b"".join(chunks))
    except (OSError, ValueError):  # refused (stale socket), timeout, a broken answer
        return None
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        return None
    text = answer.get("text")
    sources = answer.get("sources")
    if not isinstance(text, str) or not isinstance(sources, list):
        return None
    for item in sources:
        try:
            name, mtime_ns, size = item
            st = os.stat(name)
        except (OSError, TypeError, ValueError):
            return None
        if st.st_mtime_ns != mtime_ns or st.st_size != size:
            return None
    return text


def _write_out(data: bytes) -> bool:
    """Write ``data`` to stdout's file descriptor, unbuffered; False if it cannot be
    written (a full disk, a reader gone, a closed descriptor): nothing is left in a
    buffer, and the normal path then meets the same error and reports it its own way."""
    try:
        fd = sys.stdout.fileno()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except (OSError, ValueError):  # ValueError: no file descriptor behind stdout
        return False
    return True


def run() -> None:
    """Console entry point of ``treaty``: the worker's answer for ``treaty status STATE
    --json`` when it can give it (exit 0), else the normal CLI (:func:`cli.main.run`)."""
    parsed = parse(sys.argv[1:])
    # with stdout or stderr closed the normal path fails in its own way: let it
    if parsed is not None and sys.stdout is not None and sys.stderr is not None:
        text = ask(*parsed)
        data = None
        if text is not None:
            try:  # what the normal path could not write, it must fail on itself
                data = text.encode(sys.stdout.encoding or "utf-8", sys.stdout.errors or "strict")
            except (LookupError, UnicodeError):
                data = None
        if data is not None and _write_out(data):
            os._exit(0)
    from cli.main import run as run_cli

    run_cli()
