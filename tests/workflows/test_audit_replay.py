"""``treaty audit replay``, the history archive and the golden histories.

Truth values come from the recorded histories themselves (tests/histories/*/*.json, read
here as plain JSON, not through the code under test) and from the Temporal rule that
replay checks: the current code must issue the same commands, in the same order, as the
history records.

- Golden histories (recorded by scripts/record_histories.py from real runs of the demo):
  every one replays against the current workflows. ``v1`` was recorded before the patch
  ``record-reached-eif-with-its-date`` (workflows/ratification.py), ``v2`` after it,
  ``v1-then-v2`` started under the old code and continued under the new one.
- Changed definitions registered under the same workflow name (the classes below) are
  reported with the first diverging event; the unchanged workflow replays cleanly.
- The archive (PostgreSQL): archiving twice stores once; a tampered row is reported; a
  closed workflow deleted from the server replays from the archive (embedded stack).

The changed workflows are defined in this module, which the workflow sandbox imports
again: its imports are passed through, and its module-level code does no I/O there.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import asyncio
    import base64
    import io
    import json
    import signal
    import subprocess
    import time
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

    import asyncpg
    import pytest
    from rich.console import Console
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import (
        DeleteWorkflowExecutionRequest,
        DescribeNamespaceRequest,
    )
    from temporalio.client import WorkflowHistory
    from temporalio.service import RPCError, RPCStatusCode

    import worker
    from adapters.temporal import connect_client
    from audit import archive as archive_mod
    from audit import replay as replay_mod
    from cli import main as cli
    from domain import ratification as r
    from eventstore.migrate import migrate
    from tests import HISTORIES
    from tests.e2e import ROOT, TREATY, Stack, embedded_stack, free_port
    from workflows import registry
    from workflows.common import Recorded, today
    from workflows.ratification import (
        RECORD_REACHED_EIF,
        RatificationInput,
        RatificationWorkflow,
        SignRequest,
    )
    from workflows.treaty import TreatyWorkflow

GOLDEN = [] if workflow.unsafe.in_sandbox() else sorted(HISTORIES.glob("*/*.json"))
V1 = HISTORIES / "v1"
V2 = HISTORIES / "v2"
MIXED = HISTORIES / "v1-then-v2"
V4 = HISTORIES / "v4"
V6 = HISTORIES / "v6"


# --- changed definitions, each registered under the name "Ratification" --------------------


@workflow.defn(name="Ratification")
class RatificationThatDoesNotRegister(RatificationWorkflow):
    """A change that breaks replay: the process no longer announces itself to the treaty
    process when it starts (the rest of ``run`` as it is)."""

    @workflow.init
    def __init__(self, input: RatificationInput) -> None:
        super().__init__(input)

    @workflow.run
    async def run(self, input: RatificationInput) -> None:
        while True:
            self._engine.rest()
            await self._engine.wait_for_change()


@workflow.defn(name="Ratification")
class RatificationWithAnotherActivity(RatificationWorkflow):
    """A change that breaks replay where the SDK's message names no event: a signature
    first runs another activity."""

    @workflow.init
    def __init__(self, input: RatificationInput) -> None:
        super().__init__(input)

    @workflow.run
    async def run(self, input: RatificationInput) -> None:
        await super().run(input)

    @workflow.update
    async def sign(self, request: SignRequest) -> Recorded:
        await workflow.execute_activity(
            "check_signature", request, start_to_close_timeout=timedelta(seconds=30)
        )
        return await self._execute(request.command, request.meta, "update:sign")


@workflow.defn(name="Ratification")
class RatificationWithoutThePatchGuard(RatificationWorkflow):
    """The patch of workflows/ratification.py without its ``workflow.patched`` guard."""

    @workflow.init
    def __init__(self, input: RatificationInput) -> None:
        super().__init__(input)

    @workflow.run
    async def run(self, input: RatificationInput) -> None:
        await super().run(input)

    def _reached(self, events: list) -> list:
        if not events:
            return []
        after = r.fold(self._engine.state, events)
        return r.decide(
            after, r.MarkEnteredIntoForce(), self._profile, self._context, today().date()
        )


@workflow.defn(name="Ratification")
class RatificationBeforeThePatch(RatificationWorkflow):
    """The code as it was before the patch (the run loop records a reached date)."""

    @workflow.init
    def __init__(self, input: RatificationInput) -> None:
        super().__init__(input)

    @workflow.run
    async def run(self, input: RatificationInput) -> None:
        await super().run(input)

    def _reached(self, events: list) -> list:
        return []


# --- reading the histories as plain JSON ------------------------------------------------------


def events_of(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["events"]


def ids_of(path: Path, event_type: str, **where: Any) -> list[int]:
    """The ids of the events of ``event_type`` (``ACTIVITY_TASK_SCHEDULED``) whose
    attributes contain ``where`` (top-level keys of the attributes object)."""
    found = []
    for e in events_of(path):
        if e["eventType"] != f"EVENT_TYPE_{event_type}":
            continue
        attrs = next(v for k, v in e.items() if k.endswith("Attributes"))
        if all(attrs.get(k) == v for k, v in where.items()):
            found.append(int(e["eventId"]))
    return found


def by_id(results: list[replay_mod.ReplayResult]) -> dict[str, replay_mod.ReplayResult]:
    return {x.workflow_id: x for x in results}


def replay_files(paths: list[Path], workflows: list[type]) -> list[replay_mod.ReplayResult]:
    return asyncio.run(replay_mod.replay([replay_mod.from_file(p) for p in paths], workflows))


# --- golden histories ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: str(p.relative_to(HISTORIES)))
def test_golden_history_replays_cleanly(path: Path) -> None:
    [result] = replay_files([path], registry.WORKFLOWS)
    assert result.status == "clean", result.message
    assert result.events == len(events_of(path)) and result.source == "file"


def test_golden_histories_cover_every_workflow_type_before_and_after_the_patch() -> None:
    types = {getattr(w, "__temporal_workflow_definition").name for w in registry.WORKFLOWS}
    for folder in (V1, V2):
        recorded = {
            events_of(p)[0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]
            for p in folder.glob("*.json")
        }
        assert recorded == {"Treaty", "Ratification"}, folder
    # the later workflow types have theirs in a folder of their own (decisions/, recorded
    # by scripts/record_decision_histories.py; reporting/, by scripts/record_histories.py):
    # every type of the worker has one
    everywhere = {
        events_of(p)[0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]
        for p in HISTORIES.glob("*/*.json")
    }
    assert everywhere == types
    names = {p.name for p in V1.glob("*.json")}
    assert (
        names
        == {p.name for p in V2.glob("*.json")}
        == {
            "treaty-CCM.json",
            "ratification-CCM-BGR.json",  # signature, domestic procedure, deposit, EIF
            "ratification-CCM-AND.json",  # accession
            "ratification-CCM-AGO.json",  # signatory only
        }
    )


def test_bulgaria_history_has_every_step_of_a_ratification() -> None:
    for folder in (V1, V2, MIXED):
        path = folder / "ratification-CCM-BGR.json"
        updates = [
            e["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]["input"]["name"]
            for e in events_of(path)
            if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED"
        ]
        assert updates == ["sign", "complete_domestic_procedure", "deposit"], folder


def _names(path: Path) -> tuple[list[str], list[str]]:
    """The Updates accepted and the signals received, in history order."""
    events = events_of(path)
    updates = [
        e["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]["input"]["name"]
        for e in events
        if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED"
    ]
    signals = [
        e["workflowExecutionSignaledEventAttributes"]["signalName"]
        for e in events
        if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED"
    ]
    return updates, signals


def test_v4_import_counts_in_one_update_and_records_each_row_in_one() -> None:
    # recorded after the import changed (app/service.py import_rows): the treaty process
    # counts the table's 74 deposits in one Update and registers the new processes in a
    # second; each row reaches its process as one Update. Bulgaria, signed by hand before
    # (ratification sign, domestic-procedure), registered itself by its own signal and
    # was told the date the statement fixed; its deposit came with the import.
    assert _names(V4 / "treaty-CCM.json") == (
        ["record_depositary_statement", "count_deposits", "count_deposits"],
        ["register"],
    )
    assert _names(V4 / "ratification-CCM-BGR.json") == (
        ["sign", "complete_domestic_procedure", "record_commands"],
        ["treaty_context"],
    )
    for state in ("AND", "AGO"):  # accession; signatory only
        assert _names(V4 / f"ratification-CCM-{state}.json") == (["record_commands"], [])


# --- the engine (workflows/engine.py): the same commands before and after it -----------------


def _commands(path: Path) -> list[str]:
    """The workflow's commands as its history records them, in order: activities by type,
    timers, patch markers by id, signals by name, child workflows by type, how the run
    ended (what replay compares; not their arguments)."""
    found = []
    for e in events_of(path):
        kind = e["eventType"].removeprefix("EVENT_TYPE_")
        attrs = next((v for k, v in e.items() if k.endswith("Attributes")), {})
        if kind == "ACTIVITY_TASK_SCHEDULED":
            found.append(f"activity {attrs['activityType']['name']}")
        elif kind == "TIMER_STARTED":
            found.append("timer")
        elif kind == "MARKER_RECORDED" and "patch-data" in attrs["details"]:
            payload = attrs["details"]["patch-data"]["payloads"][0]
            found.append(f"patched {json.loads(base64.b64decode(payload['data']))['id']}")
        elif kind == "MARKER_RECORDED":  # a local activity's
            payload = attrs["details"]["data"]["payloads"][0]
            found.append(
                f"local activity {json.loads(base64.b64decode(payload['data']))['activity_type']}"
            )
        elif kind == "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED":
            found.append(f"signal {attrs['signalName']}")
        elif kind == "START_CHILD_WORKFLOW_EXECUTION_INITIATED":
            found.append(f"child {attrs['workflowType']['name']}")
        elif kind.startswith("WORKFLOW_EXECUTION_") and kind.removeprefix(
            "WORKFLOW_EXECUTION_"
        ) in ("COMPLETED", "FAILED", "CONTINUED_AS_NEW"):
            found.append(kind.lower())
    return found


#: Each folder recorded before the engine and its counterpart recorded with it.
ENGINE_FOLDERS = {"v4": "v5", "decisions": "decisions-v2", "reporting": "reporting-v2"}
ENGINE_PAIRS = (
    []
    if workflow.unsafe.in_sandbox()  # no I/O in the sandbox, which imports this module too
    else [
        (path, HISTORIES / ENGINE_FOLDERS[folder] / path.name)
        for folder in ENGINE_FOLDERS
        for path in sorted((HISTORIES / folder).glob("*.json"))
    ]
)


@pytest.mark.parametrize(
    ("before", "after"),
    ENGINE_PAIRS,
    ids=lambda p: str(p.relative_to(HISTORIES)),
)
def test_the_engine_issues_the_commands_the_workflows_issued_before_it(
    before: Path, after: Path
) -> None:
    """The histories recorded with the engine (v5, decisions-v2, reporting-v2) by the same
    scripts as those before it hold the same commands in the same order, and both replay
    against the current code."""
    assert after.exists(), f"{after} not recorded"
    if before == HISTORIES / "decisions" / "hca-CCM-2MSP.json":
        # recorded before the patch hca-past-due-historical, which changed its commands
        # (a marker; due dates already past no longer escalated at once): the same
        # scripts on the code just before the engine record what the engine records
        assert _commands(after)[0] == "patched hca-past-due-historical"
        assert not any(c.startswith("patched") for c in _commands(before))
    else:
        assert _commands(after) == _commands(before)
    results = replay_files([before, after], registry.WORKFLOWS)
    assert [x.status for x in results] == ["clean", "clean"], [x.message for x in results]


# --- the patch example, on the history before and after it ----------------------------------


def _marker_ids(path: Path) -> list[str]:
    found = []
    for e in events_of(path):
        if e["eventType"] == "EVENT_TYPE_MARKER_RECORDED":
            payload = e["markerRecordedEventAttributes"]["details"]["patch-data"]["payloads"][0]
            found.append(json.loads(base64.b64decode(payload["data"]))["id"])
    return found


def test_the_patch_records_a_reached_date_in_the_same_append_as_the_deposit() -> None:
    """What the patch changes, read from the histories: before it, a historical deposit
    took two appends (the deposit with its date, then EnteredIntoForce from the run loop);
    after it, one append after a marker."""
    for path in (V1 / "ratification-CCM-BGR.json", V1 / "ratification-CCM-AND.json"):
        assert _marker_ids(path) == []
    for path in (V2 / "ratification-CCM-BGR.json", MIXED / "ratification-CCM-BGR.json"):
        assert _marker_ids(path) == [RECORD_REACHED_EIF]
    appends = {
        folder.name: len(
            ids_of(
                folder / "ratification-CCM-BGR.json",
                "ACTIVITY_TASK_SCHEDULED",
                activityType={"name": "append_events"},
            )
        )
        for folder in (V1, V2, MIXED)
    }
    # signature, domestic procedure, deposit (+ EnteredIntoForce before the patch)
    assert appends == {"v1": 4, "v2": 3, "v1-then-v2": 3}


def test_without_its_guard_the_patch_breaks_the_old_histories() -> None:
    workflows = [TreatyWorkflow, RatificationWithoutThePatchGuard]
    results = by_id(replay_files([V1 / "ratification-CCM-BGR.json"], workflows))
    bgr = results["ratification:CCM:BGR"]
    # the history's last append: EnteredIntoForce recorded by the run loop
    last_append = ids_of(
        V1 / "ratification-CCM-BGR.json",
        "ACTIVITY_TASK_SCHEDULED",
        activityType={"name": "append_events"},
    )[-1]
    assert (bgr.status, bgr.event_id, bgr.event_type) == (
        "nondeterministic",
        last_append,
        "ActivityTaskScheduled",
    )
    assert f"diverges at event {last_append} (ActivityTaskScheduled)" in bgr.message
    assert "'append_events'" in bgr.message and "does not do this" in bgr.message
    # a process that never reached a past date is not affected
    [ago] = replay_files([V1 / "ratification-CCM-AGO.json"], workflows)
    assert ago.status == "clean"


def test_removing_the_patch_breaks_the_new_histories() -> None:
    """Rolling back (or deleting the ``patched`` call) cannot replay what the new code
    recorded: the history has the marker, the code does not ask for it."""
    workflows = [TreatyWorkflow, RatificationBeforeThePatch]
    for path in (V2 / "ratification-CCM-BGR.json", MIXED / "ratification-CCM-BGR.json"):
        [result] = replay_files([path], workflows)
        [marker] = ids_of(path, "MARKER_RECORDED")
        assert (result.status, result.event_id, result.event_type) == (
            "nondeterministic",
            marker,
            "MarkerRecorded",
        ), path
        assert RECORD_REACHED_EIF in result.message
    # and the old histories are what the old code recorded
    assert all(x.ok for x in replay_files(sorted(V1.glob("*.json")), workflows))


def test_appends_since_the_local_activity_patch_are_markers_and_replay() -> None:
    """The histories recorded since ``append-as-local-activity`` hold each append as a
    local-activity marker after the patch's marker, no ``append_events`` activity; those
    recorded before hold activities. Both replay against the current code."""
    for path in sorted(V6.glob("*.json")):
        commands = _commands(path)
        assert "patched append-as-local-activity" in commands, path
        assert "activity append_events" not in commands, path
        assert "local activity append_events" in commands, path
    for path in sorted((HISTORIES / "v5").glob("*.json")):
        assert "patched append-as-local-activity" not in _commands(path)
    paths = sorted(V6.glob("*.json")) + sorted((HISTORIES / "v5").glob("*.json"))
    assert [x.status for x in replay_files(paths, registry.WORKFLOWS)] == ["clean"] * len(paths)


# --- a non-deterministic change ---------------------------------------------------------------


def test_a_non_deterministic_change_is_reported_with_the_diverging_event() -> None:
    paths = [V2 / "treaty-CCM.json", V2 / "ratification-CCM-BGR.json"]
    results = by_id(replay_files(paths, [TreatyWorkflow, RatificationThatDoesNotRegister]))
    assert results["treaty:CCM"].status == "clean"
    bgr = results["ratification:CCM:BGR"]
    [register, *_] = ids_of(
        V2 / "ratification-CCM-BGR.json",
        "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED",
        signalName="register",
    )
    assert (bgr.status, bgr.event_id, bgr.event_type) == (
        "nondeterministic",
        register,
        "SignalExternalWorkflowExecutionInitiated",
    )
    assert bgr.message.startswith(
        f"diverges at event {register} (SignalExternalWorkflowExecutionInitiated): the "
        "process sent signal 'register' to treaty:CCM there, but the current code does not "
        "do this at that point"
    ), bgr.message
    assert bgr.run_id and bgr.workflow_type == "Ratification" and not bgr.ok


def test_a_divergence_the_sdk_gives_no_event_id_for_is_located() -> None:
    """An activity of another type: the SDK's message names the activity types only; the
    event is found by replaying ever longer prefixes of the history."""
    path = V2 / "ratification-CCM-BGR.json"
    results = by_id(replay_files([path], [TreatyWorkflow, RatificationWithAnotherActivity]))
    bgr = results["ratification:CCM:BGR"]
    [sign_append, *_] = ids_of(
        path, "ACTIVITY_TASK_SCHEDULED", activityType={"name": "append_events"}
    )
    assert (bgr.status, bgr.event_id, bgr.event_type) == (
        "nondeterministic",
        sign_append,
        "ActivityTaskScheduled",
    )
    assert "'append_events'" in bgr.message and "'check_signature' instead" in bgr.message
    # a process that never signed is not affected
    [andorra] = replay_files(
        [V2 / "ratification-CCM-AND.json"], [TreatyWorkflow, RatificationWithAnotherActivity]
    )
    assert andorra.ok


def test_a_workflow_type_the_code_no_longer_has_is_a_failure() -> None:
    [result] = replay_files([V2 / "treaty-CCM.json"], [RatificationWorkflow])
    assert result.status == "failed" and not result.ok
    assert "the current code has no workflow type 'Treaty'" in result.message


def test_unreadable_files_are_reported(tmp_path: Path) -> None:
    not_json = tmp_path / "a.json"
    not_json.write_text("{", encoding="utf-8")
    not_history = tmp_path / "b.json"
    not_history.write_text('{"events": []}', encoding="utf-8")
    missing = tmp_path / "missing.json"
    results = replay_files([not_json, not_history, missing], registry.WORKFLOWS)
    assert [x.status for x in results] == ["unreadable"] * 3
    assert "not a workflow history in JSON" in results[0].message
    assert "it has no events" in results[1].message
    assert "cannot read the file" in results[2].message


# --- the CLI, on files (no server needed) -----------------------------------------------------


@pytest.fixture
def no_servers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The CLI with a fresh home; nothing may be started under it."""
    home = tmp_path / "home"
    for name in ("TEMPORAL_ADDRESS", "DATABASE_URL", "TEMPORAL_NAMESPACE", "TREATYFLOW_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TREATYFLOW_HOME", str(home))
    monkeypatch.setenv("TREATYFLOW_TEMPORAL_PORT", str(free_port()))
    monkeypatch.setenv("TREATYFLOW_UI_PORT", str(free_port()))
    return home


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _altered_copy(tmp_path: Path) -> tuple[Path, int]:
    """Bulgaria's history with its first append's activity type renamed (a history that
    code other than ours recorded); the id of that event."""
    source = V2 / "ratification-CCM-BGR.json"
    data = json.loads(source.read_text(encoding="utf-8"))
    [first, *_] = ids_of(source, "ACTIVITY_TASK_SCHEDULED", activityType={"name": "append_events"})
    for e in data["events"]:
        if int(e["eventId"]) == first:
            e["activityTaskScheduledEventAttributes"]["activityType"]["name"] = "append_v0"
    path = tmp_path / "ratification-CCM-BGR.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path, first


