"""The ``treaty`` command: staff and auditor commands for treatyflow.

Exit codes: 0 done; 1 refused (a rule of the treaty or a bad row; nothing changed for the
refused part); 2 bad usage (unknown option, malformed date); 3 the servers or the worker
are not available.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from temporalio.client import Client
from temporalio.service import RPCError

import settings as settings_mod
from cli import importer, reads, render, service
from cli.connect import NoWorkerError, connect_client, require_worker
from cli.logging import configure_logging
from cli.stack import StackError, ensure_servers, redact, stack_down, stack_status, stack_up
from domain import ids
from domain import ratification as r
from domain import treaty as t
from domain.errors import DomainError
from domain.states import resolve_state
from domain.treaties import get_profile
from eventstore.migrate import migrate
from eventstore.store import EventStore
from workflows.common import CommandMeta

T = TypeVar("T")

app = typer.Typer(
    help=(
        "treatyflow: treaty processes (signature, ratification, entry into force) as durable "
        "Temporal workflows with an auditable PostgreSQL event store.\n\n"
        "With no TEMPORAL_ADDRESS / DATABASE_URL set, commands use the embedded stack "
        "(`treaty up`)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
ratification_app = typer.Typer(help="Record one State's signature, domestic procedure, deposit.")
app.add_typer(ratification_app, name="ratification")

EXIT_REFUSED = 1
EXIT_UNAVAILABLE = 3


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
ActorOpt = Annotated[
    str | None, typer.Option("--actor", help="Who records it (default: $TREATYFLOW_ACTOR or user).")
]


def _meta(actor: str | None, source: str | None) -> CommandMeta:
    return CommandMeta(
        actor=actor or os.environ.get("TREATYFLOW_ACTOR") or getpass.getuser(),
        source=source,
        correlation_id=str(uuid.uuid4()),
    )


def _treaty(code: str) -> str:
    try:
        return get_profile(code).code
    except DomainError as err:
        raise typer.BadParameter(str(err)) from None


def _state(name: str) -> str:
    try:
        return resolve_state(name).code
    except DomainError as err:
        raise Failure(str(err), EXIT_REFUSED) from None


# --- running async work with the right servers ------------------------------------------


class Runtime:
    """Connections for one command: servers resolved once, closed at the end."""

    def __init__(self) -> None:
        self.settings = settings_mod.load()
        self._servers: tuple[str, str] | None = None
        self._store: EventStore | None = None
        self._client: Client | None = None

    def servers(self) -> tuple[str, str]:
        if self._servers is None:
            try:
                self._servers = ensure_servers(self.settings)
            except StackError as err:
                raise Failure(str(err), EXIT_UNAVAILABLE) from None
        return self._servers

    async def client(self, *, need_worker: bool = True) -> Client:
        address = self.servers()[0]
        if self._client is None:
            try:
                self._client = await connect_client(address, self.settings.temporal_namespace)
            except RuntimeError as err:
                raise Failure(
                    f"cannot reach Temporal at {address}: {err}", EXIT_UNAVAILABLE
                ) from None
        if need_worker:
            try:
                await require_worker(self._client, self.settings.task_queue)
            except NoWorkerError as err:
                raise Failure(str(err), EXIT_UNAVAILABLE) from None
        return self._client

    async def store(self) -> EventStore:
        if self._store is None:
            url = self.servers()[1]
            try:
                await migrate(url)
                self._store = await EventStore.connect(url)
            except (OSError, ConnectionError) as err:
                raise Failure(f"cannot reach PostgreSQL: {err}", EXIT_UNAVAILABLE) from None
        return self._store

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()


def _run(work: Callable[[Runtime], Awaitable[T]]) -> T:
    runtime = Runtime()

    async def main() -> T:
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except service.Refused as err:
        raise Failure(f"refused: {err}", EXIT_REFUSED) from None
    except RPCError as err:
        raise Failure(f"Temporal answered with an error: {err}", EXIT_UNAVAILABLE) from None


# --- the embedded stack -------------------------------------------------------------------


def _print_stack(status: Any, as_json: bool) -> None:
    if as_json:
        render.print_json(
            {
                "components": [c.__dict__ for c in status.components],
                "temporal_address": status.temporal_address,
                "database_url": redact(status.database_url) if status.database_url else None,
                "ui_url": status.ui_url,
            }
        )
        return
    from rich.table import Table

    table = Table(header_style="bold")
    for col in ("Component", "Running", "PID", "Address", "Detail"):
        table.add_column(col)
    for c in status.components:
        table.add_row(
            c.name, "yes" if c.running else "no", str(c.pid or ""), c.address or "", c.detail
        )
    render.out.print(table)
    if status.ui_url:
        render.out.print(f"Temporal Web UI: {status.ui_url}")


@app.command()
def up(as_json: JsonOpt = False) -> None:
    """Start the embedded stack in the background: Temporal dev server (Web UI), PostgreSQL
    and a worker, under $TREATYFLOW_HOME. Harmless if already running."""
    settings = settings_mod.load()
    try:
        status = stack_up(settings)
    except StackError as err:
        raise Failure(str(err), EXIT_UNAVAILABLE) from None
    _print_stack(status, as_json)


@app.command()
def down(as_json: JsonOpt = False) -> None:
    """Stop the embedded stack (worker, Temporal dev server, PostgreSQL); data is kept."""
    try:
        status = stack_down(settings_mod.load())
    except StackError as err:
        raise Failure(str(err), EXIT_UNAVAILABLE) from None
    _print_stack(status, as_json)


@app.command()
def ps(as_json: JsonOpt = False) -> None:
    """What runs where: servers, worker, Web UI address."""
    _print_stack(stack_status(settings_mod.load()), as_json)


@app.command()
def worker() -> None:
    """Run a worker in the foreground (all workflows and activities)."""
    import worker as worker_mod

    worker_mod.main()


# --- ratification commands -----------------------------------------------------------------


def _send(treaty: str, state: str, command: Any, meta: CommandMeta, as_json: bool) -> None:
    async def work(rt: Runtime) -> Any:
        client = await rt.client()
        handle = await service.prepare_ratification(
            client, treaty, state, [command], rt.settings.task_queue
        )
        return await service.send(handle, command, meta)

    recorded = _run(work)
    if as_json:
        render.print_json(recorded.model_dump(mode="json"))
    else:
        render.out.print(
            f"{ids.ratification_workflow_id(treaty, state)}: recorded "
            f"{', '.join(recorded.events) or 'nothing new'} (version {recorded.version})"
        )


@ratification_app.command("sign")
def ratification_sign(
    state: Annotated[str, typer.Argument(help="State name or ISO code, e.g. Bulgaria or BGR.")],
    on: Annotated[str | None, typer.Option("--date", help="Signature date, YYYY-MM-DD.")] = None,
    date_unknown: Annotated[
        bool, typer.Option("--date-unknown", help="The source gives no signature date.")
    ] = False,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a State's signature (CCM Art. 15: open for signature until entry into force)."""
    if (on is None) == (not date_unknown):
        raise typer.BadParameter("give --date YYYY-MM-DD, or --date-unknown")
    command = r.Sign(signed_on=_parse_date(on))
    _send(_treaty(treaty), _state(state), command, _meta(actor, source), as_json)


