"""``ratification:<CODE>:<ISO3>``: one State's way to being bound by a treaty.

Commands arrive as Updates whose validators run :func:`domain.ratification.decide` (a
refused command is rejected before it reaches history); accepted ones append their events
through the event-store activity. A durable timer waits for the entry-into-force date.
The treaty process (``treaty:<CODE>``) is told of each deposit and tells this process the
treaty's entry-into-force date.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import ids
    from domain import ratification as r
    from domain.errors import DomainError
    from domain.treaties import get_profile
    from workflows.common import (
        CommandMeta,
        Recorded,
        append,
        refusal,
        sleep_until,
        today,
    )
    from workflows.messages import (
        DepositNotice,
        DepositRequest,
        DomesticProcedureRequest,
        RatificationInput,
        RatificationView,
        SignRequest,
    )
    from workflows.treaty import TreatyWorkflow


#: ``workflow.patched`` id of the change "an entry-into-force date already reached is
#: recorded as reached in the same append as the event that fixed it" (before it, the run
#: loop recorded EnteredIntoForce in a second append); see docs/workflow-changes.md.
RECORD_REACHED_EIF = "record-reached-eif-with-its-date"


@workflow.defn(name="Ratification")
class RatificationWorkflow:
    @workflow.init
    def __init__(self, input: RatificationInput) -> None:
        self._profile = get_profile(input.treaty)
        self._id = ids.ratification_workflow_id(input.treaty, input.state)
        self._state = r.initial_state(input.treaty, input.state)
        self._context = input.context
        self._lock = asyncio.Lock()
        self._wake = False

    # --- helpers ----------------------------------------------------------------------

    def _decide(self, command: r.Command) -> list:
        return r.decide(self._state, command, self._profile, self._context, today().date())

    async def _execute(self, command: r.Command, meta: CommandMeta, cause: str) -> Recorded:
        async with self._lock:
            try:
                events = self._decide(command)
            except DomainError as err:
                raise refusal(err) from err
            events += self._reached(events)
            recorded = await append(self._id, self._state.version, events, meta, cause)
            self._state = r.fold(self._state, events)
            if events:
                self._wake = True
            return recorded

    def _reached(self, events: list) -> list:
        """``[EnteredIntoForce]`` when ``events`` fix an entry-into-force date that is
        already reached (a historical deposit): recorded with them, in one append, so the
        record never shows a past date as not yet reached."""
        if not events:
            return []
        after = r.fold(self._state, events)
        reached = r.decide(
            after, r.MarkEnteredIntoForce(), self._profile, self._context, today().date()
        )
        if reached and workflow.patched(RECORD_REACHED_EIF):
            return reached
        return []

    def _validate(self, command: r.Command) -> None:
        try:
            self._decide(command)
        except DomainError as err:
            raise refusal(err) from err

    @staticmethod
    def _cause(kind: str) -> str:
        info = workflow.current_update_info()
        return f"update:{kind}:{info.id}" if info else f"signal:{kind}"

    # --- run: the entry-into-force timer --------------------------------------------------

    @workflow.run
    async def run(self, input: RatificationInput) -> None:
        await workflow.get_external_workflow_handle(ids.treaty_workflow_id(input.treaty)).signal(
            TreatyWorkflow.register, self._id
        )
        while True:
            self._wake = False
            due = self._state.in_force_on
            if due is not None and not self._state.entered_into_force:
                if await sleep_until(due, lambda: self._wake):
                    await self._execute(
                        r.MarkEnteredIntoForce(), CommandMeta(actor="timer"), "timer"
                    )
            else:
                await workflow.wait_condition(lambda: self._wake)

    # --- updates (staff commands) -------------------------------------------------------

    @workflow.update
    async def sign(self, request: SignRequest) -> Recorded:
        return await self._execute(request.command, request.meta, self._cause("sign"))

    @sign.validator
    def _validate_sign(self, request: SignRequest) -> None:
        self._validate(request.command)

    @workflow.update
    async def complete_domestic_procedure(self, request: DomesticProcedureRequest) -> Recorded:
        return await self._execute(
            request.command, request.meta, self._cause("complete_domestic_procedure")
        )

    @complete_domestic_procedure.validator
    def _validate_domestic(self, request: DomesticProcedureRequest) -> None:
        self._validate(request.command)

    @workflow.update
    async def deposit(self, request: DepositRequest) -> Recorded:
        recorded = await self._execute(request.command, request.meta, self._cause("deposit"))
        await workflow.get_external_workflow_handle(
            ids.treaty_workflow_id(self._state.treaty)
        ).signal(
            TreatyWorkflow.deposit_recorded,
            DepositNotice(
                state=self._state.state,
                deposited_on=request.command.deposited_on,
                workflow_id=self._id,
                meta=request.meta,
            ),
        )
        return recorded

    @deposit.validator
    def _validate_deposit(self, request: DepositRequest) -> None:
        self._validate(request.command)

    # --- from the treaty process --------------------------------------------------------

    @workflow.signal
    async def treaty_context(self, context: r.TreatyContext) -> None:
        """The treaty process tells its entry-into-force date (CCM Art. 17)."""
        self._context = context
        await self._execute(
            r.ApplyTreatyContext(context=context),
            CommandMeta(actor=ids.treaty_workflow_id(self._state.treaty)),
            "signal:treaty_context",
        )

    # --- queries --------------------------------------------------------------------------

    @workflow.query
    def view(self) -> RatificationView:
        return RatificationView(state=self._state, context=self._context)
