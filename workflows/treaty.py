"""``treaty:<CODE>``: counts deposits to the treaty's entry into force and tells the States.

Ratification processes register themselves and signal each deposit; when the threshold
is reached (CCM Art. 17(1): 30 instruments) or the depositary's statement is recorded,
the entry-into-force date is fixed and every registered ratification process is told.
A durable timer marks the treaty's own entry into force. The treaty process records the
Meetings held (CCM Arts. 11, 12). Past ``continue_as_new_after`` history events it continues
as new with its state and the registered processes.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import ids
    from domain import treaty as t
    from domain.ratification import TreatyContext
    from domain.treaties import get_profile
    from workflows.common import CommandMeta, Recorded, today
    from workflows.engine import TIMER, ProcessEngine
    from workflows.messages import (
        CountDepositsRequest,
        CountDepositsResult,
        DepositNotice,
        MeetingsRequest,
        RefusedCount,
        StatementRequest,
        TreatyInput,
        TreatyView,
    )


@workflow.defn(name="Treaty")
class TreatyWorkflow:
    @workflow.init
    def __init__(self, input: TreatyInput) -> None:
        self._profile = get_profile(input.treaty)
        self._engine = ProcessEngine(
            ids.treaty_workflow_id(input.treaty),
            input.carried or t.initial_state(input.treaty),
            t.fold,
        )
        self._registered: list[str] = list(input.registered)
        self._continue_after = input.continue_as_new_after

    def _decide(self, command: t.TreatyCommand) -> list:
        return t.decide(self._engine.state, command, self._profile, today().date())

    async def _execute(self, command: t.TreatyCommand, meta: CommandMeta, cause: str) -> Recorded:
        async with self._engine.lock:
            events = self._engine.refuse_on_domain_error(lambda: self._decide(command))
            return await self._record(events, meta, cause)

    async def _record(self, events: list, meta: CommandMeta, cause: str) -> Recorded:
        """Append ``events`` and apply them; every registered process is told when they
        change the treaty's context. The caller holds the lock."""
        before = self._engine.state.context()
        recorded = await self._engine.record(events, meta, cause)
        if self._engine.state.context() != before:
            await self._tell(self._registered)
        return recorded

    async def _tell(self, workflow_ids: list[str]) -> None:
        """Signal the context to each process; one that has closed (or was terminated) is
        skipped with a warning, so it cannot stop the treaty process.

        ``workflow_ids`` is copied first: a process that registers while the signals are
        under way (``self._registered`` grows) is told by its own ``register`` handler."""
        workflow_ids = list(workflow_ids)
        context = self._engine.state.context()
        if context.in_force_on is None:
            return
        results = await asyncio.gather(
            *(
                workflow.get_external_workflow_handle(wid).signal("treaty_context", context)
                for wid in workflow_ids
            ),
            return_exceptions=True,
        )
        for wid, result in zip(workflow_ids, results, strict=True):
            if isinstance(result, Exception):
                workflow.logger.warning("could not tell %s the treaty's context: %s", wid, result)

    @workflow.run
    async def run(self, input: TreatyInput) -> None:
        engine = self._engine
        while True:
            engine.rest()
            if engine.history_long(self._continue_after):
                await engine.continue_as_new(
                    lambda: input.model_copy(
                        update={"carried": engine.state, "registered": list(self._registered)}
                    )
                )
            due = engine.state.in_force_on
            if due is not None and not engine.state.entered_into_force:
                if await engine.sleep_until(due):
                    await self._execute(t.MarkTreatyEnteredIntoForce(), TIMER, "timer")
            else:
                await engine.wait_for_change()

    @workflow.signal
    async def register(self, workflow_id: str) -> None:
        """A ratification process announces itself; it is told the date if already fixed."""
        if workflow_id not in self._registered:
            self._registered.append(workflow_id)
        async with self._engine.lock:
            await self._tell([workflow_id])

    @workflow.signal
    async def deposit_recorded(self, notice: DepositNotice) -> None:
        """Count a deposit (idempotent for the same State and date)."""
        if notice.workflow_id not in self._registered:
            self._registered.append(notice.workflow_id)
        try:
            await self._execute(
                t.CountDeposit(state=notice.state, deposited_on=notice.deposited_on),
                notice.meta,
                f"signal:deposit_recorded:{notice.workflow_id}",
            )
        except ApplicationError as err:  # a refused count must not fail the treaty process
            workflow.logger.warning("deposit of %s not counted: %s", notice.state, err)

    @workflow.update
    async def count_deposits(self, request: CountDepositsRequest) -> CountDepositsResult:
        """An import's processes and deposits in one Update: registers ``processes``
        (telling each the treaty's context when it is fixed and not the one they were
        started with), then counts ``deposits`` in the order given in one append (CCM Art.
        17(1)), telling every registered process when that fixes the date. A deposit
        already counted on the same date is skipped; on another date it is refused and
        reported, the others still counted."""
        new = [wid for wid in dict.fromkeys(request.processes) if wid not in self._registered]
        self._registered.extend(new)
        async with self._engine.lock:
            if new and self._engine.state.context() != request.known_context:
                await self._tell(new)
            events, refused = t.count_deposits(
                self._engine.state, request.deposits, self._profile, today().date()
            )
            for command, reason in refused:
                workflow.logger.warning("deposit of %s not counted: %s", command.state, reason)
            cause = self._engine.cause("count_deposits")
            recorded = await self._record(events, request.meta, cause)
        return CountDepositsResult(
            recorded=recorded,
            refused=[RefusedCount(state=c.state, reason=why) for c, why in refused],
            context=self._engine.state.context(),
        )

    @count_deposits.validator
    def _validate_count(self, request: CountDepositsRequest) -> None:
        treaty = self._engine.state.treaty
        prefix = ids.ratification_workflow_id(treaty, "")
        strangers = [wid for wid in request.processes if not wid.startswith(prefix)]
        if strangers:
            raise ApplicationError(
                f"not ratification processes of {treaty}: {', '.join(strangers)}; "
                f"expected workflow ids {prefix}<ISO3>",
                type="DomainError",
                non_retryable=True,
            )

    @workflow.update
    async def record_depositary_statement(self, request: StatementRequest) -> Recorded:
        """Record the depositary's statement of the treaty's entry into force."""
        return await self._execute(
            request.command, request.meta, "update:record_depositary_statement"
        )

    @record_depositary_statement.validator
    def _validate_statement(self, request: StatementRequest) -> None:
        self._engine.refuse_on_domain_error(lambda: self._decide(request.command))

    @workflow.update
    async def record_meetings(self, request: MeetingsRequest) -> Recorded:
        """Record the Meetings held or convened (CCM Arts. 11, 12), e.g. an import of
        ``ccm_meetings.csv``; those already recorded alike are skipped."""
        return await self._execute(request.command, request.meta, "update:record_meetings")

    @record_meetings.validator
    def _validate_meetings(self, request: MeetingsRequest) -> None:
        self._engine.refuse_on_domain_error(lambda: self._decide(request.command))

    @workflow.query
    def view(self) -> TreatyView:
        return TreatyView(state=self._engine.state, registered=list(self._registered))

    @workflow.query
    def context(self) -> TreatyContext:
        return self._engine.state.context()
