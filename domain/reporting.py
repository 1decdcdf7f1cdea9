"""Transparency reporting cycles (CCM Art. 7). Pure: no I/O, no clock.

Two processes:

- the **cycle** ``reporting:<CODE>:<YEAR>``: opened for a treaty and a year, it lists the
  States Parties that owe the annual report due that year (:func:`owes_annual_report`),
  starts one state report per State, and at its close records the figures (due, received
  on time, received late, missing, per State) from what the state reports recorded;
- the **state report** ``reporting:<CODE>:<YEAR>:<ISO3>``: the annual report of one State
  (CCM Art. 7(2): by 30 April, covering the previous calendar year; ATT Art. 13(3): 31 May):
  its reminders, its submission(s), withdrawal, and its review.

Each has ``decide(state, command, today) -> list[Event]`` (raises
:class:`~domain.errors.DomainError` with what is wrong and what would be accepted) and
``evolve(state, event) -> state``. Review checks (:func:`review_findings`) run on each
submission and are recorded as findings: submitted after the deadline, a period covered
that is not the previous calendar year, and stockpile figures declared under CCM
Art. 7(1)(b) that grew since the previous report without explanation.

Who owes the annual report of ``YEAR`` (CCM Art. 7(1)-(2)): a State for which the treaty
is in force and whose first annual report, the first 30 April deadline after its initial
report's (180 days after its entry into force), falls in ``YEAR`` or before
(:func:`domain.obligations.first_annual_report_year`): a State whose initial report is
still running on the annual deadline is not asked twice.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain import obligations
from domain.errors import DomainError
from domain.events import (
    AnnualReportRequested,
    ClarificationAnswered,
    ClarificationRequested,
    DomainEvent,
    InconsistencyNoted,
    ReminderSent,
    ReportAccepted,
    ReportingCycleClosed,
    ReportingCycleOpened,
    ReportSubmitted,
    ReportWithdrawn,
    ReviewFindingRecorded,
)
from domain.reporting_types import (
    Channel as Channel,
)
from domain.reporting_types import (
    Outcome,
    ReminderPolicy,
    StateOutcome,
    Submission,
)
from domain.treaties import TreatyProfile

ReminderKind = Literal["friendly", "overdue"]


def cycle_workflow_id(treaty: str, year: int) -> str:
    """``reporting:<CODE>:<YEAR>``: the workflow id of a cycle."""
    return f"reporting:{treaty}:{year}"


def report_workflow_id(treaty: str, year: int, state: str) -> str:
    """``reporting:<CODE>:<YEAR>:<ISO3>``: the workflow id of a State's report."""
    return f"reporting:{treaty}:{year}:{state}"


# --- configuration: the reminder policy -------------------------------------------------


class ReminderSlot(BaseModel):
    """One planned reminder: ``on`` (date), ``kind``, and ``n`` (1, 2, ... within the
    report: part of its idempotency key)."""

    model_config = ConfigDict(frozen=True)

    on: date
    kind: ReminderKind
    n: int


def reminder_schedule(policy: ReminderPolicy, due_on: date, closes_on: date) -> list[ReminderSlot]:
    """Every reminder the policy plans for a report due ``due_on`` in a cycle closing on
    ``closes_on``, in date order: friendly ones before the deadline, the overdue notice
    after it, then one every ``overdue_every_days`` while the date is before the close."""
    days: list[tuple[date, ReminderKind]] = [
        (due_on - timedelta(days=d), "friendly")
        for d in sorted(set(policy.before_days), reverse=True)
    ]
    day = due_on + timedelta(days=policy.overdue_after_days)
    while day < closes_on:
        days.append((day, "overdue"))
        day += timedelta(days=policy.overdue_every_days)
    return [ReminderSlot(on=d, kind=k, n=i + 1) for i, (d, k) in enumerate(sorted(days))]


