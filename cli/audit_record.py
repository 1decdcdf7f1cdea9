"""``treaty audit timeline|state|verify|export``: what the record says and whether it holds.

All four read the event store through the read-only role ``treatyflow_audit`` (migration
``002_audit_role``: SELECT on ``events`` and nothing else); ``verify`` also reads the
workflows' histories from Temporal and asks the workflows for their state. The work is in
:mod:`audit.timeline`, :mod:`audit.verify` and :mod:`audit.export`; they are generic over
:data:`domain.processes.PROCESS_TYPES`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from cli import render
from cli.audit_group import audit_app
from cli.runtime import (
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    Failure,
    JsonOpt,
    LazyModule,
    Runtime,
    TreatyOpt,
    _note,
    _parse_date,
    _pg_cause,
    _pg_unreachable,
    _run,
    _stream,
    _treaty,
)

# Temporal, asyncpg, the store and the audit tools are imported when a command runs, not to
# print `treaty audit --help` (tests/e2e/test_cli_lazy.py).
if TYPE_CHECKING:
    from asyncpg import exceptions as asyncpg_errors
    from temporalio.client import WorkflowHistory

    from audit import export as export_mod
    from audit import timeline as timeline_mod
    from audit import verify as verify_mod
    from domain import processes
    from eventstore import folding
    from eventstore.store import EventStore
else:
    asyncpg_errors = LazyModule("asyncpg.exceptions")
    export_mod = LazyModule("audit.export")
    folding = LazyModule("eventstore.folding")
    timeline_mod = LazyModule("audit.timeline")
    verify_mod = LazyModule("audit.verify")
    processes = LazyModule("domain.processes")

AUDIT_ROLE = "treatyflow_audit"
"""The read-only role the audit commands' connections run as (SELECT on events only)."""


# --- shared ---------------------------------------------------------------------------------


def resolve_stream(text: str, treaty: str) -> str:
    """The stream id named by ``text`` (:func:`app.streams.resolve_stream`)."""
    return _stream(text, treaty, any_process=True)


