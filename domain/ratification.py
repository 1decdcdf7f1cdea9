"""The ratification process of one State for one treaty (``ratification:<CODE>:<ISO3>``).

signature -> domestic procedure completed -> instrument deposited (ratification,
acceptance, approval or accession) -> entry into force for that State; or, for a successor
State, the notification of succession alone (:mod:`domain.succession`). Facts of the
depositary's record that an earlier record lacked (a signature's date, the date of a
declaration of provisional application or of a succession of States) and its end notes are
recorded by :func:`decide_record`.

``decide(state, command, profile, context, today)`` returns the events a command causes
or raises :class:`~domain.errors.DomainError` saying why it is refused and what would be
accepted; ``evolve(state, event)`` folds one event into the state. Both are pure.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain import obligations as ob
from domain import succession
from domain.errors import DomainError
from domain.events import (
    ArmedConflictEnded,
    ArmedConflictRecorded,
    ComplianceDeclared,
    ContaminationDeclared,
    DepositaryNoteRecorded,
    DomainEvent,
    DomesticProcedureCompleted,
    EnteredIntoForce,
    EntryIntoForceFixed,
    ExtensionDecided,
    ExtensionRequested,
    InstrumentDeposited,
    ObligationDue,
    ObligationOpened,
    ObligationOverdue,
    ProvisionalApplicationRecorded,
    ReportReceived,
    SignatureDateRecorded,
    SignatureRecorded,
    StockpilesDeclared,
    SuccessionDateRecorded,
    WithdrawalDeferred,
    WithdrawalDeposited,
    WithdrawalTookEffect,
)
from domain.obligations import Meeting, Obligation
from domain.treaties import SIGNATORY_INSTRUMENTS, Instrument, TreatyProfile

# --- treaty context ----------------------------------------------------------------------


class TreatyContext(BaseModel):
    """What a ratification process knows of its treaty's own entry into force.

    ``in_force_on`` None: the treaty's entry-into-force date is not fixed yet.
    """

    model_config = ConfigDict(frozen=True)

    in_force_on: date | None = None
    threshold_deposited_on: date | None = None
    basis: Literal["computed", "depositary"] | None = None


# --- commands ----------------------------------------------------------------------------


class Sign(BaseModel):
    """Record the State's signature; ``signed_on`` None when the source gives no date."""

    kind: Literal["sign"] = "sign"
    signed_on: date | None


class CompleteDomesticProcedure(BaseModel):
    """Record that the State completed its domestic procedure on ``completed_on``."""

    kind: Literal["domestic_procedure"] = "domestic_procedure"
    completed_on: date


class Deposit(BaseModel):
    """Record the deposit of an instrument with the depositary (for a successor State: its
    notification of succession, ``deposited_on`` the date the depositary received it).

    ``reservation``: text of a reservation made at deposit, if any;
    ``provisional_application``: the State declares provisional application at deposit;
    ``provisional_application_on``: the date of that declaration where the record gives
    it (implies ``provisional_application``); ``succession_on``: the date of the
    succession of States, for a succession (None: the record does not give it).
    """

    kind: Literal["deposit"] = "deposit"
    instrument: Instrument
    deposited_on: date
    provisional_application: bool = False
    reservation: str | None = None
    provisional_application_on: date | None = None
    succession_on: date | None = None


class ApplyTreatyContext(BaseModel):
    """Internal: the treaty process told us its entry-into-force date."""

    kind: Literal["treaty_context"] = "treaty_context"
    context: TreatyContext


class MarkEnteredIntoForce(BaseModel):
    """Internal: the entry-into-force date has been reached (timer fired or date past)."""

    kind: Literal["entered_into_force"] = "entered_into_force"


class DeclareStockpiles(BaseModel):
    """The State declared stockpiles of cluster munitions to destroy (CCM Art. 3; its
    initial report under Art. 7(1)(b)) on ``declared_on``."""

    kind: Literal["stockpiles"] = "stockpiles"
    declared_on: date


class DeclareContamination(BaseModel):
    """The State declared contaminated areas under its jurisdiction or control (CCM Art.
    4(1); Art. 7(1)(f)) on ``declared_on``."""

    kind: Literal["contamination"] = "contamination"
    declared_on: date


class RequestExtension(BaseModel):
    """The State requests to extend the deadline of obligation ``key`` to
    ``requested_until``, to be decided by ``meeting`` (as the treaty process records it);
    ``filed_on``: the date the request was submitted."""

    kind: Literal["extension_request"] = "extension_request"
    key: str
    requested_until: date
    meeting: Meeting
    filed_on: date
    exceptional_circumstances: bool = False


class DecideExtension(BaseModel):
    """The Meeting ``meeting`` decided the pending request on ``key``: ``granted_until``
    the date it granted (the one requested, or an earlier one), None if refused;
    ``decided_on``: the date of the decision (default: the Meeting's closing day); the
    votes if it was taken by a vote."""

    kind: Literal["extension_decision"] = "extension_decision"
    key: str
    meeting: Meeting
    granted_until: date | None
    decided_on: date | None = None
    votes_for: int | None = None
    votes_against: int | None = None
    abstentions: int | None = None


class RecordReport(BaseModel):
    """A report the State owed (``key``: ``initial-report``, ``annual-report-2012``) was
    received on ``received_on`` by ``channel``."""

    kind: Literal["report"] = "report"
    key: str
    received_on: date
    channel: str
    document: str | None = None


class DeclareCompliance(BaseModel):
    """The State declared on ``declared_on`` that it completed obligation ``key``
    (``stockpile-destruction``, ``clearance``: CCM Art. 3, 4(1)(c))."""

    kind: Literal["compliance"] = "compliance"
    key: str
    declared_on: date
    channel: str
    document: str | None = None


class Withdraw(BaseModel):
    """The depositary received the State's instrument of withdrawal on ``received_on``
    (CCM Art. 20). ``condition``: the condition the depositary's record says it is subject
    to, as written; ``stated_effective_on``: the date the record says it takes effect
    (kept as the record's; the effect follows the treaty's rule)."""

    kind: Literal["withdraw"] = "withdraw"
    received_on: date
    condition: str | None = None
    stated_effective_on: date | None = None