def pending_reminders(
    policy: ReminderPolicy, due_on: date, closes_on: date, opened_on: date
) -> list[ReminderSlot]:
    """The reminders still to send for a report whose cycle opened on ``opened_on``.

    Slots dated before ``opened_on`` are collapsed into one sent at once: the latest of
    them (a State already overdue when the cycle opens gets one overdue notice, not every
    notice it missed). None when the cycle is historical (closed before it was opened).
    """
    if closes_on <= opened_on:
        return []
    slots = reminder_schedule(policy, due_on, closes_on)
    past = [s for s in slots if s.on < opened_on]
    future = [s for s in slots if s.on >= opened_on]
    if past:
        latest = past[-1]
        future.insert(0, latest.model_copy(update={"on": opened_on}))
    return future


# --- who owes a report -----------------------------------------------------------------


class Party(BaseModel):
    """A State, the date the treaty entered (or enters) into force for it and, if it
    withdrew, the date its withdrawal took (or takes) effect (CCM Art. 20(3))."""

    model_config = ConfigDict(frozen=True)

    state: str
    in_force_on: date
    withdrawn_on: date | None = None


def annual_due_on(profile: TreatyProfile, year: int) -> date:
    """The annual report deadline of ``year`` (CCM Art. 7(2): 30 April; ATT Art. 13(3):
    31 May)."""
    return obligations.annual_report(profile, year).due_on


def owes_annual_report(profile: TreatyProfile, in_force_on: date, year: int) -> bool:
    """Whether a State in force from ``in_force_on`` owes the annual report due in
    ``year`` (covering ``year - 1``): its first annual report year
    (:func:`domain.obligations.first_annual_report_year`, CCM Art. 7(1)-(2)) is ``year``
    or earlier. A State whose initial report (due 180 days after its entry into force) is
    still running on the annual deadline is not asked for both."""
    return obligations.first_annual_report_year(profile, in_force_on) <= year


def withdrawn_by_due_date(profile: TreatyProfile, party: Party, year: int) -> bool:
    """Whether ``party``'s withdrawal has taken effect on or before the annual report's
    due date of ``year``: it is then no longer a State Party when the report falls due
    (CCM Art. 20(3)), and is not asked for it."""
    return party.withdrawn_on is not None and party.withdrawn_on <= annual_due_on(profile, year)


def due_parties(profile: TreatyProfile, parties: list[Party], year: int) -> list[Party]:
    """The parties that owe the annual report of ``year``, sorted by ISO3: those that
    owe it by their entry into force (:func:`owes_annual_report`) and have not withdrawn
    by its due date (:func:`withdrawn_by_due_date`)."""
    return sorted(
        (
            p
            for p in parties
            if owes_annual_report(profile, p.in_force_on, year)
            and not withdrawn_by_due_date(profile, p, year)
        ),
        key=lambda p: p.state,
    )


# --- submissions, findings --------------------------------------------------------------


def file_sha256(content: bytes) -> str:
    """The SHA-256 of a report file, as 64 lowercase hex digits."""
    return hashlib.sha256(content).hexdigest()


class Finding(BaseModel):
    """What a review check found: ``check`` (``late``, ``period``, ``stockpile_grew``) and
    ``text`` (plain words, with the article)."""

    model_config = ConfigDict(frozen=True)

    check: Literal["late", "period", "stockpile_grew"]
    text: str


