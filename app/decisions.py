"""Read models of the decisions of the States Parties and of host-country agreements,
folded from the event store (no Temporal): a decision and each State's status under the
treaty when it stated its position; an agreement with its meeting's city as the treaty
process records the Meeting.
"""

from __future__ import annotations

from app import meetings, reads
from domain import decision as d
from domain import hca as h
from domain import ids
from eventstore.folding import fold_stored
from eventstore.store import EventStore

#: How a State's status under the treaty on a date is said (RatificationState.status).
PARTY_STATUS = {
    "in force": "State Party",
    "consented": "consented, not yet in force",
    "signatory": "signatory",
    "none": "neither signatory nor party",
}


async def load(store: EventStore, treaty: str, slug: str) -> d.DecisionState | None:
    """The decision ``decision:<treaty>:<slug>`` folded from the event store, None if
    nothing is recorded."""
    stream = ids.stream_id(ids.decision_workflow_id(treaty, slug))
    events = await store.read_stream(stream)
    if not events:
        return None
    state = fold_stored(stream, events)
    assert isinstance(state, d.DecisionState)
    return state


async def party_statuses(store: EventStore, s: d.DecisionState) -> dict[str, str]:
    """Each State with a position in force: its status under the treaty on the date it
    stated it (:data:`PARTY_STATUS`), from its ratification process in the event store
    (folded as of that date); ``not in the record`` when there is none."""
    found: dict[str, str] = {}
    for p in s.current_positions():
        if p.participant_kind != "state" or p.participant in found:
            continue
        stream = ids.stream_id(ids.ratification_workflow_id(s.treaty, p.participant))
        events = await store.read_stream(stream)
        if not events:
            found[p.participant] = "not in the record"
            continue
        r = reads.fold_ratification(s.treaty, p.participant, events, p.stated_on)
        found[p.participant] = PARTY_STATUS[r.status(p.stated_on)]
    return found


async def load_agreement(store: EventStore, treaty: str, meeting: str) -> h.AgreementState | None:
    """The host-country agreement ``hca:<treaty>:<meeting>`` folded from the event store
    (None if nothing is recorded); opened without a city, it takes the city of the Meeting
    as the treaty process records it (:func:`app.meetings.find`)."""
    stream = ids.stream_id(ids.hca_workflow_id(treaty, meeting))
    events = await store.read_stream(stream)
    if not events:
        return None
    state = fold_stored(stream, events)
    assert isinstance(state, h.AgreementState)
    if state.city is None:
        held = await meetings.find(store, treaty, meeting)
        if held is not None and held.city:
            state = state.model_copy(update={"city": held.city})
    return state
