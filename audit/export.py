"""``treaty audit export``: the record in a form another tool can read.

One line (JSON Lines) or one row (CSV, with a header) per event, streams in id order and
each stream in version order, with these fields (:data:`FIELDS`):

``stream_id``, ``stream_version``, ``event_id``, ``event_type``, ``occurred_on`` (the
business date, ISO 8601, empty/null when unknown), ``recorded_at`` (ISO 8601 UTC with
microseconds), ``actor`` and ``source`` (from the metadata), ``data`` and ``metadata``
(JSON objects; in CSV their canonical JSON text), ``prev_hash`` and ``hash`` (hex), and
``global_position``.

``recorded_at``, ``data`` and ``metadata`` are given exactly as they were hashed, so the
export is enough to recompute every hash chain: ``hash = sha256(prev_hash ||
canonical_json(record))`` with ``record`` as in :func:`eventstore.hashing.event_record`
(keys sorted, no whitespace, UTF-8).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, TextIO

from eventstore.folding import counts, metadata_of
from eventstore.hashing import canonical_json, format_recorded_at
from eventstore.store import EventStore, StoredEvent

Format = Literal["jsonl", "csv"]

FIELDS = (
    "stream_id",
    "stream_version",
    "event_id",
    "event_type",
    "occurred_on",
    "recorded_at",
    "actor",
    "source",
    "data",
    "metadata",
    "prev_hash",
    "hash",
    "global_position",
)


def row(event: StoredEvent) -> dict[str, Any]:
    """One event as a JSON-ready dict with the keys of :data:`FIELDS`."""
    return {
        "stream_id": event.stream_id,
        "stream_version": event.stream_version,
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "occurred_on": event.occurred_on.isoformat() if event.occurred_on else None,
        "recorded_at": format_recorded_at(event.recorded_at),
        "actor": metadata_of(event).get("actor"),
        "source": metadata_of(event).get("source"),
        "data": event.data,
        "metadata": event.metadata,
        "prev_hash": event.prev_hash.hex(),
        "hash": event.hash.hex(),
        "global_position": event.global_position,
    }


class _Writer:
    def __init__(self, fmt: Format, out: TextIO) -> None:
        self._out = out
        self._fmt = fmt
        self._csv: Any = None
        if fmt == "csv":
            self._csv = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
            self._csv.writeheader()
        elif fmt != "jsonl":
            raise ValueError(f"unknown format {fmt!r}: expected jsonl or csv")

    def write(self, event: StoredEvent) -> None:
        values = row(event)
        if self._fmt == "jsonl":
            self._out.write(json.dumps(values, ensure_ascii=False, sort_keys=False) + "\n")
            return
        for name in ("data", "metadata"):
            values[name] = canonical_json(values[name]).decode("utf-8")
        self._csv.writerow({k: "" if v is None else v for k, v in values.items()})


@dataclass(frozen=True)
class Exported:
    """What an export wrote: ``events`` rows from ``streams`` streams."""

    events: int
    streams: int


async def export(
    store: EventStore,
    stream_ids: Sequence[str],
    fmt: Format,
    out: TextIO,
    *,
    as_of: date | None = None,
    progress: Callable[[], None] | None = None,
) -> Exported:
    """Write the events of ``stream_ids`` (in the given order) to ``out`` in ``fmt``; with
    ``as_of``, only those whose business date is on or before it or unknown (the events
    ``treaty audit state --as-of`` folds). ``progress()`` is called after each stream.

    Raises:
        ValueError: ``fmt`` is neither ``jsonl`` nor ``csv``.
    """
    writer = _Writer(fmt, out)
    written = streams = 0
    for stream_id in stream_ids:
        kept = [e for e in await store.read_stream(stream_id) if counts(e, as_of, None)]
        for event in kept:
            writer.write(event)
        written += len(kept)
        streams += 1 if kept else 0
        if progress is not None:
            progress()
    return Exported(events=written, streams=streams)