def review_findings(
    year: int,
    due_on: date,
    submission: Submission,
    previous_stockpiles: dict[str, int] | None,
    profile: TreatyProfile,
) -> list[Finding]:
    """The review checks on a submission, each citing ``profile``'s rule.

    - ``late``: received after ``due_on`` (the annual report rule: CCM Art. 7(2), ATT Art.
      13(3));
    - ``period``: the period covered is not the previous calendar year (CCM Art. 7(2):
      "covering the last calendar year");
    - ``stockpile_grew``: a stockpile figure (CCM Art. 7(1)(b)) is larger than in the
      previous report and no explanation was given (stockpiles may only go down: CCM Art. 3).
    """
    article = profile.obligations.annual_report_article
    stockpile_article = profile.obligations.stockpile_report_article or article
    found: list[Finding] = []
    if submission.received_on > due_on:
        days = (submission.received_on - due_on).days
        found.append(
            Finding(
                check="late",
                text=f"received {submission.received_on}, {days} day(s) after the deadline "
                f"{due_on} ({article})",
            )
        )
    start, end = date(year - 1, 1, 1), date(year - 1, 12, 31)
    frm, to = submission.period_from or start, submission.period_to or end
    if (frm, to) != (start, end):
        found.append(
            Finding(
                check="period",
                text=f"covers {frm} to {to}, not the previous calendar year {start} to {end} "
                f"({article})",
            )
        )
    if submission.stockpiles and previous_stockpiles and not submission.explanation:
        grew = {
            k: (previous_stockpiles[k], v)
            for k, v in sorted(submission.stockpiles.items())
            if k in previous_stockpiles and v > previous_stockpiles[k]
        }
        if grew:
            what = "; ".join(f"{k}: {a} -> {b}" for k, (a, b) in grew.items())
            found.append(
                Finding(
                    check="stockpile_grew",
                    text=f"stockpiled {profile.weapons} grew since the previous report without "
                    f"explanation ({what}; {stockpile_article})",
                )
            )
    return found


# --- the state report ------------------------------------------------------------------

ReviewStatus = Literal[
    "not_received", "pending", "accepted", "inconsistent", "clarification_requested", "answered"
]


class ReportState(BaseModel):
    """One State's annual report for one year.

    ``due_on``: the deadline; ``closes_on``: when the cycle closes; ``received``: a
    submission stands (not withdrawn); ``received_on``: the date of the standing one;
    ``first_received_on``: of the first one ever (kept for the record: a withdrawn report
    counts as not received, so on time or late is decided by the standing submission's
    ``received_on``);
    ``reminders``: the reminder numbers sent (1, 2, ...); ``reminded_for``: the planned
    dates of the slots they were sent for (a slot is sent once); ``findings``: review
    findings recorded; ``review``: where the review stands.
    """

    treaty: str
    year: int
    state: str
    version: int = 0
    requested: bool = False
    in_force_on: date | None = None
    due_on: date | None = None
    closes_on: date | None = None
    received: bool = False
    received_on: date | None = None
    first_received_on: date | None = None
    submissions: int = 0
    submission: Submission | None = None
    withdrawn: int = 0
    reminders: tuple[int, ...] = ()
    reminded_for: tuple[date, ...] = ()
    findings: tuple[Finding, ...] = ()
    review: ReviewStatus = "not_received"
    notes: tuple[str, ...] = ()

    def outcome(self) -> Outcome:
        """``on_time`` (the standing submission was received by the deadline), ``late``
        (received after it), or ``missing`` (none standing). A withdrawn report counts as
        not received, so an earlier, withdrawn submission does not make a later one on
        time."""
        if not self.received or self.received_on is None or self.due_on is None:
            return "missing"
        return "on_time" if self.received_on <= self.due_on else "late"


def initial_report_state(treaty: str, year: int, state: str) -> ReportState:
    """The state report before any event."""
    return ReportState(treaty=treaty, year=year, state=state)


class Request(BaseModel):
    """Internal (the cycle starts the report): ask the State for its report."""

    kind: Literal["request"] = "request"
    in_force_on: date
    due_on: date
    closes_on: date
    requested_on: date


class SendReminder(BaseModel):
    """Internal (timer): send the planned reminder ``slot``."""

    kind: Literal["remind"] = "remind"
    slot: ReminderSlot


class Submit(BaseModel):
    """Record the State's report (staff)."""

    kind: Literal["submit"] = "submit"
    submission: Submission


class Withdraw(BaseModel):
    """The State withdraws its standing report (it may submit again)."""

    kind: Literal["withdraw"] = "withdraw"
    withdrawn_on: date
    reason: str | None = None


class Review(BaseModel):
    """The reviewer's step: ``accept``, note an ``inconsistency`` (``text``), request a
    ``clarification`` (``text``), or record the State's ``answer`` (``text``)."""

    kind: Literal["review"] = "review"
    action: Literal["accept", "inconsistency", "clarification", "answer"]
    on: date
    text: str | None = None


