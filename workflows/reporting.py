"""Annual transparency reporting (CCM Art. 7) as workflows.

- ``reporting:<CODE>:<YEAR>`` (:class:`ReportingCycleWorkflow`): lists the States owing
  the year's annual report (from the ratification processes' entry-into-force dates, or
  the ``parties`` given), records :class:`~domain.events.ReportingCycleOpened`, starts one
  child per State, then waits for its closing date (or for staff to close it: a
  historical cycle, whose closing date had passed when it was opened, waits for that).
  At the close it reads what every child recorded in the event store and records the
  figures. It never waits on a child (children are abandoned to run on their own), so a
  slow one holds nothing up, and its history grows by a few events per State.
- ``reporting:<CODE>:<YEAR>:<ISO3>`` (:class:`StateReportWorkflow`): timers for the
  reminders of the policy (none once the report is received); each reminder is an event
  appended together with its outbox row, then delivered by the ``deliver_outbox``
  activity (retried with backoff until it succeeds). Staff record the submission,
  withdrawal and review as Updates whose validators run the domain's decide.
- ``reporting-open`` (:class:`OpenReportingCycleWorkflow`): what the yearly Temporal
  Schedule starts: opens the cycle of the current year.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.outbox import DeliveryResult
    from activities.reporting import PreviousRequest, ReportsRequest
    from domain import ids
    from domain import reporting as rp
    from domain.errors import DomainError
    from domain.events import DomainEvent, ReminderSent
    from domain.treaties import get_profile
    from workflows.common import CommandMeta, OutboxSpec, Recorded, refusal, sleep_until, today
    from workflows.engine import TIMER, ProcessEngine
    from workflows.messages import (
        CloseRequest,
        CycleInput,
        CycleView,
        OpenInput,
        ReportInput,
        ReportView,
        ReviewRequest,
        SubmitRequest,
        WithdrawRequest,
    )

#: Delivery retries: from 2 s doubling up to 10 min between attempts, until delivered.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["UnknownMessage"],
)
READ_TIMEOUT = timedelta(minutes=2)
#: Children started per batch (each start is a round trip to the server).
START_BATCH = 50


def _fold_cycle(state: rp.CycleState, events: Sequence[DomainEvent]) -> rp.CycleState:
    """The cycle's state after ``events`` (:func:`domain.reporting.evolve_cycle` each)."""
    for e in events:
        state = rp.evolve_cycle(state, e)
    return state


