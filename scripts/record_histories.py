#!/usr/bin/env python3
"""Record golden workflow histories from a real run of the demo flow.

    .venv/bin/python scripts/record_histories.py tests/histories/v2

On the embedded stack in a fresh temporary home (free ports; stopped and removed at the
end), it drives the ``treaty`` command as a user would:

1. ``treaty up``;
2. Bulgaria's signature (3 Dec 2008) and domestic procedure (completed by 24 Feb 2011,
   when Bulgaria announced its ratification to the CCM informal consultation), so that
   one process has every step: signature, domestic procedure, deposit, entry into force;
3. ``treaty demo``: the depositary's statement of the CCM's entry into force, then the
   real status table ``examples/ccm/status.csv`` (Bulgaria's deposit of 6 Apr 2011 among
   its rows);

and writes the history of each process of :data:`WORKFLOWS` to ``OUT/<stream id>.json``,
exactly as ``WorkflowHistory.to_json()`` writes it (``tests/test_audit_replay.py``
replays every file under ``tests/histories``).

``--home DIR`` uses (and keeps) the stack under ``DIR`` instead; with ``--export-only`` the
flow is not run, only the named workflows (default :data:`WORKFLOWS`) are exported, e.g. to
record the history of a process that started under older code and went on under newer code
(see docs/workflow-changes.md).
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli.connect import connect_client  # noqa: E402
from domain import ids  # noqa: E402

TREATY = Path(sys.executable).parent / "treaty"

#: One process per workflow type and path through it.
WORKFLOWS = {
    "treaty:CCM": "the treaty process: statement, 79 registrations and deposits counted",
    "ratification:CCM:BGR": "signature, domestic procedure, deposit (ratification), EIF",
    "ratification:CCM:AND": "accession without signature, EIF",
    "ratification:CCM:AGO": "signatory only",
}

FLOW = [
    ("ratification", "sign", "BGR", "--date", "2008-12-03", "--source", "UNTC-XXVI-6"),
    (
        "ratification",
        "domestic-procedure",
        "BGR",
        "--date",
        "2011-02-24",
        "--source",
        "CCM open-ended informal consultation, 24 Feb 2011: Bulgaria announces its ratification",
    ),
    ("demo", "--json"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _treaty(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(TREATY), *args], env=env, capture_output=True, text=True, cwd=ROOT, timeout=900
    )
    if result.returncode != 0:
        raise SystemExit(
            f"`treaty {' '.join(args)}` failed (exit {result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout


async def _fetch(address: str, namespace: str, workflow_ids: list[str]) -> list[Any]:
    client = await connect_client(address, namespace)
    return [await client.get_workflow_handle(w).fetch_history() for w in workflow_ids]


def _export(histories: list[Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for history in histories:
        workflow_id = history.workflow_id
        path = out / f"{ids.stream_id(workflow_id)}.json"
        path.write_text(history.to_json() + "\n", encoding="utf-8")
        print(
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
            f"{workflow_id}, {len(history.events)} events"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the histories, e.g. tests/histories/v2")
    parser.add_argument("--home", type=Path, help="use (and keep) the stack under this home")
    parser.add_argument(
        "--export-only", action="store_true", help="do not run the flow, only export"
    )
    parser.add_argument("workflows", nargs="*", help=f"workflow ids (default: {list(WORKFLOWS)})")
    args = parser.parse_args(argv)
    if args.export_only and args.home is None:
        parser.error("--export-only needs --home (the stack to export from)")

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TEMPORAL_ADDRESS", "DATABASE_URL", "TEMPORAL_NAMESPACE")
    }
    env["TREATYFLOW_ACTOR"] = "record_histories"
    fresh = args.home is None
    home = Path(tempfile.mkdtemp(prefix="treatyflow-record-")) if fresh else args.home.resolve()
    env["TREATYFLOW_HOME"] = str(home)
    if fresh:
        env["TREATYFLOW_TEMPORAL_PORT"] = str(_free_port())
        env["TREATYFLOW_UI_PORT"] = str(_free_port())
    try:
        _treaty(env, "up")
        if not args.export_only:
            for step in FLOW:
                print(f"treaty {' '.join(step)}", flush=True)
                _treaty(env, *step)
        status = json.loads(_treaty(env, "ps", "--json"))
        workflow_ids = args.workflows or list(WORKFLOWS)
        _export(asyncio.run(_fetch(status["temporal_address"], "default", workflow_ids)), args.out)
    finally:
        if fresh:
            _treaty(env, "down")
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
