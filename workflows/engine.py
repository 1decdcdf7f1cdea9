"""The engine every process workflow runs, as a plain class composed into each workflow.

One process is one event stream: a command is decided by the domain on the current state
under a lock, a refusal is a non-retryable :class:`ApplicationError` (nothing recorded),
the events are appended through the ``append_events`` activity (:func:`workflows.common
.append`) and folded into the state, and the run loop is woken. The engine also holds the
run loop's primitives: the durable timer that a change of state interrupts, the wait for a
change, the continue-as-new check, and the causation id of an Update or signal.

It issues exactly the commands the workflows issued before it was extracted (one
``append_events`` activity per non-empty decision, one timer per ``sleep_until``, one
continue-as-new), so every recorded history replays unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.errors import DomainError
    from domain.events import DomainEvent
    from workflows.common import CommandMeta, OutboxSpec, Recorded, append, refusal, sleep_until


class Versioned(Protocol):
    """A process state: the stream version (events recorded so far) it was folded from."""

    @property
    def version(self) -> int: ...


S = TypeVar("S", bound=Versioned)

#: ``fold(state, events) -> state``: the domain's evolve applied to each event in turn.
Fold = Callable[[S, Sequence[DomainEvent]], S]

#: Meta of the commands a durable timer issues.
TIMER = CommandMeta(actor="timer")


class ProcessEngine(Generic[S]):
    """The mechanics of one process workflow around its domain module.

    ``workflow_id``: the process (its stream id derives from it); ``state``: the initial
    (or carried) state; ``fold``: the domain's fold. The workflow keeps its own Updates,
    signals, queries and what it decides; it reads ``engine.state``.
    """

    def __init__(self, workflow_id: str, state: S, fold: Fold[S]) -> None:
        self.workflow_id = workflow_id
        self.state: S = state
        self._fold = fold
        self.lock = asyncio.Lock()
        self.woken = False

    # --- commands ---------------------------------------------------------------------

    @staticmethod
    def refuse_on_domain_error(decide: Callable[[], Any]) -> Any:
        """``decide()``, a :class:`DomainError` turned into the refusal the client shows
        (an Update validator: a refused command never reaches history)."""
        try:
            return decide()
        except DomainError as err:
            raise refusal(err) from err

    async def execute(
        self,
        decide: Callable[[], list[DomainEvent]],
        meta: CommandMeta,
        cause: str,
        outbox: Callable[[list[DomainEvent]], dict[int, OutboxSpec] | None] | None = None,
    ) -> Recorded:
        """Under the lock: ``decide()`` on :attr:`state` (a :class:`DomainError` is raised
        as the refusal, nothing recorded), then :meth:`record` what it decided.
        ``outbox(events)``: the messages to write with them (see :func:`append`)."""
        async with self.lock:
            events = self.refuse_on_domain_error(decide)
            return await self.record(events, meta, cause, outbox(events) if outbox else None)

    async def record(
        self,
        events: Sequence[DomainEvent],
        meta: CommandMeta,
        cause: str,
        outbox: dict[int, OutboxSpec] | None = None,
    ) -> Recorded:
        """Append ``events`` after :attr:`state`'s version (no activity when there are
        none), fold them into :attr:`state` and wake the run loop. The caller holds the
        lock (or is the only writer)."""
        recorded = await append(self.workflow_id, self.state.version, events, meta, cause, outbox)
        self.state = self._fold(self.state, events)
        if events:
            self.woken = True
        return recorded

    @staticmethod
    def cause(kind: str) -> str:
        """The causation id of what runs now: ``update:<kind>:<update id>`` in an Update,
        ``signal:<kind>`` otherwise."""
        info = workflow.current_update_info()
        return f"update:{kind}:{info.id}" if info else f"signal:{kind}"

    # --- the run loop -----------------------------------------------------------------

    def rest(self) -> None:
        """Start a new turn of the run loop: forget the changes seen so far."""
        self.woken = False

    async def wait_for_change(self) -> None:
        """Wait (no timer) until a command records something."""
        await workflow.wait_condition(lambda: self.woken)

    async def sleep_until(self, day: date) -> bool:
        """A durable timer until 00:00 UTC on ``day`` that a recorded change interrupts;
        True when the date is reached (at once, no timer, if it is past)."""
        return await sleep_until(day, lambda: self.woken)

    async def run_timers(
        self,
        next_wakeup: Callable[[S], date | None],
        tick: Callable[[], Awaitable[Recorded]],
    ) -> None:
        """Run forever: sleep until ``next_wakeup(state)`` and ``tick()`` then (waiting
        for a change when the tick recorded nothing), or wait for a change when there is
        no date to wait for. The loop of a process whose only timers are its deadlines."""
        while True:
            self.rest()
            due = next_wakeup(self.state)
            if due is not None:
                if await self.sleep_until(due):
                    ticked = await tick()
                    if not ticked.events:  # nothing fell due after all: wait for a change
                        await self.wait_for_change()
            else:
                await self.wait_for_change()

    @staticmethod
    def history_long(after: int) -> bool:
        """Whether the run should continue as new: its history has ``after`` events or
        more, or the server suggests it."""
        info = workflow.info()
        return info.get_current_history_length() >= after or info.is_continue_as_new_suggested()

    @staticmethod
    async def continue_as_new(carry: Callable[[], BaseModel]) -> None:
        """Continue as new with the input ``carry()`` builds, once every running Update
        and signal handler has finished (none is cut off: what arrives later goes to the
        new run). Never returns."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(carry())
