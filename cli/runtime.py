"""What every ``treaty`` command shares: exit codes, option types, and :class:`Runtime`,
which resolves the servers a command needs (starting embedded ones where that makes
sense) and turns their failures into one-line errors with an exit code."""

from __future__ import annotations

import socket
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.text import Text

from cli import render

# The modules below import temporalio, asyncpg and the pydantic models (a few hundred ms):
# they are imported where a command needs them, so that `treaty --help` and commands that
# need no server start fast.
if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.service import RPCError

    import settings as settings_mod
    from adapters.stack import Servers
    from eventstore.store import EventStore
    from workflows.common import CommandMeta

T = TypeVar("T")


class LazyModule:
    """Stands for the module ``name`` and imports it when an attribute is first asked for:
    the command modules name the domain modules (pydantic models, a few hundred ms to
    import) at module level this way, so that printing help imports none of them
    (``tests/e2e/test_cli_lazy.py``). Use the real module under ``TYPE_CHECKING``."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attr)


def lazy_function(module: str, name: str) -> Callable[..., Any]:
    """The function ``module.name``, imported when first called (see :class:`LazyModule`)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_INTERNAL = 70  # EX_SOFTWARE
EXIT_INTERRUPTED = 130


class Failure(Exception):
    """Ends a command with ``message`` on stderr and exit ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


# --- option types -------------------------------------------------------------------------


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise typer.BadParameter(
            f"{value!r} is not a valid date ({err}); expected YYYY-MM-DD, e.g. 2011-04-06"
        ) from None


TreatyOpt = Annotated[
    str, typer.Option("--treaty", "-t", help="Treaty code: CCM, APMBC or ATT.", show_default=True)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
SourceOpt = Annotated[
    str | None, typer.Option("--source", help="Where the fact comes from (document, meeting).")
]
OnBehalfOfOpt = Annotated[
    str | None,
    typer.Option(
        "--on-behalf-of",
        "--actor",
        help="For whom the fact is recorded, e.g. 'Depositary (UN OLA)'. Who records it is "
        "always the user running the command ($TREATYFLOW_ACTOR for a service account). "
        "--actor is a deprecated name of this option.",
    ),
]


def provenance_meta(
    on_behalf_of: str | None, source: str | None, *, actor: str | None = None
) -> CommandMeta:
    """The command's provenance (:func:`app.provenance.command_meta`): recorded by the
    principal running the CLI, ``on_behalf_of`` and ``source`` as given."""
    from app.provenance import command_meta

    given = {a.partition("=")[0] for a in sys.argv[1:]}
    if {"--actor", "--on-behalf-of"} <= given:
        raise Failure(
            "usage: give --on-behalf-of once (--actor is its deprecated name, not another field)",
            EXIT_USAGE,
        )
    if on_behalf_of is not None and "--actor" in given:
        _note("--actor is deprecated: it is now --on-behalf-of (who records is your user)")
    return command_meta(on_behalf_of=on_behalf_of, source=source, actor=actor)


def require_source(command: Any, meta: CommandMeta) -> None:
    """Refuse (exit 1, before any server is contacted) a fact from a document given with
    no ``--source`` (:func:`app.provenance.check_provenance`)."""
    from app.errors import Refused
    from app.provenance import check_provenance

    try:
        check_provenance(command, meta)
    except Refused as err:
        raise Failure(f"refused: {err}", EXIT_REFUSED) from None


def report_channel(text: str) -> Any:
    """The report channel ``text`` names (:func:`domain.reporting_types.parse_channel`);
    another is a usage error (exit 2) naming those accepted."""
    from domain.errors import DomainError
    from domain.reporting_types import parse_channel

    try:
        return parse_channel(text)
    except DomainError as err:
        raise typer.BadParameter(str(err), param_hint="'--channel'") from None


def _treaty(code: str) -> str:
    from domain.errors import DomainError
    from domain.treaties import get_profile

    try:
        return get_profile(code).code
    except DomainError as err:
        raise typer.BadParameter(str(err)) from None


def _state(name: str) -> str:
    from domain.errors import DomainError
    from domain.states import resolve_state

    try:
        return resolve_state(name).code
    except DomainError as err:
        raise Failure(str(err), EXIT_REFUSED) from None


def _stream(text: str, treaty: str, *, any_process: bool = False) -> str:
    """The stream id ``text`` names (:func:`app.streams.stream_id`; ``any_process``:
    :func:`app.streams.resolve_stream`); a name that is no stream is a usage error (exit
    2), an unknown State a refusal (exit 1)."""
    from app.streams import StreamNameError, resolve_stream, stream_id
    from domain.errors import DomainError

    try:
        return (resolve_stream if any_process else stream_id)(text, treaty)
    except StreamNameError as err:
        raise typer.BadParameter(str(err)) from None
    except DomainError as err:
        raise Failure(str(err), EXIT_REFUSED) from None


# --- running async work with the right servers ------------------------------------------

#: Seconds a command waits for a stack worker that runs but does not poll (it reconnects
#: after the Temporal server restarted).
WORKER_RECONNECT_SECONDS = 30.0


def _note(message: str) -> None:
    """One line on stderr that is not an error (what the command did on the side)."""
    render.err.print(Text(message, style="dim"), highlight=False, soft_wrap=True)


def _note_started(settings: settings_mod.Settings, started: tuple[str, ...]) -> None:
    from adapters.stack import describe

    them = "them" if len(started) > 1 else "it"
    _note(f"started {describe(started)} under {settings.home}; stop {them} with `treaty down`")


def _pg_cause(err: BaseException) -> str:
    """A short reason why PostgreSQL could not be reached, from asyncpg's error."""
    from asyncpg import exceptions as asyncpg_errors

    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, socket.gaierror):
        return "host not found"
    if isinstance(err, TimeoutError):
        return "timed out"
    if isinstance(err, FileNotFoundError):
        return "no server socket in that folder"
    if isinstance(err, asyncpg_errors.ClientConfigurationError):
        return str(err)
    if isinstance(err, ValueError):
        return f"not a valid database URL ({err})"
    if isinstance(err, OSError):
        return err.strerror or str(err)
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _pg_unreachable() -> tuple[type[BaseException], ...]:
    """asyncpg's errors that mean "this server cannot be used with this URL"."""
    from asyncpg import exceptions as asyncpg_errors

    return (
        OSError,  # refused, unknown host, timeout, no socket
        ValueError,  # malformed URL (asyncpg's ClientConfigurationError is one)
        asyncpg_errors.PostgresConnectionError,
        asyncpg_errors.InvalidAuthorizationSpecificationError,  # wrong user / password
        asyncpg_errors.InvalidCatalogNameError,  # no such database
        asyncpg_errors.CannotConnectNowError,  # starting up / shutting down
        asyncpg_errors.TooManyConnectionsError,
    )


