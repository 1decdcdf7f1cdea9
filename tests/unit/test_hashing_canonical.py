"""Canonical JSON written by orjson where it gives the standard library's bytes: the same
bytes, the same errors, the same hashes (the event store's append path, bench/append_bench.py).

The definition of canonical JSON stays ``json.dumps(obj, sort_keys=True,
separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=...)`` as UTF-8
(``_json_canonical_json``); every hash already stored was computed with it, so
``canonical_json`` must return exactly its bytes, or raise exactly its error, for any value.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore.hashing import (
    GENESIS_HASH,
    RecordEncoder,
    _json_canonical_json,
    _orjson_canonical_json,
    _plain,
    canonical_json,
    canonical_json_plain,
    chain_hash,
    chain_hash_of_json,
    event_record,
)
from eventstore.store import _jsonb_stable


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    ONE = 1


class Code(enum.StrEnum):
    CCM = "CCM"


class Key(str):
    """A str subclass that sorts backwards: the standard library sorts with its ``<``."""

    def __lt__(self, other: object) -> bool:
        return str.__gt__(self, other)  # type: ignore[operator]


ODD = timezone(timedelta(hours=5, minutes=30, seconds=7))


def outcome(encode: Any, value: Any) -> tuple[Any, ...]:
    try:
        return ("ok", encode(value))
    except Exception as err:  # noqa: BLE001 - the error itself is compared
        return ("error", type(err), str(err))


# Plain values: what orjson writes itself (no float, no subclass).
plain_text = st.text()  # no lone surrogates
plain_ints = st.integers(min_value=-(2**63), max_value=2**64 - 1)
offsets = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23))
datetimes = st.datetimes(timezones=st.none() | st.builds(timezone, offsets) | st.just(UTC))
plain_leaves = (
    st.none()
    | st.booleans()
    | plain_ints
    | plain_text
    | st.dates()
    | datetimes
    | st.uuids()
    | st.sampled_from(["", "\x00\x01\x1f\x7f", '"\\/', "\u2028\u2029", "é😀\uffff\U00010000"])
)


def nested(leaves: st.SearchStrategy, keys: st.SearchStrategy) -> st.SearchStrategy:
    """``leaves`` inside lists, tuples and dicts keyed by ``keys``, nested."""
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4)
            | st.lists(children, max_size=3).map(tuple)
            | st.dictionaries(keys, children, max_size=5)
        ),
        max_leaves=25,
    )


plain_values = nested(plain_leaves, plain_text)

# Anything: floats (NaN, infinities, 1e16 ...), integers beyond 64 bits, lone surrogates,
# subclasses, enums, keys that are not str, objects JSON cannot represent.
any_leaves = (
    plain_leaves
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e16, 1e-7, 1e22, -0.0, 5e-324, 2**64, -(2**63) - 1, 10**30])
    | st.integers()
    | st.text(st.characters(exclude_categories=()), max_size=3)  # surrogates included
    | st.sampled_from([Colour.RED, Level.ONE, Code.CCM, Key("k"), object(), b"bytes"])
    | st.builds(Key, st.text(max_size=3))
)
any_keys = (
    st.text(max_size=4)
    | st.builds(Key, st.text(max_size=3))
    | st.sampled_from([1, 2.5, True, None, Code.CCM])
)
any_values = nested(any_leaves, any_keys)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=any_values)
def test_canonical_json_is_the_standard_librarys_for_any_value(value: Any) -> None:
    assert outcome(canonical_json, value) == outcome(_json_canonical_json, value)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=plain_values)
def test_orjson_itself_writes_the_standard_librarys_bytes_for_plain_values(value: Any) -> None:
    """Not through the fallback: orjson's own output, compared byte for byte."""
    assert _plain(value)
    assert _orjson_canonical_json(value) == _json_canonical_json(value)
    encoded, plain = canonical_json_plain(value)
    assert plain and encoded == _json_canonical_json(value)


