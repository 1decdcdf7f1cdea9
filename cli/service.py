"""Staff operations on Temporal: start processes, send commands, query them.

Every command goes to its workflow as an Update; a refusal comes back at once as
:class:`Refused` and nothing reaches the history.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from cli import importer
from domain import ids
from domain import ratification as r
from domain import treaty as t
from domain.errors import DomainError
from domain.treaties import get_profile
from workflows.common import CommandMeta, Recorded
from workflows.ratification import (
    DepositRequest,
    DomesticProcedureRequest,
    RatificationInput,
    RatificationView,
    RatificationWorkflow,
    SignRequest,
)
from workflows.treaty import StatementRequest, TreatyInput, TreatyView, TreatyWorkflow

T = TypeVar("T")


class Refused(Exception):
    """A command refused by its process (the message says why); nothing was recorded."""


RETRY_FOR_SECONDS = 600.0
"""How long a command keeps waiting for a worker that went away (crash, restart)."""

_TRANSIENT = {
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.UNAVAILABLE,
}


async def retrying(call: Callable[[], Awaitable[T]]) -> T:
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
            if err.status not in _TRANSIENT or loop.time() > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


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
    return await retrying(lambda: handle.query(TreatyWorkflow.context))


async def ensure_ratification(
    client: Client,
    treaty: str,
    state: str,
    task_queue: str,
    context: r.TreatyContext | None = None,
) -> WorkflowHandle:
    """Start ``ratification:<CODE>:<ISO3>`` unless it runs, with the treaty's ``context``
    (asked of the treaty process when not given)."""
    if context is None:
        context = await treaty_context(client, treaty, task_queue)
    return await client.start_workflow(
        RatificationWorkflow.run,
        RatificationInput(treaty=treaty, state=state, context=context),
        id=ids.ratification_workflow_id(treaty, state),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


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


async def prepare_ratification(
    client: Client,
    treaty: str,
    state: str,
    commands: list[Any],
    task_queue: str,
    context: r.TreatyContext | None = None,
    view: RatificationView | None = None,
) -> WorkflowHandle:
    """The handle of the State's process, started only if ``commands`` would be accepted.

    The commands are checked locally first (:func:`precheck`), all of them before any is
    sent, so a refused row or command leaves no trace, not even an empty process; the
    workflow's validators check each one again when it arrives. ``view``: the process's
    state if the caller has just queried it.
    """
    view = view or await ratification_view(client, treaty, state)
    if view is not None:
        precheck(view.state, commands, view.context)
        return client.get_workflow_handle(ids.ratification_workflow_id(treaty, state))
    if context is None:
        context = await treaty_context(client, treaty, task_queue)
    precheck(r.initial_state(treaty, state), commands, context)
    return await ensure_ratification(client, treaty, state, task_queue, context)


async def _query_or_none(handle: WorkflowHandle, query: Any) -> Any:
    async def call() -> Any:
        try:
            return await handle.query(query)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    return await retrying(call)


async def ratification_view(client: Client, treaty: str, state: str) -> RatificationView | None:
    """The process's state by query, or None if no such process exists."""
    handle = client.get_workflow_handle(ids.ratification_workflow_id(treaty, state))
    return await _query_or_none(handle, RatificationWorkflow.view)


async def treaty_view(client: Client, treaty: str) -> TreatyView | None:
    """The treaty process's state by query, or None if it was never started."""
    handle = client.get_workflow_handle(ids.treaty_workflow_id(treaty))
    return await _query_or_none(handle, TreatyWorkflow.view)


def _refusal(err: WorkflowUpdateFailedError) -> Refused:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return Refused(cause.message)
    return Refused(str(cause or err))


async def _update(handle: WorkflowHandle, update: Any, request: Any) -> Any:
    """Execute an Update, waiting out a missing worker; the fixed update id makes a retry
    attach to the same update rather than send it again."""
    update_id = str(uuid.uuid4())
    try:
        return await retrying(lambda: handle.execute_update(update, request, id=update_id))
    except WorkflowUpdateFailedError as err:
        raise _refusal(err) from err


async def send(
    handle: WorkflowHandle,
    command: r.Sign | r.CompleteDomesticProcedure | r.Deposit,
    meta: CommandMeta,
) -> Recorded:
    """Send one ratification command as its Update; :class:`Refused` if refused."""
    match command:
        case r.Sign():
            return await _update(
                handle, RatificationWorkflow.sign, SignRequest(command=command, meta=meta)
            )
        case r.CompleteDomesticProcedure():
            return await _update(
                handle,
                RatificationWorkflow.complete_domestic_procedure,
                DomesticProcedureRequest(command=command, meta=meta),
            )
        case r.Deposit():
            return await _update(
                handle, RatificationWorkflow.deposit, DepositRequest(command=command, meta=meta)
            )
    raise TypeError(command)  # pragma: no cover


