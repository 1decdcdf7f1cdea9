"""The treaty's own process (``treaty:<CODE>``): counting deposits to entry into force.

It counts the instruments deposited; when ``profile.eif_threshold`` of them are deposited
it fixes the treaty's entry-into-force date (CCM Art. 17(1): the first day of the sixth
month after the month of the 30th deposit). The depositary's own statement of that date
can be recorded as a fact; it then prevails, and a record of deposits that disagrees with
it (e.g. an import with missing rows) is reported as a discrepancy, not used to compute a
wrong date. Pure: ``decide`` / ``evolve`` as in :mod:`domain.ratification`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel

from domain.errors import DomainError
from domain.events import (
    DepositaryStatementRecorded,
    DepositCounted,
    DomainEvent,
    EntryIntoForceDiscrepancyNoted,
    EntryIntoForceDiscrepancyResolved,
    MeetingRecorded,
    TreatyEnteredIntoForce,
    TreatyEntryIntoForceFixed,
)
from domain.obligations import (
    Meeting,
    RequiredMeeting,
    check_meeting,
    overlapping_meeting,
    required_meetings,
)
from domain.ratification import TreatyContext
from domain.treaties import TreatyProfile


class CountDeposit(BaseModel):
    """A ratification process reports the deposit of ``state`` on ``deposited_on``."""

    kind: Literal["count_deposit"] = "count_deposit"
    state: str
    deposited_on: date


class RecordDepositaryStatement(BaseModel):
    """Record the depositary's statement that the treaty enters into force on ``in_force_on``.

    ``threshold_deposited_on``: date of the threshold deposit if the statement gives it;
    ``statement``: its words and source (e.g. the UNTC entry); ``correction``: replaces a
    statement recorded earlier (both stay in the history).
    """

    kind: Literal["depositary_statement"] = "depositary_statement"
    in_force_on: date
    threshold_deposited_on: date | None = None
    statement: str
    correction: bool = False


class MarkTreatyEnteredIntoForce(BaseModel):
    """Internal: the treaty's entry-into-force date has been reached."""

    kind: Literal["treaty_entered_into_force"] = "treaty_entered_into_force"


class RecordMeetings(BaseModel):
    """Record Meetings of States Parties / Review Conferences held or convened (e.g. the
    rows of ``ccm_meetings.csv``); ``source``: where the table comes from. A Meeting
    already recorded with the same dates and city is skipped (idempotent); one with other
    data is corrected only with ``correction``."""

    kind: Literal["meetings"] = "meetings"
    meetings: list[Meeting]
    source: str | None = None
    correction: bool = False


TreatyCommand = (
    CountDeposit | RecordDepositaryStatement | MarkTreatyEnteredIntoForce | RecordMeetings
)


class TreatyState(BaseModel):
    """State of the treaty process.

    ``deposits``: ISO3 -> deposit date; ``in_force_on``/``basis``: the fixed date and where
    it comes from; ``discrepancy_computed_on``: the date the record of deposits gives while
    it disagrees with the depositary (None when in agreement or not declared).
    """

    treaty: str
    version: int = 0
    deposits: dict[str, date] = {}
    declared_on: date | None = None
    declared_threshold_on: date | None = None
    statement: str | None = None
    in_force_on: date | None = None
    threshold_deposited_on: date | None = None
    basis: Literal["computed", "depositary"] | None = None
    discrepancy: bool = False
    discrepancy_computed_on: date | None = None
    entered_into_force: bool = False
    meetings: dict[str, Meeting] = {}

    def required_meetings(self, profile: TreatyProfile) -> list[RequiredMeeting]:
        """The Meetings the treaty requires from its entry into force (CCM Art. 11(2),
        12(1)); empty while that date is not fixed."""
        if self.in_force_on is None:
            return []
        return required_meetings(profile, self.in_force_on)

    def context(self) -> TreatyContext:
        """What ratification processes need to know (see :class:`TreatyContext`)."""
        return TreatyContext(
            in_force_on=self.in_force_on,
            threshold_deposited_on=self.threshold_deposited_on,
            basis=self.basis,
        )


def initial_state(treaty: str) -> TreatyState:
    """The treaty process before any event."""
    return TreatyState(treaty=treaty)


def threshold_deposit(deposits: dict[str, date], threshold: int) -> date | None:
    """Date of the ``threshold``-th deposit in date order (None if fewer deposits)."""
    if len(deposits) < threshold:
        return None
    return sorted(deposits.values())[threshold - 1]


