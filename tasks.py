#!/usr/bin/env python3
"""The two quick-start commands, with nothing but Python 3.11+ on the machine.

    python3 tasks.py demo        # create .venv, install, run `treaty demo`
    python3 tasks.py test        # create .venv, install with test extras, ruff + every layer
    python3 tasks.py test-fast   # the same venv, ruff + tests/unit and tests/workflows only

The virtual environment lives in ``.venv`` next to this file (``TREATYFLOW_VENV``
overrides it). Installation is skipped when ``pyproject.toml`` has not changed
since the last successful install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("TREATYFLOW_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def _run(*args: str | Path) -> None:
    result = subprocess.run([str(a) for a in args], cwd=ROOT)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv(extras: str) -> None:
    """Create the venv and install the project with ``extras`` unless already done."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may run on an old Python
        sys.exit(f"treatyflow needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / ".treatyflow-installed"
    if stamp.exists() and stamp.read_text() == key and PY.exists():
        return
    if not PY.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        _run(sys.executable, "-m", "venv", VENV)
    print("installing treatyflow and its pinned dependencies (a minute or two)", flush=True)
    _run(PY, "-m", "pip", "install", "-qq", "--disable-pip-version-check", "-e", f".[{extras}]")
    stamp.write_text(key)


PARALLEL = ("-n", "3", "--dist", "loadfile")
"""The whole suite runs in three pytest-xdist processes, a test file whole in one of them
(its module-scoped stack and fixtures stay together): most of an end-to-end test's time is
spent waiting on servers, so three processes fill two cores."""

FAST_LAYERS = ("tests/unit", "tests/workflows")
"""The fast lane: the domain and the application (no server), the workflows on the
time-skipping test server; without the tests marked ``e2e`` (they start an embedded stack)."""


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in {"demo", "test", "test-fast"}:
        sys.exit("usage: python3 tasks.py demo|test|test-fast")
    ensure_venv("test")
    if argv[0] == "demo":
        _run(BIN / "treaty", "demo")
        return
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "ruff", "format", "--check", ".")
    if argv[0] == "test":  # what CI runs: every layer (pyproject's testpaths)
        _run(PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PARALLEL)
    else:
        _run(PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not e2e", *FAST_LAYERS)


if __name__ == "__main__":
    main(sys.argv[1:])
