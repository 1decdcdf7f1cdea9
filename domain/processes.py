"""The process types, so that generic tools (audit, read models) need no code per type.

Each :class:`ProcessType` says how a stream of that type is named and how its state is
rebuilt from its events. A new process type plugs into the audit commands by adding one
entry to :data:`PROCESS_TYPES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel

from domain import decision, hca, ratification, reporting, treaty
from domain.events import DomainEvent


@dataclass(frozen=True)
class ProcessType:
    """One kind of process.

    ``prefix``: the first part of its workflow id and stream id (``ratification``);
    ``initial(parts)``: the state before any event, from the id's other parts
    (``["CCM", "BGR"]``); ``evolve(state, event)``: the fold step; ``fold_events(state,
    events)``: optionally, the state after many events at once, equal to ``evolve`` event
    by event but cheaper (see :meth:`fold_all`).

    ``query``: the name of the workflow query that reports the running process's state,
    and ``view_state(result)`` takes that state (as JSON) out of the query's result (JSON),
    so that an auditor can compare it with the state folded from the event store.
    """

    prefix: str
    initial: Callable[[list[str]], BaseModel]
    evolve: Callable[[Any, DomainEvent], BaseModel]
    query: str = "view"
    view_state: Callable[[Any], Any] = lambda view: view["state"]
    fold_events: Callable[[Any, Iterable[DomainEvent]], BaseModel] | None = None

    def fold_all(self, state: BaseModel, events: Iterable[DomainEvent]) -> BaseModel:
        """``state`` after ``events`` in order: :attr:`fold_events` if the type has one,
        else :attr:`evolve` event by event (the same state either way)."""
        if self.fold_events is not None:
            return self.fold_events(state, events)
        for event in events:
            state = self.evolve(state, event)
        return state


PROCESS_TYPES: dict[str, ProcessType] = {
    "treaty": ProcessType(
        prefix="treaty",
        initial=lambda parts: treaty.initial_state(parts[0]),
        evolve=treaty.evolve,
        fold_events=treaty.fold,
    ),
    "ratification": ProcessType(
        prefix="ratification",
        initial=lambda parts: ratification.initial_state(parts[0], parts[1]),
        evolve=ratification.evolve,
    ),
    # decision:<CODE>:<slug>; a slug may hold "-" (isu-hosting), so a stream's parts after
    # the code are joined again
    "decision": ProcessType(
        prefix="decision",
        initial=lambda parts: decision.initial_state(parts[0], "-".join(parts[1:])),
        evolve=decision.evolve,
    ),
    "hca": ProcessType(
        prefix="hca",
        initial=lambda parts: hca.initial_state(parts[0], "-".join(parts[1:])),
        evolve=hca.evolve,
    ),
    # reporting:<CODE>:<YEAR> (cycle) and reporting:<CODE>:<YEAR>:<ISO3> (State report)
    "reporting": ProcessType(
        prefix="reporting",
        initial=reporting.initial_state,
        evolve=reporting.evolve,
    ),
}


class UnknownProcessError(ValueError):
    """A stream or workflow id whose first part names no known process type."""


def process_type(stream_or_workflow_id: str) -> tuple[ProcessType, list[str]]:
    """The type of ``ratification-CCM-BGR`` / ``ratification:CCM:BGR`` and its id parts."""
    sep = ":" if ":" in stream_or_workflow_id else "-"
    prefix, *parts = stream_or_workflow_id.split(sep)
    kind = PROCESS_TYPES.get(prefix)
    if kind is None:
        raise UnknownProcessError(
            f"{stream_or_workflow_id!r} is not a process id: expected one of "
            + ", ".join(f"{p}-..." for p in PROCESS_TYPES)
        )
    return kind, parts


def fold(
    stream_or_workflow_id: str,
    events: Iterable[tuple[DomainEvent, date | None]],
    *,
    as_of: date | None = None,
) -> BaseModel:
    """The state of a process folded from ``(event, business date)`` pairs in order.

    With ``as_of``, only events whose business date is on or before it count (an event
    whose date is unknown counts: the fact is known to have happened, at some time).
    Every pair of ``events`` is taken, also those after ``as_of`` (so a caller that decodes
    them lazily decodes them all). Folded by :meth:`ProcessType.fold_all`.
    """
    kind, parts = process_type(stream_or_workflow_id)
    counted = (
        event
        for event, occurred_on in events
        if as_of is None or occurred_on is None or occurred_on <= as_of
    )
    return kind.fold_all(kind.initial(parts), counted)


def workflow_state(stream_or_workflow_id: str, view: Any) -> BaseModel:
    """The state a process's workflow reports, from the JSON result of its
    :attr:`ProcessType.query`, as the same model its fold builds.

    Raises:
        UnknownProcessError: not a process id.
        pydantic.ValidationError, KeyError, TypeError: the result holds no such state.
    """
    kind, parts = process_type(stream_or_workflow_id)
    model = type(kind.initial(parts))
    return model.model_validate(kind.view_state(view))