class RecordArmedConflict(BaseModel):
    """The State is engaged in an armed conflict since ``since`` (``ended_on``: when it
    ended, if known; CCM Art. 20(3))."""

    kind: Literal["armed_conflict"] = "armed_conflict"
    since: date
    description: str
    ended_on: date | None = None


class EndArmedConflict(BaseModel):
    """The armed conflict the State is engaged in ended on ``ended_on``."""

    kind: Literal["armed_conflict_end"] = "armed_conflict_end"
    ended_on: date


class RecordSignatureDate(BaseModel):
    """The date of a signature recorded with its date unknown, now given by the record."""

    kind: Literal["signature_date"] = "signature_date"
    signed_on: date


class RecordProvisionalApplication(BaseModel):
    """The date the State declared provisional application (CCM Art. 18), now given by
    the record."""

    kind: Literal["provisional_application"] = "provisional_application"
    declared_on: date


class RecordSuccessionDate(BaseModel):
    """The date of the succession of States of a successor State whose notification was
    recorded without it."""

    kind: Literal["succession_date"] = "succession_date"
    succeeded_on: date


NoteKind = Literal["declaration", "reservation", "objection", "communication", "withdrawal", "note"]
"""The kinds of the depositary's end notes on a State (``withdrawal``: the note giving a
withdrawal's dates, and its condition where there is one, as written)."""


class RecordDepositaryNote(BaseModel):
    """An end note of the depositary's record on the State (``note_kind``, ``text`` as
    written, ``mark``: its footnote number)."""

    kind: Literal["depositary_note"] = "depositary_note"
    note_kind: NoteKind
    text: str
    mark: str | None = None


RecordCommand = (
    RecordSignatureDate | RecordProvisionalApplication | RecordSuccessionDate | RecordDepositaryNote
)


class MarkDeadlines(BaseModel):
    """Internal: a timer fired; mark the deadlines reached (due, overdue), open the next
    annual report, let a withdrawal whose date is reached take effect."""

    kind: Literal["deadlines"] = "deadlines"


ObligationCommand = (
    DeclareStockpiles
    | DeclareContamination
    | RequestExtension
    | DecideExtension
    | RecordReport
    | DeclareCompliance
    | Withdraw
    | RecordArmedConflict
    | EndArmedConflict
    | MarkDeadlines
)

Command = (
    Sign
    | CompleteDomesticProcedure
    | Deposit
    | ApplyTreatyContext
    | MarkEnteredIntoForce
    | RecordCommand
    | ObligationCommand
)


# --- state -------------------------------------------------------------------------------


class ArmedConflict(BaseModel):
    """An armed conflict the State is engaged in, from ``since`` to ``ended_on`` (None:
    going on), as recorded (CCM Art. 20(3))."""

    model_config = ConfigDict(frozen=True)

    since: date
    description: str
    ended_on: date | None = None


class DepositaryNote(BaseModel):
    """An end note of the depositary's record on the State, as recorded."""

    model_config = ConfigDict(frozen=True)

    kind: str
    text: str
    mark: str | None = None


class RatificationState(BaseModel):
    """The state of one State's ratification process.

    ``consented_on``: deposit date (consent to be bound; for a successor State the date
    its notification of succession was received); ``succession_on``: the date of the
    succession of States (None: not a succession, or not on record, see
    :attr:`succession_date_unknown`); ``in_force_on``: the date the treaty enters (or
    entered) into force for the State; ``notes``: the depositary's end notes on it;
    ``version``: number of events folded (the stream version).
    """

    treaty: str
    state: str
    version: int = 0
    signed: bool = False
    signed_on: date | None = None
    domestic_procedure_completed_on: date | None = None
    instrument: Instrument | None = None
    consented_on: date | None = None
    provisional_application: bool = False
    provisional_application_on: date | None = None
    succession_on: date | None = None
    reservations: tuple[str, ...] = ()
    notes: tuple[DepositaryNote, ...] = ()
    in_force_on: date | None = None
    eif_article: str | None = None
    entered_into_force: bool = False
    obligations: dict[str, Obligation] = {}
    stockpiles_declared_on: date | None = None
    contamination_declared_on: date | None = None
    conflicts: tuple[ArmedConflict, ...] = ()
    withdrawal_received_on: date | None = None
    withdrawal_period_ends_on: date | None = None
    withdrawal_deferred: bool = False
    withdrawn_on: date | None = None

    @property
    def succession_date_unknown(self) -> bool:
        """A successor State whose date of succession the record does not give: it counts
        from its notification (:mod:`domain.succession`)."""
        return self.instrument == "succession" and self.succession_on is None

    def status(self, as_of: date | None = None) -> str:
        """One word for a table: ``withdrawn``, ``in force``, ``consented``, ``signatory``
        or ``none``.

        With ``as_of``, the status on that date (facts dated later are ignored; a fact
        with an unknown date counts as known).
        """
        if self.withdrawn_on is not None and (as_of is None or self.withdrawn_on <= as_of):
            return "withdrawn"
        if self.in_force_on is not None and (as_of is None or self.in_force_on <= as_of):
            if as_of is not None or self.entered_into_force:
                return "in force"
        if self.consented_on is not None and (as_of is None or self.consented_on <= as_of):
            return "consented"
        if self.signed and (as_of is None or self.signed_on is None or self.signed_on <= as_of):
            return "signatory"
        return "none"


def initial_state(treaty: str, state: str) -> RatificationState:
    """The state before any event: nothing recorded for ``state`` under ``treaty``."""
    return RatificationState(treaty=treaty, state=state)


def _refuse(message: str) -> DomainError:
    return DomainError(message)


def _check_not_future(what: str, day: date, today: date) -> None:
    if day > today:
        raise _refuse(f"{what} {day.isoformat()} is in the future (today is {today.isoformat()})")


def _check_open(profile: TreatyProfile, what: str, day: date) -> None:
    if day < profile.opened_for_signature_on:
        raise _refuse(
            f"{what} {day.isoformat()} is before the {profile.code} was opened for signature "
            f"on {profile.opened_for_signature_on.isoformat()} ({profile.signature_article})"
        )


