"""What happened to a process, and what its state was on a date.

- :func:`timeline`: every event of a stream in order with what it changed in the folded
  state (``in_force_on: — → 2011-10-01``);
- :func:`state_as_of`: the state folded from the events whose business date is on or
  before a date (and, optionally, that were recorded before a time).

Both are generic over :data:`domain.processes.PROCESS_TYPES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from domain import processes
from eventstore.folding import (
    Change,
    UnreadableEventError,
    changes,
    decode,
    fold_stored,
    metadata_of,
    select,
)
from eventstore.store import StoredEvent


@dataclass(frozen=True)
class Step:
    """One event of a timeline and what it changed in the folded state (``error``: why the
    event could not be read; the state then stays as it was)."""

    event: StoredEvent
    changes: list[Change] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: version, event id and type, business date (None: unknown), recorded
        time (ISO 8601 UTC), actor, on whose behalf, source, data, changes and error."""
        e = self.event
        return {
            "stream_version": e.stream_version,
            "event_id": str(e.event_id),
            "event_type": e.event_type,
            "occurred_on": e.occurred_on.isoformat() if e.occurred_on else None,
            "recorded_at": e.recorded_at.isoformat(),
            "actor": metadata_of(e).get("actor"),
            "on_behalf_of": metadata_of(e).get("on_behalf_of"),
            "source": metadata_of(e).get("source"),
            "data": e.data,
            "changes": [
                {"field": c.field, "before": c.before, "after": c.after} for c in self.changes
            ],
            "error": self.error,
        }


def timeline(stream_id: str, events: Sequence[StoredEvent]) -> list[Step]:
    """Every event of ``stream_id`` in order with the change of the folded state it caused.

    An event that cannot be read is reported in its step (``error``) and left out of the
    fold, so the rest of the timeline is still shown.

    Raises:
        domain.processes.UnknownProcessError: ``stream_id`` names no process type.
    """
    kind, parts = processes.process_type(stream_id)
    state = kind.initial(parts)
    steps: list[Step] = []
    for stored in events:
        try:
            after = kind.evolve(state, decode(stored))
        except UnreadableEventError as err:
            steps.append(Step(stored, error=f"cannot be read: {err.reason}"))
            continue
        steps.append(Step(stored, changes(state, after)))
        state = after
    return steps


@dataclass(frozen=True)
class StateAsOf:
    """A process's state rebuilt as of ``as_of`` from ``folded`` of the stream's ``total``
    events; ``status`` is the state's one-word status on that date when its model has one
    (``status(as_of)``), else None."""

    stream_id: str
    as_of: date
    recorded_before: datetime | None
    folded: int
    total: int
    last_version: int | None
    state: BaseModel
    status: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream_id,
            "as_of": self.as_of.isoformat(),
            "recorded_before": self.recorded_before.isoformat() if self.recorded_before else None,
            "events_folded": self.folded,
            "events_in_stream": self.total,
            "last_version_folded": self.last_version,
            "status": self.status,
            "state": self.state.model_dump(mode="json"),
        }


def state_as_of(
    stream_id: str,
    events: Sequence[StoredEvent],
    as_of: date,
    recorded_before: datetime | None = None,
) -> StateAsOf:
    """The state of ``stream_id`` folded from ``events`` (its stream, in order) whose
    business date is on or before ``as_of`` or unknown, and — with ``recorded_before`` (a
    timezone-aware time) — that were recorded before it: "what did we know then".

    Raises:
        domain.processes.UnknownProcessError: ``stream_id`` names no process type.
        UnreadableEventError: an event that counts cannot be read.
    """
    kept = select(events, as_of=as_of, recorded_before=recorded_before)
    state = fold_stored(stream_id, events, as_of=as_of, recorded_before=recorded_before)
    status_of = getattr(state, "status", None)
    return StateAsOf(
        stream_id=stream_id,
        as_of=as_of,
        recorded_before=recorded_before,
        folded=len(kept),
        total=len(events),
        last_version=kept[-1].stream_version if kept else None,
        state=state,
        status=status_of(as_of) if callable(status_of) else None,
    )
