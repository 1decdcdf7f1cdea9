"""What the benchmarks share: a private embedded stack, timing, and the ratio line.

Every benchmark measures the engine ("ours") and a bare baseline in the same run, on the
same servers, and prints ``ours/baseline`` as its last line, e.g.::

    ratio ours/baseline: 0.83 (target >= 0.7: met)

A ratio is always "how fast we are next to the baseline" (throughput over throughput, or
the baseline's wall time over ours): 1.0 is as fast as the bare servers, higher is better.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/x.py` puts bench/ first, not the project
    sys.path.insert(0, str(ROOT))

from tests.e2e import Stack, fresh_stack  # noqa: E402

PYTHON = Path(sys.executable)
TREATIES = ("CCM", "APMBC", "ATT")


def parse_args(description: str, **extra: Any) -> argparse.Namespace:
    """``--quick`` (a smoke run: small sizes, seconds) plus the script's own options
    (``extra``: name -> default, exposed as ``--name``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes")
    for name, default in extra.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    return parser.parse_args()


def say(text: str) -> None:
    print(text, flush=True)


def ratio_line(*parts: tuple[str, float, float | None]) -> str:
    """``ratio ours/baseline: NAME R (target >= T: met|MISSED), ...``; a part is
    ``(name, ratio, target)`` (target None: reported only); the name is left out when
    there is one part."""
    texts = []
    for name, value, target in parts:
        label = f"{name} " if len(parts) > 1 else ""
        if target is None:
            texts.append(f"{label}{value:.2f}")
        else:
            verdict = "met" if value >= target else "MISSED"
            texts.append(f"{label}{value:.2f} (target >= {target:g}: {verdict})")
    return "ratio ours/baseline: " + ", ".join(texts)


@contextlib.contextmanager
def timed() -> Iterator[Callable[[], float]]:
    """``with timed() as elapsed: ...; elapsed()`` in seconds (wall clock)."""
    start = time.perf_counter()
    end: list[float] = []
    try:
        yield lambda: (end[0] if end else time.perf_counter()) - start
    finally:
        end.append(time.perf_counter())


def median_time(run: Callable[[], Any], repeat: int) -> float:
    """The median wall time of ``repeat`` calls of ``run`` (seconds)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- the embedded stack ------------------------------------------------------------------


@dataclass
class Bench:
    """A private embedded stack for one benchmark run."""

    stack: Stack

    @property
    def env(self) -> dict[str, str]:
        return self.stack.env

    def treaty(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        result = self.stack.treaty(*args, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(
                f"treaty {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}"
            )
        return result

    def ps(self) -> dict[str, Any]:
        return dict(self.stack.json("ps"))

    @property
    def temporal_address(self) -> str:
        return str(self.ps()["temporal_address"])

    @property
    def database_url(self) -> str:
        return self.stack.database_url

    def worker_pid(self) -> int:
        return self.stack.worker_pid()


@contextlib.contextmanager
def embedded(*, temporal: bool = True, **extra_env: str) -> Iterator[Bench]:
    """A fresh embedded stack in a temporary home on free ports (``treaty up``: Temporal
    dev server, PostgreSQL, the worker), or PostgreSQL alone (``temporal=False``: started
    by a read command); stopped and removed at the end."""
    stack = fresh_stack("treatyflow-bench-", "bench", TREATYFLOW_ARCHIVE_MINUTES="0", **extra_env)
    bench = Bench(stack)
    try:
        if temporal:
            bench.treaty("up", timeout=300)
        else:
            bench.treaty("parties", "--json", timeout=300)  # starts the embedded PostgreSQL
        yield bench
    finally:
        stack.treaty("down", timeout=300)
        shutil.rmtree(stack.home, ignore_errors=True)


# --- synthetic data ------------------------------------------------------------------------


def states(n: int) -> list[str]:
    """``n`` ISO 3166 alpha-3 codes of States the engine knows, in code order."""
    from domain.states import all_states

    codes = sorted(p.code for p in all_states())
    if n > len(codes):
        raise ValueError(f"only {len(codes)} States are known, {n} asked")
    return codes[:n]


def status_table(treaty: str, n: int, path: Path) -> Path:
    """A synthetic status table of ``n`` States for ``treaty``: each signed (four a day
    from the day the treaty was opened for signature) and ratified 60 days later. Every
    signature is then before the treaty's entry into force, as the profiles require (ATT
    Art. 21(1): open for signature until then): 200 States sign within 50 days, and the
    threshold deposit (30th, 40th or 50th) is at least 67 days after the opening.
    Columns as ``examples/ccm/status.csv``."""
    from domain.treaties import get_profile

    opened = get_profile(treaty).opened_for_signature_on
    lines = ["state,signature_date,instrument,deposit_date,source"]
    for i, code in enumerate(states(n)):
        signed = opened + timedelta(days=i // 4)
        deposited = signed + timedelta(days=60)
        lines.append(f"{code},{signed},ratification,{deposited},synthetic bench row {i + 1}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def today() -> date:
    return date.today()


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB."""
    import psutil

    return psutil.Process(pid).memory_info().rss / (1024 * 1024)


