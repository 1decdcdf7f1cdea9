"""Read models for the CLI, folded from the event store with the domain's own ``evolve``.

Nothing here asks Temporal: staff tables and counts are rebuilt from the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain import ids
from domain import ratification as r
from domain import treaty as t
from domain.events import event_from_record
from eventstore.store import EventStore, StoredEvent


def fold_ratification(treaty: str, state: str, events: list[StoredEvent]) -> r.RatificationState:
    """The ratification state folded from its stored events (in stream order)."""
    s = r.initial_state(treaty, state)
    for e in events:
        s = r.evolve(s, event_from_record(e.event_type, e.data))
    return s


def fold_treaty(treaty: str, events: list[StoredEvent]) -> t.TreatyState:
    """The treaty process state folded from its stored events."""
    s = t.initial_state(treaty)
    for e in events:
        s = t.evolve(s, event_from_record(e.event_type, e.data))
    return s


async def ratifications(store: EventStore, treaty: str) -> list[r.RatificationState]:
    """Every ratification process of ``treaty`` recorded in the store, sorted by ISO3."""
    prefix = ids.stream_id(ids.ratification_workflow_id(treaty, ""))
    states = []
    for stream, _version in await store.list_streams(prefix=prefix):
        code = stream[len(prefix) :]
        states.append(fold_ratification(treaty, code, await store.read_stream(stream)))
    return sorted(states, key=lambda s: s.state)


async def treaty_state(store: EventStore, treaty: str) -> t.TreatyState:
    """The treaty process state of ``treaty`` from the store."""
    stream = ids.stream_id(ids.treaty_workflow_id(treaty))
    return fold_treaty(treaty, await store.read_stream(stream))


@dataclass(frozen=True)
class Parties:
    """Who is bound on ``as_of``: ``consented`` (deposit on or before the date, the CMC's
    and the Monitor's count of "States Parties") and ``in_force`` (the treaty in force for
    the State on that date, the legal sense)."""

    as_of: date
    consented: list[str]
    in_force: list[str]


def parties_as_of(states: list[r.RatificationState], as_of: date) -> Parties:
    """Count consented vs. in force on ``as_of`` (both sorted ISO3 lists)."""
    consented = [s.state for s in states if s.consented_on is not None and s.consented_on <= as_of]
    in_force = [s.state for s in states if s.in_force_on is not None and s.in_force_on <= as_of]
    return Parties(as_of=as_of, consented=sorted(consented), in_force=sorted(in_force))
