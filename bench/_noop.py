"""The bare-Temporal baseline: a no-op workflow with a no-op activity, and its worker.

``BenchNoop`` waits (for ``sleep_seconds`` on a durable timer, or until it is told to end)
and answers the Update ``step`` by running the no-op activity once: what a treatyflow
command costs Temporal (an Update, a workflow task, an activity), with no domain, no event
store and no pydantic.

    python bench/_noop.py ADDRESS TASK_QUEUE [MAX_CACHED_WORKFLOWS]

runs its worker until SIGTERM (a process of its own, as the treatyflow worker is).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker


@activity.defn(name="bench_noop")
async def noop(arg: str) -> str:
    return arg


@workflow.defn(name="BenchNoop")
class NoopWorkflow:
    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self, sleep_seconds: float) -> None:
        if sleep_seconds > 0:
            await workflow.sleep(sleep_seconds)
        else:
            await workflow.wait_condition(lambda: self._done)

    @workflow.update
    async def step(self, arg: str) -> str:
        return await workflow.execute_activity(
            noop, arg, start_to_close_timeout=timedelta(seconds=30)
        )

    @workflow.signal
    def end(self) -> None:
        self._done = True


async def serve(address: str, task_queue: str, max_cached: int) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[NoopWorkflow],
        activities=[noop],
        max_cached_workflows=max_cached,
    ):
        print("ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1000))
