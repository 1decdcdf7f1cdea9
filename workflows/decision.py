"""``decision:<CODE>:<slug>``: a decision of the States Parties, run for months across
meetings (the ISU hosting decision, ``decision:CCM:isu-hosting``).

Every staff command arrives as the ``command`` Update, whose validator runs
:func:`domain.decision.decide` (a refused command never reaches history). A durable timer
wakes the process on the next reminder or comment deadline of an open round
(:func:`domain.decision.next_wakeup`): the reminder is recorded, then the round closes by
itself the day after its written comments were due.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import decision as d
    from domain import ids
    from domain.errors import DomainError
    from domain.treaties import get_profile
    from workflows.common import Recorded, today, warm_up_reference_data
    from workflows.engine import TIMER, ProcessEngine
    from workflows.messages import DecisionInput, DecisionRequest, DecisionSummary, DecisionView

if not workflow.unsafe.in_sandbox():  # at the worker's import, where files may be read
    warm_up_reference_data()


@workflow.defn(name="Decision")
class DecisionWorkflow:
    @workflow.init
    def __init__(self, input: DecisionInput) -> None:
        self._profile = get_profile(input.treaty)
        self._engine = ProcessEngine(
            ids.decision_workflow_id(input.treaty, input.slug),
            d.initial_state(input.treaty, input.slug),
            d.fold,
        )

    def _decide(self, command: d.Command) -> list:
        """The events of ``command``; a staff command records with it what falls due
        (the tick's events). Raises :class:`DomainError` (a Tick sent as an Update too)."""
        if isinstance(command, d.Tick) and workflow.current_update_info() is not None:
            raise DomainError("the tick is internal to the process")
        state = self._engine.state
        events = d.decide(state, command, self._profile, today().date())
        if events and not isinstance(command, d.Tick):  # what falls due with it
            events += d.decide(d.fold(state, events), d.Tick(), self._profile, today().date())
        return events

    @workflow.run
    async def run(self, input: DecisionInput) -> None:
        await self._engine.run_timers(
            d.next_wakeup,
            lambda: self._engine.execute(lambda: self._decide(d.Tick()), TIMER, "timer"),
        )

    @workflow.update
    async def command(self, request: DecisionRequest) -> Recorded:
        return await self._engine.execute(
            lambda: self._decide(request.command),
            request.meta,
            self._engine.cause(request.command.kind),
        )

    @command.validator
    def _validate(self, request: DecisionRequest) -> None:
        self._engine.refuse_on_domain_error(lambda: self._decide(request.command))

    @workflow.query
    def view(self) -> DecisionView:
        return DecisionView(state=self._engine.state)

    @workflow.query
    def summary(self) -> DecisionSummary:
        """The options with the positions for and against (States and observers apart),
        what is open and what is due next (from the workflow's today)."""
        state = self._engine.state
        return DecisionSummary(
            tally=d.tally(state),
            open=d.open_items(state),
            due_next=d.due_next(state, today().date()),
        )
