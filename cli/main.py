"""The ``treaty`` command: staff and auditor commands for treatyflow.

Exit codes: 0 done; 1 refused (a rule of the treaty or a bad row; nothing changed for the
refused part); 2 bad usage (unknown option, malformed date, a bad value in the
environment); 3 the servers or the worker are not available; 70 an internal error (a bug:
the message asks to report it; ``TREATYFLOW_DEBUG=1`` shows the traceback); 130
interrupted. Every failure is one line on stderr; with ``--json`` it is also a JSON
object ``{"error": ..., "exit_code": N}`` on stdout.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.text import Text

from cli import config as config_cli
from cli import meetings, obligations, render
from cli import profiles as profiles_cli
from cli import reporting as reporting_cli
from cli.audit import audit_app
from cli.audit import register as register_audit
from cli.decision import decision_app
from cli.hca import hca_app
from cli.runtime import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    Failure,
    JsonOpt,
    LazyModule,
    OnBehalfOfOpt,
    Runtime,
    SourceOpt,
    TreatyOpt,
    _note,
    _parse_date,
    _run,
    _state,
    _stream,
    _treaty,
    provenance_meta,
    require_source,
)
from cli.scenario import scenario_app

# Temporal, asyncpg, the pydantic models and the workflows are imported in the commands
# that use them (a few hundred ms), so that `treaty --help` prints at once
# (tests/e2e/test_cli_lazy.py).
if TYPE_CHECKING:
    import click

    import settings as settings_mod
    from app import reads
    from app.import_report import ImportReport
    from domain import ratification as r
    from workflows.common import CommandMeta
else:  # the settings model (pydantic-settings) is loaded when a command runs, not for help
    settings_mod = LazyModule("settings")

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
ratification_app = typer.Typer(
    help=(
        "Record one State's signature, domestic procedure and deposit, and what it does "
        "under its obligations (declarations, extension requests and decisions, reports, "
        "compliance, withdrawal, armed conflict)."
    )
)


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("treatyflow")
    except metadata.PackageNotFoundError:  # running from a tree that was not installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        render.out.print(f"treaty (treatyflow) {_package_version()}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    pass


app.add_typer(ratification_app, name="ratification")
app.add_typer(audit_app, name="audit")  # its commands are registered by main() when used
app.add_typer(decision_app, name="decision")
app.add_typer(hca_app, name="hca")
app.add_typer(config_cli.app, name="config")
app.add_typer(reporting_cli.reporting_app, name="reporting")
app.add_typer(reporting_cli.contacts_app, name="contacts")
app.add_typer(scenario_app, name="scenario")
app.add_typer(obligations.app)
ratification_app.add_typer(obligations.ratification_commands)
app.add_typer(meetings.app, name="meetings")
app.add_typer(profiles_cli.app, name="profiles")


# --- the embedded stack -------------------------------------------------------------------


def _print_stack(status: Any, as_json: bool) -> None:
    from adapters.stack import redact

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
    from adapters.stack import StackError, stack_up
    from app.reporting import ensure_schedules_after_up

    settings = settings_mod.load()
    try:
        status = stack_up(settings, after_worker=ensure_schedules_after_up)
    except StackError as err:
        raise Failure(str(err), EXIT_UNAVAILABLE) from None
    _print_stack(status, as_json)


@app.command()
def down(as_json: JsonOpt = False) -> None:
    """Stop the embedded stack (worker, Temporal dev server, PostgreSQL); data is kept."""
    from adapters.stack import StackError, stack_down

    try:
        status = stack_down(settings_mod.load())
    except StackError as err:
        raise Failure(str(err), EXIT_UNAVAILABLE) from None
    _print_stack(status, as_json)


@app.command()
def ps(as_json: JsonOpt = False) -> None:
    """What runs where: servers, worker, Web UI address."""
    from adapters.stack import stack_status

    _print_stack(stack_status(settings_mod.load()), as_json)


def _interrupt(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt


@app.command()
def worker(
    task_queue: Annotated[
        list[str] | None,
        typer.Option(
            "--task-queue",
            "-q",
            help="A task queue to poll (repeatable); default all (TREATYFLOW_WORKER_TASK_QUEUES).",
        ),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes",
            "-p",
            min=1,
            max=64,
            help="Worker processes to run (default 1, TREATYFLOW_WORKER_PROCESSES).",
        ),
    ] = None,
) -> None:
    """Run a worker in the foreground (all workflows and activities) until Ctrl-C / SIGTERM.

    SIGTERM stops it gracefully: activities in flight get
    TREATYFLOW_GRACEFUL_SHUTDOWN_SECONDS to finish, then are handed back to another worker.

    Starts the embedded servers that do not run, and stops them again when it ends (unless
    the stack's own worker, from `treaty up`, now relies on them)."""
    import asyncio

    import worker as worker_mod
    from adapters.logging import configure_logging
    from adapters.stack import StackError, describe, stack_worker, start_servers, stop_servers

    settings = settings_mod.load()
    configure_logging(settings)  # the worker logs what it does (INFO)
    signal.signal(signal.SIGTERM, _interrupt)  # clean up on SIGTERM as on Ctrl-C
    try:
        servers = start_servers(settings)
    except StackError as err:
        raise Failure(str(err), EXIT_UNAVAILABLE) from None
    if servers.started:
        _note(
            f"started {describe(servers.started)} under {settings.home}; they stop with this worker"
        )
    assert servers.temporal_address is not None and servers.database_url is not None
    queues = worker_mod.task_queues(settings, task_queue or ())
    count = processes or settings.worker_processes

    async def reachable(rt: Runtime) -> None:  # one clear line if a server cannot be used
        await rt.client(need_worker=False)
        await rt.store()

    try:
        _run(reachable)
        if count > 1:
            env = dict(
                os.environ,
                TEMPORAL_ADDRESS=servers.temporal_address,
                DATABASE_URL=servers.database_url,
                TREATYFLOW_WORKER_PROCESSES=str(count),
            )
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the supervisor handles it
            code = worker_mod.supervise(count, queues, env)
            if code:
                raise Failure(f"a worker process ended with exit code {code}", EXIT_INTERNAL)
            return
        asyncio.run(
            worker_mod.run_worker(
                servers.temporal_address,
                settings.temporal_namespace,
                servers.database_url,
                settings.task_queue,
                queues=queues,
                settings=settings,
            )
        )
    except RuntimeError as err:  # a worker failed (its cause is in the log above)
        raise Failure(str(err), EXIT_UNAVAILABLE) from None
    finally:
        if servers.started:
            stopped = stop_servers(settings, servers.started)
            if stopped:
                _note(f"stopped {describe(stopped)} again")
            elif (stack := stack_worker(settings)) is not None and stack.running:
                _note(f"left {describe(servers.started)} running for the stack's worker")


# --- ratification commands -----------------------------------------------------------------


def _send(treaty: str, state: str, command: Any, meta: CommandMeta, as_json: bool) -> None:
    # What can be refused without knowing the process (a date in the future or before the
    # treaty was opened, a forbidden reservation, a document fact without its source) is
    # refused here, with no server needed.
    from domain import ids
    from domain import ratification as r
    from domain.errors import DomainError
    from domain.treaties import get_profile

    try:
        r.check_command(command, get_profile(treaty), date.today())
    except DomainError as err:
        raise Failure(f"refused: {err}", EXIT_REFUSED) from None

    require_source(command, meta)

    async def work(rt: Runtime) -> Any:
        from app.commands import Commands, ProcessRef

        client = await rt.client()
        return await Commands(client, rt.settings.task_queue).send(
            ProcessRef("ratification", treaty, state), command, meta
        )

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
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a State's signature (by the treaty's rule, e.g. CCM Art. 15: open for signature
    until entry into force)."""
    from domain import ratification as r

    if (on is None) == (not date_unknown):
        raise typer.BadParameter("give --date YYYY-MM-DD, or --date-unknown")
    command = r.Sign(signed_on=_parse_date(on))
    _send(_treaty(treaty), _state(state), command, provenance_meta(on_behalf_of, source), as_json)


@ratification_app.command("domestic-procedure")
def ratification_domestic_procedure(
    state: Annotated[str, typer.Argument(help="State name or ISO code.")],
    on: Annotated[str, typer.Option("--date", help="Completion date, YYYY-MM-DD.")],
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record that a State completed its domestic procedure for consent to be bound."""
    from domain import ratification as r

    command = r.CompleteDomesticProcedure(completed_on=_parse_date(on))
    _send(_treaty(treaty), _state(state), command, provenance_meta(on_behalf_of, source), as_json)


