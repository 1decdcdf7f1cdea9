"""Reads the reporting workflows need from the record, and the reminder policy from the
environment. Every read folds stored events with the domain's own ``evolve``.

- :meth:`ReportingActivities.reporting_parties`: every State with an entry-into-force
  date in its ratification process (who may owe a report);
- :meth:`ReportingActivities.reporting_reports`: the state reports of a cycle as they
  recorded them (the cycle's figures are computed from these);
- :meth:`ReportingActivities.previous_stockpiles`: the stockpile figures (CCM
  Art. 7(1)(b)) of the State's latest earlier report that gave them;
- :meth:`ReportingActivities.reporting_policy`: :func:`reminder_policy_from_env`.
"""

from __future__ import annotations

from typing import cast

from pydantic import BaseModel
from temporalio import activity

import settings as settings_mod
from domain import ids
from domain import ratification as r
from domain import reporting as rp
from eventstore.folding import fold_stored, fold_streams
from eventstore.store import EventStore

#: How many earlier years are searched for the previous stockpile figures.
PREVIOUS_YEARS = 10


def reminder_policy_from_env() -> rp.ReminderPolicy:
    """The reminder policy (:class:`domain.reporting.ReminderPolicy`) of :mod:`settings`:

    - ``TREATYFLOW_REMINDER_DAYS_BEFORE``: comma-separated days before the deadline
      (default ``60,14``; ``none``: no friendly reminder);
    - ``TREATYFLOW_OVERDUE_AFTER_DAYS``: the overdue notice (default 1: the day after);
    - ``TREATYFLOW_OVERDUE_EVERY_DAYS``: then every N days (default 30);
    - ``TREATYFLOW_CYCLE_CLOSE_AFTER_DAYS``: the cycle closes N days after the deadline
      (default 245: 31 December for a 30 April deadline).

    Raises :class:`settings.SettingsError` for a value that cannot be used.
    """
    loaded = settings_mod.load()
    return rp.ReminderPolicy(
        before_days=loaded.reminder_days_before,
        overdue_after_days=loaded.overdue_after_days,
        overdue_every_days=loaded.overdue_every_days,
        close_after_days=loaded.cycle_close_after_days,
    )


class ReportsRequest(BaseModel):
    """The state reports of ``treaty``'s ``year`` cycle for ``states`` (ISO3)."""

    treaty: str
    year: int
    states: list[str]


class PreviousRequest(BaseModel):
    """The stockpile figures of ``state``'s latest report before ``year``."""

    treaty: str
    year: int
    state: str


async def read_report(store: EventStore, treaty: str, year: int, state: str) -> rp.ReportState:
    """A state report folded from its stream (the initial state when it has no event)."""
    stream = ids.stream_id(rp.report_workflow_id(treaty, year, state))
    return cast(rp.ReportState, fold_stored(stream, await store.read_stream(stream)))


async def read_cycle(store: EventStore, treaty: str, year: int) -> rp.CycleState:
    """A cycle folded from its stream."""
    stream = ids.stream_id(rp.cycle_workflow_id(treaty, year))
    return cast(rp.CycleState, fold_stored(stream, await store.read_stream(stream)))


async def parties(store: EventStore, treaty: str) -> list[rp.Party]:
    """Every State whose ratification process has an entry-into-force date, with the date
    its withdrawal takes effect if it withdrew."""
    prefix = ids.stream_id(ids.ratification_workflow_id(treaty, ""))
    states = cast(list[r.RatificationState], await fold_streams(store, prefix))
    return [
        rp.Party(state=s.state, in_force_on=s.in_force_on, withdrawn_on=s.withdrawn_on)
        for s in sorted(states, key=lambda s: s.state)
        if s.in_force_on is not None
    ]


class ReportingActivities:
    """The reads above as Temporal activities, bound to one event store."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    @activity.defn(name="reporting_parties")
    async def reporting_parties(self, treaty: str) -> list[rp.Party]:
        return await parties(self._store, treaty)

    @activity.defn(name="reporting_reports")
    async def reporting_reports(self, request: ReportsRequest) -> list[rp.ReportState]:
        return [
            await read_report(self._store, request.treaty, request.year, s) for s in request.states
        ]

    @activity.defn(name="previous_stockpiles")
    async def previous_stockpiles(self, request: PreviousRequest) -> dict[str, int] | None:
        for year in range(request.year - 1, request.year - 1 - PREVIOUS_YEARS, -1):
            report = await read_report(self._store, request.treaty, year, request.state)
            if report.received and report.submission and report.submission.stockpiles:
                return dict(report.submission.stockpiles)
        return None

    @activity.defn(name="reporting_policy")
    async def reporting_policy(self) -> rp.ReminderPolicy:
        return reminder_policy_from_env()
