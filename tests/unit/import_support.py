"""A table imported on the domain alone, as the import and the workflows record it: the
treaty process counts the accepted rows' deposits (``app.service.accept_rows``), then each
row's commands are decided one after the other, each with what it brings about (an entry
into force reached, the obligations it opens) as ``workflows.ratification`` does, and
the timers' work up to ``today`` (``settle``). The streams go into an in-memory recorder,
so the application's read models count them as they count PostgreSQL's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from adapters.status_table import Row
from app import importer, service
from domain import ids
from domain import ratification as r
from domain import treaty as t
from domain.events import EnteredIntoForce
from domain.treaties import get_profile
from eventstore.recorder import InMemoryRecorder
from tests.unit.record import new_events

TODAY = date(2026, 11, 29)


def run_commands(
    state: r.RatificationState,
    commands: list[Any],
    context: r.TreatyContext,
    today: date = TODAY,
) -> list[Any]:
    """The events ``commands`` record on ``state`` in one Update, as the workflow decides
    them, then what the timers record by ``today``."""
    profile = get_profile(state.treaty)
    events: list[Any] = []
    for command in commands:
        decided = r.decide(r.fold(state, events), command, profile, context, today)
        if not decided:
            continue
        events += decided
        events += r.decide(r.fold(state, events), r.MarkEnteredIntoForce(), profile, context, today)
        if any(isinstance(e, EnteredIntoForce) for e in events):
            after = r.fold(state, events)
            events += r.obligations_at_entry_into_force(after, profile, today)
    return events + r.settle(r.fold(state, events), profile, today)


@dataclass
class Imported:
    """A treaty's record after importing tables: the treaty process, each State's process
    and events, the recorder holding them, and the rows refused (line, reason)."""

    code: str
    treaty: t.TreatyState
    context: r.TreatyContext = field(default_factory=r.TreatyContext)
    states: dict[str, r.RatificationState] = field(default_factory=dict)
    events: dict[str, list[Any]] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)
    plans: dict[str, importer.Plan] = field(default_factory=dict)

    async def recorder(self) -> InMemoryRecorder:
        """The record in an in-memory recorder (every stream)."""
        recorder = InMemoryRecorder()
        for state, events in self.events.items():
            stream = ids.stream_id(ids.ratification_workflow_id(self.code, state))
            await recorder.append(stream, 0, new_events(events))
        return recorder


def import_rows(imported: Imported, rows: list[Row], today: date = TODAY) -> Imported:
    """Import ``rows`` into ``imported`` (changed in place and returned)."""
    profile = get_profile(imported.code)
    planned = []
    imported.refused = {}
    imported.plans = {}
    for row in rows:
        current = imported.states.get(row.state) or r.initial_state(imported.code, row.state)
        plan = importer.plan(row, current)
        imported.plans[row.state] = plan
        if plan.refused:
            imported.refused[row.line] = plan.refused
            continue
        planned.append(service._Planned(row, current, False, plan.commands, False, plan))
    accepted, refused, context = service.accept_rows(planned, imported.treaty, today)
    imported.refused |= {p.row.line: reason for p, reason in refused}
    counts = [t.CountDeposit(state=s, deposited_on=d) for s, d in service._deposits(accepted)]
    counted, _ = t.count_deposits(imported.treaty, counts, profile, today)
    imported.treaty = t.fold(imported.treaty, counted)
    imported.context = imported.treaty.context()
    for p in accepted:
        state = p.current
        events = run_commands(state, p.commands, imported.context, today)
        imported.states[p.row.state] = r.fold(state, events)
        imported.events[p.row.state] = imported.events.get(p.row.state, []) + events
    return imported


def imported_table(
    code: str,
    rows: list[Row],
    statement: t.RecordDepositaryStatement | None = None,
    today: date = TODAY,
) -> Imported:
    """A fresh record of treaty ``code`` with the depositary's ``statement`` of its entry
    into force, if given, then ``rows`` imported."""
    treaty = t.initial_state(code)
    if statement is not None:
        treaty = t.fold(treaty, t.decide(treaty, statement, get_profile(code), today))
    return import_rows(Imported(code=code, treaty=treaty), rows, today)