@ratification_app.command("deposit")
def ratification_deposit(
    state: Annotated[str, typer.Argument(help="State name or ISO code.")],
    on: Annotated[str, typer.Option("--date", help="Deposit date, YYYY-MM-DD.")],
    instrument: Annotated[
        str,
        typer.Option(help="ratification, acceptance, approval (signatories) or accession."),
    ] = "ratification",
    provisional_application: Annotated[
        bool, typer.Option(help="Declares provisional application (e.g. CCM Art. 18, ATT Art. 23).")
    ] = False,
    reservation: Annotated[
        str | None, typer.Option(help="Text of a reservation (refused where forbidden).")
    ] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the deposit of an instrument; fixes the State's entry into force (by the
    treaty's rule, e.g. CCM Art. 17, ATT Art. 22)."""
    from domain import ratification as r
    from domain.errors import DomainError
    from domain.treaties import get_profile

    profile = get_profile(_treaty(treaty))
    instrument = instrument.strip().lower()  # "Ratification" is "ratification"
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
    _send(profile.code, _state(state), command, provenance_meta(on_behalf_of, source), as_json)


@ratification_app.command("show")
def ratification_show(
    state: Annotated[str, typer.Argument(help="State name or ISO code.")],
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """Ask the running process for its state (a Temporal query)."""
    from app import service
    from domain import ids

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
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the depositary's statement of the treaty's own entry into force.

    It prevails over a record of deposits that disagrees (which is reported). A statement
    recorded before is replaced only with --correct; both stay in the history. Its source
    is --source if given, else the statement's own words."""
    from domain import treaty as t

    code = _treaty(treaty)
    command = t.RecordDepositaryStatement(
        in_force_on=_parse_date(in_force_on),
        threshold_deposited_on=_parse_date(threshold_deposited_on),
        statement=statement,
        correction=correct,
    )

    meta = provenance_meta(on_behalf_of, source or statement)

    async def work(rt: Runtime) -> Any:
        from app.commands import Commands, ProcessRef

        client = await rt.client()
        return await Commands(client, rt.settings.task_queue).send(
            ProcessRef("treaty", code), command, meta
        )

    recorded = _run(work)
    if as_json:
        render.print_json(recorded.model_dump(mode="json"))
    else:
        render.out.print(f"treaty:{code}: recorded {', '.join(recorded.events) or 'nothing new'}")


# --- import ---------------------------------------------------------------------------------


def _import(
    path: Path, treaty: str | None, meta: CommandMeta, as_json: bool, wait: bool = True
) -> ImportReport:
    from adapters import depositary
    from app import record_import

    try:
        record = depositary.read_record(path)
    except depositary.TableError as err:
        raise Failure(str(err), EXIT_REFUSED) from None
    from rich.progress import Progress

    async def work(rt: Runtime) -> ImportReport:
        client = await rt.client()
        # the store to check a header's counts, and to see the record settle
        store = await rt.store()
        with Progress(console=render.err, transient=True, disable=as_json) as progress:
            task = progress.add_task(f"importing {path.name}", total=len(record.rows))
            settling: list[Any] = []

            def settled(done: int, total: int) -> None:
                # a process that ran before the import learns the treaty's new date by the
                # treaty process's signal, after the Updates have returned: the import
                # waits for it, so that what is read next is the settled record
                if not settling:
                    settling.append(
                        progress.add_task(
                            "waiting for every State's entry into force to be fixed",
                            total=total,
                        )
                    )
                progress.update(settling[0], completed=done)

            return await record_import.import_record(
                client,
                store,
                record,
                treaty,
                meta,
                rt.settings.task_queue,
                wait=wait,
                progress=lambda: progress.advance(task),
                settling=settled,
            )

    return _run(work)


def _print_header(report: ImportReport) -> None:
    h = report.header
    if h is None:
        return
    o = render.out
    by = f"MTDSG {h.mtdsg_no}" if h.recognised_by == "mtdsg_no" else f"its title ({h.title})"
    as_at = f", status as at {h.status_as_at}" if h.status_as_at else ""
    o.print(f"the depositary's record of the {h.treaty}, recognised by {by}{as_at}")
    if h.statement_outcome and not h.statement_refusal:
        said = f"{h.statement} ({h.statement_outcome})"
        o.print(f"entry into force, the depositary's statement: {said}")
    if h.statement_refusal:
        render.err.print(f"[red]refused[/red] the header's statement: {h.statement_refusal}")
    for c in h.counts:
        mark = "agrees" if c.agrees else "[yellow]differs[/yellow]"
        o.print(
            f"{c.count}: {c.stated} in the depositary's file, {c.recorded} in the record as at "
            f"{c.as_of}: {mark}"
        )
    if h.counts_note:
        o.print(h.counts_note)


def _print_rows(report: ImportReport) -> None:
    o = render.out
    if report.signature_unknown:
        o.print(
            f"signature date not given by the source, recorded as unknown for "
            f"{len(report.signature_unknown)}: {', '.join(report.signature_unknown)}"
        )
    if report.succession_date_unknown:
        o.print(
            "succession with the date of the succession of States not on record (bound no "
            "later than the notification; its obligations run from it): "
            + ", ".join(report.succession_date_unknown)
        )
    for f in report.filled:
        o.print(f"filled in for {f.name}: {f.fact}")
    if report.notes:
        o.print(f"{render.count(report.notes, 'end note')} of the depositary recorded")
    for w in report.withdrawals:
        stated = "" if w.stated_effective_on is None else f"; the record: {w.stated_effective_on}"
        condition = f"; {w.condition}" if w.condition else ""
        done = "recorded" if w.recorded else "already on record"
        o.print(
            f"withdrawal of {w.name}: received {w.received_on}, takes effect {w.takes_effect_on} "
            f"({w.article}{stated}{condition}) ({done})"
        )
        if w.disagreement:
            render.err.print(f"[yellow]the record differs[/yellow] for {w.name}: {w.disagreement}")


def _print_import(report: ImportReport, as_json: bool) -> None:
    if as_json:
        render.print_json(report.as_json())
        return
    o = render.out
    _print_header(report)
    o.print(
        f"{render.count(len(report.changed), 'row')} recorded "
        f"({render.count(report.events, 'event')}), "
        f"{len(report.unchanged)} already up to date, {len(report.refused)} refused"
    )
    if not report.changed and not report.refused:
        o.print("nothing changed: the record already says what this file says")
    _print_rows(report)
    if report.header is not None:
        for difference in report.header.differences:
            render.err.print(f"[yellow]count differs[/yellow]: {difference}")
    for e in report.refused:
        render.err.print(f"[red]refused[/red] line {e.line} ({e.name}): {e.reason}")
    if report.settled is False:
        render.err.print(
            "the treaty process is still counting the deposits: entry-into-force dates may "
            "show later (the worker goes on; check with `treaty status`)"
        )


@app.command("import")
def import_table(
    path: Annotated[
        Path,
        typer.Argument(
            help="The depositary's record: the UN Treaty Collection's status page (HTML as "
            "saved from the site), its MTDSG XML, or a status table in CSV or Excel .xlsx "
            "(read by content, not by name; see examples/ccm/status.csv)."
        ),
    ],
    treaty: Annotated[
        str | None,
        typer.Option(
            "--treaty",
            "-t",
            help="Treaty code: CCM, APMBC or ATT. A page or XML names its treaty itself (a "
            "--treaty that disagrees is refused); a table without one goes to the CCM.",
        ),
    ] = None,
    on_behalf_of: OnBehalfOfOpt = None,
    no_wait: Annotated[
        bool,
        typer.Option(
            "--no-wait",
            help="Return once the rows are recorded, without waiting for the treaty process "
            "to count the deposits and fix each State's entry into force (it goes on in the "
            "worker).",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import the depositary's record of a treaty: one ratification process per participant.

    Reads the UNTC status page (HTML), the MTDSG XML, or a status table (CSV, Excel). Records
    signatures, deposits and successions, the dates an earlier import lacked (a signature's,
    a provisional application's, a succession's), withdrawals (their effect by the treaty's
    rule; a date the record states otherwise is reported) and the end notes; from a page's
    header, the depositary's statement of entry into force, and its counts of Signatories
    and Parties checked against the record. Idempotent: importing the same file twice
    changes nothing. Rows it refuses are listed with the reason (exit 1); the other rows go
    through, each whole. It returns once the treaty process has counted the deposits and
    every State's entry into force is fixed (up to two minutes; --no-wait returns at once)."""
    report = _import(
        path,
        _treaty(treaty) if treaty else None,
        provenance_meta(on_behalf_of, path.name),
        as_json,
        wait=not no_wait,
    )
    _print_import(report, as_json)
    if report.failed:
        raise typer.Exit(EXIT_REFUSED)


# --- reads ------------------------------------------------------------------------------------


@app.command()
def status(
    state: Annotated[str | None, typer.Argument(help="One State (name or ISO code).")] = None,
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """Table of States: signature, instrument, deposit, entry into force, status."""
    from app import reads
    from domain.treaties import get_profile

    code = _treaty(treaty)
    iso = _state(state) if state else None

    async def work(rt: Runtime) -> list[r.RatificationState]:
        store = await rt.store()
        if iso is None:
            return await reads.ratifications(store, code)
        # one State: its stream alone (the worker's fast path answers with the same code)
        return await reads.state_status(store, code, iso)

    states = _run(work)
    if iso and not states:
        raise Failure(f"nothing recorded for {iso} under the {code}", EXIT_REFUSED)
    if as_json:
        render.print_json([reads.status_row(s) for s in states])
    else:
        render.out.print(render.status_table(states, f"{get_profile(code).name} ({code})"))


@app.command()
def parties(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date (default: today).")] = None,
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """Counts on a date: States that consented to be bound (deposit) vs. in force for them."""
    from app import reads

    code = _treaty(treaty)
    day = _parse_date(as_of) or date.today()

    async def work(rt: Runtime) -> reads.Parties:
        return await reads.parties(await rt.store(), code, day)

    p = _run(work)
    if as_json:
        render.print_json(
            {
                "as_of": p.as_of,
                "consented": len(p.consented),
                "in_force": len(p.in_force),
                "consented_states": p.consented,
                "in_force_states": p.in_force,
                "succession_date_unknown": p.succession_date_unknown,
            }
        )
        return
    render.out.print(
        f"{code} on {day.isoformat()}: {render.count(len(p.consented), 'State')} consented "
        f"to be bound (deposit), in force for {len(p.in_force)}"
    )
    pending = sorted(set(p.consented) - set(p.in_force))
    if pending:
        render.out.print(f"consented, not yet in force: {', '.join(pending)}")
    if p.succession_date_unknown:
        render.out.print(
            "by succession, the date of succession not on record (counted from the "
            f"notification): {', '.join(p.succession_date_unknown)}"
        )


@app.command()
def events(
    stream: Annotated[
        str,
        typer.Argument(help="Stream or workflow id: ratification-CCM-BGR, treaty-CCM, treaty:CCM."),
    ],
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """The events of one process, in order."""
    sid = _stream(stream, _treaty(treaty))

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


@app.command()
def demo(
    as_json: JsonOpt = False,
) -> None:
    """The main job: bring the embedded stack up, record the depositary's statement of the
    CCM's entry into force, import the complete CCM record (examples/ccm/status_2026.csv,
    taken from the UN Treaty Collection's status page as at 3 Feb 2026) as `treaty import`
    does, and show the result: the entry into force the record's deposits give beside the
    depositary's, the States that consented and those for which the CCM is in force on
    1 Aug 2010, 30 Mar 2011, 3 Feb 2026 (beside the depositary's own counts) and today,
    withdrawals deducted; then the Meetings held, the 24 Feb 2011 scenario, the ISU
    decision and this year's reporting cycle."""
    from cli.demo import run_demo

    run_demo(as_json)


def _wants_json(args: list[str]) -> bool:
    """``--json`` among the options (before a ``--``)."""
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options


def _fail(message: str, code: int, as_json: bool) -> int:
    """One line on stderr (and the JSON error object on stdout with ``--json``)."""
    render.err.print(Text.assemble(("error: ", "red"), message), highlight=False, soft_wrap=True)
    if as_json:
        sys.stdout.write(json.dumps({"error": message, "exit_code": code}) + "\n")
    return code


def _configure() -> None:
    """Load the settings and the data folder's treaty profiles (both raise
    :class:`settings.SettingsError`) and configure logging: done before a command runs,
    not to print help or the version."""
    from adapters.logging import configure_logging
    from adapters.profiles import load_data_profiles

    settings = settings_mod.load()
    configure_logging(settings, default_level="WARNING")
    load_data_profiles(settings.home)  # the data folder's treaties (profiles/)


def _configured_first(command: click.Command) -> None:
    """Make every command under ``command`` call :func:`_configure` before it runs (a
    group's help, a command's ``--help`` and usage errors come before, so they need
    neither pydantic-settings nor structlog)."""
    commands = getattr(command, "commands", None)
    if commands is not None:  # a group
        for sub in commands.values():
            _configured_first(sub)
        return
    inner = command.callback
    if inner is None or getattr(inner, "_configured_first", False):
        return

    def callback(*args: Any, **kwargs: Any) -> Any:
        _configure()
        return inner(*args, **kwargs)

    callback._configured_first = True  # type: ignore[attr-defined]
    command.callback = callback


def _settings_error(err: SystemExit) -> bool:
    """Whether ``err`` is a :class:`settings.SettingsError` (without importing settings
    where it was never loaded: then it is not one)."""
    loaded = sys.modules.get("settings")
    return loaded is not None and isinstance(err, loaded.SettingsError)


def main(argv: list[str] | None = None) -> int:
    """Run the ``treaty`` command with ``argv`` (default: the process's arguments); its
    exit code. Every failure ends as one line saying what is wrong, never a traceback
    (but for an internal error with ``TREATYFLOW_DEBUG=1``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = _wants_json(args)
    if "audit" in args:  # its commands import Temporal and the store: only when used
        register_audit()
    try:
        command = typer.main.get_command(app)
        _configured_first(command)
        result = command.main(args=args, prog_name="treaty", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except SystemExit as err:
        if _settings_error(err):
            return _fail(str(err), EXIT_USAGE, as_json)
        raise
    except Failure as err:
        return _fail(str(err), err.code, as_json)
    except typer.Exit as err:  # the command chose its exit code, after its own output
        return err.exit_code
    except (typer.Abort, KeyboardInterrupt):
        return _fail("interrupted", EXIT_INTERRUPTED, as_json)
    except typer.TyperException as err:  # usage errors: bad option, malformed date
        show = getattr(err, "show", None)
        if callable(show):
            show()
        code = int(getattr(err, "exit_code", EXIT_USAGE))
        if as_json:
            format_message = getattr(err, "format_message", None)
            message = format_message() if callable(format_message) else str(err)
            sys.stdout.write(json.dumps({"error": message, "exit_code": code}) + "\n")
        return code
    except Exception as err:  # noqa: BLE001 - the backstop: a bug, said in one line
        if os.environ.get("TREATYFLOW_DEBUG"):
            traceback.print_exc()
            hint = ""
        else:
            hint = "; set TREATYFLOW_DEBUG=1 for the traceback"
        text = " ".join(str(err).split())
        return _fail(
            f"internal error: {type(err).__name__}: {text} — please report it{hint}",
            EXIT_INTERNAL,
            as_json,
        )


def run() -> None:
    """Console entry point: exits with the command's own code.

    Flushes and leaves with ``os._exit`` so that a short-lived Temporal client cannot abort
    at interpreter shutdown (temporalio/sdk-python#300, exit 134 after the work is done).
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