def _check_provisional(profile: TreatyProfile, day: date | None, today: date) -> None:
    if profile.provisional_application is None:
        raise _refuse(
            f"the {profile.code} has no provisional-application clause "
            f"({profile.provisional_application_article})"
        )
    if day is not None:
        _check_not_future("provisional-application date", day, today)
        _check_open(profile, "provisional-application date", day)


def _check_deposit(d: Deposit, profile: TreatyProfile, today: date) -> None:
    # a notification of succession is no instrument of the treaty's own clause (CCM Art.
    # 16), so the profile's list of instruments does not name it: succession is decided
    # here (domain.succession), every other instrument by the profile
    if d.instrument != "succession":
        profile.check_instrument(d.instrument)
        if d.succession_on is not None:
            raise _refuse(
                f"a date of succession of States goes with a notification of succession, "
                f"not an instrument of {d.instrument}"
            )
    _check_not_future("deposit date", d.deposited_on, today)
    _check_open(profile, "deposit date", d.deposited_on)
    if d.succession_on is not None:
        _check_not_future("date of succession", d.succession_on, today)
        if d.succession_on > d.deposited_on:
            raise _refuse(
                f"the date of succession {d.succession_on.isoformat()} is after the "
                f"notification of succession was received on {d.deposited_on.isoformat()}: "
                "the succession of States comes first"
            )
    if d.reservation and not profile.reservations_allowed:
        raise _refuse(
            f"the {profile.code} admits no reservations ({profile.reservations_article}); "
            "record the deposit without one (a declaration is not a reservation)"
        )
    if d.provisional_application or d.provisional_application_on is not None:
        _check_provisional(profile, d.provisional_application_on, today)


def check_command(command: Command, profile: TreatyProfile, today: date) -> None:
    """The checks of a staff command that need no state: dates not in the future nor
    before the treaty was opened for signature, no reservation where the profile forbids
    them (CCM Art. 19), provisional application only where there is such a clause (CCM
    Art. 18), a date of succession not after the notification of succession. Raises
    :class:`DomainError`. :func:`decide` runs them too; the CLI runs them first so such a
    refusal needs no server.
    """
    match command:
        case Sign(signed_on=signed_on) | RecordSignatureDate(signed_on=signed_on) if (
            signed_on is not None
        ):
            _check_not_future("signature date", signed_on, today)
            _check_open(profile, "signature date", signed_on)
        case CompleteDomesticProcedure(completed_on=completed_on):
            _check_not_future("completion date", completed_on, today)
            _check_open(profile, "completion date", completed_on)
        case Deposit() as d:
            _check_deposit(d, profile, today)
        case RecordProvisionalApplication(declared_on=day):
            _check_provisional(profile, day, today)
        case RecordSuccessionDate(succeeded_on=day):
            _check_not_future("date of succession", day, today)
        case (
            DeclareStockpiles(declared_on=day)
            | DeclareContamination(declared_on=day)
            | DeclareCompliance(declared_on=day)
        ):
            _check_not_future("declaration date", day, today)
            _check_open(profile, "declaration date", day)
        case RequestExtension(filed_on=day):
            _check_not_future("request date", day, today)
            _check_open(profile, "request date", day)
        case DecideExtension(decided_on=day) if day is not None:
            _check_not_future("decision date", day, today)
            _check_open(profile, "decision date", day)
        case RecordReport(received_on=day) | Withdraw(received_on=day):
            _check_not_future("receipt date", day, today)
            _check_open(profile, "receipt date", day)
        case RecordArmedConflict() as c:
            _check_not_future("start date", c.since, today)
            if c.ended_on is not None:
                _check_not_future("end date", c.ended_on, today)
        case EndArmedConflict(ended_on=day):
            _check_not_future("end date", day, today)


def _eif_events(
    s: RatificationState, profile: TreatyProfile, context: TreatyContext
) -> list[DomainEvent]:
    """The State's entry into force fixed (or fixed again) for ``s``, a state with its
    deposit: by the profile's rule (CCM Art. 17), or for a successor State from its
    succession (:func:`domain.succession.entry_into_force`)."""
    deposited_on = s.consented_on
    if deposited_on is None or context.in_force_on is None or context.basis is None:
        return []
    if s.instrument == "succession":
        in_force_on, article = succession.entry_into_force(
            s.succession_on, deposited_on, context.in_force_on
        )
    else:
        in_force_on, article = profile.state_entry_into_force(
            deposited_on, context.in_force_on, context.threshold_deposited_on
        )
    if in_force_on == s.in_force_on and article == s.eif_article:
        return []
    known = [d for d in (deposited_on, context.threshold_deposited_on) if d is not None]
    return [
        EntryIntoForceFixed(
            occurred_on=max(known),
            state=s.state,
            in_force_on=in_force_on,
            article=article,
            treaty_in_force_on=context.in_force_on,
            basis=context.basis,
        )
    ]


