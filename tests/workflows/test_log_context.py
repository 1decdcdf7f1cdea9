"""The logs' workflow context on the time-skipping test server: the append activity's line
and a workflow's line carry the workflow id, run id and process key, and never a secret."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from pathlib import Path

from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.logging import configure_logging
from app import service
from domain import ids
from domain import ratification as r
from eventstore.store import EventStore
from tests.unit.test_settings import PASSWORD, _lines, _secret_settings
from worker import build_worker
from workflows.common import CommandMeta


@workflow.defn(sandboxed=False)
class _LoggingWorkflow:
    @workflow.run
    async def run(self) -> str:
        workflow.logger.info("the workflow says hello")
        return workflow.info().run_id


async def test_activity_and_workflow_lines_carry_workflow_run_and_process_key(
    store: EventStore, env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """A real ratification process on the time-skipping server: the append activity's log
    line and a workflow's log line carry the workflow id, run id and process key."""
    stream = io.StringIO()
    configure_logging(_secret_settings(tmp_path), stream=stream)
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    async with (
        build_worker(client, store, queue),
        Worker(client, task_queue=queue + "-log", workflows=[_LoggingWorkflow]),
    ):
        handle = await service.ensure_ratification(client, "CCM", "BGR", queue)
        run_id = (await handle.describe()).run_id
        # Bulgaria signed the CCM on 3 Dec 2008 (Oslo signing conference)
        await service.send(
            handle,
            r.Sign(signed_on=date(2008, 12, 3)),
            CommandMeta(actor="test", source="UNTC XXVI-6"),
        )
        wf_run = await client.execute_workflow(
            _LoggingWorkflow.run,
            id="log-test:CCM",
            task_queue=queue + "-log",
            execution_timeout=timedelta(seconds=30),
        )
    lines = _lines(stream)
    appended = [x for x in lines if str(x["event"]).startswith("appended")]
    assert appended, stream.getvalue()
    wid = ids.ratification_workflow_id("CCM", "BGR")
    assert appended[0]["workflow_id"] == wid
    assert appended[0]["run_id"] == run_id
    assert appended[0]["process_key"] == "ratification-CCM-BGR"
    assert appended[0]["activity"] == "append_events"
    hello = [x for x in lines if x["event"] == "the workflow says hello"]
    assert hello and hello[0]["workflow_id"] == "log-test:CCM"
    assert hello[0]["run_id"] == wf_run and hello[0]["process_key"] == "log-test-CCM"
    assert PASSWORD not in stream.getvalue()