ReportCommand = Request | SendReminder | Submit | Withdraw | Review


def _label(s: ReportState) -> str:
    return f"{s.state}'s {s.year} annual report"


def _not_future(what: str, day: date, today: date) -> None:
    if day > today:
        raise DomainError(f"{what} {day} is in the future (today is {today}); give a past date")


def check_submission(profile: TreatyProfile, year: int, sub: Submission, today: date) -> None:
    """Refuse a submission that cannot be right whatever the process holds: a date in the
    future, a date before the reporting year, a period that ends before it starts, a
    SHA-256 that is not 64 hex digits, a negative stockpile figure."""
    _not_future("date received", sub.received_on, today)
    if year > today.year:
        raise DomainError(
            f"the {year} report cannot be received yet: {year} is in the future (today is "
            f"{today}); the latest cycle is {today.year}"
        )
    if sub.received_on.year < year - 1:
        raise DomainError(
            f"date received {sub.received_on} is before the period the {year} report covers "
            f"({year - 1}); expected a date from {year - 1}-01-01 on"
        )
    if sub.period_from and sub.period_to and sub.period_to < sub.period_from:
        raise DomainError(
            f"period covered ends ({sub.period_to}) before it starts ({sub.period_from})"
        )
    if sub.sha256 is not None:
        h = sub.sha256.lower()
        if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
            raise DomainError(f"sha256 {sub.sha256!r} is not a SHA-256: expected 64 hex digits")
    for k, v in (sub.stockpiles or {}).items():
        if v < 0:
            raise DomainError(f"stockpile figure {k}={v} is negative; expected a count >= 0")


def decide_report(
    s: ReportState,
    command: ReportCommand,
    profile: TreatyProfile,
    today: date,
    previous_stockpiles: dict[str, int] | None = None,
) -> list[DomainEvent]:
    """The events ``command`` causes on the report ``s`` (pure).

    Raises :class:`DomainError`: the report is not requested, the cycle is closed, a date
    in the future, a review of a report not received, a withdrawal with nothing standing.
    """
    if isinstance(command, Request):
        if s.requested:
            return []
        return [
            AnnualReportRequested(
                occurred_on=command.requested_on,
                state=s.state,
                year=s.year,
                in_force_on=command.in_force_on,
                due_on=command.due_on,
                closes_on=command.closes_on,
                covers_from=date(s.year - 1, 1, 1),
                covers_to=date(s.year - 1, 12, 31),
                article=profile.obligations.annual_report_article,
            )
        ]
    if not s.requested:
        raise DomainError(f"no annual report is due from {s.state} for {s.year}")
    assert s.due_on is not None
    if isinstance(command, SendReminder):
        slot = command.slot
        if slot.on in s.reminded_for or s.received:
            return []
        if slot.kind == "overdue" and today <= s.due_on:
            return []
        return [
            ReminderSent(
                occurred_on=today,
                state=s.state,
                year=s.year,
                kind=slot.kind,
                n=len(s.reminders) + 1,  # numbered per report from 1, whatever the plan
                planned_on=slot.on,
                due_on=s.due_on,
            )
        ]
    if isinstance(command, Submit):
        sub = command.submission
        check_submission(profile, s.year, sub, today)
        if s.received:
            raise DomainError(
                f"{_label(s)} was already received on {s.received_on}; withdraw it first "
                f"(`treaty reporting withdraw {s.state} --year {s.year}`) to submit again"
            )
        on_time = sub.received_on <= s.due_on  # the standing submission decides
        events: list[DomainEvent] = [
            ReportSubmitted(
                occurred_on=sub.received_on,
                state=s.state,
                year=s.year,
                submission=sub,
                on_time=on_time,
                resubmission=s.submissions > 0,
            )
        ]
        for f in review_findings(s.year, s.due_on, sub, previous_stockpiles, profile):
            events.append(
                ReviewFindingRecorded(
                    occurred_on=sub.received_on,
                    state=s.state,
                    year=s.year,
                    check=f.check,
                    text=f.text,
                )
            )
        return events
    if isinstance(command, Withdraw):
        _not_future("date withdrawn", command.withdrawn_on, today)
        if not s.received:
            raise DomainError(f"{_label(s)} has not been received: nothing to withdraw")
        return [
            ReportWithdrawn(
                occurred_on=command.withdrawn_on, state=s.state, year=s.year, reason=command.reason
            )
        ]
    if isinstance(command, Review):
        _not_future("review date", command.on, today)
        if not s.received:
            raise DomainError(
                f"{_label(s)} has not been received: there is nothing to review (record it "
                f"first with `treaty reporting submit {s.state} --year {s.year}`)"
            )
        base = {"occurred_on": command.on, "state": s.state, "year": s.year}
        if command.action == "accept":
            if s.review == "accepted":
                raise DomainError(f"{_label(s)} was already accepted")
            return [ReportAccepted(**base)]
        if not command.text:
            raise DomainError(f"review {command.action!r} needs a text (--text): say what")
        if command.action == "inconsistency":
            return [InconsistencyNoted(**base, text=command.text)]
        if command.action == "clarification":
            return [ClarificationRequested(**base, text=command.text)]
        if s.review != "clarification_requested":
            raise DomainError(
                f"no clarification was requested of {_label(s)} (review is {s.review}): there "
                "is nothing to answer"
            )
        return [ClarificationAnswered(**base, text=command.text)]
    raise DomainError(f"unknown command {command!r}")  # pragma: no cover