def decide(
    s: RatificationState,
    command: Command,
    profile: TreatyProfile,
    context: TreatyContext,
    today: date,
) -> list[DomainEvent]:
    """The events ``command`` causes in state ``s``, or :class:`DomainError` if refused.

    Rules (``profile`` cites the articles; CCM numbers given here):
    - signature: once; not in the future; not before the treaty opened for signature; not
      on or after the treaty's entry into force (CCM Art. 15: open for signature until it
      enters into force, accession afterwards);
    - domestic procedure: once; not in the future; dated on or before the deposit (it may
      be recorded after the deposit, when it is learnt later: the order of business dates
      counts, not the order of recording);
    - deposit: once; not in the future; a signatory ratifies, accepts or approves, any
      other State accedes (CCM Art. 16); not before its signature; accession before the
      treaty's entry into force only where the profile allows it (not the ATT, Art.
      21(3)); no reservation where the profile forbids them (CCM Art. 19); provisional
      application only where the profile has such a clause (CCM Art. 18);
    - succession: a successor State's notification, by a State with no signature on
      record (it signs nothing: it succeeds); the date of succession, where given, not
      after the notification;
    - entry into force for the State: CCM Art. 17(1)/(2), see
      :meth:`TreatyProfile.state_entry_into_force`; for a successor State,
      :func:`domain.succession.entry_into_force` (from the date of succession; when the
      record does not give it, no later than the notification);
    - facts the record lacked and end notes: :func:`decide_record`.
    """
    name = s.state
    match command:
        case Sign(signed_on=signed_on):
            if s.signed:
                when = s.signed_on.isoformat() if s.signed_on else "an unknown date"
                raise _refuse(f"{name} already signed the {profile.code} on {when}")
            if s.consented_on is not None:
                raise _refuse(
                    f"{name} already deposited its instrument of {s.instrument} on "
                    f"{s.consented_on.isoformat()}: a signature cannot follow the deposit"
                )
            check_command(command, profile, today)
            if signed_on is not None:
                if (
                    profile.signature_closes_at_eif
                    and context.in_force_on is not None
                    and signed_on >= context.in_force_on
                ):
                    raise _refuse(
                        f"the {profile.code} was open for signature only until its entry into "
                        f"force on {context.in_force_on.isoformat()} ({profile.signature_article})"
                        f": {name} can now join by accession"
                    )
            return [SignatureRecorded(occurred_on=signed_on, state=name)]

        case CompleteDomesticProcedure(completed_on=completed_on):
            if s.domestic_procedure_completed_on is not None:
                raise _refuse(
                    f"{name} already completed its domestic procedure on "
                    f"{s.domestic_procedure_completed_on.isoformat()}"
                )
            check_command(command, profile, today)
            if s.consented_on is not None and completed_on > s.consented_on:
                raise _refuse(
                    f"completion date {completed_on.isoformat()} is after {name}'s deposit on "
                    f"{s.consented_on.isoformat()}: the domestic procedure precedes the deposit"
                )
            if s.signed_on is not None and completed_on < s.signed_on:
                raise _refuse(
                    f"completion date {completed_on.isoformat()} is before {name}'s signature "
                    f"on {s.signed_on.isoformat()}"
                )
            return [DomesticProcedureCompleted(occurred_on=completed_on, state=name)]

        case Deposit() as d:
            if s.consented_on is not None:
                raise _refuse(
                    f"{name} already deposited its instrument of {s.instrument} on "
                    f"{s.consented_on.isoformat()}; a State deposits one instrument"
                )
            check_command(command, profile, today)
            if d.instrument == "succession" and s.signed:
                when = s.signed_on.isoformat() if s.signed_on else "an unknown date"
                raise _refuse(
                    f"{name} has a signature on record ({when}): a successor State signs "
                    "nothing, it notifies its succession; a signatory consents by "
                    f"ratification, acceptance or approval ({profile.instruments_article})"
                )
            if d.instrument in SIGNATORY_INSTRUMENTS and not s.signed:
                raise _refuse(
                    f"{name} has no signature on record, so it cannot deposit an instrument of "
                    f"{d.instrument} ({profile.instruments_article}): record the signature "
                    "first (its date may be unknown) or record an accession"
                )
            if d.instrument == "accession" and s.signed:
                raise _refuse(
                    f"{name} is a signatory: it consents by ratification, acceptance or "
                    f"approval, not accession ({profile.instruments_article})"
                )
            if s.signed_on is not None and d.deposited_on < s.signed_on:
                raise _refuse(
                    f"deposit date {d.deposited_on.isoformat()} is before {name}'s signature "
                    f"on {s.signed_on.isoformat()}"
                )
            if d.instrument == "accession" and not profile.accession_before_eif:
                if context.in_force_on is None or d.deposited_on < context.in_force_on:
                    raise _refuse(
                        f"the {profile.code} is open for accession only after its entry into "
                        f"force ({profile.instruments_article})"
                    )
            done = s.domestic_procedure_completed_on
            if done is not None and d.deposited_on < done:
                raise _refuse(
                    f"deposit date {d.deposited_on.isoformat()} is before {name}'s domestic "
                    f"procedure was completed on {done.isoformat()}"
                )
            deposited = InstrumentDeposited(
                occurred_on=d.deposited_on,
                state=name,
                instrument=d.instrument,
                provisional_application=(
                    d.provisional_application or d.provisional_application_on is not None
                ),
                reservations=(d.reservation,) if d.reservation else (),
                provisional_application_on=d.provisional_application_on,
                succession_on=d.succession_on,
            )
            return [deposited, *_eif_events(evolve(s, deposited), profile, context)]

        case ApplyTreatyContext(context=new_context):
            return _eif_events(s, profile, new_context)

        case MarkEnteredIntoForce():
            if s.entered_into_force or s.in_force_on is None or s.in_force_on > today:
                return []
            return [
                EnteredIntoForce(
                    occurred_on=s.in_force_on, state=name, historical=s.in_force_on < today
                )
            ]
        case (
            RecordSignatureDate()
            | RecordProvisionalApplication()
            | RecordSuccessionDate()
            | RecordDepositaryNote()
        ):
            return decide_record(s, command, profile, context, today)
        case _:
            return decide_obligation(s, command, profile, today)  # type: ignore[arg-type]
    raise _refuse(f"unknown command {command!r}")  # pragma: no cover


# --- facts of the depositary's record ------------------------------------------------------


def _recorded_otherwise(what: str, has: date, says: date) -> DomainError:
    return _refuse(
        f"the record has {what} on {has.isoformat()}, not {says.isoformat()}: a date on "
        "record is not replaced by a later table (a correction is a command of its own, "
        "not yet available)"
    )


