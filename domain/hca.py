"""The host-country agreement for a meeting (``hca:<CODE>:<meeting>``), e.g. the agreement
between Lebanon and the United Nations (UNODA) for the 2MSP in Beirut. Pure: no clock.

The meeting (dates, city, venue), the host State and the counterpart; milestones
(:data:`MILESTONES`: draft received, negotiation rounds, text agreed, signed, in force),
each due a configurable number of days before the meeting opens (:data:`DEFAULT_MARGINS`,
a planning default, not a rule of the treaty); a milestone not reached by its due date is
escalated to the Presidency (a recorded event); the preparations (venue, focal point,
task force, funding needs and pledges with amount and currency). When the meeting moves,
every due date moves with its opening.

A due date already past when the agreement is recorded (whatever the recording date:
an import of the 2011 record, or a past meeting opened today) is marked ``historical``
and never escalated; a due date that a move made late is escalated at once. A milestone
is escalated the day after its due date (``escalated_on``: the day it was escalated).
Margins are 0 to :data:`MAX_MARGIN_DAYS` days and keep the milestones' due dates in
their order (a later milestone's margin is not larger than an earlier one's).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field

from domain.errors import DomainError
from domain.events import (
    DomainEvent,
    HcaMeetingMoved,
    HcaMilestoneDue,
    HcaMilestoneEscalated,
    HcaMilestoneReached,
    HcaPreparationRecorded,
    HostCountryAgreementOpened,
)
from domain.states import resolve_participant, resolve_state

MILESTONES: tuple[str, ...] = (
    "draft-received",
    "negotiations",
    "text-agreed",
    "signed",
    "in-force",
)
"""The milestones in the order they are reached (``negotiations``: the first negotiation
round; more rounds are recorded as they are held)."""

DEFAULT_MARGINS: dict[str, int] = {
    "draft-received": 180,
    "negotiations": 150,
    "text-agreed": 90,
    "signed": 60,
    "in-force": 30,
}
"""Days before the meeting opens by which each milestone is due (planning defaults;
``treaty hca open --margin KEY=DAYS`` sets others)."""

MAX_MARGIN_DAYS = 730
"""The largest margin accepted (two years before the opening)."""

PREPARATIONS: tuple[str, ...] = (
    "venue",
    "focal_point",
    "task_force",
    "funding_need",
    "funding_pledge",
)


# --- commands ------------------------------------------------------------------------------


class OpenAgreement(BaseModel):
    """Open the process for ``meeting``: its dates, city, venue, host State (name or
    code), counterpart and the Presidency escalations go to (default: the host State's)."""

    kind: Literal["open"] = "open"
    meeting: str
    opens_on: date
    closes_on: date
    city: str | None = None
    venue: str | None = None
    host: str
    counterpart: str = "UNODA"
    presidency: str | None = None
    margins: dict[str, int] = {}
    opened_on: date


class ReachMilestone(BaseModel):
    """``milestone`` reached on ``reached_on`` (``negotiations``: one round held)."""

    kind: Literal["milestone"] = "milestone"
    milestone: str
    reached_on: date
    note: str | None = None


class MoveMeeting(BaseModel):
    """The meeting now opens on ``opens_on`` and closes on ``closes_on`` (decided on
    ``decided_on``)."""

    kind: Literal["move"] = "move"
    opens_on: date
    closes_on: date
    decided_on: date


class RecordPreparation(BaseModel):
    """A preparation: ``item`` (:data:`PREPARATIONS`) with its ``detail``; a pledge has
    ``donor``, ``amount`` (a decimal number) and ``currency`` (ISO 4217)."""

    kind: Literal["preparation"] = "preparation"
    item: str
    detail: str
    recorded_on: date
    donor: str | None = None
    amount: str | None = None
    currency: str | None = None


class Tick(BaseModel):
    """Internal: a day came; escalate the milestones now late."""

    kind: Literal["tick"] = "tick"


Command = Annotated[
    OpenAgreement | ReachMilestone | MoveMeeting | RecordPreparation | Tick,
    Field(discriminator="kind"),
]


# --- state ---------------------------------------------------------------------------------


class Milestone(BaseModel):
    """One milestone: its due date (and whether it was ``historical``), when reached, the
    negotiation rounds held (dates), the due dates escalated."""

    model_config = ConfigDict(frozen=True)

    milestone: str
    due_on: date
    historical: bool = False
    reached_on: date | None = None
    rounds: tuple[date | None, ...] = ()
    escalated: tuple[date, ...] = ()
    escalated_on: tuple[date, ...] = ()

    def status(self, today: date) -> str:
        if self.reached_on is not None:
            return "reached"
        if self.due_on in self.escalated:
            return "late (escalated)"
        return "late" if today > self.due_on else "due"


class Preparation(BaseModel):
    model_config = ConfigDict(frozen=True)

    item: str
    detail: str
    recorded_on: date | None
    donor: str | None = None
    amount: str | None = None
    currency: str | None = None


class AgreementState(BaseModel):
    """The state of one host-country agreement process (``opened_with``: the meeting's
    dates when the process was opened; ``moves``: the dates it was moved to, in order)."""

    treaty: str
    meeting: str
    version: int = 0
    opened: bool = False
    opens_on: date | None = None
    closes_on: date | None = None
    city: str | None = None
    venue: str | None = None
    host: str | None = None
    counterpart: str | None = None
    presidency: str | None = None
    margins: dict[str, int] = {}
    milestones: dict[str, Milestone] = {}
    preparations: list[Preparation] = []
    moves: list[tuple[date, date]] = []
    opened_with: tuple[date, date] | None = None
    opened_city: str | None = None
    opened_venue: str | None = None


def initial_state(treaty: str, meeting: str) -> AgreementState:
    """Before any event."""
    return AgreementState(treaty=treaty, meeting=meeting)


# --- rules ---------------------------------------------------------------------------------


def _refuse(message: str) -> DomainError:
    return DomainError(message)


def _process(s: AgreementState) -> str:
    return f"hca:{s.treaty}:{s.meeting}"


def _not_future(what: str, day: date, today: date) -> None:
    if day > today:
        raise _refuse(f"{what} {day.isoformat()} is in the future (today is {today.isoformat()})")


def margins_with(overrides: dict[str, int]) -> dict[str, int]:
    """:data:`DEFAULT_MARGINS` with ``overrides``; :class:`DomainError` for an unknown
    milestone, a number of days outside 0 to :data:`MAX_MARGIN_DAYS`, or margins that
    put the due dates out of the milestones' order (draft-received <= negotiations <=
    text-agreed <= signed <= in-force)."""
    for key, days in overrides.items():
        if key not in MILESTONES:
            raise _refuse(f"unknown milestone {key!r}: expected one of {', '.join(MILESTONES)}")
        if not 0 <= days <= MAX_MARGIN_DAYS:
            raise _refuse(
                f"the margin of {key} must be 0 to {MAX_MARGIN_DAYS} days before the "
                f"opening, got {days}"
            )
    margins = {**DEFAULT_MARGINS, **overrides}
    for before, after in zip(MILESTONES, MILESTONES[1:], strict=False):
        if margins[after] > margins[before]:
            raise _refuse(
                f"margins out of order: {after} due {margins[after]} days before the opening "
                f"would come before {before} ({margins[before]} days); a later milestone's "
                f"margin must be at most the earlier one's (order: {', '.join(MILESTONES)})"
            )
    return margins


def due_dates(opens_on: date, margins: dict[str, int]) -> dict[str, date]:
    """Each milestone's due date: ``margins[m]`` days before ``opens_on``."""
    return {m: opens_on - timedelta(days=margins[m]) for m in MILESTONES}


def pledge_amount(amount: str | None) -> Decimal:
    """The pledged amount as a positive decimal; :class:`DomainError` otherwise."""
    try:
        value = Decimal((amount or "").replace(",", "").strip())
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value <= 0:
        raise _refuse(f"pledge amount {amount!r} is not a positive number (e.g. 50000)")
    return value


def check_currency(code: str | None) -> str:
    """The ISO 4217 code (upper case); :class:`DomainError` if unknown."""
    text = (code or "").strip().upper()
    if not text or pycountry.currencies.get(alpha_3=text) is None:
        raise _refuse(f"unknown currency {code!r}: give an ISO 4217 code, e.g. USD, EUR, CHF")
    return text


def check_command(command: BaseModel, today: date) -> None:
    """Checks that need no state. Raises :class:`DomainError`."""
    match command:
        case OpenAgreement() as c:
            if c.closes_on < c.opens_on:
                raise _refuse(f"{c.meeting} closes before it opens")
            resolve_state(c.host)
            resolve_participant(c.counterpart)
            if c.presidency:
                resolve_state(c.presidency)
            margins_with(c.margins)
            _not_future("opening date", c.opened_on, today)
        case ReachMilestone() as c:
            if c.milestone not in MILESTONES:
                raise _refuse(
                    f"unknown milestone {c.milestone!r}: expected one of {', '.join(MILESTONES)}"
                )
            _not_future("date", c.reached_on, today)
        case MoveMeeting() as c:
            if c.closes_on < c.opens_on:
                raise _refuse("the meeting closes before it opens")
            _not_future("decision date", c.decided_on, today)
        case RecordPreparation() as c:
            if c.item not in PREPARATIONS:
                raise _refuse(
                    f"unknown preparation {c.item!r}: expected one of {', '.join(PREPARATIONS)}"
                )
            if not c.detail.strip():
                raise _refuse("say what was prepared (the detail)")
            _not_future("date", c.recorded_on, today)
            if c.item == "funding_pledge":
                if not c.donor:
                    raise _refuse("a pledge names its donor")
                resolve_participant(c.donor)
                pledge_amount(c.amount)
                check_currency(c.currency)


def _due(
    opens_on: date, margins: dict[str, int], historical_fact: bool, today: date
) -> tuple[HcaMilestoneDue, ...]:
    return tuple(
        HcaMilestoneDue(milestone=m, due_on=d, historical=historical_fact and d < today)
        for m, d in due_dates(opens_on, margins).items()
    )


def _differences(s: AgreementState, c: OpenAgreement, host: str, counterpart: str) -> list[str]:
    """What an opening ``c`` says that the recorded opening does not (fields not given in
    ``c`` — city, venue, presidency — are not compared)."""
    diffs = []
    if s.opened_with != (c.opens_on, c.closes_on):
        o, e = s.opened_with or (None, None)
        diffs.append(f"dates {o} to {e}, not {c.opens_on} to {c.closes_on}")
    for name, has, says in (
        ("host", s.host, host),
        ("counterpart", s.counterpart, counterpart),
        ("city", s.opened_city, c.city),
        ("venue", s.opened_venue, c.venue),
    ):
        if says is not None and (has or "") != says:
            diffs.append(f"{name} {has or '?'}, not {says}")
    if c.presidency and s.presidency != f"Presidency ({resolve_state(c.presidency).code})":
        diffs.append(f"{s.presidency}, not Presidency ({c.presidency})")
    if s.margins != margins_with(c.margins):
        diffs.append(f"margins {s.margins}, not {margins_with(c.margins)}")
    return diffs


def decide(
    s: AgreementState, command: BaseModel, today: date, past_due_historical: bool = True
) -> list[DomainEvent]:
    """The events ``command`` causes, or :class:`DomainError`.

    Rules: opened once, first; milestones are reached in order (a negotiation round may
    be held again), not before the previous one; a move shifts every due date with the
    opening; a milestone whose due date has passed unreached is escalated to the
    Presidency once per due date (unless ``historical``); the meeting does not move to
    open before a milestone already reached. ``past_due_historical``: due dates already
    past when the agreement is recorded are historical whatever the recording date
    (False: only when recorded as a past fact, the workflows' behaviour before it).
    """
    if isinstance(command, Tick):
        return _escalations(s, today)
    check_command(command, today)
    if isinstance(command, OpenAgreement):
        host = resolve_state(command.host)
        counterpart = resolve_participant(command.counterpart)
        presidency = resolve_state(command.presidency).code if command.presidency else host.code
        margins = margins_with(command.margins)
        if s.opened:
            diffs = _differences(s, command, host.code, counterpart.code)
            if not diffs:
                return []  # the same opening again (the meeting may have moved since)
            raise _refuse(
                f"{_process(s)} is already open with other data: {'; '.join(diffs)} "
                "(the same opening again records nothing; to change the dates use "
                "move-meeting)"
            )
        if command.meeting.strip().lower() != s.meeting.lower():
            raise _refuse(f"this process is for the {s.meeting}, not {command.meeting}")
        return [
            HostCountryAgreementOpened(
                occurred_on=command.opened_on,
                meeting=s.meeting,
                opens_on=command.opens_on,
                closes_on=command.closes_on,
                city=command.city,
                venue=command.venue,
                host=host.code,
                counterpart=counterpart.code,
                presidency=f"Presidency ({presidency})",
                margins=margins,
                due=_due(
                    command.opens_on,
                    margins,
                    past_due_historical or command.opened_on < today,
                    today,
                ),
            )
        ]
    if not s.opened:
        raise _refuse(f"{_process(s)} is not open: open it first (meeting dates, host State)")
    match command:
        case ReachMilestone() as c:
            m = s.milestones[c.milestone]
            index = MILESTONES.index(c.milestone)
            if m.reached_on is not None and c.milestone != "negotiations":
                if m.reached_on == c.reached_on:
                    return []
                raise _refuse(f"{c.milestone} was reached on {m.reached_on.isoformat()}")
            if c.milestone == "negotiations" and c.reached_on in m.rounds:
                return []
            for before in MILESTONES[:index]:
                prev = s.milestones[before]
                if prev.reached_on is None:
                    raise _refuse(
                        f"{c.milestone} comes after {before}, which is not reached yet "
                        f"(order: {', '.join(MILESTONES)})"
                    )
                if c.reached_on < prev.reached_on:
                    raise _refuse(
                        f"{c.milestone} on {c.reached_on.isoformat()} is before {before} "
                        f"({prev.reached_on.isoformat()})"
                    )
            if c.milestone == "negotiations":
                nxt = s.milestones["text-agreed"].reached_on
                if nxt is not None:
                    raise _refuse(
                        f"the text was agreed on {nxt.isoformat()}: negotiations are over"
                    )
            return [
                HcaMilestoneReached(
                    occurred_on=c.reached_on,
                    milestone=c.milestone,
                    round=len(m.rounds) + 1 if c.milestone == "negotiations" else None,
                    note=c.note,
                )
            ]
        case MoveMeeting() as c:
            if (c.opens_on, c.closes_on) == (s.opens_on, s.closes_on):
                return []
            reached = [m for m in s.milestones.values() if m.reached_on is not None]
            if reached:
                last = max(reached, key=lambda m: m.reached_on or date.min)
                assert last.reached_on is not None
                if c.opens_on <= last.reached_on:
                    raise _refuse(
                        f"{last.milestone} was reached on {last.reached_on.isoformat()}: the "
                        f"meeting cannot open on {c.opens_on.isoformat()}, before a milestone "
                        "already reached; give an opening after "
                        f"{last.reached_on.isoformat()}"
                    )
            moved = HcaMeetingMoved(
                occurred_on=c.decided_on,
                opens_on=c.opens_on,
                closes_on=c.closes_on,
                due=_due(c.opens_on, s.margins, c.decided_on < today, today),
            )
            return [moved, *_escalations(evolve(s, moved), today)]
        case RecordPreparation() as c:
            donor = resolve_participant(c.donor).code if c.donor else None
            amount = str(pledge_amount(c.amount)) if c.item == "funding_pledge" else None
            currency = check_currency(c.currency) if c.item == "funding_pledge" else None
            new = Preparation(
                item=c.item,
                detail=c.detail.strip(),
                recorded_on=c.recorded_on,
                donor=donor,
                amount=amount,
                currency=currency,
            )
            if new in s.preparations:
                return []
            return [
                HcaPreparationRecorded(
                    occurred_on=c.recorded_on,
                    item=c.item,  # type: ignore[arg-type]
                    detail=new.detail,
                    donor=donor,
                    amount=amount,
                    currency=currency,
                )
            ]
    raise _refuse(f"unknown command {command!r}")  # pragma: no cover


def _escalations(s: AgreementState, today: date) -> list[DomainEvent]:
    if not s.opened or s.presidency is None:
        return []
    return [
        HcaMilestoneEscalated(
            occurred_on=today,
            milestone=m.milestone,
            due_on=m.due_on,
            escalated_to=s.presidency,
        )
        for m in s.milestones.values()
        if m.reached_on is None
        and not m.historical
        and m.due_on < today
        and m.due_on not in m.escalated
    ]


def next_wakeup(s: AgreementState) -> date | None:
    """The day after the earliest due date still watched (not reached, not historical,
    not escalated): the first day the milestone is late."""
    days = [
        m.due_on + timedelta(days=1)
        for m in s.milestones.values()
        if m.reached_on is None and not m.historical and m.due_on not in m.escalated
    ]
    return min(days) if days else None


def _with_due(s: AgreementState, due: tuple[HcaMilestoneDue, ...]) -> dict[str, Milestone]:
    milestones = dict(s.milestones)
    for d in due:
        old = milestones.get(d.milestone)
        if old is None:
            milestones[d.milestone] = Milestone(
                milestone=d.milestone, due_on=d.due_on, historical=d.historical
            )
        else:
            milestones[d.milestone] = old.model_copy(
                update={"due_on": d.due_on, "historical": d.historical}
            )
    return milestones


def evolve(s: AgreementState, event: DomainEvent) -> AgreementState:
    """``s`` after ``event`` (a new object)."""
    changes: dict[str, object] = {"version": s.version + 1}
    match event:
        case HostCountryAgreementOpened() as e:
            changes.update(
                opened=True,
                opened_with=(e.opens_on, e.closes_on),
                opens_on=e.opens_on,
                closes_on=e.closes_on,
                city=e.city,
                venue=e.venue,
                opened_city=e.city,
                opened_venue=e.venue,
                host=e.host,
                counterpart=e.counterpart,
                presidency=e.presidency,
                margins=dict(e.margins),
                milestones=_with_due(s, e.due),
            )
        case HcaMeetingMoved() as e:
            changes.update(
                opens_on=e.opens_on,
                closes_on=e.closes_on,
                milestones=_with_due(s, e.due),
                moves=[*s.moves, (e.opens_on, e.closes_on)],
            )
        case HcaMilestoneReached() as e:
            m = s.milestones[e.milestone]
            update: dict[str, object] = {"reached_on": m.reached_on or e.occurred_on}
            if e.milestone == "negotiations":
                update["rounds"] = (*m.rounds, e.occurred_on)
            changes["milestones"] = {**s.milestones, e.milestone: m.model_copy(update=update)}
        case HcaMilestoneEscalated() as e:
            m = s.milestones[e.milestone]
            changes["milestones"] = {
                **s.milestones,
                e.milestone: m.model_copy(
                    update={
                        "escalated": (*m.escalated, e.due_on),
                        "escalated_on": (*m.escalated_on, e.occurred_on or e.due_on),
                    }
                ),
            }
        case HcaPreparationRecorded() as e:
            changes["preparations"] = [
                *s.preparations,
                Preparation(
                    item=e.item,
                    detail=e.detail,
                    recorded_on=e.occurred_on,
                    donor=e.donor,
                    amount=e.amount,
                    currency=e.currency,
                ),
            ]
            if e.item == "venue":
                changes["venue"] = e.detail
    return s.model_copy(update=changes)


def fold(s: AgreementState, events: list[DomainEvent]) -> AgreementState:
    """Fold ``events`` into ``s`` in order."""
    for event in events:
        s = evolve(s, event)
    return s
