"""``treaty demo``: the main job on the embedded stack, with the real CCM record.

The demo is data (:class:`Demo`: which treaty, the depositary's statement, which record
and which Meetings to import, the depositary's own counts, which scenario, which decision
to show, which dates to count on) and one use case (:func:`run`) that brings the embedded
stack up and records it all; the record is imported as ``treaty import`` imports it
(:func:`app.record_import.import_record`); printing is the entrypoint's (:mod:`cli.demo`).
Raises :class:`app.errors.Refused` when a shipped file does not record cleanly,
:class:`app.errors.Unavailable` when the stack or its worker does not come up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import settings as settings_mod
from adapters import depositary, meetings_file
from adapters.depositary_record import Header
from adapters.stack import StackError, stack_up
from adapters.temporal import NoWorkerError, connect_client, require_worker
from app import decisions, depositary_header, reads, record_import, service
from app.errors import Refused, Unavailable
from app.import_report import CountCheck, ImportReport
from app.provenance import command_meta
from app.reporting import ensure_schedules_after_up
from domain import treaty as t
from domain.errors import DomainError
from domain.treaties import TreatyProfile, get_profile
from eventstore.migrate import migrate
from eventstore.store import EventStore
from workflows.common import CommandMeta

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "ccm"


@dataclass(frozen=True)
class DepositaryCounts:
    """The counts the depositary's own page states in its header, as at ``as_of``
    (``source``): Signatories and Parties, as the depositary counts them
    (:mod:`app.depositary_header`)."""

    as_of: date
    signatories: int
    parties: int
    source: str


@dataclass(frozen=True)
class Demo:
    """What the demo records and shows.

    ``statement``: the depositary's statement of the treaty's entry into force (recorded
    unless one is); ``record``: the depositary's record imported as ``treaty import``
    imports it (a status table taken from the depositary's page); ``depositary_counts``:
    what that page counts, checked against the record; ``meetings``: the Meetings held,
    recorded in the treaty process (``treaty meetings import``) so that ``treaty
    decision`` and ``treaty hca`` find them; ``scenario``: the scenario file run (``treaty
    scenario run``); ``decision``: the slug of the decision shown; ``dates``: (label,
    date) on which the States Parties are counted (today's count is added); the reporting
    cycle is this year's."""

    treaty: str
    statement: t.RecordDepositaryStatement
    record: Path
    depositary_counts: DepositaryCounts | None
    meetings: Path
    scenario: Path
    decision: str
    dates: tuple[tuple[str, date], ...]


CCM_STATEMENT = (
    "UNTC chapter XXVI-6: the Convention entered into force on 1 August 2010, in accordance "
    "with article 17(1) (30th instrument deposited on 16 February 2010 by Burkina Faso and "
    "Moldova); registration No. 47713"
)

#: The UNTC status page of the CCM that ``status_2026.csv`` was taken from: its header.
CCM_PAGE_COUNTS = DepositaryCounts(
    as_of=date(2026, 2, 3),
    signatories=107,
    parties=112,
    source="UNTC status page XXVI-6, status as at 3 Feb 2026",
)

CCM_DEMO = Demo(
    treaty="CCM",
    statement=t.RecordDepositaryStatement(
        in_force_on=date(2010, 8, 1),
        threshold_deposited_on=date(2010, 2, 16),
        statement=CCM_STATEMENT,
    ),
    record=EXAMPLES / "status_2026.csv",
    depositary_counts=CCM_PAGE_COUNTS,
    meetings=EXAMPLES / "meetings.csv",
    scenario=EXAMPLES / "2011-consultation.yaml",
    decision="isu-hosting",
    dates=(
        ("1 Aug 2010 (entry into force)", date(2010, 8, 1)),
        ("30 Mar 2011", date(2011, 3, 30)),
        ("3 Feb 2026 (the depositary's page)", CCM_PAGE_COUNTS.as_of),
    ),
)


@dataclass(frozen=True)
class RecordEntryIntoForce:
    """The treaty's entry into force as the record of deposits gives it, beside the
    depositary's statement: ``threshold`` instruments (``day``: the day of the last of
    them and who deposited then), in force on ``in_force_on`` by ``article``;
    ``declared_on``: the depositary's date (None: no statement); ``agrees``: they are the
    same date."""

    threshold: int
    day: t.ThresholdDay
    in_force_on: date
    article: str
    declared_on: date | None

    @property
    def agrees(self) -> bool:
        return self.declared_on == self.in_force_on


def entry_into_force_from_record(
    treaty: t.TreatyState, profile: TreatyProfile
) -> RecordEntryIntoForce | None:
    """:class:`RecordEntryIntoForce` from the deposits the treaty process counted (CCM
    Art. 17(1) by ``profile``), or None while fewer than the threshold are on record."""
    day = t.threshold_day(treaty.deposits, profile.eif_threshold)
    if day is None:
        return None
    return RecordEntryIntoForce(
        threshold=profile.eif_threshold,
        day=day,
        in_force_on=profile.treaty_eif.apply(day.on),
        article=profile.treaty_eif.article,
        declared_on=treaty.declared_on,
    )


class Reporter(Protocol):
    """How the demo tells its progress (the entrypoint's terminal)."""

    def say(self, text: str) -> None:
        """One line of progress (not the result)."""

    def importing(self, name: str, total: int) -> AbstractContextManager[Callable[[], None]]:
        """A progress display for importing ``total`` rows of ``name``; yields the
        function to call after each row."""


async def _wait_for_worker(client: Any, task_queue: str, wait_seconds: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        try:
            await require_worker(client, task_queue)
            return
        except NoWorkerError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _record_meetings(
    client: Any, demo: Demo, meta: CommandMeta, task_queue: str, log: Reporter
) -> None:
    """Record the Meetings held of ``demo.meetings`` that the treaty process does not
    record yet (one it records, as shipped or as staff corrected it, is kept)."""
    from app import processes
    from app.commands import Commands, ProcessRef

    try:
        view = await processes.treaty_view(client, demo.treaty)
        known = {name.lower() for name in (view.state.meetings if view else {})}
        shipped = meetings_file.read_meetings(demo.meetings, get_profile(demo.treaty))
        held = [m for m in shipped if m.name.lower() not in known]
        if not held:
            return
        command = t.RecordMeetings(meetings=held, source=demo.meetings.name)
        recorded = await Commands(client, task_queue).send(
            ProcessRef("treaty", demo.treaty),
            command,
            meta.model_copy(update={"source": demo.meetings.name}),
        )
    except (DomainError, Refused) as err:
        raise Refused(f"the shipped Meetings {demo.meetings.name}: {err}") from None
    if recorded.events:
        log.say(f"recorded {len(recorded.events)} Meetings held from {demo.meetings.name}")


async def _run_scenario(client: Any, demo: Demo, meta: CommandMeta, task_queue: str) -> int:
    """Record the scenario file (for the CCM: the 24 Feb 2011 consultation, the ISU
    decision, Bulgaria's domestic procedure, the 2MSP's host-country agreement); the
    number of events recorded."""
    from adapters import scenario_file
    from app import process_ops

    steps = scenario_file.parse(demo.scenario.read_text(encoding="utf-8"))
    where = meta.model_copy(update={"source": demo.scenario.name})
    try:
        recorded = await process_ops.run_scenario(client, steps, where, task_queue)
    except Refused as err:
        raise Refused(f"the shipped scenario {demo.scenario.name}: {err}") from None
    return sum(recorded.values())


async def _import_record(
    client: Any, demo: Demo, meta: CommandMeta, task_queue: str, log: Reporter
) -> ImportReport:
    """Import ``demo.record`` as ``treaty import`` does (read by content, then
    :func:`app.record_import.import_record`): signatures, deposits, provisional
    application, withdrawals and end notes; returns once every State's entry into force is
    fixed. :class:`Refused` if the shipped file does not import cleanly."""
    path = demo.record
    try:
        record = depositary.read_record(path)
    except depositary.TableError as err:
        raise Refused(f"the shipped record {path.name}: {err}") from None
    with log.importing(f"importing {path.name}", len(record.rows)) as advance:
        report = await record_import.import_record(
            client, None, record, demo.treaty, meta, task_queue, progress=advance
        )
    if report.failed:
        for e in report.refused:
            log.say(f"refused line {e.line} ({e.name}): {e.reason}")
        raise Refused(f"the shipped record {path.name} did not import cleanly")
    for w in report.withdrawals:
        if w.disagreement:
            log.say(f"[yellow]the record differs[/yellow] for {w.name}: {w.disagreement}")
    log.say(
        f"imported {path}: {len(report.changed)} "
        f"{'process' if len(report.changed) == 1 else 'processes'} advanced, "
        f"{len(report.unchanged)} already up to date"
    )
    if not report.settled:
        log.say("[yellow]some entry-into-force dates are still being fixed[/yellow]")
    return report


async def _depositary_counts(store: EventStore, demo: Demo) -> list[CountCheck]:
    """The depositary's own counts (``demo.depositary_counts``) against the record folded
    as of their date, as ``treaty import`` checks a page's header."""
    counts = demo.depositary_counts
    if counts is None:
        return []
    header = Header(
        status_as_at=counts.as_of, signatories=counts.signatories, parties=counts.parties
    )
    states = await reads.ratifications(store, demo.treaty, counts.as_of)
    return depositary_header.check_counts(header, states)


async def run(demo: Demo, log: Reporter) -> dict[str, Any]:
    """Bring the embedded stack up, record ``demo`` and read back what the entrypoint
    shows: ``profile`` (the treaty's, for its citations), ``states`` (every ratification
    process), ``treaty`` (the treaty process), ``entry_into_force``
    (:class:`RecordEntryIntoForce`: the record's deposits beside the depositary's
    statement), ``counts`` ((label, :class:`app.reads.Parties`) on each date and today),
    ``depositary_counts`` (:class:`app.import_report.CountCheck`: the depositary's page
    against the record), ``import`` (the :class:`app.import_report.ImportReport`),
    ``ui_url``, ``decision`` and ``decision_statuses`` (the decision shown and each
    State's status then), ``scenario_events`` (events the scenario recorded now),
    ``reporting`` (this year's cycle, :func:`app.reporting.demo_cycle`)."""
    settings = settings_mod.load()
    try:
        status = await asyncio.to_thread(stack_up, settings, after_worker=ensure_schedules_after_up)
    except StackError as err:
        raise Unavailable(str(err)) from None
    log.say(f"embedded stack up: Temporal {status.temporal_address}, Web UI {status.ui_url}")
    client = await connect_client(status.temporal_address, settings.temporal_namespace)
    try:
        await _wait_for_worker(client, settings.task_queue)
    except NoWorkerError as err:
        worker_log = settings.home / "logs" / "worker.log"
        raise Unavailable(f"{err} (worker log: {worker_log})") from None
    code = demo.treaty
    profile = get_profile(code)
    # recorded by the user running the demo, for the demo; each fact's source is the
    # statement, the record (and its rows' own sources), the Meetings table or the
    # scenario's lines
    meta = command_meta(on_behalf_of="treaty demo", source=demo.record.name, correlation_id="demo")
    view = await service.treaty_view(client, code)
    if view is None or view.state.declared_on is None:
        log.say(
            "recording the depositary's statement of entry into force "
            f"({demo.statement.in_force_on:%-d %b %Y})"
        )
        await service.record_statement(
            client,
            code,
            demo.statement,
            meta.model_copy(update={"source": demo.statement.statement}),
            settings.task_queue,
        )
    report = await _import_record(client, demo, meta, settings.task_queue, log)
    await _record_meetings(client, demo, meta, settings.task_queue, log)
    scenario_events = await _run_scenario(client, demo, meta, settings.task_queue)
    store = await EventStore.connect(status.database_url)
    try:
        await migrate(status.database_url)
        decision = await decisions.load(store, code, demo.decision)
        statuses = await decisions.party_statuses(store, decision) if decision else {}
        states = await reads.ratifications(store, code)
        treaty_state = await reads.treaty_state(store, code)
        today = date.today()
        counts = [
            (label, await reads.parties(store, code, day))
            for label, day in (*demo.dates, (f"today ({today.isoformat()})", today))
        ]
        depositary_counts = await _depositary_counts(store, demo)
        from app.reporting import demo_cycle  # this year's reporting cycle

        reporting = await demo_cycle(client, store, code, today.year, settings.task_queue)
    finally:
        await store.close()
    return {
        "profile": profile,
        "states": states,
        "treaty": treaty_state,
        "entry_into_force": entry_into_force_from_record(treaty_state, profile),
        "counts": counts,
        "depositary_counts": depositary_counts,
        "import": report,
        "ui_url": status.ui_url,
        "decision": decision,
        "decision_statuses": statuses,
        "scenario_events": scenario_events,
        "reporting": reporting,
    }