def evolve_report(s: ReportState, event: DomainEvent) -> ReportState:
    """Fold one event into the report state."""
    u: dict[str, object] = {"version": s.version + 1}
    if isinstance(event, AnnualReportRequested):
        u.update(
            requested=True,
            in_force_on=event.in_force_on,
            due_on=event.due_on,
            closes_on=event.closes_on,
        )
    elif isinstance(event, ReminderSent):
        u["reminders"] = (*s.reminders, event.n)
        u["reminded_for"] = (*s.reminded_for, event.planned_on)
    elif isinstance(event, ReportSubmitted):
        sub = event.submission
        u.update(
            received=True,
            received_on=sub.received_on,
            first_received_on=s.first_received_on or sub.received_on,
            submissions=s.submissions + 1,
            submission=sub,
            review="pending",
        )
    elif isinstance(event, ReportWithdrawn):
        u.update(received=False, received_on=None, withdrawn=s.withdrawn + 1, review="not_received")
    elif isinstance(event, ReviewFindingRecorded):
        u["findings"] = (*s.findings, Finding(check=event.check, text=event.text))
    elif isinstance(event, ReportAccepted):
        u["review"] = "accepted"
    elif isinstance(event, InconsistencyNoted):
        u.update(review="inconsistent", notes=(*s.notes, event.text))
    elif isinstance(event, ClarificationRequested):
        u.update(review="clarification_requested", notes=(*s.notes, event.text))
    elif isinstance(event, ClarificationAnswered):
        u.update(review="answered", notes=(*s.notes, event.text))
    else:
        raise DomainError(f"{type(event).__name__} is not an event of a state report")
    return s.model_copy(update=u)


def fold_report(s: ReportState, events: list[DomainEvent]) -> ReportState:
    """``evolve_report`` over ``events`` in order."""
    for e in events:
        s = evolve_report(s, e)
    return s


# --- the cycle ---------------------------------------------------------------------------


class Figures(BaseModel):
    """The compliance figures of a cycle: ``due``, ``on_time``, ``late``, ``missing`` and
    ``per_state`` (ISO3 -> outcome); ``on_time_rate``: on_time / due (None when none is
    due: there is no rate to give)."""

    model_config = ConfigDict(frozen=True)

    due: int
    on_time: int
    late: int
    missing: int
    per_state: dict[str, StateOutcome]

    @property
    def received(self) -> int:
        return self.on_time + self.late

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def on_time_rate_text(self) -> str:
        """The rate as a percentage with one decimal (``50.0%``), ``n/a`` when none due."""
        rate = self.on_time_rate
        return "n/a" if rate is None else f"{rate:.1%}"


