"""A worker killed (SIGKILL) in the middle of an import loses no event and duplicates none.

The import runs as a CLI process; the worker is killed once events are flowing, then
`treaty up` starts a new one and the import finishes. Every stream must then hold exactly
the events its row implies, each once, with versions 1..n and an intact hash chain.
"""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import time

import asyncpg
import pytest

from audit.verify import verify_chain
from tests.e2e import STATUS_CSV, embedded_stack, snapshot

pytestmark = pytest.mark.e2e


def _expected_types(row: dict[str, str]) -> list[str]:
    types = []
    if row["instrument"] != "accession":
        types.append("SignatureRecorded")
    if row["deposit_date"]:
        types += ["InstrumentDeposited", "EntryIntoForceFixed", "EnteredIntoForce"]
    return types


async def _streams(database_url: str) -> dict[str, list[tuple[int, str]]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT stream_id, stream_version, event_type FROM events "
            "ORDER BY stream_id, stream_version"
        )
    finally:
        await conn.close()
    streams: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        streams.setdefault(r["stream_id"], []).append((r["stream_version"], r["event_type"]))
    return streams


def test_worker_killed_mid_import_loses_and_duplicates_nothing() -> None:
    from domain.states import resolve_state

    with open(STATUS_CSV, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    expected = {
        f"ratification-CCM-{resolve_state(r['state']).code}": _expected_types(r) for r in rows
    }
    deposits = sum(1 for r in rows if r["deposit_date"])

    with embedded_stack() as stack:
        statement = stack.treaty(
            "depositary-statement",
            "--in-force-on",
            "2010-08-01",
            "--threshold-deposited-on",
            "2010-02-16",
            "--statement",
            "UNTC XXVI-6: in force 1 August 2010, in accordance with article 17(1)",
        )
        assert statement.returncode == 0, statement.stderr
        url = stack.database_url
        importing = stack.popen("import", str(STATUS_CSV))
        deadline = time.monotonic() + 120
        while len(asyncio.run(snapshot(url))) < 60:
            assert importing.poll() is None, "the import ended before the worker was killed"
            assert time.monotonic() < deadline, "no events flowing"
            time.sleep(0.1)
        os.kill(stack.worker_pid(), signal.SIGKILL)
        killed_at = len(asyncio.run(snapshot(url)))
        time.sleep(2)
        restarted = stack.treaty("up")
        assert restarted.returncode == 0, restarted.stderr
        out, err = importing.communicate(timeout=300)
        assert importing.returncode == 0, out + err
        assert killed_at < sum(len(v) for v in expected.values()), "kill came too late"

        # wait for what follows the deposits asynchronously (the treaty process counts
        # them from signals; entry into force follows the treaty's answer)
        deadline = time.monotonic() + 120
        while True:
            streams = asyncio.run(_streams(url))
            # the obligations opened with the entry into force (initial report, annual
            # reports) are counted apart
            got = {
                k: [t for _, t in v if t != "ObligationOpened"]
                for k, v in streams.items()
                if k != "treaty-CCM"
            }
            treaty_types = [t for _, t in streams.get("treaty-CCM", [])]
            counted = treaty_types.count("DepositCounted")
            if (got == expected and counted >= deposits) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert got == expected
        assert counted == deposits
        for stream, types in expected.items():  # at least the initial and an annual report
            opened = [t for _, t in streams[stream] if t == "ObligationOpened"]
            assert len(opened) >= (2 if "EnteredIntoForce" in types else 0), stream
        for stream, events in streams.items():
            assert [v for v, _ in events] == list(range(1, len(events) + 1)), stream
        assert treaty_types.count("DepositaryStatementRecorded") == 1

        async def verify() -> list[str]:
            from eventstore.store import EventStore

            store = await EventStore.connect(url)
            try:
                problems = []
                for stream in streams:
                    problems += await verify_chain(store, stream)
                return problems
            finally:
                await store.close()

        assert asyncio.run(verify()) == []