def decide_record(
    s: RatificationState,
    command: RecordCommand,
    profile: TreatyProfile,
    context: TreatyContext,
    today: date,
) -> list[DomainEvent]:
    """The events of a fact the depositary's record gives that the process lacked, or
    :class:`DomainError`. The same fact again records nothing; another value than the one
    on record is refused, naming both.

    - signature date: of a signature on record with its date unknown; the date checked as
      a signature's (CCM Art. 15: not on or after the treaty's entry into force), not
      after the deposit nor after the domestic procedure;
    - provisional-application date: only where the profile has the clause (CCM Art. 18);
    - date of succession: of a notification of succession on record, not after it; the
      State's entry into force is fixed again from it (:mod:`domain.succession`);
    - end note: its kind, text and mark, once.
    """
    name = s.state
    match command:
        case RecordSignatureDate(signed_on=day):
            if not s.signed:
                raise _refuse(f"{name} has no signature on record: record the signature itself")
            if s.signed_on is not None:
                if s.signed_on == day:
                    return []
                raise _recorded_otherwise(f"{name}'s signature", s.signed_on, day)
            check_command(command, profile, today)
            eif = context.in_force_on
            if profile.signature_closes_at_eif and eif is not None and day >= eif:
                raise _refuse(
                    f"the {profile.code} was open for signature only until its entry into "
                    f"force on {eif.isoformat()} ({profile.signature_article})"
                )
            for later, what in (
                (s.consented_on, "deposit"),
                (s.domestic_procedure_completed_on, "domestic procedure"),
            ):
                if later is not None and day > later:
                    raise _refuse(
                        f"signature date {day.isoformat()} is after {name}'s {what} on "
                        f"{later.isoformat()}"
                    )
            return [SignatureDateRecorded(occurred_on=day, state=name)]

        case RecordProvisionalApplication(declared_on=day):
            if s.provisional_application_on is not None:
                if s.provisional_application_on == day:
                    return []
                raise _recorded_otherwise(
                    f"{name}'s declaration of provisional application",
                    s.provisional_application_on,
                    day,
                )
            check_command(command, profile, today)
            assert profile.provisional_application is not None  # checked just above
            return [
                ProvisionalApplicationRecorded(
                    occurred_on=day,
                    state=name,
                    applies=profile.provisional_application,
                    article=profile.provisional_application_article,
                )
            ]

        case RecordSuccessionDate(succeeded_on=day):
            if s.instrument != "succession" or s.consented_on is None:
                raise _refuse(f"{name} has no notification of succession on record")
            if s.succession_on is not None:
                if s.succession_on == day:
                    return []
                raise _recorded_otherwise(f"{name}'s succession", s.succession_on, day)
            check_command(command, profile, today)
            if day > s.consented_on:
                raise _refuse(
                    f"the date of succession {day.isoformat()} is after {name}'s notification "
                    f"of succession was received on {s.consented_on.isoformat()}"
                )
            recorded = SuccessionDateRecorded(occurred_on=day, state=name)
            return [recorded, *_eif_events(evolve(s, recorded), profile, context)]

        case RecordDepositaryNote() as c:
            text = c.text.strip()
            if not text:
                raise _refuse("an end note needs its text")
            mark = (c.mark or "").strip() or None
            if DepositaryNote(kind=c.note_kind, text=text, mark=mark) in s.notes:
                return []
            return [
                DepositaryNoteRecorded(
                    occurred_on=None, state=name, kind=c.note_kind, text=text, mark=mark
                )
            ]
    raise _refuse(f"unknown command {command!r}")  # pragma: no cover


# --- obligations ---------------------------------------------------------------------------


def _opened(
    s: RatificationState, o: Obligation, arose_on: date | None, today: date
) -> ObligationOpened:
    return ObligationOpened(
        occurred_on=arose_on,
        state=s.state,
        key=o.key,
        kind=o.kind,
        article=o.article,
        due_on=o.due_on,
        covers=o.covers,
        historical=o.due_on < today,
    )


def _annual_reports_from(
    s: RatificationState, profile: TreatyProfile, year: int, arose_on: date | None, today: date
) -> list[DomainEvent]:
    """Annual reports from ``year`` on: every one whose deadline is already past
    (historical), then the next one to come (CCM Art. 7(2): by 30 April each year)."""
    events: list[DomainEvent] = []
    while True:
        report = ob.annual_report(profile, year)
        if report.key in s.obligations:
            return events
        if s.withdrawn_on is not None and report.due_on >= s.withdrawn_on:
            return events
        events.append(_opened(s, report, arose_on, today))
        if report.due_on >= today:
            return events
        arose_on, year = report.due_on, year + 1


def obligations_at_entry_into_force(
    s: RatificationState, profile: TreatyProfile, today: date
) -> list[DomainEvent]:
    """The obligations a State has once the treaty is in force for it (``s`` after its
    :class:`EnteredIntoForce`): the initial transparency report (CCM Art. 7(1): 180 days
    after; ATT Art. 13(1): within the first year) and the annual reports (CCM Art. 7(2):
    30 April each year, the first one after the initial report's deadline), each
    ``historical`` if its deadline is already past ``today``. Empty if not in force or
    already opened."""
    if not s.entered_into_force or s.in_force_on is None or "initial-report" in s.obligations:
        return []
    initial = ob.initial_report(profile, s.in_force_on)
    first_year = ob.first_annual_report_year(profile, s.in_force_on)
    return [
        _opened(s, initial, s.in_force_on, today),
        *_annual_reports_from(s, profile, first_year, s.in_force_on, today),
    ]


def _obligation(s: RatificationState, key: str, what: str) -> Obligation:
    """The open obligation ``key`` or a refusal naming the open ones."""
    found = s.obligations.get(key.strip().lower())
    if found is not None and found.is_open:
        return found
    open_keys = ", ".join(k for k, o in s.obligations.items() if o.is_open) or "none"
    if found is None:
        raise _refuse(
            f"{s.state} has no obligation {key!r} to {what} (open obligations: {open_keys})"
        )
    if found.met_on is not None:
        raise _refuse(
            f"{s.state}'s {found.key} is not open: it was met on {found.met_on.isoformat()} "
            f"({found.channel}) (open obligations: {open_keys})"
        )
    raise _refuse(
        f"{s.state}'s {found.key} is not open: it ended with the withdrawal on "
        f"{found.ended_on} (open obligations: {open_keys})"
    )


def _in_force_for(s: RatificationState, profile: TreatyProfile, what: str) -> date:
    if s.withdrawn_on is not None:
        raise _refuse(
            f"{s.state} withdrew from the {profile.code} on {s.withdrawn_on.isoformat()}: "
            f"no {what} can be recorded any more"
        )
    if s.in_force_on is None or not s.entered_into_force:
        status = s.status()
        raise _refuse(
            f"the {profile.code} is not in force for {s.state} (status: {status}), so it owes no "
            f"{what} yet: record its deposit first; obligations run from its entry into force"
        )
    return s.in_force_on