@dataclass(frozen=True)
class ThresholdDay:
    """The day of the ``threshold``-th deposit (``on``) and every State that deposited
    that day (``states``, sorted). The record gives dates, not times, so the instruments of
    one day hold positions ``first`` to ``last`` in date order, in no order among
    themselves."""

    on: date
    first: int
    last: int
    states: tuple[str, ...]


def threshold_day(deposits: dict[str, date], threshold: int) -> ThresholdDay | None:
    """The day of the ``threshold``-th deposit in date order (:class:`ThresholdDay`), or
    None with fewer deposits."""
    on = threshold_deposit(deposits, threshold)
    if on is None:
        return None
    before = sum(1 for d in deposits.values() if d < on)
    states = tuple(sorted(s for s, d in deposits.items() if d == on))
    return ThresholdDay(on=on, first=before + 1, last=before + len(states), states=states)


def computed_entry_into_force(
    deposits: dict[str, date], profile: TreatyProfile
) -> tuple[date, date] | None:
    """``(in_force_on, threshold_deposited_on)`` from the record of deposits, or None.

    CCM Art. 17(1) / APMBC Art. 17(1) / ATT Art. 22(1) via ``profile.treaty_eif``.
    """
    threshold_on = threshold_deposit(deposits, profile.eif_threshold)
    if threshold_on is None:
        return None
    return profile.treaty_eif.apply(threshold_on), threshold_on


def _deposits_in_time(deposits: dict[str, date], profile: TreatyProfile, declared: date) -> int:
    return sum(1 for d in deposits.values() if profile.treaty_eif.apply(d) <= declared)


def _reconcile(
    s: TreatyState, profile: TreatyProfile, deposits: dict[str, date], day: date | None
) -> list[DomainEvent]:
    """Events that keep the fixed date and the discrepancy flag true to ``deposits``."""
    computed = computed_entry_into_force(deposits, profile)
    events: list[DomainEvent] = []
    if s.declared_on is None:
        if computed is not None and (computed[0], computed[1]) != (
            s.in_force_on,
            s.threshold_deposited_on,
        ):
            events.append(
                TreatyEntryIntoForceFixed(
                    occurred_on=computed[1],
                    in_force_on=computed[0],
                    threshold_deposited_on=computed[1],
                    article=profile.treaty_eif.article,
                    basis="computed",
                )
            )
        return events
    if computed is None:
        return events  # the record has not reached the threshold: incomplete, not contrary
    computed_on = computed[0]
    if computed_on == s.declared_on:
        if s.discrepancy:
            events.append(
                EntryIntoForceDiscrepancyResolved(occurred_on=day, declared_on=s.declared_on)
            )
    elif not s.discrepancy or computed_on != s.discrepancy_computed_on:
        events.append(
            EntryIntoForceDiscrepancyNoted(
                occurred_on=day,
                declared_on=s.declared_on,
                computed_on=computed_on,
                deposits_in_time=_deposits_in_time(deposits, profile, s.declared_on),
                threshold=profile.eif_threshold,
            )
        )
    return events


def _check_statement(c: RecordDepositaryStatement, profile: TreatyProfile, today: date) -> None:
    """The dates of a depositary's statement must be possible under the treaty's rules."""
    opened = profile.opened_for_signature_on
    if not c.statement.strip():
        raise DomainError("the depositary's statement needs its words and source (--statement)")
    if c.threshold_deposited_on is not None:
        if not opened <= c.threshold_deposited_on <= today:
            raise DomainError(
                f"threshold deposit date {c.threshold_deposited_on.isoformat()} must lie between "
                f"the opening for signature ({opened.isoformat()}) and today ({today.isoformat()})"
            )
        expected = profile.treaty_eif.apply(c.threshold_deposited_on)
        if expected != c.in_force_on:
            raise DomainError(
                f"a threshold deposit on {c.threshold_deposited_on.isoformat()} gives "
                f"entry into force on {expected.isoformat()} "
                f"({profile.treaty_eif.article}), not {c.in_force_on.isoformat()}"
            )
        return
    earliest = profile.treaty_eif.apply(opened)
    latest = profile.treaty_eif.apply(today)
    if not earliest <= c.in_force_on <= latest:
        raise DomainError(
            f"entry into force on {c.in_force_on.isoformat()} is impossible under "
            f"{profile.treaty_eif.article}: with the threshold deposit between "
            f"{opened.isoformat()} and today it lies between {earliest.isoformat()} and "
            f"{latest.isoformat()}"
        )


