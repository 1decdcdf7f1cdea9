"""`treaty --help` imports neither Temporal, asyncpg, the event store nor the workflows
(they take a few hundred ms to import; the help must print at once), and the commands that
are registered lazily (``treaty audit ...``) are still all there when asked for.

These check which modules are loaded (correctness), not how fast anything is; the timing
is ``bench/cli_startup_bench.py``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Top-level packages that printing help must not import: Temporal, asyncpg, the workflows,
#: the event store, the audit tools, psutil. (Our domain models should not be imported
#: either, but the command modules cli/decision.py, cli/hca.py, cli/reporting.py import them
#: at module level: see bench/README.md, figure 5.)
HEAVY = ("temporalio", "asyncpg", "workflows", "eventstore", "audit", "psutil")

PROBE = """
import json, sys
from cli import main
code = main.main(sys.argv[1:])
loaded = sorted({m.split('.')[0] for m in sys.modules})
sys.stdout.flush()
sys.stderr.write(json.dumps({"code": code, "loaded": loaded}) + "\\n")
"""


def probe(*args: str) -> tuple[int, set[str], str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report["code"], set(report["loaded"]), result.stdout


@pytest.mark.parametrize(
    "args", [("--help",), ("--version",), ("ratification", "--help"), ("status", "--help")]
)
def test_help_imports_no_temporal_asyncpg_or_models(args: tuple[str, ...]) -> None:
    code, loaded, out = probe(*args)
    assert code == 0
    assert out.strip(), "nothing printed"
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_top_level_help_lists_every_group_and_command() -> None:
    code, loaded, out = probe("--help")
    assert code == 0
    for name in ("up", "down", "import", "status", "parties", "events", "ratification", "audit"):
        assert f" {name} " in out, name


def test_audit_commands_are_registered_when_asked_for() -> None:
    code, _, out = probe("audit", "--help")
    assert code == 0
    for name in ("replay", "archive", "timeline", "state", "verify", "export"):
        assert f" {name} " in out, name