def figures(reports: list[ReportState]) -> Figures:
    """The figures from the state reports as they recorded them."""
    per = {
        r.state: StateOutcome(
            outcome=r.outcome(), received_on=r.received_on if r.received else None
        )
        for r in sorted(reports, key=lambda r: r.state)
    }
    count = {
        k: sum(1 for o in per.values() if o.outcome == k) for k in ("on_time", "late", "missing")
    }
    return Figures(due=len(per), per_state=per, **count)


class CycleState(BaseModel):
    """A reporting cycle: ``states`` owing the report (ISO3), ``not_due`` (ISO3 ->
    reason) among the parties, ``historical``: it closed before it was opened (no
    reminders; staff close it), ``figures`` once closed."""

    treaty: str
    year: int
    version: int = 0
    opened: bool = False
    opened_on: date | None = None
    due_on: date | None = None
    closes_on: date | None = None
    historical: bool = False
    policy: ReminderPolicy = ReminderPolicy()
    states: tuple[str, ...] = ()
    not_due: dict[str, str] = {}
    closed: bool = False
    closed_on: date | None = None
    figures: Figures | None = None


def initial_cycle_state(treaty: str, year: int) -> CycleState:
    """The cycle before any event."""
    return CycleState(treaty=treaty, year=year)


class OpenCycle(BaseModel):
    """Open the cycle for ``parties`` (every State with its entry into force)."""

    kind: Literal["open"] = "open"
    parties: list[Party]
    policy: ReminderPolicy = ReminderPolicy()


class CloseCycle(BaseModel):
    """Close the cycle with the state reports as recorded."""

    kind: Literal["close_cycle"] = "close_cycle"
    reports: list[ReportState]


CycleCommand = OpenCycle | CloseCycle


def check_year(profile: TreatyProfile, year: int, today: date) -> None:
    """Refuse a reporting year that is in the future or before the treaty could be in
    force (its opening for signature)."""
    if year > today.year:
        raise DomainError(
            f"year {year} is in the future (today is {today}): a cycle can be opened for "
            f"{today.year} or an earlier year"
        )
    if year <= profile.opened_for_signature_on.year:
        raise DomainError(
            f"the {profile.code} was opened for signature on {profile.opened_for_signature_on}: "
            f"no annual report is due for {year}; expected a year after "
            f"{profile.opened_for_signature_on.year}"
        )


def first_reporting_year(profile: TreatyProfile, parties: list[Party]) -> int:
    """The first year in which any annual report is owed (CCM Art. 7(1)-(2): the first
    30 April deadline after the initial report, due 180 days after entry into force).

    From the parties' entry-into-force dates when there are any (CCM: in force 1 August
    2010 -> initial reports due 28 January 2011 -> first annual reports 30 April 2011);
    with none recorded, from the earliest the treaty could have entered into force (its
    opening for signature, then ``treaty_eif``: CCM 1 June 2009 -> 2010)."""
    if parties:
        earliest = min(p.in_force_on for p in parties)
    else:
        earliest = profile.treaty_eif.apply(profile.opened_for_signature_on)
    return obligations.first_annual_report_year(profile, earliest)


def check_year_owed(profile: TreatyProfile, year: int, parties: list[Party]) -> None:
    """Refuse a cycle for a year before :func:`first_reporting_year`: no State owes an
    annual report then (CCM Art. 7(2)). With no party recorded nothing is refused here
    beyond :func:`check_year` (the cycle would be empty: callers say so)."""
    if not parties:
        return
    first = first_reporting_year(profile, parties)
    if year < first:
        earliest = min(p.in_force_on for p in parties)
        raise DomainError(
            f"no {profile.code} annual report is due for {year}: the first entry into force "
            f"recorded is {earliest}, so the first annual reports are due {first} "
            f"({profile.obligations.initial_report.article}, "
            f"{profile.obligations.annual_report_article}); expected a year from {first} on"
        )


