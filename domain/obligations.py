"""What a State Party owes once a treaty is in force for it, and by when. Pure.

Every deadline comes from the treaty profile (:class:`~domain.treaties.ObligationRules`)
and the State's business dates; each :class:`Obligation` keeps every deadline it ever had
(the original one and each extension granted), so the history shows them all.

Sources (CCM): Art. 7(1) initial transparency report, 180 days after entry into force for
the State; Art. 7(2) annual report by 30 April covering the previous calendar year;
Art. 3(2) stockpile destruction within 8 years, extensions Art. 3(3)-(5) of up to 4 years
(further ones only in exceptional circumstances) requested at least nine months before the
Meeting that decides; Art. 4(1)(a) clearance within 10 years, extensions Art. 4(5)-(8) of
up to 5 years, renewable, requested before the deadline and nine months before the
Meeting; Art. 20(3) withdrawal six months after receipt, not before the end of an armed
conflict. See ``docs/treaty_rules.md``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict

from domain import calendar
from domain.errors import DomainError
from domain.treaties import ObligationRule, TreatyProfile

ObligationKind = Literal["initial_report", "annual_report", "stockpile_destruction", "clearance"]
Status = Literal["open", "overdue", "met", "ended"]


class Deadline(BaseModel):
    """One deadline an obligation had: ``due_on``, and why (``basis``: the article, or the
    extension and the Meeting that granted it)."""

    model_config = ConfigDict(frozen=True)

    due_on: date
    basis: str
    historical: bool = False


class PendingRequest(BaseModel):
    """An extension request awaiting the decision of the Meeting ``meeting`` (its name)."""

    model_config = ConfigDict(frozen=True)

    requested_until: date
    meeting: str
    meeting_opens_on: date
    filed_on: date | None
    exceptional_circumstances: bool = False


class Obligation(BaseModel):
    """One obligation of one State Party.

    ``key``: unique within the State's process (``initial-report``, ``annual-report-2012``,
    ``stockpile-destruction``, ``clearance``); ``deadlines``: every deadline it had, the
    last one in force (a deadline already past when recorded is ``historical``: no timer
    marks it); ``opened_on``: the date it arose; ``met_on`` / ``channel``: when and how it
    was met (report received, declaration of compliance made); ``marked``: what the timers
    recorded for the deadline in force (``due`` on its day, ``overdue`` the day after);
    ``request``: an extension request awaiting its Meeting; ``ended_on``: the State's
    withdrawal took effect before it was met (CCM Art. 20): the treaty no longer binds it,
    so nothing it still owed stays open.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    kind: ObligationKind
    article: str
    deadlines: tuple[Deadline, ...]
    opened_on: date | None = None
    covers: str | None = None
    extensions_granted: int = 0
    met_on: date | None = None
    channel: str | None = None
    marked: Literal["due", "overdue"] | None = None
    request: PendingRequest | None = None
    ended_on: date | None = None

    @property
    def due_on(self) -> date:
        """The deadline in force."""
        return self.deadlines[-1].due_on

    @property
    def is_open(self) -> bool:
        """Neither met nor ended."""
        return self.met_on is None and self.ended_on is None

    def status(self, as_of: date) -> Status:
        """``met`` if met on or before ``as_of``; ``ended`` if the State's withdrawal took
        effect before it was met; ``overdue`` if past due then; else ``open``."""
        if self.met_on is not None and self.met_on <= as_of:
            return "met"
        if self.ended_on is not None and self.ended_on <= as_of:
            return "ended"
        return "overdue" if as_of > self.due_on else "open"


def initial_report(profile: TreatyProfile, in_force_on: date) -> Obligation:
    """The initial transparency report (CCM Art. 7(1): 180 days after entry into force for
    the State; ATT Art. 13(1): within the first year)."""
    rule = profile.obligations.initial_report
    due = rule.apply(in_force_on)
    return Obligation(
        key="initial-report",
        kind="initial_report",
        article=rule.article,
        deadlines=(Deadline(due_on=due, basis=rule.article),),
    )


def annual_report(profile: TreatyProfile, year: int) -> Obligation:
    """The annual report due in ``year``, covering the calendar year before (CCM Art. 7(2):
    30 April; ATT Art. 13(3): 31 May)."""
    rules = profile.obligations
    due = date(year, rules.annual_report_month, rules.annual_report_day)
    return Obligation(
        key=f"annual-report-{year}",
        kind="annual_report",
        article=rules.annual_report_article,
        deadlines=(Deadline(due_on=due, basis=rules.annual_report_article),),
        covers=f"{year - 1}-01-01/{year - 1}-12-31",
    )


