"""``hca:<CODE>:<meeting>``: the host-country agreement for a meeting (``hca:CCM:2MSP``).

Staff commands arrive as the ``command`` Update (validator: :func:`domain.hca.decide`). A
durable timer wakes the process the day a milestone becomes late
(:func:`domain.hca.next_wakeup`) and records its escalation to the Presidency; moving the
meeting moves every due date and escalates at once what the move made late.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import hca as h
    from domain import ids
    from domain.errors import DomainError
    from workflows.common import Recorded, today, warm_up_reference_data
    from workflows.engine import TIMER, ProcessEngine
    from workflows.messages import AgreementInput, AgreementRequest, AgreementView

if not workflow.unsafe.in_sandbox():  # at the worker's import, where files may be read
    warm_up_reference_data()


#: ``workflow.patched`` id of "due dates already past when an agreement is opened are
#: historical (not escalated)"; histories recorded before it escalated them.
PAST_DUE_HISTORICAL = "hca-past-due-historical"


@workflow.defn(name="HostCountryAgreement")
class AgreementWorkflow:
    @workflow.init
    def __init__(self, input: AgreementInput) -> None:
        self._engine = ProcessEngine(
            ids.hca_workflow_id(input.treaty, input.meeting),
            h.initial_state(input.treaty, input.meeting),
            h.fold,
        )

    def _decide(self, command: h.Command, past_due_historical: bool = True) -> list:
        """The events of ``command``; a staff command records with it the escalations it
        makes due. Raises :class:`DomainError` (a Tick sent as an Update too)."""
        if isinstance(command, h.Tick) and workflow.current_update_info() is not None:
            raise DomainError("the tick is internal to the process")
        state = self._engine.state
        events = h.decide(state, command, today().date(), past_due_historical)
        if events and not isinstance(command, h.Tick):
            events += h.decide(h.fold(state, events), h.Tick(), today().date())
        return events

    def _decide_recorded(self, command: h.Command) -> list:
        """:meth:`_decide` for a command being recorded: due dates past when an agreement
        is opened today are historical, behind :data:`PAST_DUE_HISTORICAL`."""
        historical = isinstance(command, h.OpenAgreement) and workflow.patched(PAST_DUE_HISTORICAL)
        return self._decide(command, historical)

    @workflow.run
    async def run(self, input: AgreementInput) -> None:
        await self._engine.run_timers(
            h.next_wakeup,
            lambda: self._engine.execute(lambda: self._decide_recorded(h.Tick()), TIMER, "timer"),
        )

    @workflow.update
    async def command(self, request: AgreementRequest) -> Recorded:
        return await self._engine.execute(
            lambda: self._decide_recorded(request.command),
            request.meta,
            self._engine.cause(request.command.kind),
        )

    @command.validator
    def _validate(self, request: AgreementRequest) -> None:
        self._engine.refuse_on_domain_error(lambda: self._decide(request.command))

    @workflow.query
    def view(self) -> AgreementView:
        return AgreementView(state=self._engine.state)
