"""The event store behind a small recorder interface, and an in-memory recorder.

:class:`Recorder` is what the application and the audit read and write through: append
with an expected version, read a stream, list the streams (by prefix), read all events in
global order. :class:`eventstore.store.EventStore` (PostgreSQL) implements it as it is;
:class:`InMemoryRecorder` implements it in a dict, with the same semantics, for unit tests
of the application that need no server:

- versions 1, 2, 3... per stream; a batch at another expected version raises
  :class:`~eventstore.store.ConcurrencyError`;
- an append of event ids already stored at exactly those versions is an idempotent retry
  (``AppendResult(appended=False)``, nothing stored); an event id stored elsewhere raises
  :class:`~eventstore.store.DuplicateEventError`;
- the same hash chain, ``hash = sha256(prev_hash || canonical_json(record))``
  (:mod:`eventstore.hashing`), so :func:`audit.verify.check_chain` checks either;
- :class:`~eventstore.store.StoredEvent` rows whose ``data``/``metadata`` are what jsonb
  gives back (dates and UUIDs as ISO strings, object keys in jsonb's order: shorter first),
  ``recorded_at`` in UTC.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from eventstore.hashing import GENESIS_HASH, canonical_json
from eventstore.store import (
    AppendResult,
    ConcurrencyError,
    DuplicateEventError,
    NewEvent,
    OutboxMessage,
    StoredEvent,
    _check_storable,
    _validate_batch,
)


def _as_jsonb(value: Any) -> Any:
    """``value`` (decoded JSON) with its objects' keys in the order PostgreSQL's jsonb keeps
    them and gives them back: shorter keys first, then by their bytes."""
    if isinstance(value, dict):
        ordered = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: _as_jsonb(value[k]) for k in ordered}
    if isinstance(value, list):
        return [_as_jsonb(v) for v in value]
    return value


@runtime_checkable
class Recorder(Protocol):
    """Append-only, versioned event streams (the methods :class:`EventStore` has)."""

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: list[NewEvent],
        outbox: Sequence[OutboxMessage] = (),
    ) -> AppendResult:
        """Append ``events`` at versions ``expected_version + 1 ...``, all or nothing.

        Raises:
            ConcurrencyError: the stream is not at ``expected_version``.
            DuplicateEventError: an event id is stored in another stream or version.
        """
        ...

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[StoredEvent]:
        """The stream's events from ``from_version`` on, in version order."""
        ...

    async def read_all(self, from_position: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Every stream's events from ``from_position`` on, in global order."""
        ...

    async def stream_version(self, stream_id: str) -> int:
        """The stream's highest version; 0 when it has none."""
        ...

    async def list_streams(self, prefix: str | None = None) -> list[tuple[str, int]]:
        """``[(stream_id, version), ...]`` sorted by id, only ids starting with ``prefix``."""
        ...


class InMemoryRecorder:
    """A :class:`Recorder` in a Python dict: the PostgreSQL store's semantics without a
    server (unit tests). ``outbox`` holds the messages appended with events, by key.

    ``clock()`` gives a batch's ``recorded_at`` (aware, UTC; default: now)."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._streams: dict[str, list[StoredEvent]] = {}
        self._all: list[StoredEvent] = []
        self._ids: dict[object, tuple[str, int]] = {}
        self.outbox: dict[str, OutboxMessage] = {}
        self._clock = clock or (lambda: datetime.now(UTC))

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: list[NewEvent],
        outbox: Sequence[OutboxMessage] = (),
    ) -> AppendResult:
        """As :meth:`eventstore.store.EventStore.append` (same result and errors)."""
        _validate_batch(stream_id, expected_version, events)
        stream = self._streams.get(stream_id, [])
        current = len(stream)
        first, last = expected_version + 1, expected_version + len(events)
        if current != expected_version:
            if current >= last and [e.event_id for e in stream[first - 1 : last]] == [
                e.event_id for e in events
            ]:
                return AppendResult(stream_id, first, last, appended=False)
            raise ConcurrencyError(stream_id, expected_version, current)
        clashes = [e.event_id for e in events if e.event_id in self._ids]
        if clashes:
            raise DuplicateEventError(
                stream_id,
                clashes,
                "event id already stored in another stream or at another version",
            )
        rows: list[tuple[NewEvent, object, object]] = []
        for event in events:
            data_json, meta_json = canonical_json(event.data), canonical_json(event.metadata)
            _check_storable(data_json, event.event_type, "data")
            _check_storable(meta_json, event.event_type, "metadata")
            rows.append((event, _as_jsonb(json.loads(data_json)), _as_jsonb(json.loads(meta_json))))
        recorded_at = self._clock()
        prev_hash = stream[-1].hash if stream else GENESIS_HASH
        stored: list[StoredEvent] = []
        for version, (event, data, metadata) in enumerate(rows, start=first):
            row = StoredEvent(
                global_position=len(self._all) + len(stored) + 1,
                stream_id=stream_id,
                stream_version=version,
                event_id=event.event_id,
                event_type=event.event_type,
                data=data,  # type: ignore[arg-type]
                metadata=metadata,  # type: ignore[arg-type]
                occurred_on=event.occurred_on,
                recorded_at=recorded_at,
                prev_hash=prev_hash,
                hash=b"",
            )
            row = replace(row, hash=row.recomputed_hash())
            stored.append(row)
            prev_hash = row.hash
        self._streams[stream_id] = [*stream, *stored]
        self._all.extend(stored)
        for row in stored:
            self._ids[row.event_id] = (stream_id, row.stream_version)
        for message in outbox:
            self.outbox.setdefault(message.key, message)
        return AppendResult(stream_id, first, last, appended=True)

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[StoredEvent]:
        """The events of ``stream_id`` from ``from_version`` on (``[]`` if unknown)."""
        return [e for e in self._streams.get(stream_id, []) if e.stream_version >= from_version]

    async def read_all(self, from_position: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Events of all streams from ``from_position`` on, at most ``limit``.

        Raises:
            ValueError: ``limit`` is negative.
        """
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        found = [e for e in self._all if e.global_position >= from_position]
        return found if limit is None else found[:limit]

    async def stream_version(self, stream_id: str) -> int:
        """The stream's highest version; 0 when it has no events."""
        return len(self._streams.get(stream_id, []))

    async def list_streams(self, prefix: str | None = None) -> list[tuple[str, int]]:
        """``[(stream_id, version), ...]`` sorted by id; ``prefix`` taken literally."""
        return sorted(
            (s, len(events))
            for s, events in self._streams.items()
            if events and (prefix is None or s.startswith(prefix))
        )

    async def close(self) -> None:
        """Nothing to release (the PostgreSQL store's ``close``)."""

    def tamper(self, stream_id: str, version: int, **changes: object) -> None:
        """Alter a stored event in place (tests of the chain check: what an UPDATE that
        bypassed the trigger would do)."""
        events = self._streams[stream_id]
        old = events[version - 1]
        new = replace(old, **changes)  # type: ignore[arg-type]
        events[version - 1] = new
        self._all[self._all.index(old)] = new