def spawn_python(code_or_args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """``python ARGS`` in the project folder (stdout/stderr to pipes)."""
    return subprocess.Popen(
        [str(PYTHON), *code_or_args],
        cwd=ROOT,
        env=env or dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextlib.contextmanager
def noop_worker(address: str, task_queue: str, max_cached: int = 1000) -> Iterator[int]:
    """The bare baseline's worker (``bench/_noop.py``) in a process of its own, polling
    ``task_queue``; yields its pid; stopped at the end."""
    proc = spawn_python([str(ROOT / "bench" / "_noop.py"), address, task_queue, str(max_cached)])
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.kill()
            raise RuntimeError(f"the no-op worker did not start: {proc.stderr.read()[-2000:]}")
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def synthetic_codes(prefix: str, n: int) -> list[str]:
    """``n`` made-up participant codes (``Q0001``...): the workflows take any code, so a
    benchmark may run more processes than there are States."""
    return [f"{prefix}{i:04d}" for i in range(1, n + 1)]


#: The depositaries' statements of entry into force (UNTC), for processes with timers.
EIF_STATEMENTS = {
    "CCM": (date(2010, 8, 1), "UNTC XXVI-6: entry into force 1 August 2010"),
    "APMBC": (date(1999, 3, 1), "UNTC XXVI-5: entry into force 1 March 1999"),
    "ATT": (date(2014, 12, 24), "UNTC XXVI-8: entry into force 24 December 2014"),
}


async def populate(
    address: str,
    treaty: str,
    codes: list[str],
    *,
    sign_on: date | None,
    deposit_on: date | None,
    instrument: str = "ratification",
    concurrency: int = 16,
    task_queue: str = "treatyflow",
) -> None:
    """Start one ratification process per code under ``treaty`` through the engine's own
    service layer (what ``treaty ratification sign/deposit`` send), ``concurrency`` at a
    time: a signature on ``sign_on`` and a deposit on ``deposit_on`` when given."""
    import asyncio

    from adapters.temporal import connect_client
    from app import service
    from domain import ratification as r
    from workflows.common import CommandMeta

    client = await connect_client(address, "default")
    context = await service.treaty_context(client, treaty, task_queue)
    meta = CommandMeta(actor="bench", source="synthetic")
    gate = asyncio.Semaphore(concurrency)

    async def one(code: str) -> None:
        commands: list[object] = []
        if sign_on is not None:
            commands.append(r.Sign(signed_on=sign_on))
        if deposit_on is not None:
            commands.append(r.Deposit(instrument=instrument, deposited_on=deposit_on))  # type: ignore[arg-type]
        async with gate:
            handle = await service.prepare_ratification(
                client, treaty, code, commands, task_queue, context, None
            )
            for command in commands:
                await service.send(handle, command, meta)  # type: ignore[arg-type]

    await asyncio.gather(*(one(c) for c in codes))


def record_statement(bench: Bench, treaty: str) -> None:
    """``treaty depositary-statement`` for ``treaty`` (its entry-into-force date is then
    known to every ratification process)."""
    day, text = EIF_STATEMENTS[treaty]
    bench.treaty(
        "depositary-statement", "--treaty", treaty, "--in-force-on", str(day), "--statement", text
    )
