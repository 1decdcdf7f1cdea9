"""The ratification process of one State for one treaty (``ratification:<CODE>:<ISO3>``).

signature -> domestic procedure completed -> instrument deposited (ratification,
acceptance, approval or accession) -> entry into force for that State.

``decide(state, command, profile, context, today)`` returns the events a command causes
or raises :class:`~domain.errors.DomainError` saying why it is refused and what would be
accepted; ``evolve(state, event)`` folds one event into the state. Both are pure.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.errors import DomainError
from domain.events import (
    DomainEvent,
    DomesticProcedureCompleted,
    EnteredIntoForce,
    EntryIntoForceFixed,
    InstrumentDeposited,
    SignatureRecorded,
)
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
    """Record the deposit of an instrument with the depositary.

    ``reservation``: text of a reservation made at deposit, if any;
    ``provisional_application``: the State declares provisional application at deposit.
    """

    kind: Literal["deposit"] = "deposit"
    instrument: Instrument
    deposited_on: date
    provisional_application: bool = False
    reservation: str | None = None


class ApplyTreatyContext(BaseModel):
    """Internal: the treaty process told us its entry-into-force date."""

    kind: Literal["treaty_context"] = "treaty_context"
    context: TreatyContext


class MarkEnteredIntoForce(BaseModel):
    """Internal: the entry-into-force date has been reached (timer fired or date past)."""

    kind: Literal["entered_into_force"] = "entered_into_force"


Command = Sign | CompleteDomesticProcedure | Deposit | ApplyTreatyContext | MarkEnteredIntoForce


# --- state -------------------------------------------------------------------------------


class RatificationState(BaseModel):
    """The state of one State's ratification process.

    ``consented_on``: deposit date (consent to be bound); ``in_force_on``: the date the
    treaty enters (or entered) into force for the State; ``version``: number of events
    folded (the stream version).
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
    reservations: tuple[str, ...] = ()
    in_force_on: date | None = None
    eif_article: str | None = None
    entered_into_force: bool = False

    def status(self, as_of: date | None = None) -> str:
        """One word for a table: ``in force``, ``consented``, ``signatory`` or ``none``.

        With ``as_of``, the status on that date (facts dated later are ignored; a fact
        with an unknown date counts as known).
        """
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


def check_command(command: Command, profile: TreatyProfile, today: date) -> None:
    """The checks of a staff command that need no state: dates not in the future nor
    before the treaty was opened for signature, no reservation where the profile forbids
    them (CCM Art. 19), provisional application only where there is such a clause (CCM
    Art. 18). Raises :class:`DomainError`. :func:`decide` runs them too; the CLI runs them
    first so such a refusal needs no server.
    """
    match command:
        case Sign(signed_on=signed_on) if signed_on is not None:
            _check_not_future("signature date", signed_on, today)
            _check_open(profile, "signature date", signed_on)
        case CompleteDomesticProcedure(completed_on=completed_on):
            _check_not_future("completion date", completed_on, today)
            _check_open(profile, "completion date", completed_on)
        case Deposit() as d:
            profile.check_instrument(d.instrument)
            _check_not_future("deposit date", d.deposited_on, today)
            _check_open(profile, "deposit date", d.deposited_on)
            if d.reservation and not profile.reservations_allowed:
                raise _refuse(
                    f"the {profile.code} admits no reservations ({profile.reservations_article}); "
                    "record the deposit without one (a declaration is not a reservation)"
                )
            if d.provisional_application and profile.provisional_application is None:
                raise _refuse(f"the {profile.code} has no provisional-application clause")


def _eif_events(
    s: RatificationState, profile: TreatyProfile, context: TreatyContext, deposited_on: date
) -> list[DomainEvent]:
    if context.in_force_on is None or context.basis is None:
        return []
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
    - entry into force for the State: CCM Art. 17(1)/(2), see
      :meth:`TreatyProfile.state_entry_into_force`.
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
                provisional_application=d.provisional_application,
                reservations=(d.reservation,) if d.reservation else (),
            )
            return [deposited, *_eif_events(s, profile, context, d.deposited_on)]

        case ApplyTreatyContext(context=new_context):
            if s.consented_on is None:
                return []
            return _eif_events(s, profile, new_context, s.consented_on)

        case MarkEnteredIntoForce():
            if s.entered_into_force or s.in_force_on is None or s.in_force_on > today:
                return []
            return [
                EnteredIntoForce(
                    occurred_on=s.in_force_on, state=name, historical=s.in_force_on < today
                )
            ]
    raise _refuse(f"unknown command {command!r}")  # pragma: no cover


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
                reservations=e.reservations,
            )
        case EntryIntoForceFixed() as e:
            changes.update(in_force_on=e.in_force_on, eif_article=e.article)
            if s.entered_into_force and s.in_force_on != e.in_force_on:
                changes.update(entered_into_force=False)
        case EnteredIntoForce():
            changes.update(entered_into_force=True)
    return s.model_copy(update=changes)


def fold(s: RatificationState, events: list[DomainEvent]) -> RatificationState:
    """Fold ``events`` into ``s`` in order."""
    for event in events:
        s = evolve(s, event)
    return s
