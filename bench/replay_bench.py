"""Figure 3, replay: ``treaty audit replay --all`` (every workflow run of the namespace,
fetched from the Temporal server and replayed against the current code, each reported
clean or where it diverges) against the SDK's bare ``Replayer.replay_workflows`` over the
same histories (``client.list_workflows().map_histories()``, the same workflows and data
converter), in the same run.

The histories: 1,000 ratification processes (333 or 334 per treaty: each signed, one in
ten also ratified, so the treaty processes count deposits) and the 3 treaty processes,
started through the engine's service layer.

    .venv/bin/python bench/replay_bench.py            # 1,000 processes
    .venv/bin/python bench/replay_bench.py --quick    # 30

Figure: histories per second; ratio ours/baseline (target >= 0.9).
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from _common import (
    TREATIES,
    embedded,
    parse_args,
    populate,
    ratio_line,
    say,
    synthetic_codes,
    timed,
)

TARGET = 0.9


async def make_histories(address: str, processes: int) -> None:
    from domain.treaties import get_profile

    per = [processes // 3 + (1 if i < processes % 3 else 0) for i in range(3)]
    for treaty, n in zip(TREATIES, per, strict=True):
        codes = synthetic_codes("Q", n)
        signed = get_profile(treaty).opened_for_signature_on + timedelta(days=1)
        deposited = signed + timedelta(days=30)
        ratified = codes[: max(1, n // 10)]
        await populate(address, treaty, ratified, sign_on=signed, deposit_on=deposited)
        await populate(address, treaty, codes[len(ratified) :], sign_on=signed, deposit_on=None)


async def baseline(address: str) -> tuple[float, int]:
    """Seconds to list, fetch and replay every run with ``Replayer.replay_workflows``; and
    how many runs."""
    from collections.abc import AsyncIterator

    from temporalio.client import Client, WorkflowHistory
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.worker import Replayer

    from workflows import registry

    client = await Client.connect(address, data_converter=pydantic_data_converter)
    replayer = Replayer(workflows=registry.WORKFLOWS, data_converter=pydantic_data_converter)
    count = 0

    async def counted() -> AsyncIterator[WorkflowHistory]:
        nonlocal count
        async for history in client.list_workflows().map_histories():
            count += 1
            yield history

    with timed() as elapsed:
        results = await replayer.replay_workflows(counted(), raise_on_replay_failure=False)
    assert not results.replay_failures, results.replay_failures
    return elapsed(), count


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], processes=1000)
    processes = 30 if args.quick else args.processes
    with embedded() as bench:
        address = bench.temporal_address
        asyncio.run(make_histories(address, processes))
        base, count = asyncio.run(baseline(address))
        say(
            f"baseline: Replayer.replay_workflows over {count} histories (listed and fetched "
            f"from the server): {base:.1f} s, {count / base:.1f} histories/s"
        )
        with timed() as elapsed:
            result = bench.stack.treaty("audit", "replay", "--all", "--json", timeout=3600)
        ours = elapsed()
        if result.returncode != 0:
            raise RuntimeError(f"treaty audit replay exited {result.returncode}: {result.stderr}")
        report = json.loads(result.stdout)
        clean = report["counts"].get("clean", 0)
        say(
            f"ours: treaty audit replay --all: {clean} of {len(report['results'])} replayed "
            f"cleanly: {ours:.1f} s, {len(report['results']) / ours:.1f} histories/s"
        )
    say(ratio_line(("replay", (len(report["results"]) / ours) / (count / base), TARGET)))


if __name__ == "__main__":
    main()