def decide_cycle(
    s: CycleState, command: CycleCommand, profile: TreatyProfile, today: date
) -> list[DomainEvent]:
    """The events of a cycle command (pure); :class:`DomainError` when refused."""
    if isinstance(command, OpenCycle):
        if s.opened:
            return []
        check_year(profile, s.year, today)
        check_year_owed(profile, s.year, command.parties)
        due_on = annual_due_on(profile, s.year)
        closes_on = command.policy.closes_on(due_on)
        due = due_parties(profile, command.parties, s.year)
        due_codes = {p.state for p in due}
        not_due: dict[str, str] = {}
        for p in sorted(command.parties, key=lambda p: p.state):
            if p.state in due_codes:
                continue
            if withdrawn_by_due_date(profile, p, s.year):
                not_due[p.state] = (
                    f"withdrawal in effect {p.withdrawn_on}, before the report was due on "
                    f"{due_on} ({profile.obligations.withdrawal.article})"
                )
                continue
            first = obligations.first_annual_report_year(profile, p.in_force_on)
            initial = obligations.initial_report(profile, p.in_force_on).due_on
            not_due[p.state] = (
                f"in force {p.in_force_on}; initial report due {initial}; first annual report "
                f"{first} ({profile.obligations.initial_report.article})"
            )
        return [
            ReportingCycleOpened(
                occurred_on=today,
                treaty=s.treaty,
                year=s.year,
                due_on=due_on,
                closes_on=closes_on,
                historical=closes_on <= today,
                states=tuple(p.state for p in due),
                in_force_on={p.state: p.in_force_on for p in due},
                not_due=not_due,
                policy=command.policy,
                article=profile.obligations.annual_report_article,
            )
        ]
    if not s.opened:
        raise DomainError(f"the {s.treaty} {s.year} reporting cycle has not been opened")
    if s.closed:
        raise DomainError(f"the {s.treaty} {s.year} reporting cycle was closed on {s.closed_on}")
    fig = figures(command.reports)
    return [
        ReportingCycleClosed(
            occurred_on=today,
            treaty=s.treaty,
            year=s.year,
            due=fig.due,
            on_time=fig.on_time,
            late=fig.late,
            missing=fig.missing,
            per_state=fig.per_state,
        )
    ]


def evolve_cycle(s: CycleState, event: DomainEvent) -> CycleState:
    """Fold one event into the cycle state."""
    u: dict[str, object] = {"version": s.version + 1}
    if isinstance(event, ReportingCycleOpened):
        u.update(
            opened=True,
            opened_on=event.occurred_on,
            due_on=event.due_on,
            closes_on=event.closes_on,
            historical=event.historical,
            policy=event.policy,
            states=event.states,
            not_due=event.not_due,
        )
    elif isinstance(event, ReportingCycleClosed):
        u.update(
            closed=True,
            closed_on=event.occurred_on,
            figures=Figures(
                due=event.due,
                on_time=event.on_time,
                late=event.late,
                missing=event.missing,
                per_state=event.per_state,
            ),
        )
    else:
        raise DomainError(f"{type(event).__name__} is not an event of a reporting cycle")
    return s.model_copy(update=u)


def initial_state(parts: list[str]) -> CycleState | ReportState:
    """The state before any event of ``reporting:<CODE>:<YEAR>`` (``parts`` [CODE, YEAR])
    or ``reporting:<CODE>:<YEAR>:<ISO3>`` ([CODE, YEAR, ISO3])."""
    if len(parts) == 2:
        return initial_cycle_state(parts[0], int(parts[1]))
    if len(parts) == 3:
        return initial_report_state(parts[0], int(parts[1]), parts[2])
    raise DomainError(f"not a reporting process id: reporting:{':'.join(parts)}")


def evolve(s: CycleState | ReportState, event: DomainEvent) -> CycleState | ReportState:
    """The fold step of either reporting process."""
    if isinstance(s, CycleState):
        return evolve_cycle(s, event)
    return evolve_report(s, event)
