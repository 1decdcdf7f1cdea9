"""The in-memory recorder and the PostgreSQL store are one :class:`Recorder`: the same
batches give the same versions, the same refusals, the same idempotent retries, the same
data back (JSON as jsonb returns it, keys in its order), chains the one chain check
accepts."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from audit.verify import verify_chain
from eventstore.recorder import InMemoryRecorder, Recorder
from eventstore.store import ConcurrencyError, DuplicateEventError, EventStore, NewEvent

STREAM = "ratification-CCM-LTU"
PAYLOAD = {
    "state": "LTU",
    "instrument": "ratification",
    "deposited_on": date(2011, 3, 24),
    "milestones": {"venue-agreed": 180, "in-force": 30, "negotiations": 150, "signed": 60},
    "nested": [{"bb": 1, "a": None}, "x"],
}


def event(data: dict[str, Any] | None = None) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        event_type="InstrumentDeposited",
        data=data if data is not None else PAYLOAD,
        metadata={"actor": "test", "source": "UNTC XXVI-6"},
        occurred_on=date(2011, 3, 24),
    )


async def outcome(call: Any) -> str:
    try:
        result = await call
    except (ConcurrencyError, DuplicateEventError) as err:
        return type(err).__name__
    return f"{result.first_version}-{result.last_version} appended={result.appended}"


async def test_the_in_memory_recorder_answers_as_postgresql(store: EventStore) -> None:
    await same_answers(InMemoryRecorder())
    await same_answers(store)


async def same_answers(recorder: Recorder) -> None:
    batch = [event(), event()]
    answers = [
        await outcome(recorder.append(STREAM, 0, batch)),
        await outcome(recorder.append(STREAM, 0, batch)),  # a retried activity
        await outcome(recorder.append(STREAM, 0, [event()])),  # a stale version
        await outcome(recorder.append(STREAM, 2, [batch[0]])),  # an id stored elsewhere
        await outcome(recorder.append("treaty-CCM", 0, [event()])),
    ]
    assert answers == [
        "1-2 appended=True",
        "1-2 appended=False",
        "ConcurrencyError",
        "DuplicateEventError",
        "1-1 appended=True",
    ]
    stored = await recorder.read_stream(STREAM)
    assert [e.stream_version for e in stored] == [1, 2]
    assert stored[0].data == {**PAYLOAD, "deposited_on": "2011-03-24"}
    # jsonb's order: shorter keys first, then by their bytes
    assert list(stored[0].data) == ["state", "nested", "instrument", "milestones", "deposited_on"]
    assert list(stored[0].data["milestones"]) == [
        "signed",
        "in-force",
        "negotiations",
        "venue-agreed",
    ]
    assert list(stored[0].data["nested"][0]) == ["a", "bb"]
    assert await verify_chain(recorder, STREAM) == []
    assert await recorder.list_streams(prefix="ratification-") == [(STREAM, 2)]
    assert [(e.stream_id, e.stream_version) for e in await recorder.read_all()] == [
        (STREAM, 1),
        (STREAM, 2),
        ("treaty-CCM", 1),
    ]
