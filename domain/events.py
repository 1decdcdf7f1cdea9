"""Domain events: what happened in a treaty process, as pydantic models.

Every event carries ``type`` (its discriminator) and ``occurred_on``: the business date
on which the fact happened (ISO 8601 date, e.g. the deposit date), ``None`` when the
source does not give it. The time an event was recorded lives in the event store.
``Event`` is the discriminated union of all of them; :data:`EVENT_ADAPTER` validates
and serialises it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from domain.treaties import Instrument


class DomainEvent(BaseModel):
    """Base of every event: immutable, with its business date."""

    model_config = ConfigDict(frozen=True)

    occurred_on: date | None


# --- ratification:<CODE>:<ISO3> ------------------------------------------------------


class SignatureRecorded(DomainEvent):
    """The State signed the treaty (``occurred_on`` None: date not given by the source)."""

    type: Literal["SignatureRecorded"] = "SignatureRecorded"
    state: str


class DomesticProcedureCompleted(DomainEvent):
    """The State completed its domestic procedure for consenting to be bound."""

    type: Literal["DomesticProcedureCompleted"] = "DomesticProcedureCompleted"
    state: str


class InstrumentDeposited(DomainEvent):
    """The State deposited its instrument with the depositary (``occurred_on``: deposit date).

    From this date the State has consented to be bound (``consented_on``); the CMC and the
    Monitor count it as a "State Party" from here, though the treaty is in force for it
    only from its entry-into-force date.
    """

    type: Literal["InstrumentDeposited"] = "InstrumentDeposited"
    state: str
    instrument: Instrument
    provisional_application: bool = False
    reservations: tuple[str, ...] = ()


class EntryIntoForceFixed(DomainEvent):
    """The date on which the treaty enters into force for the State is now fixed.

    ``article`` is the rule applied (e.g. ``CCM Art. 17(2)``); ``treaty_in_force_on`` the
    treaty's own entry-into-force date it rests on, and ``basis`` whether that date was
    computed from the deposits or stated by the depositary. A later event of this type
    supersedes an earlier one (correction), and both stay in the history.
    """

    type: Literal["EntryIntoForceFixed"] = "EntryIntoForceFixed"
    state: str
    in_force_on: date
    article: str
    treaty_in_force_on: date
    basis: Literal["computed", "depositary"]


class EnteredIntoForce(DomainEvent):
    """The treaty entered into force for the State (``occurred_on`` = that date).

    ``historical`` is true when the date was already past when it was recorded (import of
    the historical record): no timer fired for it. If the date is later corrected (a new
    :class:`EntryIntoForceFixed`), a new event of this type follows for the corrected date;
    the latest one holds.
    """

    type: Literal["EnteredIntoForce"] = "EnteredIntoForce"
    state: str
    historical: bool


# --- treaty:<CODE> ---------------------------------------------------------------------


class DepositCounted(DomainEvent):
    """The treaty process counted a State's deposit.

    ``count``: deposits counted so far, in the order they were recorded (an import of the
    historical record may count a deposit after later-dated ones; the threshold is always
    taken by deposit date).
    """

    type: Literal["DepositCounted"] = "DepositCounted"
    state: str
    count: int


class DepositaryStatementRecorded(DomainEvent):
    """The depositary's statement of the treaty's entry into force, recorded as a fact.

    ``in_force_on``: the date stated; ``threshold_deposited_on``: the date of the deposit
    that reached the threshold, if the statement gives it; ``statement``: its words;
    ``corrects``: the date of the statement it corrects, if it is a correction.
    """

    type: Literal["DepositaryStatementRecorded"] = "DepositaryStatementRecorded"
    in_force_on: date
    threshold_deposited_on: date | None = None
    statement: str
    corrects: date | None = None


class TreatyEntryIntoForceFixed(DomainEvent):
    """The treaty's own entry-into-force date is fixed (or corrected).

    ``basis``: ``computed`` from the record of deposits (the threshold-th deposit by date)
    or ``depositary`` (its statement prevails over an incomplete record).
    """

    type: Literal["TreatyEntryIntoForceFixed"] = "TreatyEntryIntoForceFixed"
    in_force_on: date
    threshold_deposited_on: date | None
    article: str
    basis: Literal["computed", "depositary"]


class EntryIntoForceDiscrepancyNoted(DomainEvent):
    """The record of deposits disagrees with the depositary's entry-into-force date.

    ``computed_on``: the date the recorded deposits would give (None: the threshold is not
    reached in the record); ``deposits_in_time``: recorded deposits that would count for
    the stated date. The depositary's date is kept.
    """

    type: Literal["EntryIntoForceDiscrepancyNoted"] = "EntryIntoForceDiscrepancyNoted"
    declared_on: date
    computed_on: date | None
    deposits_in_time: int
    threshold: int


class EntryIntoForceDiscrepancyResolved(DomainEvent):
    """The record of deposits now gives the depositary's date."""

    type: Literal["EntryIntoForceDiscrepancyResolved"] = "EntryIntoForceDiscrepancyResolved"
    declared_on: date


class TreatyEnteredIntoForce(DomainEvent):
    """The treaty itself entered into force (``historical`` as for :class:`EnteredIntoForce`)."""

    type: Literal["TreatyEnteredIntoForce"] = "TreatyEnteredIntoForce"
    historical: bool


Event = Annotated[
    SignatureRecorded
    | DomesticProcedureCompleted
    | InstrumentDeposited
    | EntryIntoForceFixed
    | EnteredIntoForce
    | DepositCounted
    | DepositaryStatementRecorded
    | TreatyEntryIntoForceFixed
    | EntryIntoForceDiscrepancyNoted
    | EntryIntoForceDiscrepancyResolved
    | TreatyEnteredIntoForce,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_data(event: DomainEvent) -> dict[str, object]:
    """The JSON-ready payload of ``event`` (dates as ISO strings), without ``type``."""
    data = event.model_dump(mode="json")
    data.pop("type", None)
    return data


def event_from_record(event_type: str, data: dict[str, object]) -> Event:
    """Rebuild an event from its stored type and payload (inverse of :func:`event_data`)."""
    return EVENT_ADAPTER.validate_python({**data, "type": event_type})
