"""The append path made cheaper for the benchmarks (bench/append_bench.py): BEGIN and the
stream lock in one round trip, each payload encoded once, the database's normalisation
only for payloads with a float. Against a real (embedded) PostgreSQL: what is stored and
hashed must be exactly what the general path stored and hashed."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.verify import verify_chain
from eventstore.hashing import (
    GENESIS_HASH,
    canonical_json,
    canonical_record_json,
    chain_hash,
    event_record,
)
from eventstore.store import (
    STREAM_LOCK_NAMESPACE,
    ConcurrencyError,
    DuplicateEventError,
    EventStore,
    NewEvent,
    _jsonb_stable,
    _sql_literal,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@given(
    data=st.dictionaries(st.text(max_size=5), json_values, max_size=4),
    metadata=st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    event_type=st.text(min_size=1, max_size=20),
    stream_id=st.text(min_size=1, max_size=30),
    version=st.integers(min_value=1, max_value=2**31 - 1),
    occurred_on=st.none() | st.dates(),
)
def test_record_json_assembled_from_payloads_is_the_canonical_json_of_the_record(
    data: dict, metadata: dict, event_type: str, stream_id: str, version: int, occurred_on: date
) -> None:
    event_id = uuid.UUID(int=version)
    recorded_at = datetime(2011, 3, 24, 9, 30, 0, 123456, tzinfo=UTC)
    record = event_record(
        stream_id=stream_id,
        stream_version=version,
        event_id=event_id,
        event_type=event_type,
        data=data,
        metadata=metadata,
        occurred_on=occurred_on,
        recorded_at=recorded_at,
    )
    assembled = canonical_record_json(
        stream_id=stream_id,
        stream_version=version,
        event_id=event_id,
        event_type=event_type,
        data_json=canonical_json(data),
        metadata_json=canonical_json(metadata),
        occurred_on=occurred_on,
        recorded_at=recorded_at,
    )
    assert assembled == canonical_json(record)


def test_a_float_anywhere_sends_the_payload_through_the_database() -> None:
    assert _jsonb_stable({"a": [1, "x", None, True, {"d": date(2011, 8, 1)}]})
    assert _jsonb_stable({"id": uuid.UUID(int=1), "t": ("a", "b")})
    assert not _jsonb_stable({"a": [1, {"b": 1.0}]})
    assert not _jsonb_stable({"a": 1e20})


def test_stream_ids_are_quoted_as_literals() -> None:
    assert _sql_literal("ratification-CCM-BGR") == "E'ratification-CCM-BGR'"
    assert _sql_literal("a'b\\c") == "E'a''b\\\\c'"
    with pytest.raises(ValueError):
        _sql_literal("a\x00b")


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[EventStore]:
    es = await EventStore.connect(db_url, max_size=4)
    try:
        yield es
    finally:
        await es.close()


def _event(data: dict, metadata: dict) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        event_type="InstrumentDeposited",
        data=data,
        metadata=metadata,
        occurred_on=date(2011, 3, 24),
    )


async def test_a_stream_id_with_quotes_and_backslashes_appends_and_verifies(
    store: EventStore,
) -> None:
    stream = "ratification-CCM-O'B\\R"
    await store.append(stream, 0, [_event({"state": "LTU"}, {"actor": "a"})])
    await store.append(stream, 1, [_event({"state": "LTU"}, {"actor": "a"})])
    assert [e.stream_version for e in await store.read_stream(stream)] == [1, 2]
    assert await verify_chain(store, stream) == []


async def test_shared_metadata_and_mixed_payloads_hash_what_is_stored(store: EventStore) -> None:
    meta = {"actor": "depositary", "source": "UNTC XXVI-6", "n": 10**30}
    events = [
        _event({"state": "LTU", "reservations": ("none",)}, meta),
        _event({"state": "LTU", "share": 0.5}, meta),  # a float: normalised by the database
        _event({"state": "LTU", "on": date(2011, 9, 1)}, meta),
    ]
    await store.append("ratification-CCM-LTU", 0, events)
    stored = await store.read_stream("ratification-CCM-LTU")
    assert [e.data for e in stored] == [
        {"state": "LTU", "reservations": ["none"]},
        {"state": "LTU", "share": 0.5},
        {"state": "LTU", "on": "2011-09-01"},
    ]
    assert all(e.metadata == meta for e in stored)
    prev = GENESIS_HASH
    for e in stored:
        assert e.prev_hash == prev
        assert e.hash == chain_hash(
            prev,
            event_record(
                stream_id=e.stream_id,
                stream_version=e.stream_version,
                event_id=e.event_id,
                event_type=e.event_type,
                data=e.data,
                metadata=e.metadata,
                occurred_on=e.occurred_on,
                recorded_at=e.recorded_at,
            ),
        )
        prev = e.hash


async def test_a_failed_append_leaves_the_connection_usable(store: EventStore) -> None:
    await store.append("treaty-CCM", 0, [_event({"state": "LTU"}, {})])
    for _ in range(6):  # more refusals than the pool has connections
        with pytest.raises(Exception, match="expected 0"):
            await store.append("treaty-CCM", 0, [_event({"state": "FRA"}, {})])
    await store.append("treaty-CCM", 1, [_event({"state": "FRA"}, {})])
    assert await store.stream_version("treaty-CCM") == 2


async def test_a_remembered_head_gone_stale_falls_back_to_the_locked_path(
    store: EventStore, db_url: str
) -> None:
    """The store remembers the head it committed; when another writer appended since, the
    append conflicts on the stream's unique version and the locked path says what happened:
    a ConcurrencyError with the stream's real version, or an idempotent retry."""
    stream = "ratification-CCM-LTU"
    first = _event({"state": "LTU"}, {})
    await store.append(stream, 0, [first])
    other = await EventStore.connect(db_url, max_size=2)
    try:
        await other.append(stream, 1, [_event({"state": "LTU", "n": 2}, {})])
    finally:
        await other.close()
    with pytest.raises(Exception, match="is at version 2, expected 1") as refused:
        await store.append(stream, 1, [_event({"state": "LTU", "n": 3}, {})])
    assert (refused.value.expected_version, refused.value.actual_version) == (1, 2)
    retry = await store.append(stream, 0, [first])
    assert (retry.first_version, retry.appended) == (1, False)
    assert await verify_chain(store, stream) == []