def first_annual_report_year(profile: TreatyProfile, in_force_on: date) -> int:
    """The year of the first annual report: the first annual deadline after the initial
    report's (a State is not asked for both at once)."""
    initial_due = initial_report(profile, in_force_on).due_on
    rules = profile.obligations
    year = initial_due.year
    if date(year, rules.annual_report_month, rules.annual_report_day) <= initial_due:
        year += 1
    return year


def opened_at_entry_into_force(profile: TreatyProfile, in_force_on: date) -> list[Obligation]:
    """The obligations every State Party has from its entry into force: the initial report
    and the first annual report."""
    first_year = first_annual_report_year(profile, in_force_on)
    return [initial_report(profile, in_force_on), annual_report(profile, first_year)]


def _declared(
    profile: TreatyProfile, rule: ObligationRule | None, kind: ObligationKind, in_force_on: date
) -> Obligation:
    if rule is None:
        what = kind.replace("_", " ")
        raise DomainError(f"the {profile.code} has no {what} obligation")
    return Obligation(
        key=kind.replace("_", "-"),
        kind=kind,
        article=rule.due.article,
        deadlines=(Deadline(due_on=rule.due.apply(in_force_on), basis=rule.due.article),),
    )


def stockpile_destruction(profile: TreatyProfile, in_force_on: date) -> Obligation:
    """Destroy declared stockpiles (CCM Art. 3(2): 8 years after entry into force for the
    State; APMBC Art. 4: 4 years). :class:`DomainError` where the treaty has no such rule."""
    rules = profile.obligations
    return _declared(profile, rules.stockpile_destruction, "stockpile_destruction", in_force_on)


def clearance(profile: TreatyProfile, in_force_on: date) -> Obligation:
    """Clear contaminated areas (CCM Art. 4(1)(a): 10 years after entry into force)."""
    return _declared(profile, profile.obligations.clearance, "clearance", in_force_on)


def _rule_for(profile: TreatyProfile, obligation: Obligation) -> ObligationRule | None:
    rules = profile.obligations
    if obligation.kind == "stockpile_destruction":
        return rules.stockpile_destruction
    if obligation.kind == "clearance":
        return rules.clearance
    return None


class Meeting(BaseModel):
    """A Meeting of States Parties or Review Conference, by its name (``2MSP``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    opens_on: date
    closes_on: date
    city: str | None = None


MEETING_KINDS: dict[str, str] = {
    "msp": "MSP",
    "meeting of states parties": "MSP",
    "review conference": "RC",
    "rc": "RC",
}
"""The kinds a Meeting may have (case-insensitive) and the suffix of its name: a Meeting
of States Parties (CCM Art. 11) or a Review Conference (CCM Art. 12)."""

_NUMBERED = re.compile(r"^\d+(MSP|RC)$", re.IGNORECASE)


def check_meeting(profile: TreatyProfile, meeting: Meeting) -> None:
    """:class:`DomainError` if ``meeting`` cannot be a Meeting of the treaty: its kind is
    neither a Meeting of States Parties (CCM Art. 11) nor a Review Conference (Art. 12);
    a numbered name (``18MSP``, ``2RC``) contradicts its kind; it closes before it opens;
    it opens before the treaty was opened for signature (CCM Art. 15: 3 Dec 2008); it has
    no city."""
    name = meeting.name.strip()
    if not name:
        raise DomainError("a Meeting needs its name (e.g. 2MSP)")
    suffix = MEETING_KINDS.get(meeting.kind.strip().lower())
    if suffix is None:
        raise DomainError(
            f"{name}: kind {meeting.kind!r} is neither a Meeting of States Parties nor a "
            "Review Conference (accepted: MSP, Meeting of States Parties, Review Conference)"
        )
    numbered = _NUMBERED.match(name)
    if numbered and numbered.group(1).upper() != suffix:
        raise DomainError(
            f"{name}: the name says {'a Review Conference' if suffix == 'MSP' else 'an MSP'} "
            f"but the kind is {meeting.kind!r}"
        )
    if meeting.closes_on < meeting.opens_on:
        raise DomainError(
            f"{name} closes ({meeting.closes_on}) before it opens ({meeting.opens_on})"
        )
    if meeting.opens_on < profile.opened_for_signature_on:
        raise DomainError(
            f"{name} opens on {meeting.opens_on}, before the {profile.code} was opened for "
            f"signature on {profile.opened_for_signature_on} ({profile.signature_article})"
        )
    if not (meeting.city or "").strip():
        raise DomainError(f"{name} has no city; give the city where it is held")


def overlapping_meeting(meeting: Meeting, others: list[Meeting]) -> Meeting | None:
    """The first of ``others`` (other than ``meeting`` by name) whose dates overlap
    ``meeting``'s (inclusive of both ends), or None."""
    key = meeting.name.strip().upper()
    for other in others:
        if other.name.strip().upper() == key:
            continue
        if other.opens_on <= meeting.closes_on and meeting.opens_on <= other.closes_on:
            return other
    return None


