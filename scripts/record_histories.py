#!/usr/bin/env python3
"""Record golden workflow histories from a real run of the demo flow.

    .venv/bin/python scripts/record_histories.py --out tests/histories/v2

On the embedded stack in a fresh temporary home (free ports; stopped and removed at the
end), it drives the ``treaty`` command as a user would:

1. ``treaty up``;
2. Bulgaria's signature (3 Dec 2008) and domestic procedure (completed on 10 Feb 2011, as
   Bulgaria told the CCM informal consultation of 24 Feb 2011, the date the demo's
   scenario ``examples/ccm/2011-consultation.yaml`` records too), so that
   one process has every step: signature, domestic procedure, deposit, entry into force;
3. ``treaty demo``: the depositary's statement of the CCM's entry into force, then the
   complete CCM record ``examples/ccm/status_2026.csv`` (Bulgaria's deposit of 6 Apr 2011
   among its rows; the histories recorded before the demo imported it came from the
   partial table ``examples/ccm/status.csv``);

and writes the history of each process of :data:`WORKFLOWS` to ``--out``/``<stream id>.json``,
exactly as ``WorkflowHistory.to_json()`` writes it (``tests/workflows/test_audit_replay.py``
replays every file under ``tests/histories``).

Options for a history that crosses a code change (a process started under the old code
and continued under the new one; see docs/workflow-changes.md):

- ``--home DIR``: the stack under ``DIR`` (kept; stopped at the end with ``treaty down``,
  so that the next run starts the worker again, from the code it is given);
- ``--code DIR``: run ``treaty`` and the worker from the source tree ``DIR`` (e.g. the old
  code, ``git archive <commit> | tar -x -C DIR``) instead of this repository;
- ``--steps SLICE``: only these steps of :data:`FLOW` (a Python slice: ``:2`` Bulgaria's
  signature and domestic procedure, ``2:`` the demo);
- ``--out`` is optional: without it, nothing is exported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.temporal import connect_client  # noqa: E402
from domain import ids  # noqa: E402

TREATY = Path(sys.executable).parent / "treaty"

#: One process per workflow type and path through it.
WORKFLOWS = {
    "treaty:CCM": "the treaty process: statement, 79 registrations and deposits counted",
    "ratification:CCM:BGR": "signature, domestic procedure, deposit (ratification), EIF",
    "ratification:CCM:AND": "accession without signature, EIF",
    "ratification:CCM:AGO": "signatory only",
}

#: The reporting processes (``--out tests/histories/reporting`` with these ids): the demo
#: opens this year's cycle; Bulgaria's report gets its reminder, a submission, a review;
#: ``reporting-open:CCM`` is the run the Schedule started when triggered.
YEAR = str(date.today().year)
REPORTING = {
    f"reporting:CCM:{YEAR}": "this year's cycle, opened by the demo",
    f"reporting:CCM:{YEAR}:BGR": "request, reminder and its delivery, submission, review",
    "reporting-open:CCM": "the Schedule's run (finds the cycle already open)",
}

FLOW = [
    ("ratification", "sign", "BGR", "--date", "2008-12-03", "--source", "UNTC-XXVI-6"),
    (
        "ratification",
        "domestic-procedure",
        "BGR",
        "--date",
        "2011-02-10",
        "--source",
        "CCM open-ended informal consultation, 24 Feb 2011: Bulgaria had finalized the "
        "domestic procedure for ratification on 10 February",
    ),
    ("demo", "--json"),
    ("reporting", "submit", "BGR", "--year", YEAR, "--nothing-new", "--source", "BGR/2026"),
    ("reporting", "review", "BGR", "--year", YEAR, "--accept"),
    ("reporting", "schedule", "--trigger"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _treaty(env: dict[str, str], cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [str(TREATY), *args], env=env, capture_output=True, text=True, cwd=cwd, timeout=900
    )
    if result.returncode != 0:
        raise SystemExit(
            f"`treaty {' '.join(args)}` failed (exit {result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout


def _slice(text: str) -> slice:
    try:
        parts = [int(p) if p.strip() else None for p in text.split(":")]
        return slice(*parts) if len(parts) in (2, 3) else slice(parts[0], parts[0] + 1)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"not a slice of the steps: {text!r}") from None


async def _fetch(address: str, namespace: str, workflow_ids: list[str]) -> list[Any]:
    client = await connect_client(address, namespace)
    histories = []
    for w in workflow_ids:
        if w.startswith("reporting-open:"):  # a Schedule's run: its id has a time suffix
            async for run in client.list_workflows(f'WorkflowId STARTS_WITH "{w}"'):
                w = run.id
                await client.get_workflow_handle(w).result()
                break
        histories.append(await client.get_workflow_handle(w).fetch_history())
    return histories


def _export(histories: list[Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for history in histories:
        workflow_id = history.workflow_id
        name = ids.stream_id(workflow_id)
        if workflow_id.startswith("reporting-open:"):
            name = "reporting-open-" + workflow_id.split(":")[1].split("-")[0]
        path = out / f"{name}.json"
        path.write_text(history.to_json() + "\n", encoding="utf-8")
        print(
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
            f"{workflow_id}, {len(history.events)} events"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "workflows",
        nargs="*",
        help=f"workflow ids (default: {list(WORKFLOWS)}; the reporting ones: {list(REPORTING)})",
    )
    parser.add_argument("--out", type=Path, help="folder for the histories (tests/histories/vN)")
    parser.add_argument("--home", type=Path, help="use (and keep) the stack under this home")
    parser.add_argument("--code", type=Path, help="run treaty and the worker from this tree")
    parser.add_argument("--steps", type=_slice, default=slice(None), help="e.g. :2 or 2:")
    args = parser.parse_args(argv)

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TEMPORAL_ADDRESS", "DATABASE_URL", "TEMPORAL_NAMESPACE", "PYTHONPATH")
    }
    env["TREATYFLOW_ACTOR"] = "record_histories"
    code = args.code.resolve() if args.code else ROOT
    if args.code:
        env["PYTHONPATH"] = str(code)  # its cli/, worker.py and workflows/ come first
    fresh = args.home is None
    home = Path(tempfile.mkdtemp(prefix="treatyflow-record-")) if fresh else args.home.resolve()
    env["TREATYFLOW_HOME"] = str(home)
    if fresh:
        env["TREATYFLOW_TEMPORAL_PORT"] = str(_free_port())
        env["TREATYFLOW_UI_PORT"] = str(_free_port())
    try:
        _treaty(env, code, "up")
        for step in FLOW[args.steps]:
            print(f"treaty {' '.join(step)}", flush=True)
            _treaty(env, code, *step)
        if args.out is not None:
            status = json.loads(_treaty(env, code, "ps", "--json"))
            workflow_ids = args.workflows or list(WORKFLOWS)
            histories = asyncio.run(_fetch(status["temporal_address"], "default", workflow_ids))
            _export(histories, args.out)
    finally:
        _treaty(env, code, "down")
        if fresh:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
