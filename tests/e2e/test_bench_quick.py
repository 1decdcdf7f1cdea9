"""Smoke runs of the benchmarks (``bench/*.py --quick``): each starts what it needs,
measures the engine and its baseline, and ends with its ``ours/baseline`` ratio line.

These check that the benchmarks run and report, not how fast anything is (timings on a
shared machine are noise; ``bench/README.md`` has the full-size figures)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests import ROOT

BENCH = ROOT / "bench"
RATIO = re.compile(r"^ratio ours/baseline: .*\d+\.\d\d")

SCRIPTS = [
    "import_bench.py",
    "record_import_bench.py",
    "append_bench.py",
    "replay_bench.py",
    "fold_bench.py",
    "cli_startup_bench.py",
    "memory_bench.py",
]


@pytest.mark.e2e
@pytest.mark.parametrize("script", SCRIPTS)
def test_quick_run_prints_its_ratio_last(script: str) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=BENCH.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) >= 2, result.stdout  # the figures, then the ratio
    assert RATIO.match(lines[-1]), lines[-1]


def test_every_benchmark_is_smoke_tested() -> None:
    scripts = sorted(p.name for p in BENCH.glob("*.py") if not p.name.startswith("_"))
    assert scripts == sorted(SCRIPTS)
