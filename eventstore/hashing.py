"""Canonical JSON and the per-stream hash chain (tamper evidence).

Each stored event carries ``hash = sha256(prev_hash || canonical_json(record))`` where
``record`` is the dict built by :func:`event_record` and ``prev_hash`` is the previous
event's hash in the same stream (:data:`GENESIS_HASH`, 32 zero bytes, for version 1).

The hash must verify identically after the event has round-tripped through PostgreSQL
(``jsonb``/``timestamptz``): the store therefore hashes the JSON values exactly as the
database returns them (see ``EventStore.append``), dict key order is irrelevant
(``sort_keys``) and ``recorded_at`` is rendered as ISO 8601 UTC with microseconds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import orjson

GENESIS_HASH: bytes = bytes(32)
"""``prev_hash`` of the first event (version 1) of every stream."""


def _default(value: object) -> str:
    """JSON fallback: dates/datetimes as ISO strings, UUIDs as their canonical string.

    Raises:
        TypeError: for any other non-JSON type.
    """
    if isinstance(value, date):  # datetime is a subclass of date
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable: {value!r}")


def _json_canonical_json(obj: Any) -> bytes:
    """The definition of canonical JSON (the standard library's encoder): what
    :func:`canonical_json` returns, whichever encoder it used."""
    return json.dumps(
        obj,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_default,
    ).encode("utf-8")


_PLAIN_LEAVES = frozenset((str, int, bool, type(None), date, datetime, UUID))
_MAX_PLAIN_DEPTH = 200  # below orjson's own nesting limit (255)

# Sorted keys and compact separators are orjson's; UTF-8 is kept as it is; dates and
# datetimes go to _default (their isoformat(), as for the standard library), and so would
# subclasses and dataclasses (only exact types reach orjson, see _plain).
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _plain(value: Any, depth: int = 0) -> bool:
    """True when ``value`` is made only of the exact types on which orjson writes what
    the standard library writes: ``dict`` with ``str`` keys, ``list``, ``tuple``, ``str``,
    ``int``, ``bool``, ``None``, ``date``, ``datetime``, ``UUID``. Not: a float (orjson
    formats some differently, ``NaN`` as ``null``), a subclass (an enum, a ``str`` with its
    own ordering), anything else; nor a value nested deeper than 200 levels (or a cycle)."""
    if depth > _MAX_PLAIN_DEPTH:
        return False
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            if type(item) not in _PLAIN_LEAVES and not _plain(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:
            if type(item) not in _PLAIN_LEAVES and not _plain(item, depth + 1):
                return False
        return True
    return kind in _PLAIN_LEAVES


def _orjson_canonical_json(obj: Any) -> bytes:
    """orjson's canonical JSON of ``obj``; the same bytes as :func:`_json_canonical_json`
    for a plain value (:func:`_plain`) that orjson accepts.

    Raises:
        orjson.JSONEncodeError: an integer beyond 64 bits, a lone surrogate, nesting
            deeper than orjson allows.
    """
    return orjson.dumps(obj, default=_default, option=_ORJSON_OPTIONS)


def canonical_json_plain(obj: Any) -> tuple[bytes, bool]:
    """:func:`canonical_json` of ``obj``, and whether ``obj`` was plain (see
    :func:`_plain`; a plain value has no float, so it comes back from ``jsonb`` as it
    went in).

    Raises:
        TypeError, ValueError: as :func:`canonical_json`.
    """
    if _plain(obj):
        try:
            return _orjson_canonical_json(obj), True
        except orjson.JSONEncodeError:
            # an integer beyond 64 bits, a lone surrogate: the standard library's answer
            return _json_canonical_json(obj), True
    return _json_canonical_json(obj), False


def canonical_json(obj: Any) -> bytes:
    """Serialise ``obj`` to canonical UTF-8 JSON bytes.

    Keys sorted, no whitespace (``separators=(",", ":")``), non-ASCII kept as UTF-8;
    ``date``/``datetime`` become ISO strings and ``UUID`` its string form: exactly
    ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    allow_nan=False, default=...)`` encoded as UTF-8. Values made of plain types only
    (no float, no subclass) are written by orjson, which gives the same bytes faster;
    any other value by the standard library.

    Raises:
        TypeError: ``obj`` contains a value JSON cannot represent.
        ValueError: ``obj`` contains NaN or infinity (not valid JSON, refused by jsonb).
    """
    return canonical_json_plain(obj)[0]


def format_recorded_at(recorded_at: datetime) -> str:
    """``recorded_at`` as ISO 8601 UTC with microseconds: ``2025-01-02T03:04:05.000006+00:00``.

    Raises:
        ValueError: ``recorded_at`` is naive (no timezone).
    """
    if recorded_at.tzinfo is not UTC:  # (UTC itself: nothing to convert)
        if recorded_at.tzinfo is None or recorded_at.utcoffset() is None:
            raise ValueError(f"recorded_at must be timezone-aware, got {recorded_at!r}")
        recorded_at = recorded_at.astimezone(UTC)
    return recorded_at.isoformat(timespec="microseconds")


def event_record(
    *,
    stream_id: str,
    stream_version: int,
    event_id: UUID,
    event_type: str,
    data: Mapping[str, Any],
    metadata: Mapping[str, Any],
    occurred_on: date | None,
    recorded_at: datetime,
) -> dict[str, Any]:
    """The dict that is hashed for one event.

    Shape: ``{"stream_id": str, "stream_version": int, "event_id": str (UUID),
    "event_type": str, "data": dict, "metadata": dict, "occurred_on": "YYYY-MM-DD" | None,
    "recorded_at": "YYYY-MM-DDTHH:MM:SS.ffffff+00:00"}``.

    Raises:
        ValueError: ``recorded_at`` is naive.
    """
    return {
        "stream_id": stream_id,
        "stream_version": stream_version,
        "event_id": str(event_id),
        "event_type": event_type,
        # a stored value that is not an object (only an altered row has one) is hashed as
        # it is, so verification reports a mismatch instead of failing
        "data": dict(data) if isinstance(data, Mapping) else data,
        "metadata": dict(metadata) if isinstance(metadata, Mapping) else metadata,
        "occurred_on": occurred_on.isoformat() if occurred_on is not None else None,
        "recorded_at": format_recorded_at(recorded_at),
    }


def _scalar(value: object) -> bytes:
    """A str's (or other scalar's) JSON: its canonical JSON."""
    return canonical_json(value)


class RecordEncoder:
    """Assembles ``canonical_json(event_record(...))`` for the events of one append (one
    stream, one ``recorded_at``) from the canonical JSON of each event's ``data`` and
    ``metadata``, so that an append encodes each payload once and the parts common to the
    batch once.

    Raises:
        ValueError: ``recorded_at`` is naive.
    """

    def __init__(self, stream_id: str, recorded_at: datetime) -> None:
        self._tail = b"".join(
            (
                b',"recorded_at":"',
                format_recorded_at(recorded_at).encode("ascii"),
                b'","stream_id":',
                _scalar(stream_id),
                b',"stream_version":',
            )
        )
        self._types: dict[str, bytes] = {}

    def record_json(
        self,
        stream_version: int,
        event_id: UUID | str,
        event_type: str,
        data_json: bytes,
        metadata_json: bytes,
        occurred_on: date | None,
    ) -> bytes:
        """The canonical JSON of the event's record (keys in sorted order, compact, UTF-8).

        ``event_id``: the UUID or its ``str()`` (the canonical lowercase form, as given)."""
        type_json = self._types.get(event_type)
        if type_json is None:
            type_json = self._types[event_type] = _scalar(event_type)
        return b"".join(
            (
                b'{"data":',
                data_json,
                b',"event_id":"',
                str(event_id).encode("ascii"),
                b'","event_type":',
                type_json,
                b',"metadata":',
                metadata_json,
                b',"occurred_on":',
                b'"' + occurred_on.isoformat().encode("ascii") + b'"'
                if occurred_on is not None
                else b"null",
                self._tail,
                str(int(stream_version)).encode("ascii"),
                b"}",
            )
        )


def canonical_record_json(
    *,
    stream_id: str,
    stream_version: int,
    event_id: UUID,
    event_type: str,
    data_json: bytes,
    metadata_json: bytes,
    occurred_on: date | None,
    recorded_at: datetime,
) -> bytes:
    """``canonical_json(event_record(...))`` assembled from the canonical JSON of ``data``
    and ``metadata`` already made (``data_json = canonical_json(data)``): the same bytes.
    One event's :meth:`RecordEncoder.record_json`.

    Raises:
        ValueError: ``recorded_at`` is naive.
    """
    return RecordEncoder(stream_id, recorded_at).record_json(
        stream_version, event_id, event_type, data_json, metadata_json, occurred_on
    )


def chain_hash_of_json(prev_hash: bytes, record_json: bytes) -> bytes:
    """``sha256(prev_hash || record_json)`` for a record already in canonical JSON."""
    if len(prev_hash) != 32:
        raise ValueError(f"prev_hash must be 32 bytes, got {len(prev_hash)}")
    digest = hashlib.sha256(prev_hash)
    digest.update(record_json)
    return digest.digest()


def chain_hash(prev_hash: bytes, record: Mapping[str, Any]) -> bytes:
    """``sha256(prev_hash || canonical_json(record))``: 32 bytes.

    Raises:
        ValueError: ``prev_hash`` is not 32 bytes long.
        TypeError: ``record`` is not JSON serialisable.
    """
    if len(prev_hash) != 32:
        raise ValueError(f"prev_hash must be 32 bytes, got {len(prev_hash)}")
    return hashlib.sha256(bytes(prev_hash) + canonical_json(record)).digest()