def test_cli_replays_files_and_exits_0_only_when_all_are_clean(
    no_servers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    golden = [str(p) for p in GOLDEN]
    code, out, err = run(capsys, "audit", "replay", "--from-file", *golden, "--json")
    assert code == 0, out + err
    report = json.loads(out)
    assert report["all_clean"] is True and report["histories"] == len(GOLDEN) >= 10
    assert {x["status"] for x in report["results"]} == {"clean"}

    altered, event_id = _altered_copy(tmp_path)
    code, out, err = run(
        capsys, "audit", "replay", "--from-file", str(V2 / "treaty-CCM.json"), str(altered)
    )
    assert code == 1, out + err
    lines = out.splitlines()
    assert lines[0].startswith("ok   treaty:CCM")
    assert lines[1].startswith("FAIL ratification:CCM:BGR")
    assert f"diverges at event {event_id} (ActivityTaskScheduled)" in lines[1]
    assert "activity 'append_v0'" in lines[1] and "'append_events' instead" in lines[1]
    assert lines[-1] == (
        "2 workflow runs checked against the current code: 1 replayed cleanly, 1 did not "
        "(1 diverged from the recorded history)"
    )

    code, out, _ = run(capsys, "audit", "replay", "--from-file", str(altered), "--json")
    assert code == 1
    [result] = json.loads(out)["results"]
    assert (result["status"], result["event_id"], result["event_type"]) == (
        "nondeterministic",
        event_id,
        "ActivityTaskScheduled",
    )
    assert result["workflow_id"] == "ratification:CCM:BGR" and result["source"] == "file"
    assert not no_servers.exists() or not (no_servers / "postgres").exists()


def test_cli_replay_usage_errors(no_servers: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "audit", "replay")[0] == 2
    assert run(capsys, "audit", "replay", "--all", "--query", "WorkflowType='Treaty'")[0] == 2
    assert run(capsys, "audit", "replay", "--from-file")[0] == 2


def test_cli_shows_a_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import audit_replay, render

    screen = io.StringIO()
    monkeypatch.setattr(render, "err", Console(file=screen, force_terminal=True, width=100))
    targets = [replay_mod.from_file(p) for p in sorted(V2.glob("*.json"))]
    results = asyncio.run(audit_replay._replay(targets, registry.WORKFLOWS, show_progress=True))
    assert [x.status for x in results] == ["clean"] * 4
    assert "replaying" in screen.getvalue() and "4/4" in screen.getvalue()

    screen.seek(0)
    screen.truncate(0)
    asyncio.run(audit_replay._replay(targets, registry.WORKFLOWS, show_progress=False))
    assert screen.getvalue() == ""


# --- the archive (PostgreSQL) -----------------------------------------------------------------


async def _count(url: str, workflow_id: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM workflow_history_archive WHERE workflow_id = $1",
                workflow_id,
            )
        )
    finally:
        await conn.close()


