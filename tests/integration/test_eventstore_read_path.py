"""The read path made cheaper for the benchmarks (bench/fold_bench.py): jsonb decoded by
pydantic-core's parser (``json.loads`` where it refuses), a row turned into a
:class:`StoredEvent` by position. What a read returns must be exactly what ``json.loads``
of the stored JSON gives, and the hash chain must still verify over it."""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.verify import verify_chain
from eventstore.store import _COLUMNS, EventStore, NewEvent, StoredEvent, _decode_json

STREAM = "ratification-CCM-BGR"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (``1 == 1.0`` is not enough; nor is
    ``0.0 == -0.0``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return bool(a == b)


@given(value=json_values, ensure_ascii=st.booleans())
def test_decoded_json_is_what_json_loads_gives(value: Any, ensure_ascii: bool) -> None:
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    assert same(_decode_json(text), json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        "100000000000000000000",  # jsonb's rendering of 1e20
        "123456789012345678901234567890123456789",
        "0.1000000000000000055511151231257827",
        "1.00000000000000011102230246251565404236316680908203125",
        "2.2250738585072011e-308",
        "4.9e-324",
        "1e400",
        "-0.0",
        "0." + "0" * 300 + "1",  # jsonb writes 1e-301 like this
        '{"a": 1, "a": 2}',
        '"\\ud83d\\ude00 \\u2028 Z\\u00fcrich"',
        '"\\ud800"',  # a lone surrogate: refused by pydantic-core, read by json.loads
        "[" * 250 + "]" * 250,  # deeper than pydantic-core's limit of 200
    ],
)
def test_decoded_json_edge_cases_are_what_json_loads_gives(text: str) -> None:
    assert same(_decode_json(text), json.loads(text))


def test_bad_json_is_still_a_value_error() -> None:
    with pytest.raises(ValueError):
        _decode_json('{"a": ')


def test_columns_are_the_stored_event_fields_in_order() -> None:
    assert _COLUMNS.split(", ") == [f.name for f in fields(StoredEvent)]


async def test_read_stream_gives_json_loads_of_the_stored_json(
    store: EventStore, db_url: str
) -> None:
    deep: Any = "bottom"
    for _ in range(240):
        deep = [deep]
    tricky = {
        "big_float": 1e20,
        "tiny": 1e-301,
        "huge_int": 10**30,
        "one": 1.0,
        "text": "Zürich — ☃\u2028 😀",
        "nested": {"z": [1, {"b": None, "a": False}], "a": date(2024, 2, 29)},
        "deep": deep,
    }
    first = NewEvent(uuid.uuid4(), "DepositCounted", tricky, {"actor": "tester"}, date(2011, 2, 16))
    second = NewEvent(uuid.uuid4(), "DepositCounted", {"n": 2}, {"actor": "tester"}, None)
    await store.append(STREAM, 0, [first, second])

    events = await store.read_stream(STREAM)

    conn = await asyncpg.connect(db_url)  # no codecs: the text PostgreSQL writes
    try:
        rows = await conn.fetch(
            "SELECT data::text, metadata::text, event_id, recorded_at FROM events"
            " WHERE stream_id = $1 ORDER BY stream_version",
            STREAM,
        )
    finally:
        await conn.close()
    assert [same(e.data, json.loads(r["data"])) for e, r in zip(events, rows, strict=True)] == [
        True,
        True,
    ]
    assert all(
        same(e.metadata, json.loads(r["metadata"])) for e, r in zip(events, rows, strict=True)
    )
    assert events[0].data["big_float"] == 10**20
    assert events[0].data["tiny"] == 1e-301
    assert events[0].data["nested"] == {"z": [1, {"b": None, "a": False}], "a": "2024-02-29"}
    assert events[0].data["deep"] == json.loads(json.dumps(deep))
    assert [e.event_id for e in events] == [first.event_id, second.event_id]
    assert all(isinstance(e.event_id, uuid.UUID) for e in events)
    assert {first.event_id: "first"}[events[0].event_id] == "first"
    assert str(events[0].event_id) == str(first.event_id)
    assert [e.stream_id for e in events] == [STREAM, STREAM]
    assert [e.stream_version for e in events] == [1, 2]
    assert [e.event_type for e in events] == ["DepositCounted", "DepositCounted"]
    assert [e.occurred_on for e in events] == [date(2011, 2, 16), None]
    assert [e.recorded_at for e in events] == [r["recorded_at"] for r in rows]
    assert events[0].recorded_at.tzinfo is not None
    assert abs((datetime.now(UTC) - events[0].recorded_at).total_seconds()) < 60
    assert [(type(e.prev_hash), len(e.hash)) for e in events] == [(bytes, 32), (bytes, 32)]
    assert events[1].prev_hash == events[0].hash
    assert [e.recomputed_hash() == e.hash for e in events] == [True, True]
    assert await verify_chain(store, STREAM) == []
    assert [e.global_position for e in await store.read_all()] == [
        e.global_position for e in events
    ]
