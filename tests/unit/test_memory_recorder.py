"""The in-memory recorder keeps the PostgreSQL store's append semantics (DESIGN: the
append path): versions 1, 2, 3..., optimistic concurrency, idempotent retries of the same
event ids, unique event ids, the per-stream hash chain ``sha256(prev_hash ||
canonical_json(event))`` that ``treaty audit verify`` recomputes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from audit.verify import check_chain, verify_chain
from eventstore.hashing import GENESIS_HASH
from eventstore.recorder import InMemoryRecorder, Recorder
from eventstore.store import (
    ConcurrencyError,
    DuplicateEventError,
    EventStore,
    NewEvent,
    UnstorableEventError,
)

STREAM = "ratification-CCM-BGR"


def new_event(data: dict[str, Any] | None = None) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        event_type="InstrumentDeposited",
        data=data if data is not None else {"state": "BGR", "deposited_on": date(2011, 4, 6)},
        metadata={"actor": "tester"},
        occurred_on=date(2011, 4, 6),
    )


def test_both_recorders_have_the_interface() -> None:
    assert isinstance(InMemoryRecorder(), Recorder)
    assert issubclass(EventStore, Recorder)


async def test_versions_chain_and_json_as_jsonb_gives_it_back() -> None:
    rec = InMemoryRecorder()
    first = await rec.append(STREAM, 0, [new_event(), new_event()])
    second = await rec.append(STREAM, 2, [new_event()])
    assert (first.first_version, first.last_version, second.last_version) == (1, 2, 3)
    events = await rec.read_stream(STREAM)
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert [e.global_position for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert events[0].data["deposited_on"] == "2011-04-06"  # a date comes back as ISO text
    assert await verify_chain(rec, STREAM) == []
    assert await rec.read_stream(STREAM, from_version=3) == events[2:]
    assert await rec.stream_version(STREAM) == 3
    assert await rec.stream_version("nothing") == 0


async def test_a_stale_expected_version_is_a_concurrency_error() -> None:
    rec = InMemoryRecorder()
    await rec.append(STREAM, 0, [new_event()])
    with pytest.raises(ConcurrencyError) as err:
        await rec.append(STREAM, 0, [new_event()])
    assert (err.value.expected_version, err.value.actual_version) == (0, 1)
    with pytest.raises(ConcurrencyError):
        await rec.append(STREAM, 5, [new_event()])
    assert await rec.stream_version(STREAM) == 1


async def test_a_retried_batch_is_stored_once_and_a_reused_id_refused() -> None:
    rec = InMemoryRecorder()
    batch = [new_event(), new_event()]
    assert (await rec.append(STREAM, 0, batch)).appended
    retried = await rec.append(STREAM, 0, batch)
    assert (retried.appended, retried.first_version, retried.last_version) == (False, 1, 2)
    assert await rec.stream_version(STREAM) == 2
    with pytest.raises(DuplicateEventError):
        await rec.append("ratification-CCM-NLD", 0, [batch[0]])
    with pytest.raises(ValueError, match="twice in the batch"):
        await rec.append("ratification-CCM-NLD", 0, [batch[0], batch[0]])


async def test_nul_is_refused_as_postgresql_refuses_it() -> None:
    rec = InMemoryRecorder()
    with pytest.raises(UnstorableEventError):
        await rec.append(STREAM, 0, [new_event({"state": "B\x00GR"})])
    assert await rec.list_streams() == []


async def test_list_streams_by_prefix_and_read_all_in_global_order() -> None:
    rec = InMemoryRecorder()
    await rec.append("ratification-CCM-NLD", 0, [new_event()])
    await rec.append("treaty-CCM", 0, [new_event()])
    await rec.append("ratification-CCM-BGR", 0, [new_event(), new_event()])
    assert await rec.list_streams(prefix="ratification-CCM-") == [
        ("ratification-CCM-BGR", 2),
        ("ratification-CCM-NLD", 1),
    ]
    assert await rec.list_streams(prefix="ratification-%") == []  # taken literally
    every = await rec.read_all()
    assert [(e.stream_id, e.global_position) for e in every] == [
        ("ratification-CCM-NLD", 1),
        ("treaty-CCM", 2),
        ("ratification-CCM-BGR", 3),
        ("ratification-CCM-BGR", 4),
    ]
    assert await rec.read_all(from_position=3, limit=1) == every[2:3]


async def test_recorded_at_comes_from_the_clock_and_is_hashed() -> None:
    moment = datetime(2011, 3, 24, 9, 30, tzinfo=UTC)
    rec = InMemoryRecorder(clock=lambda: moment)
    await rec.append(STREAM, 0, [new_event()])
    [stored] = await rec.read_stream(STREAM)
    assert stored.recorded_at == moment and stored.hash == stored.recomputed_hash()
    rec.tamper(STREAM, 1, recorded_at=datetime(2011, 3, 25, tzinfo=UTC))
    assert [d.version for d in await verify_chain(rec, STREAM)] == [1]


async def test_the_one_chain_check_names_an_altered_event_at_its_version() -> None:
    rec = InMemoryRecorder()
    await rec.append(STREAM, 0, [new_event(), new_event(), new_event()])
    rec.tamper(STREAM, 2, data={"state": "FRA"})
    [altered] = await verify_chain(rec, STREAM)
    assert (altered.version, altered.check) == (2, "chain")
    assert altered.detail.startswith("the event was altered after it was recorded")
    events = await rec.read_stream(STREAM)
    [gap, link] = check_chain(STREAM, [events[0], events[2]])  # version 2 deleted
    assert (gap.version, link.version) == (2, 3)
