"""PostgreSQL domain event store: append-only versioned streams with a hash chain.

Public API: :class:`EventStore` (connect, append, read_stream, read_all, stream_version,
list_streams, close: the :class:`~eventstore.recorder.Recorder` interface, which
:class:`~eventstore.recorder.InMemoryRecorder` implements for unit tests), the records
:class:`NewEvent`, :class:`StoredEvent`,
:class:`AppendResult`, the errors :class:`ConcurrencyError` and
:class:`DuplicateEventError`, and :func:`migrate` to create/upgrade the schema.
"""

from eventstore.migrate import migrate
from eventstore.store import (
    AppendResult,
    ConcurrencyError,
    DuplicateEventError,
    EventStore,
    EventStoreError,
    NewEvent,
    StoredEvent,
)

__all__ = [
    "AppendResult",
    "ConcurrencyError",
    "DuplicateEventError",
    "EventStore",
    "EventStoreError",
    "NewEvent",
    "StoredEvent",
    "migrate",
]
