"""``hca:<CODE>:<meeting>``: the host-country agreement for a meeting (``hca:CCM:2MSP``).

Staff commands arrive as the ``command`` Update (validator: :func:`domain.hca.decide`). A
durable timer wakes the process the day a milestone becomes late
(:func:`domain.hca.next_wakeup`) and records its escalation to the Presidency; moving the
meeting moves every due date and escalates at once what the move made late.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import hca as h
    from domain import ids
    from domain.errors import DomainError
    from workflows.common import (
        CommandMeta,
        Recorded,
        append,
        refusal,
        sleep_until,
        today,
        warm_up_reference_data,
    )

if not workflow.unsafe.in_sandbox():  # at the worker's import, where files may be read
    warm_up_reference_data()


class AgreementInput(BaseModel):
    """Start input: the treaty code and the meeting (``2MSP``)."""

    treaty: str
    meeting: str


class AgreementRequest(BaseModel):
    """One staff command (any of :data:`domain.hca.Command` but the internal tick)."""

    command: h.Command
    meta: CommandMeta = CommandMeta()


class AgreementView(BaseModel):
    """Query result: the process state."""

    state: h.AgreementState


@workflow.defn(name="HostCountryAgreement")
class AgreementWorkflow:
    @workflow.init
    def __init__(self, input: AgreementInput) -> None:
        self._id = ids.hca_workflow_id(input.treaty, input.meeting)
        self._state = h.initial_state(input.treaty, input.meeting)
        self._lock = asyncio.Lock()
        self._wake = False

    def _decide(self, command: h.Command, past_due_historical: bool = True) -> list:
        if isinstance(command, h.Tick) and workflow.current_update_info() is not None:
            raise DomainError("the tick is internal to the process")
        return h.decide(self._state, command, today().date(), past_due_historical)

    async def _execute(self, command: h.Command, meta: CommandMeta, cause: str) -> Recorded:
        async with self._lock:
            try:
                # Due dates past when an agreement is opened today are historical (not
                # escalated); histories recorded before this change escalated them.
                historical = isinstance(command, h.OpenAgreement) and workflow.patched(
                    "hca-past-due-historical"
                )
                events = self._decide(command, historical)
            except DomainError as err:
                raise refusal(err) from err
            if events and not isinstance(command, h.Tick):
                events += h.decide(h.fold(self._state, events), h.Tick(), today().date())
            recorded = await append(self._id, self._state.version, events, meta, cause)
            self._state = h.fold(self._state, events)
            if events:
                self._wake = True
            return recorded

    @workflow.run
    async def run(self, input: AgreementInput) -> None:
        while True:
            self._wake = False
            due = h.next_wakeup(self._state)
            if due is not None:
                if await sleep_until(due, lambda: self._wake):
                    ticked = await self._execute(h.Tick(), CommandMeta(actor="timer"), "timer")
                    if not ticked.events:  # nothing fell due after all: wait for a change
                        await workflow.wait_condition(lambda: self._wake)
            else:
                await workflow.wait_condition(lambda: self._wake)

    @workflow.update
    async def command(self, request: AgreementRequest) -> Recorded:
        info = workflow.current_update_info()
        cause = f"update:{request.command.kind}:{info.id if info else ''}"
        return await self._execute(request.command, request.meta, cause)

    @command.validator
    def _validate(self, request: AgreementRequest) -> None:
        try:
            self._decide(request.command)
        except DomainError as err:
            raise refusal(err) from err

    @workflow.query
    def view(self) -> AgreementView:
        return AgreementView(state=self._state)