@ratification_app.command("domestic-procedure")
def ratification_domestic_procedure(
    state: Annotated[str, typer.Argument(help="State name or ISO code.")],
    on: Annotated[str, typer.Option("--date", help="Completion date, YYYY-MM-DD.")],
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record that a State completed its domestic procedure for consent to be bound."""
    command = r.CompleteDomesticProcedure(completed_on=_parse_date(on))
    _send(_treaty(treaty), _state(state), command, _meta(actor, source), as_json)


@ratification_app.command("deposit")
def ratification_deposit(
    state: Annotated[str, typer.Argument(help="State name or ISO code.")],
    on: Annotated[str, typer.Option("--date", help="Deposit date, YYYY-MM-DD.")],
    instrument: Annotated[
        str,
        typer.Option(help="ratification, acceptance, approval (signatories) or accession."),
    ] = "ratification",
    provisional_application: Annotated[
        bool, typer.Option(help="Declares provisional application (CCM Art. 18).")
    ] = False,
    reservation: Annotated[
        str | None, typer.Option(help="Text of a reservation (refused where forbidden).")
    ] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the deposit of an instrument; fixes the State's entry into force (CCM Art. 17)."""
    profile = get_profile(_treaty(treaty))
    try:
        profile.check_instrument(instrument)
    except DomainError as err:
        raise typer.BadParameter(str(err)) from None
    command = r.Deposit(
        instrument=instrument,  # type: ignore[arg-type]
        deposited_on=_parse_date(on),
        provisional_application=provisional_application,
        reservation=reservation,
    )
    _send(profile.code, _state(state), command, _meta(actor, source), as_json)


@ratification_app.command("show")
def ratification_show(
    state: Annotated[str, typer.Argument(help="State name or ISO code.")],
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """Ask the running process for its state (a Temporal query)."""
    code, iso = _treaty(treaty), _state(state)

    async def work(rt: Runtime) -> Any:
        return await service.ratification_view(await rt.client(), code, iso)

    view = _run(work)
    if view is None:
        raise Failure(f"no ratification process for {iso} under the {code}", EXIT_REFUSED)
    if as_json:
        render.print_json(view.model_dump(mode="json"))
    else:
        render.out.print(render.status_table([view.state], ids.ratification_workflow_id(code, iso)))


@app.command("depositary-statement")
def depositary_statement(
    in_force_on: Annotated[
        str, typer.Option("--in-force-on", help="Entry-into-force date the depositary states.")
    ],
    statement: Annotated[
        str, typer.Option(help="The statement's words and source, e.g. the UNTC entry.")
    ],
    threshold_deposited_on: Annotated[
        str | None,
        typer.Option("--threshold-deposited-on", help="Date of the threshold deposit, if given."),
    ] = None,
    correct: Annotated[
        bool, typer.Option("--correct", help="Replace the statement recorded before.")
    ] = False,
    treaty: TreatyOpt = "CCM",
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the depositary's statement of the treaty's own entry into force.

    It prevails over a record of deposits that disagrees (which is reported). A statement
    recorded before is replaced only with --correct; both stay in the history."""
    code = _treaty(treaty)
    command = t.RecordDepositaryStatement(
        in_force_on=_parse_date(in_force_on),
        threshold_deposited_on=_parse_date(threshold_deposited_on),
        statement=statement,
        correction=correct,
    )

    async def work(rt: Runtime) -> Any:
        client = await rt.client()
        return await service.record_statement(
            client, code, command, _meta(actor, statement), rt.settings.task_queue
        )

    recorded = _run(work)
    if as_json:
        render.print_json(recorded.model_dump(mode="json"))
    else:
        render.out.print(f"treaty:{code}: recorded {', '.join(recorded.events) or 'nothing new'}")


# --- import ---------------------------------------------------------------------------------


def _import(path: Path, treaty: str, meta: CommandMeta, as_json: bool) -> service.ImportReport:
    try:
        rows, bad_rows = importer.read_table(path)
    except importer.TableError as err:
        raise Failure(str(err), EXIT_REFUSED) from None
    from rich.progress import Progress

    async def work(rt: Runtime) -> service.ImportReport:
        client = await rt.client()
        with Progress(console=render.err, transient=True, disable=as_json) as progress:
            task = progress.add_task(f"importing {path.name}", total=len(rows))
            report = await service.import_rows(
                client,
                treaty,
                rows,
                meta,
                rt.settings.task_queue,
                progress=lambda: progress.advance(task),
            )
        report.refused = sorted([*bad_rows, *report.refused], key=lambda e: e.line)
        return report

    return _run(work)


def _print_import(report: service.ImportReport, as_json: bool) -> None:
    if as_json:
        render.print_json(
            {
                "changed": report.changed,
                "unchanged": report.unchanged,
                "signature_unknown": report.signature_unknown,
                "refused": [e.__dict__ for e in report.refused],
                "events_recorded": report.events,
            }
        )
        return
    o = render.out
    o.print(
        f"{len(report.changed)} row(s) recorded ({report.events} events), "
        f"{len(report.unchanged)} already up to date, {len(report.refused)} refused"
    )
    if not report.changed and not report.refused:
        o.print("nothing changed: the record already says what this file says")
    if report.signature_unknown:
        o.print(
            f"signature date not given by the source, recorded as unknown for "
            f"{len(report.signature_unknown)}: {', '.join(report.signature_unknown)}"
        )
    for e in report.refused:
        render.err.print(f"[red]refused[/red] line {e.line} ({e.name}): {e.reason}")


@app.command("import")
def import_table(
    path: Annotated[Path, typer.Argument(help="Status table CSV (see examples/ccm/status.csv).")],
    treaty: TreatyOpt = "CCM",
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start or advance one ratification process per row of a depositary status table.

    Idempotent: importing the same file twice changes nothing. Rows it refuses are listed
    with the reason (exit 1); the other rows go through."""
    report = _import(path, _treaty(treaty), _meta(actor, None), as_json)
    _print_import(report, as_json)
    if report.refused:
        raise typer.Exit(EXIT_REFUSED)


# --- reads ------------------------------------------------------------------------------------


@app.command()
def status(
    state: Annotated[str | None, typer.Argument(help="One State (name or ISO code).")] = None,
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """Table of States: signature, instrument, deposit, entry into force, status."""
    code = _treaty(treaty)
    iso = _state(state) if state else None

    async def work(rt: Runtime) -> list[r.RatificationState]:
        return await reads.ratifications(await rt.store(), code)

    states = [s for s in _run(work) if iso is None or s.state == iso]
    if iso and not states:
        raise Failure(f"nothing recorded for {iso} under the {code}", EXIT_REFUSED)
    if as_json:
        render.print_json([render.status_row(s) for s in states])
    else:
        render.out.print(render.status_table(states, f"{get_profile(code).name} ({code})"))


@app.command()
def parties(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date (default: today).")] = None,
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """Counts on a date: States that consented to be bound (deposit) vs. in force for them."""
    code = _treaty(treaty)
    day = _parse_date(as_of) or date.today()

    async def work(rt: Runtime) -> list[r.RatificationState]:
        return await reads.ratifications(await rt.store(), code)

    p = reads.parties_as_of(_run(work), day)
    if as_json:
        render.print_json(
            {
                "as_of": p.as_of,
                "consented": len(p.consented),
                "in_force": len(p.in_force),
                "consented_states": p.consented,
                "in_force_states": p.in_force,
            }
        )
        return
    render.out.print(
        f"{code} on {day.isoformat()}: {len(p.consented)} States consented to be bound "
        f"(deposit), in force for {len(p.in_force)}"
    )
    pending = sorted(set(p.consented) - set(p.in_force))
    if pending:
        render.out.print(f"consented, not yet in force: {', '.join(pending)}")


@app.command()
def events(
    stream: Annotated[
        str, typer.Argument(help="Stream or workflow id: ratification-CCM-BGR, treaty:CCM.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """The events of one process, in order."""
    sid = ids.stream_id(ids.workflow_id_of_stream(stream))

    async def work(rt: Runtime) -> list[Any]:
        return await (await rt.store()).read_stream(sid)

    stored = _run(work)
    if not stored:
        raise Failure(f"no events in stream {sid!r}", EXIT_REFUSED)
    if as_json:
        render.print_json(
            [
                {
                    "stream_version": e.stream_version,
                    "global_position": e.global_position,
                    "event_id": str(e.event_id),
                    "event_type": e.event_type,
                    "occurred_on": e.occurred_on,
                    "recorded_at": e.recorded_at,
                    "data": e.data,
                    "metadata": e.metadata,
                    "hash": e.hash.hex(),
                }
                for e in stored
            ]
        )
        return
    from rich.table import Table

    table = Table(title=sid, header_style="bold")
    for col in ("#", "Business date", "Event", "Data", "Recorded", "Actor", "Source"):
        table.add_column(col)
    for e in stored:
        data = ", ".join(f"{k}={v}" for k, v in e.data.items() if k not in ("occurred_on",))
        table.add_row(
            str(e.stream_version),
            e.occurred_on.isoformat() if e.occurred_on else "unknown",
            e.event_type,
            data,
            e.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            str(e.metadata.get("actor") or ""),
            str(e.metadata.get("source") or ""),
        )
    render.out.print(table)


# --- demo -----------------------------------------------------------------------------------

CCM_STATEMENT = (
    "UNTC XXVI-6: entry into force 1 August 2010, in accordance with article 17(1); "
    "registration No. 47713 (30th instrument deposited 16 Feb 2010)"
)


def _examples_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "examples"


@app.command()
def demo(
    as_json: JsonOpt = False,
) -> None:
    """The main job: bring the embedded stack up, import the real CCM status table, record
    the depositary's entry-into-force statement and show the result."""
    from cli.demo import run_demo

    run_demo(_examples_dir() / "ccm" / "status.csv", as_json)


def run() -> None:
    """Console entry point: exits with the command's own code.

    Flushes and leaves with ``os._exit`` so that a short-lived Temporal client cannot abort
    at interpreter shutdown (temporalio/sdk-python#300, exit 134 after the work is done).
    """
    code = 0
    configure_logging(settings_mod.load(), default_level="WARNING")
    try:
        result = app(standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except Failure as err:
        render.err.print(f"[red]error:[/red] {err}", highlight=False)
        code = err.code
    except typer.Exit as err:
        code = err.exit_code
    except typer.Abort:
        render.err.print("aborted")
        code = 130
    except KeyboardInterrupt:
        code = 130
    except typer.TyperException as err:  # usage errors: bad option, malformed date
        show = getattr(err, "show", None)
        if callable(show):
            show()
        code = int(getattr(err, "exit_code", 2))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