def _conflict_at(s: RatificationState, day: date) -> ArmedConflict | None:
    """The recorded armed conflict the State is engaged in on ``day``, if any."""
    for c in s.conflicts:
        if c.since <= day and (c.ended_on is None or c.ended_on >= day):
            return c
    return None


def settle(s: RatificationState, profile: TreatyProfile, today: date) -> list[DomainEvent]:
    """What the passing of time has brought about by ``today``: each open obligation
    whose deadline is reached marked ``due`` (on its day) and then ``overdue`` (the day
    after), the next annual report opened when one falls due, a withdrawal whose date is
    reached taking effect (or deferred to the end of an armed conflict, CCM Art. 20(3)).
    Deadlines recorded as historical are not marked. Pure; used by the timers."""
    events: list[DomainEvent] = []
    if s.withdrawn_on is None:
        for o in list(s.obligations.values()):
            if not o.is_open or o.deadlines[-1].historical:
                continue
            due = o.due_on
            if o.marked is None and due <= today:
                events.append(ObligationDue(occurred_on=due, state=s.state, key=o.key, due_on=due))
                if o.kind == "annual_report":
                    year = int(o.key.rsplit("-", 1)[1]) + 1
                    events += _annual_reports_from(s, profile, year, due, today)
            if o.marked != "overdue" and due < today:
                events.append(
                    ObligationOverdue(
                        occurred_on=due + timedelta(days=1), state=s.state, key=o.key, due_on=due
                    )
                )
    events += _withdrawal_effect(fold(s, events), profile, today)
    return events


def _withdrawal_effect(
    s: RatificationState, profile: TreatyProfile, today: date
) -> list[DomainEvent]:
    ends = s.withdrawal_period_ends_on
    if ends is None or s.withdrawn_on is not None or ends > today:
        return []
    rules = profile.obligations
    conflict = _conflict_at(s, ends) if rules.withdrawal_waits_for_armed_conflict else None
    if conflict is None:
        effective = ends
    elif conflict.ended_on is None:
        if s.withdrawal_deferred:
            return []
        return [
            WithdrawalDeferred(occurred_on=ends, state=s.state, article=rules.withdrawal.article)
        ]
    else:
        effective = max(ends, conflict.ended_on)
    if effective > today:
        return []
    return [
        WithdrawalTookEffect(occurred_on=effective, state=s.state, historical=effective < today)
    ]


def next_wake(s: RatificationState) -> date | None:
    """The next date a timer must wake the process for (a deadline to mark due or
    overdue, a withdrawal to take effect), or None. Pure."""
    dates: list[date] = []
    if s.withdrawn_on is None:
        for o in s.obligations.values():
            if not o.is_open or o.deadlines[-1].historical:
                continue
            if o.marked is None:
                dates.append(o.due_on)
            elif o.marked == "due":
                dates.append(o.due_on + timedelta(days=1))
        ends = s.withdrawal_period_ends_on
        if ends is not None:
            conflict = _conflict_at(s, ends)
            if conflict is None:
                dates.append(ends)
            elif conflict.ended_on is not None:
                dates.append(max(ends, conflict.ended_on))
            elif not s.withdrawal_deferred:
                dates.append(ends)
    return min(dates) if dates else None


def _check_day(what: str, day: date, today: date, not_before: date | None, since: str) -> None:
    _check_not_future(what, day, today)
    if not_before is not None and day < not_before:
        raise _refuse(f"{what} {day.isoformat()} is before {since} on {not_before.isoformat()}")


def _check_votes(c: DecideExtension, granted: bool, article: str) -> None:
    """Refuse vote counts that contradict the outcome: a request is granted by a majority of
    the States Parties present and voting (``article``: the profile's rule, e.g. CCM Art.
    3(5))."""
    counts = (c.votes_for, c.votes_against, c.abstentions)
    if any(v is not None and v < 0 for v in counts):
        raise _refuse("vote counts cannot be negative")
    if c.votes_for is None or c.votes_against is None:
        if c.votes_for is not None or c.votes_against is not None:
            raise _refuse("give both the votes for and the votes against (or neither)")
        return
    majority = c.votes_for > c.votes_against
    if granted and not majority:
        raise _refuse(
            f"{c.votes_for} for and {c.votes_against} against is no majority of the States "
            f"Parties present and voting ({article}): the request was not granted"
        )
    if not granted and majority:
        raise _refuse(
            f"{c.votes_for} for and {c.votes_against} against is a majority for the request: "
            "it was granted (give the date granted)"
        )