@workflow.defn(name="StateReport")
class StateReportWorkflow:
    @workflow.init
    def __init__(self, input: ReportInput) -> None:
        self._profile = get_profile(input.treaty)
        self._id = rp.report_workflow_id(input.treaty, input.year, input.state)
        self._engine = ProcessEngine(
            self._id,
            rp.initial_report_state(input.treaty, input.year, input.state),
            rp.fold_report,
        )
        self._closed = False
        self._deliveries: list[asyncio.Future[DeliveryResult]] = []
        # what the state will be once the start has recorded the request: commands that
        # arrive before the run method has done so are validated against it
        initial = self._engine.state
        self._expected = rp.fold_report(
            initial,
            rp.decide_report(initial, self._request(input), self._profile, today().date()),
        )

    @staticmethod
    def _request(input: ReportInput) -> rp.Request:
        return rp.Request(
            in_force_on=input.in_force_on,
            due_on=input.due_on,
            closes_on=input.closes_on,
            requested_on=today().date(),
        )

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise refusal(
                DomainError(
                    f"the {self._engine.state.year} reporting cycle is closed: "
                    f"{self._engine.state.state}'s report can no longer change"
                )
            )

    async def _execute(
        self,
        command: rp.ReportCommand,
        meta: CommandMeta,
        cause: str,
        previous: dict[str, int] | None = None,
    ) -> Recorded:
        """Record ``command``'s events; a reminder with its e-mail in the outbox, whose
        delivery (the ``deliver_outbox`` activity) starts once it is recorded."""
        engine = self._engine
        async with engine.lock:
            events: list[DomainEvent] = engine.refuse_on_domain_error(
                lambda: rp.decide_report(
                    engine.state, command, self._profile, today().date(), previous
                )
            )
            outbox = self._outbox(command, events)
            version = engine.state.version
            recorded = await engine.record(events, meta, cause, outbox)
            if outbox:
                key = str(ids.event_id(self._id, version + 1))
                self._deliveries.append(
                    workflow.start_activity(
                        "deliver_outbox",
                        key,
                        result_type=DeliveryResult,
                        start_to_close_timeout=timedelta(minutes=2),
                        retry_policy=DELIVERY_RETRY,
                    )
                )
            return recorded

    def _outbox(
        self, command: rp.ReportCommand, events: list[DomainEvent]
    ) -> dict[int, OutboxSpec] | None:
        """The reminder's e-mail, keyed by its event (the first), if ``command`` sent one."""
        if not (events and isinstance(command, rp.SendReminder)):
            return None
        sent = events[0]
        assert isinstance(sent, ReminderSent)
        return {0: self._reminder_message(command.slot, sent.n)}

    def _reminder_message(self, slot: rp.ReminderSlot, n: int) -> OutboxSpec:
        """The e-mail of a reminder; ``n``: its number among the reminders this report
        got (1 for the first), as the ``ReminderSent`` event records it."""
        s = self._engine.state
        return OutboxSpec(
            treaty=s.treaty,
            state=s.state,
            template=f"reminder_{slot.kind}",
            params={
                "treaty_code": s.treaty,
                "treaty_name": self._profile.name,
                "state": s.state,
                "year": s.year,
                "covers_year": s.year - 1,
                "due_on": s.due_on.isoformat() if s.due_on else "",
                "article": self._profile.obligations.annual_report_article,
                "kind": slot.kind,
                "n": n,
                "planned_on": slot.on.isoformat(),
            },
        )

    @workflow.run
    async def run(self, input: ReportInput) -> str:
        start = today().date()
        await self._execute(self._request(input), input.meta, "start")
        slots = (
            []
            if input.historical
            else rp.pending_reminders(input.policy, input.due_on, input.closes_on, start)
        )
        for slot in slots:
            await sleep_until(slot.on, lambda: self._closed)
            if self._closed:
                break
            if not self._engine.state.received:
                await self._execute(rp.SendReminder(slot=slot), TIMER, "timer")
        await workflow.wait_condition(lambda: self._closed)
        # let the running handlers finish, and the deliveries started
        await workflow.wait_condition(lambda: not self._engine.lock.locked())
        for delivery in self._deliveries:
            await delivery
        return self._engine.state.outcome()

    # --- updates ---------------------------------------------------------------------------

    @workflow.update
    async def submit(self, request: SubmitRequest) -> Recorded:
        await workflow.wait_condition(lambda: self._engine.state.requested)
        state = self._engine.state
        previous = await workflow.execute_activity(
            "previous_stockpiles",
            PreviousRequest(treaty=state.treaty, year=state.year, state=state.state),
            result_type=dict[str, int] | None,
            start_to_close_timeout=READ_TIMEOUT,
        )
        self._refuse_if_closed()
        return await self._execute(
            request.command, request.meta, self._engine.cause("submit"), previous
        )

    @submit.validator
    def _validate_submit(self, request: SubmitRequest) -> None:
        self._validate(request.command)

    @workflow.update
    async def withdraw(self, request: WithdrawRequest) -> Recorded:
        await workflow.wait_condition(lambda: self._engine.state.requested)
        self._refuse_if_closed()
        return await self._execute(request.command, request.meta, self._engine.cause("withdraw"))

    @withdraw.validator
    def _validate_withdraw(self, request: WithdrawRequest) -> None:
        self._validate(request.command)

    @workflow.update
    async def review(self, request: ReviewRequest) -> Recorded:
        await workflow.wait_condition(lambda: self._engine.state.requested)
        self._refuse_if_closed()
        return await self._execute(request.command, request.meta, self._engine.cause("review"))

    @review.validator
    def _validate_review(self, request: ReviewRequest) -> None:
        self._validate(request.command)

    def _validate(self, command: rp.ReportCommand) -> None:
        self._refuse_if_closed()
        state = self._engine.state if self._engine.state.requested else self._expected
        self._engine.refuse_on_domain_error(
            lambda: rp.decide_report(state, command, self._profile, today().date())
        )

    @workflow.signal
    def cycle_closed(self) -> None:
        """The cycle closed: no more reminders or changes."""
        self._closed = True

    @workflow.query
    def view(self) -> ReportView:
        return ReportView(state=self._engine.state, cycle_closed=self._closed)


