"""Folding stored events into a process's state, as of a date, and saying what each event
changed. Generic over :data:`domain.processes.PROCESS_TYPES`.

The one fold is :func:`domain.processes.fold`; this module feeds it stored events
(:class:`eventstore.store.StoredEvent`), with two cut-offs an auditor asks for:

- ``as_of`` (a business date): only the facts that happened on or before it (a fact
  whose date is unknown counts);
- ``recorded_before`` (a time): only the events recorded before it — what the record
  said then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from domain import processes
from domain.events import DomainEvent, event_from_record
from eventstore.recorder import Recorder
from eventstore.store import StoredEvent

#: How "no value" is shown in a change (``in_force_on: — → 2011-10-01``).
NONE = "—"


class UnreadableEventError(ValueError):
    """A stored event that is not a known domain event (the application never writes one:
    the record was changed by other means). ``event``: the stored event."""

    def __init__(self, event: StoredEvent, reason: str) -> None:
        self.event = event
        self.reason = reason
        super().__init__(
            f"event {event.event_id} at version {event.stream_version} of {event.stream_id}"
            f" ({event.event_type}) cannot be read: {reason}"
        )


def decode(stored: StoredEvent) -> DomainEvent:
    """The domain event of a stored event.

    Raises:
        UnreadableEventError: the stored type or data is not a known event.
    """
    if not isinstance(stored.data, dict):
        raise UnreadableEventError(stored, "its data is not a JSON object")
    if not isinstance(stored.metadata, dict):
        raise UnreadableEventError(stored, "its metadata is not a JSON object")
    try:
        return event_from_record(stored.event_type, stored.data)
    except ValidationError as err:
        if any(e["type"] == "union_tag_invalid" for e in err.errors()):
            raise UnreadableEventError(stored, "unknown event type") from None
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'data'}: {e['msg']}" for e in err.errors()
        )
        raise UnreadableEventError(stored, problems) from None


def metadata_of(stored: StoredEvent) -> dict[str, Any]:
    """The event's metadata, or ``{}`` if the stored value is not a JSON object (an altered
    record: :func:`decode` names it)."""
    return stored.metadata if isinstance(stored.metadata, dict) else {}


def counts(stored: StoredEvent, as_of: date | None, recorded_before: datetime | None) -> bool:
    """Whether ``stored`` is part of the record as of business date ``as_of`` (its date is
    on or before it, or unknown) as it stood before ``recorded_before``."""
    if recorded_before is not None and stored.recorded_at >= recorded_before:
        return False
    return as_of is None or stored.occurred_on is None or stored.occurred_on <= as_of


def select(
    events: Sequence[StoredEvent],
    *,
    as_of: date | None = None,
    recorded_before: datetime | None = None,
) -> list[StoredEvent]:
    """The events of ``events`` that :func:`counts`, in their order."""
    return [e for e in events if counts(e, as_of, recorded_before)]


def fold_stored(
    stream_id: str,
    events: Sequence[StoredEvent],
    *,
    as_of: date | None = None,
    recorded_before: datetime | None = None,
) -> BaseModel:
    """The state of process ``stream_id`` (stream or workflow id) folded by
    :func:`domain.processes.fold` from its stored events (in stream order), with the
    cut-offs above.

    Raises:
        domain.processes.UnknownProcessError: ``stream_id`` names no process type.
        UnreadableEventError: an event cannot be read (see :func:`decode`).
    """
    kept = [e for e in events if counts(e, None, recorded_before)]
    return processes.fold(stream_id, ((decode(e), e.occurred_on) for e in kept), as_of=as_of)


async def fold_streams(
    store: Recorder, prefix: str, *, as_of: date | None = None
) -> list[BaseModel]:
    """The state of every process whose stream id starts with ``prefix``
    (``ratification-CCM-``), in the order the store lists the streams, each folded by
    :func:`fold_stored` (``as_of`` as there)."""
    return [
        fold_stored(stream, await store.read_stream(stream), as_of=as_of)
        for stream, _version in await store.list_streams(prefix=prefix)
    ]


@dataclass(frozen=True)
class Change:
    """One field of a state that an event changed: ``field`` (``deposits.BGR`` for a key of
    a mapping), ``before`` and ``after`` as JSON values (None: no value)."""

    field: str
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.field}: {show(self.before)} → {show(self.after)}"


def show(value: Any) -> str:
    """A JSON value for people: ``—`` for none, ``true``/``false``, lists comma-separated."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


def changes(
    before: BaseModel, after: BaseModel, *, ignore: Sequence[str] = ("version",)
) -> list[Change]:
    """The fields that differ from ``before`` to ``after`` (two states of the same model),
    in the model's field order; a mapping field is compared key by key. ``ignore``: fields
    left out (the version, which every event changes)."""
    old = before.model_dump(mode="json")
    new = after.model_dump(mode="json")
    found: list[Change] = []
    for name in new:
        if name in ignore or old.get(name) == new[name]:
            continue
        a, b = old.get(name), new[name]
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key):
                    found.append(Change(f"{name}.{key}", a.get(key), b.get(key)))
        else:
            found.append(Change(name, a, b))
    return found
