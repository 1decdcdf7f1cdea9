"""PostgreSQL domain event store: append-only, versioned streams with a hash chain.

One stream per process instance (``"ratification-CCM-BGR"``), versions 1, 2, 3, ...
:meth:`EventStore.append` is the one write path:

- optimistic concurrency: the caller passes the version it expects the stream to be at;
  a mismatch raises :class:`ConcurrencyError`, never overwrites;
- idempotency: re-appending a batch whose event ids are already stored at exactly the
  expected versions (an activity retried after a crash) stores nothing and returns
  ``AppendResult(appended=False)``;
- tamper evidence: ``hash = sha256(prev_hash || canonical_json(record))`` per stream,
  recomputed by :func:`audit.verify.check_chain` (the one chain check).

:class:`EventStore` is the PostgreSQL :class:`eventstore.recorder.Recorder`.

The pool's connections run as the role ``treatyflow_app`` (INSERT/SELECT only) when the
connecting user may ``SET ROLE`` to it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from pydantic_core import from_json

from eventstore.hashing import (
    GENESIS_HASH,
    RecordEncoder,
    canonical_json,
    canonical_json_plain,
    chain_hash,
    chain_hash_of_json,
    event_record,
)

STREAM_LOCK_NAMESPACE = 0x7466  # "tf": first key of pg_advisory_xact_lock(int, int)
"""Namespace of the per-stream transaction advisory lock ``(namespace, hashtext(stream_id))``."""

_VERSION_CONSTRAINT = "events_stream_version_key"
_EVENT_ID_CONSTRAINT = "events_event_id_key"

_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class NewEvent:
    """An event to append.

    ``event_id`` must be deterministic (derived from workflow id + event sequence) so a
    retried append is recognised; ``data``/``metadata`` are JSON objects (dates, datetimes
    and UUIDs inside are stored as ISO/str strings); ``occurred_on`` is the business date.
    """

    event_id: UUID
    event_type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    occurred_on: date | None


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: ``data``/``metadata`` as decoded from jsonb, ``recorded_at`` in
    UTC, ``prev_hash``/``hash`` 32 bytes each. ``event_id`` is a :class:`uuid.UUID` (as
    read: asyncpg's subclass of it, equal to and hashing as the standard one)."""

    global_position: int
    stream_id: str
    stream_version: int
    event_id: UUID
    event_type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    occurred_on: date | None
    recorded_at: datetime
    prev_hash: bytes
    hash: bytes

    def recomputed_hash(self) -> bytes:
        """``sha256(prev_hash || canonical_json(record))`` of this event as stored: equal to
        :attr:`hash` unless the row was altered after it was recorded."""
        return chain_hash(
            self.prev_hash,
            event_record(
                stream_id=self.stream_id,
                stream_version=self.stream_version,
                event_id=self.event_id,
                event_type=self.event_type,
                data=self.data,
                metadata=self.metadata,
                occurred_on=self.occurred_on,
                recorded_at=self.recorded_at,
            ),
        )


_COLUMNS = ", ".join(f.name for f in fields(StoredEvent))
"""The columns of ``events`` that make a :class:`StoredEvent`, in its fields' order (so a
row selected with them is the event's fields, see :func:`_to_stored`)."""


@dataclass(frozen=True)
class OutboxMessage:
    """A message to deliver, written in the same transaction as the events appended with
    it (migration ``004_outbox``).

    ``key``: the idempotency key (unique; a retried append writes it once);
    ``event_id``: the event that caused it; ``treaty`` / ``state``: whose focal points
    receive it; ``template``: the message template's name (``reminder_overdue``);
    ``params``: the values the template fills in (JSON object).
    """

    key: str
    event_id: UUID
    treaty: str
    state: str
    template: str
    params: dict[str, Any]


@dataclass
class AppendResult:
    """Outcome of :meth:`EventStore.append`: the batch occupies versions
    ``first_version..last_version``; ``appended`` is False on an idempotent retry."""

    stream_id: str
    first_version: int
    last_version: int
    appended: bool


class EventStoreError(Exception):
    """Base class of the event store's own errors."""