@settings(deadline=None)
@given(value=any_values)
def test_a_plain_value_comes_back_from_jsonb_as_it_went_in(value: Any) -> None:
    """A plain value skips the database's normalisation: it must be one that needs none."""
    try:
        _, plain = canonical_json_plain(value)
    except (TypeError, ValueError):
        return
    if plain:
        assert _jsonb_stable(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": "é"}, '{"a":"é","b":1}'),
        ({"é": 1, "e": 2, "😀": 3, "\uffff": 4, "Z": 5}, '{"Z":5,"e":2,"é":1,"\uffff":4,"😀":3}'),
        ({"s": "\x00\x08\t\n\x0c\r\x1f\x7f"}, '{"s":"\\u0000\\b\\t\\n\\f\\r\\u001f\x7f"}'),
        ({"s": '"\\/\u2028'}, '{"s":"\\"\\\\/\u2028"}'),
        ([2**63 - 1, -(2**63)], "[9223372036854775807,-9223372036854775808]"),
        ([2**64 - 1, 2**64], "[18446744073709551615,18446744073709551616]"),
        ([10**30, -(2**63) - 1], "[1000000000000000000000000000000,-9223372036854775809]"),
        ([1e16, 1e-7, 1.0, -0.0, 0.1], "[1e+16,1e-07,1.0,-0.0,0.1]"),
        ({"t": (1, (2,)), "l": [], "d": {}}, '{"d":{},"l":[],"t":[1,[2]]}'),
        ([date(2011, 3, 24)], '["2011-03-24"]'),
        ([datetime(2011, 3, 24, 9, 30, tzinfo=UTC)], '["2011-03-24T09:30:00+00:00"]'),
        (
            [datetime(2011, 3, 24, 9, 30, 0, 5, tzinfo=ODD)],
            '["2011-03-24T09:30:00.000005+05:30:07"]',
        ),
        ([uuid.UUID(int=2**128 - 1)], '["ffffffff-ffff-ffff-ffff-ffffffffffff"]'),
        ({"k": Code.CCM, "i": Level.ONE}, '{"i":1,"k":"CCM"}'),
        ({Key("a"): 1, Key("b"): 2}, '{"b":2,"a":1}'),
        ({2: "y", 1: "x"}, '{"1":"x","2":"y"}'),
        (True, "true"),
        (None, "null"),
        ("plain string", '"plain string"'),
    ],
)
def test_canonical_json_table(value: Any, expected: str) -> None:
    assert _json_canonical_json(value) == expected.encode("utf-8")
    assert canonical_json(value) == expected.encode("utf-8")


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"x": float("nan")}, ValueError),
        ({"x": float("inf")}, ValueError),
        ({"x": object()}, TypeError),
        ({"x": Colour.RED}, TypeError),
        ({"x": b"bytes"}, TypeError),
        ({"x": "\ud800"}, UnicodeEncodeError),
        ({1: "x", "a": "y"}, TypeError),  # keys of mixed types cannot be sorted
    ],
)
def test_canonical_json_refuses_what_the_standard_library_refuses(
    value: Any, error: type[Exception]
) -> None:
    with pytest.raises(error) as ours:
        canonical_json(value)
    with pytest.raises(error) as reference:
        _json_canonical_json(value)
    assert str(ours.value) == str(reference.value)


def test_a_cycle_or_deep_nesting_is_the_standard_librarys_too() -> None:
    cycle: dict[str, Any] = {}
    cycle["self"] = cycle
    with pytest.raises(ValueError, match="Circular reference"):
        canonical_json(cycle)
    deep: Any = "leaf"
    for _ in range(300):  # deeper than orjson writes
        deep = {"d": [deep]}
    assert canonical_json(deep) == _json_canonical_json(deep)


# Hashes computed with the standard-library implementation before orjson was used (main
# at c67bf8e, eventstore/hashing.py): a chain of three records over non-ASCII text, control
# characters, escapes, big integers, nested containers, floats, dates and UUIDs.
GOLDEN = [
    (
        "ratification-CCM-LTU",
        1,
        uuid.UUID("5f0d6c1e-2b1a-5a7e-9c1d-3e4f5a6b7c8d"),
        "InstrumentDeposited",
        {
            "state": "LTU",
            "instrument": "ratification",
            "occurred_on": "2011-03-24",
            "provisional_application": False,
            "reservations": [],
        },
        {"actor": "depositary", "source": "UNTC XXVI-6", "workflow_id": "ratification:CCM:LTU"},
        date(2011, 3, 24),
        datetime(2011, 3, 24, 9, 30, 0, 123456, tzinfo=UTC),
        "4bb6ef433f450a76efe97490e16445ab35ba5bad77ddcc571c395b0c8d766dc5",
    ),
    (
        "treaty-CCM",
        7,
        uuid.UUID(int=7),
        "DepositCounted",
        {
            "state": "CIV",
            "count": 30,
            "note": "Côte d'Ivoire \u2014 “30th” deposit\n\t\x00\x1f\x7f \u2028 😀 \\ \"",
            "big": 10**30,
            "neg": -(2**63),
            "nested": {"z": [1, {"y": None, "x": True}], "a": ()},
        },
        {"é": 1, "e": 2, "\U0001f600": 3, "\uffff": 4, "Z": 5},
        None,
        datetime(2010, 8, 1, 0, 0, tzinfo=UTC),
        "042d797a2ca0a98f74ef070832160a55013ece9950a7d18ea8b33bf338aafc05",
    ),
    (
        "ratification-ATT-FRA",
        2,
        uuid.UUID(int=2**128 - 1),
        "SignatureRecorded",
        {
            "share": 0.5,
            "tiny": 1e-7,
            "huge": 1e16,
            "f": 1.0,
            "d": date(2013, 6, 3),
            "u": uuid.UUID(int=3),
        },
        {},
        date(2013, 6, 3),
        datetime(2013, 6, 3, 12, 0, 0, 1, tzinfo=UTC),
        "d3ab32a8b9ed2000046fa7870e0c1dac39d0896e65353dc04f8d5b1af0dee6c8",
    ),
]


def test_golden_hashes_are_unchanged() -> None:
    prev = GENESIS_HASH
    for stream, version, event_id, event_type, data, metadata, occurred_on, at, digest in GOLDEN:
        record = event_record(
            stream_id=stream,
            stream_version=version,
            event_id=event_id,
            event_type=event_type,
            data=data,
            metadata=metadata,
            occurred_on=occurred_on,
            recorded_at=at,
        )
        assert chain_hash(prev, record).hex() == digest
        # the append path: each payload encoded once, the record assembled around them
        assembled = RecordEncoder(stream, at).record_json(
            version,
            str(event_id),
            event_type,
            canonical_json(data),
            canonical_json(metadata),
            occurred_on,
        )
        assert chain_hash_of_json(prev, assembled).hex() == digest
        prev = bytes.fromhex(digest)
