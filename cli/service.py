"""Staff operations on Temporal: start processes, send commands, query them.

Every command goes to its workflow as an Update; a refusal comes back at once as
:class:`Refused` and nothing reaches the history.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ActivityError, ApplicationError
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
    """The refusal an Update failed with: the workflow's own (an ApplicationError), or
    the non-retryable one of the activity that failed it (e.g. text the event store
    cannot keep), said in the activity's words rather than "Activity task failed"."""
    cause = err.cause
    if isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError):
        cause = cause.cause
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


_NO_WITH_START = {RPCStatusCode.UNIMPLEMENTED, RPCStatusCode.PERMISSION_DENIED}
"""How a server without update-with-start (before Temporal 1.26, or with it disabled:
``frontend.enableExecuteMultiOperation``) refuses it."""

_with_start = True


async def start_with(
    client: Client,
    treaty: str,
    state: str,
    command: r.Sign | r.CompleteDomesticProcedure,
    meta: CommandMeta,
    task_queue: str,
    context: r.TreatyContext,
) -> tuple[WorkflowHandle, Recorded]:
    """Start ``ratification:<CODE>:<ISO3>`` and send it ``command`` in one call
    (update-with-start; a process already running gets the command alone; on a server
    without update-with-start, a start and then the command's Update). The caller
    checks the command first (:func:`precheck`), so a refused one leaves no process.
    Returns the handle and what the command recorded; :class:`Refused` if refused."""
    workflow_id = ids.ratification_workflow_id(treaty, state)
    update_id = str(uuid.uuid4())
    match command:
        case r.Sign():
            update: Any = RatificationWorkflow.sign
            request: Any = SignRequest(command=command, meta=meta)
        case r.CompleteDomesticProcedure():
            update = RatificationWorkflow.complete_domestic_procedure
            request = DomesticProcedureRequest(command=command, meta=meta)
        case _:  # pragma: no cover
            raise TypeError(command)

    def call() -> Awaitable[Recorded]:
        operation = WithStartWorkflowOperation(
            RatificationWorkflow.run,
            RatificationInput(treaty=treaty, state=state, context=context),
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        return client.execute_update_with_start_workflow(
            update, request, start_workflow_operation=operation, id=update_id
        )

    global _with_start
    if _with_start:
        try:
            recorded = await retrying(call)
        except WorkflowUpdateFailedError as err:
            raise _refusal(err) from err
        except RPCError as err:
            if err.status not in _NO_WITH_START:
                raise
            _with_start = False  # a server without update-with-start: start, then send
        else:
            return client.get_workflow_handle(workflow_id), recorded
    handle = await ensure_ratification(client, treaty, state, task_queue, context)
    return handle, await send(handle, command, meta)


@dataclass
class ImportReport:
    """Outcome of an import: per-row lists (ISO3 or names) and refusals with reasons."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    signature_unknown: list[str] = field(default_factory=list)
    refused: list[importer.RowError] = field(default_factory=list)
    events: int = 0
    states: list[str] = field(default_factory=list)
    """ISO3 codes of the rows that changed (what :func:`wait_settled` waits for)."""
    settled: bool | None = None
    """Whether the treaty process had counted every deposit and fixed every date when the
    import returned (None: not waited for)."""


COUNT_WAIT_SECONDS = 120.0
"""How long an import waits for the treaty process to count the deposits it has sent
before sending the next batch (past it, the rest go one by one in date order)."""


async def counted_deposits(
    client: Client,
    treaty: str,
    expected: Iterable[str] = (),
    wait_seconds: float = COUNT_WAIT_SECONDS,
) -> dict[str, date] | None:
    """The deposits the treaty process has counted (ISO3 -> date), once it has counted
    those of the States ``expected``: a deposit's Update returns when the treaty process
    has been signalled, and it counts the deposit afterwards. None if they are not all
    counted within ``wait_seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    wanted = set(expected)
    delay = 0.05
    while True:
        view = await treaty_view(client, treaty)
        counted = dict(view.state.deposits) if view else {}
        if wanted <= counted.keys():
            return counted
        if loop.time() > deadline:
            return None
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


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

    Signatures go concurrently (a new process is started with its first command in one
    call, :func:`start_with`). Deposits go in batches chosen by
    :func:`cli.importer.next_deposit_batch` (concurrently where that cannot change what
    the treaty process records, otherwise one by one in date order), so the treaty
    process records them as if counted in the order they happened (CCM Art. 17 compares
    dates); between batches the import waits until the treaty process has counted the
    batch sent.
    """
    report = ImportReport()
    context = await treaty_context(client, treaty, task_queue)
    threshold = get_profile(treaty).eif_threshold
    gate = asyncio.Semaphore(concurrency)
    deposits: list[tuple[importer.Row, WorkflowHandle, r.Deposit]] = []
    earlier: set[str] = set()  # States whose process has a deposit already
    row_changed: dict[int, bool] = {}

    def row_meta(row: importer.Row) -> CommandMeta:
        return meta.model_copy(update={"source": row.source or meta.source})

    async def first_phase(row: importer.Row) -> None:
        async with gate:
            view = await ratification_view(client, treaty, row.state)
            current = view.state if view else r.initial_state(treaty, row.state)
            if current.consented_on is not None:
                earlier.add(row.state)
            the_plan = importer.plan(row, current)
            if the_plan.refused:
                report.refused.append(importer.RowError(row.line, row.name, the_plan.refused))
                progress()
                return
            commands = list(the_plan.commands)
            changed = False
            try:
                if view is None and commands and not isinstance(commands[0], r.Deposit):
                    precheck(current, commands, context)
                    handle, recorded = await start_with(
                        client,
                        treaty,
                        row.state,
                        commands.pop(0),
                        row_meta(row),
                        task_queue,
                        context,
                    )
                    report.events += len(recorded.events)
                    changed = True
                else:
                    handle = await prepare_ratification(
                        client, treaty, row.state, commands, task_queue, context, view
                    )
            except Refused as err:
                report.refused.append(importer.RowError(row.line, row.name, str(err)))
                progress()
                return
            for command in commands:
                if isinstance(command, r.Deposit):
                    deposits.append((row, handle, command))
                    continue
                try:
                    recorded = await send(handle, command, row_meta(row))
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

    async def deposit(item: tuple[importer.Row, WorkflowHandle, r.Deposit]) -> bool:
        row, handle, command = item
        try:
            recorded = await send(handle, command, row_meta(row))
            report.events += len(recorded.events)
            row_changed[row.line] = True
            return True
        except Refused as err:
            report.refused.append(importer.RowError(row.line, row.name, str(err)))
            row_changed.pop(row.line, None)
            return False
        finally:
            progress()

    async def gated(item: tuple[importer.Row, WorkflowHandle, r.Deposit]) -> bool:
        async with gate:
            return await deposit(item)

    await asyncio.gather(*(first_phase(row) for row in rows))
    pending = sorted(deposits, key=lambda d: (d[2].deposited_on, d[0].state))
    # deposits recorded before this import but not counted yet are waited for first
    counted = await counted_deposits(client, treaty, earlier) if pending else None
    while pending:
        if counted is None:  # the treaty process did not count in time: date order
            batch = importer.DepositBatch(list(range(len(pending))), concurrent=False)
        else:
            batch = importer.next_deposit_batch(
                counted, [(d[0].state, d[2].deposited_on) for d in pending], threshold
            )
        chosen = [pending[i] for i in batch.indices]
        if batch.concurrent:
            sent = await asyncio.gather(*(gated(item) for item in chosen))
        else:
            sent = [await deposit(item) for item in chosen]
        taken = set(batch.indices)
        pending = [d for i, d in enumerate(pending) if i not in taken]
        if pending and counted is not None:
            accepted = [item[0].state for item, ok in zip(chosen, sent, strict=True) if ok]
            counted = await counted_deposits(client, treaty, accepted)
    for row in rows:
        if row.line in row_changed:
            (report.changed if row_changed[row.line] else report.unchanged).append(row.name)
            if row_changed[row.line]:
                report.states.append(row.state)
    report.refused.sort(key=lambda e: e.line)
    return report


async def wait_settled(
    client: Client,
    treaty: str,
    states: list[str],
    wait_seconds: float = 120,
    progress: Callable[[int], None] | None = None,
) -> bool:
    """Wait until what follows the deposits asynchronously is recorded: the treaty process
    has counted every deposit among ``states``, and every consented State has its
    entry-into-force date fixed (and, when that date is past, recorded as reached).
    ``progress(n)``: called after each round with the number of ``states`` settled.
    True if settled in time."""
    today = date.today()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    pending = list(states)
    gate = asyncio.Semaphore(8)

    async def unsettled(state: str, counted: dict[str, date]) -> bool:
        async with gate:
            view = await ratification_view(client, treaty, state)
        if view is None or view.state.consented_on is None:
            return False
        s = view.state
        return (
            state not in counted
            or (view.context.in_force_on is not None and s.in_force_on is None)
            or (s.in_force_on is not None and s.in_force_on <= today and not s.entered_into_force)
        )

    while loop.time() < deadline:
        treaty_now = await treaty_view(client, treaty)
        counted = treaty_now.state.deposits if treaty_now else {}
        flags = await asyncio.gather(*(unsettled(state, counted) for state in pending))
        pending = [state for state, flag in zip(pending, flags, strict=True) if flag]
        if progress is not None:
            progress(len(states) - len(pending))
        if not pending:
            return True
        await asyncio.sleep(0.5)
    return False
