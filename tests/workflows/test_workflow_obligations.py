"""Obligation timers, withdrawal and continue-as-new on the time-skipping test server, with
a real embedded PostgreSQL event store.

Dates follow the treaty text: CCM Art. 17(2) (entry into force on the first day of the sixth
month after the deposit), Art. 7(1) (initial report 180 days after), Art. 20(3) (withdrawal
six months after the depositary received the instrument, not before the end of an armed
conflict the State is engaged in when that period ends).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from app import service
from audit.verify import verify_chain
from domain import calendar, ids
from domain import ratification as r
from eventstore.store import EventStore
from tests.support import APMBC_STATEMENT, CCM_STATEMENT, META, eventually, skipped_time
from worker import build_worker
from workflows.ratification import RatificationInput, RatificationWorkflow

STATEMENT = CCM_STATEMENT


@pytest.fixture
def env(fresh_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """A server of each test's own (each records its own treaty process)."""
    return fresh_env


async def _types(store: EventStore, stream: str) -> list[str]:
    return [e.event_type for e in await store.read_stream(stream)]


async def _sleep_to(env: WorkflowEnvironment, day: date, hour: int = 12) -> None:
    """Skip time to ``hour``:00 UTC on ``day``."""
    now = await env.get_current_time()
    target = datetime.combine(day, time(hour), tzinfo=UTC)
    await env.sleep(target - now)


async def _view(handle: WorkflowHandle) -> r.RatificationState:
    return (await handle.query(RatificationWorkflow.view)).state


