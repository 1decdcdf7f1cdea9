"""Scenario files: a sequence of dated facts recorded into decision and host-country
agreement processes, one command per line (JSON Lines). Pure: parsing and checking only.

Each line is a JSON object naming its process and command, the other keys being the
command's fields (:mod:`domain.decision`, :mod:`domain.hca`)::

    {"decision": "isu-hosting", "do": "option", "option": "gichd", "title": "...", ...}
    {"hca": "2MSP", "do": "preparation", "item": "venue", "detail": "...", ...}

``"treaty"`` (default: the one given to the reader) and ``"#"`` (a comment) may be on any
line; blank lines and lines starting with ``#`` are skipped. An unknown key, a missing
field, a malformed date is an error naming the line. :func:`check_all` then decides every
command in order on the processes' current states, so that a file is recorded only when
every line would be accepted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from domain import decision, hca
from domain.errors import DomainError
from domain.treaties import get_profile

ProcessKind = Literal["decision", "hca"]

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
}


class ScenarioError(DomainError):
    """A line of a scenario file that cannot be recorded (``line``: its number, from 1)."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}")


@dataclass(frozen=True)
class Step:
    """One command of a scenario: its ``line``, process (``kind``, ``treaty``, ``key``:
    the decision's slug or the meeting) and ``command``."""

    line: int
    kind: ProcessKind
    treaty: str
    key: str
    command: BaseModel

    @property
    def workflow_id(self) -> str:
        return f"{self.kind}:{self.treaty}:{self.key}"


def _problems(err: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'][1:]) or 'line'}: {e['msg']}" for e in err.errors()
    )


def parse_line(obj: Any, line: int, treaty: str) -> Step:
    """The :class:`Step` of one JSON object; :class:`ScenarioError` if it is not one."""
    if not isinstance(obj, dict):
        raise ScenarioError(line, "not a JSON object")
    data = {k: v for k, v in obj.items() if k != "#"}
    kinds = [k for k in ("decision", "hca") if k in data]
    if len(kinds) != 1:
        raise ScenarioError(line, 'name one process: "decision": "<slug>" or "hca": "<meeting>"')
    kind: ProcessKind = kinds[0]  # type: ignore[assignment]
    key = data.pop(kind)
    if not isinstance(key, str) or not key.strip():
        raise ScenarioError(line, f'"{kind}" must name the process (a non-empty text)')
    code = data.pop("treaty", treaty)
    try:
        code = get_profile(str(code)).code
    except DomainError as err:
        raise ScenarioError(line, str(err)) from None
    do = data.pop("do", None)
    commands = _COMMANDS[kind]
    if do not in commands:
        raise ScenarioError(
            line, f'"do" must be one of {", ".join(commands)} for a {kind}, got {do!r}'
        )
    model = commands[do]
    unknown = sorted(set(data) - set(model.model_fields) - {"kind"})
    if unknown:
        raise ScenarioError(
            line,
            f"unknown field(s) {', '.join(unknown)} for {kind} {do}: expected "
            + ", ".join(f for f in model.model_fields if f != "kind"),
        )
    adapter = _DECISION if kind == "decision" else _HCA
    try:
        command = adapter.validate_python({**data, "kind": model.model_fields["kind"].default})
    except ValidationError as err:
        raise ScenarioError(line, f"{kind} {do}: {_problems(err)}") from None
    return Step(line=line, kind=kind, treaty=code, key=key.strip(), command=command)


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
    return hca.initial_state(step.treaty, step.key)


def decide(step: Step, state: BaseModel, today: date) -> list[Any]:
    """The events ``step`` causes on ``state`` (its process's), or :class:`DomainError`."""
    if step.kind == "decision":
        assert isinstance(state, decision.DecisionState)
        events = decision.decide(state, step.command, get_profile(step.treaty), today)
        after = decision.fold(state, events)
        return events + decision.decide(after, decision.Tick(), get_profile(step.treaty), today)
    assert isinstance(state, hca.AgreementState)
    events = hca.decide(state, step.command, today)
    return events + hca.decide(hca.fold(state, events), hca.Tick(), today)


def fold(step: Step, state: BaseModel, events: list[Any]) -> BaseModel:
    if step.kind == "decision":
        return decision.fold(state, events)  # type: ignore[arg-type]
    return hca.fold(state, events)  # type: ignore[arg-type]


def check_all(
    steps: list[Step], current: Callable[[Step], BaseModel | None], today: date
) -> dict[str, int]:
    """Decide every step in order on its process's state (``current(step)``: the state
    now, None if the process does not exist yet), as the processes will. Returns the
    number of events each process would record (by workflow id); raises
    :class:`ScenarioError` naming the first line that would be refused."""
    states: dict[str, BaseModel] = {}
    counts: dict[str, int] = {}
    for step in steps:
        wid = step.workflow_id
        if wid not in states:
            states[wid] = current(step) or initial(step)
            counts[wid] = 0
        try:
            events = decide(step, states[wid], today)
        except DomainError as err:
            raise ScenarioError(step.line, f"{wid}: {err}") from None
        states[wid] = fold(step, states[wid], events)
        counts[wid] += len(events)
    return counts