@workflow.defn(name="ReportingCycle")
class ReportingCycleWorkflow:
    @workflow.init
    def __init__(self, input: CycleInput) -> None:
        self._profile = get_profile(input.treaty)
        self._engine = ProcessEngine(
            rp.cycle_workflow_id(input.treaty, input.year),
            rp.initial_cycle_state(input.treaty, input.year),
            _fold_cycle,
        )
        self._started = 0
        self._close: CloseRequest | None = None

    @workflow.run
    async def run(self, input: CycleInput) -> rp.Figures:
        policy = input.policy
        if policy is None:
            policy = await workflow.execute_activity(
                "reporting_policy",
                result_type=rp.ReminderPolicy,
                start_to_close_timeout=READ_TIMEOUT,
            )
        parties = input.parties
        if parties is None:
            parties = await workflow.execute_activity(
                "reporting_parties",
                input.treaty,
                result_type=list[rp.Party],
                start_to_close_timeout=READ_TIMEOUT,
            )
        try:
            events = rp.decide_cycle(
                self._engine.state,
                rp.OpenCycle(parties=parties, policy=policy),
                self._profile,
                today().date(),
            )
        except DomainError as err:
            raise ApplicationError(str(err), type="DomainError", non_retryable=True) from err
        await self._engine.record(events, input.meta, "start")
        s = self._engine.state
        assert s.due_on is not None and s.closes_on is not None
        opened = events[0] if events else None
        in_force = getattr(opened, "in_force_on", {})
        for i in range(0, len(s.states), START_BATCH):
            batch = s.states[i : i + START_BATCH]
            await asyncio.gather(
                *(
                    workflow.start_child_workflow(
                        StateReportWorkflow.run,
                        ReportInput(
                            treaty=s.treaty,
                            year=s.year,
                            state=code,
                            in_force_on=in_force[code],
                            due_on=s.due_on,
                            closes_on=s.closes_on,
                            historical=s.historical,
                            policy=s.policy,
                            meta=input.meta,
                        ),
                        id=rp.report_workflow_id(s.treaty, s.year, code),
                        parent_close_policy=ParentClosePolicy.ABANDON,
                    )
                    for code in batch
                )
            )
            self._started += len(batch)
        if s.historical:
            await workflow.wait_condition(lambda: self._close is not None)
        else:
            await sleep_until(s.closes_on, lambda: self._close is not None)
        meta = self._close.meta if self._close else CommandMeta(actor="timer")
        reports = await workflow.execute_activity(
            "reporting_reports",
            ReportsRequest(treaty=s.treaty, year=s.year, states=list(s.states)),
            result_type=list[rp.ReportState],
            start_to_close_timeout=READ_TIMEOUT,
        )
        closing = rp.decide_cycle(
            self._engine.state, rp.CloseCycle(reports=reports), self._profile, today().date()
        )
        await self._engine.record(closing, meta, "close")
        for i in range(0, len(s.states), START_BATCH):
            await asyncio.gather(
                *(
                    workflow.get_external_workflow_handle(
                        rp.report_workflow_id(s.treaty, s.year, code)
                    ).signal(StateReportWorkflow.cycle_closed)
                    for code in s.states[i : i + START_BATCH]
                )
            )
        assert self._engine.state.figures is not None
        return self._engine.state.figures

    @workflow.update
    async def close(self, request: CloseRequest) -> rp.Figures:
        """Close the cycle now (a historical cycle is closed this way) and return its
        figures once recorded."""
        self._close = request
        await workflow.wait_condition(lambda: self._engine.state.figures is not None)
        assert self._engine.state.figures is not None
        return self._engine.state.figures

    @close.validator
    def _validate_close(self, request: CloseRequest) -> None:
        if self._engine.state.closed or self._close is not None:
            raise refusal(
                DomainError(
                    f"the {self._engine.state.treaty} {self._engine.state.year} cycle is "
                    "already closed (or closing)"
                )
            )
        if self._started < len(self._engine.state.states) or not self._engine.state.opened:
            raise refusal(DomainError("the cycle is still opening; try again in a moment"))

    @workflow.query
    def view(self) -> CycleView:
        return CycleView(state=self._engine.state, started=self._started)


@workflow.defn(name="OpenReportingCycle")
class OpenReportingCycleWorkflow:
    """Started by the Temporal Schedule ``reporting-open-<CODE>`` (each 1 January): opens
    the cycle of the year it runs in (if it is not open already) and ends."""

    @workflow.run
    async def run(self, input: OpenInput) -> str:
        year = today().year
        workflow_id = rp.cycle_workflow_id(input.treaty, year)
        try:
            await workflow.start_child_workflow(
                ReportingCycleWorkflow.run,
                CycleInput(
                    treaty=input.treaty,
                    year=year,
                    meta=CommandMeta(
                        actor="schedule", source=f"schedule reporting-open-{input.treaty}"
                    ),
                ),
                id=workflow_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:  # opened by hand already, or closed already
            return f"{workflow_id} was already open"
        return f"opened {workflow_id}"