def _parse_time(value: str | None) -> datetime | None:
    """``--recorded-before``: an ISO 8601 date or date and time; without a zone it is UTC,
    a date alone is 00:00 UTC that day."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError as err:
        raise typer.BadParameter(
            f"{value!r} is not a valid time ({err}); expected an ISO 8601 date or date and "
            "time, e.g. 2025-06-01 or 2025-06-01T14:30:00+02:00 (UTC when no zone is given)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@asynccontextmanager
async def audit_store(rt: Runtime) -> AsyncIterator[EventStore]:
    """The event store as the read-only role :data:`AUDIT_ROLE`.

    The schema is brought up to date first when the login user may (the embedded stack's
    may); an auditor's own login that may not change the schema reads what is there.
    """
    from adapters.stack import redact
    from eventstore.migrate import migrate
    from eventstore.store import EventStore

    url = rt.database_url()
    try:
        try:
            await migrate(url)
        except asyncpg_errors.InsufficientPrivilegeError:
            pass
        store = await EventStore.connect(url, app_role=AUDIT_ROLE, max_size=8)
    except _pg_unreachable() as err:
        raise rt.postgres_unreachable(url, _pg_cause(err)) from None
    except asyncpg_errors.PostgresError as err:
        raise Failure(
            f"PostgreSQL at {redact(url)} refused the auditor's connection: {err}",
            EXIT_UNAVAILABLE,
        ) from None
    try:
        yield store
    finally:
        await store.close()


def _one_or_all(stream: str | None, all_: bool, treaty: str) -> str | None:
    """The stream named, or None for ``--all``; exactly one of them (else exit 2)."""
    if all_ and stream:
        raise typer.BadParameter("give a STREAM or --all, not both")
    if not all_ and not stream:
        raise typer.BadParameter("give a STREAM (e.g. ratification-CCM-LTU) or --all")
    return resolve_stream(stream, treaty) if stream else None


StreamArg = Annotated[
    str,
    typer.Argument(
        help="Stream or workflow id, in any case: ratification-CCM-LTU, ratification:CCM:LTU, "
        "treaty-CCM."
    ),
]
OptionalStreamArg = Annotated[
    str | None,
    typer.Argument(help="Stream or workflow id (ratification-CCM-LTU, treaty:CCM); or --all."),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every process in the record.")]


def _date_cell(day: date | None) -> str:
    return day.isoformat() if day else "unknown"


# --- timeline -------------------------------------------------------------------------------


@audit_app.command("timeline")
def timeline(stream: StreamArg, treaty: TreatyOpt = "CCM", as_json: JsonOpt = False) -> None:
    """Every event of a process in order, with the change of state it caused.

    For each event: business date, recorded time (UTC), event, actor, source (meeting or
    document), and what it changed in the process's state (``in_force_on: — →
    2011-09-01``)."""
    sid = resolve_stream(stream, _treaty(treaty))

    async def work(rt: Runtime) -> list[timeline_mod.Step]:
        async with audit_store(rt) as store:
            return timeline_mod.timeline(sid, await store.read_stream(sid))

    steps = _run(work)
    if not steps:
        raise Failure(f"no events in stream {sid!r}", EXIT_REFUSED)
    if as_json:
        render.print_json({"stream": sid, "events": [s.to_json() for s in steps]})
        return
    table = Table(title=f"{sid}: timeline", header_style="bold")
    for col in ("#", "Business date", "Recorded (UTC)", "Event", "Actor", "Source", "Change"):
        table.add_column(col)
    for step in steps:
        e = step.event
        if step.error:
            change: Text | str = Text(step.error, style="red")
        else:
            change = "\n".join(str(c) for c in step.changes) or "(no change)"
        table.add_row(
            str(e.stream_version),
            _date_cell(e.occurred_on),
            e.recorded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            e.event_type,
            str(folding.metadata_of(e).get("actor") or ""),
            str(folding.metadata_of(e).get("source") or ""),
            change,
        )
    render.out.print(table)


# --- state as of ------------------------------------------------------------------------------


@audit_app.command("state")
def state(
    stream: StreamArg,
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of",
            help="Business date (YYYY-MM-DD): fold the events of facts on or before it "
            "(and those whose date is unknown).",
        ),
    ],
    recorded_before: Annotated[
        str | None,
        typer.Option(
            "--recorded-before",
            help="Only events recorded before this time (ISO 8601; UTC without a zone): "
            "what the record said then.",
        ),
    ] = None,
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """A process's state as of a date, rebuilt from its events.

    Folds the events whose business date is on or before --as-of (or unknown), and with
    --recorded-before only those recorded before that time. `treaty parties --as-of`
    counts with the same fold."""
    sid = resolve_stream(stream, _treaty(treaty))
    day = _parse_date(as_of)
    assert day is not None
    before = _parse_time(recorded_before)

    async def work(rt: Runtime) -> timeline_mod.StateAsOf:
        async with audit_store(rt) as store:
            events = await store.read_stream(sid)
        if not events:
            raise Failure(f"no events in stream {sid!r}", EXIT_REFUSED)
        try:
            return timeline_mod.state_as_of(sid, events, day, before)
        except folding.UnreadableEventError as err:
            raise Failure(f"{err}; see `treaty audit verify {sid}`", EXIT_REFUSED) from None

    result = _run(work)
    if as_json:
        render.print_json(result.to_json())
        return
    o = render.out
    headline = f"{sid} as of {day.isoformat()}"
    if before is not None:
        headline += f", as recorded before {before.isoformat()}"
    if result.status is not None:
        headline += f": {result.status}"
    o.print(Text(headline, style="bold"))
    upto = f" (up to version {result.last_version})" if result.last_version else ""
    o.print(f"{result.folded} of {render.count(result.total, 'event')} folded{upto}")
    table = Table(show_header=False, box=None)
    table.add_column(style="dim")
    table.add_column()
    for name, value in result.state.model_dump(mode="json").items():
        table.add_row(name, _value_cell(value))
    o.print(table)


def _value_cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {folding.show(v)}" for k, v in value.items()) or "—"
    return folding.show(value)


# --- verify -----------------------------------------------------------------------------------


@audit_app.command("verify")
def verify(
    stream: OptionalStreamArg = None,
    all_: AllOpt = False,
    store_only: Annotated[
        bool,
        typer.Option(
            "--store-only",
            help="Check only the event store (hash chains, versions, events readable); no "
            "Temporal server or worker needed.",
        ),
    ] = False,
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """Check the record against itself and against Temporal; exit 1 on any discrepancy.

    Recomputes every hash chain and checks versions have no gaps; compares each process's
    state folded from the store with its workflow's own (query); matches every stored
    event with a completed append in the workflow's Temporal history, and back; checks
    that every deposit a treaty process counts is recorded in its State's stream, on the
    same date. Names each discrepancy (stream, version, event id, what is wrong)."""
    sid = _one_or_all(stream, all_, _treaty(treaty))

    async def work(rt: Runtime) -> verify_mod.VerifyReport:
        try:
            client = None if store_only else await rt.client(need_worker=True)
        except Failure as err:
            raise Failure(
                f"{err}; `treaty audit verify --store-only` checks the event store alone",
                err.code,
            ) from None
        async with audit_store(rt) as store:
            notes: list[verify_mod.Note] = []
            if sid is None:
                streams, notes = await verify_mod.all_processes(store, client)
            else:
                streams = [sid]
            with Progress(
                console=render.err, transient=True, disable=as_json or sid is not None
            ) as bar:
                task = bar.add_task("verifying", total=len(streams))
                report = await verify_mod.verify(
                    store,
                    client,
                    streams,
                    archived=_archive_of(store),
                    progress=lambda: bar.advance(task),
                )
        report.notes[:0] = notes
        if store_only:
            report.notes.append(
                verify_mod.Note("*", "--store-only: states and Temporal histories not compared")
            )
        if sid is not None and _nothing_there(report.streams[0], client is not None):
            raise Failure(f"no events in stream {sid!r} and no workflow for it", EXIT_REFUSED)
        return report

    report = _run(work)
    if as_json:
        render.print_json(report.to_json())
    else:
        _print_verify(report)
    if not report.ok:
        raise typer.Exit(EXIT_REFUSED)


def _archive_of(store: EventStore) -> verify_mod.HistorySource:
    """The history archive (migration 003) as verify's source of runs no longer on the
    Temporal server; an archived history altered since it was archived is a problem."""
    from audit.archive import ArchivedHistory, HistoryArchive, TamperedHistory

    archive = HistoryArchive(store)

    async def archived(workflow_id: str) -> tuple[list[WorkflowHistory], list[str]]:
        entries = await archive.get(workflow_id)
        return (
            [e.history for e in entries if isinstance(e, ArchivedHistory)],
            [e.message for e in entries if isinstance(e, TamperedHistory)],
        )

    return archived


def _nothing_there(report: verify_mod.StreamReport, asked_temporal: bool) -> bool:
    """A stream with no events whose workflow is not on the server (or was not asked)."""
    if report.events or report.discrepancies:
        return False
    return not asked_temporal or report.checks.get("history") != "ok"


def _print_verify(report: verify_mod.VerifyReport) -> None:
    o = render.out
    for d in report.discrepancies:
        o.print(Text.assemble(("✗ ", "red"), f"[{d.check}] ", str(d)), soft_wrap=True)
    for n in [*report.notes, *(n for s in report.streams for n in s.notes)]:
        o.print(Text.assemble(("note: ", "yellow"), str(n)), soft_wrap=True)
    events = sum(s.events for s in report.streams)
    checked = (
        f"{render.count(len(report.streams), 'process', 'processes')}, "
        f"{render.count(events, 'event')}"
    )
    if report.ok:
        done = sorted({c for s in report.streams for c, v in s.checks.items() if v == "ok"})
        order = [c for c in verify_mod.CHECKS if c in done]
        o.print(f"verified {checked}: no discrepancy ({', '.join(order) or 'nothing'} checked)")
    else:
        bad = sum(1 for s in report.streams if s.discrepancies)
        found = render.count(len(report.discrepancies), "discrepancy", "discrepancies")
        o.print(f"verified {checked}: {found} in {render.count(bad, 'process', 'processes')}")


# --- export ------------------------------------------------------------------------------------


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


@audit_app.command("export")
def export(
    stream: OptionalStreamArg = None,
    all_: AllOpt = False,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", case_sensitive=False, help="jsonl or csv.")
    ] = ExportFormat.jsonl,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Only events of facts on or before this business date (and undated ones).",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (default: stdout).")
    ] = None,
    treaty: TreatyOpt = "CCM",
) -> None:
    """The record for another tool: one JSON line or CSV row per event.

    Fields: stream, version, event id, type, business date, recorded at, actor, source,
    data and metadata (JSON), prev_hash and hash (hex), global position: enough to
    recompute every hash chain."""
    sid = _one_or_all(stream, all_, _treaty(treaty))
    day = _parse_date(as_of)

    async def work(rt: Runtime) -> export_mod.Exported:
        async with audit_store(rt) as store:
            streams = [s for s, _ in await store.list_streams()] if sid is None else [sid]
            if sid is not None and not await store.stream_version(sid):
                raise Failure(f"no events in stream {sid!r}", EXIT_REFUSED)
            where = "standard output" if output is None else str(output)
            try:
                if output is None:
                    done = await export_mod.export(store, streams, fmt.value, sys.stdout, as_of=day)
                    sys.stdout.flush()
                    return done
                handle = output.open("w", encoding="utf-8", newline="")
                with handle, Progress(console=render.err, transient=True) as bar:
                    task = bar.add_task(f"exporting to {output.name}", total=len(streams))
                    return await export_mod.export(
                        store,
                        streams,
                        fmt.value,
                        handle,
                        as_of=day,
                        progress=lambda: bar.advance(task),
                    )
            except OSError as err:  # disk full, read-only file, closed pipe
                raise Failure(
                    f"cannot write {where}: {err.strerror or err}", EXIT_REFUSED
                ) from None

    done = _run(work)
    if output is not None:
        _note(
            f"exported {render.count(done.events, 'event')} of "
            f"{render.count(done.streams, 'stream')} to {output}"
        )