def check_extension_request(
    profile: TreatyProfile,
    obligation: Obligation,
    requested_until: date,
    meeting: Meeting,
    filed_on: date,
    exceptional_circumstances: bool = False,
) -> None:
    """Refuse an extension request the treaty does not allow (:class:`DomainError`).

    CCM Art. 3(3): up to 4 years each, further ones only in exceptional circumstances;
    Art. 3(5) and 4(6): at least nine months before the Meeting that considers it; Art.
    4(5)-(6): up to 5 years, filed before the deadline expires. APMBC Art. 4: none.
    """
    rule = _rule_for(profile, obligation)
    if rule is None or rule.extension is None:
        raise DomainError(
            f"the {profile.code} allows no extension of the {obligation.key} deadline "
            f"({obligation.article})"
        )
    ext = rule.extension
    if obligation.met_on is not None:
        raise DomainError(f"{obligation.key} was met on {obligation.met_on}: nothing to extend")
    current = obligation.due_on
    if obligation.opened_on is not None and filed_on < obligation.opened_on:
        raise DomainError(
            f"the request date {filed_on} is before the obligation on "
            f"{obligation.opened_on}: there was no {obligation.key} deadline to extend yet"
        )
    if requested_until <= filed_on:
        raise DomainError(
            f"the requested date {requested_until} is not after the request date {filed_on}: "
            "an extension runs to a date to come"
        )
    if requested_until <= current:
        raise DomainError(
            f"the requested date {requested_until} is not after the deadline in force {current}"
        )
    longest = current + relativedelta(years=ext.max_years)
    if requested_until > longest:
        raise DomainError(
            f"an extension may be of up to {ext.max_years} years ({ext.article}): from "
            f"{current} at most to {longest}, not {requested_until}"
        )
    if (
        ext.further_only_exceptional
        and obligation.extensions_granted
        and not (exceptional_circumstances)
    ):
        raise DomainError(
            f"a further extension is possible only in exceptional circumstances "
            f"({ext.article}): say so in the request"
        )
    if ext.before_deadline and filed_on > current:
        raise DomainError(
            f"the request must be submitted before the deadline expires ({ext.article}); "
            f"it expired on {current}"
        )
    if ext.filing_months_before_meeting is not None:
        latest = meeting.opens_on - relativedelta(months=ext.filing_months_before_meeting)
        if filed_on > latest:
            raise DomainError(
                f"a request to the {meeting.name} (opening {meeting.opens_on}) must be submitted "
                f"at least {ext.filing_months_before_meeting} months before, by {latest} "
                f"({ext.article}); this one is dated {filed_on}"
            )


def grant_extension(
    profile: TreatyProfile,
    obligation: Obligation,
    requested_until: date,
    granted_until: date,
    meeting: Meeting,
) -> Obligation:
    """The obligation after the Meeting granted an extension to ``granted_until`` (it may
    grant a shorter one than requested, CCM Art. 3(5), 4(7)); the old deadline stays in
    the history. :class:`DomainError` if it grants more than was requested."""
    if granted_until <= meeting.opens_on:
        raise DomainError(
            f"the {meeting.name} (from {meeting.opens_on}) cannot grant an extension to "
            f"{granted_until}, a date already past when it met"
        )
    if not obligation.due_on < granted_until <= requested_until:
        raise DomainError(
            f"the {meeting.name} can grant an extension from {obligation.due_on} up to the "
            f"requested {requested_until}, not to {granted_until}"
        )
    basis = f"extension granted by the {meeting.name} ({meeting.closes_on})"
    return obligation.model_copy(
        update={
            "deadlines": (*obligation.deadlines, Deadline(due_on=granted_until, basis=basis)),
            "extensions_granted": obligation.extensions_granted + 1,
        }
    )


