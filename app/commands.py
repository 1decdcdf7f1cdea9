"""The write side: one way for every entrypoint to send a command to its process.

:data:`KINDS` is the twin of :data:`domain.processes.PROCESS_TYPES` for writing: for each
kind of process, its workflow, how it is started (if a command may start it) and which
Update each command type goes to, with which request. The Update names and payloads are
the workflows' own (recorded histories replay them): this module only chooses among them.

:class:`Commands` (a Temporal client and a task queue) has the one :meth:`Commands.send`:
check provenance (:func:`check_provenance`), check the command locally on the process's
state (the domain's ``decide``, as the workflow's validator will), start the process if
needed (update-with-start), send the Update with a fixed update id, retrying transient
errors. It raises :class:`~app.errors.Refused` (nothing recorded, nothing started) or
:class:`~app.errors.Unavailable`.

Provenance is built in one place, :func:`command_meta`: the actor recorded is the
authenticated principal (:func:`principal`), never a free-text option; ``on_behalf_of``
says for whom the fact is recorded; ``source`` where it comes from, required for the
facts that come from a document (:data:`app.provenance.DOCUMENT_FACTS`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from app import processes
from app.errors import Refused, Unavailable
from app.provenance import check_provenance
from domain import decision as d
from domain import hca as h
from domain import ids, scenario
from domain import ratification as r
from domain import reporting as rp
from domain import treaty as t
from domain.errors import DomainError
from domain.treaties import get_profile
from workflows.common import CommandMeta
from workflows.decision import DecisionInput, DecisionRequest, DecisionWorkflow
from workflows.hca import AgreementInput, AgreementRequest, AgreementWorkflow
from workflows.messages import (
    CommandsRequest,
    CountDepositsRequest,
    DepositRequest,
    DomesticProcedureRequest,
    MeetingsRequest,
    ObligationRequest,
    RatificationInput,
    SignRequest,
    StatementRequest,
    TreatyInput,
)
from workflows.ratification import RatificationWorkflow
from workflows.reporting import (
    CloseRequest,
    CycleInput,
    ReportingCycleWorkflow,
    ReviewRequest,
    StateReportWorkflow,
    SubmitRequest,
    WithdrawRequest,
)
from workflows.treaty import TreatyWorkflow

# --- commands of the registry that are not the domain's own -------------------------------


@dataclass(frozen=True)
class RecordRows:
    """Ratification commands (signature, domestic procedure, deposit) recorded in one Update
    and one append, all or none (an import's row); ``tell_treaty``: see
    :class:`workflows.messages.CommandsRequest`."""

    commands: list[Any]
    tell_treaty: bool = True


@dataclass(frozen=True)
class CountDeposits:
    """The treaty process counts ``deposits`` (in the order given) and registers the
    ratification ``processes`` (workflow ids); see :func:`app.processes.count_deposits`."""

    deposits: list[t.CountDeposit] = field(default_factory=list)
    processes: list[str] = field(default_factory=list)
    known_context: r.TreatyContext | None = None


@dataclass(frozen=True)
class OpenCycle:
    """Open a reporting cycle: its process starts and asks each State Party that owes the
    year's report (the start itself, not an Update; opening it twice is refused)."""


@dataclass(frozen=True)
class CloseCycle:
    """Close a reporting cycle now and record its figures."""


# --- the registry of process kinds -------------------------------------------------------------


@dataclass(frozen=True)
class ProcessRef:
    """One process: its ``kind`` (a key of :data:`KINDS`), treaty code and ``key`` (ISO3 of
    a ratification, a decision's slug, an agreement's meeting, a reporting cycle's year,
    ``YEAR:ISO3`` of a State's report; empty for the treaty process)."""

    kind: str
    treaty: str
    key: str = ""

    @property
    def workflow_id(self) -> str:
        return KINDS[self.kind].workflow_id(self)


@dataclass(frozen=True)
class Route:
    """Where a command type goes: the workflow's Update and its request; ``starts``: the
    command may start its process (False: it goes only to a process that runs, e.g. an
    obligation, owed by a State whose process recorded its entry into force). ``opens``:
    the command is the process's start itself, with this input (no Update: ``update`` and
    ``request`` are None), refused if the process was ever started."""

    update: Any
    request: Callable[[Any, CommandMeta], BaseModel] | None
    starts: bool = True
    opens: Callable[[ProcessRef, Any, CommandMeta], BaseModel] | None = None


@dataclass(frozen=True)
class Start:
    """What starting a process may need beyond its ref (ratification only): the treaty's
    ``context`` (asked of the treaty process when None) and whether it ``register``\\ s
    itself with the treaty process."""

    context: r.TreatyContext | None = None
    register: bool = True


@dataclass(frozen=True)
class ProcessKind:
    """One kind of process for writing. ``start_input``: its workflow input for a ref
    (None: a command never starts it, e.g. a State's report, started by its cycle);
    ``routes``: command type -> Update."""

    workflow: type
    workflow_id: Callable[[ProcessRef], str]
    routes: dict[type, Route]
    start_input: Callable[[ProcessRef, Start], BaseModel] | None = None


def _ratification_input(ref: ProcessRef, start: Start) -> BaseModel:
    return RatificationInput(
        treaty=ref.treaty,
        state=ref.key,
        context=start.context or r.TreatyContext(),
        register_with_treaty=start.register,
    )


def _obligation(command: Any, meta: CommandMeta) -> BaseModel:
    return ObligationRequest(command=command, meta=meta)


_OBLIGATION_TYPES = (
    r.DeclareStockpiles,
    r.DeclareContamination,
    r.RequestExtension,
    r.DecideExtension,
    r.RecordReport,
    r.DeclareCompliance,
    r.Withdraw,
    r.RecordArmedConflict,
    r.EndArmedConflict,
)


def _decision(command: Any, meta: CommandMeta) -> BaseModel:
    return DecisionRequest(command=command, meta=meta)


def _agreement(command: Any, meta: CommandMeta) -> BaseModel:
    return AgreementRequest(command=command, meta=meta)


def _report_key(ref: ProcessRef) -> tuple[int, str]:
    year, _, state = ref.key.partition(":")
    return int(year), state


KINDS: dict[str, ProcessKind] = {
    "treaty": ProcessKind(
        workflow=TreatyWorkflow,
        workflow_id=lambda ref: ids.treaty_workflow_id(ref.treaty),
        start_input=lambda ref, _: TreatyInput(treaty=ref.treaty),
        routes={
            t.RecordDepositaryStatement: Route(
                TreatyWorkflow.record_depositary_statement,
                lambda c, m: StatementRequest(command=c, meta=m),
            ),
            t.RecordMeetings: Route(
                TreatyWorkflow.record_meetings, lambda c, m: MeetingsRequest(command=c, meta=m)
            ),
            CountDeposits: Route(
                TreatyWorkflow.count_deposits,
                lambda c, m: CountDepositsRequest(
                    processes=c.processes,
                    deposits=c.deposits,
                    known_context=c.known_context,
                    meta=m,
                ),
            ),
        },
    ),
    "ratification": ProcessKind(
        workflow=RatificationWorkflow,
        workflow_id=lambda ref: ids.ratification_workflow_id(ref.treaty, ref.key),
        start_input=_ratification_input,
        routes={
            r.Sign: Route(RatificationWorkflow.sign, lambda c, m: SignRequest(command=c, meta=m)),
            r.CompleteDomesticProcedure: Route(
                RatificationWorkflow.complete_domestic_procedure,
                lambda c, m: DomesticProcedureRequest(command=c, meta=m),
            ),
            r.Deposit: Route(
                RatificationWorkflow.deposit, lambda c, m: DepositRequest(command=c, meta=m)
            ),
            RecordRows: Route(
                RatificationWorkflow.record_commands,
                lambda c, m: CommandsRequest(
                    commands=c.commands, meta=m, tell_treaty=c.tell_treaty
                ),
            ),
            **{
                k: Route(RatificationWorkflow.record_obligation, _obligation, starts=False)
                for k in _OBLIGATION_TYPES
            },
        },
    ),
    "decision": ProcessKind(
        workflow=DecisionWorkflow,
        workflow_id=lambda ref: ids.decision_workflow_id(ref.treaty, ref.key),
        start_input=lambda ref, _: DecisionInput(treaty=ref.treaty, slug=ref.key),
        routes={
            k: Route(DecisionWorkflow.command, _decision)
            for k in (
                d.OpenDecision,
                d.AddOption,
                d.RecordDocument,
                d.OpenRound,
                d.CloseRound,
                d.StatePosition,
                d.SetMilestone,
                d.LaterMeeting,
                d.RecordOutcome,
            )
        },
    ),
    "hca": ProcessKind(
        workflow=AgreementWorkflow,
        workflow_id=lambda ref: ids.hca_workflow_id(ref.treaty, ref.key),
        start_input=lambda ref, _: AgreementInput(treaty=ref.treaty, meeting=ref.key),
        routes={
            k: Route(AgreementWorkflow.command, _agreement)
            for k in (h.OpenAgreement, h.ReachMilestone, h.MoveMeeting, h.RecordPreparation)
        },
    ),
    # reporting:<CODE>:<YEAR>: the cycle, started by `treaty reporting open` (its own input
    # and reports); a command here only closes it
    "reporting": ProcessKind(
        workflow=ReportingCycleWorkflow,
        workflow_id=lambda ref: rp.cycle_workflow_id(ref.treaty, int(ref.key)),
        routes={
            OpenCycle: Route(
                None,
                None,
                opens=lambda ref, c, m: CycleInput(treaty=ref.treaty, year=int(ref.key), meta=m),
            ),
            CloseCycle: Route(ReportingCycleWorkflow.close, lambda c, m: CloseRequest(meta=m)),
        },
    ),
    # reporting:<CODE>:<YEAR>:<ISO3>: a State's report, started by its cycle
    "report": ProcessKind(
        workflow=StateReportWorkflow,
        workflow_id=lambda ref: rp.report_workflow_id(ref.treaty, *_report_key(ref)),
        routes={
            rp.Submit: Route(
                StateReportWorkflow.submit, lambda c, m: SubmitRequest(command=c, meta=m)
            ),
            rp.Withdraw: Route(
                StateReportWorkflow.withdraw, lambda c, m: WithdrawRequest(command=c, meta=m)
            ),
            rp.Review: Route(
                StateReportWorkflow.review, lambda c, m: ReviewRequest(command=c, meta=m)
            ),
        },
    ),
}


def route(ref: ProcessRef, command: Any) -> Route:
    """The Update ``command`` goes to on a process of ``ref.kind``; TypeError if none (a
    programming error: the entrypoints build only commands of the registry)."""
    kind = KINDS[ref.kind]
    found = kind.routes.get(type(command))
    if found is None:
        raise TypeError(f"{type(command).__name__} is not a command of a {ref.kind} process")
    return found


# --- local checks ------------------------------------------------------------------------------


def _today() -> date:
    return datetime.now(UTC).date()


async def _check_ratification(
    client: Client, ref: ProcessRef, command: Any, task_queue: str, start: Start
) -> Start:
    """Decide ``command`` on the State's process as its validator will; returns the start
    options with the treaty's context known (a process not yet running starts with it)."""
    view = await processes.ratification_view(client, ref.treaty, ref.key)
    if isinstance(command, _OBLIGATION_TYPES):
        if view is None:
            if isinstance(command, r.Withdraw):
                raise Refused(
                    f"{ref.key} is not a State Party to the {ref.treaty}: no instrument of "
                    "ratification or accession is recorded for it, so it has nothing to "
                    "withdraw from"
                )
            raise Refused(
                f"no ratification process for {ref.key} under the {ref.treaty}: the treaty "
                "is not in force for it, so it owes nothing yet"
            )
        # a process in force before obligations existed opens them with this command
        missing = r.obligations_at_entry_into_force(view.state, get_profile(ref.treaty), _today())
        processes.precheck(r.fold(view.state, missing), [command], view.context)
        return Start(context=view.context, register=start.register)
    commands = command.commands if isinstance(command, RecordRows) else [command]
    if view is not None:
        processes.precheck(view.state, commands, view.context)
        await processes.check_counted(client, ref.treaty, ref.key, commands)
        return Start(context=view.context, register=start.register)
    context = start.context or await processes.treaty_context(client, ref.treaty, task_queue)
    processes.precheck(r.initial_state(ref.treaty, ref.key), commands, context)
    await processes.check_counted(client, ref.treaty, ref.key, commands)
    return Start(context=context, register=start.register)


async def _check_process(client: Client, ref: ProcessRef, command: Any) -> None:
    """Decide a decision's or an agreement's command on the process's state."""
    kind: scenario.ProcessKind = "decision" if ref.kind == "decision" else "hca"
    step = scenario.Step(line=0, kind=kind, treaty=ref.treaty, key=ref.key, command=command)
    query = DecisionWorkflow.view if ref.kind == "decision" else AgreementWorkflow.view
    current = await processes.query_or_none(client.get_workflow_handle(ref.workflow_id), query)
    try:
        scenario.decide(step, current.state if current else scenario.initial(step), _today())
    except DomainError as err:
        raise Refused(str(err)) from None


# --- sending ---------------------------------------------------------------------------------

_NO_WITH_START = {RPCStatusCode.UNIMPLEMENTED, RPCStatusCode.PERMISSION_DENIED}
"""How a server without update-with-start (before Temporal 1.26, or with it disabled:
``frontend.enableExecuteMultiOperation``) refuses it."""


class Commands:
    """Sends commands to processes on one Temporal ``client`` and ``task_queue``."""

    with_start = True
    """Whether the server takes update-with-start (learned at the first refusal, for the
    whole run)."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    async def send(
        self,
        ref: ProcessRef,
        command: Any,
        meta: CommandMeta,
        *,
        start: Start | None = None,
        checked: bool = False,
    ) -> Any:
        """Send ``command`` to the process ``ref`` as its Update (:func:`route`) and return
        what the Update returns (mostly :class:`workflows.common.Recorded`).

        1. provenance: a fact from a document needs its source (:func:`check_provenance`);
        2. unless ``checked`` (the caller decided it on the state it just read, as an
           import does for its whole table), the command is decided locally on the
           process's current state, so a refused one starts nothing;
        3. a process of a kind a command may start is started with the Update
           (update-with-start; on a server without it, a start then the Update);
           ``start``: ratification options (:class:`Start`);
        4. the Update has a fixed id, so a retry after a transient error
           (:func:`app.processes.retrying`) attaches to it rather than sends it again.

        Raises :class:`Refused` (nothing recorded) or :class:`Unavailable` (no answer in
        :data:`app.processes.RETRY_FOR_SECONDS`); other Temporal errors (RPCError) as is.
        """
        check_provenance(command, meta)
        the_route = route(ref, command)
        if the_route.opens is not None:
            return await self._open(ref, the_route.opens(ref, command, meta))
        start = start or Start()
        if not checked:
            if ref.kind == "ratification":
                start = await _check_ratification(self.client, ref, command, self.task_queue, start)
            elif ref.kind in ("decision", "hca"):
                await _check_process(self.client, ref, command)
        assert the_route.request is not None
        request = the_route.request(command, meta)
        kind = KINDS[ref.kind]
        try:
            if kind.start_input is None or not the_route.starts:
                return await self._update(ref, the_route, request)
            if ref.kind == "ratification" and start.context is None:
                start = Start(
                    context=await processes.treaty_context(
                        self.client, ref.treaty, self.task_queue
                    ),
                    register=start.register,
                )
            return await self._update_with_start(
                ref, the_route, request, kind.start_input(ref, start)
            )
        except WorkflowUpdateFailedError as err:
            raise processes.refusal(err) from err
        except WorkflowUpdateRPCTimeoutOrCancelledError as err:
            raise Unavailable(
                f"{ref.workflow_id} did not answer within {processes.RETRY_FOR_SECONDS:.0f} s "
                "(no worker?): the command may not have been recorded; send it again"
            ) from err

    async def _open(self, ref: ProcessRef, start_input: BaseModel) -> WorkflowHandle:
        """Start the process ``ref`` with ``start_input``; :class:`Refused` if a process of
        that id was ever started (a cycle is opened once)."""
        kind = KINDS[ref.kind]
        try:  # not retried: a start that went through must not read as "started already"
            return await self.client.start_workflow(
                kind.workflow.run,  # type: ignore[attr-defined]
                start_input,
                id=ref.workflow_id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            raise Refused(f"{ref.workflow_id} has been started already") from None

    async def _update(self, ref: ProcessRef, the_route: Route, request: BaseModel) -> Any:
        return await _execute(self.client.get_workflow_handle(ref.workflow_id), the_route, request)

    async def _update_with_start(
        self, ref: ProcessRef, the_route: Route, request: BaseModel, start_input: BaseModel
    ) -> Any:
        kind = KINDS[ref.kind]
        update_id = str(uuid.uuid4())

        def call() -> Awaitable[Any]:
            operation = WithStartWorkflowOperation(
                kind.workflow.run,  # type: ignore[attr-defined]
                start_input,
                id=ref.workflow_id,
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
            return self.client.execute_update_with_start_workflow(
                the_route.update, request, start_workflow_operation=operation, id=update_id
            )

        if Commands.with_start:
            try:
                return await processes.retrying(call)
            except RPCError as err:
                if err.status not in _NO_WITH_START:
                    raise
                Commands.with_start = False  # a server without update-with-start
        await self.client.start_workflow(
            kind.workflow.run,  # type: ignore[attr-defined]
            start_input,
            id=ref.workflow_id,
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        return await self._update(ref, the_route, request)


async def _execute(handle: WorkflowHandle, the_route: Route, request: BaseModel) -> Any:
    """Execute the Update with a fixed update id, waiting out a missing worker: a retry
    attaches to the same update rather than sends it again."""
    update_id = str(uuid.uuid4())
    return await processes.retrying(
        lambda: handle.execute_update(the_route.update, request, id=update_id)
    )


async def update(handle: WorkflowHandle, the_route: Route, command: Any, meta: CommandMeta) -> Any:
    """Send ``command`` to the running process ``handle`` by ``the_route``, with no local
    check and no start (for callers holding a handle, e.g. tests of the workflows' own
    validators); :class:`Refused` if refused. Entrypoints use :meth:`Commands.send`."""
    check_provenance(command, meta)
    assert the_route.request is not None
    try:
        return await _execute(handle, the_route, the_route.request(command, meta))
    except WorkflowUpdateFailedError as err:
        raise processes.refusal(err) from err
