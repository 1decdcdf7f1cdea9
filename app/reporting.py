"""Reporting use cases (the treaty's reporting article: CCM Art. 7, ATT Art. 13): the cycle
guards, the yearly Schedules that open each cycle, and the demo's cycle.

The guards raise :class:`app.errors.Refused` with what would be accepted.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.errors import Refused
from domain import reporting as rp
from domain.treaties import get_profile

SCHEDULE_PREFIX = "reporting-open-"
OPEN_WAIT_SECONDS = 300.0
"""How long :func:`open_cycle` waits for a new cycle to start its reports."""


def _count(n: int, singular: str) -> str:
    return f"{n} {singular if n == 1 else singular + 's'}"


async def cycle(store: Any, treaty: str, year: int) -> rp.CycleState:
    """``year``'s cycle of ``treaty`` folded from the event store (not opened: empty)."""
    from activities.reporting import read_cycle

    return await read_cycle(store, treaty, year)


async def reports(store: Any, of: rp.CycleState) -> list[rp.ReportState]:
    """The report of each State the cycle ``of`` asks, folded from the event store."""
    from activities.reporting import read_report

    return [await read_report(store, of.treaty, of.year, s) for s in of.states]


def require_cycle(cycle: rp.CycleState, treaty: str, year: int, today: date) -> rp.CycleState:
    """``cycle`` if it has been opened; else :class:`Refused` saying why (a future year, or
    a cycle not opened yet) and what to run."""
    if not cycle.opened and year > today.year:
        raise Refused(
            f"no {treaty} reporting cycle for {year}: {year} is in the future (today "
            f"is {today}), a cycle can be opened for {today.year} or an earlier year"
        )
    if not cycle.opened:
        raise Refused(
            f"no {treaty} reporting cycle for {year} has been opened; open it with "
            f"`treaty reporting open --treaty {treaty} --year {year}`"
        )
    return cycle


def require_due(cycle: rp.CycleState, state: str) -> None:
    """:class:`Refused` unless ``cycle`` asks ``state`` (ISO3) for its annual report: the
    message names why not and the States the cycle asks."""
    if state in cycle.states:
        return
    why = cycle.not_due.get(state) or "not a State Party in force in the record"
    raise Refused(
        f"no {cycle.year} annual report is due from {state} ({why}); the "
        f"{cycle.treaty} {cycle.year} cycle asks {_count(len(cycle.states), 'State')}: "
        f"{', '.join(cycle.states) or 'none'}"
    )


# --- the yearly schedule -----------------------------------------------------------------------


def schedule_id(treaty: str) -> str:
    """``reporting-open-<CODE>``: the Temporal Schedule that opens the cycle each year."""
    return f"{SCHEDULE_PREFIX}{treaty}"


async def ensure_schedule(
    client: Any,
    treaty: str,
    task_queue: str,
    *,
    month: int | None = None,
    day: int | None = None,
) -> str:
    """Create the Schedule ``reporting-open-<CODE>`` (each ``day``/``month`` at 00:00 UTC,
    default 1 January; start ``OpenReportingCycle``) unless it exists. An existing one is
    kept as it is (perhaps changed by staff) unless ``month`` or ``day`` is given: then its
    calendar is changed to them (the one not given is kept). Returns ``created``,
    ``updated`` or ``exists``. Raises ``ValueError`` when the resulting day is not a date
    of every year (29 February: the cycle would open only in leap years)."""
    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleCalendarSpec,
        ScheduleRange,
        ScheduleSpec,
        ScheduleUpdate,
        ScheduleUpdateInput,
    )

    from workflows.reporting import OpenInput, OpenReportingCycleWorkflow

    article = get_profile(treaty).obligations.annual_report_article

    def spec_for(m: int, d: int) -> Any:
        check_schedule_day(m, d)
        return ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    month=[ScheduleRange(m)],
                    day_of_month=[ScheduleRange(d)],
                    comment=f"open the {treaty} reporting cycle of the year ({article})",
                )
            ]
        )

    action = ScheduleActionStartWorkflow(
        OpenReportingCycleWorkflow.run,
        OpenInput(treaty=treaty),
        id=f"reporting-open:{treaty}",
        task_queue=task_queue,
    )
    sid = schedule_id(treaty)
    try:
        await client.create_schedule(
            sid, Schedule(action=action, spec=spec_for(month or 1, day or 1))
        )
        return "created"
    except ScheduleAlreadyRunningError:
        if month is None and day is None:
            return "exists"

    def update(inp: ScheduleUpdateInput) -> ScheduleUpdate:
        sched = inp.description.schedule
        cals = sched.spec.calendars
        old_m = cals[0].month[0].start if cals and cals[0].month else 1
        old_d = cals[0].day_of_month[0].start if cals and cals[0].day_of_month else 1
        sched.spec = spec_for(month or old_m, day or old_d)
        sched.action = action
        return ScheduleUpdate(schedule=sched)

    await client.get_schedule_handle(sid).update(update)
    return "updated"