async def record_statement(
    client: Client,
    treaty: str,
    command: t.RecordDepositaryStatement,
    meta: CommandMeta,
    task_queue: str,
) -> Recorded:
    """Record the depositary's entry-into-force statement on ``treaty:<CODE>``."""
    handle = await ensure_treaty(client, treaty, task_queue)
    return await _update(
        handle,
        TreatyWorkflow.record_depositary_statement,
        StatementRequest(command=command, meta=meta),
    )


@dataclass
class ImportReport:
    """Outcome of an import: per-row lists (ISO3 or names) and refusals with reasons."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    signature_unknown: list[str] = field(default_factory=list)
    refused: list[importer.RowError] = field(default_factory=list)
    events: int = 0


async def import_rows(
    client: Client,
    treaty: str,
    rows: list[importer.Row],
    meta: CommandMeta,
    task_queue: str,
    *,
    concurrency: int = 8,
    progress: Callable[[], None] = lambda: None,
) -> ImportReport:
    """Bring one process per row to what the row says (idempotent).

    Signatures go concurrently; deposits go one by one in date order, so the treaty
    process counts them in the order they happened (CCM Art. 17 compares dates).
    """
    report = ImportReport()
    context = await treaty_context(client, treaty, task_queue)
    gate = asyncio.Semaphore(concurrency)
    deposits: list[tuple[importer.Row, WorkflowHandle, r.Deposit]] = []
    row_changed: dict[int, bool] = {}

    async def first_phase(row: importer.Row) -> None:
        async with gate:
            view = await ratification_view(client, treaty, row.state)
            current = view.state if view else r.initial_state(treaty, row.state)
            the_plan = importer.plan(row, current)
            if the_plan.refused:
                report.refused.append(importer.RowError(row.line, row.name, the_plan.refused))
                progress()
                return
            try:
                handle = await prepare_ratification(
                    client, treaty, row.state, list(the_plan.commands), task_queue, context, view
                )
            except Refused as err:
                report.refused.append(importer.RowError(row.line, row.name, str(err)))
                progress()
                return
            row_meta = meta.model_copy(update={"source": row.source or meta.source})
            changed = False
            for command in the_plan.commands:
                if isinstance(command, r.Deposit):
                    deposits.append((row, handle, command))
                    continue
                try:
                    recorded = await send(handle, command, row_meta)
                except Refused as err:
                    report.refused.append(importer.RowError(row.line, row.name, str(err)))
                    progress()
                    return
                report.events += len(recorded.events)
                changed = True
            if the_plan.signature_unknown:
                report.signature_unknown.append(row.name)
            row_changed[row.line] = changed
            if not any(d[0] is row for d in deposits):
                progress()

    await asyncio.gather(*(first_phase(row) for row in rows))
    deposits.sort(key=lambda d: (d[2].deposited_on, d[0].state))
    for row, handle, command in deposits:
        row_meta = meta.model_copy(update={"source": row.source or meta.source})
        try:
            recorded = await send(handle, command, row_meta)
            report.events += len(recorded.events)
            row_changed[row.line] = True
        except Refused as err:
            report.refused.append(importer.RowError(row.line, row.name, str(err)))
            row_changed.pop(row.line, None)
        progress()
    for row in rows:
        if row.line in row_changed:
            (report.changed if row_changed[row.line] else report.unchanged).append(row.name)
    report.refused.sort(key=lambda e: e.line)
    return report


async def wait_settled(
    client: Client, treaty: str, states: list[str], wait_seconds: float = 120
) -> bool:
    """Wait until what follows the deposits asynchronously is recorded: the treaty process
    has counted every deposit among ``states``, and every consented State has its
    entry-into-force date fixed (and, when that date is past, recorded as reached).
    True if settled in time."""
    today = date.today()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    pending = list(states)
    while loop.time() < deadline:
        treaty_now = await treaty_view(client, treaty)
        counted = treaty_now.state.deposits if treaty_now else {}
        still = []
        for state in pending:
            view = await ratification_view(client, treaty, state)
            if view is None or view.state.consented_on is None:
                continue
            s = view.state
            if (
                state not in counted
                or (view.context.in_force_on is not None and s.in_force_on is None)
                or (
                    s.in_force_on is not None
                    and s.in_force_on <= today
                    and not s.entered_into_force
                )
            ):
                still.append(state)
        pending = still
        if not pending:
            return True
        await asyncio.sleep(0.5)
    return False
