"""``decision:<CODE>:<slug>``: a decision of the States Parties, run for months across
meetings (the ISU hosting decision, ``decision:CCM:isu-hosting``).

Every staff command arrives as the ``command`` Update, whose validator runs
:func:`domain.decision.decide` (a refused command never reaches history). A durable timer
wakes the process on the next reminder or comment deadline of an open round
(:func:`domain.decision.next_wakeup`): the reminder is recorded, then the round closes by
itself the day after its written comments were due.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import decision as d
    from domain import ids
    from domain.errors import DomainError
    from domain.treaties import get_profile
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


class DecisionInput(BaseModel):
    """Start input: the treaty code and the decision's slug (``isu-hosting``)."""

    treaty: str
    slug: str


class DecisionRequest(BaseModel):
    """One staff command (any of :data:`domain.decision.Command` but the internal tick)."""

    command: d.Command
    meta: CommandMeta = CommandMeta()


class DecisionView(BaseModel):
    """Query result: the process state."""

    state: d.DecisionState


class DecisionSummary(BaseModel):
    """Query result of ``summary``: :func:`domain.decision.tally`, ``open_items``,
    ``due_next``."""

    tally: list[d.Tally]
    open: dict[str, list[str]]
    due_next: list[d.DueItem]


@workflow.defn(name="Decision")
class DecisionWorkflow:
    @workflow.init
    def __init__(self, input: DecisionInput) -> None:
        self._profile = get_profile(input.treaty)
        self._id = ids.decision_workflow_id(input.treaty, input.slug)
        self._state = d.initial_state(input.treaty, input.slug)
        self._lock = asyncio.Lock()
        self._wake = False

    def _decide(self, command: d.Command) -> list:
        if isinstance(command, d.Tick) and workflow.current_update_info() is not None:
            raise DomainError("the tick is internal to the process")
        return d.decide(self._state, command, self._profile, today().date())

    async def _execute(self, command: d.Command, meta: CommandMeta, cause: str) -> Recorded:
        async with self._lock:
            try:
                events = self._decide(command)
            except DomainError as err:
                raise refusal(err) from err
            if events and not isinstance(command, d.Tick):  # what falls due with it
                after = d.fold(self._state, events)
                events += d.decide(after, d.Tick(), self._profile, today().date())
            recorded = await append(self._id, self._state.version, events, meta, cause)
            self._state = d.fold(self._state, events)
            if events:
                self._wake = True
            return recorded

    @workflow.run
    async def run(self, input: DecisionInput) -> None:
        while True:
            self._wake = False
            due = d.next_wakeup(self._state)
            if due is not None:
                if await sleep_until(due, lambda: self._wake):
                    ticked = await self._execute(d.Tick(), CommandMeta(actor="timer"), "timer")
                    if not ticked.events:  # nothing fell due after all: wait for a change
                        await workflow.wait_condition(lambda: self._wake)
            else:
                await workflow.wait_condition(lambda: self._wake)

    @workflow.update
    async def command(self, request: DecisionRequest) -> Recorded:
        info = workflow.current_update_info()
        cause = f"update:{request.command.kind}:{info.id if info else ''}"
        return await self._execute(request.command, request.meta, cause)

    @command.validator
    def _validate(self, request: DecisionRequest) -> None:
        try:
            self._decide(request.command)
        except DomainError as err:
            raise refusal(err) from err

    @workflow.query
    def view(self) -> DecisionView:
        return DecisionView(state=self._state)

    @workflow.query
    def summary(self) -> DecisionSummary:
        """The options with the positions for and against (States and observers apart),
        what is open and what is due next (from the workflow's today)."""
        return DecisionSummary(
            tally=d.tally(self._state),
            open=d.open_items(self._state),
            due_next=d.due_next(self._state, today().date()),
        )
