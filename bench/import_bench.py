"""Figure 1, import: ``treaty import`` of a synthetic status table of N States for each of
the CCM, APMBC and ATT (3N processes, each with a signature and a deposit) against the
same number of workflow starts and Updates on a no-op workflow with a no-op activity
(``bench/_noop.py``), on the same Temporal dev server, in the same run.

    .venv/bin/python bench/import_bench.py            # N = 200: 600 processes
    .venv/bin/python bench/import_bench.py --quick    # N = 10

Figure: processes per second; ratio ours/baseline (target >= 0.7).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from _common import (
    TREATIES,
    embedded,
    noop_worker,
    parse_args,
    ratio_line,
    say,
    status_table,
    timed,
)

TARGET = 0.7
QUEUE = "bench-noop"


async def baseline(address: str, processes: int, concurrency: int) -> float:
    """Start ``processes`` no-op workflows and send each two Updates (signature and
    deposit's counterparts), ``concurrency`` processes at a time; seconds taken."""
    from _noop import NoopWorkflow
    from temporalio.client import Client

    client = await Client.connect(address)
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            handle = await client.start_workflow(
                NoopWorkflow.run, 0.0, id=f"bench-noop-{i}", task_queue=QUEUE
            )
            await handle.execute_update(NoopWorkflow.step, "sign")
            await handle.execute_update(NoopWorkflow.step, "deposit")

    with timed() as elapsed:
        await asyncio.gather(*(one(i) for i in range(processes)))
    return elapsed()


async def settle(address: str, n: int) -> None:
    """Wait until each treaty process has counted the ``n`` deposits of its table: the
    deposits' Updates return once the treaty process is signalled; it counts them after."""
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    from app import service

    client = await Client.connect(address, data_converter=pydantic_data_converter)
    for treaty in TREATIES:
        while True:
            view = await service.treaty_view(client, treaty)
            if view is not None and len(view.state.deposits) >= n:
                break
            await asyncio.sleep(0.2)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], states=200, concurrency=8)
    n = 10 if args.quick else args.states
    processes = n * len(TREATIES)
    with embedded() as bench, tempfile.TemporaryDirectory() as tmp:
        tables = [(t, status_table(t, n, Path(tmp) / f"{t}.csv")) for t in TREATIES]
        with noop_worker(bench.temporal_address, QUEUE):
            base = asyncio.run(baseline(bench.temporal_address, processes, args.concurrency))
        say(
            f"baseline: {processes} no-op workflow starts + {2 * processes} updates "
            f"(each one activity), concurrency {args.concurrency}: {base:.1f} s, "
            f"{processes / base:.1f} processes/s"
        )
        with timed() as elapsed:
            for treaty, path in tables:
                bench.treaty("import", str(path), "--treaty", treaty, "--json")
            ours = elapsed()
            asyncio.run(settle(bench.temporal_address, n))
        settled = elapsed()
        say(
            f"ours: treaty import of {n} States x {len(TREATIES)} treaties ({processes} "
            f"processes, signature + deposit each): {ours:.1f} s, {processes / ours:.1f} "
            "processes/s"
        )
        say(
            f"settled: every deposit counted by its treaty process {settled:.1f} s after the "
            f"first import started ({settled - ours:.1f} s after the last returned; reported, "
            "not in the ratio)"
        )
    say(ratio_line(("import", base / ours, TARGET)))


if __name__ == "__main__":
    main()