def check_schedule_day(month: int, day: int) -> None:
    """Refuse (``ValueError``, with what would be accepted) a ``month``/``day`` that is
    not a date of every year: 29 February would open the cycle only in leap years."""
    if (month, day) == (2, 29):
        raise ValueError(
            "--month 2 --day 29 would open the cycle only in leap years; give a day that "
            "every year has (e.g. --month 3 --day 1)"
        )
    try:
        date(2001, month, day)
    except ValueError:
        raise ValueError(f"--month {month} --day {day} is not a date") from None


def schedule_treaties() -> list[str]:
    """The treaties whose yearly Schedule `treaty up` creates: ``TREATYFLOW_REPORTING_
    SCHEDULES`` of :mod:`settings` (comma-separated codes; ``none``: no Schedule), default
    ``CCM``."""
    import settings as settings_mod

    return list(settings_mod.load().reporting_schedules)


def ensure_schedules_at_up(temporal_address: str, namespace: str, task_queue: str) -> list[str]:
    """For `treaty up`: create the yearly Schedule of each of :func:`schedule_treaties`
    that does not exist (an existing one, perhaps changed by staff, is kept)."""
    import asyncio

    from adapters.temporal import connect_client

    async def run() -> list[str]:
        client = await connect_client(temporal_address, namespace)
        return [
            f"{schedule_id(t)}: {await ensure_schedule(client, t, task_queue)}"
            for t in schedule_treaties()
        ]

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    # called from async code (an event loop runs in this thread): run on a thread of its own
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


# --- the demo's part ---------------------------------------------------------------------------


async def open_cycle(
    commands: Any, store: Any, treaty: str, year: int, meta: Any, today: date
) -> rp.CycleState:
    """Open ``year``'s reporting cycle of ``treaty`` through :meth:`app.commands.Commands
    .send` (``commands``; ``store``: the event store) and wait until it has started the
    report of each State that owes one (:data:`OPEN_WAIT_SECONDS`). Returns the cycle.

    Raises :class:`Refused` for a year the treaty's reporting rule does not allow, a cycle
    already opened (or running), a year nobody owes a report for; :class:`Unavailable` if
    the cycle is still starting its reports after the wait."""
    import asyncio

    from activities.reporting import parties, read_cycle
    from app.commands import OpenCycle, ProcessRef
    from app.errors import Unavailable
    from domain.errors import DomainError
    from workflows.reporting import ReportingCycleWorkflow

    profile = get_profile(treaty)
    existing = await read_cycle(store, treaty, year)
    if existing.opened:
        raise Refused(
            f"the {treaty} {year} reporting cycle was already opened on "
            f"{existing.opened_on} ({_count(len(existing.states), 'State')}); see "
            f"`treaty reporting status --year {year}`"
        )
    try:
        rp.check_year(profile, year, today)
        rp.check_year_owed(profile, year, await parties(store, treaty))
    except DomainError as err:
        raise Refused(str(err)) from None
    try:
        handle = await commands.send(ProcessRef("reporting", treaty, str(year)), OpenCycle(), meta)
    except Refused:
        raise Refused(f"the {treaty} {year} reporting cycle is already running") from None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + OPEN_WAIT_SECONDS
    while True:
        view = await handle.query(ReportingCycleWorkflow.view)
        if view.state.opened and view.started == len(view.state.states):
            return view.state
        if loop.time() > deadline:
            raise Unavailable(
                f"the {treaty} {year} cycle is still starting its reports after "
                f"{OPEN_WAIT_SECONDS:.0f} s; see `treaty reporting status --year {year}`"
            )
        await asyncio.sleep(0.3)