class ConcurrencyError(EventStoreError):
    """The stream is not at the version the caller expected: another writer appended first.

    Attributes:
        stream_id: the stream.
        expected_version: the version the caller passed.
        actual_version: the stream's version when the append was refused; ``None`` only
            when the conflict was caught by the unique constraint (a writer that bypassed
            the store's stream lock), the exact version then being unknown.
    """

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None) -> None:
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        if actual_version is None:
            message = (
                f"stream {stream_id} already has version {expected_version + 1}, expected it"
                f" to be at {expected_version}: another writer appended first; reload and retry"
            )
        elif actual_version > expected_version:
            message = (
                f"stream {stream_id} is at version {actual_version}, expected {expected_version}:"
                " another writer appended first; reload and retry"
            )
        else:
            message = (
                f"stream {stream_id} is at version {actual_version}, expected {expected_version}:"
                " the caller is ahead of the stored stream; reload and retry"
            )
        super().__init__(message)


class DuplicateEventError(EventStoreError):
    """An event id of the batch is already stored elsewhere (another stream or version).

    Event ids are unique across the store; reusing one for a different fact is a bug in
    the id derivation, not a race, so retrying does not help.

    Attributes:
        stream_id: the stream appended to.
        event_ids: the batch's event id(s) reported as already stored.
    """

    def __init__(self, stream_id: str, event_ids: Sequence[UUID], detail: str) -> None:
        self.stream_id = stream_id
        self.event_ids = list(event_ids)
        super().__init__(f"cannot append to stream {stream_id}: {detail}")


class UnstorableEventError(EventStoreError, ValueError):
    """An event's data or metadata holds text PostgreSQL cannot keep in ``jsonb``: the
    character U+0000 (NUL) in a string. Retrying cannot help; the input must change.

    Attributes:
        event_type: the event's type; ``part``: ``"data"`` or ``"metadata"``.
    """

    def __init__(self, event_type: str, part: str) -> None:
        self.event_type = event_type
        self.part = part
        super().__init__(
            f"the {part} of the {event_type} event contains the character U+0000 (NUL), "
            "which the event store cannot keep (PostgreSQL jsonb refuses it): remove it from "
            "the input (a CSV or YAML file, a JSON Lines scenario) and try again"
        )


#: U+0000 as canonical JSON writes it (``\u0000``, both encoders), not preceded by an odd
#: number of backslashes (``\\u0000`` is the six characters ``\u0000`` in the text).
_NUL_IN_JSON = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _check_storable(encoded: bytes, event_type: str, part: str) -> None:
    """Raise :class:`UnstorableEventError` if ``encoded`` (canonical JSON) holds U+0000."""
    if b"\\u0000" in encoded and _NUL_IN_JSON.search(encoded):
        raise UnstorableEventError(event_type, part)


def _encode_json(value: Any) -> str:
    return canonical_json(value).decode("utf-8")


def _decode_json(text: str) -> Any:
    """The value of the JSON text ``text`` (as PostgreSQL writes a json/jsonb value), equal
    to ``json.loads(text)``: parsed by pydantic-core's parser (several times faster on the
    small objects events hold; the same numbers, big integers and strings), and by
    ``json.loads`` where that parser refuses what ``json.loads`` reads (nesting deeper than
    its limit of 200, a lone surrogate escape).

    Raises:
        ValueError: ``text`` is not JSON.
    """
    try:
        return from_json(text, cache_strings=False)
    except ValueError:
        return json.loads(text)


_JSONB_STABLE_SCALARS = (str, int, bool, type(None), date, UUID)
_STABLE_TYPES = frozenset((str, int, bool, type(None), date, datetime, UUID))


