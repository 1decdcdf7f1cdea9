"""Scenario files: a sequence of dated facts recorded into decision, host-country
agreement and ratification processes. Pure: parsing and checking only.

Each item names its process and command, the other keys being the command's fields
(:mod:`domain.decision`, :mod:`domain.hca`, :mod:`domain.ratification`)::

    {"decision": "isu-hosting", "do": "option", "option": "gichd", "title": "...", ...}
    {"hca": "2MSP", "do": "preparation", "item": "venue", "detail": "...", ...}
    {"ratification": "Bulgaria", "do": "domestic_procedure", "completed_on": "2011-02-10"}

Two formats share :func:`parse_item` (one validator): JSON Lines (:func:`parse`, one
item per line; ``"#"`` is a comment key; blank lines and lines starting with ``#`` are
skipped) and YAML (:mod:`adapters.scenario_file`, a list of items). ``"treaty"`` (default:
the one given to the reader) may be on any item. An unknown key, a missing field, a
malformed date, an unknown State is an error naming the line. :func:`check_all` then
decides every command in order on the processes' current states, so that a file is
recorded only when every item would be accepted.

A ratification fact the record already holds identically is accepted and records nothing
(the processes refuse a second signature or deposit); one that contradicts the record is
refused (:func:`decide`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from domain import decision, hca, ids
from domain import ratification as r
from domain.errors import DomainError
from domain.states import resolve_state
from domain.treaties import get_profile

ProcessKind = Literal["decision", "hca", "ratification"]
KINDS: tuple[ProcessKind, ...] = ("decision", "hca", "ratification")

_DECISION: TypeAdapter[Any] = TypeAdapter(decision.Command)
_HCA: TypeAdapter[Any] = TypeAdapter(hca.Command)
_COMMANDS: dict[ProcessKind, dict[str, type[BaseModel]]] = {
    "decision": {
        "open": decision.OpenDecision,
        "option": decision.AddOption,
        "document": decision.RecordDocument,
        "round": decision.OpenRound,
        "close_round": decision.CloseRound,
        "position": decision.StatePosition,
        "milestone": decision.SetMilestone,
        "outcome": decision.RecordOutcome,
    },
    "hca": {
        "open": hca.OpenAgreement,
        "milestone": hca.ReachMilestone,
        "move": hca.MoveMeeting,
        "preparation": hca.RecordPreparation,
    },
    "ratification": {
        "sign": r.Sign,
        "domestic_procedure": r.CompleteDomesticProcedure,
        "deposit": r.Deposit,
    },
}


class ScenarioError(DomainError):
    """An item of a scenario file that cannot be recorded (``line``: the number of its
    line, from 1; in a YAML file, the line of the field at fault or of the item)."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}")


@dataclass(frozen=True)
class Step:
    """One command of a scenario: its ``line``, process (``kind``, ``treaty``, ``key``:
    the decision's slug, the meeting or the State's ISO3 code) and ``command``."""

    line: int
    kind: ProcessKind
    treaty: str
    key: str
    command: BaseModel

    @property
    def workflow_id(self) -> str:
        if self.kind == "ratification":
            return ids.ratification_workflow_id(self.treaty, self.key)
        return f"{self.kind}:{self.treaty}:{self.key}"


def _problems(err: ValidationError, skip: int) -> list[tuple[str, str]]:
    """(field, message) of each error; ``skip``: leading parts of the location that name
    the union member rather than a field."""
    return [(".".join(str(p) for p in e["loc"][skip:]), e["msg"]) for e in err.errors()]


_NAMES = {
    "decision": '"decision": "<slug>"',
    "hca": '"hca": "<meeting>"',
    "ratification": '"ratification": "<State>"',
}