async def test_initial_report_marked_due_then_overdue_by_its_timer(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    async with build_worker(client, store, queue):
        await service.record_statement(client, "CCM", STATEMENT, META, queue)
        today = (await env.get_current_time()).date()
        handle = await service.ensure_ratification(client, "CCM", "NLD", queue)
        await service.send(handle, r.Sign(signed_on=date(2008, 12, 3)), META)
        await service.send(handle, r.Deposit(instrument="ratification", deposited_on=today), META)
        in_force_on = calendar.first_day_of_nth_month_after(today, 6)  # Art. 17(2)
        due = in_force_on + timedelta(days=180)  # Art. 7(1)

        await _sleep_to(env, in_force_on)
        state = await _view(handle)
        assert state.entered_into_force
        initial = state.obligations["initial-report"]
        assert (initial.due_on, initial.article, initial.marked) == (due, "CCM Art. 7(1)", None)
        assert not initial.deadlines[-1].historical

        # the day before the deadline: nothing marked
        await _sleep_to(env, due - timedelta(days=1))
        assert (await _view(handle)).obligations["initial-report"].marked is None
        # on the day: due; the day after: overdue
        await _sleep_to(env, due)
        assert (await _view(handle)).obligations["initial-report"].marked == "due"
        await _sleep_to(env, due + timedelta(days=1))
        assert (await _view(handle)).obligations["initial-report"].marked == "overdue"

        stored = await store.read_stream("ratification-CCM-NLD")
        marks = [
            (e.event_type, e.occurred_on) for e in stored if e.data.get("key") == "initial-report"
        ]
        assert marks == [
            ("ObligationOpened", in_force_on),
            ("ObligationDue", due),
            ("ObligationOverdue", due + timedelta(days=1)),
        ]
        assert await verify_chain(store, "ratification-CCM-NLD") == []
        # a report received later meets it; no further mark
        received = due + timedelta(days=3)
        await _sleep_to(env, received)
        await service.send(
            handle,
            r.RecordReport(key="initial-report", received_on=received, channel="e-mail"),
            META,
        )
        state = await _view(handle)
        assert state.obligations["initial-report"].status(received) == "met"


async def test_withdrawal_during_an_armed_conflict_waits_for_its_end(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    async with build_worker(client, store, queue):
        await service.record_statement(client, "CCM", STATEMENT, META, queue)
        # Lithuania: ratification deposited 24 Mar 2011, in force 1 Sep 2011 (Art. 17(2))
        handle = await service.ensure_ratification(client, "CCM", "LTU", queue)
        await service.send(handle, r.Sign(signed_on=None), META)
        await service.send(
            handle, r.Deposit(instrument="ratification", deposited_on=date(2011, 3, 24)), META
        )
        today = (await env.get_current_time()).date()
        await service.send(
            handle,
            r.RecordArmedConflict(since=today - timedelta(days=30), description="test conflict"),
            META,
        )
        await service.send(handle, r.Withdraw(received_on=today), META)
        ends = today + relativedelta(months=6)  # Art. 20(3)
        state = await _view(handle)
        assert state.withdrawal_period_ends_on == ends and state.withdrawn_on is None

        await env.sleep(ends - today + timedelta(days=10))
        state = await _view(handle)
        assert state.withdrawal_deferred and state.withdrawn_on is None
        assert state.status() == "in force"
        types = await _types(store, "ratification-CCM-LTU")
        assert "WithdrawalDeferred" in types and "WithdrawalTookEffect" not in types

        # the conflict ends (recorded the day it ends): the withdrawal takes effect then
        await env.sleep(timedelta(days=20))
        ended_on = (await env.get_current_time()).date()
        recorded = await service.send(handle, r.EndArmedConflict(ended_on=ended_on), META)
        assert recorded.events == ["ArmedConflictEnded", "WithdrawalTookEffect"]
        state = await _view(handle)
        assert state.withdrawn_on == ended_on and state.status() == "withdrawn"
        last = (await store.read_stream("ratification-CCM-LTU"))[-1]
        assert (last.event_type, last.occurred_on, last.data["historical"]) == (
            "WithdrawalTookEffect",
            ended_on,
            False,
        )
        # after the withdrawal no obligation is open any more
        assert all(not o.is_open or o.due_on < ended_on for o in state.obligations.values())


async def _start(client: Client, queue: str, state: str, after: int) -> WorkflowHandle:
    context = await service.treaty_context(client, "CCM", queue)
    return await client.start_workflow(
        RatificationWorkflow.run,
        RatificationInput(treaty="CCM", state=state, context=context, continue_as_new_after=after),
        id=ids.ratification_workflow_id("CCM", state),
        task_queue=queue,
    )


async def test_continue_as_new_keeps_state_obligations_and_updates(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    async with build_worker(client, store, queue):
        await service.record_statement(client, "CCM", STATEMENT, META, queue)
        handle = await _start(client, queue, "BGR", after=20)
        first_run = (await handle.describe()).run_id
        # Bulgaria: signed 3 Dec 2008, ratified 6 Apr 2011 -> in force 1 Oct 2011
        await service.send(handle, r.Sign(signed_on=date(2008, 12, 3)), META)
        await service.send(
            handle, r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6)), META
        )
        # updates sent together, around the switch
        commands: list[r.ObligationCommand] = [
            r.DeclareStockpiles(declared_on=date(2012, 3, 1)),
            r.RecordReport(key="initial-report", received_on=date(2012, 3, 20), channel="e-mail"),
            r.RecordReport(key="annual-report-2012", received_on=date(2012, 4, 27), channel="fax"),
            r.RecordReport(key="annual-report-2013", received_on=date(2013, 4, 30), channel="fax"),
            r.RecordReport(key="annual-report-2014", received_on=date(2014, 4, 29), channel="fax"),
        ]
        results = await asyncio.gather(
            *(
                service.send(client.get_workflow_handle(handle.id), command, META)
                for command in commands
            )
        )
        assert all(res.events for res in results)

        # more than one run: the first continued as new
        async def continued() -> bool:
            return (await handle.describe()).run_id != first_run

        await eventually(continued, 50, "no new run", interval=1, sleep=skipped_time(env))
        first = client.get_workflow_handle(handle.id, run_id=first_run)
        first_events = [e.event_type for e in (await first.fetch_history()).events]
        assert first_events[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW

        state = await _view(client.get_workflow_handle(handle.id))
        assert state.in_force_on == date(2011, 10, 1) and state.entered_into_force
        assert state.obligations["stockpile-destruction"].due_on == date(2019, 10, 1)
        assert state.obligations["initial-report"].met_on == date(2012, 3, 20)
        assert state.obligations["annual-report-2014"].channel == "fax"
        assert state.obligations["annual-report-2015"].is_open
        # the new run goes on: a command after the switch is recorded once, at the next
        # version, and the store holds every event once
        stored = await store.read_stream("ratification-CCM-BGR")
        assert state.version == len(stored)
        assert sorted(e.event_type for e in stored).count("ReportReceived") == 4
        await service.send(
            client.get_workflow_handle(handle.id),
            r.RecordReport(key="annual-report-2015", received_on=date(2015, 4, 30), channel="fax"),
            META,
        )
        assert len(await store.read_stream("ratification-CCM-BGR")) == len(stored) + 1
        assert await verify_chain(store, "ratification-CCM-BGR") == []


async def test_treaty_process_continues_as_new_with_its_deposits_and_registrations(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    from workflows.treaty import TreatyInput, TreatyWorkflow

    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    async with build_worker(client, store, queue):
        treaty = await client.start_workflow(
            TreatyWorkflow.run,
            TreatyInput(treaty="APMBC", continue_as_new_after=25),
            id=ids.treaty_workflow_id("APMBC"),
            task_queue=queue,
        )
        first_run = (await treaty.describe()).run_id
        # APMBC deposits (UN record): Canada 3 Dec 1997, Ireland 3 Dec 1997, Mauritius
        # 3 Dec 1997, Norway 9 Jul 1998, Austria 29 Jun 1998, Mexico 9 Jun 1998
        deposits = {
            "CAN": date(1997, 12, 3),
            "IRL": date(1997, 12, 3),
            "MUS": date(1997, 12, 3),
            "NOR": date(1998, 7, 9),
            "AUT": date(1998, 6, 29),
            "MEX": date(1998, 6, 9),
        }
        for iso, day in deposits.items():
            handle = await service.ensure_ratification(client, "APMBC", iso, queue)
            await service.send(handle, r.Sign(signed_on=date(1997, 12, 3)), META)
            await service.send(handle, r.Deposit(instrument="ratification", deposited_on=day), META)
        await service.record_statement(client, "APMBC", APMBC_STATEMENT, META, queue)

        async def all_counted() -> bool:
            view = await service.treaty_view(client, "APMBC")
            return view is not None and len(view.state.deposits) == len(deposits)

        await eventually(
            all_counted, 100, "the deposits were not counted", interval=1, sleep=skipped_time(env)
        )
        assert (await treaty.describe()).run_id != first_run
        view = await service.treaty_view(client, "APMBC")
        assert view is not None
        assert view.state.deposits == deposits
        assert view.state.in_force_on == date(1999, 3, 1)
        assert sorted(view.registered) == sorted(
            ids.ratification_workflow_id("APMBC", iso) for iso in deposits
        )
        # every ratification process was told the date (APMBC Art. 17(1): 1 Mar 1999)
        for iso in deposits:
            handle = client.get_workflow_handle(ids.ratification_workflow_id("APMBC", iso))

            async def told(handle: WorkflowHandle = handle) -> r.RatificationState | None:
                state = await _view(handle)
                return state if state.entered_into_force else None

            state = await eventually(
                told, 100, f"{iso} was not told", interval=1, sleep=skipped_time(env)
            )
            assert state.in_force_on == date(1999, 3, 1), iso

        async def treaty_in_force() -> service.TreatyView | None:
            view = await service.treaty_view(client, "APMBC")
            assert view is not None
            return view if view.state.entered_into_force else None

        view = await eventually(
            treaty_in_force, 100, "no entry into force", interval=1, sleep=skipped_time(env)
        )
        stored = await store.read_stream("treaty-APMBC")
        assert view.state.entered_into_force and view.state.version == len(stored)
        assert [e.event_type for e in stored].count("DepositCounted") == len(deposits)


async def test_a_process_in_force_before_the_obligations_opens_them_with_its_next_command(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    """Bulgaria's process ran under the code before the change (no obligations at its
    entry into force); under the current code its first obligation command opens them
    (marker open-obligations-of-a-process-in-force-before), then the command's events."""
    from temporalio.worker import Worker

    from activities.eventstore import EventStoreActivities
    from tests.workflows.test_obligation_replay import RatificationBeforeTheObligations
    from workflows.common import LOCAL_APPEND
    from workflows.ratification import CATCH_UP_OBLIGATIONS
    from workflows.treaty import TreatyWorkflow

    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    old = Worker(
        client,
        task_queue=queue,
        workflows=[TreatyWorkflow, RatificationBeforeTheObligations],
        activities=[EventStoreActivities(store).append_events],
        max_cached_workflows=0,  # no sticky queue: the next worker takes over at once
    )
    async with old:
        await service.record_statement(client, "CCM", STATEMENT, META, queue)
        handle = await service.ensure_ratification(client, "CCM", "BGR", queue)
        await service.send(handle, r.Sign(signed_on=date(2008, 12, 3)), META)
        await service.send(
            handle, r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6)), META
        )
        state = await _view(handle)
        assert state.entered_into_force and state.obligations == {}
    async with build_worker(client, store, queue):
        recorded = await service.send(
            handle,
            r.RecordReport(key="initial-report", received_on=date(2012, 3, 20), channel="e-mail"),
            META,
        )
        assert recorded.events[0] == "ObligationOpened" and recorded.events[-1] == "ReportReceived"
        state = await _view(handle)
        # CCM Art. 7(1): 1 Oct 2011 + 180 days
        assert state.obligations["initial-report"].due_on == date(2012, 3, 29)
        assert state.obligations["initial-report"].met_on == date(2012, 3, 20)
        assert "annual-report-2027" in state.obligations
        history = await handle.fetch_history()
        patches = [
            json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)[
                "id"
            ]
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and "patch-data" in e.marker_recorded_event_attributes.details  # not a local activity's
        ]
        # the stand-in for the old code appends as the current code does (its first append,
        # the signature, records the local-append patch); it recorded the reached date with
        # the deposit; the new code the catch-up
        assert patches == [
            LOCAL_APPEND,
            "record-reached-eif-with-its-date",
            CATCH_UP_OBLIGATIONS,
            "deadline-timers",
        ]
        stored = await store.read_stream("ratification-CCM-BGR")
        assert state.version == len(stored)
        assert await verify_chain(store, "ratification-CCM-BGR") == []
