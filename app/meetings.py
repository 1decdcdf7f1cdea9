"""Meetings use cases: the Meetings the treaty process records (the one source of the
Meetings held: ``treaty meetings import FILE`` records them), looked up by name, and the
check that a correction of them breaks nothing recorded since.

Read from the event store (:func:`app.reads.treaty_state`); no Temporal.
"""

from __future__ import annotations

from datetime import date

from app import reads
from app.errors import Refused
from domain import ids
from domain.errors import DomainError
from domain.obligations import (
    DecisionAt,
    Meeting,
    Obligation,
    check_meeting_correction,
    find_meeting,
)
from domain.treaties import get_profile
from eventstore.store import EventStore


async def recorded(store: EventStore, treaty: str) -> list[Meeting]:
    """The Meetings the treaty process of ``treaty`` has recorded, by opening date."""
    state = await reads.treaty_state(store, treaty)
    return sorted(state.meetings.values(), key=lambda m: m.opens_on)


async def find(store: EventStore, treaty: str, name: str) -> Meeting | None:
    """The recorded Meeting called ``name`` (any case), or None when none is recorded."""
    try:
        return find_meeting(await recorded(store, treaty), name)
    except DomainError:
        return None


async def meeting(store: EventStore, treaty: str, name: str) -> Meeting:
    """The recorded Meeting called ``name`` (any case); :class:`app.errors.Refused` naming
    the known ones and `treaty meetings import`."""
    try:
        return find_meeting(await recorded(store, treaty), name)
    except DomainError as err:
        raise Refused(f"{err}; record it with `treaty meetings import`") from err


async def table(store: EventStore, treaty: str) -> dict[str, tuple[date, date]]:
    """Name -> (opens_on, closes_on) of the recorded Meetings (the shape
    :func:`domain.decision.check_meeting` takes)."""
    return {m.name: (m.opens_on, m.closes_on) for m in await recorded(store, treaty)}


def not_recorded(treaty: str, name: str, instead: str) -> str:
    """The refusal for a Meeting the treaty process does not record: what to run, or
    ``instead`` what to give."""
    return (
        f"the {treaty} treaty process records no Meeting {name!r}: record the Meetings held "
        f"with `treaty meetings import FILE` (e.g. examples/ccm/meetings.csv), or {instead}"
    )


async def check_dependents(store: EventStore, code: str, meetings: list[Meeting]) -> None:
    """:class:`DomainError` if correcting the recorded Meetings to ``meetings`` would break
    an extension decision or pending request recorded in a ratification process
    (:func:`domain.obligations.check_meeting_correction`); read from the event store."""
    profile = get_profile(code)
    known = (await reads.treaty_state(store, code)).meetings
    changed = [m for m in meetings if known.get(m.name.strip().upper()) not in (None, m)]
    if not changed:
        return
    prefix = ids.stream_id(ids.ratification_workflow_id(code, ""))
    decisions: list[DecisionAt] = []
    pending: list[tuple[str, Obligation]] = []
    for stream, _version in await store.list_streams(prefix=prefix):
        iso = stream[len(prefix) :]
        events = await store.read_stream(stream)
        for e in events:
            if e.event_type == "ExtensionDecided":
                day = e.occurred_on or date.fromisoformat(e.data["occurred_on"])
                decisions.append(
                    DecisionAt(
                        state=iso, key=e.data["key"], meeting=e.data["meeting"], decided_on=day
                    )
                )
        state = reads.fold_ratification(code, iso, events)
        pending += [(iso, o) for o in state.obligations.values() if o.request is not None]
    for m in changed:
        check_meeting_correction(profile, m, pending, decisions)
