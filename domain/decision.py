"""A decision of the States Parties (``decision:<CODE>:<slug>``), e.g. where to host the
Implementation Support Unit (``decision:CCM:isu-hosting``). Pure: no clock, no I/O.

The question; the options, added over time (who proposed each, when, where); the
documents (discussion paper versions with dates and authors); rounds of consultation,
each with a deadline for written comments (a reminder before it, and the round closes by
itself the day after); the positions of States and observers on each option (or on the
process as a whole), each with the meeting or document it comes from, a later one
replacing an earlier one while the history keeps both; milestones tied to meetings, and
at a decision point the outcome: adopted (which option, by consensus or by a vote of the
States Parties present and voting) or deferred to a named later meeting.

Who decides is a rule of the treaty profile (:class:`~domain.treaties.DecisionRules`):
only a Meeting of States Parties or a Review Conference decides (CCM Art. 11(1), 12);
observers' positions are recorded, never counted (CCM Art. 11(3)); a vote counts the
States Parties present and voting.

``decide(state, command, profile, today)`` returns the events a command causes or raises
:class:`~domain.errors.DomainError` (what is wrong, what would be accepted);
``evolve(state, event)`` folds one event. A command that repeats what the record already
says causes no event (an import can be run twice).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.errors import DomainError
from domain.events import (
    CommentDeadlineReminded,
    ConsultationRoundClosed,
    ConsultationRoundOpened,
    DecisionAdopted,
    DecisionDeferred,
    DecisionDocumentRecorded,
    DecisionMilestoneSet,
    DecisionOpened,
    DecisionOptionAdded,
    DomainEvent,
    PositionStated,
)
from domain.states import Participant, resolve_participant
from domain.treaties import TreatyProfile

Stance = Literal["support", "oppose", "prefer", "undecided", "condition"]
STANCES: tuple[str, ...] = ("support", "oppose", "prefer", "undecided", "condition")

#: Days before the written-comments deadline the reminder goes, unless a round says.
DEFAULT_REMIND_DAYS = 7

_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
ONE_DAY = timedelta(days=1)


# --- commands ------------------------------------------------------------------------------


class OpenDecision(BaseModel):
    """Open the process: the ``question`` to decide, on ``opened_on``."""

    kind: Literal["open"] = "open"
    question: str
    opened_on: date


class AddOption(BaseModel):
    """Put forward option ``option`` (a key: lower-case letters, digits, ``-``)."""

    kind: Literal["option"] = "option"
    option: str
    title: str
    proposed_by: str
    proposed_on: date
    source: str


class RecordDocument(BaseModel):
    """A new version of ``document`` (a key), dated ``dated`` (None: not given)."""

    kind: Literal["document"] = "document"
    document: str
    title: str
    dated: date | None = None
    label: str | None = None
    authors: tuple[str, ...] = ()
    source: str


class OpenRound(BaseModel):
    """A round of consultation with written comments due by ``comments_due`` (None: the
    record gives no deadline); the reminder goes ``remind_days`` days before it."""

    kind: Literal["round"] = "round"
    round: str
    title: str
    opened_on: date
    comments_due: date | None = None
    requested_by: str | None = None
    remind_days: int = DEFAULT_REMIND_DAYS


class CloseRound(BaseModel):
    """Staff close a round before its deadline (or one without a deadline)."""

    kind: Literal["close_round"] = "close_round"
    round: str
    closed_on: date


class StatePosition(BaseModel):
    """``participant`` (a State or observer, by name or code) states ``stance`` on
    ``option`` (None: the process as a whole) on ``stated_on``, at ``meeting`` and/or in
    ``document`` (a document key, optionally ``key@version``)."""

    kind: Literal["position"] = "position"
    participant: str
    option: str | None
    stance: Stance
    condition: str | None = None
    stated_on: date
    meeting: str | None = None
    document: str | None = None


class SetMilestone(BaseModel):
    """A meeting the process runs to; ``decision_point``: the outcome is taken there."""

    kind: Literal["milestone"] = "milestone"
    meeting: str
    meeting_kind: str
    opens_on: date
    closes_on: date
    decision_point: bool = False
    purpose: str | None = None


class LaterMeeting(BaseModel):
    """The meeting a decision is deferred to (its kind and dates, if not a milestone yet)."""

    meeting: str
    meeting_kind: str | None = None
    opens_on: date | None = None
    closes_on: date | None = None


class RecordOutcome(BaseModel):
    """The outcome at decision point ``meeting`` on ``decided_on``: ``adopted`` (``option``
    by ``method``; a vote with its figures) or ``deferred`` (to ``deferred_to``)."""

    kind: Literal["outcome"] = "outcome"
    meeting: str
    decided_on: date
    result: Literal["adopted", "deferred"]
    option: str | None = None
    method: Literal["consensus", "vote"] | None = None
    present: int | None = None
    in_favour: int | None = None
    against: int | None = None
    abstaining: int | None = None
    deferred_to: LaterMeeting | None = None


class Tick(BaseModel):
    """Internal: a day came (the workflow's timer); reminders and deadlines that are due."""

    kind: Literal["tick"] = "tick"


Command = Annotated[
    OpenDecision
    | AddOption
    | RecordDocument
    | OpenRound
    | CloseRound
    | StatePosition
    | SetMilestone
    | RecordOutcome
    | Tick,
    Field(discriminator="kind"),
]


# --- state ---------------------------------------------------------------------------------


class Option(BaseModel):
    model_config = ConfigDict(frozen=True)

    option: str
    title: str
    proposed_by: str
    proposed_by_kind: Literal["state", "observer"]
    proposed_on: date | None
    source: str


class DocumentVersion(BaseModel):
    model_config = ConfigDict(frozen=True)

    document: str
    version: int
    title: str
    dated: date | None
    label: str | None = None
    authors: tuple[str, ...] = ()
    source: str


class Round(BaseModel):
    model_config = ConfigDict(frozen=True)

    round: str
    title: str
    opened_on: date | None
    requested_by: str | None = None
    comments_due: date | None = None
    remind_on: date | None = None
    reminded_on: date | None = None
    closed_on: date | None = None
    close_reason: str | None = None
    historical: bool = False

    @property
    def open(self) -> bool:
        return self.closed_on is None

    @property
    def closes_on(self) -> date | None:
        """The day the round closes by itself: the day after the comments are due."""
        return self.comments_due + ONE_DAY if self.comments_due else None


class Position(BaseModel):
    model_config = ConfigDict(frozen=True)

    participant: str
    participant_kind: Literal["state", "observer"]
    option: str | None
    stance: Stance
    condition: str | None = None
    stated_on: date | None
    meeting: str | None = None
    document: str | None = None

    @property
    def source(self) -> str:
        """Where it was stated: the meeting and/or document."""
        return " / ".join(x for x in (self.meeting, self.document) if x)


class Milestone(BaseModel):
    model_config = ConfigDict(frozen=True)

    meeting: str
    kind: str
    opens_on: date
    closes_on: date
    decision_point: bool
    purpose: str | None = None
    outcome: Literal["adopted", "deferred"] | None = None
    deferred_to: str | None = None
    decided_on: date | None = None


class Adoption(BaseModel):
    model_config = ConfigDict(frozen=True)

    meeting: str
    option: str
    decided_on: date | None
    method: Literal["consensus", "vote"]
    present: int | None = None
    in_favour: int | None = None
    against: int | None = None
    abstaining: int | None = None


class DecisionState(BaseModel):
    """The state of one decision process.

    ``positions``: every position stated, in order (the history); the current one of a
    participant on an option is the last (:meth:`current_positions`). ``milestones``:
    by meeting name, in the order set. ``adopted``: the decision taken, if any.
    """

    treaty: str
    slug: str
    version: int = 0
    question: str | None = None
    opened_on: date | None = None
    options: dict[str, Option] = {}
    documents: list[DocumentVersion] = []
    rounds: dict[str, Round] = {}
    positions: list[Position] = []
    milestones: dict[str, Milestone] = {}
    milestone_history: list[Milestone] = []
    adopted: Adoption | None = None

    @property
    def status(self) -> str:
        if self.question is None:
            return "not opened"
        return "adopted" if self.adopted else "open"

    def current_positions(self) -> list[Position]:
        """The positions in force: the last of each (participant, option), in the order
        first stated."""
        latest: dict[tuple[str, str | None], Position] = {}
        for p in self.positions:
            latest.pop((p.participant, p.option), None)
            latest[(p.participant, p.option)] = p
        order: dict[tuple[str, str | None], int] = {}
        for i, p in enumerate(self.positions):
            order.setdefault((p.participant, p.option), i)
        return sorted(latest.values(), key=lambda p: order[(p.participant, p.option)])

    def next_decision_point(self) -> Milestone | None:
        """The decision point still ahead: the last one set without an outcome."""
        pending = [m for m in self.milestones.values() if m.decision_point and m.outcome is None]
        return min(pending, key=lambda m: m.opens_on) if pending else None


def initial_state(treaty: str, slug: str) -> DecisionState:
    """Before any event: nothing recorded for ``slug`` under ``treaty``."""
    return DecisionState(treaty=treaty, slug=slug)


# --- queries -------------------------------------------------------------------------------


class Tally(BaseModel):
    """For one option (None: the process as a whole), who took each stance: States and
    observers apart (observers are recorded, not counted: CCM Art. 11(3))."""

    option: str | None
    states: dict[str, list[str]]
    observers: dict[str, list[str]]


def tally(s: DecisionState) -> list[Tally]:
    """The current positions per option (in the order the options were put forward, then
    the process as a whole), each stance with the participants' codes in order stated."""
    result = []
    for key in [*s.options, None]:
        states: dict[str, list[str]] = {st: [] for st in STANCES}
        observers: dict[str, list[str]] = {st: [] for st in STANCES}
        for p in s.current_positions():
            if p.option == key:
                (states if p.participant_kind == "state" else observers)[p.stance].append(
                    p.participant
                )
        result.append(Tally(option=key, states=states, observers=observers))
    return result


class DueItem(BaseModel):
    """Something ahead: ``on`` (date), ``what`` happens, ``ref`` (round or meeting)."""

    on: date
    what: str
    ref: str


def due_next(s: DecisionState, today: date) -> list[DueItem]:
    """What is due on or after ``today``, soonest first: comment reminders and deadlines of
    open rounds, meetings of the milestones not yet held."""
    items: list[DueItem] = []
    for r in s.rounds.values():
        if not r.open:
            continue
        if r.remind_on and r.reminded_on is None and r.remind_on >= today:
            items.append(
                DueItem(on=r.remind_on, what="reminder: written comments due", ref=r.round)
            )
        if r.comments_due and r.comments_due >= today:
            items.append(DueItem(on=r.comments_due, what="written comments due", ref=r.round))
    for m in s.milestones.values():
        if m.outcome is None and m.closes_on >= today:
            what = "decision point" if m.decision_point else (m.purpose or "meeting")
            items.append(DueItem(on=m.opens_on, what=what, ref=m.meeting))
    return sorted(items, key=lambda i: (i.on, i.ref))


def open_items(s: DecisionState) -> dict[str, list[str]]:
    """What is open: rounds still taking comments, and decision points without an outcome."""
    return {
        "rounds": [r.round for r in s.rounds.values() if r.open],
        "decision_points": [
            m.meeting for m in s.milestones.values() if m.decision_point and m.outcome is None
        ],
    }


# --- rules ---------------------------------------------------------------------------------


def _refuse(message: str) -> DomainError:
    return DomainError(message)


def _not_future(what: str, day: date | None, today: date) -> None:
    if day is not None and day > today:
        raise _refuse(f"{what} {day.isoformat()} is in the future (today is {today.isoformat()})")


def _key(what: str, key: str) -> None:
    if not _KEY.match(key):
        raise _refuse(
            f"{what} {key!r} is not a key: use lower-case letters, digits and '-', e.g. 'gichd'"
        )


def _participant(name: str) -> Participant:
    return resolve_participant(name)  # UnknownStateError is a DomainError


def _option_names(s: DecisionState) -> str:
    return ", ".join(s.options) or "none yet"


def _process(s: DecisionState) -> str:
    return f"decision:{s.treaty}:{s.slug}"


def _meeting(s: DecisionState, name: str) -> Milestone | None:
    for key, m in s.milestones.items():
        if key.lower() == name.strip().lower():
            return m
    return None


def _check_milestone_kind(kind: str, decision_point: bool, profile: TreatyProfile) -> None:
    rules = profile.decisions
    if decision_point and kind not in rules.meeting_kinds:
        raise _refuse(
            f"a meeting of kind {kind!r} cannot take the decisions of the States Parties "
            f"({rules.article}): a decision point must be a " + " or a ".join(rules.meeting_kinds)
        )


def _check_document(s: DecisionState, ref: str) -> None:
    key, _, version = ref.partition("@")
    versions = [d for d in s.documents if d.document == key]
    if not versions:
        known = sorted({d.document for d in s.documents}) or ["none yet"]
        raise _refuse(
            f"no document {key!r} in {_process(s)}: documents are {', '.join(known)} "
            "(record it first with its version)"
        )
    if version and not any(str(d.version) == version for d in versions):
        raise _refuse(
            f"document {key!r} has no version {version!r}: versions are "
            + ", ".join(str(d.version) for d in versions)
        )


def check_command(command: BaseModel, profile: TreatyProfile, today: date) -> None:
    """The checks that need no state (dates not in the future, keys well formed, vote
    figures adding up, names known). :func:`decide` runs them too; the CLI runs them first,
    so such a refusal needs no server. Raises :class:`DomainError`."""
    match command:
        case OpenDecision() as c:
            if not c.question.strip():
                raise _refuse("the question is empty: say what the States Parties are to decide")
            _not_future("opening date", c.opened_on, today)
            if c.opened_on < profile.opened_for_signature_on:
                raise _refuse(
                    f"opening date {c.opened_on.isoformat()} is before the {profile.code} was "
                    f"opened for signature ({profile.opened_for_signature_on.isoformat()}, "
                    f"{profile.signature_article}): a decision of its States Parties opens on "
                    "or after that day"
                )
        case AddOption() as c:
            _key("option", c.option)
            _not_future("proposal date", c.proposed_on, today)
            _participant(c.proposed_by)
            if not c.source.strip():
                raise _refuse("give the source of the option (the meeting or document)")
        case RecordDocument() as c:
            _key("document", c.document)
            _not_future("document date", c.dated, today)
        case OpenRound() as c:
            _key("round", c.round)
            _not_future("opening date", c.opened_on, today)
            if c.comments_due is not None and c.comments_due < c.opened_on:
                raise _refuse(
                    f"comments due {c.comments_due.isoformat()} before the round opens on "
                    f"{c.opened_on.isoformat()}"
                )
            if c.remind_days < 0:
                raise _refuse(f"remind_days must be 0 or more, got {c.remind_days}")
        case CloseRound() as c:
            _not_future("closing date", c.closed_on, today)
        case StatePosition() as c:
            _participant(c.participant)
            _not_future("position date", c.stated_on, today)
            if c.stance not in STANCES:
                raise _refuse(f"unknown stance {c.stance!r}: expected one of {', '.join(STANCES)}")
            if c.stance == "condition" and not (c.condition or "").strip():
                raise _refuse("a condition needs its words (e.g. 'decide this year')")
            if not (c.meeting or c.document):
                raise _refuse(
                    "give the source of the position: the meeting or the document it comes from"
                )
            if c.meeting and c.document:
                raise _refuse(
                    f"give one source of the position, the meeting ({c.meeting!r}) or the "
                    f"document ({c.document!r}), not both: they are alternatives"
                )
        case SetMilestone() as c:
            if c.closes_on < c.opens_on:
                raise _refuse(
                    f"{c.meeting} closes on {c.closes_on.isoformat()}, before it opens on "
                    f"{c.opens_on.isoformat()}"
                )
            _check_milestone_kind(c.meeting_kind, c.decision_point, profile)
        case RecordOutcome() as c:
            _not_future("decision date", c.decided_on, today)
            if c.result == "adopted":
                _check_adoption(c, profile)
            else:
                if c.deferred_to is None:
                    raise _refuse("a deferral names the later meeting it goes to")
                if c.option or c.method:
                    raise _refuse("a deferral adopts no option: give no option nor method")


def _check_adoption(c: RecordOutcome, profile: TreatyProfile) -> None:
    if not c.option:
        raise _refuse("an adoption names the option adopted")
    figures = (c.present, c.in_favour, c.against, c.abstaining)
    if c.method == "consensus":
        if any(f is not None for f in figures):
            raise _refuse("adopted by consensus: give no vote figures (or record a vote)")
        return
    if c.method != "vote":
        raise _refuse("say how it was adopted: by consensus or by vote")
    if any(f is None for f in figures):
        raise _refuse(
            "a vote needs its figures: States Parties present, in favour, against, abstaining"
        )
    present, yes, no, abstain = (int(f) for f in figures)  # type: ignore[arg-type]
    if min(present, yes, no, abstain) < 0:
        raise _refuse("vote figures cannot be negative")
    if yes + no + abstain != present:
        raise _refuse(
            f"the vote figures do not add up: {yes} in favour + {no} against + {abstain} "
            f"abstaining = {yes + no + abstain}, but {present} States Parties present "
            "(only States Parties present count; observers do not vote)"
        )
    if not profile.decisions.carries(yes, no):
        need = "two thirds" if profile.decisions.majority == "two_thirds" else "a majority"
        raise _refuse(
            f"{yes} in favour and {no} against do not carry the option: it needs {need} of "
            f"the {yes + no} States Parties present and voting ({profile.decisions.article}); "
            "record it as not adopted by deferring, or check the figures"
        )


def decide(
    s: DecisionState, command: BaseModel, profile: TreatyProfile, today: date
) -> list[DomainEvent]:
    """The events ``command`` causes in ``s``, or :class:`DomainError` if refused.

    Rules: the process is opened once, before anything else; once a decision is adopted
    nothing more is recorded; a position is on an option that exists (or on the process
    as a whole) and names its source; a document it cites must be recorded; an outcome is
    taken at a decision point (a Meeting of States Parties or Review Conference, CCM Art.
    11(1), 12) within the meeting's dates; a vote's figures must add up (present = in
    favour + against + abstaining: States Parties only, CCM Art. 11(3)) and carry the
    option (profile ``decisions.majority``); a deferral goes to a later deciding meeting.
    """
    if isinstance(command, Tick):
        return _tick(s, today)
    if isinstance(command, OpenDecision):
        check_command(command, profile, today)
        if s.question is not None:
            if s.question == command.question.strip():
                return []
            raise _refuse(f"{_process(s)} is already open on the question {s.question!r}")
        return [DecisionOpened(occurred_on=command.opened_on, question=command.question.strip())]
    if s.question is None:
        raise _refuse(f"{_process(s)} is not open: open it first with its question")
    if already_recorded(s, command):
        return []
    if s.adopted is not None:
        a = s.adopted
        raise _refuse(
            f"{_process(s)} was decided at the {a.meeting} ({a.option} adopted by {a.method}"
            f"{', ' + a.decided_on.isoformat() if a.decided_on else ''}): nothing more is "
            "recorded in it"
        )
    check_command(command, profile, today)
    _check_after_opening(s, command)
    match command:
        case AddOption() as c:
            who = _participant(c.proposed_by)
            existing = s.options.get(c.option)
            new = Option(
                option=c.option,
                title=c.title,
                proposed_by=who.code,
                proposed_by_kind=who.kind,
                proposed_on=c.proposed_on,
                source=c.source,
            )
            if existing is not None:
                if existing == new:
                    return []
                raise _refuse(
                    f"option {c.option!r} was already put forward ({existing.title}, by "
                    f"{existing.proposed_by}); give another key"
                )
            return [
                DecisionOptionAdded(
                    occurred_on=c.proposed_on,
                    option=c.option,
                    title=c.title,
                    proposed_by=who.code,
                    proposed_by_kind=who.kind,
                    source=c.source,
                )
            ]
        case RecordDocument() as c:
            versions = [d for d in s.documents if d.document == c.document]
            for d in versions:
                if (d.title, d.dated, d.label, d.authors, d.source) == (
                    c.title,
                    c.dated,
                    c.label,
                    tuple(c.authors),
                    c.source,
                ):
                    return []
            last = versions[-1] if versions else None
            if last and last.dated and c.dated and c.dated < last.dated:
                raise _refuse(
                    f"version {last.version + 1} of {c.document!r} is dated {c.dated.isoformat()}"
                    f", before version {last.version} ({last.dated.isoformat()})"
                )
            return [
                DecisionDocumentRecorded(
                    occurred_on=c.dated,
                    document=c.document,
                    version=len(versions) + 1,
                    title=c.title,
                    label=c.label,
                    authors=tuple(c.authors),
                    source=c.source,
                )
            ]
        case OpenRound() as c:
            historical = c.comments_due is not None and c.comments_due < today
            remind_on = None
            if c.comments_due is not None and not historical:
                remind_on = max(c.comments_due - timedelta(days=c.remind_days), c.opened_on)
                if remind_on < today:
                    remind_on = None  # already past when recorded: no reminder
            requested_by = _participant(c.requested_by).code if c.requested_by else None
            existing = s.rounds.get(c.round)
            if existing is not None:
                if (existing.title, existing.comments_due, existing.opened_on) == (
                    c.title,
                    c.comments_due,
                    c.opened_on,
                ):
                    return []
                raise _refuse(f"round {c.round!r} was already opened; give another key")
            return [
                ConsultationRoundOpened(
                    occurred_on=c.opened_on,
                    round=c.round,
                    title=c.title,
                    requested_by=requested_by,
                    comments_due=c.comments_due,
                    remind_on=remind_on,
                    historical=historical,
                )
            ]
        case CloseRound() as c:
            r = s.rounds.get(c.round)
            if r is None:
                raise _refuse(
                    f"no round {c.round!r} in {_process(s)}: rounds are "
                    + (", ".join(s.rounds) or "none yet")
                )
            if not r.open:
                raise _refuse(f"round {c.round!r} closed on {r.closed_on}")
            return [
                ConsultationRoundClosed(occurred_on=c.closed_on, round=c.round, reason="closed")
            ]
        case StatePosition() as c:
            if c.option is not None and c.option not in s.options:
                raise _refuse(
                    f"no option {c.option!r} in {_process(s)}: the options are "
                    f"{_option_names(s)} (or none, for a position on the process as a whole)"
                )
            if c.document:
                _check_document(s, c.document)
            who = _participant(c.participant)
            new = Position(
                participant=who.code,
                participant_kind=who.kind,
                option=c.option,
                stance=c.stance,
                condition=(c.condition or "").strip() or None,
                stated_on=c.stated_on,
                meeting=c.meeting,
                document=c.document,
            )
            current = [
                p
                for p in s.current_positions()
                if (p.participant, p.option) == (who.code, c.option)
            ]
            if current and current[0] == new:
                return []
            if current and current[0].stated_on and c.stated_on < current[0].stated_on:
                raise _refuse(
                    f"{who.name} stated a position on {c.option or 'the process'} on "
                    f"{current[0].stated_on.isoformat()}, after {c.stated_on.isoformat()}: a "
                    "position replaces only an earlier one"
                )
            return [
                PositionStated(
                    occurred_on=c.stated_on,
                    participant=who.code,
                    participant_kind=who.kind,
                    option=c.option,
                    stance=c.stance,
                    condition=new.condition,
                    meeting=c.meeting,
                    document=c.document,
                )
            ]
        case SetMilestone() as c:
            existing = _meeting(s, c.meeting)
            if existing is not None and existing.outcome is not None:
                raise _refuse(
                    f"the {existing.meeting} already took its outcome ({existing.outcome})"
                )
            event = DecisionMilestoneSet(
                occurred_on=None,
                meeting=existing.meeting if existing else c.meeting.strip(),
                kind=c.meeting_kind,
                opens_on=c.opens_on,
                closes_on=c.closes_on,
                decision_point=c.decision_point,
                purpose=c.purpose,
            )
            if existing is not None and (
                existing.kind,
                existing.opens_on,
                existing.closes_on,
                existing.decision_point,
                existing.purpose,
            ) == (c.meeting_kind, c.opens_on, c.closes_on, c.decision_point, c.purpose):
                return []
            return [event]
        case RecordOutcome() as c:
            return _outcome(s, c, profile)
    raise _refuse(f"unknown command {command!r}")  # pragma: no cover


def _check_after_opening(s: DecisionState, command: BaseModel) -> None:
    """A dated fact of the process (an option, a round opened or closed, a position, an
    outcome) is not dated before the process opened; a position stated at a milestone's
    meeting is dated within that meeting's dates. Documents may predate the opening (a
    paper can precede the question). Raises :class:`DomainError`."""
    day: date | None = None
    what = ""
    match command:
        case AddOption() as c:
            day, what = c.proposed_on, f"option {c.option!r} proposed on"
        case OpenRound() as c:
            day, what = c.opened_on, f"round {c.round!r} opened on"
        case CloseRound() as c:
            day, what = c.closed_on, f"round {c.round!r} closed on"
        case StatePosition() as c:
            day, what = c.stated_on, "position stated on"
            m = _meeting(s, c.meeting) if c.meeting else None
            if m is not None and not m.opens_on <= c.stated_on <= m.closes_on:
                raise _refuse(
                    f"the {m.meeting} met from {m.opens_on.isoformat()} to "
                    f"{m.closes_on.isoformat()}: a position stated there is dated within "
                    f"those days, not {c.stated_on.isoformat()}"
                )
        case RecordOutcome() as c:
            day, what = c.decided_on, "outcome decided on"
    if day is not None and s.opened_on is not None and day < s.opened_on:
        raise _refuse(
            f"{what} {day.isoformat()}, before {_process(s)} opened "
            f"({s.opened_on.isoformat()}): give a date on or after the opening"
        )


def check_present(c: RecordOutcome, parties: int, treaty: str) -> None:
    """A vote's ``present`` is at most ``parties``, the number of States Parties on the
    day of the decision (those that had deposited their instrument, from the ratification
    record; only States Parties vote, CCM Art. 11(3)). Raises :class:`DomainError`."""
    if c.method == "vote" and c.present is not None and c.present > parties:
        raise _refuse(
            f"{c.present} States Parties present, but the {treaty} had {parties} States "
            f"Parties on {c.decided_on.isoformat()} (ratification record): at most {parties} "
            "can be present and voting"
        )


def check_meeting(
    s: DecisionState | None,
    c: StatePosition,
    table: dict[str, tuple[date, date]],
) -> None:
    """A position's ``meeting`` is a known meeting: one of ``table`` (the Meetings the
    treaty process records: name -> (opens_on, closes_on)), a milestone of the process, or
    a meeting its record already cites; at a meeting of the table the position is dated
    within its days. Raises :class:`DomainError` naming the meetings accepted."""
    if not c.meeting:
        return
    name = c.meeting.strip().lower()
    if s is not None and _meeting(s, c.meeting) is not None:
        return  # a milestone: its dates are checked by decide
    for key, (opens, closes) in table.items():
        if key.lower() == name:
            if not opens <= c.stated_on <= closes:
                raise _refuse(
                    f"the {key} met from {opens.isoformat()} to {closes.isoformat()}: a "
                    f"position stated there is dated within those days, not "
                    f"{c.stated_on.isoformat()}"
                )
            return
    cited = {p.meeting for p in (s.positions if s else []) if p.meeting}
    if any(m.strip().lower() == name for m in cited):
        return
    known = [*table, *(s.milestones if s else {}), *sorted(cited)]
    raise _refuse(
        f"unknown meeting {c.meeting!r}: give a Meeting the treaty process records (`treaty "
        f"meetings import FILE`) or one of this process ({', '.join(known) or 'none known'}), "
        "or cite a --document instead"
    )


def _same_text(a: str | None, b: str | None) -> bool:
    return (a or "").strip() == (b or "").strip()


def already_recorded(s: DecisionState, command: BaseModel) -> bool:
    """Whether the history of ``s`` already holds ``command``'s fact identically (same
    participant, option, stance, date, source ...), even if a later fact has since
    replaced it: such a command records nothing, so that a scenario or an import can be
    run again after later facts were recorded. Unknown names count as not recorded (the
    rules then say what is wrong)."""
    try:
        match command:
            case AddOption() as c:
                o = s.options.get(c.option)
                return o is not None and (
                    o.title,
                    o.proposed_by,
                    o.proposed_on,
                    o.source,
                ) == (c.title, _participant(c.proposed_by).code, c.proposed_on, c.source)
            case RecordDocument() as c:
                return any(
                    d.document == c.document
                    and (d.title, d.dated, d.label, d.authors, d.source)
                    == (c.title, c.dated, c.label, tuple(c.authors), c.source)
                    for d in s.documents
                )
            case OpenRound() as c:
                r = s.rounds.get(c.round)
                return r is not None and (r.title, r.comments_due, r.opened_on) == (
                    c.title,
                    c.comments_due,
                    c.opened_on,
                )
            case CloseRound() as c:
                r = s.rounds.get(c.round)
                return r is not None and r.closed_on == c.closed_on
            case StatePosition() as c:
                who = _participant(c.participant)
                return any(
                    (p.participant, p.option, p.stance, p.stated_on, p.meeting, p.document)
                    == (who.code, c.option, c.stance, c.stated_on, c.meeting, c.document)
                    and _same_text(p.condition, c.condition)
                    for p in s.positions
                )
            case SetMilestone() as c:
                return any(
                    m.meeting.lower() == c.meeting.strip().lower()
                    and (m.kind, m.opens_on, m.closes_on, m.decision_point, m.purpose)
                    == (c.meeting_kind, c.opens_on, c.closes_on, c.decision_point, c.purpose)
                    for m in s.milestone_history
                )
            case RecordOutcome() as c:
                m = _meeting(s, c.meeting)
                if m is None or m.outcome != c.result or m.decided_on != c.decided_on:
                    return False
                if c.result == "deferred":
                    later = c.deferred_to
                    return later is not None and (m.deferred_to or "").lower() == (
                        later.meeting.strip().lower()
                    )
                a = s.adopted
                return a is not None and (
                    a.option,
                    a.method,
                    a.present,
                    a.in_favour,
                    a.against,
                    a.abstaining,
                ) == (c.option, c.method, c.present, c.in_favour, c.against, c.abstaining)
    except DomainError:
        return False
    return False


def _outcome(s: DecisionState, c: RecordOutcome, profile: TreatyProfile) -> list[DomainEvent]:
    m = _meeting(s, c.meeting)
    points = [x.meeting for x in s.milestones.values() if x.decision_point and x.outcome is None]
    if m is None or not m.decision_point:
        what = "is not a milestone of" if m is None else "is not a decision point of"
        raise _refuse(
            f"{c.meeting!r} {what} {_process(s)}: an outcome is taken at a decision point ("
            + (", ".join(points) or "none set: set one with its meeting")
            + f"; {profile.decisions.article})"
        )
    if m.outcome is not None:
        raise _refuse(f"the {m.meeting} already took its outcome ({m.outcome})")
    if not m.opens_on <= c.decided_on <= m.closes_on:
        raise _refuse(
            f"the {m.meeting} met from {m.opens_on.isoformat()} to {m.closes_on.isoformat()}: "
            f"an outcome dated {c.decided_on.isoformat()} was not taken there"
        )
    if c.result == "adopted":
        if c.option not in s.options:
            raise _refuse(
                f"no option {c.option!r} in {_process(s)}: the options are {_option_names(s)}"
            )
        assert c.method is not None and c.option is not None
        return [
            DecisionAdopted(
                occurred_on=c.decided_on,
                meeting=m.meeting,
                option=c.option,
                method=c.method,
                present=c.present,
                in_favour=c.in_favour,
                against=c.against,
                abstaining=c.abstaining,
            )
        ]
    later = c.deferred_to
    assert later is not None
    target = _meeting(s, later.meeting)
    events: list[DomainEvent] = [
        DecisionDeferred(
            occurred_on=c.decided_on,
            meeting=m.meeting,
            to_meeting=target.meeting if target else later.meeting.strip(),
        )
    ]
    if target is not None:
        opens_on, kind = target.opens_on, target.kind
        if not target.decision_point:
            _check_milestone_kind(kind, True, profile)
    else:
        if later.opens_on is None or later.closes_on is None or later.meeting_kind is None:
            raise _refuse(
                f"{later.meeting!r} is not a milestone yet: give its kind and dates "
                "(e.g. MSP, 2012-09-11 to 2012-09-14)"
            )
        opens_on, kind = later.opens_on, later.meeting_kind
        _check_milestone_kind(kind, True, profile)
        if later.closes_on < later.opens_on:
            raise _refuse(f"{later.meeting} closes before it opens")
    if opens_on <= m.closes_on:
        raise _refuse(
            f"a decision is deferred to a later meeting: {later.meeting} opens on "
            f"{opens_on.isoformat()}, not after the {m.meeting} ({m.closes_on.isoformat()})"
        )
    if target is None or not target.decision_point:
        events.append(
            DecisionMilestoneSet(
                occurred_on=c.decided_on,
                meeting=target.meeting if target else later.meeting.strip(),
                kind=kind,
                opens_on=opens_on,
                closes_on=target.closes_on if target else later.closes_on,  # type: ignore[arg-type]
                decision_point=True,
                purpose=f"decision deferred from the {m.meeting}",
            )
        )
    return events


def _tick(s: DecisionState, today: date) -> list[DomainEvent]:
    """Reminders and deadlines reached by ``today``: the reminder (if one is due, not sent,
    and the deadline not yet passed) always goes before the round's closing."""
    events: list[DomainEvent] = []
    for r in s.rounds.values():
        if not r.open:
            continue
        if (
            r.remind_on is not None
            and r.reminded_on is None
            and r.comments_due is not None
            and r.remind_on <= today <= r.comments_due  # a reminder after the deadline is moot
        ):
            events.append(
                CommentDeadlineReminded(
                    occurred_on=today, round=r.round, comments_due=r.comments_due
                )
            )
        closes_on = r.closes_on
        if closes_on is not None and closes_on <= today:
            events.append(
                ConsultationRoundClosed(
                    occurred_on=closes_on, round=r.round, reason="deadline", historical=r.historical
                )
            )
    return events


def next_wakeup(s: DecisionState) -> date | None:
    """The next day a timer must wake the process: a reminder or a round's closing."""
    days = []
    for r in s.rounds.values():
        if not r.open:
            continue
        if r.remind_on is not None and r.reminded_on is None:
            days.append(r.remind_on)
        if r.closes_on is not None:
            days.append(r.closes_on)
    return min(days) if days else None


def evolve(s: DecisionState, event: DomainEvent) -> DecisionState:
    """``s`` after ``event`` (a new object)."""
    changes: dict[str, object] = {"version": s.version + 1}
    match event:
        case DecisionOpened() as e:
            changes.update(question=e.question, opened_on=e.occurred_on)
        case DecisionOptionAdded() as e:
            changes["options"] = {
                **s.options,
                e.option: Option(
                    option=e.option,
                    title=e.title,
                    proposed_by=e.proposed_by,
                    proposed_by_kind=e.proposed_by_kind,
                    proposed_on=e.occurred_on,
                    source=e.source,
                ),
            }
        case DecisionDocumentRecorded() as e:
            changes["documents"] = [
                *s.documents,
                DocumentVersion(
                    document=e.document,
                    version=e.version,
                    title=e.title,
                    dated=e.occurred_on,
                    label=e.label,
                    authors=e.authors,
                    source=e.source,
                ),
            ]
        case ConsultationRoundOpened() as e:
            changes["rounds"] = {
                **s.rounds,
                e.round: Round(
                    round=e.round,
                    title=e.title,
                    opened_on=e.occurred_on,
                    requested_by=e.requested_by,
                    comments_due=e.comments_due,
                    remind_on=e.remind_on,
                    historical=e.historical,
                ),
            }
        case CommentDeadlineReminded() as e:
            r = s.rounds[e.round]
            changes["rounds"] = {
                **s.rounds,
                e.round: r.model_copy(update={"reminded_on": e.occurred_on}),
            }
        case ConsultationRoundClosed() as e:
            r = s.rounds[e.round]
            changes["rounds"] = {
                **s.rounds,
                e.round: r.model_copy(
                    update={"closed_on": e.occurred_on, "close_reason": e.reason}
                ),
            }
        case PositionStated() as e:
            changes["positions"] = [
                *s.positions,
                Position(
                    participant=e.participant,
                    participant_kind=e.participant_kind,
                    option=e.option,
                    stance=e.stance,
                    condition=e.condition,
                    stated_on=e.occurred_on,
                    meeting=e.meeting,
                    document=e.document,
                ),
            ]
        case DecisionMilestoneSet() as e:
            set_ = Milestone(
                meeting=e.meeting,
                kind=e.kind,
                opens_on=e.opens_on,
                closes_on=e.closes_on,
                decision_point=e.decision_point,
                purpose=e.purpose,
            )
            changes["milestones"] = {**s.milestones, e.meeting: set_}
            changes["milestone_history"] = [*s.milestone_history, set_]
        case DecisionAdopted() as e:
            m = s.milestones[e.meeting]
            changes["milestones"] = {
                **s.milestones,
                e.meeting: m.model_copy(update={"outcome": "adopted", "decided_on": e.occurred_on}),
            }
            changes["adopted"] = Adoption(
                meeting=e.meeting,
                option=e.option,
                decided_on=e.occurred_on,
                method=e.method,
                present=e.present,
                in_favour=e.in_favour,
                against=e.against,
                abstaining=e.abstaining,
            )
        case DecisionDeferred() as e:
            m = s.milestones[e.meeting]
            changes["milestones"] = {
                **s.milestones,
                e.meeting: m.model_copy(
                    update={
                        "outcome": "deferred",
                        "deferred_to": e.to_meeting,
                        "decided_on": e.occurred_on,
                    }
                ),
            }
    return s.model_copy(update=changes)


def fold(s: DecisionState, events: list[DomainEvent]) -> DecisionState:
    """Fold ``events`` into ``s`` in order."""
    for event in events:
        s = evolve(s, event)
    return s