def _jsonb_stable(value: Any) -> bool:
    """True when ``value`` comes back from ``jsonb`` exactly as ``json.loads`` of its
    canonical JSON: objects, arrays, strings, integers, booleans and null (dates and UUIDs
    are written as strings). A float may not (``1e+20`` comes back as an integer), so a
    payload with one is normalised by the database before it is hashed."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind in _STABLE_TYPES:
            continue
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif not isinstance(item, _JSONB_STABLE_SCALARS):
            return False
    return True


def _sql_literal(text: str) -> str:
    """``text`` as an SQL string literal (``E'...'``: the same whatever
    ``standard_conforming_strings`` says)."""
    if "\x00" in text:
        raise ValueError("a stream id must not contain NUL characters")
    return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _to_stored(row: asyncpg.Record) -> StoredEvent:
    """The event of a row selected with :data:`_COLUMNS` (its values are the fields in
    order: asyncpg already gives ``int``, ``str``, a ``uuid.UUID``, the decoded JSON, ``date``,
    an aware ``datetime`` and ``bytes``)."""
    return StoredEvent(*row)


def _validate_batch(stream_id: str, expected_version: int, events: Sequence[NewEvent]) -> None:
    if not isinstance(stream_id, str) or not stream_id:
        raise ValueError("stream_id must be a non-empty string")
    if expected_version < 0:
        raise ValueError(f"expected_version must be >= 0, got {expected_version}")
    if not events:
        raise ValueError("events must not be empty")
    seen: set[Any] = set()
    for event in events:
        if not isinstance(event.data, dict) or not isinstance(event.metadata, dict):
            raise TypeError(f"event {event.event_id}: data and metadata must be dicts")
        if not event.event_type:
            raise ValueError(f"event {event.event_id}: event_type must not be empty")
        event_id = event.event_id
        key = event_id.int if type(event_id) is UUID else event_id  # hashed in C
        if key in seen:
            raise ValueError(f"event id {event.event_id} appears twice in the batch")
        seen.add(key)


async def _write_outbox(
    conn: asyncpg.Connection, stream_id: str, outbox: Sequence[OutboxMessage]
) -> None:
    """Write ``outbox`` to the ``outbox`` table in the caller's transaction (a key already
    there is left as it is)."""
    await conn.executemany(
        "INSERT INTO outbox (key, event_id, stream_id, treaty, state, template,"
        " params) VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb)"
        " ON CONFLICT (key) DO NOTHING",
        [
            (m.key, m.event_id, stream_id, m.treaty, m.state, m.template, _encode_json(m.params))
            for m in outbox
        ],
    )


_INSERT_COLUMNS = (
    "INSERT INTO events (stream_id, stream_version, event_id, event_type, data,"
    " metadata, occurred_on, recorded_at, prev_hash, hash)"
)


def _where_new_stream_or(flag: str) -> str:
    """The condition of an INSERT: parameter ``flag`` true (after a head read or
    remembered), or else into a new stream only, and only when no writer holds the
    stream's lock: the statement then holds it itself, until its own commit (a writer
    holding it, or a stream with events: nothing is inserted, and the locked path waits
    for the lock and reads the head). A scalar subquery: evaluated once for the
    statement, not once per row."""
    return (
        f" WHERE (SELECT {flag}::bool OR"
        f" (pg_try_advisory_xact_lock({STREAM_LOCK_NAMESPACE}, hashtext($1))"
        " AND NOT EXISTS (SELECT 1 FROM events WHERE stream_id = $1)))"
    )


# A batch's columns as text arrays (asyncpg encodes those without looking up their types
# on each new connection, which it does for uuid[], date[], int[] and bytea[]), the
# versions counted from $3, and the hash chain as one bytea ($9): the first event's
# prev_hash, then each event's hash, 32 bytes each, so that event n (from 1) has bytes
# (n-1)*32+1 .. n*32 as prev_hash and the next 32 as its hash.
_BATCH_ROWS = (
    " SELECT $1, $3::int + u.n::int - 1, u.id::uuid, u.t, u.d::jsonb, u.m::jsonb,"
    " u.o::date, $2, substring($9::bytea from u.n::int * 32 - 31 for 32),"
    " substring($9::bytea from u.n::int * 32 + 1 for 32)"
    " FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[])"
    " WITH ORDINALITY AS u(id, t, d, m, o, n)"
)

#: The INSERT of a batch (arguments: :meth:`_Rows.insert`, and $10): one statement for
#: both cases of $10, so that a connection prepares one.
_INSERT = _INSERT_COLUMNS + _BATCH_ROWS + _where_new_stream_or("$10") + " ORDER BY u.n"
#: The INSERT of one event after a known head (scalars, the same order, no $11; a
#: VALUES row costs the server less than a SELECT with a condition) ...
_INSERT_ONE = (
    _INSERT_COLUMNS + " VALUES ($1, $3, $4, $5, $6::text::jsonb, $7::text::jsonb, $8, $2, $9, $10)"
)
#: ... and as the first event of a new stream ($11 false).
_INSERT_ONE_NEW = (
    _INSERT_COLUMNS + " SELECT $1::text, $3::int, $4::uuid, $5::text, $6::text::jsonb,"
    " $7::text::jsonb, $8::date, $2::timestamptz, $9::bytea, $10::bytea"
    + _where_new_stream_or("$11")
)


#: Streams whose head (version, hash) a store remembers from its own appends.
HEAD_CACHE_SIZE = 10_000


@dataclass
class _Encoded:
    """The canonical JSON of each event's data and metadata; ``stable``: all of them come
    back from jsonb as they are (:func:`_jsonb_stable`)."""

    datas: list[bytes]
    metas: list[bytes]
    stable: bool


def _encode(events: Sequence[NewEvent]) -> _Encoded:
    """Each payload encoded once (the same data or metadata object as the previous
    event's, as a batch's shared metadata, once for all)."""
    datas: list[bytes] = []
    metas: list[bytes] = []
    stable = True
    last_data: Any = None
    last_meta: Any = None
    data_json = meta_json = b""
    for event in events:
        data, meta = event.data, event.metadata
        if data is not last_data:
            data_json, plain = canonical_json_plain(data)
            _check_storable(data_json, event.event_type, "data")
            # a plain value has no float; another is looked at more closely
            stable = stable and (plain or _jsonb_stable(data))
            last_data = data
        if meta is not last_meta:
            meta_json, plain = canonical_json_plain(meta)
            _check_storable(meta_json, event.event_type, "metadata")
            stable = stable and (plain or _jsonb_stable(meta))
            last_meta = meta
        datas.append(data_json)
        metas.append(meta_json)
    return _Encoded(datas, metas, stable)


@dataclass
class _Rows:
    """A batch's rows, chained after its first ``prev_hash``; ``event_ids`` are the ids'
    canonical text (for the record, and asyncpg takes it for a uuid as it is)."""

    stream_id: str
    recorded_at: datetime
    first_version: int
    last_version: int
    events: Sequence[NewEvent]
    event_ids: list[str]
    datas: list[bytes]
    metas: list[bytes]
    prev_hashes: list[bytes]
    hashes: list[bytes]

    @property
    def last_hash(self) -> bytes:
        return self.hashes[-1]

    def insert(self, head_known: bool) -> tuple[str, tuple[Any, ...]]:
        """The INSERT and its arguments: one event's columns (:data:`_INSERT_ONE`,
        :data:`_INSERT_ONE_NEW`) or, for several, arrays (:data:`_INSERT`);
        ``head_known``: False for the first events of a new stream
        (:func:`_where_new_stream_or`)."""
        events = self.events
        if len(events) == 1:
            (event,) = events
            row = (
                self.stream_id,
                self.recorded_at,
                self.first_version,
                self.event_ids[0],
                event.event_type,
                self.datas[0].decode("utf-8"),
                self.metas[0].decode("utf-8"),
                event.occurred_on,
                self.prev_hashes[0],
                self.hashes[0],
            )
            return (_INSERT_ONE, row) if head_known else (_INSERT_ONE_NEW, (*row, False))
        return _INSERT, (
            self.stream_id,
            self.recorded_at,
            self.first_version,
            self.event_ids,
            [e.event_type for e in events],
            [d.decode("utf-8") for d in self.datas],
            [m.decode("utf-8") for m in self.metas],
            [None if e.occurred_on is None else e.occurred_on.isoformat() for e in events],
            b"".join((self.prev_hashes[0], *self.hashes)),
            head_known,
        )


def _chain(
    stream_id: str,
    expected_version: int,
    prev_hash: bytes,
    events: Sequence[NewEvent],
    encoded: _Encoded,
) -> _Rows:
    """Versions, ``recorded_at`` (now, UTC, one for the batch) and the hash chain of
    ``events`` after ``prev_hash``: ``hash = sha256(prev_hash || canonical_json(record))``."""
    recorded_at = datetime.now(UTC)
    encoder = RecordEncoder(stream_id, recorded_at)
    first = expected_version + 1
    event_ids: list[str] = []
    prev_hashes: list[bytes] = []
    hashes: list[bytes] = []
    for version, event, data_json, meta_json in zip(
        range(first, first + len(events)), events, encoded.datas, encoded.metas, strict=True
    ):
        event_id = str(event.event_id)
        record = encoder.record_json(
            version, event_id, event.event_type, data_json, meta_json, event.occurred_on
        )
        digest = chain_hash_of_json(prev_hash, record)
        event_ids.append(event_id)
        prev_hashes.append(prev_hash)
        hashes.append(digest)
        prev_hash = digest
    return _Rows(
        stream_id,
        recorded_at,
        first,
        first + len(events) - 1,
        events,
        event_ids,
        encoded.datas,
        encoded.metas,
        prev_hashes,
        hashes,
    )


class EventStore:
    """Async access to the ``events`` table through an asyncpg pool.

    Create with :meth:`connect`, release with :meth:`close`. The schema must exist
    (``eventstore.migrate.migrate``).
    """

    def __init__(self, app_role: str | None) -> None:
        """Use :meth:`connect`; this only prepares the instance."""
        self._app_role = app_role
        self._pool: asyncpg.Pool | None = None
        self._heads: dict[str, tuple[int, bytes]] = {}
        self._role_warned = False

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        app_role: str | None = "treatyflow_app",
    ) -> EventStore:
        """Open a pool to ``dsn``.

        Each new connection decodes json/jsonb to Python and runs ``SET ROLE app_role``
        when the role exists and the user may use it; otherwise a structlog warning is
        logged (once per store) and the connection keeps the login user's privileges.
        ``app_role=None`` skips the role switch.

        Raises:
            OSError, asyncpg.PostgresError: the server cannot be reached or refuses the
                login.
        """
        store = cls(app_role)
        store._pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, init=store._init_connection
        )
        return store

    async def close(self) -> None:
        """Close the pool (waits for connections in use to be released)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def pool(self) -> asyncpg.Pool:
        """The pool (json codecs set, the application role), for the tables beside
        ``events`` (outbox, contacts); :class:`RuntimeError` once closed."""
        return self._p

    @property
    def _p(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("EventStore is closed (or was not created with connect())")
        return self._pool

    def _warn_role(self, message: str, **fields: Any) -> None:
        if not self._role_warned:
            self._role_warned = True
            structlog.get_logger("eventstore").warning(message, app_role=self._app_role, **fields)

    async def _init_connection(self, conn: asyncpg.Connection) -> None:
        for typename in ("json", "jsonb"):
            await conn.set_type_codec(
                typename, encoder=_encode_json, decoder=_decode_json, schema="pg_catalog"
            )
        if self._app_role is None:
            return
        exists = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", self._app_role
        )
        if not exists:
            self._warn_role(
                "application role does not exist; connections keep the login user's privileges"
            )
            return
        try:
            # set_config('role', ...) is SET ROLE with a bound parameter (no quoting issues).
            await conn.execute("SELECT set_config('role', $1, false)", self._app_role)
        except asyncpg.InsufficientPrivilegeError as err:
            self._warn_role(
                "cannot SET ROLE to the application role; connections keep the login user's"
                " privileges",
                error=str(err),
            )

    # ------------------------------------------------------------------ writes

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: list[NewEvent],
        outbox: Sequence[OutboxMessage] = (),
    ) -> AppendResult:
        """Append ``events`` to ``stream_id`` at versions ``expected_version + 1 ...``.

        All or nothing, in one transaction; ``recorded_at`` is one ``now()`` (UTC) for
        the batch. ``expected_version`` is 0 for a new stream.

        Returns:
            ``AppendResult(stream_id, first_version=expected_version + 1,
            last_version=expected_version + len(events), appended=True)``; ``appended``
            is False (and nothing is stored) when exactly these event ids are already
            stored at exactly these versions (an idempotent retry).

        Raises:
            ConcurrencyError: the stream is not at ``expected_version`` (and this is not
                an idempotent retry).
            DuplicateEventError: an event id is already stored in another stream or at
                another version.
            UnstorableEventError: data or metadata holds U+0000 in a string (nothing is
                stored; a ValueError too).
            ValueError, TypeError: empty batch, negative ``expected_version``, empty
                ``stream_id``/``event_type``, an event id twice in the batch, data or
                metadata not a JSON object (or containing NaN/unsupported types).

        ``outbox``: messages written to the ``outbox`` table in the same transaction (all
        or nothing with the events); on an idempotent retry they are not written again.
        """
        _validate_batch(stream_id, expected_version, events)
        head = self._heads.get(stream_id)
        new_stream = head is None and expected_version == 0
        if new_stream or (head is not None and head[0] == expected_version):
            if not outbox:
                appended = await self._append_at_head(
                    stream_id, expected_version, events, head[1] if head else None
                )
                if appended is not None:
                    return appended
        lock = (
            f"BEGIN; SELECT pg_advisory_xact_lock({STREAM_LOCK_NAMESPACE},"
            f" hashtext({_sql_literal(stream_id)}))"
        )
        async with self._p.acquire() as conn:
            # BEGIN and the stream lock in one round trip (a simple query, hence the
            # literal); the rest as _append does it.
            await conn.execute(lock)
            try:
                result, last_hash = await self._append_locked(
                    conn, stream_id, expected_version, events
                )
                if outbox and result.appended:
                    await _write_outbox(conn, stream_id, outbox)
            except BaseException:
                if not conn.is_closed() and conn.is_in_transaction():
                    await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")
        if result.appended:
            self._remember(stream_id, result.last_version, last_hash)
        return result

    async def _append_at_head(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        head_hash: bytes | None,
    ) -> AppendResult | None:
        """The append as one ``INSERT`` in autocommit, after the head this store committed
        itself (``head_hash``), or, with ``head_hash`` None, as the first events of a
        stream that has none (``expected_version`` 0; the ``INSERT`` then takes the
        stream's lock and stores nothing if the stream has an event or another writer
        holds the lock). None when nothing was stored: the head is stale
        (another writer came first, a retried activity), the stream is not new, an event
        id is taken, or a payload must first be normalised by the database; the locked
        path then says exactly what happened (and raises the errors of a payload that
        cannot be stored, in the order it checks them)."""
        try:
            encoded = _encode(events)
        except (TypeError, ValueError):
            return None
        if not encoded.stable:
            return None
        prev_hash = GENESIS_HASH if head_hash is None else head_hash
        rows = _chain(stream_id, expected_version, prev_hash, events, encoded)
        sql, args = rows.insert(head_known=head_hash is not None)
        try:
            status = await self._p.execute(sql, *args)
        except (asyncpg.UniqueViolationError, asyncpg.DataError):
            return None
        if head_hash is None and status != f"INSERT 0 {len(events)}":
            return None  # the stream has events, or a writer holds its lock
        self._remember(stream_id, rows.last_version, rows.last_hash)
        return AppendResult(stream_id, rows.first_version, rows.last_version, True)

    def _remember(self, stream_id: str, version: int, last_hash: bytes) -> None:
        """Note the head this store committed for ``stream_id`` (at most
        :data:`HEAD_CACHE_SIZE` streams, the least recently appended forgotten)."""
        heads = self._heads
        heads.pop(stream_id, None)
        heads[stream_id] = (version, last_hash)
        if len(heads) > HEAD_CACHE_SIZE:
            del heads[next(iter(heads))]

    async def _append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
    ) -> AppendResult:
        """:meth:`append` inside the caller's open transaction on ``conn`` (so e.g. an
        outbox row can be written atomically with the events). Same result and errors.

        ``conn`` must come from this store's pool (json codecs) and be in a transaction;
        on error the caller must roll back.
        """
        _validate_batch(stream_id, expected_version, events)
        if not conn.is_in_transaction():
            raise RuntimeError("_append needs an open transaction on conn")
        # Serialise writers of this stream (also the very first append, where there is no
        # row to lock).
        await conn.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))", STREAM_LOCK_NAMESPACE, stream_id
        )
        result, _ = await self._append_locked(conn, stream_id, expected_version, events)
        return result

    async def _append_locked(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
    ) -> tuple[AppendResult, bytes]:
        """The append, in a transaction on ``conn`` that holds the stream's lock; the
        result and the hash of the last event (the stream's new head). The SELECTs below
        are statements of their own, run after the lock was taken, so that under READ
        COMMITTED they see what the previous lock holder committed."""
        count = len(events)
        first, last = expected_version + 1, expected_version + count
        head = await conn.fetchrow(
            "SELECT stream_version, hash FROM events WHERE stream_id = $1"
            " ORDER BY stream_version DESC LIMIT 1",
            stream_id,
        )
        current = head["stream_version"] if head is not None else 0
        prev_hash = bytes(head["hash"]) if head is not None else GENESIS_HASH

        if current != expected_version:
            if current >= last:
                stored = await conn.fetch(
                    "SELECT event_id FROM events WHERE stream_id = $1"
                    " AND stream_version BETWEEN $2 AND $3 ORDER BY stream_version",
                    stream_id,
                    first,
                    last,
                )
                if [UUID(bytes=r["event_id"].bytes) for r in stored] == [
                    e.event_id for e in events
                ]:
                    structlog.get_logger("eventstore").info(
                        "idempotent append: batch already stored",
                        stream_id=stream_id,
                        first_version=first,
                        last_version=last,
                    )
                    return AppendResult(stream_id, first, last, appended=False), b""
            raise ConcurrencyError(stream_id, expected_version, current)

        # Hash exactly what the database will hand back: a payload with a float is first
        # normalised by the database (jsonb rewrites numbers such as 1e+20); the others
        # come back as they are.
        encoded = _encode(events)
        if not encoded.stable:
            normalised = await conn.fetch(
                "SELECT t.d::jsonb AS data, t.m::jsonb AS metadata"
                " FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(d, m, i)"
                " ORDER BY t.i",
                [d.decode("utf-8") for d in encoded.datas],
                [m.decode("utf-8") for m in encoded.metas],
            )
            encoded = _Encoded(
                [canonical_json(n["data"]) for n in normalised],
                [canonical_json(n["metadata"]) for n in normalised],
                True,
            )
        rows = _chain(stream_id, expected_version, prev_hash, events, encoded)
        try:
            sql, args = rows.insert(head_known=True)
            await conn.execute(sql, *args)
        except asyncpg.UniqueViolationError as err:
            if err.constraint_name == _VERSION_CONSTRAINT:
                raise ConcurrencyError(stream_id, expected_version, None) from err
            if err.constraint_name == _EVENT_ID_CONSTRAINT:
                # detail: "Key (event_id)=(<uuid>) already exists."
                clashes = [UUID(m) for m in _UUID_RE.findall(err.detail or "")]
                raise DuplicateEventError(
                    stream_id,
                    clashes,
                    f"event id already stored in another stream or at another version"
                    f" ({err.detail or err})",
                ) from err
            raise
        return AppendResult(stream_id, first, last, appended=True), rows.last_hash

    # ------------------------------------------------------------------- reads

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[StoredEvent]:
        """The events of ``stream_id`` with ``stream_version >= from_version``, in version
        order (``[]`` for an unknown stream)."""
        rows = await self._p.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version >= $2"
            " ORDER BY stream_version",
            stream_id,
            from_version,
        )
        return [_to_stored(r) for r in rows]

    async def read_all(self, from_position: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Events of all streams with ``global_position >= from_position`` (inclusive), in
        global order, at most ``limit`` of them (all when ``None``).

        Positions are increasing but may have gaps (rolled-back appends). A position is
        taken at insert time, so a concurrent append may commit a *lower* position after a
        reader has seen a higher one: a checkpointing reader should not assume that
        everything below its checkpoint has been seen.

        Raises:
            ValueError: ``limit`` is negative.
        """
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        rows = await self._p.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE global_position >= $1"
            " ORDER BY global_position LIMIT $2",
            from_position,
            limit,
        )
        return [_to_stored(r) for r in rows]

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current (highest) version; 0 when it has no events."""
        version = await self._p.fetchval(
            "SELECT max(stream_version) FROM events WHERE stream_id = $1", stream_id
        )
        return int(version) if version is not None else 0

    async def list_streams(self, prefix: str | None = None) -> list[tuple[str, int]]:
        """``[(stream_id, version), ...]`` sorted by stream id, optionally only the ids that
        start with ``prefix`` (taken literally, no wildcards)."""
        rows = await self._p.fetch(
            "SELECT stream_id, max(stream_version) AS version FROM events"
            " WHERE $1::text IS NULL OR starts_with(stream_id, $1::text)"
            " GROUP BY stream_id ORDER BY stream_id",
            prefix,
        )
        return [(r["stream_id"], int(r["version"])) for r in rows]