def __getattr__(name: str) -> Any:
    # ``_PG_UNREACHABLE`` (the tuple of :func:`_pg_unreachable`) is made when first asked
    # for, so that importing this module does not import asyncpg.
    if name == "_PG_UNREACHABLE":
        return _pg_unreachable()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Runtime:
    """Connections for one command: servers resolved once (only those the command needs),
    closed at the end."""

    def __init__(self) -> None:
        import settings as settings_mod

        self.settings = settings_mod.load()
        self._database_url: str | None = None
        self._temporal_address: str | None = None
        self._store: EventStore | None = None
        self._client: Client | None = None
        self._worker_checked = False

    # servers

    def _start(self, *, postgres: bool, temporal: bool) -> Servers:
        from adapters.stack import StackError, start_servers

        try:
            servers = start_servers(self.settings, postgres=postgres, temporal=temporal)
        except StackError as err:
            raise Failure(str(err), EXIT_UNAVAILABLE) from None
        if servers.started:
            _note_started(self.settings, servers.started)
        return servers

    def database_url(self) -> str:
        """The event store's URL; the embedded PostgreSQL is started if it does not run."""
        if self._database_url is None:
            url = self._start(postgres=True, temporal=False).database_url
            assert url is not None
            self._database_url = url
        return self._database_url

    def temporal_address(self, *, need_worker: bool) -> str:
        """The Temporal frontend's address. The embedded dev server is started if it does
        not run, except for a command that needs a worker: no worker can poll a server
        that was not running, so such a command fails at once and starts nothing."""
        if self._temporal_address is None:
            from adapters.stack import stack_status

            s = self.settings
            if s.embedded_temporal and need_worker:
                address = stack_status(s).temporal_address
                if address is None:
                    raise Failure(
                        f"the embedded Temporal dev server under {s.home} is not running, so "
                        "no worker can answer: the command was not sent. Start the stack "
                        "with `treaty up`.",
                        EXIT_UNAVAILABLE,
                    )
                self._temporal_address = address
            else:
                address = self._start(postgres=False, temporal=True).temporal_address
                assert address is not None
                self._temporal_address = address
        return self._temporal_address

    def temporal_unreachable(self, address: str, cause: str) -> Failure:
        if self.settings.embedded_temporal:
            hint = "see `treaty ps`, or restart the stack with `treaty down` and `treaty up`"
            where = f"the embedded Temporal dev server at {address}"
        else:
            hint = "check TEMPORAL_ADDRESS or start the server with `treaty up`"
            where = f"Temporal at {address}"
        return Failure(f"cannot reach {where} ({cause}); {hint}", EXIT_UNAVAILABLE)

    def postgres_unreachable(self, url: str, cause: str) -> Failure:
        from adapters.stack import redact

        hint = (
            "see `treaty ps`, or restart the stack with `treaty down` and `treaty up`"
            if self.settings.embedded_postgres
            else "check DATABASE_URL"
        )
        return Failure(
            f"cannot reach PostgreSQL at {redact(url)}: {cause}; {hint}", EXIT_UNAVAILABLE
        )

    # connections

    async def client(self, *, need_worker: bool = True) -> Client:
        """The Temporal client; with ``need_worker``, a worker must be polling the task
        queue (:func:`_require_worker`), else :class:`Failure` (exit 3)."""
        if self._client is None:
            from adapters.temporal import connect_cause, connect_client

            address = self.temporal_address(need_worker=need_worker)
            try:
                self._client = await connect_client(address, self.settings.temporal_namespace)
            except (RuntimeError, ValueError) as err:
                raise self.temporal_unreachable(address, connect_cause(err)) from None
        if need_worker and not self._worker_checked:
            await self._require_worker(self._client)
            self._worker_checked = True
        return self._client

    async def _require_worker(self, client: Client) -> None:
        """A worker polls the task queue, else :class:`Failure`.

        The polls of a stack worker that died (``kill -9``) do not count: Temporal lists
        them for a minute more, and a command would wait ~30 s for nothing. A stack worker
        that is alive but not polling (the Temporal server restarted and it is
        reconnecting) is waited for, up to :data:`WORKER_RECONNECT_SECONDS`.
        """
        from temporalio.service import RPCError, RPCStatusCode

        from adapters.stack import stack_worker
        from adapters.temporal import NoWorkerError, no_worker_message, require_worker

        queue = self.settings.task_queue
        worker = stack_worker(self.settings)
        dead = [worker.identity] if worker is not None and not worker.running else []
        try:
            await require_worker(client, queue, dead)
            return
        except NoWorkerError as err:
            reconnecting = (
                worker is not None
                and worker.running
                and worker.task_queue in (None, queue)
                and worker.temporal_address in (None, self._temporal_address)
            )
            if not reconnecting:
                raise Failure(str(err), EXIT_UNAVAILABLE) from None
        assert worker is not None
        import asyncio

        _note("waiting for the worker to reconnect…")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WORKER_RECONNECT_SECONDS
        while loop.time() < deadline:
            await asyncio.sleep(0.5)
            try:
                await require_worker(client, queue)
                return
            except NoWorkerError:
                pass
            except RPCError as err:
                if err.status != RPCStatusCode.UNAVAILABLE:
                    raise
            now = stack_worker(self.settings)
            if now is None or not now.running:
                raise Failure(no_worker_message(queue), EXIT_UNAVAILABLE)
        raise Failure(
            f"the worker (pid {worker.pid}) runs but has not polled task queue {queue!r} for "
            f"{WORKER_RECONNECT_SECONDS:.0f} s: the command was not sent. See its log "
            f"{self.settings.home / 'logs' / 'worker.log'}; restart the stack with "
            "`treaty down` and `treaty up`.",
            EXIT_UNAVAILABLE,
        )

    async def store(self) -> EventStore:
        if self._store is None:
            from asyncpg import exceptions as asyncpg_errors

            from adapters.stack import redact
            from eventstore.migrate import migrate
            from eventstore.store import EventStore

            url = self.database_url()
            try:
                await migrate(url)
                self._store = await EventStore.connect(url)
            except _pg_unreachable() as err:
                raise self.postgres_unreachable(url, _pg_cause(err)) from None
            except asyncpg_errors.PostgresError as err:
                raise Failure(
                    f"PostgreSQL at {redact(url)} refused to set up the event store: {err}; "
                    "check DATABASE_URL (its user must own the database)",
                    EXIT_UNAVAILABLE,
                ) from None
        return self._store

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()


