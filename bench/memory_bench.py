"""Figure 6, memory: resident memory (RSS, MiB) of the stack's worker with N open
ratification processes, each with its entry-into-force timer pending (a deposit of
yesterday under a treaty in force: CCM Art. 17(2), APMBC Art. 17(2) and ATT Art. 22(2)
put the date months ahead), against the bare baseline worker (``bench/_noop.py``) with N
no-op workflows each waiting on a timer, with the same sticky cache size (the SDK's
default ``max_cached_workflows``, 1000).

    .venv/bin/python bench/memory_bench.py            # N = 2,000
    .venv/bin/python bench/memory_bench.py --quick    # N = 30

Figures: RSS in MiB idle and with N processes; ratio baseline/ours of the RSS with N
processes (no target: reported).
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from _common import (
    TREATIES,
    embedded,
    noop_worker,
    parse_args,
    populate,
    ratio_line,
    record_statement,
    rss_mib,
    say,
    synthetic_codes,
    today,
)

STICKY_CACHE = 1000  # temporalio.worker.Worker's default max_cached_workflows
QUEUE = "bench-noop"


async def baseline_load(address: str, n: int, concurrency: int = 16) -> None:
    from _noop import NoopWorkflow
    from temporalio.client import Client

    client = await Client.connect(address)
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            handle = await client.start_workflow(
                NoopWorkflow.run, 90 * 86400.0, id=f"bench-timer-{i}", task_queue=QUEUE
            )
            await handle.execute_update(NoopWorkflow.step, "deposit")

    await asyncio.gather(*(one(i) for i in range(n)))


async def pending_until(address: str, treaty: str, code: str) -> str:
    """The entry-into-force date a process waits for (its timer), checked to be ahead."""
    from adapters.temporal import connect_client
    from app import service

    client = await connect_client(address, "default")
    view = await service.ratification_view(client, treaty, code)
    assert view is not None, code
    s = view.state
    assert s.in_force_on is not None and s.in_force_on > today(), s
    assert not s.entered_into_force, s
    return s.in_force_on.isoformat()


def settle(pid: int, seconds: float = 5.0) -> float:
    """RSS of ``pid`` once the last workflow tasks are done (after ``seconds``)."""
    time.sleep(seconds)
    return rss_mib(pid)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], processes=2000)
    n = 30 if args.quick else args.processes
    with embedded() as bench:
        address = bench.temporal_address
        with noop_worker(address, QUEUE, STICKY_CACHE) as noop_pid:
            base_idle = settle(noop_pid, 1)
            asyncio.run(baseline_load(address, n))
            base = settle(noop_pid)
        say(
            f"baseline worker (no-op workflow, one activity, a timer each): idle "
            f"{base_idle:.0f} MiB, with {n} open workflows {base:.0f} MiB"
        )
        worker_pid = bench.worker_pid()
        ours_idle = rss_mib(worker_pid)
        for treaty in TREATIES:
            record_statement(bench, treaty)
        per = [n // 3 + (1 if i < n % 3 else 0) for i in range(3)]
        yesterday = today() - timedelta(days=1)
        for treaty, k in zip(TREATIES, per, strict=True):
            asyncio.run(
                populate(
                    address,
                    treaty,
                    synthetic_codes("M", k),
                    sign_on=None,
                    deposit_on=yesterday,
                    instrument="accession",
                )
            )
        ours = settle(worker_pid)
        checks = [
            f"{code} ({treaty}) until {asyncio.run(pending_until(address, treaty, code))}"
            for treaty, k in zip(TREATIES, per, strict=True)
            for code in synthetic_codes("M", k)[-1:]
        ]
        say(
            f"ours (stack worker, ratification processes with the entry-into-force timer "
            f"pending): idle {ours_idle:.0f} MiB, with {n} open processes {ours:.0f} MiB; "
            f"sticky cache {STICKY_CACHE} workflows; timers pending, e.g. {'; '.join(checks)}"
        )
    say(ratio_line(("memory (baseline RSS / ours)", base / ours, None)))


if __name__ == "__main__":
    main()
