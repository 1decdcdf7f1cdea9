"""Figure 4, fold: the state of a process as of a date, rebuilt from a stream of 10,000
events (read from the store, decoded into domain events, folded by the domain's
``evolve``: what ``treaty audit state STREAM --as-of D`` and ``treaty parties --as-of D``
do), against reading the same rows and parsing their JSON (``json.loads`` of data and
metadata) alone.

The stream is ``treaty-CCM`` with 10,000 ``DepositCounted`` events (States in turn, one
business day each), folded as of the date of its 5,000th event.

    .venv/bin/python bench/fold_bench.py            # 10,000 events
    .venv/bin/python bench/fold_bench.py --quick    # 500 events

Figure: events per second, the median of ``--repeat`` rounds (9) run in alternating order;
ratio ours/baseline (target >= 0.5).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from datetime import date, timedelta

from _common import embedded, parse_args, ratio_line, say, states

TARGET = 0.5
STREAM = "treaty-CCM"
FIRST_DAY = date(1990, 1, 1)
COLUMNS = (
    "global_position, stream_id, stream_version, event_id, event_type, data, metadata,"
    " occurred_on, recorded_at, prev_hash, hash"
)


async def write_stream(url: str, events: int) -> None:
    from eventstore.store import EventStore, NewEvent

    codes = states(200)
    store = await EventStore.connect(url)
    try:
        version = 0
        while version < events:
            batch = []
            for v in range(version + 1, min(version + 500, events) + 1):
                day = FIRST_DAY + timedelta(days=v)
                batch.append(
                    NewEvent(
                        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{STREAM}/{v}"),
                        event_type="DepositCounted",
                        data={"occurred_on": day.isoformat(), "state": codes[v % 200], "count": v},
                        metadata={"actor": "bench", "source": f"synthetic row {v}"},
                        occurred_on=day,
                    )
                )
            await store.append(STREAM, version, batch)
            version += len(batch)
    finally:
        await store.close()


async def measure(url: str, events: int, repeat: int) -> tuple[float, float]:
    import asyncpg

    from eventstore.folding import fold_stored
    from eventstore.store import EventStore

    as_of = FIRST_DAY + timedelta(days=events // 2)
    store = await EventStore.connect(url, app_role=None)
    conn = await asyncpg.connect(url)
    try:

        async def ours() -> None:
            state = fold_stored(STREAM, await store.read_stream(STREAM), as_of=as_of)
            assert state.version == events // 2, state.version  # type: ignore[attr-defined]

        async def baseline() -> None:
            rows = await conn.fetch(
                f"SELECT {COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version",
                STREAM,
            )
            parsed = [(json.loads(r["data"]), json.loads(r["metadata"])) for r in rows]
            assert len(parsed) == events

        async def timed(run) -> float:  # noqa: ANN001
            start = time.perf_counter()
            await run()
            return time.perf_counter() - start

        await baseline()  # warm
        await ours()
        # rounds in alternating order, so that a change of the machine's load in the middle
        # of the run weighs on both sides alike
        base_times, our_times = [], []
        for i in range(repeat):
            if i % 2:
                our_times.append(await timed(ours))
                base_times.append(await timed(baseline))
            else:
                base_times.append(await timed(baseline))
                our_times.append(await timed(ours))
        return statistics.median(base_times), statistics.median(our_times)
    finally:
        await conn.close()
        await store.close()


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], events=10_000, repeat=9)
    events, repeat = (500, 2) if args.quick else (args.events, args.repeat)
    with embedded(temporal=False) as bench:
        url = bench.database_url
        asyncio.run(write_stream(url, events))
        base, mine = asyncio.run(measure(url, events, repeat))
    say(
        f"baseline: read {events} rows and json.loads their data and metadata: "
        f"{base * 1000:.0f} ms ({events / base:.0f} events/s)"
    )
    say(
        f"ours: read {STREAM} ({events} events) and fold it as of the {events // 2}th "
        f"event's date: {mine * 1000:.0f} ms ({events / mine:.0f} events/s)"
    )
    say(ratio_line(("fold", base / mine, TARGET)))


if __name__ == "__main__":
    main()