def _rpc_failure(err: RPCError, runtime: Runtime) -> Failure:
    """A Temporal error as the command's outcome (exit 3: the servers or the worker)."""
    from temporalio.service import RPCStatusCode

    from adapters.temporal import is_no_poller, no_worker_message

    if is_no_poller(err):
        # the worker died without a word; the query or update was not delivered
        return Failure(no_worker_message(runtime.settings.task_queue), EXIT_UNAVAILABLE)
    address = runtime._temporal_address or runtime.settings.temporal_address or "?"
    if err.status == RPCStatusCode.UNAVAILABLE:
        return runtime.temporal_unreachable(address, err.message or "unavailable")
    if err.status == RPCStatusCode.NOT_FOUND and "namespace" in err.message.lower():
        return Failure(
            f"Temporal at {address} has no namespace "
            f"{runtime.settings.temporal_namespace!r}; check TEMPORAL_NAMESPACE",
            EXIT_UNAVAILABLE,
        )
    return Failure(f"Temporal answered with an error: {err.message or err}", EXIT_UNAVAILABLE)


def _run(work: Callable[[Runtime], Awaitable[T]]) -> T:
    import asyncio

    runtime = Runtime()

    async def main() -> T:
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except Exception as err:
        # A refusal or a Temporal error can only come from a module the work imported:
        # look for them among the loaded modules rather than import them for every command.
        errors = sys.modules.get("app.errors")
        if errors is not None and isinstance(err, errors.Refused):
            raise Failure(f"refused: {err}", EXIT_REFUSED) from None
        if errors is not None and isinstance(err, errors.Unavailable):
            raise Failure(str(err), EXIT_UNAVAILABLE) from None
        temporal_service = sys.modules.get("temporalio.service")
        if temporal_service is not None and isinstance(err, temporal_service.RPCError):
            raise _rpc_failure(err, runtime) from None
        raise
