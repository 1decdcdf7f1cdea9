"""A CCM record in an in-memory recorder, built by the domain as the processes decide it:
the depositary's statement (in force 1 Aug 2010, CCM Art. 17(1)), the real status table
imported through ``app.service.accept_rows``, Lithuania's withdrawal (received 6 Sep 2024,
effective 6 Mar 2025, CCM Art. 20(3)). No server: the application's read models run on it
as they run on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

from adapters import status_table
from app import importer, service
from domain import ids
from domain import ratification as r
from domain import treaty as t
from domain.events import event_data
from domain.treaties import CCM
from eventstore.recorder import InMemoryRecorder
from eventstore.store import NewEvent
from tests.support import CCM_STATEMENT

TODAY = date(2026, 11, 29)
LTU_WITHDRAWAL_RECEIVED = date(2024, 9, 6)  # effective six months later, 6 Mar 2025


def new_events(events: list[Any]) -> list[NewEvent]:
    """Domain events as the append activity stores them (type, JSON data, business date)."""
    return [
        NewEvent(
            event_id=uuid.uuid4(),
            event_type=e.type,
            data=event_data(e),
            metadata={"actor": "test", "source": "test"},
            occurred_on=e.occurred_on,
        )
        for e in events
    ]


def planned_rows(path: Path) -> list[Any]:
    """Each row of a status table with what it needs on a record with nothing for it."""
    rows, errors = status_table.read_table(path)
    assert errors == []
    out = []
    for row in rows:
        current = r.initial_state("CCM", row.state)
        plan = importer.plan(row, current)
        assert plan.refused is None, plan.refused
        out.append(service._Planned(row, current, False, plan.commands, plan.signature_unknown))
    return out


def treaty_with_statement() -> tuple[t.TreatyState, list[Any]]:
    """The treaty process after the depositary's statement, and its events."""
    state = t.initial_state("CCM")
    events = t.decide(state, CCM_STATEMENT, CCM, TODAY)
    return t.fold(state, events), events


async def ccm_record(path: Path) -> InMemoryRecorder:
    """The recorder holding the treaty stream and one ratification stream per row of the
    table at ``path`` (every row accepted), Lithuania's withdrawal included."""
    recorder = InMemoryRecorder()
    treaty, events = treaty_with_statement()
    await recorder.append(ids.stream_id(ids.treaty_workflow_id("CCM")), 0, new_events(events))
    accepted, refused, context = service.accept_rows(planned_rows(path), treaty, TODAY)
    assert refused == []
    for planned in accepted:
        state, recorded = planned.current, []
        commands = list(planned.commands)
        if planned.row.state == "LTU":
            commands.append(r.Withdraw(received_on=LTU_WITHDRAWAL_RECEIVED))
        for command in commands:
            new = r.decide(state, command, CCM, context, TODAY)
            state, recorded = r.fold(state, new), recorded + new
        new = r.settle(state, CCM, TODAY)  # what the timers record by today
        recorded += new
        stream = ids.stream_id(ids.ratification_workflow_id("CCM", planned.row.state))
        await recorder.append(stream, 0, new_events(recorded))
    return recorder