def withdrawal_effective_on(
    profile: TreatyProfile,
    received_on: date,
    armed_conflict_ended_on: date | None = None,
    in_armed_conflict: bool = False,
) -> date | None:
    """When a withdrawal takes effect (CCM Art. 20(3): six months after the depositary
    received the instrument; ATT Art. 24(2): 90 days).

    Where the treaty says so (CCM, APMBC), a State engaged in an armed conflict when that
    period ends withdraws only at the end of the conflict: ``in_armed_conflict`` with
    ``armed_conflict_ended_on`` None means not yet (returns None).
    """
    rules = profile.obligations
    base = rules.withdrawal.apply(received_on)
    if not (rules.withdrawal_waits_for_armed_conflict and in_armed_conflict):
        return base
    if armed_conflict_ended_on is None:
        return None
    return max(base, armed_conflict_ended_on)


class RequiredMeeting(BaseModel):
    """A Meeting the treaty requires: ``name`` (``1MSP``, ``1RC``) and the date by which
    (``due_by``) or on which (``due_on``) it is to be held."""

    model_config = ConfigDict(frozen=True)

    name: str
    due_by: date
    article: str


def required_meetings(profile: TreatyProfile, treaty_in_force_on: date) -> list[RequiredMeeting]:
    """The Meetings the treaty requires from its entry into force: the first within a year
    (CCM Art. 11(2)), then one a year until the first Review Conference five years after
    entry into force (CCM Art. 12(1))."""
    rules = profile.meetings
    first = calendar.months_after(treaty_in_force_on, 12 * rules.first_meeting_within_years)
    meetings = [RequiredMeeting(name="1MSP", due_by=first, article=rules.article)]
    if rules.first_review_after_years is None:
        return meetings
    review = calendar.months_after(treaty_in_force_on, 12 * rules.first_review_after_years)
    if rules.annual_until_review:
        n, due = 1, first
        while True:
            n, due = n + 1, calendar.months_after(due, 12)
            if due >= review:
                break
            meetings.append(RequiredMeeting(name=f"{n}MSP", due_by=due, article=rules.article))
    meetings.append(RequiredMeeting(name="1RC", due_by=review, article=rules.article))
    return meetings


def find_meeting(meetings: list[Meeting], name: str) -> Meeting:
    """The Meeting called ``name`` (case-insensitive), or :class:`DomainError` listing the
    known ones."""
    for m in meetings:
        if m.name.lower() == name.strip().lower():
            return m
    known = ", ".join(m.name for m in meetings) or "none recorded"
    raise DomainError(f"no Meeting called {name!r} is recorded (known: {known})")


class DecisionAt(BaseModel):
    """A recorded extension decision: ``state`` (ISO3), obligation ``key``, the Meeting
    that took it and the date it was taken (``decided_on``)."""

    model_config = ConfigDict(frozen=True)

    state: str
    key: str
    meeting: str
    decided_on: date


def check_meeting_correction(
    profile: TreatyProfile,
    corrected: Meeting,
    pending: list[tuple[str, Obligation]],
    decisions: list[DecisionAt],
) -> None:
    """Refuse (:class:`DomainError` naming every State and request or decision affected)
    a correction of a Meeting's dates that would break what depends on it: a recorded
    extension decision of that Meeting would fall outside its new dates, or a pending
    request to it (``pending``: (ISO3, obligation) with ``obligation.request``) would no
    longer reach it the months before it opens that the treaty asks (CCM Art. 3(5), 4(6):
    nine months)."""
    name = corrected.name.strip().upper()
    broken: list[str] = []
    for d in decisions:
        if d.meeting.strip().upper() != name:
            continue
        if not corrected.opens_on <= d.decided_on <= corrected.closes_on:
            broken.append(
                f"{d.state} {d.key}: extension decided on {d.decided_on}, outside "
                f"{corrected.opens_on} to {corrected.closes_on}"
            )
    for state, obligation in pending:
        request = obligation.request
        if request is None or request.meeting.strip().upper() != name:
            continue
        rule = _rule_for(profile, obligation)
        ext = rule.extension if rule is not None else None
        if ext is None or ext.filing_months_before_meeting is None or request.filed_on is None:
            continue
        latest = corrected.opens_on - relativedelta(months=ext.filing_months_before_meeting)
        if request.filed_on > latest:
            broken.append(
                f"{state} {obligation.key}: request of {request.filed_on} would no longer "
                f"reach it {ext.filing_months_before_meeting} months before (by {latest}, "
                f"{ext.article})"
            )
    if broken:
        raise DomainError(
            f"moving {corrected.name.strip()} to {corrected.opens_on} to {corrected.closes_on} "
            f"would break what depends on it: {'; '.join(broken)}"
        )
