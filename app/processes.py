"""The running processes as the application sees them: their state by query, the local
check of commands on it (what the workflows' validators will decide), and retrying what
fails for a moment. Used by :mod:`app.commands` (the one way to send a command) and by the
use cases in :mod:`app.service` and its siblings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from app.errors import Refused
from domain import ids
from domain import ratification as r
from domain.errors import DomainError
from domain.treaties import get_profile
from workflows.ratification import RatificationView, RatificationWorkflow
from workflows.treaty import TreatyInput, TreatyView, TreatyWorkflow

T = TypeVar("T")


RETRY_FOR_SECONDS = 600.0
"""How long a command keeps waiting for a worker that went away (crash, restart)."""

_TRANSIENT = {
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.UNAVAILABLE,
}


QUERY_RPC_TIMEOUT = timedelta(seconds=10)
"""How long one query waits for its answer before it is asked again (:func:`query`).

A query that reaches a run in the workflow task that continues it as new is held by the
server until that task completes, then handed to the closed run's worker, which has
already dropped the run from its cache and does not answer it: the call would wait for the
client's default deadline (30 s) and fail with ``CANCELLED 'Timeout expired'``. Asked
again, the query reaches the new run."""


def _transient(err: RPCError) -> bool:
    """No worker answered in time, or the server is busy: worth asking again."""
    return err.status in _TRANSIENT


def _query_unanswered(err: RPCError) -> bool:
    """A query's own deadline (:data:`QUERY_RPC_TIMEOUT`) passed without an answer: the
    client says so as CANCELLED 'Timeout expired' (the server, as DEADLINE_EXCEEDED)."""
    return err.status == RPCStatusCode.CANCELLED and "Timeout expired" in err.message


async def retrying(
    call: Callable[[], Awaitable[T]], transient: Callable[[RPCError], bool] = _transient
) -> T:
    """``call()``, retried while the failure is transient (no worker answered in time, the
    server is busy), for up to :data:`RETRY_FOR_SECONDS`.

    Commands are Updates with a fixed update id, so a retry attaches to the same update
    instead of sending it twice; queries read state and are safe to repeat.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RETRY_FOR_SECONDS
    delay = 0.2
    while True:
        try:
            return await call()
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            if loop.time() > deadline:
                raise
        except RPCError as err:
            if not transient(err) or loop.time() > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


async def query(handle: WorkflowHandle, name: Any) -> Any:
    """``handle.query(name)`` with :data:`QUERY_RPC_TIMEOUT`, asked again (a query only
    reads) while it goes unanswered (a run closing by continue-as-new) or the failure is
    transient, for up to :data:`RETRY_FOR_SECONDS`; any other error is raised as is."""
    return await retrying(
        lambda: handle.query(name, rpc_timeout=QUERY_RPC_TIMEOUT),
        transient=lambda err: _transient(err) or _query_unanswered(err),
    )


async def ensure_treaty(client: Client, treaty: str, task_queue: str) -> WorkflowHandle:
    """Start ``treaty:<CODE>`` unless it runs already; return its handle."""
    return await client.start_workflow(
        TreatyWorkflow.run,
        TreatyInput(treaty=treaty),
        id=ids.treaty_workflow_id(treaty),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


async def treaty_context(client: Client, treaty: str, task_queue: str) -> r.TreatyContext:
    """What the treaty process knows of its entry into force (started if needed)."""
    handle = await ensure_treaty(client, treaty, task_queue)
    return await query(handle, TreatyWorkflow.context)


def precheck(current: r.RatificationState, commands: list[Any], context: r.TreatyContext) -> None:
    """Decide ``commands`` locally on ``current`` (what the workflow's validators will do).

    Raises :class:`Refused` with the domain's message.
    """
    profile = get_profile(current.treaty)
    today = datetime.now(UTC).date()
    state = current
    for command in commands:
        try:
            state = r.fold(state, r.decide(state, command, profile, context, today))
        except DomainError as err:
            raise Refused(str(err)) from err


async def check_counted(client: Client, treaty: str, state: str, commands: list[Any]) -> None:
    """:class:`Refused` if a deposit among ``commands`` is dated otherwise than the
    deposit the treaty process has counted for ``state`` (an import counts the depositary's
    record before it reaches the States' processes): a State deposits one instrument, and
    the treaty's entry into force may rest on that count (CCM Art. 17(1))."""
    deposits = [c for c in commands if isinstance(c, r.Deposit)]
    if not deposits:
        return
    view = await treaty_view(client, treaty)
    counted = view.state.deposits.get(state) if view else None
    if counted is None:
        return
    for deposit in deposits:
        if counted != deposit.deposited_on:
            raise Refused(
                f"treaty:{treaty} has counted {state}'s deposit on {counted.isoformat()} "
                f"(from a status table imported), not {deposit.deposited_on.isoformat()}: "
                f"a State deposits one instrument, and a count is not corrected; record the "
                f"deposit of {counted.isoformat()} (e.g. import that table again)"
            )


async def query_or_none(handle: WorkflowHandle, name: Any) -> Any:
    """:func:`query`, or None if there is no such workflow."""
    try:
        return await query(handle, name)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def ratification_view(client: Client, treaty: str, state: str) -> RatificationView | None:
    """The process's state by query, or None if no such process exists."""
    handle = client.get_workflow_handle(ids.ratification_workflow_id(treaty, state))
    return await query_or_none(handle, RatificationWorkflow.view)


async def treaty_view(client: Client, treaty: str) -> TreatyView | None:
    """The treaty process's state by query, or None if it was never started."""
    handle = client.get_workflow_handle(ids.treaty_workflow_id(treaty))
    return await query_or_none(handle, TreatyWorkflow.view)


def refusal(err: WorkflowUpdateFailedError) -> Refused:
    """The refusal an Update failed with: the workflow's own (an ApplicationError), or
    the non-retryable one of the activity that failed it (e.g. text the event store
    cannot keep), said in the activity's words rather than "Activity task failed"."""
    cause = err.cause
    if isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError):
        cause = cause.cause
    if isinstance(cause, ApplicationError):
        return Refused(cause.message)
    return Refused(str(cause or err))