async def demo_cycle(client: Any, store: Any, treaty: str, year: int, task_queue: str) -> dict:
    """For `treaty demo`: open ``year``'s cycle for the imported States Parties (unless it
    is open), give each due State a placeholder focal point at example.org (a reserved
    domain: nothing leaves the machine without SMTP settings), wait for the reminders to
    reach the outbox, and return the figures so far and the outbox rows."""
    import asyncio

    from activities.outbox import Contact, add_contact, list_outbox
    from activities.reporting import parties, read_cycle, read_report
    from app.commands import Commands
    from app.provenance import command_meta

    cycle = await read_cycle(store, treaty, year)
    if not cycle.opened:
        # the focal points first, so that the first reminders find them
        for party in rp.due_parties(get_profile(treaty), await parties(store, treaty), year):
            address = f"article7.{party.state.lower()}@example.org"
            contact = Contact(treaty=treaty, state=party.state, email=address, name="demo")
            await add_contact(store, contact)
        meta = command_meta(on_behalf_of="treaty demo", correlation_id="demo")
        await open_cycle(Commands(client, task_queue), store, treaty, year, meta, date.today())
        cycle = await read_cycle(store, treaty, year)
    prefix = f"reporting-{treaty}-{year}-"
    loop = asyncio.get_running_loop()
    expected = 0
    if cycle.due_on and cycle.closes_on and cycle.opened_on:
        slots = rp.pending_reminders(cycle.policy, cycle.due_on, cycle.closes_on, cycle.opened_on)
        expected = 1 if slots and slots[0].on == cycle.opened_on else 0
    deadline = loop.time() + 60
    while True:
        rows = await list_outbox(store, prefix)
        done = len(rows) >= expected * len(cycle.states) and all(r.delivered_at for r in rows)
        if done or loop.time() > deadline:
            break
        await asyncio.sleep(0.5)
    reports = [await read_report(store, treaty, year, s) for s in cycle.states]
    return {"cycle": cycle, "figures": rp.figures(reports), "outbox": rows}


# --- servers: the Schedule without `treaty up` --------------------------------------------------


def ensure_schedules_from_settings() -> list[str]:
    """On servers (the compose file's one-shot ``migrations`` service runs
    ``python -m app.reporting``): create the yearly Schedule of each treaty of
    ``TREATYFLOW_REPORTING_SCHEDULES`` on the Temporal server of ``TEMPORAL_ADDRESS``
    unless it exists (an existing one, perhaps changed by staff, is kept: the semantics of
    `treaty reporting schedule` with no option). Returns one ``<id>: created|exists`` line
    per Schedule. Raises :class:`settings.SettingsError` without ``TEMPORAL_ADDRESS``."""
    import settings as settings_mod

    config = settings_mod.load()
    if not config.temporal_address:
        raise settings_mod.SettingsError(
            "TEMPORAL_ADDRESS is not set: the reporting Schedules are created on a Temporal "
            "server (on the embedded stack `treaty up` creates them)"
        )
    return ensure_schedules_at_up(
        config.temporal_address, config.temporal_namespace, config.task_queue
    )


def _main(attempts: int = 30, pause_seconds: float = 2.0) -> int:
    """``python -m app.reporting``: :func:`ensure_schedules_from_settings`, tried again
    while the Temporal server is still starting (its namespace may be registered a little
    after it is healthy). Exit 0, or 1 with the last error."""
    import sys
    import time

    import settings as settings_mod

    for attempt in range(1, attempts + 1):
        try:
            for line in ensure_schedules_from_settings():
                print(line, flush=True)
            return 0
        except settings_mod.SettingsError:
            raise
        except Exception as err:  # noqa: BLE001 - the server is perhaps not ready yet
            if attempt == attempts:
                print(f"cannot create the reporting Schedules: {err}", file=sys.stderr)
                return 1
            time.sleep(pause_seconds)
    return 1


if __name__ == "__main__":  # pragma: no cover - run by the compose file
    raise SystemExit(_main())


def ensure_schedules_after_up(settings: Any, temporal_address: str) -> None:
    """For `treaty up`, once the worker runs: create the yearly reporting Schedules
    (:func:`ensure_schedules_at_up`) that do not exist yet; a failure is logged, it does
    not fail `treaty up`."""
    import structlog

    log = structlog.get_logger("treatyflow.stack")
    try:
        done = ensure_schedules_at_up(
            temporal_address, settings.temporal_namespace, settings.task_queue
        )
        log.info("stack.reporting_schedules", schedules=done)
    except Exception as err:  # noqa: BLE001 - the stack runs without the schedule
        log.warning("stack.reporting_schedules.failed", error=f"{type(err).__name__}: {err}")
