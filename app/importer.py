"""``treaty import``: one row of the depositary's record -> the commands its process needs.

The record is read by :mod:`adapters.depositary`; :func:`plan` turns one of its rows and
the process's current state into the commands still to send (pure), so importing the same
file twice sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, get_args

from adapters.status_table import Row
from domain import ratification as r
from domain.treaties import SIGNATORY_INSTRUMENTS, TreatyProfile, get_profile

NOTE_KINDS: tuple[str, ...] = get_args(r.NoteKind)

RowCommand = (
    r.Sign
    | r.Deposit
    | r.RecordSignatureDate
    | r.RecordProvisionalApplication
    | r.RecordSuccessionDate
    | r.Withdraw
    | r.RecordDepositaryNote
)
"""The commands a row of the record may need, in the order :func:`plan` gives them."""


@dataclass(frozen=True)
class WithdrawalCheck:
    """A row's withdrawal against the treaty's rule: received on ``received_on``, in
    effect on ``rule_effective_on`` by ``article`` (CCM Art. 20(3): six months after
    receipt); ``stated_effective_on``: the date the record gives (None: none);
    ``condition``: the condition the record says it is subject to, as written."""

    received_on: date
    rule_effective_on: date
    article: str
    stated_effective_on: date | None = None
    condition: str | None = None

    @property
    def disagreement(self) -> str | None:
        """What the record says against the rule, or None when they agree."""
        stated = self.stated_effective_on
        if stated is None or stated == self.rule_effective_on:
            return None
        return (
            f"the record says it takes effect on {stated.isoformat()}, {self.article} gives "
            f"{self.rule_effective_on.isoformat()} (receipt {self.received_on.isoformat()}); "
            "the record's date is kept in the event, the effect follows the rule"
        )


@dataclass
class Plan:
    """What a row still needs: the commands to send, or why it is refused; and what the
    import reports of it (``filled``: facts the record lacked, given by this row)."""

    commands: list[RowCommand] = field(default_factory=list)
    refused: str | None = None
    signature_unknown: bool = False
    succession_date_unknown: bool = False
    filled: list[str] = field(default_factory=list)
    withdrawal: WithdrawalCheck | None = None
    notes: int = 0


def _refused(result: Plan, reason: str) -> Plan:
    result.commands, result.filled, result.notes = [], [], 0
    result.refused = reason
    return result


def _contradiction(row: Row, what: str, has: object, says: object) -> str:
    return (
        f"the record has {row.state}'s {what} {has}, the row says {says}: a fact on record is "
        "not replaced by an import (corrections will be a command of their own)"
    )


def _signature(row: Row, current: r.RatificationState, result: Plan) -> str | None:
    if row.instrument == "succession":
        if row.signed_on is not None:
            return (
                f"a successor State signs nothing: the row gives {row.state} a signature on "
                f"{row.signed_on} and a notification of succession"
            )
        return None
    if row.signed_on is None and row.instrument not in SIGNATORY_INSTRUMENTS:
        return None
    if not current.signed:
        result.commands.append(r.Sign(signed_on=row.signed_on))
        result.signature_unknown = row.signed_on is None
    elif row.signed_on is not None and current.signed_on is None:
        result.commands.append(r.RecordSignatureDate(signed_on=row.signed_on))
        result.filled.append(f"signature date {row.signed_on}")
    elif row.signed_on is not None and current.signed_on != row.signed_on:
        return _contradiction(row, "signature", f"on {current.signed_on}", row.signed_on)
    return None


def _deposit(row: Row, current: r.RatificationState, result: Plan) -> str | None:
    if row.instrument is None or row.deposited_on is None:
        return None
    pa_on, succession_on = row.provisional_application_on, row.succession_on
    if current.consented_on is None:
        result.commands.append(
            r.Deposit(
                instrument=row.instrument,  # type: ignore[arg-type]
                deposited_on=row.deposited_on,
                provisional_application=row.provisional_application or pa_on is not None,
                provisional_application_on=pa_on,
                succession_on=succession_on,
            )
        )
        result.succession_date_unknown = row.instrument == "succession" and succession_on is None
        return None
    if (current.consented_on, current.instrument) != (row.deposited_on, row.instrument):
        return (
            f"the record has {row.state}'s instrument of {current.instrument} deposited on "
            f"{current.consented_on}, the row says {row.instrument} on {row.deposited_on}"
        )
    if pa_on is not None and current.provisional_application_on is None:
        result.commands.append(r.RecordProvisionalApplication(declared_on=pa_on))
        result.filled.append(f"provisional application declared on {pa_on}")
    elif pa_on is not None and current.provisional_application_on != pa_on:
        has = f"declared on {current.provisional_application_on}"
        return _contradiction(row, "provisional application", has, pa_on)
    if succession_on is not None and current.succession_on is None:
        result.commands.append(r.RecordSuccessionDate(succeeded_on=succession_on))
        result.filled.append(f"date of succession {succession_on}")
    elif succession_on is not None and current.succession_on != succession_on:
        has = f"on {current.succession_on}"
        return _contradiction(row, "succession of States", has, succession_on)
    result.succession_date_unknown = current.succession_date_unknown and succession_on is None
    return None


def _withdrawal(
    row: Row, current: r.RatificationState, profile: TreatyProfile, result: Plan
) -> str | None:
    received = row.withdrawal_received_on
    if received is None:
        if row.withdrawal_effective_on is not None:
            article = profile.obligations.withdrawal.article
            return (
                f"the row gives {row.state}'s withdrawal taking effect on "
                f"{row.withdrawal_effective_on} but not the date the depositary received it: "
                f"a withdrawal is recorded from its receipt ({article})"
            )
        return None
    rule = profile.obligations.withdrawal
    result.withdrawal = WithdrawalCheck(
        received_on=received,
        rule_effective_on=rule.apply(received),
        article=rule.article,
        stated_effective_on=row.withdrawal_effective_on,
        condition=row.withdrawal_condition,
    )
    if current.withdrawal_received_on is None:
        result.commands.append(
            r.Withdraw(
                received_on=received,
                condition=row.withdrawal_condition,
                stated_effective_on=row.withdrawal_effective_on,
            )
        )
    elif current.withdrawal_received_on != received:
        has = f"received on {current.withdrawal_received_on}"
        return _contradiction(row, "instrument of withdrawal", has, received)
    return None


def _notes(row: Row, current: r.RatificationState, result: Plan) -> str | None:
    seen = set(current.notes)
    for note in row.notes:
        if note.kind not in NOTE_KINDS:
            expected = ", ".join(NOTE_KINDS)
            return f"end note of unknown kind {note.kind!r}: expected one of {expected}"
        text, mark = note.text.strip(), (note.mark or "").strip() or None
        key = r.DepositaryNote(kind=note.kind, text=text, mark=mark)
        if not text or key in seen:
            continue
        seen.add(key)
        kind: Any = note.kind  # one of NOTE_KINDS, checked above
        result.commands.append(r.RecordDepositaryNote(note_kind=kind, text=text, mark=mark))
        result.notes += 1
    return None


def plan(row: Row, current: r.RatificationState) -> Plan:
    """The commands that bring ``current`` to what ``row`` says (empty: nothing to do), in
    the order they are decided: signature (or its date, when the record has the signature
    with its date unknown), deposit (or the provisional-application date and the date of
    succession the record lacked), withdrawal, end notes not yet recorded.

    A ratification/acceptance/approval with no signature date is imported with the
    signature date unknown (the source did not give it); a succession records no
    signature (a successor State signs nothing) and, without its date, is bound no later
    than its notification (:mod:`domain.succession`). A row that contradicts the record
    (another deposit, another signature, provisional-application, succession or receipt
    date) is refused, naming both values; nothing of it is recorded. The rule a
    withdrawal's effect follows is the profile's (CCM Art. 20(3)); a date the record
    states otherwise is reported (:attr:`WithdrawalCheck.disagreement`).
    """
    result = Plan()
    profile = get_profile(current.treaty)
    for step in (
        lambda: _signature(row, current, result),
        lambda: _deposit(row, current, result),
        lambda: _withdrawal(row, current, profile, result),
        lambda: _notes(row, current, result),
    ):
        reason = step()
        if reason is not None:
            return _refused(result, reason)
    return result
