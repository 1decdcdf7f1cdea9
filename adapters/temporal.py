"""Connecting to Temporal, and making sure a worker will answer before sending a command."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

import settings as settings_mod

POLLER_FRESHNESS = timedelta(seconds=75)


class NoWorkerError(Exception):
    """No worker has polled the task queue recently: a command would wait forever."""


def no_worker_message(task_queue: str) -> str:
    """What to say when no worker answers on ``task_queue``, and what to run."""
    return (
        f"no worker is polling task queue {task_queue!r}: the command was not sent. "
        "Start one with `treaty up` (embedded stack) or `treaty worker` / `python -m worker`."
    )


def is_no_poller(err: RPCError) -> bool:
    """True for Temporal's answer when a query or update found no worker polling (the
    worker died without a word: ``no poller seen for task queue recently, worker may be
    down``, status FAILED_PRECONDITION)."""
    return err.status == RPCStatusCode.FAILED_PRECONDITION and "no poller seen" in err.message


def connect_cause(err: BaseException) -> str:
    """A short reason why connecting to Temporal failed, from the SDK's error (whose text is
    a Rust transport error such as ``tonic::transport::Error(Transport, ConnectError(...
    "Connection refused" ...))``)."""
    if isinstance(err, ValueError):
        return f"not a valid HOST:PORT address: {err}"
    text = str(err)
    low = text.lower()
    if "connection refused" in low:
        return "connection refused"
    if "dns error" in low or "lookup address" in low or "name or service not known" in low:
        return "host not found"
    if "timed out" in low or "timeout" in low or "deadline" in low:
        return "timed out"
    if "connection reset" in low:
        return "connection reset"
    if "unreachable" in low:
        return "network unreachable"
    if "tls" in low or "certificate" in low:
        return "TLS handshake failed"
    return text.removeprefix("Failed client connect: ").splitlines()[0][:160]


async def connect_client(address: str, namespace: str, *, runtime: Runtime | None = None) -> Client:
    """A Temporal client with the pydantic data converter the workers use.

    To the configured server (``TEMPORAL_ADDRESS``) it connects with the TLS files or the
    API key of the settings (:meth:`settings.Settings.temporal_connect_options`); to the
    embedded dev server without. ``runtime``: the SDK runtime (e.g. one exporting metrics;
    default the SDK's own). Raises :class:`settings.SettingsError` when a TLS file cannot
    be read.
    """
    config = settings_mod.load()
    options = config.temporal_connect_options() if address == config.temporal_address else {}
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
        **options,
    )


async def require_worker(
    client: Client, task_queue: str, ignore_identities: Collection[str] = ()
) -> None:
    """Raise :class:`NoWorkerError` unless a worker polled ``task_queue`` in the last 75 s.

    Called before any staff command so that, with no worker, the command says so at once
    instead of hanging (and nothing reaches a workflow history). Pollers whose identity is
    in ``ignore_identities`` do not count (a worker known to be dead: Temporal keeps
    listing its last poll for a minute or so).
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
        if poller.identity in ignore_identities:
            continue
        seen = poller.last_access_time.ToDatetime(tzinfo=UTC)
        if now - seen <= POLLER_FRESHNESS:
            return
    raise NoWorkerError(no_worker_message(task_queue))
