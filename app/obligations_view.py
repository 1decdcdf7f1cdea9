"""Read model of the obligations of the States Parties (``treaty obligations``, ``treaty
deadlines``): rows folded from the event store with the domain's own fold, so a count or a
status "as of" a date is the one ``treaty audit state --as-of`` gives.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app import reads
from app.errors import Refused
from domain import ratification as r
from domain.obligations import Obligation
from eventstore.store import EventStore


def obligation_row(
    treaty: str, s: r.RatificationState, o: Obligation, as_of: date
) -> dict[str, Any]:
    """One obligation as a JSON-ready dict: State, key, rule, deadline in force, status on
    ``as_of``, every deadline it had, how it was met."""
    return {
        "treaty": treaty,
        "state": s.state,
        "name": reads.state_name(s.state),
        "obligation": o.key,
        "kind": o.kind,
        "article": o.article,
        "opened_on": o.opened_on,
        "due_on": o.due_on,
        "status": o.status(as_of),
        "marked": o.marked,
        "historical": o.deadlines[-1].historical,
        "covers": o.covers,
        "deadlines": [d.model_dump(mode="json") for d in o.deadlines],
        "extension_request": o.request.model_dump(mode="json") if o.request else None,
        "met_on": o.met_on,
        "channel": o.channel,
        "ended_on": o.ended_on,
    }


async def states(
    store: EventStore, treaty: str, iso: str | None, as_of: date | None = None
) -> list[r.RatificationState]:
    """Every ratification process of ``treaty`` (or only ``iso``'s), folded from the store;
    with ``as_of``, as it stood on that date: the same fold as ``treaty audit state
    --as-of`` (:func:`app.reads.ratifications`, :func:`domain.processes.fold`), so a fact
    dated later (an extension granted, a report received) does not count yet. Raises
    :class:`Refused` when ``iso`` is given and nothing is recorded for it."""
    found = [s for s in await reads.ratifications(store, treaty, as_of) if iso in (None, s.state)]
    if iso and not found:
        raise Refused(f"nothing recorded for {iso} under the {treaty}")
    return found


def obligation_rows(
    states: list[r.RatificationState], treaty: str, status: str, as_of: date
) -> list[dict[str, Any]]:
    """The obligations opened by ``as_of`` whose status on it is ``status`` (``open``,
    which includes ``overdue``, ``overdue``, ``met``, ``ended`` or ``all``), sorted by due
    date then State."""
    rows = [
        obligation_row(treaty, s, o, as_of)
        for s in states
        for o in s.obligations.values()
        if o.opened_on is None or o.opened_on <= as_of
    ]

    def wanted(row: dict[str, Any]) -> bool:
        if status == "all":
            return True
        if status == "open":
            return row["status"] in ("open", "overdue")
        return bool(row["status"] == status)

    return sorted((x for x in rows if wanted(x)), key=lambda x: (x["due_on"], x["state"]))


def deadline_rows(
    states: list[r.RatificationState],
    treaty: str,
    start: date | None,
    end: date | None,
    as_of: date,
) -> list[dict[str, Any]]:
    """The open obligations (not met, not ended) due between ``start`` and ``end``
    (inclusive; None: unbounded), sorted by due date then State."""
    rows = [
        obligation_row(treaty, s, o, as_of)
        for s in states
        for o in s.obligations.values()
        if o.is_open and (start is None or o.due_on >= start) and (end is None or o.due_on <= end)
    ]
    return sorted(rows, key=lambda x: (x["due_on"], x["state"], x["obligation"]))