def decide_obligation(
    s: RatificationState, command: ObligationCommand, profile: TreatyProfile, today: date
) -> list[DomainEvent]:
    """The events of a command on the State's obligations, or :class:`DomainError`.

    - stockpiles / contamination declared: once, by a State for which the treaty is in
      force; opens stockpile destruction (CCM Art. 3(2): 8 years after entry into force;
      APMBC Art. 4: 4 years) / clearance (CCM Art. 4(1)(a): 10 years);
    - extension request: on an open obligation, one at a time, within the treaty's limits
      (:func:`domain.obligations.check_extension_request`: CCM Art. 3(3)-(5), 4(5)-(8));
    - extension decision: by the Meeting the request is before, during it; granted
      (to the date requested), a shorter period, or refused, by a majority of those
      present and voting; a granted extension moves the deadline (the old one stays);
    - report received / compliance declared: on an open obligation of that kind;
    - withdrawal: by a State that deposited its instrument, once (CCM Art. 20);
      armed conflict and its end recorded (Art. 20(3)).
    """
    name = s.state
    match command:
        case DeclareStockpiles(declared_on=day) | DeclareContamination(declared_on=day):
            stock = isinstance(command, DeclareStockpiles)
            what = "stockpile declaration" if stock else "contamination declaration"
            in_force_on = _in_force_for(s, profile, what)
            already = s.stockpiles_declared_on if stock else s.contamination_declared_on
            if already is not None:
                raise _refuse(f"{name} already declared this on {already.isoformat()}")
            _check_day("declaration date", day, today, s.consented_on, f"{name}'s deposit")
            o = (ob.stockpile_destruction if stock else ob.clearance)(profile, in_force_on)
            declared: DomainEvent = (
                StockpilesDeclared(occurred_on=day, state=name)
                if stock
                else ContaminationDeclared(occurred_on=day, state=name)
            )
            return [declared, _opened(s, o, day, today)]

        case RequestExtension() as c:
            o = _obligation(s, c.key, "extend")
            if o.request is not None:
                raise _refuse(
                    f"{name}'s request to extend {o.key} to {o.request.requested_until} is "
                    f"still before the {o.request.meeting}: record its decision first"
                )
            _check_not_future("request date", c.filed_on, today)
            ob.check_extension_request(
                profile, o, c.requested_until, c.meeting, c.filed_on, c.exceptional_circumstances
            )
            rule = ob._rule_for(profile, o)
            assert rule is not None and rule.extension is not None
            return [
                ExtensionRequested(
                    occurred_on=c.filed_on,
                    state=name,
                    key=o.key,
                    requested_until=c.requested_until,
                    deadline_in_force=o.due_on,
                    meeting=c.meeting.name,
                    meeting_opens_on=c.meeting.opens_on,
                    article=rule.extension.article,
                    exceptional_circumstances=c.exceptional_circumstances,
                )
            ]

        case DecideExtension() as c:
            o = _obligation(s, c.key, "decide an extension of")
            pending = o.request
            if pending is None:
                raise _refuse(
                    f"{name} has no extension request on {o.key} before a Meeting: record "
                    "the request first (treaty ratification extension-request)"
                )
            if pending.meeting.lower() != c.meeting.name.lower():
                raise _refuse(
                    f"{name}'s request on {o.key} is before the {pending.meeting}, not the "
                    f"{c.meeting.name}"
                )
            day = c.decided_on or c.meeting.closes_on
            if not c.meeting.opens_on <= day <= c.meeting.closes_on:
                raise _refuse(
                    f"the {c.meeting.name} met from {c.meeting.opens_on} to "
                    f"{c.meeting.closes_on}: a decision dated {day} was not taken there"
                )
            _check_not_future("decision date", day, today)
            rule = ob._rule_for(profile, o)
            decided_by = (
                rule.extension.decision_article
                if rule is not None and rule.extension is not None
                else profile.decisions.article
            )
            _check_votes(c, c.granted_until is not None, decided_by)
            if c.granted_until is None:
                outcome: Literal["granted", "granted_shorter", "refused"] = "refused"
            else:
                ob.grant_extension(profile, o, pending.requested_until, c.granted_until, c.meeting)
                shorter = c.granted_until < pending.requested_until
                outcome = "granted_shorter" if shorter else "granted"
            return [
                ExtensionDecided(
                    occurred_on=day,
                    state=name,
                    key=o.key,
                    meeting=c.meeting.name,
                    outcome=outcome,
                    requested_until=pending.requested_until,
                    granted_until=c.granted_until,
                    votes_for=c.votes_for,
                    votes_against=c.votes_against,
                    abstentions=c.abstentions,
                    historical=c.granted_until is not None and c.granted_until < today,
                )
            ]

        case RecordReport() as c:
            o = _obligation(s, c.key, "report on")
            if o.kind not in ("initial_report", "annual_report"):
                raise _refuse(
                    f"{o.key} is met by a declaration of compliance, not a report "
                    "(treaty ratification compliance-declaration)"
                )
            if not c.channel.strip():
                raise _refuse("say by which channel the report was received (--channel)")
            _check_day("receipt date", c.received_on, today, s.consented_on, f"{name}'s deposit")
            _check_day("receipt date", c.received_on, today, o.opened_on, "the obligation")
            if o.covers is not None:
                period_ends = date.fromisoformat(o.covers.split("/")[-1])
                if c.received_on <= period_ends:
                    raise _refuse(
                        f"the receipt date {c.received_on.isoformat()} is not after the end of "
                        f"the period {o.key} covers ({o.covers}, {o.article}): a report on "
                        f"it can be received from {(period_ends + timedelta(days=1)).isoformat()}"
                    )
            return [
                ReportReceived(
                    occurred_on=c.received_on,
                    state=name,
                    key=o.key,
                    channel=c.channel.strip(),
                    document=c.document,
                )
            ]

        case DeclareCompliance() as c:
            o = _obligation(s, c.key, "declare compliance with")
            if o.kind not in ("stockpile_destruction", "clearance"):
                raise _refuse(
                    f"{o.key} is met by a report, not a declaration of compliance "
                    "(record the report received)"
                )
            if not c.channel.strip():
                raise _refuse("say by which channel the declaration was received (--channel)")
            _check_day("declaration date", c.declared_on, today, o.opened_on, "the obligation")
            return [
                ComplianceDeclared(
                    occurred_on=c.declared_on,
                    state=name,
                    key=o.key,
                    channel=c.channel.strip(),
                    document=c.document,
                )
            ]

        case Withdraw(received_on=day) as w:
            if s.consented_on is None:
                raise _refuse(
                    f"{name} is not a State Party to the {profile.code}: it deposited no "
                    "instrument of ratification or accession, so it has nothing to withdraw "
                    f"from ({profile.obligations.withdrawal.article})"
                )
            if s.withdrawal_received_on is not None:
                raise _refuse(
                    f"{name}'s instrument of withdrawal was already received on "
                    f"{s.withdrawal_received_on.isoformat()}"
                )
            _check_day("receipt date", day, today, s.consented_on, f"{name}'s deposit")
            rule = profile.obligations.withdrawal
            deposited = WithdrawalDeposited(
                occurred_on=day,
                state=name,
                takes_effect_on=rule.apply(day),
                article=rule.article,
                condition=(w.condition or "").strip() or None,
                stated_effective_on=w.stated_effective_on,
            )
            return [deposited, *_withdrawal_effect(evolve(s, deposited), profile, today)]

        case RecordArmedConflict() as c:
            if not profile.obligations.withdrawal_waits_for_armed_conflict:
                raise _refuse(
                    f"the {profile.code} has no armed-conflict clause on withdrawal "
                    f"({profile.obligations.withdrawal.article})"
                )
            if s.withdrawn_on is not None:
                raise _refuse(f"{name} withdrew on {s.withdrawn_on}: nothing depends on it now")
            if any(x.ended_on is None for x in s.conflicts):
                raise _refuse(f"{name} is already recorded as engaged in an armed conflict")
            if not c.description.strip():
                raise _refuse("describe the armed conflict and its source (--description)")
            _check_not_future("start date", c.since, today)
            events: list[DomainEvent] = [
                ArmedConflictRecorded(occurred_on=c.since, state=name, description=c.description)
            ]
            if c.ended_on is not None:
                _check_day("end date", c.ended_on, today, c.since, "its start")
                events.append(ArmedConflictEnded(occurred_on=c.ended_on, state=name))
            return [*events, *_withdrawal_effect(fold(s, events), profile, today)]

        case EndArmedConflict(ended_on=day):
            current = next((x for x in s.conflicts if x.ended_on is None), None)
            if current is None:
                raise _refuse(f"{name} is not recorded as engaged in an armed conflict")
            _check_day("end date", day, today, current.since, "its start")
            ended = ArmedConflictEnded(occurred_on=day, state=name)
            return [ended, *_withdrawal_effect(evolve(s, ended), profile, today)]

        case MarkDeadlines():
            return settle(s, profile, today)
    raise _refuse(f"unknown command {command!r}")  # pragma: no cover