def parse_item(
    obj: Any, line: int, treaty: str, field_lines: Mapping[str, int] | None = None
) -> Step:
    """The :class:`Step` of one item (a mapping of field names to values, as JSON or YAML
    gives it); :class:`ScenarioError` naming the line if it is not one. ``field_lines``:
    the line of each field where it differs from ``line`` (YAML), so that the error names
    the line of the field at fault. A ratification's State is resolved by
    :func:`domain.states.resolve_state` (name or ISO code; unknown: closest names)."""
    at = dict(field_lines or {})

    def where(name: str) -> int:
        return at.get(name.split(".")[0], line)

    if not isinstance(obj, dict):
        raise ScenarioError(line, "not an item: expected a mapping of field names to values")
    data = {str(k): v for k, v in obj.items() if k != "#"}
    kinds = [k for k in KINDS if k in data]
    if len(kinds) != 1:
        raise ScenarioError(line, f"name one process: {' or '.join(_NAMES.values())}")
    kind: ProcessKind = kinds[0]
    key = data.pop(kind)
    if not isinstance(key, str) or not key.strip():
        raise ScenarioError(where(kind), f'"{kind}" must name the process (a non-empty text)')
    code = data.pop("treaty", treaty)
    try:
        code = get_profile(str(code)).code
    except DomainError as err:
        raise ScenarioError(where("treaty"), str(err)) from None
    key = key.strip()
    if kind == "ratification":
        try:
            key = resolve_state(key).code
        except DomainError as err:
            raise ScenarioError(where(kind), str(err)) from None
    do = data.pop("do", None)
    commands = _COMMANDS[kind]
    if do not in commands:
        raise ScenarioError(
            where("do"), f'"do" must be one of {", ".join(commands)} for a {kind}, got {do!r}'
        )
    model = commands[do]
    expected = ", ".join(f for f in model.model_fields if f != "kind")
    unknown = sorted(set(data) - set(model.model_fields) - {"kind"})
    if unknown:
        raise ScenarioError(
            where(unknown[0]),
            f"unknown field(s) {', '.join(unknown)} for {kind} {do}: expected {expected}",
        )
    tagged = {**data, "kind": model.model_fields["kind"].default}
    try:
        if kind == "ratification":
            command: BaseModel = model.model_validate(tagged)
        else:
            adapter = _DECISION if kind == "decision" else _HCA
            command = adapter.validate_python(tagged)
    except ValidationError as err:
        problems = _problems(err, 0 if kind == "ratification" else 1)
        first = problems[0][0] or kind
        text = "; ".join(f"{f or 'item'}: {m}" for f, m in problems)
        raise ScenarioError(where(first), f"{kind} {do}: {text} (fields: {expected})") from None
    return Step(line=line, kind=kind, treaty=code, key=key, command=command)


def parse_line(obj: Any, line: int, treaty: str) -> Step:
    """The :class:`Step` of one JSON object (:func:`parse_item`)."""
    if not isinstance(obj, dict):
        raise ScenarioError(line, "not a JSON object")
    return parse_item(obj, line, treaty)


def parse(text: str, treaty: str = "CCM") -> list[Step]:
    """Every step of a scenario file's ``text``, in order; :class:`ScenarioError` naming
    the first line that is not a well-formed command."""
    steps = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as err:
            raise ScenarioError(
                number, f"not valid JSON ({err.msg} at column {err.colno})"
            ) from None
        steps.append(parse_line(obj, number, treaty))
    if not steps:
        raise ScenarioError(1, "the file holds no command")
    return steps


def initial(step: Step) -> BaseModel:
    """The state of ``step``'s process before any event."""
    if step.kind == "decision":
        return decision.initial_state(step.treaty, step.key)
    if step.kind == "ratification":
        return r.initial_state(step.treaty, step.key)
    return hca.initial_state(step.treaty, step.key)


def _on(day: date | None) -> str:
    return f"on {day.isoformat()}" if day else "with its date unknown"


def _contradicts(wid: str, has: str, says: str) -> DomainError:
    return DomainError(
        f"contradicts the record: {wid} has {has}; this item says {says} "
        "(an item that says what the record says is accepted and records nothing)"
    )


