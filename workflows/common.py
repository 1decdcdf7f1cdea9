"""What the workflows share: appending events, refusals, the workflow's clock and timers.

Workflows are thin: the domain decides, this module turns the decision into an append
through the event-store activity with deterministic event ids and full metadata
(:class:`workflows.engine.ProcessEngine` composes these into each workflow).
:class:`CommandMeta` and :class:`Recorded` live in :mod:`workflows.messages` with every
other payload and are importable from here as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.eventstore import AppendRequest, AppendResponse, EventRecord, OutboxRecord
    from domain import ids
    from domain.errors import DomainError
    from domain.events import DomainEvent, event_data
    from workflows.messages import CommandMeta, Recorded

__all__ = [
    "APPEND_RETRY",
    "LOCAL_APPEND",
    "CommandMeta",
    "OutboxSpec",
    "Recorded",
    "append",
    "delay_until_date",
    "refusal",
    "sleep_until",
    "today",
    "warm_up_reference_data",
]

LOCAL_APPEND = "append-as-local-activity"
"""Since this change an append runs as a local activity, in the worker that decided the
events, within the same workflow task: no round trip through the server's activity task
queue (a history records a ``MarkerRecorded`` where it recorded ``ActivityTaskScheduled``,
``Started`` and ``Completed``). The append is idempotent by event id and expected version, so
a local activity run again after a worker crash records nothing twice. Histories recorded
before keep replaying through the activity (docs/workflow-changes.md)."""

APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["ConcurrencyError"],
)


def warm_up_reference_data() -> None:
    """Load pycountry's data (States, observers' names, currencies) now, at the worker's
    import of the workflows: pycountry reads its files on first use, which the workflow
    sandbox forbids, and the domain resolves participants' names inside workflows."""
    import pycountry

    from domain.states import all_states, resolve_participant, resolve_state

    all_states()
    resolve_participant("UNODA")
    resolve_state("Lao PDR")
    resolve_state("100")  # pycountry's own lookup index (numeric codes)
    pycountry.currencies.get(alpha_3="USD")


def refusal(err: DomainError) -> ApplicationError:
    """A domain refusal as a non-retryable application error the client shows as is."""
    return ApplicationError(str(err), type="DomainError", non_retryable=True)


def today() -> datetime:
    """The workflow's current time (deterministic), UTC."""
    return workflow.now().astimezone(UTC)


def delay_until_date(on: date) -> timedelta:
    """Time from now to 00:00 UTC on date ``on`` (negative if past)."""
    return datetime.combine(on, time(), tzinfo=UTC) - today()


async def sleep_until(day: date, woken: Callable[[], bool]) -> bool:
    """Wait on a durable timer until 00:00 UTC on ``day``, unless ``woken()`` turns true
    first (the state changed: the caller re-plans). True when the date is reached (at
    once if it is already past)."""
    delay = delay_until_date(day)
    if delay.total_seconds() <= 0:
        return True
    try:
        await workflow.wait_condition(woken, timeout=delay)
    except TimeoutError:
        return True
    return False


class OutboxSpec(BaseModel):
    """A message to queue with an event: whose focal points (``treaty``, ``state``), the
    ``template`` and its ``params``. Its key is the event's id."""

    treaty: str
    state: str
    template: str
    params: dict[str, Any]


async def append(
    workflow_id: str,
    version: int,
    events: Sequence[DomainEvent],
    meta: CommandMeta,
    cause: str,
    outbox: dict[int, OutboxSpec] | None = None,
) -> Recorded:
    """Append ``events`` after stream version ``version`` through the activity.

    Event ids are derived from (workflow id, stream version); metadata records the actor,
    source, workflow id and run id, causation (``cause``: the update or signal) and
    correlation ids. ``outbox``: messages to write in the same transaction, by the index
    of the event in ``events`` that causes each (its key: that event's id).
    """
    if not events:
        return Recorded(events=[], version=version)
    info = workflow.info()
    records = [
        EventRecord(
            event_id=ids.event_id(workflow_id, version + i + 1),
            event_type=e.type,  # type: ignore[attr-defined]
            data=event_data(e),
            occurred_on=e.occurred_on,
        )
        for i, e in enumerate(events)
    ]
    metadata = {
        "actor": meta.actor,
        "source": meta.source,
        "workflow_id": info.workflow_id,
        "run_id": info.run_id,
        "causation_id": cause,
        "correlation_id": meta.correlation_id,
    }
    if meta.on_behalf_of:  # kept only when given, so earlier events' metadata reads the same
        metadata["on_behalf_of"] = meta.on_behalf_of
    request = AppendRequest(
        stream_id=ids.stream_id(workflow_id),
        expected_version=version,
        events=records,
        metadata=metadata,
        outbox=[
            OutboxRecord(
                key=str(records[i].event_id), event_id=records[i].event_id, **spec.model_dump()
            )
            for i, spec in sorted((outbox or {}).items())
        ],
    )
    if workflow.patched(LOCAL_APPEND):
        response: AppendResponse = await workflow.execute_local_activity(
            "append_events",
            request,
            result_type=AppendResponse,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=APPEND_RETRY,
        )
    else:
        response = await workflow.execute_activity(
            "append_events",
            request,
            result_type=AppendResponse,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=APPEND_RETRY,
        )
    return Recorded(events=[r.event_type for r in records], version=response.last_version)