def _evolve_obligation(s: RatificationState, event: DomainEvent) -> dict[str, object]:
    """The changes an obligation event makes to ``s``."""
    obs = dict(s.obligations)

    def put(key: str, **update: object) -> dict[str, object]:
        obs[key] = obs[key].model_copy(update=update)
        return {"obligations": obs}

    match event:
        case ObligationOpened() as e:
            obs[e.key] = Obligation(
                key=e.key,
                kind=e.kind,
                article=e.article,
                deadlines=(ob.Deadline(due_on=e.due_on, basis=e.article, historical=e.historical),),
                opened_on=e.occurred_on,
                covers=e.covers,
            )
            return {"obligations": obs}
        case ObligationDue(key=key) if key in obs:
            return put(key, marked="due")
        case ObligationOverdue(key=key) if key in obs:
            return put(key, marked="overdue")
        case ReportReceived() as e if e.key in obs:
            return put(e.key, met_on=e.occurred_on, channel=e.channel)
        case ComplianceDeclared() as e if e.key in obs:
            return put(e.key, met_on=e.occurred_on, channel=e.channel)
        case StockpilesDeclared(occurred_on=day):
            return {"stockpiles_declared_on": day}
        case ContaminationDeclared(occurred_on=day):
            return {"contamination_declared_on": day}
        case ExtensionRequested() as e if e.key in obs:
            request = ob.PendingRequest(
                requested_until=e.requested_until,
                meeting=e.meeting,
                meeting_opens_on=e.meeting_opens_on,
                filed_on=e.occurred_on,
                exceptional_circumstances=e.exceptional_circumstances,
            )
            return put(e.key, request=request)
        case ExtensionDecided() as e if e.key in obs:
            o = obs[e.key]
            if e.granted_until is None:
                return put(e.key, request=None)
            basis = f"extension granted by the {e.meeting} ({e.occurred_on})"
            deadline = ob.Deadline(due_on=e.granted_until, basis=basis, historical=e.historical)
            return put(
                e.key,
                request=None,
                deadlines=(*o.deadlines, deadline),
                extensions_granted=o.extensions_granted + 1,
                marked=None,
            )
        case WithdrawalDeposited() as e:
            return {
                "withdrawal_received_on": e.occurred_on,
                "withdrawal_period_ends_on": e.takes_effect_on,
            }
        case ArmedConflictRecorded() as e if e.occurred_on is not None:
            conflict = ArmedConflict(since=e.occurred_on, description=e.description)
            return {"conflicts": (*s.conflicts, conflict)}
        case ArmedConflictEnded(occurred_on=day):
            conflicts = tuple(
                c.model_copy(update={"ended_on": day}) if c.ended_on is None else c
                for c in s.conflicts
            )
            return {"conflicts": conflicts}
        case WithdrawalDeferred():
            return {"withdrawal_deferred": True}
        case WithdrawalTookEffect(occurred_on=day) if day is not None:
            for key, o in list(obs.items()):
                if o.opened_on is not None and o.opened_on > day:
                    # opened (recorded before the withdrawal was) on a date the treaty no
                    # longer bound the State (CCM Art. 20(3)): it never arose
                    del obs[key]
                elif o.is_open:
                    obs[key] = o.model_copy(update={"ended_on": day})
            return {"withdrawn_on": day, "obligations": obs}
    return {}


def evolve(s: RatificationState, event: DomainEvent) -> RatificationState:
    """``s`` after ``event`` (a new object; ``s`` is not changed)."""
    changes: dict[str, object] = {"version": s.version + 1}
    match event:
        case SignatureRecorded(occurred_on=day):
            changes.update(signed=True, signed_on=day)
        case DomesticProcedureCompleted(occurred_on=day):
            changes.update(domestic_procedure_completed_on=day)
        case InstrumentDeposited() as e:
            changes.update(
                instrument=e.instrument,
                consented_on=e.occurred_on,
                provisional_application=e.provisional_application,
                provisional_application_on=e.provisional_application_on,
                succession_on=e.succession_on,
                reservations=e.reservations,
            )
        case SignatureDateRecorded(occurred_on=day):
            changes.update(signed_on=day)
        case ProvisionalApplicationRecorded(occurred_on=day):
            changes.update(provisional_application=True, provisional_application_on=day)
        case SuccessionDateRecorded(occurred_on=day):
            changes.update(succession_on=day)
        case DepositaryNoteRecorded() as e:
            note = DepositaryNote(kind=e.kind, text=e.text, mark=e.mark)
            changes.update(notes=(*s.notes, note))
        case EntryIntoForceFixed() as e:
            changes.update(in_force_on=e.in_force_on, eif_article=e.article)
            if s.entered_into_force and s.in_force_on != e.in_force_on:
                changes.update(entered_into_force=False)
        case EnteredIntoForce():
            changes.update(entered_into_force=True)
        case _:
            changes.update(_evolve_obligation(s, event))
    return s.model_copy(update=changes)


def fold(s: RatificationState, events: list[DomainEvent]) -> RatificationState:
    """Fold ``events`` into ``s`` in order."""
    for event in events:
        s = evolve(s, event)
    return s