async def _tamper(url: str, workflow_id: str) -> None:
    """Change an archived history as only a superuser can: trigger off, change, on."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(
                "ALTER TABLE workflow_history_archive "
                "DISABLE TRIGGER workflow_history_archive_append_only"
            )
            changed = await conn.execute(
                # one space more after the key every history has: still the same JSON,
                # another digest
                "UPDATE workflow_history_archive SET history = replace(history, "
                "'\"events\"', '\"events\" ') WHERE workflow_id = $1",
                workflow_id,
            )
            assert changed == "UPDATE 1"
            await conn.execute(
                "ALTER TABLE workflow_history_archive "
                "ENABLE TRIGGER workflow_history_archive_append_only"
            )
    finally:
        await conn.close()


def _golden_history(path: Path) -> WorkflowHistory:
    history = WorkflowHistory.from_json("x", path.read_text(encoding="utf-8"))
    started = history.events[0].workflow_execution_started_event_attributes
    return WorkflowHistory(started.workflow_id, history.events)


async def test_archiving_twice_stores_once_and_reads_check_the_digest(db_url: str) -> None:
    history = _golden_history(V2 / "ratification-CCM-AGO.json")
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    try:
        archive = archive_mod.HistoryArchive(pool)
        put = {"workflow_type": "Ratification", "status": "terminated", "closed_at": None}
        assert await archive.put(history, **put) is True
        assert await archive.put(history, **put) is False
        assert await _count(db_url, "ratification:CCM:AGO") == 1
        [stored] = await archive.get("ratification:CCM:AGO")
        assert isinstance(stored, archive_mod.ArchivedHistory)
        assert stored.history.to_json() == history.to_json()
        assert stored.run_id == history.run_id and stored.status == "terminated"
        assert await archive.get("ratification:CCM:XXX") == []
        # append-only, even for the owner
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await pool.execute("UPDATE workflow_history_archive SET status = 'x'")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await pool.execute("DELETE FROM workflow_history_archive")
    finally:
        await pool.close()

    await _tamper(db_url, "ratification:CCM:AGO")
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    try:
        [stored] = await archive_mod.HistoryArchive(pool).get("ratification:CCM:AGO")
    finally:
        await pool.close()
    assert isinstance(stored, archive_mod.TamperedHistory)
    assert stored.stored_sha256 == archive_mod.digest(history.to_json()).hex()
    assert stored.actual_sha256 != stored.stored_sha256
    assert "was altered after it was archived" in stored.message


async def test_app_role_may_add_and_read_the_archive_and_the_audit_role_only_read(
    db_url: str,
) -> None:
    history = _golden_history(V2 / "ratification-CCM-AGO.json")
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("SET ROLE treatyflow_app")
        archive = archive_mod.HistoryArchive(conn)
        assert await archive.put(
            history, workflow_type="Ratification", status="completed", closed_at=None
        )
        assert len(await archive.get()) == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE workflow_history_archive SET status = 'x'")
        await conn.execute("RESET ROLE")
        await conn.execute("SET ROLE treatyflow_audit")
        assert len(await archive.get()) == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await archive.put(
                _golden_history(V2 / "ratification-CCM-AND.json"),
                workflow_type="Ratification",
                status="completed",
                closed_at=None,
            )
    finally:
        await conn.close()


def test_cli_replays_the_archive_and_reports_a_tampered_history(
    db_url: str, monkeypatch: pytest.MonkeyPatch, no_servers: Path, capsys: Any
) -> None:
    async def fill() -> None:
        await migrate(db_url)
        pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
        try:
            archive = archive_mod.HistoryArchive(pool)
            for name in ("ratification-CCM-AGO.json", "ratification-CCM-AND.json"):
                await archive.put(
                    _golden_history(V1 / name),
                    workflow_type="Ratification",
                    status="terminated",
                    closed_at=None,
                )
        finally:
            await pool.close()

    asyncio.run(fill())
    monkeypatch.setenv("DATABASE_URL", db_url)
    code, out, err = run(capsys, "audit", "replay", "--archived", "--json")
    assert code == 0, out + err
    results = json.loads(out)["results"]
    assert [(x["workflow_id"], x["source"], x["status"]) for x in results] == [
        ("ratification:CCM:AGO", "archive", "clean"),
        ("ratification:CCM:AND", "archive", "clean"),
    ]

    asyncio.run(_tamper(db_url, "ratification:CCM:AND"))
    code, out, _ = run(capsys, "audit", "replay", "--archived", "--json")
    assert code == 1
    results = by_id_json(json.loads(out)["results"])
    assert results["ratification:CCM:AGO"]["status"] == "clean"
    tampered = results["ratification:CCM:AND"]
    assert tampered["status"] == "tampered"
    assert "was altered after it was archived" in tampered["message"]


def by_id_json(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {x["workflow_id"]: x for x in results}


# --- the worker's archiving interval ---------------------------------------------------------


def test_archive_interval_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TREATYFLOW_ARCHIVE_MINUTES", raising=False)
    assert worker.archive_interval() == 600
    monkeypatch.setenv("TREATYFLOW_ARCHIVE_MINUTES", "0.5")
    assert worker.archive_interval() == 30
    monkeypatch.setenv("TREATYFLOW_ARCHIVE_MINUTES", "0")
    assert worker.archive_interval() is None
    for bad in ("-1", "ten", "nan", "inf"):
        monkeypatch.setenv("TREATYFLOW_ARCHIVE_MINUTES", bad)
        with pytest.raises(SystemExit, match="TREATYFLOW_ARCHIVE_MINUTES"):
            worker.archive_interval()


# --- end to end: the embedded stack -----------------------------------------------------------

AGO = "ratification:CCM:AGO"  # examples/ccm/status.csv: signatories, no deposit
CAF = "ratification:CCM:CAF"
CYP = "ratification:CCM:CYP"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # the stack's worker does not archive: the archive holds what the test archives
    with embedded_stack(TREATYFLOW_ARCHIVE_MINUTES="0") as s:
        for state, signed in (("Angola", "2008-12-03"), ("CAF", "2008-12-03")):
            result = s.treaty("ratification", "sign", state, "--date", signed, "--source", "UNTC")
            assert result.returncode == 0, result.stderr
        result = s.treaty(
            "ratification", "sign", "Cyprus", "--date", "2009-09-23", "--source", "UNTC"
        )
        assert result.returncode == 0, result.stderr
        yield s


async def _terminate(address: str, workflow_id: str) -> str:
    client = await connect_client(address, "default")
    handle = client.get_workflow_handle(workflow_id)
    await handle.terminate(reason="test: a closed process")
    return (await handle.describe()).run_id


async def _delete(address: str, workflow_id: str, run_id: str) -> None:
    """Delete the run from the server and wait until the server no longer has it."""
    client = await connect_client(address, "default")
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace="default",
            workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        )
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return
            raise
        if not history.events:
            return
        await asyncio.sleep(1)
    raise AssertionError(f"{workflow_id} still on the server")


async def _retention_days(address: str) -> float:
    client = await connect_client(address, "default")
    answer = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    return answer.config.workflow_execution_retention_ttl.ToTimedelta() / timedelta(days=1)


@pytest.mark.e2e
def test_embedded_dev_server_keeps_closed_workflows_ten_years(stack: Stack) -> None:
    assert asyncio.run(_retention_days(stack.json("ps")["temporal_address"])) == 3650


@pytest.mark.e2e
def test_a_closed_workflow_deleted_from_the_server_replays_from_the_archive(
    stack: Stack, tmp_path: Path
) -> None:
    address = stack.json("ps")["temporal_address"]
    everything = stack.treaty("audit", "replay", "--all", "--json")
    assert everything.returncode == 0, everything.stdout + everything.stderr
    assert {x["workflow_id"] for x in json.loads(everything.stdout)["results"]} >= {
        "treaty:CCM",
        AGO,
        CAF,
        CYP,
    }

    treaty_only = stack.json("audit", "replay", "--query", 'WorkflowType = "Treaty"')
    assert [x["workflow_id"] for x in treaty_only["results"]] == ["treaty:CCM"]
    # a query the server cannot parse is a usage error (exit 2), not an outage (exit 3)
    bad = stack.treaty("audit", "replay", "--query", "WorkflowType ==== Treaty")
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "is not a visibility query the server accepts" in bad.stderr
    # what the Temporal CLI writes is read too
    shown = tmp_path / "treaty.json"
    with open(shown, "wb") as out:
        subprocess.run(
            [str(TREATY.parent / "temporal"), "workflow", "show", "--address", address]
            + ["-w", "treaty:CCM", "-o", "json"],
            stdout=out,
            check=True,
        )
    from_cli = stack.json("audit", "replay", "--from-file", str(shown))
    assert [(x["workflow_id"], x["status"]) for x in from_cli["results"]] == [
        ("treaty:CCM", "clean")
    ]

    run_id = asyncio.run(_terminate(address, AGO))
    first = stack.json("audit", "archive")
    assert first["archived"] == [{"workflow_id": AGO, "run_id": run_id}]
    again = stack.json("audit", "archive")
    assert again["archived"] == [] and again["in_archive"] == first["in_archive"]
    assert asyncio.run(_count(stack.database_url, AGO)) == 1

    asyncio.run(_delete(address, AGO, run_id))
    # named as its stream, in any case, as `treaty events` takes it
    replayed = stack.treaty("audit", "replay", "ratification-ccm-ago", "--json")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    [result] = json.loads(replayed.stdout)["results"]
    assert (result["workflow_id"], result["source"], result["run_id"], result["status"]) == (
        AGO,
        "archive",
        run_id,
        "clean",
    )
    # the last event is the termination: the whole closed history was archived
    assert result["events"] >= 5

    missing = stack.treaty("audit", "replay", "ratification:CCM:ZZZ", "--json")
    assert missing.returncode == 1
    [result] = json.loads(missing.stdout)["results"]
    assert result["status"] == "not_found"
    assert "nor in the history archive" in result["message"]

    asyncio.run(_tamper(stack.database_url, AGO))
    tampered = stack.treaty("audit", "replay", AGO)
    assert tampered.returncode == 1
    assert tampered.stdout.startswith(f"FAIL {AGO} (archive, run {run_id}")
    assert "was altered after it was archived" in tampered.stdout


@pytest.mark.e2e
def test_the_worker_archives_closed_runs_on_its_own(stack: Stack, tmp_path: Path) -> None:
    address = stack.json("ps")["temporal_address"]
    url = stack.database_url
    caf_run = asyncio.run(_terminate(address, CAF))
    env = {
        **stack.env,
        "TREATYFLOW_ARCHIVE_MINUTES": "0.02",  # every 1.2 s
        "TREATYFLOW_TASK_QUEUE": "archiver-test",  # polls no queue the stack uses
    }
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(TREATY), "worker"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        assert _wait_archived(url, CAF), log.read_text()  # the pass at start
        cyp_run = asyncio.run(_terminate(address, CYP))
        assert _wait_archived(url, CYP), log.read_text()  # a later pass
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    archived = stack.json("audit", "archive")
    assert archived["archived"] == []  # nothing left for the command to do
    assert asyncio.run(_count(url, CAF)) == asyncio.run(_count(url, CYP)) == 1
    assert {caf_run, cyp_run} <= asyncio.run(_archived_runs(url))


async def _archived_runs(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        return {
            r["run_id"] for r in await conn.fetch("SELECT run_id FROM workflow_history_archive")
        }
    finally:
        await conn.close()


def _wait_archived(url: str, workflow_id: str, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if asyncio.run(_count(url, workflow_id)) >= 1:
            return True
        time.sleep(0.5)
    return False


def test_a_history_the_replayer_would_hang_on_is_refused_before_it(tmp_path: Path) -> None:
    # the SDK's replayer panics and never returns on a start event without attributes
    data = json.loads((V2 / "ratification-CCM-AGO.json").read_text(encoding="utf-8"))
    data["events"][0]["workflowExecutionStartedEventAttributes"] = {}
    emptied = tmp_path / "ratification-CCM-AGO.json"
    emptied.write_text(json.dumps(data), encoding="utf-8")
    [result] = replay_files([emptied], registry.WORKFLOWS)
    assert result.status == "unreadable"
    assert "names no workflow type" in result.message or "WorkflowExecutionStarted" in (
        result.message
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not a workflow history in JSON"),
        ('{"events": []}', "it has no events"),
    ],
)
def test_an_unreadable_archived_history_is_named_not_a_crash(text: str, reason: str) -> None:
    from datetime import UTC, datetime

    row = {
        "workflow_id": "ratification:CCM:AGO",
        "run_id": "r1",
        "workflow_type": "Ratification",
        "status": "TERMINATED",
        "closed_at": None,
        "archived_at": datetime(2026, 11, 29, tzinfo=UTC),
        "history": text,
        "sha256": archive_mod.digest(text),
    }
    record = archive_mod._checked(row)  # type: ignore[arg-type]
    assert isinstance(record, archive_mod.UnreadableHistory)
    assert reason in record.message
    [loaded] = [replay_mod._from_record(record)]
    assert loaded.problem is not None and loaded.problem[0] == "unreadable"
