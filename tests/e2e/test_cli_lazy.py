"""`treaty --help` (and every group's and command's ``--help``) imports neither Temporal,
asyncpg, the event store, the workflows, the settings model (pydantic-settings) nor our
pydantic models (``domain.*`` but the plain ``domain.errors`` and ``domain.ids``): they take
a few hundred ms to import, and the help must print at once. The commands that are
registered lazily (``treaty audit ...``) are still all there when asked for.

These check which modules are loaded (correctness), not how fast anything is; the timing
is ``bench/cli_startup_bench.py``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Top-level packages that printing help must not import: Temporal, asyncpg, the workflows,
#: the event store, the audit tools, psutil, the settings model and pydantic-settings,
#: structlog (logging is configured when a command runs). (typer 0.29 itself imports
#: ``pydantic`` to parse a command's parameters: that is typer's, not a model of ours.)
HEAVY = (
    "temporalio",
    "asyncpg",
    "workflows",
    "eventstore",
    "audit",
    "psutil",
    "settings",
    "pydantic_settings",
    "structlog",
)
#: The only modules of ``domain`` that help may import: plain Python, no model.
LIGHT_DOMAIN = {"domain", "domain.errors", "domain.ids"}

#: Every group, and a command of each, whose ``--help`` is checked (``audit``'s commands are
#: registered only when ``audit`` is on the command line, and import the store when run).
HELP = [
    ("--help",),
    ("--version",),
    *[
        (group, "--help")
        for group in (
            "ratification",
            "decision",
            "hca",
            "config",
            "reporting",
            "contacts",
            "scenario",
            "meetings",
            "audit",
        )
    ],
    *[
        (*command, "--help")
        for command in (
            ("status",),
            ("up",),
            ("events",),
            ("import",),
            ("obligations",),
            ("deadlines",),
            ("ratification", "sign"),
            ("ratification", "deposit"),
            ("decision", "round"),
            ("hca", "milestone"),
            ("hca", "prepare"),
            ("reporting", "open"),
            ("config", "show"),
            ("meetings", "list"),
            ("audit", "replay"),
            ("audit", "state"),
            ("audit", "verify"),
        )
    ],
]

PROBE = """
import json, sys
from cli import main
code = main.main(sys.argv[1:])
loaded = sorted(sys.modules)
sys.stdout.flush()
sys.stderr.write(json.dumps({"code": code, "loaded": loaded}) + "\\n")
"""


def probe(*args: str) -> tuple[int, set[str], str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report["code"], set(report["loaded"]), result.stdout


@pytest.mark.parametrize("args", HELP, ids=" ".join)
def test_help_imports_no_temporal_asyncpg_settings_or_models(args: tuple[str, ...]) -> None:
    code, loaded, out = probe(*args)
    assert code == 0
    assert out.strip(), "nothing printed"
    packages = {m.split(".")[0] for m in loaded}
    assert not packages & set(HEAVY), sorted(packages & set(HEAVY))
    models = {m for m in loaded if m.split(".")[0] == "domain"} - LIGHT_DOMAIN
    assert not models, sorted(models)


def test_help_constants_are_the_domains() -> None:
    """The CLI repeats a few domain constants for its help (so that help imports no
    model): they must be the domain's own."""
    from cli import decision, hca
    from domain import decision as d
    from domain import hca as h

    assert decision.DEFAULT_REMIND_DAYS == d.DEFAULT_REMIND_DAYS
    assert hca.MILESTONES == h.MILESTONES
    assert hca.PREPARATIONS == h.PREPARATIONS


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