def _ratification(
    step: Step, s: r.RatificationState, context: r.TreatyContext, today: date
) -> list[Any]:
    """A ratification fact: nothing if the record holds it identically, a
    :class:`DomainError` if the record holds another, else the process's own decision
    (:func:`domain.ratification.decide`)."""
    wid, name = step.workflow_id, s.state
    match step.command:
        case r.Sign(signed_on=day) if s.signed:
            if day == s.signed_on:
                return []
            raise _contradicts(wid, f"{name}'s signature {_on(s.signed_on)}", f"signed {_on(day)}")
        case r.CompleteDomesticProcedure(completed_on=day) if (
            s.domestic_procedure_completed_on is not None
        ):
            if day == s.domestic_procedure_completed_on:
                return []
            raise _contradicts(
                wid,
                f"{name}'s domestic procedure completed {_on(s.domestic_procedure_completed_on)}",
                f"completed {_on(day)}",
            )
        case r.Deposit() as d if s.consented_on is not None:
            reservations = (d.reservation,) if d.reservation else ()
            if (d.deposited_on, d.instrument, d.provisional_application, reservations) == (
                s.consented_on,
                s.instrument,
                s.provisional_application,
                s.reservations,
            ):
                return []
            extra = lambda p, res: (  # noqa: E731
                (", provisional application" if p else "")
                + (f", reservation {res[0]!r}" if res else "")
            )
            raise _contradicts(
                wid,
                f"{name}'s instrument of {s.instrument} deposited "
                f"{_on(s.consented_on)}{extra(s.provisional_application, s.reservations)}",
                f"{d.instrument} deposited {_on(d.deposited_on)}"
                f"{extra(d.provisional_application, reservations)}",
            )
    return r.decide(s, step.command, get_profile(step.treaty), context, today)  # type: ignore[arg-type]


def decide(
    step: Step, state: BaseModel, today: date, context: r.TreatyContext | None = None
) -> list[Any]:
    """The events ``step`` causes on ``state`` (its process's), or :class:`DomainError`.
    ``context``: what the ratification processes know of the treaty's entry into force
    (ratification steps only; default: nothing known)."""
    if step.kind == "ratification":
        assert isinstance(state, r.RatificationState)
        return _ratification(step, state, context or r.TreatyContext(), today)
    if step.kind == "decision":
        assert isinstance(state, decision.DecisionState)
        events = decision.decide(state, step.command, get_profile(step.treaty), today)
        after = decision.fold(state, events)
        return events + decision.decide(after, decision.Tick(), get_profile(step.treaty), today)
    assert isinstance(state, hca.AgreementState)
    events = hca.decide(state, step.command, today)
    return events + hca.decide(hca.fold(state, events), hca.Tick(), today)


def fold(step: Step, state: BaseModel, events: list[Any]) -> BaseModel:
    if step.kind == "ratification":
        return r.fold(state, events)  # type: ignore[arg-type]
    if step.kind == "decision":
        return decision.fold(state, events)  # type: ignore[arg-type]
    return hca.fold(state, events)  # type: ignore[arg-type]


def plan_all(
    steps: list[Step],
    current: Callable[[Step], BaseModel | None],
    today: date,
    context: Callable[[Step], r.TreatyContext] = lambda step: r.TreatyContext(),
) -> list[int]:
    """Decide every step in order on its process's state (``current(step)``: the state
    now, None if the process does not exist yet; ``context(step)``: what a ratification
    process knows of the treaty), as the processes will. Returns the number of events
    each step would record (0: already recorded); raises :class:`ScenarioError` naming
    the line of the first step that would be refused."""
    states: dict[str, BaseModel] = {}
    counts: list[int] = []
    for step in steps:
        wid = step.workflow_id
        if wid not in states:
            states[wid] = current(step) or initial(step)
        try:
            events = decide(step, states[wid], today, context(step))
        except DomainError as err:
            raise ScenarioError(step.line, f"{wid}: {err}") from None
        states[wid] = fold(step, states[wid], events)
        counts.append(len(events))
    return counts


def check_all(
    steps: list[Step],
    current: Callable[[Step], BaseModel | None],
    today: date,
    context: Callable[[Step], r.TreatyContext] = lambda step: r.TreatyContext(),
) -> dict[str, int]:
    """:func:`plan_all`, summed: the number of events each process would record (by
    workflow id, every process of the file named, 0 included)."""
    counts: dict[str, int] = {}
    for step, n in zip(steps, plan_all(steps, current, today, context), strict=True):
        counts[step.workflow_id] = counts.get(step.workflow_id, 0) + n
    return counts