def _meeting_events(
    s: TreatyState, c: RecordMeetings, profile: TreatyProfile, today: date
) -> list[DomainEvent]:
    """MeetingRecorded for each new (or, with ``correction``, changed) Meeting; the whole
    command is refused (:class:`DomainError`) if one Meeting fails
    :func:`domain.obligations.check_meeting` or overlaps another (given or recorded)."""
    events: list[DomainEvent] = []
    seen: set[str] = set()
    for m in c.meetings:
        key = m.name.strip().upper()
        if not key:
            raise DomainError("a Meeting needs its name (e.g. 2MSP)")
        if key in seen:
            raise DomainError(f"{m.name} is given twice")
        seen.add(key)
        check_meeting(profile, m)
    given = {m.name.strip().upper(): m for m in c.meetings}
    after = [*given.values(), *(m for k, m in s.meetings.items() if k not in given)]
    for m in c.meetings:
        key = m.name.strip().upper()
        other = overlapping_meeting(m, after)
        if other is not None:
            raise DomainError(
                f"{m.name.strip()} ({m.opens_on} to {m.closes_on}) overlaps {other.name} "
                f"({other.opens_on} to {other.closes_on}); two Meetings cannot be held at once"
            )
        known = s.meetings.get(key)
        if known is not None:
            if known == m:
                continue
            if not c.correction:
                raise DomainError(
                    f"{m.name} is already recorded ({known.opens_on} to {known.closes_on}, "
                    f"{known.city}); to change it, record it as a correction"
                )
        events.append(
            MeetingRecorded(
                occurred_on=m.opens_on,
                name=m.name.strip(),
                kind=m.kind,
                opens_on=m.opens_on,
                closes_on=m.closes_on,
                city=m.city,
                source=c.source,
            )
        )
    return events


def decide(
    s: TreatyState, command: TreatyCommand, profile: TreatyProfile, today: date
) -> list[DomainEvent]:
    """The events ``command`` causes, or :class:`DomainError` if refused.

    - a deposit already counted with the same date is ignored (idempotent); with another
      date it is refused (a State deposits one instrument);
    - the depositary's statement is recorded once, or corrected explicitly; its dates must
      be possible (threshold deposit between the opening for signature and today) and its
      date must follow from its threshold date by the profile's rule (CCM Art. 17(1)).
    """
    match command:
        case CountDeposit(state=state, deposited_on=deposited_on):
            known = s.deposits.get(state)
            if known == deposited_on:
                return []
            if known is not None:
                raise DomainError(
                    f"{state}'s deposit is already counted on {known.isoformat()}, "
                    f"not {deposited_on.isoformat()}"
                )
            deposits = {**s.deposits, state: deposited_on}
            counted = DepositCounted(occurred_on=deposited_on, state=state, count=len(deposits))
            return [counted, *_reconcile(s, profile, deposits, deposited_on)]

        case RecordDepositaryStatement() as c:
            _check_statement(c, profile, today)
            if s.declared_on is not None:
                same = (c.in_force_on, c.threshold_deposited_on) == (
                    s.declared_on,
                    s.declared_threshold_on,
                )
                if same and c.statement == s.statement:
                    return []
                if not c.correction:
                    raise DomainError(
                        f"the depositary's statement is already recorded (in force on "
                        f"{s.declared_on.isoformat()}: {s.statement}); to correct it, record "
                        "the new statement as a correction (--correct), with its source"
                    )
            elif c.correction:
                raise DomainError("there is no depositary's statement to correct yet")
            recorded = DepositaryStatementRecorded(
                occurred_on=c.threshold_deposited_on,
                in_force_on=c.in_force_on,
                threshold_deposited_on=c.threshold_deposited_on,
                statement=c.statement,
                corrects=s.declared_on if c.correction else None,
            )
            fixed = TreatyEntryIntoForceFixed(
                occurred_on=c.threshold_deposited_on,
                in_force_on=c.in_force_on,
                threshold_deposited_on=c.threshold_deposited_on,
                article=profile.treaty_eif.article,
                basis="depositary",
            )
            events: list[DomainEvent] = [recorded]
            if (c.in_force_on, c.threshold_deposited_on, "depositary") != (
                s.in_force_on,
                s.threshold_deposited_on,
                s.basis,
            ):
                events.append(fixed)
            after = s
            for event in events:
                after = evolve(after, event)
            return [*events, *_reconcile(after, profile, s.deposits, today)]

        case RecordMeetings() as c:
            return _meeting_events(s, c, profile, today)

        case MarkTreatyEnteredIntoForce():
            if s.entered_into_force or s.in_force_on is None or s.in_force_on > today:
                return []
            return [
                TreatyEnteredIntoForce(occurred_on=s.in_force_on, historical=s.in_force_on < today)
            ]
    raise DomainError(f"unknown command {command!r}")  # pragma: no cover