@contextlib.asynccontextmanager
async def holding_stream_lock(
    db_url: str, stream: str
) -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.transaction.Transaction]]:
    """Another writer's connection holding ``stream``'s append lock in its open transaction
    (the caller commits or rolls it back, which lets the lock go)."""
    holder = await asyncpg.connect(db_url)
    try:
        tx = holder.transaction()
        await tx.start()
        await holder.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))", STREAM_LOCK_NAMESPACE, stream
        )
        yield holder, tx
    finally:
        await holder.close()


async def test_a_new_streams_first_batch_waits_for_a_writer_holding_the_stream_lock(
    store: EventStore, db_url: str
) -> None:
    """A first append goes in one statement only when the stream's lock is free; a writer
    holding it (the locked path, an operator) holds back the whole batch, which then goes
    all or nothing: here another writer's batch came first, so nothing of ours is stored."""
    stream = "ratification-ATT-FRA"
    ours = [_event({"state": "FRA", "n": n}, {"actor": "a"}) for n in range(3)]
    theirs = [_event({"state": "FRA", "n": n}, {"actor": "b"}) for n in range(2)]
    async with holding_stream_lock(db_url, stream) as (holder, tx):
        appending = asyncio.create_task(store.append(stream, 0, ours))
        await asyncio.sleep(0.3)
        assert not appending.done()
        other = await EventStore.connect(db_url, max_size=2)
        try:
            # the lock's holder writes the stream's first events before it lets go
            await other._append(holder, stream, 0, theirs)  # noqa: SLF001
        finally:
            await other.close()
        await tx.commit()
        with pytest.raises(ConcurrencyError) as refused:
            await appending
    assert (refused.value.expected_version, refused.value.actual_version) == (0, 2)
    stored = await store.read_stream(stream)
    assert [e.event_id for e in stored] == [e.event_id for e in theirs]
    assert await verify_chain(store, stream) == []


async def test_a_new_streams_first_batch_goes_whole_once_the_lock_is_free(
    store: EventStore, db_url: str
) -> None:
    stream = "ratification-ATT-DEU"
    ours = [_event({"state": "DEU", "n": n}, {"actor": "a"}) for n in range(3)]
    async with holding_stream_lock(db_url, stream) as (_, tx):
        appending = asyncio.create_task(store.append(stream, 0, ours))
        await asyncio.sleep(0.3)
        assert not appending.done()
        await tx.rollback()
        result = await appending
    assert (result.first_version, result.last_version, result.appended) == (1, 3, True)
    stored = await store.read_stream(stream)
    assert [e.event_id for e in stored] == [e.event_id for e in ours]
    assert [e.stream_version for e in stored] == [1, 2, 3]
    assert await verify_chain(store, stream) == []
    # the store goes on after the head it committed
    await store.append(stream, 3, [_event({"state": "DEU", "n": 3}, {"actor": "a"})])
    assert await verify_chain(store, stream) == []


BIG = 20


def _batch(state: str, n: int, start: int = 0) -> list[NewEvent]:
    meta = {"actor": "depositary", "source": "UNTC XXVI-6"}
    return [
        _event({"state": state, "n": i, "note": "Côte d'Ivoire \u2014 “ratified”\n"}, meta)
        for i in range(start, start + n)
    ]


async def test_a_large_batch_after_the_remembered_head_stores_what_it_hashed(
    store: EventStore, db_url: str
) -> None:
    """A batch after the head the store committed is one INSERT of text arrays, the chain
    as one bytea: the same rows, in version (and global) order, the same hash chain."""
    stream = "ratification-CCM-CIV"
    first = _batch("CIV", 1)
    await store.append(stream, 0, first)
    big = _batch("CIV", BIG, start=1)
    result = await store.append(stream, 1, big)
    assert (result.first_version, result.last_version, result.appended) == (2, 21, True)
    stored = await store.read_stream(stream)
    assert [e.event_id for e in stored] == [e.event_id for e in first + big]
    assert [e.data for e in stored] == [e.data for e in first + big]
    assert all(e.metadata == big[0].metadata for e in stored)
    positions = [e.global_position for e in stored]
    assert positions == sorted(positions)
    assert len({e.recorded_at for e in stored[1:]}) == 1
    assert await verify_chain(store, stream) == []
    # read back by another store (fresh connections, the same codecs)
    other = await EventStore.connect(db_url, max_size=2)
    try:
        assert await other.read_stream(stream) == stored
    finally:
        await other.close()


