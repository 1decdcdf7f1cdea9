"""Figure 2, append: :meth:`eventstore.store.EventStore.append` (versioned, hash-chained,
one transaction per call) against raw asyncpg INSERTs of the same rows into a bare table
(same columns, no constraint but its key, no trigger) on the same PostgreSQL, with the same
durability settings (the server's: one commit per call).

Two shapes: one event per call on 16 concurrent streams; batches of 100 events per call.

    .venv/bin/python bench/append_bench.py            # 16 x 200 single, 16 x 10 batches, 5 rounds
    .venv/bin/python bench/append_bench.py --quick

Figures: events per second; ratios ours/baseline (targets >= 0.6 single, >= 0.8 batched).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import date, timedelta
from typing import Any

from _common import embedded, parse_args, ratio_line, say, timed

TARGET_SINGLE = 0.6
TARGET_BATCH = 0.8
STREAMS = 16
BATCH = 100

BARE_TABLE = """
CREATE TABLE IF NOT EXISTS bench_bare_events (
    global_position bigserial PRIMARY KEY,
    stream_id text NOT NULL,
    stream_version int NOT NULL,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL,
    occurred_on date,
    recorded_at timestamptz NOT NULL,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL
)
"""
BARE_INSERT = (
    "INSERT INTO bench_bare_events (stream_id, stream_version, event_id, event_type, data,"
    " metadata, occurred_on, recorded_at, prev_hash, hash)"
    " VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, now(), $8, $9)"
)


def event(stream: str, version: int) -> dict[str, Any]:
    """One row's content: a deposit as the ratification process records it."""
    day = date(2011, 3, 24) + timedelta(days=version)
    return {
        "event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"{stream}/{version}"),
        "event_type": "InstrumentDeposited",
        "data": {
            "occurred_on": day.isoformat(),
            "state": "LTU",
            "instrument": "ratification",
            "provisional_application": False,
            "reservations": [],
        },
        "metadata": {
            "actor": "bench",
            "source": "UNTC XXVI-6, status as at 2011",
            "workflow_id": stream.replace("-", ":"),
            "run_id": str(uuid.uuid5(uuid.NAMESPACE_URL, stream)),
            "causation_id": f"update:deposit:{version}",
            "correlation_id": "bench",
        },
        "occurred_on": day,
    }


async def ours(url: str, tag: str, per_stream: int, batch: int) -> float:
    """Seconds to append ``per_stream`` calls of ``batch`` events to each of 16 streams
    (the streams concurrently, each stream's calls in order)."""
    from eventstore.store import EventStore, NewEvent

    store = await EventStore.connect(url, min_size=STREAMS, max_size=STREAMS)
    try:

        async def stream(s: int) -> None:
            sid = f"ratification-BENCH{tag}-S{s:02d}"
            version = 0
            for _ in range(per_stream):
                events = [NewEvent(**event(sid, version + i + 1)) for i in range(batch)]
                await store.append(sid, version, events)
                version += batch

        with timed() as elapsed:
            await asyncio.gather(*(stream(s) for s in range(STREAMS)))
        return elapsed()
    finally:
        await store.close()


async def baseline(url: str, tag: str, per_stream: int, batch: int) -> float:
    """The same rows INSERTed raw: one INSERT per call for single events, an
    ``executemany`` in one transaction for a batch."""
    import json

    import asyncpg

    pool = await asyncpg.create_pool(url, min_size=STREAMS, max_size=STREAMS)
    try:
        await pool.execute(BARE_TABLE)

        def row(sid: str, version: int) -> tuple[Any, ...]:
            e = event(sid, version)
            digest = hashlib.sha256(f"{sid}/{version}".encode()).digest()
            return (
                sid,
                version,
                e["event_id"],
                e["event_type"],
                json.dumps(e["data"]),
                json.dumps(e["metadata"]),
                e["occurred_on"],
                digest,
                digest,
            )

        async def stream(s: int) -> None:
            sid = f"bare-BENCH{tag}-S{s:02d}"
            version = 0
            for _ in range(per_stream):
                rows = [row(sid, version + i + 1) for i in range(batch)]
                if batch == 1:
                    await pool.execute(BARE_INSERT, *rows[0])
                else:
                    async with pool.acquire() as conn, conn.transaction():
                        await conn.executemany(BARE_INSERT, rows)
                version += batch

        with timed() as elapsed:
            await asyncio.gather(*(stream(s) for s in range(STREAMS)))
        return elapsed()
    finally:
        await pool.close()


async def run(url: str, single_calls: int, batches: int, rounds: int) -> tuple[float, float]:
    """Per shape, ``rounds`` rounds of baseline and ours (in alternating order, so that a
    burst of load elsewhere on the machine does not fall on one side only); the median of
    the rounds' ratios."""
    import statistics

    # warm both paths (connections, prepared statements) before timing
    await baseline(url, "W", 2, 1)
    await ours(url, "W", 2, 1)
    medians = []
    for shape, calls, size in (("1", single_calls, 1), ("B", batches, BATCH)):
        events = STREAMS * calls * size
        ratios, bases, mines = [], [], []
        for r in range(rounds):
            tag = f"{shape}{r}"
            if r % 2 == 0:
                base = await baseline(url, tag, calls, size)
                mine = await ours(url, tag, calls, size)
            else:
                mine = await ours(url, tag, calls, size)
                base = await baseline(url, tag, calls, size)
            ratios.append(base / mine)
            bases.append(base)
            mines.append(mine)
        base, mine = statistics.median(bases), statistics.median(mines)
        label = "1 event per call" if size == 1 else f"batches of {size}"
        say(
            f"{label}, {STREAMS} concurrent streams, {events} events, median of {rounds} "
            f"rounds: baseline (raw INSERT) {base:.2f} s, {events / base:.0f} events/s; ours "
            f"(EventStore.append) {mine:.2f} s, {events / mine:.0f} events/s; ratios "
            + ", ".join(f"{x:.2f}" for x in ratios)
        )
        medians.append(statistics.median(ratios))
    return medians[0], medians[1]


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], single_calls=200, batches=10, rounds=5)
    single_calls, batches, rounds = (
        (10, 1, 1) if args.quick else (args.single_calls, args.batches, args.rounds)
    )
    with embedded(temporal=False) as bench:
        url = bench.database_url
        single, batched = asyncio.run(run(url, single_calls, batches, rounds))
    say(ratio_line(("single", single, TARGET_SINGLE), ("batched", batched, TARGET_BATCH)))


if __name__ == "__main__":
    main()
