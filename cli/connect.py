"""Connecting to Temporal, and making sure a worker will answer before sending a command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

POLLER_FRESHNESS = timedelta(seconds=75)


class NoWorkerError(Exception):
    """No worker has polled the task queue recently: a command would wait forever."""


async def connect_client(address: str, namespace: str) -> Client:
    """A Temporal client with the pydantic data converter the workers use."""
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter
    )


async def require_worker(client: Client, task_queue: str) -> None:
    """Raise :class:`NoWorkerError` unless a worker polled ``task_queue`` in the last 75 s.

    Called before any staff command so that, with no worker, the command says so at once
    instead of hanging (and nothing reaches a workflow history).
    """
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    now = datetime.now(UTC)
    for poller in response.pollers:
        seen = poller.last_access_time.ToDatetime(tzinfo=UTC)
        if now - seen <= POLLER_FRESHNESS:
            return
    raise NoWorkerError(
        f"no worker is polling task queue {task_queue!r}: the command was not sent. "
        "Start one with `treaty up` (embedded stack) or `treaty worker` / `python -m worker`."
    )
