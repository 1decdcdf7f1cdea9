"""The decision and host-country agreement workflows on the time-skipping test server,
appending to a real embedded PostgreSQL (no mocks): a round's comment deadline passes and
the round closes by itself after its reminder; the ISU decision of the 24 Feb 2011 record,
deferred at the 2MSP, is still open and decided at the 3MSP; moving the meeting moves
every host-country-agreement due date and escalates a milestone now late; refused
commands and a scenario file with one bad line record nothing."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from adapters import scenario_file
from app import process_ops
from app.commands import Commands, ProcessRef
from app.service import Refused
from audit.verify import verify_chain
from domain import decision as d
from domain import hca as h
from domain import processes, scenario
from eventstore.folding import decode
from eventstore.store import EventStore
from tests import ROOT
from tests.support import META, start_time_skipping
from worker import build_worker
from workflows.decision import DecisionWorkflow

SCENARIO = ROOT / "examples" / "ccm" / "2011-consultation.yaml"


def yaml_steps() -> list[scenario.Step]:
    return scenario_file.parse(SCENARIO.read_text(encoding="utf-8"))


async def _today(env: WorkflowEnvironment) -> date:
    return (await env.get_current_time()).date()


async def _decision(client, slug: str) -> d.DecisionState:  # type: ignore[no-untyped-def]
    view = await process_ops.view(client, "decision", "CCM", slug)
    assert view is not None
    return view.state  # type: ignore[return-value]


async def test_a_round_reminds_then_closes_by_itself_when_its_deadline_passes(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    today = await _today(env)
    due = today + timedelta(days=30)
    async with build_worker(client, store, queue):

        async def send(command: object) -> None:
            await Commands(client, queue).send(ProcessRef("decision", "CCM", "tor"), command, META)

        await send(d.OpenDecision(question="The ISU's terms of reference", opened_on=today))
        await send(
            d.OpenRound(
                round="tor-comments",
                title="Written comments on the draft terms of reference",
                opened_on=today,
                comments_due=due,
                requested_by="Canada",
                remind_days=7,
            )
        )
        r = (await _decision(client, "tor")).rounds["tor-comments"]
        assert r.remind_on == due - timedelta(days=7) and r.open

        await env.sleep(timedelta(days=22))
        r = (await _decision(client, "tor")).rounds["tor-comments"]
        assert r.reminded_on is None and r.open

        await env.sleep(timedelta(days=2))  # past 00:00 UTC on the reminder day
        r = (await _decision(client, "tor")).rounds["tor-comments"]
        assert r.reminded_on == due - timedelta(days=7) and r.open

        await env.sleep(timedelta(days=7))  # past the day after the deadline
        r = (await _decision(client, "tor")).rounds["tor-comments"]
        assert not r.open
        assert (r.closed_on, r.close_reason) == (due + timedelta(days=1), "deadline")

        stored = await store.read_stream("decision-CCM-tor")
        types = [e.event_type for e in stored]
        assert types == [
            "DecisionOpened",
            "ConsultationRoundOpened",
            "CommentDeadlineReminded",
            "ConsultationRoundClosed",
        ]
        reminder, closing = stored[2], stored[3]
        assert reminder.occurred_on == due - timedelta(days=7) < closing.occurred_on
        assert reminder.metadata["actor"] == closing.metadata["actor"] == "timer"
        assert await verify_chain(store, "decision-CCM-tor") == []
        # the store's fold is the workflow's state (what `treaty audit verify` compares)
        folded = processes.fold(
            "decision-CCM-tor",
            [(decode(e), e.occurred_on) for e in stored],
        )
        assert folded == await _decision(client, "tor")


async def test_the_isu_decision_deferred_at_the_2msp_is_decided_at_the_3msp(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    steps = [s for s in yaml_steps() if s.kind != "ratification"]
    async with build_worker(client, store, queue):
        recorded = await process_ops.run_scenario(client, steps, META, queue)
        assert recorded == {"decision:CCM:isu-hosting": 26, "hca:CCM:2MSP": 5}
        s = await _decision(client, "isu-hosting")
        gichd = next(t for t in d.tally(s) if t.option == "gichd")
        assert gichd.states["support"] == ["CHE", "AUS", "FRA"]
        summary = await client.get_workflow_handle("decision:CCM:isu-hosting").query(
            DecisionWorkflow.summary
        )
        by_option = {t.option: t for t in summary.tally}
        assert by_option["gichd"].states["support"] == ["CHE", "AUS", "FRA"]
        assert by_option[None].states["undecided"] == ["BEL"]
        assert by_option[None].observers["condition"] == ["CMC"]
        assert summary.open == {"rounds": ["isu-tor-comments"], "decision_points": ["2MSP"]}
        # again: nothing new
        assert await process_ops.run_scenario(client, steps, META, queue) == {
            "decision:CCM:isu-hosting": 0,
            "hca:CCM:2MSP": 0,
        }

        async def send(command: object) -> None:
            await Commands(client, queue).send(
                ProcessRef("decision", "CCM", "isu-hosting"), command, META
            )

        await send(
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
        s = await _decision(client, "isu-hosting")
        assert s.status == "open"
        assert d.open_items(s)["decision_points"] == ["3MSP"]
        # a year on (skipped time): the process still runs and takes positions
        await env.sleep(timedelta(days=365))
        await send(
            d.StatePosition(
                participant="Norway",
                option="gichd",
                stance="support",
                stated_on=date(2012, 9, 11),
                meeting="3MSP",
            )
        )
        await send(
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
        s = await _decision(client, "isu-hosting")
        assert s.status == "adopted" and s.adopted is not None
        assert (s.adopted.meeting, s.adopted.option, s.adopted.in_favour) == ("3MSP", "gichd", 50)
    types = [e.event_type for e in await store.read_stream("decision-CCM-isu-hosting")]
    assert types[-4:] == [
        "DecisionDeferred",
        "DecisionMilestoneSet",
        "PositionStated",
        "DecisionAdopted",
    ]
    assert await verify_chain(store, "decision-CCM-isu-hosting") == []


async def test_moving_the_meeting_moves_every_due_date_and_escalates_a_late_milestone(
    store: EventStore,
) -> None:
    # a server of its own: the module's server already has an hca:CCM:2MSP (the scenario)
    env = await start_time_skipping()
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    today = await _today(env)
    opens = today + timedelta(days=200)
    async with env, build_worker(client, store, queue):

        async def send(command: object) -> None:
            await Commands(client, queue).send(ProcessRef("hca", "CCM", "2MSP"), command, META)

        async def state() -> h.AgreementState:
            view = await process_ops.view(client, "hca", "CCM", "2MSP")
            assert view is not None
            return view.state  # type: ignore[return-value]

        await send(
            h.OpenAgreement(
                meeting="2MSP",
                opens_on=opens,
                closes_on=opens + timedelta(days=4),
                city="Beirut",
                host="Lebanon",
                opened_on=today,
            )
        )
        await send(h.ReachMilestone(milestone="draft-received", reached_on=today))
        before = {m.milestone: m.due_on for m in (await state()).milestones.values()}
        assert before["negotiations"] == opens - timedelta(days=150)
        new_opens = opens - timedelta(days=100)
        await send(
            h.MoveMeeting(
                opens_on=new_opens, closes_on=new_opens + timedelta(days=4), decided_on=today
            )
        )
        s = await state()
        assert {m.milestone: m.due_on for m in s.milestones.values()} == {
            k: v - timedelta(days=100) for k, v in before.items()
        }
        # negotiations were due in 50 days, now 50 days ago: escalated at once
        assert s.milestones["negotiations"].escalated == (opens - timedelta(days=250),)
        assert s.milestones["text-agreed"].escalated == ()
        # text agreed, now due in 10 days, slips: the timer escalates it the day after
        await env.sleep(timedelta(days=12))
        s = await state()
        assert s.milestones["text-agreed"].escalated == (new_opens - timedelta(days=90),)
    stored = await store.read_stream("hca-CCM-2MSP")
    escalations = [e for e in stored if e.event_type == "HcaMilestoneEscalated"]
    assert [(e.data["milestone"], e.data["escalated_to"]) for e in escalations] == [
        ("negotiations", "Presidency (LBN)"),
        ("text-agreed", "Presidency (LBN)"),
    ]
    assert escalations[1].metadata["actor"] == "timer"
    assert await verify_chain(store, "hca-CCM-2MSP") == []


async def test_refused_commands_and_a_bad_scenario_line_record_nothing(
    env: WorkflowEnvironment, store: EventStore, tmp_path: Path
) -> None:
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    lines = SCENARIO.read_text(encoding="utf-8").splitlines()
    belgium = lines.index("    participant: Belgium")
    assert lines[belgium + 1] == "    option: null"
    lines[belgium + 1] = "    option: brussels"
    steps = [s for s in scenario_file.parse("\n".join(lines)) if s.kind != "ratification"]
    async with build_worker(client, store, queue):
        with pytest.raises(
            Refused, match=rf"line {belgium - 1}: decision:CCM:refusals: .*'brussels'"
        ):
            # the same file under another decision key, so this test's process is its own
            await process_ops.run_scenario(
                client,
                [
                    scenario.Step(
                        s.line,
                        s.kind,
                        s.treaty,
                        "refusals" if s.kind == "decision" else "9MSP",
                        s.command,
                    )
                    for s in steps
                ],
                META,
                queue,
            )
        assert await store.list_streams() == []
        assert await process_ops.view(client, "decision", "CCM", "refusals") is None

        good = [
            scenario.Step(s.line, s.kind, s.treaty, "refusals", s.command)
            for s in yaml_steps()
            if s.kind == "decision"
        ]
        await process_ops.run_scenario(client, good, META, queue)
        before = await store.read_stream("decision-CCM-refusals")

        async def send(command: object) -> None:
            await Commands(client, queue).send(
                ProcessRef("decision", "CCM", "refusals"), command, META
            )

        with pytest.raises(Refused, match="no option 'undp'"):
            await send(
                d.StatePosition(
                    participant="NOR",
                    option="undp",
                    stance="support",
                    stated_on=date(2011, 2, 24),
                    meeting="x",
                )
            )
        with pytest.raises(Refused, match="not a decision point"):
            await send(
                d.RecordOutcome(
                    meeting="June 2011 intersessionals",
                    decided_on=date(2011, 6, 29),
                    result="adopted",
                    option="gichd",
                    method="consensus",
                )
            )
        with pytest.raises(Refused, match="do not add up"):
            await send(
                d.RecordOutcome(
                    meeting="2MSP",
                    decided_on=date(2011, 9, 16),
                    result="adopted",
                    option="gichd",
                    method="vote",
                    present=50,
                    in_favour=40,
                    against=5,
                    abstaining=3,
                )
            )
        assert await store.read_stream("decision-CCM-refusals") == before
