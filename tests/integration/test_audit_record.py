"""``treaty audit timeline|state|verify|export`` and the read-only audit role.

Truth values come from the treaty text and the public record, not from the code:
Lithuania's row of examples/ccm/status.csv (ratification deposited 24 Mar 2011, signature
not dated by the source), the depositary's statement (UNTC XXVI-6: the CCM entered into
force on 1 Aug 2010, 30th instrument deposited 16 Feb 2010) and CCM Art. 17(2): for a
State depositing after the 30th instrument, the first day of the sixth month after its
deposit — 1 Sep 2011 for Lithuania.

Store-level tests build Lithuania's stream with the domain's own ``decide`` (what the
workflow appends) in a fresh database and run the CLI in-process; the end-to-end tests at
the bottom run the demo (the complete record, examples/ccm/status_2026.csv) on one embedded
stack and check the record against Temporal.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pydantic import BaseModel

from activities.eventstore import AppendRequest, EventRecord
from audit import timeline as timeline_mod
from audit import verify as verify_mod
from cli import audit_record
from cli import main as cli
from domain import ids, processes
from domain import ratification as r
from domain import treaty as t
from domain.events import DepositCounted, DomainEvent, event_data
from domain.treaties import get_profile
from eventstore.folding import changes
from eventstore.store import EventStore, NewEvent, StoredEvent
from tests.e2e import Stack, embedded_stack, free_port
from tests.support import eventually

LTU_WORKFLOW = "ratification:CCM:LTU"
LTU_STREAM = "ratification-CCM-LTU"
LTU_SOURCE = "CMC-news:2011/lithuania-ratifies-treaty-banning-cluster-bom.aspx"
UNTC = r.TreatyContext(
    in_force_on=date(2010, 8, 1), threshold_deposited_on=date(2010, 2, 16), basis="depositary"
)
LTU_DEPOSIT = date(2011, 3, 24)  # examples/ccm/status.csv
LTU_IN_FORCE = date(2011, 9, 1)  # CCM Art. 17(2): first day of the sixth month after


def ltu_id(version: int) -> uuid.UUID:
    """The event id the workflow gives Lithuania's event at ``version``."""
    return ids.event_id(LTU_WORKFLOW, version)


# --- fixtures ---------------------------------------------------------------------------------


@dataclass
class Lithuania:
    """Lithuania's stream in the database at ``url``; ``after_signature``: a time between
    the signature's and the deposit's recording."""

    url: str
    after_signature: datetime


async def _record(
    store: EventStore, s: r.RatificationState, command: r.Command, source: str | None
) -> r.RatificationState:
    """Decide ``command`` as the workflow would and append its events as it would."""
    events: list[DomainEvent] = r.decide(s, command, get_profile("CCM"), UNTC, date.today())
    meta = {"actor": "audit-test", "source": source, "workflow_id": LTU_WORKFLOW}
    await store.append(
        LTU_STREAM,
        s.version,
        [
            NewEvent(
                event_id=ltu_id(s.version + i + 1),
                event_type=e.type,  # type: ignore[attr-defined]
                data=event_data(e),
                metadata=meta,
                occurred_on=e.occurred_on,
            )
            for i, e in enumerate(events)
        ],
    )
    return r.fold(s, events)


@pytest.fixture
async def lithuania(db_url: str) -> Lithuania:
    store = await EventStore.connect(db_url)
    try:
        s = r.initial_state("CCM", "LTU")
        s = await _record(store, s, r.Sign(signed_on=None), LTU_SOURCE)
        await asyncio.sleep(0.01)
        after_signature = datetime.now(UTC)
        await asyncio.sleep(0.01)
        s = await _record(
            store, s, r.Deposit(instrument="ratification", deposited_on=LTU_DEPOSIT), LTU_SOURCE
        )
        s = await _record(store, s, r.MarkEnteredIntoForce(), None)
        assert s.version == 4
    finally:
        await store.close()
    return Lithuania(db_url, after_signature)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lithuania: Lithuania) -> Lithuania:
    """The CLI pointed at Lithuania's database; Temporal where nothing listens."""
    for name in ("TEMPORAL_NAMESPACE", "TREATYFLOW_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TREATYFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATABASE_URL", lithuania.url)
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
    return lithuania


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``treaty ARGS`` in-process: (exit code, stdout, stderr)."""
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Any:
    got, out, err = run(capsys, *args, "--json")
    assert got == code, out + err
    return json.loads(out)


def one_line(text: str) -> str:
    return " ".join(text.split())


async def _tamper(url: str, sql: str, *args: Any) -> None:
    """Change history as only a superuser can: trigger off, change, trigger on."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
            await conn.execute(sql, *args)
            await conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
    finally:
        await conn.close()


