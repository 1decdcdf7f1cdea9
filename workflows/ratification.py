"""``ratification:<CODE>:<ISO3>``: one State's way to being bound by a treaty.

Commands arrive as Updates whose validators run :func:`domain.ratification.decide` (a
refused command is rejected before it reaches history); accepted ones append their events
through the event-store activity. A durable timer waits for the entry-into-force date.
The treaty process (``treaty:<CODE>``) is told of each deposit and tells this process the
treaty's entry-into-force date.

Once the treaty is in force for the State, its obligations are opened (initial and annual
reports; stockpile destruction and clearance when declared) and a durable timer marks each
deadline due on its day and overdue the day after; a withdrawal takes effect by timer too
(CCM Art. 20). Obligation commands (declarations, extension requests and decisions,
reports, compliance, withdrawal, armed conflict) arrive as the ``record_obligation``
Update. A process whose history grows past ``continue_as_new_after`` events continues as
new with its state, after every running handler has finished.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import ids
    from domain import ratification as r
    from domain.events import EnteredIntoForce
    from domain.treaties import get_profile
    from workflows.common import CommandMeta, Recorded, today
    from workflows.engine import TIMER, ProcessEngine
    from workflows.messages import (
        CommandsRequest,
        DepositNotice,
        DepositRequest,
        DomesticProcedureRequest,
        ObligationRequest,
        RatificationInput,
        RatificationView,
        SignRequest,
    )
    from workflows.treaty import TreatyWorkflow


#: ``workflow.patched`` id of the change "an entry-into-force date already reached is
#: recorded as reached in the same append as the event that fixed it" (before it, the run
#: loop recorded EnteredIntoForce in a second append); see docs/workflow-changes.md.
RECORD_REACHED_EIF = "record-reached-eif-with-its-date"

#: ``workflow.patched`` id of "the obligations are opened with the entry into force" (before
#: it, EnteredIntoForce was appended alone); asked only when an append records EnteredIntoForce.
OPEN_OBLIGATIONS = "open-obligations-at-entry-into-force"

#: ``workflow.patched`` id of "durable timers mark deadlines due and overdue and let a
#: withdrawal take effect" (before it, a process in force waited for the next command);
#: asked only when the process has such a date to wait for.
DEADLINE_TIMERS = "deadline-timers"

#: ``workflow.patched`` id of "a process in force before the obligations existed opens them
#: with its first obligation command"; asked only then (its history has no obligations).
CATCH_UP_OBLIGATIONS = "open-obligations-of-a-process-in-force-before"


@workflow.defn(name="Ratification")
class RatificationWorkflow:
    @workflow.init
    def __init__(self, input: RatificationInput) -> None:
        self._profile = get_profile(input.treaty)
        self._id = ids.ratification_workflow_id(input.treaty, input.state)
        self._engine = ProcessEngine(
            self._id, input.carried or r.initial_state(input.treaty, input.state), r.fold
        )
        self._context = input.context
        self._continue_after = input.continue_as_new_after

    # --- helpers ----------------------------------------------------------------------

    def _decide_all(self, state: r.RatificationState, commands: list[r.Command]) -> list:
        """The events of ``commands`` decided one after the other from ``state`` (each on
        the state the previous ones leave); :class:`DomainError` if any is refused."""
        events: list = []
        for command in commands:
            decided = r.decide(state, command, self._profile, self._context, today().date())
            state = r.fold(state, decided)
            events += decided
        return events

    async def _execute(
        self,
        command: r.Command | list[r.Command],
        meta: CommandMeta,
        cause: str,
        catch_up: bool = False,
    ) -> Recorded:
        """Decide ``command`` (or several, all or none) and append what it causes."""
        commands = command if isinstance(command, list) else [command]

        def decide() -> list:
            missing = self._missing_obligations() if catch_up else []
            if missing and not workflow.patched(CATCH_UP_OBLIGATIONS):
                missing = []
            # each command with what it brings about (an entry into force reached, the
            # obligations it opens) before the next is decided: a row's withdrawal then
            # ends the obligations its deposit opened; for one command, or a row of a
            # signature and a deposit, the same events and markers as deciding them all
            # first
            events = list(missing)
            for one in commands:
                decided = self._decide_all(r.fold(self._engine.state, events), [one])
                if decided:
                    events += decided
                    events += self._reached(events)
                    events += self._obligations(events)
            return events

        return await self._engine.execute(decide, meta, cause)

    def _reached(self, events: list) -> list:
        """``[EnteredIntoForce]`` when ``events`` (decided on the current state) fix an
        entry-into-force date that is already reached (a historical deposit): recorded
        with them, in one append, so the record never shows a past date as not yet
        reached."""
        if not events:
            return []
        after = r.fold(self._engine.state, events)
        reached = r.decide(
            after, r.MarkEnteredIntoForce(), self._profile, self._context, today().date()
        )
        if reached and workflow.patched(RECORD_REACHED_EIF):
            return reached
        return []

    def _obligations(self, events: list) -> list:
        """The obligations opened when ``events`` (decided on the current state) record
        the entry into force (initial and annual reports, each historical if already
        past), in the same append (none once opened); behind :data:`OPEN_OBLIGATIONS` so
        histories recorded before it replay unchanged."""
        if not any(isinstance(e, EnteredIntoForce) for e in events):
            return []
        after = r.fold(self._engine.state, events)
        opened = r.obligations_at_entry_into_force(after, self._profile, today().date())
        if opened and workflow.patched(OPEN_OBLIGATIONS):
            return opened
        return []

    def _missing_obligations(self) -> list:
        """The obligations of a process that entered into force under code that opened none
        (before :data:`OPEN_OBLIGATIONS`): empty for any other process."""
        return r.obligations_at_entry_into_force(self._engine.state, self._profile, today().date())

    def _validate(self, command: r.Command | list[r.Command], catch_up: bool = False) -> None:
        state = self._engine.state
        if catch_up:
            state = r.fold(state, self._missing_obligations())
        commands = command if isinstance(command, list) else [command]
        self._engine.refuse_on_domain_error(lambda: self._decide_all(state, commands))

    # --- run: the entry-into-force timer --------------------------------------------------

    @workflow.run
    async def run(self, input: RatificationInput) -> None:
        # a continued run is registered already; an import registers its processes
        if input.carried is None and input.register_with_treaty:
            await workflow.get_external_workflow_handle(
                ids.treaty_workflow_id(input.treaty)
            ).signal(TreatyWorkflow.register, self._id)
        engine = self._engine
        while True:
            engine.rest()
            if engine.history_long(self._continue_after):
                # every Update and signal handler first; what arrives later goes to the new run
                await engine.continue_as_new(
                    lambda: input.model_copy(
                        update={"context": self._context, "carried": engine.state}
                    )
                )
            due = engine.state.in_force_on
            if due is not None and not engine.state.entered_into_force:
                if await engine.sleep_until(due):
                    await self._execute(r.MarkEnteredIntoForce(), TIMER, "timer")
                continue
            wake_on = r.next_wake(engine.state)
            if wake_on is not None and self._deadline_timers():
                if await engine.sleep_until(wake_on):
                    recorded = await self._execute(r.MarkDeadlines(), TIMER, "timer")
                    if not recorded.events:  # nothing to mark: wait for a command
                        await engine.wait_for_change()
            else:
                await engine.wait_for_change()

    @staticmethod
    def _deadline_timers() -> bool:
        """Whether this run keeps deadlines by timer (:data:`DEADLINE_TIMERS`)."""
        return workflow.patched(DEADLINE_TIMERS)

    # --- updates (staff commands) -------------------------------------------------------

    @workflow.update
    async def sign(self, request: SignRequest) -> Recorded:
        return await self._execute(request.command, request.meta, self._engine.cause("sign"))

    @sign.validator
    def _validate_sign(self, request: SignRequest) -> None:
        self._validate(request.command)

    @workflow.update
    async def complete_domestic_procedure(self, request: DomesticProcedureRequest) -> Recorded:
        return await self._execute(
            request.command, request.meta, self._engine.cause("complete_domestic_procedure")
        )

    @complete_domestic_procedure.validator
    def _validate_domestic(self, request: DomesticProcedureRequest) -> None:
        self._validate(request.command)

    @workflow.update
    async def deposit(self, request: DepositRequest) -> Recorded:
        recorded = await self._execute(request.command, request.meta, self._engine.cause("deposit"))
        await self._tell_treaty(request.command, request.meta)
        return recorded

    @deposit.validator
    def _validate_deposit(self, request: DepositRequest) -> None:
        self._validate(request.command)

    async def _tell_treaty(self, command: r.Deposit, meta: CommandMeta) -> None:
        """Signal the deposit to the treaty process, which counts it (CCM Art. 17(1))."""
        await workflow.get_external_workflow_handle(
            ids.treaty_workflow_id(self._engine.state.treaty)
        ).signal(
            TreatyWorkflow.deposit_recorded,
            DepositNotice(
                state=self._engine.state.state,
                deposited_on=command.deposited_on,
                workflow_id=self._id,
                meta=meta,
            ),
        )

    @workflow.update
    async def record_commands(self, request: CommandsRequest) -> Recorded:
        """Several commands in one append, all or none (an import's row: a signature and a
        deposit). A deposit among them is signalled to the treaty process unless
        ``request.tell_treaty`` is False (the caller counts it there)."""
        recorded = await self._execute(
            list(request.commands), request.meta, self._engine.cause("record_commands")
        )
        if request.tell_treaty:
            for command in request.commands:
                if isinstance(command, r.Deposit):
                    await self._tell_treaty(command, request.meta)
        return recorded

    @record_commands.validator
    def _validate_commands(self, request: CommandsRequest) -> None:
        self._validate(list(request.commands))

    @workflow.update
    async def record_obligation(self, request: ObligationRequest) -> Recorded:
        """A declaration, extension request or decision, report, declaration of compliance,
        withdrawal or armed conflict (see :func:`domain.ratification.decide_obligation`)."""
        return await self._execute(
            request.command,
            request.meta,
            self._engine.cause(f"record_obligation:{request.command.kind}"),
            catch_up=True,
        )

    @record_obligation.validator
    def _validate_obligation(self, request: ObligationRequest) -> None:
        self._validate(request.command, catch_up=True)

    # --- from the treaty process --------------------------------------------------------

    @workflow.signal
    async def treaty_context(self, context: r.TreatyContext) -> None:
        """The treaty process tells its entry-into-force date (CCM Art. 17)."""
        self._context = context
        await self._execute(
            r.ApplyTreatyContext(context=context),
            CommandMeta(actor=ids.treaty_workflow_id(self._engine.state.treaty)),
            "signal:treaty_context",
        )

    # --- queries --------------------------------------------------------------------------

    @workflow.query
    def view(self) -> RatificationView:
        return RatificationView(state=self._engine.state, context=self._context)