def count_deposits(
    s: TreatyState, deposits: Iterable[CountDeposit], profile: TreatyProfile, today: date
) -> tuple[list[DomainEvent], list[tuple[CountDeposit, str]]]:
    """The events of counting ``deposits`` one after the other in the order given (an
    import gives them in date order: CCM Art. 17(1) counts instruments by date), as one
    :func:`decide` of each :class:`CountDeposit` on the state the previous ones left.

    Returns ``(events, refused)``: the events of every count, and each refused count with
    the reason (its State's deposit is already counted on another date); a refused count
    leaves the others counted.
    """
    events: list[DomainEvent] = []
    refused: list[tuple[CountDeposit, str]] = []
    for command in deposits:
        try:
            counted = decide(s, command, profile, today)
        except DomainError as err:
            refused.append((command, str(err)))
            continue
        s = fold(s, counted)
        events += counted
    return events, refused


def evolve(s: TreatyState, event: DomainEvent) -> TreatyState:
    """``s`` after ``event`` (a new object)."""
    changes: dict[str, object] = {"version": s.version + 1}
    match event:
        case DepositCounted(state=state, occurred_on=day) if day is not None:
            changes["deposits"] = {**s.deposits, state: day}
        case DepositaryStatementRecorded() as e:
            changes.update(
                declared_on=e.in_force_on,
                declared_threshold_on=e.threshold_deposited_on,
                statement=e.statement,
            )
        case TreatyEntryIntoForceFixed() as e:
            changes.update(
                in_force_on=e.in_force_on,
                threshold_deposited_on=e.threshold_deposited_on,
                basis=e.basis,
            )
            if s.entered_into_force and s.in_force_on != e.in_force_on:
                changes["entered_into_force"] = False
        case EntryIntoForceDiscrepancyNoted() as e:
            changes.update(discrepancy=True, discrepancy_computed_on=e.computed_on)
        case EntryIntoForceDiscrepancyResolved():
            changes.update(discrepancy=False, discrepancy_computed_on=None)
        case TreatyEnteredIntoForce():
            changes["entered_into_force"] = True
        case MeetingRecorded() as e:
            meeting = Meeting(
                name=e.name, kind=e.kind, opens_on=e.opens_on, closes_on=e.closes_on, city=e.city
            )
            changes["meetings"] = {**s.meetings, e.name.upper(): meeting}
    return s.model_copy(update=changes)


def fold(s: TreatyState, events: Iterable[DomainEvent]) -> TreatyState:
    """``s`` after ``events`` in order: the state :func:`evolve` gives event by event, equal
    field by field (and in the fields set), built without a copy of the state and of its
    map of deposits for every :class:`DepositCounted` (a treaty's stream is mostly those).

    A run of deposits is counted in one working copy of the map that no state shares, and
    becomes the state's once, with the version, before the next other event (which goes
    through :func:`evolve`) or at the end. ``s`` and every state it shares a map with are
    left as they were. ``treaty audit timeline``, which shows each event's before and after,
    goes through :func:`evolve`; ``tests/unit/test_fold_equivalence.py`` checks the two agree.
    """
    version = s.version
    deposits: dict[str, date] | None = None  # the working copy, while a run is counted
    for event in events:
        if isinstance(event, DepositCounted):  # evolve's first case, in place
            version += 1
            if event.occurred_on is not None:
                if deposits is None:
                    deposits = dict(s.deposits)
                deposits[event.state] = event.occurred_on
            continue
        if version != s.version:
            s = _counted(s, version, deposits)
            deposits = None
        s = evolve(s, event)
        version = s.version
    if version != s.version:
        s = _counted(s, version, deposits)
    return s


def _counted(s: TreatyState, version: int, deposits: dict[str, date] | None) -> TreatyState:
    """``s`` after a run of :class:`DepositCounted` that ends at ``version`` (``deposits``:
    the map after it, None if none of them had a date), as :func:`evolve` leaves it."""
    changes: dict[str, object] = {"version": version}
    if deposits is not None:
        changes["deposits"] = deposits
    return s.model_copy(update=changes)