async def _last_versions(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT stream_id, max(stream_version) AS v FROM events GROUP BY stream_id"
        )
    finally:
        await conn.close()
    return {row["stream_id"]: int(row["v"]) for row in rows}


def tamper(url: str, sql: str, *args: Any) -> None:
    asyncio.run(_tamper(url, sql, *args))


# --- state as of a date -------------------------------------------------------------------------


def test_lithuania_consented_on_1_june_2011_and_in_force_on_2_september(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str]
) -> None:
    june = run_json(capsys, "audit", "state", LTU_WORKFLOW, "--as-of", "2011-06-01")
    assert june["status"] == "consented"
    assert june["state"]["consented_on"] == "2011-03-24"
    assert june["state"]["entered_into_force"] is False
    # the date is fixed at the deposit (Art. 17(2)), but not reached on 1 June
    assert june["state"]["in_force_on"] == "2011-09-01"
    assert june["events_folded"] == 3 and june["events_in_stream"] == 4

    september = run_json(capsys, "audit", "state", LTU_WORKFLOW, "--as-of", "2011-09-02")
    assert september["status"] == "in force"
    assert september["state"]["entered_into_force"] is True
    assert september["state"]["in_force_on"] == "2011-09-01"

    # the day before the deposit: a signatory (the undated signature counts as known)
    march = run_json(capsys, "audit", "state", "RATIFICATION-ccm-ltu", "--as-of", "2011-03-23")
    assert march["status"] == "signatory"
    assert march["state"]["signed"] is True and march["state"]["consented_on"] is None

    code, out, _ = run(capsys, "audit", "state", LTU_STREAM, "--as-of", "2011-06-01")
    assert code == 0
    text = one_line(out)
    assert "ratification-CCM-LTU as of 2011-06-01: consented" in text
    assert "3 of 4 events folded (up to version 3)" in text
    assert "consented_on 2011-03-24" in text


def test_parties_as_of_counts_lithuania_as_the_audit_fold_does(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str]
) -> None:
    for day, consented, in_force, status in (
        ("2011-03-23", [], [], "signatory"),
        ("2011-06-01", ["LTU"], [], "consented"),
        ("2011-08-31", ["LTU"], [], "consented"),
        ("2011-09-01", ["LTU"], ["LTU"], "in force"),
        ("2011-09-02", ["LTU"], ["LTU"], "in force"),
    ):
        parties = run_json(capsys, "parties", "--as-of", day)
        assert (parties["consented_states"], parties["in_force_states"]) == (consented, in_force)
        assert run_json(capsys, "audit", "state", LTU_STREAM, "--as-of", day)["status"] == status


async def test_reads_fold_as_of_is_the_audit_fold(lithuania: Lithuania) -> None:
    from app import reads

    store = await EventStore.connect(lithuania.url)
    try:
        events = await store.read_stream(LTU_STREAM)
        for day in (date(2011, 3, 23), date(2011, 6, 1), date(2011, 9, 2)):
            [folded] = await reads.ratifications(store, "CCM", day)
            assert folded == timeline_mod.state_as_of(LTU_STREAM, events, day).state
        june = await reads.parties(store, "CCM", date(2011, 6, 1))
        assert (june.consented, june.in_force) == (["LTU"], [])
    finally:
        await store.close()


def test_recorded_before_shows_what_the_record_said_then(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str]
) -> None:
    then = cli_env.after_signature.isoformat()
    known = run_json(
        capsys, "audit", "state", LTU_STREAM, "--as-of", "2011-09-02", "--recorded-before", then
    )
    assert known["status"] == "signatory"  # only the signature was recorded by then
    assert known["events_folded"] == 1
    assert known["recorded_before"] == cli_env.after_signature.astimezone(UTC).isoformat()

    code, _, err = run(
        capsys, "audit", "state", LTU_STREAM, "--as-of", "2011-09-02", "--recorded-before", "soon"
    )
    assert code == 2 and "is not a valid time" in one_line(err)


def test_state_of_an_empty_stream_is_refused(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "audit", "state", "ratification-CCM-BGR", "--as-of", "2011-06-01")
    assert code == 1 and "no events in stream 'ratification-CCM-BGR'" in err


# --- timeline -----------------------------------------------------------------------------------


