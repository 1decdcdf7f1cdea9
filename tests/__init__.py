"""The test suite, in layers: ``unit`` (domain and app, no server), ``workflows``
(time-skipping server, golden histories), ``integration`` (real PostgreSQL), ``e2e`` (the
CLI on the embedded stack; ``tests.e2e`` is also its helper module).

The paths every layer reads, found from this file wherever the checkout is: ``ROOT`` (the
repository), ``SHARED`` (the shared data beside it, ``../shared``), ``HISTORIES`` (the golden
workflow histories), ``STATUS_CSV`` (the partial CCM status table shipped in ``examples/``),
``STATUS_2026_CSV`` (the complete CCM record from the depositary's page, which ``treaty
demo`` imports).
"""

from __future__ import annotations

from pathlib import Path

# no I/O (no resolve()): the workflow sandbox imports this package again, and refuses it
ROOT = Path(__file__).parents[1]
SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"
HISTORIES = ROOT / "tests" / "histories"
STATUS_CSV = ROOT / "examples" / "ccm" / "status.csv"
STATUS_2026_CSV = ROOT / "examples" / "ccm" / "status_2026.csv"
