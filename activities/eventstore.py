"""The one write path of the domain record: append events to the PostgreSQL store.

Workflows call :meth:`EventStoreActivities.append_events` with the events they decided,
the stream version they expect and deterministic event ids; a retried activity (worker
crash after the commit) appends nothing twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from eventstore.store import (
    ConcurrencyError,
    DuplicateEventError,
    EventStore,
    NewEvent,
    OutboxMessage,
    UnstorableEventError,
)


class EventRecord(BaseModel):
    """One event to append: its deterministic id, type, JSON payload and business date."""

    event_id: UUID
    event_type: str
    data: dict[str, Any]
    occurred_on: date | None


class OutboxRecord(BaseModel):
    """A message queued with the events (:class:`eventstore.store.OutboxMessage`)."""

    key: str
    event_id: UUID
    treaty: str
    state: str
    template: str
    params: dict[str, Any]


class AppendRequest(BaseModel):
    """Append ``events`` to ``stream_id`` at ``expected_version`` + 1 ..., with ``metadata``;
    ``outbox``: messages written in the same transaction (empty: none)."""

    stream_id: str
    expected_version: int
    events: list[EventRecord]
    metadata: dict[str, Any]
    outbox: list[OutboxRecord] = []


class AppendResponse(BaseModel):
    """The stream's version after the append; ``appended`` False on an idempotent retry.

    ``request``: what was appended, when the append ran as a local activity: the history
    records a local activity's result (in its marker) but not its input, so the result
    carries it for ``treaty audit verify`` to compare with the store, as it compares an
    activity's input."""

    last_version: int
    appended: bool
    request: AppendRequest | None = None


class EventStoreActivities:
    """Activities bound to one :class:`~eventstore.store.EventStore` (one pool per worker)."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    @activity.defn(name="append_events")
    async def append_events(self, request: AppendRequest) -> AppendResponse:
        """Append the events; a version or event-id conflict, or text the store cannot keep
        (U+0000), is a non-retryable failure."""
        events = [
            NewEvent(
                event_id=e.event_id,
                event_type=e.event_type,
                data=e.data,
                metadata=request.metadata,
                occurred_on=e.occurred_on,
            )
            for e in request.events
        ]
        try:
            result = await self._store.append(
                request.stream_id,
                request.expected_version,
                events,
                outbox=[OutboxMessage(**m.model_dump()) for m in request.outbox],
            )
        except (ConcurrencyError, DuplicateEventError) as err:
            raise ApplicationError(str(err), type="ConcurrencyError", non_retryable=True) from err
        except UnstorableEventError as err:  # the same input fails every time: no retry
            raise ApplicationError(str(err), type="UnstorableEvent", non_retryable=True) from err
        activity.logger.info(
            "appended %s event(s) to %s (appended=%s)",
            len(events),
            request.stream_id,
            result.appended,
        )
        return AppendResponse(
            last_version=result.last_version,
            appended=result.appended,
            request=request if activity.info().is_local else None,
        )