def test_timeline_gives_each_event_its_source_and_change(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_json(capsys, "audit", "timeline", "ratification:ccm:ltu")
    assert result["stream"] == LTU_STREAM
    steps = result["events"]
    assert [(s["stream_version"], s["event_type"], s["occurred_on"]) for s in steps] == [
        (1, "SignatureRecorded", None),
        (2, "InstrumentDeposited", "2011-03-24"),
        (3, "EntryIntoForceFixed", "2011-03-24"),
        (4, "EnteredIntoForce", "2011-09-01"),
    ]
    assert [s["event_id"] for s in steps] == [str(ltu_id(v)) for v in (1, 2, 3, 4)]
    assert {s["actor"] for s in steps} == {"audit-test"}
    assert [s["source"] for s in steps] == [LTU_SOURCE, LTU_SOURCE, LTU_SOURCE, None]
    changed = [{c["field"]: (c["before"], c["after"]) for c in s["changes"]} for s in steps]
    assert changed[0] == {"signed": (False, True)}
    assert changed[1] == {
        "instrument": (None, "ratification"),
        "consented_on": (None, "2011-03-24"),
    }
    assert changed[2] == {
        "in_force_on": (None, "2011-09-01"),
        "eif_article": (None, "CCM Art. 17(2)"),
    }
    assert changed[3] == {"entered_into_force": (False, True)}

    code, out, _ = run(capsys, "audit", "timeline", LTU_STREAM)
    assert code == 0
    assert "in_force_on: — → 2011-09-01" in out
    assert "entered_into_force: false → true" in out


def test_changes_name_the_keys_of_a_mapping() -> None:
    before = t.initial_state("CCM").model_copy(update={"deposits": {"BGR": date(2011, 4, 6)}})
    after = t.evolve(before, DepositCounted(occurred_on=LTU_DEPOSIT, state="LTU", count=2))
    assert [str(c) for c in changes(before, after)] == ["deposits.LTU: — → 2011-03-24"]


# --- verify (the store) ---------------------------------------------------------------------------


def test_verify_store_only_passes_an_intact_stream(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run_json(capsys, "audit", "verify", LTU_STREAM, "--store-only")
    assert report["ok"] is True and report["discrepancies"] == []
    assert report["streams"][0]["checks"] == {
        "chain": "ok",
        "fold": "ok",
        "history": "not checked",
        "state": "not checked",
    }
    code, out, _ = run(capsys, "audit", "verify", "--all", "--store-only")
    assert code == 0
    assert "verified 1 process, 4 events: no discrepancy (chain, fold checked)" in one_line(out)


def test_verify_against_temporal_needs_the_server(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "audit", "verify", LTU_STREAM)
    assert code == 3
    assert "cannot reach Temporal" in one_line(err)
    assert "`treaty audit verify --store-only` checks the event store alone" in one_line(err)


def test_verify_names_the_stream_and_version_of_an_altered_event(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(
        cli_env.url,
        """UPDATE events SET data = jsonb_set(data, '{instrument}', '"accession"')"""
        " WHERE stream_id = $1 AND stream_version = 2",
        LTU_STREAM,
    )
    report = run_json(capsys, "audit", "verify", LTU_STREAM, "--store-only", code=1)
    [found] = report["discrepancies"]
    assert (found["stream"], found["version"], found["event_id"], found["check"]) == (
        LTU_STREAM,
        2,
        str(ltu_id(2)),
        "chain",
    )
    assert found["detail"].startswith("the event was altered after it was recorded")

    code, out, _ = run(capsys, "audit", "verify", "--all", "--store-only")
    assert code == 1
    text = one_line(out)
    assert f"ratification-CCM-LTU version 2 (event {ltu_id(2)}): the event was altered" in text
    assert "1 discrepancy in 1 process" in text


def test_verify_names_the_gap_of_a_deleted_event(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(
        cli_env.url, "DELETE FROM events WHERE stream_id = $1 AND stream_version = 2", LTU_STREAM
    )
    report = run_json(capsys, "audit", "verify", LTU_STREAM, "--store-only", code=1)
    found = [(d["version"], d["event_id"], d["detail"]) for d in report["discrepancies"]]
    assert found[0] == (2, None, "version 2 is missing: the stream goes on at version 3")
    assert found[1][:2] == (3, str(ltu_id(3)))
    assert found[1][2].startswith("the chain breaks here")
    assert len(found) == 2


def test_verify_names_an_event_that_is_no_domain_event(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(
        cli_env.url,
        "UPDATE events SET event_type = 'InstrumentWithdrawn'"
        " WHERE stream_id = $1 AND stream_version = 4",
        LTU_STREAM,
    )
    report = run_json(capsys, "audit", "verify", LTU_STREAM, "--store-only", code=1)
    found = {(d["check"], d["version"]) for d in report["discrepancies"]}
    assert found == {("chain", 4), ("fold", 4)}
    fold = next(d for d in report["discrepancies"] if d["check"] == "fold")
    assert fold["detail"] == "InstrumentWithdrawn cannot be read: unknown event type"

    code, _, err = run(capsys, "audit", "state", LTU_STREAM, "--as-of", "2011-09-02")
    assert code == 1 and "at version 4" in err and "treaty audit verify" in err
    steps = run_json(capsys, "audit", "timeline", LTU_STREAM)["events"]
    assert steps[3]["error"] == "cannot be read: unknown event type"


def test_check_chain_names_missing_first_versions() -> None:
    now = datetime.now(UTC)
    prev = b"\x01" * 32  # the hash of a deleted version 2
    event = StoredEvent(1, "s", 3, uuid.uuid4(), "X", {}, {}, None, now, prev, bytes(32))
    [gap, link, altered] = verify_mod.check_chain("s", [event])
    assert (gap.version, gap.detail) == (
        1,
        "versions 1 to 2 are missing: the stream starts at version 3",
    )
    assert (link.version, link.detail[:20]) == (3, "the chain breaks her")
    assert (altered.version, altered.detail[:27]) == (3, "the event was altered after")


# --- verify (matching the Temporal history) ---------------------------------------------


def _stored(version: int, event_type: str = "SignatureRecorded", **data: Any) -> StoredEvent:
    return StoredEvent(
        version,
        LTU_STREAM,
        version,
        ltu_id(version),
        event_type,
        {"state": "LTU", "occurred_on": None, **data},
        {"actor": "a"},
        None,
        datetime.now(UTC),
        bytes(32),
        bytes(32),
    )


def _append(outcome: str, *versions: int, scheduled: int = 5) -> verify_mod.RecordedAppend:
    request = AppendRequest(
        stream_id=LTU_STREAM,
        expected_version=versions[0] - 1,
        events=[
            EventRecord(
                event_id=ltu_id(v),
                event_type="SignatureRecorded",
                data={"state": "LTU", "occurred_on": None},
                occurred_on=None,
            )
            for v in versions
        ],
        metadata={"actor": "a"},
    )
    return verify_mod.RecordedAppend("run-1", scheduled, outcome, request)


def test_history_match_names_what_was_lost_added_or_changed() -> None:
    ok, notes = verify_mod.match_history(
        LTU_STREAM, [_stored(1), _stored(2)], [_append("completed", 1, 2)]
    )
    assert (ok, notes) == ([], [])

    # added: a stored event no completed append carried
    [added], _ = verify_mod.match_history(
        LTU_STREAM, [_stored(1), _stored(2)], [_append("completed", 1)]
    )
    assert (added.version, added.event_id) == (2, ltu_id(2))
    assert "not recorded by the workflow" in added.detail

    # lost: a completed append whose event is not stored
    [lost], _ = verify_mod.match_history(LTU_STREAM, [_stored(1)], [_append("completed", 1, 2)])
    assert (lost.version, lost.event_id) == (2, ltu_id(2))
    assert lost.detail.startswith("SignatureRecorded is missing from the store")
    assert "run run-1, history event 5" in lost.detail

    # changed: same id, other data
    [changed], _ = verify_mod.match_history(
        LTU_STREAM, [_stored(1, state="FRA")], [_append("completed", 1)]
    )
    assert changed.detail.endswith('data.state "FRA" in the store, "LTU" in the history')

    # stored although its append failed; and an append still in progress is only a note
    [failed], _ = verify_mod.match_history(LTU_STREAM, [_stored(1)], [_append("failed", 1)])
    assert "its append failed in the Temporal history" in failed.detail
    found, [note] = verify_mod.match_history(LTU_STREAM, [_stored(1)], [_append("pending", 1)])
    assert found == [] and "still in progress" in note.detail

    # two different events appended at one version
    other = _append("completed", 1, scheduled=9)
    other.request.events[0].event_id = uuid.uuid4()
    found, _ = verify_mod.match_history(LTU_STREAM, [_stored(1)], [_append("completed", 1), other])
    assert [
        d.detail.startswith("the history appended two events at this version") for d in found
    ] == [True]


def test_history_match_leaves_out_the_events_of_runs_it_does_not_have() -> None:
    second_run = StoredEvent(**{**_stored(2).__dict__, "metadata": {"run_id": "run-2"}})
    assert verify_mod.match_history(
        LTU_STREAM, [_stored(1), second_run], [_append("completed", 1)], runs={"run-1"}
    ) == ([], [])
    # all runs at hand: the same event is one no append carried
    [added], _ = verify_mod.match_history(
        LTU_STREAM, [_stored(1), second_run], [_append("completed", 1)]
    )
    assert added.version == 2


def test_compare_state_names_every_differing_field() -> None:
    store = r.initial_state("CCM", "LTU").model_copy(update={"version": 3})
    workflow = store.model_copy(update={"version": 4, "entered_into_force": True})
    [d] = verify_mod.compare_state(LTU_STREAM, store, workflow)
    assert d.detail == (
        "the state folded from the store differs from the workflow's: version: 3 in the store,"
        " 4 in the workflow; entered_into_force: false in the store, true in the workflow"
    )
    assert verify_mod.compare_state(LTU_STREAM, store, store.model_copy()) == []


# --- generic over the process types ------------------------------------------------------------


class Tally(BaseModel):
    code: str
    version: int = 0
    counted: int = 0


def test_a_new_process_type_plugs_in_without_new_audit_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        processes.PROCESS_TYPES,
        "tally",
        processes.ProcessType(
            prefix="tally",
            initial=lambda parts: Tally(code=parts[0]),
            evolve=lambda s, e: s.model_copy(
                update={"version": s.version + 1, "counted": s.counted + 1}
            ),
        ),
    )
    now = datetime.now(UTC)
    events = [
        StoredEvent(v, "tally-X", v, uuid.uuid4(), "DepositCounted",
                    {"state": "LTU", "count": v, "occurred_on": day}, {}, date.fromisoformat(day),
                    now, bytes(32), bytes(32))
        for v, day in ((1, "2011-03-24"), (2, "2011-04-06"))
    ]  # fmt: skip
    steps = timeline_mod.timeline("tally-X", events)
    assert [str(c) for s in steps for c in s.changes] == ["counted: 0 → 1", "counted: 1 → 2"]
    assert timeline_mod.state_as_of("tally:X", events, date(2011, 4, 1)).state == Tally(
        code="X", version=1, counted=1
    )
    assert processes.workflow_state("tally:X", {"state": {"code": "X", "counted": 2}}) == Tally(
        code="X", counted=2
    )
    assert audit_record.resolve_stream("Tally:X", "CCM") == "tally-X"


# --- export -----------------------------------------------------------------------------------


def _rehash(rows: list[dict[str, Any]]) -> list[str]:
    """The hash chain recomputed from exported rows with hashlib and json alone."""
    hashes, prev = [], bytes(32)
    for row in rows:
        record = {
            "stream_id": row["stream_id"],
            "stream_version": int(row["stream_version"]),
            "event_id": row["event_id"],
            "event_type": row["event_type"],
            "data": row["data"],
            "metadata": row["metadata"],
            "occurred_on": row["occurred_on"] or None,
            "recorded_at": row["recorded_at"],
        }
        text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        prev = hashlib.sha256(prev + text.encode("utf-8")).digest()
        hashes.append(prev.hex())
    return hashes


def test_export_jsonl_and_csv_carry_the_record_and_its_hashes(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "audit", "export", LTU_WORKFLOW, "--format", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["stream_id"], r["stream_version"], r["event_type"]) for r in rows] == [
        (LTU_STREAM, 1, "SignatureRecorded"),
        (LTU_STREAM, 2, "InstrumentDeposited"),
        (LTU_STREAM, 3, "EntryIntoForceFixed"),
        (LTU_STREAM, 4, "EnteredIntoForce"),
    ]
    assert [r["event_id"] for r in rows] == [str(ltu_id(v)) for v in (1, 2, 3, 4)]
    assert [r["occurred_on"] for r in rows] == [None, "2011-03-24", "2011-03-24", "2011-09-01"]
    assert rows[1]["source"] == LTU_SOURCE and rows[1]["actor"] == "audit-test"
    assert rows[2]["data"]["in_force_on"] == "2011-09-01"
    assert [r["hash"] for r in rows] == _rehash(rows)
    assert rows[0]["prev_hash"] == "00" * 32

    target = tmp_path / "ltu.csv"
    code, out, err = run(
        capsys, "audit", "export", "--all", "--format", "CSV", "--as-of", "2011-06-01",
        "--output", str(target),
    )  # fmt: skip
    assert code == 0 and out == ""
    assert f"exported 3 events of 1 stream to {target}" in one_line(err)
    table = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [r["stream_version"] for r in table] == ["1", "2", "3"]  # not the 1 Sep entry
    assert table[0]["occurred_on"] == ""
    for row in table:
        row["data"], row["metadata"] = json.loads(row["data"]), json.loads(row["metadata"])
    assert [r["hash"] for r in table] == _rehash(table)

    code, _, err = run(capsys, "audit", "export", "--format", "csv")
    assert code == 2 and "give a STREAM" in err


# --- least privilege --------------------------------------------------------------------------


async def test_audit_role_may_select_and_nothing_else(lithuania: Lithuania) -> None:
    store = await EventStore.connect(lithuania.url, app_role=audit_record.AUDIT_ROLE)
    try:
        async with store._p.acquire() as conn:
            assert await conn.fetchval("SELECT current_user") == "treatyflow_audit"
            assert (
                await conn.fetchval(
                    "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'treatyflow_audit'"
                )
                is False
            )
            privileges = {
                p: await conn.fetchval("SELECT has_table_privilege('events', $1)", p)
                for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
            }
            assert privileges == {
                "SELECT": True,
                "INSERT": False,
                "UPDATE": False,
                "DELETE": False,
                "TRUNCATE": False,
                "TRIGGER": False,
            }
            with pytest.raises(asyncpg.InsufficientPrivilegeError) as err:
                await conn.execute(
                    "INSERT INTO events (stream_id, stream_version, event_id, event_type, data,"
                    " metadata, recorded_at, prev_hash, hash) VALUES ('x', 1,"
                    " gen_random_uuid(), 'Forged', '{}', '{}', now(), '\\x00', '\\x00')"
                )
            assert err.value.message == "permission denied for table events"
        assert len(await store.read_stream(LTU_STREAM)) == 4  # it can read
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await store.append("x", 0, [NewEvent(uuid.uuid4(), "Forged", {}, {}, None)])
    finally:
        await store.close()


def test_audit_commands_connect_as_the_audit_role(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    roles: list[str | None] = []
    connect = EventStore.connect.__func__  # type: ignore[attr-defined]

    async def spy(cls: type[EventStore], dsn: str, **kwargs: Any) -> EventStore:
        roles.append(kwargs.get("app_role", "treatyflow_app"))
        return await connect(cls, dsn, **kwargs)

    monkeypatch.setattr(EventStore, "connect", classmethod(spy))
    for args in (
        ("timeline", LTU_STREAM),
        ("state", LTU_STREAM, "--as-of", "2011-06-01"),
        ("verify", LTU_STREAM, "--store-only"),
        ("export", LTU_STREAM),
    ):
        code, out, err = run(capsys, "audit", *args)
        assert code == 0, out + err
    assert roles == ["treatyflow_audit"] * 4


# --- end to end: the demo's record against Temporal ------------------------------------------


@pytest.fixture(scope="module")
def demo_stack() -> Iterator[Stack]:
    with embedded_stack() as stack:
        result = stack.treaty("demo", "--json", timeout=600)
        assert result.returncode == 0, result.stderr
        yield stack


def _count_events(stack: Stack) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(stack.database_url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM events"))
        finally:
            await conn.close()

    return asyncio.run(count())


async def _statuses_as_of(stack: Stack, days: list[str]) -> dict[str, dict[str, str | None]]:
    """day -> ISO3 -> the status of each ratification process folded as of that day."""
    store = await EventStore.connect(stack.database_url, app_role=audit_record.AUDIT_ROLE)
    try:
        streams = [s for s, _ in await store.list_streams("ratification-CCM-")]
        events = {s: await store.read_stream(s) for s in streams}
    finally:
        await store.close()
    return {
        day: {
            s.rsplit("-", 1)[1]: timeline_mod.state_as_of(s, e, date.fromisoformat(day)).status
            for s, e in events.items()
        }
        for day in days
    }


def _stack_json(stack: Stack, *args: str, code: int = 0) -> Any:
    result = stack.treaty(*args, "--json")
    assert result.returncode == code, result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.mark.e2e
def test_demo_record_audits_clean(demo_stack: Stack) -> None:
    """Runs before the tampering test below (file order)."""
    stack = demo_stack
    june = _stack_json(stack, "audit", "state", "ratification:CCM:LTU", "--as-of", "2011-06-01")
    assert (june["status"], june["state"]["consented_on"]) == ("consented", "2011-03-24")
    assert june["state"]["entered_into_force"] is False
    september = _stack_json(
        stack, "audit", "state", "ratification:CCM:LTU", "--as-of", "2011-09-02"
    )
    assert (september["status"], september["state"]["in_force_on"]) == ("in force", "2011-09-01")
    for day, in_force in (("2011-06-01", False), ("2011-09-02", True)):
        parties = _stack_json(stack, "parties", "--as-of", day)
        assert "LTU" in parties["consented_states"]
        assert ("LTU" in parties["in_force_states"]) is in_force
        # Bulgaria: deposit 6 Apr 2011, in force 1 Oct 2011 (Art. 17(2))
        assert "BGR" in parties["consented_states"] and "BGR" not in parties["in_force_states"]

    # every State: `treaty parties --as-of` counts what the audit fold says on that date
    folded = asyncio.run(_statuses_as_of(stack, ["2010-08-01", "2011-03-30", "2011-09-02"]))
    for day, statuses in folded.items():
        parties = _stack_json(stack, "parties", "--as-of", day)
        in_force = sorted(s for s, status in statuses.items() if status == "in force")
        consented = sorted(
            s for s, status in statuses.items() if status in ("in force", "consented")
        )
        assert (parties["consented_states"], parties["in_force_states"]) == (consented, in_force)

    treaty_steps = _stack_json(stack, "audit", "timeline", "treaty-ccm")["events"]
    ltu = next(
        s
        for s in treaty_steps
        if s["event_type"] == "DepositCounted" and s["data"]["state"] == "LTU"
    )
    assert ltu["occurred_on"] == "2011-03-24"
    assert {"field": "deposits.LTU", "before": None, "after": "2011-03-24"} in ltu["changes"]

    total = _count_events(stack)
    report = _stack_json(stack, "audit", "verify", "--all")
    assert report["ok"] is True and report["discrepancies"] == []
    # 125 rows of status_2026.csv + the treaty's process + the 24 Feb 2011 scenario's ISU
    # decision and 2MSP host-country agreement + this year's reporting cycle and the report
    # of each State that owes it (CCM Art. 7(2)): the 113 with a deposit less Lithuania
    # (withdrawal in effect 6 Mar 2025, Art. 20(3)) and, in 2026, Vanuatu (in force 1 Mar
    # 2026, initial report due 28 Aug 2026: first annual report 2027)
    owing = 111 if date.today().year == 2026 else 112
    assert report["streams_checked"] == 128 + 1 + owing
    assert report["events_checked"] == total
    assert {json.dumps(s["checks"], sort_keys=True) for s in report["streams"]} == {
        json.dumps({c: "ok" for c in verify_mod.CHECKS}, sort_keys=True)
    }
    exported = stack.treaty("audit", "export", "--all", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    assert len(list(csv.DictReader(io.StringIO(exported.stdout)))) == total


@pytest.mark.e2e
def test_verify_names_tampering_and_a_lost_event_against_temporal(demo_stack: Stack) -> None:
    stack = demo_stack
    url = stack.database_url
    tamper(
        url,
        """UPDATE events SET data = jsonb_set(data, '{instrument}', '"accession"')"""
        " WHERE stream_id = 'ratification-CCM-BGR' AND stream_version = 2",
    )
    tamper(
        url, "DELETE FROM events WHERE stream_id = 'ratification-CCM-NLD' AND stream_version = 2"
    )
    # Switzerland (deposit 17 Jul 2012, in force 1 Jan 2013): signature, deposit, date
    # fixed, entered into force, then its obligations (the initial report and the annual
    # reports 2014 to 2027): the last one is lost
    last = asyncio.run(_last_versions(url))
    che_last = last["ratification-CCM-CHE"]
    tamper(
        url,
        "DELETE FROM events WHERE stream_id = 'ratification-CCM-CHE' AND stream_version = $1",
        che_last,
    )
    asyncio.run(_delete_workflow(stack, LTU_WORKFLOW))

    report = _stack_json(stack, "audit", "verify", "--all", code=1)
    # the treaty still counts the Netherlands' deposit (23 Feb 2011, UNTC XXVI-6), which
    # its stream no longer records
    counts = [d["detail"] for d in report["discrepancies"] if d["check"] == "deposits"]
    assert counts == [
        "counts NLD's deposit of 2011-02-23, which ratification-CCM-NLD does not record "
        "(an import stopped after the count? import the table again)"
    ]
    found = {
        (d["stream"], d["version"], d["check"])
        for d in report["discrepancies"]
        if d["check"] != "deposits"
    }
    assert found == {
        ("ratification-CCM-BGR", 2, "chain"),  # altered
        ("ratification-CCM-BGR", 2, "history"),  # not what the workflow appended
        ("ratification-CCM-BGR", last["ratification-CCM-BGR"], "state"),
        ("ratification-CCM-NLD", 2, "chain"),  # the gap
        ("ratification-CCM-NLD", 3, "chain"),  # the broken link
        ("ratification-CCM-NLD", 2, "history"),  # lost
        ("ratification-CCM-NLD", last["ratification-CCM-NLD"] - 1, "state"),
        ("ratification-CCM-CHE", che_last, "history"),  # the lost last event
        ("ratification-CCM-CHE", che_last - 1, "state"),
    }
    by_key = {(d["stream"], d["version"], d["check"]): d for d in report["discrepancies"]}
    che = by_key[("ratification-CCM-CHE", che_last, "history")]
    assert che["event_id"] == str(ids.event_id("ratification:CCM:CHE", che_last))
    assert che["detail"].startswith(
        "ObligationOpened is missing from the store: the Temporal history"
    )
    assert by_key[("ratification-CCM-BGR", 2, "history")]["detail"].endswith(
        'data.instrument "accession" in the store, "ratification" in the history'
    )
    assert "annual-report-2027" in by_key[("ratification-CCM-CHE", che_last - 1, "state")]["detail"]
    gone = [n["detail"] for n in report["notes"] if n["stream"] == LTU_STREAM]
    assert gone and "no longer on the Temporal server" in gone[0]
    [ltu_checks] = [s["checks"] for s in report["streams"] if s["stream"] == LTU_STREAM]
    assert ltu_checks == {
        "chain": "ok",
        "fold": "ok",
        "history": "not checked",
        "state": "not checked",
    }

    # a workflow removed from the server whose history is in the archive: the archived
    # history still vouches for the store, until the archive itself is altered
    mda = "ratification:CCM:MDA"
    asyncio.run(_archive_and_delete(stack, mda))
    archived = _stack_json(stack, "audit", "verify", mda)
    assert archived["streams"][0]["checks"] == {
        "chain": "ok",
        "fold": "ok",
        "history": "ok",
        "state": "not checked",
    }
    assert "compared with its archived history" in archived["notes"][0]["detail"]
    asyncio.run(
        _tamper_archive(
            url,
            "UPDATE workflow_history_archive SET history = history || ' '"
            " WHERE workflow_id = 'ratification:CCM:MDA'",
        )
    )
    altered = _stack_json(stack, "audit", "verify", mda, code=1)
    [bad] = altered["discrepancies"]
    assert (bad["stream"], bad["check"]) == ("ratification-CCM-MDA", "history")
    assert "was altered after it was archived" in bad["detail"]

    one = stack.treaty("audit", "verify", "ratification-CCM-CHE")
    assert one.returncode == 1
    assert f"ratification-CCM-CHE version {che_last} (event" in one_line(one.stdout)
    ltu = stack.treaty("audit", "verify", LTU_WORKFLOW)
    assert ltu.returncode == 0, ltu.stdout + ltu.stderr
    assert "is no longer on the Temporal server" in one_line(ltu.stdout)


async def _delete_workflow(stack: Stack, workflow_id: str) -> None:
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
    from temporalio.client import Client
    from temporalio.service import RPCError

    client = await Client.connect(_stack_json(stack, "ps")["temporal_address"])
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace="default", workflow_execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )

    async def deleted() -> bool:  # deletion is asynchronous
        try:
            await client.get_workflow_handle(workflow_id).describe()
        except RPCError:
            return True
        return False

    await eventually(deleted, 10, f"{workflow_id} was not deleted")


async def _archive_and_delete(stack: Stack, workflow_id: str) -> None:
    """Put ``workflow_id``'s history into the history archive, then delete the workflow.

    The worker archives closed runs; here the running run's history is put there directly
    (``HistoryArchive.put``, what ``archive_closed`` calls), because the dev server takes
    about 30 s to delete a closed workflow and deletes a running one at once.
    """
    from temporalio.client import Client

    from audit.archive import HistoryArchive

    client = await Client.connect(_stack_json(stack, "ps")["temporal_address"])
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    store = await EventStore.connect(stack.database_url)  # the application role may archive
    try:
        stored = await HistoryArchive(store).put(
            history, workflow_type="Ratification", status="running", closed_at=None
        )
        assert stored
    finally:
        await store.close()
    await _delete_workflow(stack, workflow_id)


async def _tamper_archive(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            trigger = "workflow_history_archive_append_only"
            await conn.execute(f"ALTER TABLE workflow_history_archive DISABLE TRIGGER {trigger}")
            await conn.execute(sql)
            await conn.execute(f"ALTER TABLE workflow_history_archive ENABLE TRIGGER {trigger}")
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("column", "value"),
    [("data", '"x"'), ("data", "[1]"), ("data", "null"), ("metadata", '"x"'), ("metadata", "[]")],
)
def test_an_event_whose_json_is_not_an_object_is_named_not_a_crash(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str], column: str, value: str
) -> None:
    tamper(
        cli_env.url,
        f"UPDATE events SET {column} = $2::jsonb WHERE stream_id = $1 AND stream_version = 1",
        LTU_STREAM,
        value,
    )
    report = run_json(capsys, "audit", "verify", LTU_STREAM, "--store-only", code=1)
    assert {(d["check"], d["version"]) for d in report["discrepancies"]} >= {("chain", 1)}
    assert run(capsys, "audit", "verify", "--all", "--store-only")[0] == 1
    assert run(capsys, "audit", "timeline", LTU_STREAM)[0] in (0, 1)
    assert run(capsys, "audit", "state", LTU_STREAM, "--as-of", "2011-09-02")[0] in (0, 1)
    assert run(capsys, "audit", "export", LTU_STREAM, "--format", "jsonl")[0] == 0
    assert run(capsys, "audit", "export", LTU_STREAM, "--format", "csv")[0] == 0


def test_export_to_a_full_disk_says_it_cannot_write(
    cli_env: Lithuania, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "audit", "export", LTU_STREAM, "--format", "csv", "-o", "/dev/full")
    assert code == 1
    assert "cannot write /dev/full" in one_line(err)
