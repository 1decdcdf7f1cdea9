"""Staff operations on the treaty and ratification processes: start them, count deposits,
import a status table, wait for what follows.

Every command goes to its workflow through :mod:`app.commands` (one ``send``); a refusal
comes back at once as :class:`Refused` and nothing reaches the history. The helpers below
that take a workflow handle (:func:`send`) send through
:func:`app.commands.update`, the one place an Update is executed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from adapters import status_table
from app import commands, importer, reads
from app.commands import CountDeposits, ProcessRef, RecordRows, Start
from app.errors import Refused
from app.import_report import FilledFact, ImportReport, WithdrawalItem
from app.processes import (
    RETRY_FOR_SECONDS,
    check_counted,
    ensure_treaty,
    precheck,
    query_or_none,
    ratification_view,
    retrying,
    treaty_context,
    treaty_view,
)
from domain import ids
from domain import ratification as r
from domain import treaty as t
from domain.treaties import get_profile
from eventstore.recorder import Recorder
from workflows.common import CommandMeta, Recorded
from workflows.messages import CountDepositsResult, RefusedCount
from workflows.ratification import RatificationInput, RatificationView, RatificationWorkflow

__all__ = [
    "RETRY_FOR_SECONDS",
    "ImportReport",
    "Refused",
    "check_counted",
    "ensure_treaty",
    "precheck",
    "query_or_none",
    "ratification_view",
    "retrying",
    "treaty_context",
    "treaty_view",
]


async def ensure_ratification(
    client: Client,
    treaty: str,
    state: str,
    task_queue: str,
    context: r.TreatyContext | None = None,
    *,
    register: bool = True,
) -> WorkflowHandle:
    """Start ``ratification:<CODE>:<ISO3>`` unless it runs, with the treaty's ``context``
    (asked of the treaty process when not given); ``register``: the process registers
    itself with the treaty process (False: the caller does, see :func:`count_deposits`)."""
    if context is None:
        context = await treaty_context(client, treaty, task_queue)
    return await client.start_workflow(
        RatificationWorkflow.run,
        RatificationInput(
            treaty=treaty, state=state, context=context, register_with_treaty=register
        ),
        id=ids.ratification_workflow_id(treaty, state),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


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
        await check_counted(client, treaty, state, commands)
        return client.get_workflow_handle(ids.ratification_workflow_id(treaty, state))
    if context is None:
        context = await treaty_context(client, treaty, task_queue)
    precheck(r.initial_state(treaty, state), commands, context)
    await check_counted(client, treaty, state, commands)
    return await ensure_ratification(client, treaty, state, task_queue, context)


async def send(
    handle: WorkflowHandle,
    command: r.Sign | r.CompleteDomesticProcedure | r.Deposit | r.ObligationCommand,
    meta: CommandMeta,
) -> Recorded:
    """Send one ratification command to the running process ``handle`` as its Update
    (checked there by the workflow's validator only); :class:`Refused` if refused.
    Entrypoints use :meth:`app.commands.Commands.send`, which checks first and starts."""
    ref = ProcessRef("ratification", *handle.id.split(":")[1:3])
    return await commands.update(handle, commands.route(ref, command), command, meta)


async def record_statement(
    client: Client,
    treaty: str,
    command: t.RecordDepositaryStatement,
    meta: CommandMeta,
    task_queue: str,
) -> Recorded:
    """Record the depositary's entry-into-force statement on ``treaty:<CODE>`` (started
    if needed)."""
    return await commands.Commands(client, task_queue).send(
        ProcessRef("treaty", treaty), command, meta
    )


async def start_with(
    client: Client,
    treaty: str,
    state: str,
    batch: list[Any],
    meta: CommandMeta,
    task_queue: str,
    context: r.TreatyContext,
) -> tuple[WorkflowHandle, Recorded]:
    """Start ``ratification:<CODE>:<ISO3>`` and record ``batch`` in it in one call
    (update-with-start of ``record_commands``; a process already running gets the commands
    alone). The process does not register itself with the treaty process, nor signal its
    deposit there: the caller does both (:func:`count_deposits`), as :func:`import_rows`
    does. The caller checks the commands first (:func:`precheck`), so refused ones leave no
    process. Returns the handle and what was recorded; :class:`Refused` if refused."""
    ref = ProcessRef("ratification", treaty, state)
    recorded = await commands.Commands(client, task_queue).send(
        ref,
        RecordRows(batch, tell_treaty=False),
        meta,
        start=Start(context=context, register=False),
        checked=True,
    )
    return client.get_workflow_handle(ref.workflow_id), recorded


def _counts(deposits: list[tuple[str, date]]) -> list[t.CountDeposit]:
    """``deposits`` (ISO3, date) as counts in date order, then ISO3 (the order CCM Art.
    17(1) counts instruments in)."""
    ordered = sorted(deposits, key=lambda d: (d[1], d[0]))
    return [t.CountDeposit(state=s, deposited_on=d) for s, d in ordered]


COUNT_CHUNK = 500
"""Deposits per :func:`count_deposits` Update (each is one append on the treaty's stream)."""


async def count_deposits(
    client: Client,
    treaty: str,
    deposits: list[tuple[str, date]],
    meta: CommandMeta,
    task_queue: str,
    *,
    register: Sequence[str] = (),
    known_context: r.TreatyContext | None = None,
) -> CountDepositsResult:
    """Have ``treaty:<CODE>`` count ``deposits`` (ISO3, date) in date order (then ISO3:
    the order CCM Art. 17(1) counts in), :data:`COUNT_CHUNK` at a time, each chunk one
    Update and one append; and register the processes of the States ``register``
    (told the treaty's context if it differs from ``known_context``, the one they were
    started with; None: told whenever it is fixed). Returns the refused counts (already
    counted on another date) and the treaty's context after the last chunk."""
    send_to = commands.Commands(client, task_queue).send
    ref = ProcessRef("treaty", treaty)
    ordered = _counts(deposits)
    processes = [ids.ratification_workflow_id(treaty, s) for s in register]
    result = CountDepositsResult(recorded=Recorded(events=[], version=0))
    refused: list[RefusedCount] = []
    for i in range(0, max(len(ordered), 1), COUNT_CHUNK):
        command = CountDeposits(
            processes=processes if i == 0 else [],
            deposits=ordered[i : i + COUNT_CHUNK],
            known_context=known_context,
        )
        result = await send_to(ref, command, meta)
        refused += result.refused
    return result.model_copy(update={"refused": refused})


def predicted_context(
    current: t.TreatyState, deposits: list[tuple[str, date]], today: date
) -> r.TreatyContext:
    """The treaty's context once ``deposits`` are counted in date order on ``current``
    (what :func:`count_deposits` will make the treaty process decide; pure)."""
    events, _ = t.count_deposits(current, _counts(deposits), get_profile(current.treaty), today)
    return t.fold(current, events).context()


@dataclass
class _Planned:
    """A row the record accepts, before it is sent: its process's state (``exists``: the
    process runs already), the commands still to send and what the import reports of it
    (``plan``, :func:`app.importer.plan`)."""

    row: status_table.Row
    current: r.RatificationState
    exists: bool
    commands: list[Any]
    signature_unknown: bool
    plan: importer.Plan | None = None


def _report_row(report: ImportReport, p: _Planned) -> None:
    """Add what ``p``'s row brought (recorded now, or standing on the record) to ``report``."""
    row, plan = p.row, p.plan
    if p.signature_unknown:
        report.signature_unknown.append(row.name)
    if plan is None:
        return
    if plan.succession_date_unknown:
        report.succession_date_unknown.append(row.name)
    report.filled += [FilledFact(row.state, row.name, fact) for fact in plan.filled]
    report.notes += plan.notes
    w = plan.withdrawal
    if w is not None:
        report.withdrawals.append(
            WithdrawalItem(
                state=row.state,
                name=row.name,
                received_on=w.received_on,
                takes_effect_on=w.rule_effective_on,
                article=w.article,
                stated_effective_on=w.stated_effective_on,
                condition=w.condition,
                disagreement=w.disagreement,
                recorded=any(isinstance(c, r.Withdraw) for c in p.commands),
            )
        )


def _deposits(of: list[_Planned]) -> list[tuple[str, date]]:
    return [(p.row.state, p.row.deposited_on) for p in of if p.row.deposited_on is not None]


def _check(
    rows: list[_Planned], context: r.TreatyContext
) -> tuple[list[_Planned], list[tuple[_Planned, str]]]:
    ok: list[_Planned] = []
    bad: list[tuple[_Planned, str]] = []
    for p in rows:
        try:
            precheck(p.current, p.commands, context)
        except Refused as err:
            bad.append((p, str(err)))
        else:
            ok.append(p)
    return ok, bad


def accept_rows(
    planned: list[_Planned], treaty: t.TreatyState, today: date
) -> tuple[list[_Planned], list[tuple[_Planned, str]], r.TreatyContext]:
    """Which ``planned`` rows an import records: every row accepted is valid under the
    treaty context the accepted rows' deposits give (:func:`predicted_context` on
    ``treaty``), and every row refused is invalid under it (a signature on or after that
    entry into force, ATT Art. 21(1); an accession before it, ATT Art. 21(3)). A row's
    validity depends on the date, and the date on which rows are counted, so the set is
    found by iteration: start from every row, predict, keep the rows valid under the
    prediction, predict again from them, until the set stays the same (a refused row
    that moved the date no longer does, and the rows it made invalid are checked again).
    Should it not settle, rows are only ever dropped until every one left is valid.
    Returns ``(accepted, refused with the reason, the predicted context)``; pure."""
    accepted = planned
    for _ in range(len(planned) + 1):
        context = predicted_context(treaty, _deposits(accepted), today)
        ok, bad = _check(planned, context)
        if [id(p) for p in ok] == [id(p) for p in accepted]:
            return ok, bad, context
        accepted = ok
    accepted, refused = planned, []
    while True:  # no fixed point: drop rows until all those left are valid
        context = predicted_context(treaty, _deposits(accepted), today)
        accepted, bad = _check(accepted, context)
        refused += bad
        if not bad:
            return accepted, refused, context


async def import_rows(
    client: Client,
    treaty: str,
    rows: list[status_table.Row],
    meta: CommandMeta,
    task_queue: str,
    *,
    concurrency: int = 8,
    progress: Callable[[], None] = lambda: None,
) -> ImportReport:
    """Bring one process per row to what the row says (idempotent), in three steps:

    1. plan: each row's process is asked for its state (``concurrency`` at a time) and the
       row's commands (signature, deposit, the dates the record lacked, withdrawal, end
       notes: :func:`app.importer.plan`) are planned and checked locally
       (:func:`precheck`) with the treaty context the import will give
       (:func:`predicted_context`); a refused row leaves no trace;
    2. count: the treaty process counts the table's deposits (the depositary's record) in
       date order, in one Update and one append (:func:`count_deposits`; CCM Art. 17(1)),
       which fixes its entry-into-force date when they reach the threshold;
    3. record: each row's commands go to its process as one Update, recorded in one append
       (``concurrency`` at a time; a new process is started with them in the same call,
       :func:`start_with`, knowing the treaty's context, so a deposit records the State's
       entry into force with it); then the new processes are registered with the treaty
       process in one Update.

    Rows already recorded are counted and registered again, which changes nothing unless an
    import stopped between the steps (then this one completes it). A row refused at step 3
    (its process changed since step 1) is reported; its deposit stays counted, as the
    depositary's record has it.
    """
    report = ImportReport()
    await ensure_treaty(client, treaty, task_queue)
    treaty_now = await treaty_view(client, treaty)
    treaty_state = treaty_now.state if treaty_now else t.initial_state(treaty)
    today = datetime.now(UTC).date()
    gate = asyncio.Semaphore(concurrency)
    planned: list[_Planned] = []
    row_changed: dict[int, bool] = {}

    def refuse(row: status_table.Row, reason: str) -> None:
        report.refused.append(status_table.RowError(row.line, row.name, reason))
        progress()

    async def plan(row: status_table.Row) -> None:
        async with gate:
            view = await ratification_view(client, treaty, row.state)
        current = view.state if view else r.initial_state(treaty, row.state)
        the_plan = importer.plan(row, current)
        if the_plan.refused:
            refuse(row, the_plan.refused)
            return
        planned.append(
            _Planned(
                row,
                current,
                view is not None,
                the_plan.commands,
                the_plan.signature_unknown,
                the_plan,
            )
        )

    await asyncio.gather(*(plan(row) for row in rows))
    planned.sort(key=lambda p: p.row.line)

    planned, refused, context = accept_rows(planned, treaty_state, today)
    for p, reason in refused:
        refuse(p.row, reason)

    if planned:
        counted = await count_deposits(
            client,
            treaty,
            _deposits(planned),
            meta,
            task_queue,
            register=[p.row.state for p in planned if p.exists],
        )
        context = counted.context
        not_counted = {c.state: c.reason for c in counted.refused}
        for p in [p for p in planned if p.row.state in not_counted]:
            refuse(p.row, f"the treaty process refused to count it: {not_counted[p.row.state]}")
        planned = [p for p in planned if p.row.state not in not_counted]

    started: list[str] = []

    send = commands.Commands(client, task_queue).send

    async def send_row(p: _Planned, row_meta: CommandMeta) -> Recorded:
        # checked above (accept_rows) on the state the process had; a new process starts
        # with the commands, knowing the treaty's context, and is registered below
        if not p.exists:
            started.append(p.row.state)
        return await send(
            ProcessRef("ratification", treaty, p.row.state),
            RecordRows(p.commands, tell_treaty=False),
            row_meta,
            start=Start(context=context, register=False),
            checked=True,
        )

    async def replan(p: _Planned) -> _Planned | str | None:
        """The row planned again on its process's state now, or why it is refused now
        (None: there is no process)."""
        view = await ratification_view(client, treaty, p.row.state)
        if view is None:
            return None
        again = importer.plan(p.row, view.state)
        if again.refused:
            return again.refused
        return _Planned(p.row, view.state, True, again.commands, p.signature_unknown, again)

    async def record(p: _Planned) -> None:
        row = p.row
        row_meta = meta.model_copy(update={"source": row.source or meta.source})
        if p.commands:
            async with gate:
                try:
                    recorded = await send_row(p, row_meta)
                except Refused as err:
                    # the process changed since the row was planned (a concurrent import
                    # of the same State started it, or a command recorded part of the
                    # row): plan the row again on what is recorded now, once
                    again = await replan(p)
                    if not isinstance(again, _Planned):
                        refuse(row, again or str(err))
                        return
                    p = again
                    try:
                        recorded = (
                            await send_row(p, row_meta)
                            if p.commands
                            else Recorded(events=[], version=p.current.version)
                        )
                    except Refused as err:
                        refuse(row, str(err))
                        return
            report.events += len(recorded.events)
        _report_row(report, p)
        row_changed[row.line] = bool(p.commands)
        progress()

    await asyncio.gather(*(record(p) for p in planned))
    if started:
        await count_deposits(
            client, treaty, [], meta, task_queue, register=sorted(started), known_context=context
        )
    for row in rows:
        if row.line in row_changed:
            (report.changed if row_changed[row.line] else report.unchanged).append(row.name)
            report.states.append(row.state)
    report.refused.sort(key=lambda e: e.line)
    line = {row.name: row.line for row in rows} | {row.state: row.line for row in rows}
    report.signature_unknown.sort(key=line.__getitem__)
    report.succession_date_unknown.sort(key=line.__getitem__)
    report.filled.sort(key=lambda f: line[f.state])
    report.withdrawals.sort(key=lambda w: line[w.state])
    return report


async def wait_settled(
    client: Client,
    treaty: str,
    states: list[str],
    wait_seconds: float = 120,
    progress: Callable[[int], None] | None = None,
    store: Recorder | None = None,
) -> bool:
    """Wait until what follows the deposits asynchronously is recorded: the treaty process
    has counted every deposit among ``states``, and every consented State has its
    entry-into-force date fixed (and, when that date is past, recorded as reached).
    ``progress(n)``: called after each round with the number of ``states`` settled.
    ``store``: read the processes' records there, in one query a round, instead of asking
    each process (a query each: a round trip through the server and a workflow task on the
    worker); a process appends before its state changes, so its record is never behind it.
    True if settled in time."""
    if store is not None:
        return await _wait_settled_in_store(store, treaty, states, wait_seconds, progress)
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


def _unsettled(
    s: r.RatificationState | None, counted: dict[str, date], in_force_on: date | None, today: date
) -> bool:
    """Whether a consented State's record still waits for what follows its deposit: the
    treaty's count of it, its entry-into-force date (once the treaty's is fixed), its entry
    into force recorded (once that date is past)."""
    if s is None or s.consented_on is None:
        return False
    return (
        s.state not in counted
        or (in_force_on is not None and s.in_force_on is None)
        or (s.in_force_on is not None and s.in_force_on <= today and not s.entered_into_force)
    )


async def _wait_settled_in_store(
    store: Recorder,
    treaty: str,
    states: list[str],
    wait_seconds: float,
    progress: Callable[[int], None] | None,
) -> bool:
    """:func:`wait_settled` on the event store's record (the treaty's stream and the
    States' streams folded), against the treaty's own date as recorded."""
    today = date.today()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    pending = set(states)
    while loop.time() < deadline:
        treaty_now = await reads.treaty_state(store, treaty)
        by_state = {s.state: s for s in await reads.ratifications(store, treaty)}
        counted = treaty_now.deposits

        pending = {
            code
            for code in pending
            if _unsettled(by_state.get(code), counted, treaty_now.in_force_on, today)
        }
        if progress is not None:
            progress(len(states) - len(pending))
        if not pending:
            return True
        await asyncio.sleep(0.5)
    return False