async def test_a_large_batch_after_a_stale_head_is_refused_or_recognised(
    store: EventStore, db_url: str
) -> None:
    """A batch after a head gone stale conflicts on the stream's unique version: the locked
    path says what happened (the real version; an idempotent retry); nothing of the
    refused batch is stored."""
    stream = "ratification-CCM-GHA"
    await store.append(stream, 0, _batch("GHA", 1))
    theirs = _batch("GHA", BIG, start=1)
    other = await EventStore.connect(db_url, max_size=2)
    try:
        await other.append(stream, 1, theirs)
    finally:
        await other.close()
    ours = _batch("GHA", BIG, start=1)
    with pytest.raises(ConcurrencyError) as refused:
        await store.append(stream, 1, ours)
    last = 1 + BIG
    assert (refused.value.expected_version, refused.value.actual_version) == (1, last)
    retry = await store.append(stream, 1, theirs)
    assert (retry.first_version, retry.last_version, retry.appended) == (2, last, False)
    stored = await store.read_stream(stream)
    assert [e.event_id for e in stored[1:]] == [e.event_id for e in theirs]
    assert await verify_chain(store, stream) == []


async def test_a_large_batch_with_an_event_id_stored_elsewhere_is_refused_whole(
    store: EventStore,
) -> None:
    taken = _event({"state": "SEN"}, {})
    await store.append("ratification-CCM-SEN", 0, [taken])
    stream = "ratification-CCM-MLI"
    await store.append(stream, 0, _batch("MLI", 1))
    batch = _batch("MLI", BIG, start=1)
    batch[7] = taken
    with pytest.raises(DuplicateEventError) as refused:
        await store.append(stream, 1, batch)
    assert refused.value.event_ids == [taken.event_id]
    assert await store.stream_version(stream) == 1
    assert await verify_chain(store, stream) == []


async def test_plain_payloads_of_every_kind_verify_after_the_round_trip(store: EventStore) -> None:
    """Payloads written by orjson and not normalised by the database (no float): what
    jsonb gives back hashes to what was hashed at append time, one at a time and in a
    batch."""
    tricky: list[dict] = [
        {"big": 2**64, "neg": -(2**63) - 1, "huge": 10**30, "max": 2**63 - 1},
        {"é": "Côte d'Ivoire", "😀": "\U0001f600", "\uffff": "\u2028\u2029", "Z": ""},
        {"s": '\x01\x08\t\n\x0c\r\x1f\x7f"\\/', "long": "x" * 5000},
        {"nested": {"b": [1, [2, [3, {"c": None}]]], "a": ()}, "empty": {}, "list": []},
        {"t": True, "f": False, "n": None},
        {"on": date(2011, 3, 24), "at": datetime(2011, 3, 24, 9, 30, 0, 5, tzinfo=UTC)},
        {"id": uuid.UUID(int=2**128 - 1), "ids": [uuid.UUID(int=1), uuid.UUID(int=2)]},
    ]
    meta = {"actor": "depositary", "source": "UNTC XXVI-6", "n": 10**20}
    stream = "ratification-CCM-CIV-plain"
    for version, data in enumerate(tricky):
        await store.append(stream, version, [_event(data, meta)])
    await store.append(stream, len(tricky), [_event(data, meta) for data in tricky])
    assert await verify_chain(store, stream) == []
    stored = await store.read_stream(stream)
    assert [e.data["big"] for e in stored if "big" in e.data] == [2**64, 2**64]
    assert stored[5].data == {"on": "2011-03-24", "at": "2011-03-24T09:30:00.000005+00:00"}


async def test_text_with_nul_is_refused_before_the_database_and_its_escape_is_kept(
    store: EventStore,
) -> None:
    """U+0000 in data or metadata cannot be kept by jsonb: refused as UnstorableEventError
    (a ValueError, nothing stored); the six characters ``\\u0000`` as text are stored."""
    from eventstore.store import UnstorableEventError

    for data, metadata in (({"source": "a\x00b"}, {}), ({}, {"actor": "x\x00"})):
        with pytest.raises(UnstorableEventError, match=r"U\+0000"):
            await store.append("s-nul", 0, [NewEvent(uuid.uuid4(), "E", data, metadata, None)])
    assert await store.read_stream("s-nul") == []
    text = {"source": "\\u0000 and \\\\u0000", "k\\u0000": ["\\\\\\u0000"]}
    await store.append("s-nul", 0, [NewEvent(uuid.uuid4(), "E", text, {}, None)])
    (stored,) = await store.read_stream("s-nul")
    assert stored.data == text
