"""The depositary's end notes and statements, put on the rows of the States they concern.

An end note is referred to by its footnote number after a participant's name ("Poland 8");
a statement (declaration, reservation, objection, communication) names its participant.
A withdrawal is read from its end note: the date the depositary received the notification
("On 20 August 2025, the Government of Poland deposited ... a notification of
withdrawal"), the date it takes effect ("The withdrawal will take effect for Poland on 20
February 2026") and the condition, as written, where there is one ("subject to the
condition set forth in the said paragraph").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from adapters.status_table import Note, Row, RowError, check_withdrawal
from adapters.untc_common import clean, find_dates
from domain.errors import DomainError
from domain.states import resolve_state

_WITHDRAWAL = re.compile(r"notification of withdrawal|notified .{0,80}\bwithdraw", re.I)
_RECEIVED = re.compile(
    r"On\s+(?P<on>\d{1,2}\s+[A-Za-z]+\s+\d{4})\s*,[^.]*?"
    r"(?:notification of withdrawal|\bwithdraw)",
    re.I,
)
_EFFECTIVE = re.compile(
    r"withdrawal\s+(?:took|takes|will take|shall take)\s+effect\b[^.]*?\bon\s+"
    r"(?P<on>\d{1,2}\s+[A-Za-z]+\s+\d{4})(?P<rest>[^.]*)",
    re.I,
)
_CONDITION = re.compile(r"\bsubject to\b[^.;]*", re.I)
_REFERENCE = re.compile(r"^See note\b", re.I)


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawal as its end note gives it."""

    received_on: date
    effective_on: date
    condition: str | None


def read_withdrawal(text: str) -> Withdrawal | None:
    """The withdrawal an end note gives, None if it speaks of none; :class:`DomainError`
    if it speaks of a notification of withdrawal without both dates."""
    value = clean(text)
    if not _WITHDRAWAL.search(value):
        return None
    received = _RECEIVED.search(value)
    effective = _EFFECTIVE.search(value)
    if received is None or effective is None:
        raise DomainError(
            "an end note speaks of a withdrawal but does not give both the date the "
            f"notification was received and the date it takes effect: {value[:200]!r}"
        )
    on = find_dates(received.group("on")) + find_dates(effective.group("on"))
    if len(on) != 2:
        raise DomainError(f"the dates of the withdrawal in {value[:200]!r} are not valid dates")
    condition = _CONDITION.search(effective.group("rest"))
    return Withdrawal(
        received_on=on[0],
        effective_on=on[1],
        condition=clean(condition.group(0)) if condition else None,
    )


def end_note_kind(text: str) -> str:
    """``withdrawal``, ``communication`` or ``note`` (a reference elsewhere, a territorial
    note, a notification of provisional application)."""
    if _WITHDRAWAL.search(text):
        return "withdrawal"
    if _REFERENCE.search(clean(text)):
        return "note"
    if re.search(r"\bcommunication\b", text, re.I):
        return "communication"
    return "note"


@dataclass(frozen=True)
class Statement:
    """A declaration, reservation, objection or communication of the record's own
    sections, on the participant ``name`` (as written, marks removed)."""

    name: str
    note: Note


def attach(
    rows: Iterable[Row],
    refused: Iterable[RowError],
    bracketed: set[int],
    end_notes: Mapping[str, str],
    statements: Iterable[Statement],
) -> tuple[list[Row], list[RowError]]:
    """The ``rows`` with their end notes (by footnote mark), statements (by State) and
    withdrawal; and the rows ``refused`` already, with those refused here, by line: a
    withdrawal note that cannot be read or disagrees with the deposit, a row shown in
    brackets (``bracketed``: their lines) that no end note says has withdrawn. A statement
    on no participant of the table (neither a row nor a refused row) is refused with line
    0."""
    errors = list(refused)
    by_state: dict[str, list[Note]] = {}
    names: dict[str, str] = {}
    for statement in statements:
        try:
            code = resolve_state(statement.name).code
        except DomainError as err:
            if statement.name not in {e.name for e in errors}:
                errors.append(RowError(line=0, name=statement.name, reason=str(err)))
            continue
        by_state.setdefault(code, []).append(statement.note)
        names.setdefault(code, statement.name)
    kept: list[Row] = []
    for row in rows:
        try:
            kept.append(_with_notes(row, row.line in bracketed, end_notes, by_state))
        except DomainError as err:
            errors.append(RowError(line=row.line, name=row.name, reason=str(err)))
        by_state.pop(row.state, None)
    refused_names = {e.name for e in errors}
    for code, notes in by_state.items():
        if names[code] in refused_names:
            continue  # its row is refused already
        errors.extend(
            RowError(
                line=0,
                name=names[code],
                reason=f"a {note.kind} on {code}, which is not in the participants' table "
                "(line 0: it has no row)",
            )
            for note in notes
        )
    return kept, sorted(errors, key=lambda e: e.line)


def _with_notes(
    row: Row, bracketed: bool, end_notes: Mapping[str, str], by_state: Mapping[str, list[Note]]
) -> Row:
    notes = [Note(kind=end_note_kind(end_notes[m]), text=end_notes[m], mark=m) for m in row.marks]
    missing = [m for m in row.marks if m not in end_notes]
    if missing:
        raise DomainError(f"footnote(s) {', '.join(missing)} after the name have no end note")
    withdrawals = [w for w in (read_withdrawal(n.text) for n in notes) if w is not None]
    if len(withdrawals) > 1:
        raise DomainError("more than one end note gives a withdrawal")
    if bracketed and not withdrawals:
        raise DomainError(
            "shown in brackets (withdrawn), but no end note gives the dates of the withdrawal"
        )
    notes.extend(by_state.get(row.state, []))
    withdrawal = withdrawals[0] if withdrawals else None
    if withdrawal is not None:
        check_withdrawal(row.deposited_on, withdrawal.received_on, withdrawal.effective_on)
    return replace(
        row,
        notes=tuple(notes),
        withdrawal_received_on=withdrawal.received_on if withdrawal else None,
        withdrawal_effective_on=withdrawal.effective_on if withdrawal else None,
        withdrawal_condition=withdrawal.condition if withdrawal else None,
    )
