"""Workflows on the time-skipping test server, appending to a real embedded PostgreSQL.

A deposit made today enters into force six months later in skipped time: the durable
timer of ``ratification:CCM:<ISO3>`` fires and records EnteredIntoForce.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from app import service
from audit.verify import verify_chain
from domain import calendar, ids
from domain import ratification as r
from eventstore.store import EventStore
from tests.support import META, eventually, record_statement, skipped_time, start_time_skipping
from worker import build_worker
from workflows.common import CommandMeta
from workflows.ratification import RatificationWorkflow, SignRequest


async def _types(store: EventStore, workflow_id: str) -> list[str]:
    return [e.event_type for e in await store.read_stream(ids.stream_id(workflow_id))]


async def test_deposit_today_enters_into_force_after_six_months_of_skipped_time(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    async with build_worker(client, store, queue):
        # the treaty is in force (depositary's statement), so Art. 17(2) applies
        await record_statement(client, queue, "CCM")
        today = (await env.get_current_time()).date()
        handle = await service.ensure_ratification(client, "CCM", "NLD", queue)
        await service.send(handle, r.Sign(signed_on=date(2008, 12, 3)), META)
        await service.send(handle, r.Deposit(instrument="ratification", deposited_on=today), META)
        expected = calendar.first_day_of_nth_month_after(today, 6)
        view = await handle.query(RatificationWorkflow.view)
        assert view.state.in_force_on == expected
        assert view.state.eif_article == "CCM Art. 17(2)"
        assert not view.state.entered_into_force

        await env.sleep(expected - today - timedelta(days=1))
        assert not (await handle.query(RatificationWorkflow.view)).state.entered_into_force

        await env.sleep(timedelta(days=2))
        view = await handle.query(RatificationWorkflow.view)
        assert view.state.entered_into_force
        stored = await store.read_stream("ratification-CCM-NLD")
        assert [e.event_type for e in stored[:4]] == [
            "SignatureRecorded",
            "InstrumentDeposited",
            "EntryIntoForceFixed",
            "EnteredIntoForce",
        ]
        eif = stored[3]
        assert eif.occurred_on == expected
        assert eif.data["historical"] is False
        assert eif.metadata["workflow_id"] == "ratification:CCM:NLD"
        # appended with it: the obligations that run from it (test_workflow_obligations.py)
        assert {e.event_type for e in stored[4:]} == {"ObligationOpened"}
        assert await verify_chain(store, "ratification-CCM-NLD") == []


async def test_treaty_tells_early_depositors_when_the_statement_is_recorded(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    async with build_worker(client, store, queue):
        nor = await service.ensure_ratification(client, "APMBC", "NOR", queue)
        await service.send(nor, r.Sign(signed_on=date(1997, 12, 3)), META)
        await service.send(
            nor, r.Deposit(instrument="ratification", deposited_on=date(1998, 7, 9)), META
        )
        assert (await nor.query(RatificationWorkflow.view)).state.in_force_on is None
        await record_statement(client, queue, "APMBC")

        async def norway_in_force() -> object:
            view = await nor.query(RatificationWorkflow.view)
            return view if view.state.entered_into_force else None

        view = await eventually(
            norway_in_force,
            100,
            "Norway's process was not told",
            interval=1,
            sleep=skipped_time(env),
        )
        assert view.state.in_force_on == date(1999, 3, 1)
        assert view.state.eif_article == "APMBC Art. 17(1)"
        events = await store.read_stream("ratification-APMBC-NOR")
        [eif] = [e for e in events if e.event_type == "EnteredIntoForce"]
        assert eif.data["historical"] is True
        treaty_types = await _types(store, "treaty:APMBC")
        assert treaty_types[:1] == ["DepositCounted"]
        assert "DepositaryStatementRecorded" in treaty_types
        # one deposit recorded against a threshold of 40: an incomplete record, not a
        # contrary one, so no discrepancy is noted
        assert "EntryIntoForceDiscrepancyNoted" not in treaty_types


async def test_refused_command_changes_nothing(env: WorkflowEnvironment, store: EventStore) -> None:
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    async with build_worker(client, store, queue):
        handle = await service.ensure_ratification(client, "ATT", "BGR", queue)
        await service.send(handle, r.Sign(signed_on=date(2013, 6, 3)), META)
        before = await store.read_stream("ratification-ATT-BGR")
        history_before = len((await handle.fetch_history()).events)
        with pytest.raises(service.Refused, match="no reservations|in the future"):
            await service.send(
                handle,
                r.Deposit(instrument="ratification", deposited_on=date(2999, 1, 1)),
                META,
            )
        with pytest.raises(service.Refused, match="is a signatory"):
            await service.send(
                handle, r.Deposit(instrument="accession", deposited_on=date(2014, 4, 2)), META
            )
        assert await store.read_stream("ratification-ATT-BGR") == before
        # the time-skipping server keeps the workflow tasks that ran the validators; a
        # refused update leaves no update event and no activity in the history
        added = {e.event_type for e in (await handle.fetch_history()).events[history_before:]}
        assert added <= {
            EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        }
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                RatificationWorkflow.sign,
                SignRequest(command=r.Sign(signed_on=date(2013, 6, 4)), meta=META),
            )


async def test_text_the_store_cannot_keep_fails_the_command_at_once_and_stores_nothing(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    """U+0000 in a command's text (PostgreSQL jsonb refuses it) once made the append
    activity retry without end, the Update never answering; it is now a non-retryable
    failure that the CLI reports in the store's words, and the process goes on."""
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    async with build_worker(client, store, queue):
        # the context given: treaty:ATT may have been started by an earlier test of this
        # module, on a queue no worker polls any more
        handle = await service.ensure_ratification(
            client, "ATT", "PER", queue, context=r.TreatyContext()
        )
        await service.send(handle, r.Sign(signed_on=date(2013, 6, 3)), META)
        before = await store.read_stream("ratification-ATT-PER")
        bad = CommandMeta(actor="test", source="nul\x00byte")
        with pytest.raises(service.Refused, match=r"U\+0000 \(NUL\)"):
            await asyncio.wait_for(
                service.send(
                    handle,
                    r.Deposit(instrument="ratification", deposited_on=date(2014, 4, 2)),
                    bad,
                ),
                60,
            )
        assert await store.read_stream("ratification-ATT-PER") == before
        # the process still takes the same command with text the store can keep
        recorded = await service.send(
            handle, r.Deposit(instrument="ratification", deposited_on=date(2014, 4, 2)), META
        )
        assert recorded.events[0] == "InstrumentDeposited"


async def test_treaty_goes_on_when_a_registered_process_has_closed(store: EventStore) -> None:
    # a server of its own: the module's server already has a treaty:CCM on another queue
    own = await start_time_skipping()
    queue = f"q-{uuid.uuid4().hex}"
    client = own.client
    async with own, build_worker(client, store, queue):
        gone = await service.ensure_ratification(client, "CCM", "SWE", queue)
        await service.send(gone, r.Sign(signed_on=date(2008, 12, 3)), META)
        await service.send(
            gone, r.Deposit(instrument="ratification", deposited_on=date(2012, 4, 23)), META
        )
        await gone.terminate("closed by an administrator")
        recorded = await record_statement(client, queue, "CCM")
        assert recorded.events[:2] == ["DepositaryStatementRecorded", "TreatyEntryIntoForceFixed"]
        treaty_view = await service.treaty_view(client, "CCM")
        assert treaty_view is not None and treaty_view.state.in_force_on == date(2010, 8, 1)
