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

from domain.reporting_types import ReminderPolicy, StateOutcome, Submission
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
    only from its entry-into-force date. ``provisional_application_on``: the date the State
    declared provisional application, where the record gives it; ``succession_on``: for a
    notification of succession (``occurred_on``: the date the depositary received it), the
    date of the succession of States, None when the record does not give it.
    """

    type: Literal["InstrumentDeposited"] = "InstrumentDeposited"
    state: str
    instrument: Instrument
    provisional_application: bool = False
    reservations: tuple[str, ...] = ()
    provisional_application_on: date | None = None
    succession_on: date | None = None


class SignatureDateRecorded(DomainEvent):
    """The date (``occurred_on``) of a signature recorded before with its date unknown, now
    given by the depositary's record: a fact the record lacked, not a second signature."""

    type: Literal["SignatureDateRecorded"] = "SignatureDateRecorded"
    state: str


class ProvisionalApplicationRecorded(DomainEvent):
    """The State declared on ``occurred_on`` that it applies ``applies`` provisionally
    (``article``: the treaty's clause, CCM Art. 18), given by the record after the deposit
    was recorded without that date."""

    type: Literal["ProvisionalApplicationRecorded"] = "ProvisionalApplicationRecorded"
    state: str
    applies: str
    article: str


class SuccessionDateRecorded(DomainEvent):
    """The date of the succession of States (``occurred_on``) of a successor State whose
    notification of succession was recorded without it."""

    type: Literal["SuccessionDateRecorded"] = "SuccessionDateRecorded"
    state: str


class DepositaryNoteRecorded(DomainEvent):
    """An end note of the depositary's record on the State: ``kind`` ``declaration``,
    ``reservation``, ``objection``, ``communication`` or ``note``; ``text`` as written;
    ``mark`` its footnote number on the record, if any. ``occurred_on``: None (the note's
    own dates are in its text)."""

    type: Literal["DepositaryNoteRecorded"] = "DepositaryNoteRecorded"
    state: str
    kind: str
    text: str
    mark: str | None = None


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


# --- decision:<CODE>:<slug> (decisions of the States Parties) ---------------------------


class DecisionOpened(DomainEvent):
    """A decision process is opened: the ``question`` the States Parties are to decide."""

    type: Literal["DecisionOpened"] = "DecisionOpened"
    question: str


class DecisionOptionAdded(DomainEvent):
    """An option was put forward (``occurred_on``: when), by ``proposed_by`` (a State's
    ISO3 code or an observer's acronym; ``proposed_by_kind``), with its ``source``."""

    type: Literal["DecisionOptionAdded"] = "DecisionOptionAdded"
    option: str
    title: str
    proposed_by: str
    proposed_by_kind: Literal["state", "observer"]
    source: str


class DecisionDocumentRecorded(DomainEvent):
    """A version of a document of the process (a discussion paper), ``version`` 1, 2 ...
    per ``document``, with its ``label`` (e.g. "updated"), ``authors`` and ``source``
    (``occurred_on``: the version's date, None if the record gives none)."""

    type: Literal["DecisionDocumentRecorded"] = "DecisionDocumentRecorded"
    document: str
    version: int
    title: str
    label: str | None = None
    authors: tuple[str, ...] = ()
    source: str


class ConsultationRoundOpened(DomainEvent):
    """A round of consultation opened (``occurred_on``), asking for written comments by
    ``comments_due`` (None: no deadline given). ``remind_on``: the day a reminder is due
    (None: none, e.g. the day was already past when the round was recorded);
    ``historical``: the deadline was already past when it was recorded."""

    type: Literal["ConsultationRoundOpened"] = "ConsultationRoundOpened"
    round: str
    title: str
    requested_by: str | None = None
    comments_due: date | None = None
    remind_on: date | None = None
    historical: bool = False


class CommentDeadlineReminded(DomainEvent):
    """The reminder that the written comments of ``round`` are due on ``comments_due``
    went out (``occurred_on``: the day it went; a recorded event, delivery is elsewhere)."""

    type: Literal["CommentDeadlineReminded"] = "CommentDeadlineReminded"
    round: str
    comments_due: date


class ConsultationRoundClosed(DomainEvent):
    """The round closed: ``reason`` ``deadline`` (by itself, the day after the comments
    were due) or ``closed`` (by staff)."""

    type: Literal["ConsultationRoundClosed"] = "ConsultationRoundClosed"
    round: str
    reason: Literal["deadline", "closed"]
    historical: bool = False


class PositionStated(DomainEvent):
    """A participant's position (``occurred_on``: when stated).

    ``option``: the option it is on, None for the process as a whole (e.g. when to
    decide); ``stance``: support, oppose, prefer, undecided or condition (``condition``:
    its words); ``meeting`` / ``document``: where it was stated (at least one). A later
    position of the same participant on the same option replaces the earlier one; both
    stay in the history.
    """

    type: Literal["PositionStated"] = "PositionStated"
    participant: str
    participant_kind: Literal["state", "observer"]
    option: str | None
    stance: Literal["support", "oppose", "prefer", "undecided", "condition"]
    condition: str | None = None
    meeting: str | None = None
    document: str | None = None


class DecisionMilestoneSet(DomainEvent):
    """A meeting the process runs to (``meeting`` e.g. ``2MSP``, its ``kind``, dates);
    ``decision_point``: the outcome is to be taken there; ``purpose``: what happens there."""

    type: Literal["DecisionMilestoneSet"] = "DecisionMilestoneSet"
    meeting: str
    kind: str
    opens_on: date
    closes_on: date
    decision_point: bool
    purpose: str | None = None


class DecisionAdopted(DomainEvent):
    """The States Parties adopted ``option`` at ``meeting`` (``occurred_on``), by
    ``consensus`` or by ``vote`` (figures: States Parties present, in favour, against,
    abstaining; present and voting = in favour + against)."""

    type: Literal["DecisionAdopted"] = "DecisionAdopted"
    meeting: str
    option: str
    method: Literal["consensus", "vote"]
    present: int | None = None
    in_favour: int | None = None
    against: int | None = None
    abstaining: int | None = None


class DecisionDeferred(DomainEvent):
    """The decision was deferred at ``meeting`` to ``to_meeting``; the process goes on."""

    type: Literal["DecisionDeferred"] = "DecisionDeferred"
    meeting: str
    to_meeting: str


# --- hca:<CODE>:<meeting> (host-country agreements) -------------------------------------


class HcaMilestoneDue(BaseModel):
    """One milestone's due date as an event carries it."""

    model_config = ConfigDict(frozen=True)

    milestone: str
    due_on: date
    historical: bool = False


class HostCountryAgreementOpened(DomainEvent):
    """The host-country agreement for ``meeting`` (dates, city, venue) between the host
    State (ISO3) and the ``counterpart`` (UNODA); ``margins``: days before the opening
    each milestone is due; ``due``: the due dates they give (``historical``: already past
    when recorded, never escalated)."""

    type: Literal["HostCountryAgreementOpened"] = "HostCountryAgreementOpened"
    meeting: str
    opens_on: date
    closes_on: date
    city: str | None = None
    venue: str | None = None
    host: str
    counterpart: str
    presidency: str
    margins: dict[str, int]
    due: tuple[HcaMilestoneDue, ...]


class HcaMilestoneReached(DomainEvent):
    """A milestone was reached (``occurred_on``): draft received, a negotiation round
    (``round`` number), text agreed, signed, in force."""

    type: Literal["HcaMilestoneReached"] = "HcaMilestoneReached"
    milestone: str
    round: int | None = None
    note: str | None = None


class HcaMeetingMoved(DomainEvent):
    """The meeting's dates changed (``occurred_on``: when the change was decided); every
    due date moves with the opening (``due``)."""

    type: Literal["HcaMeetingMoved"] = "HcaMeetingMoved"
    opens_on: date
    closes_on: date
    due: tuple[HcaMilestoneDue, ...]


class HcaMilestoneEscalated(DomainEvent):
    """A milestone not reached by its due date was escalated to the Presidency
    (``occurred_on``: the day of the escalation; a recorded notice)."""

    type: Literal["HcaMilestoneEscalated"] = "HcaMilestoneEscalated"
    milestone: str
    due_on: date
    escalated_to: str


class HcaPreparationRecorded(DomainEvent):
    """A preparation for the meeting: ``item`` venue, focal point, task force, funding
    need or funding pledge (``donor``, ``amount`` in ``currency``, ISO 4217)."""

    type: Literal["HcaPreparationRecorded"] = "HcaPreparationRecorded"
    item: Literal["venue", "focal_point", "task_force", "funding_need", "funding_pledge"]
    detail: str
    donor: str | None = None
    amount: str | None = None
    currency: str | None = None


# --- reporting:<CODE>:<YEAR> and reporting:<CODE>:<YEAR>:<ISO3> (CCM Art. 7) ---------------


class ReportingCycleOpened(DomainEvent):
    """The annual reporting cycle of ``year`` opened (``occurred_on``: the day it opened).

    ``due_on``: the deadline (CCM Art. 7(2): 30 April); ``closes_on``: when the cycle
    closes (policy); ``historical``: it closed before it was opened (a record of the past:
    no reminders, staff close it); ``states``: the ISO3 codes owing the report, with
    ``in_force_on``; ``not_due``: the other parties and why (their initial report still
    running, or their withdrawal in effect by the due date); ``policy``: the reminder
    policy in force.
    """

    type: Literal["ReportingCycleOpened"] = "ReportingCycleOpened"
    treaty: str
    year: int
    due_on: date
    closes_on: date
    historical: bool
    states: tuple[str, ...]
    in_force_on: dict[str, date]
    not_due: dict[str, str]
    policy: ReminderPolicy
    article: str


class ReportingCycleClosed(DomainEvent):
    """The cycle closed with its figures, taken from what each State's report recorded:
    ``due``, ``on_time``, ``late``, ``missing`` and ``per_state``."""

    type: Literal["ReportingCycleClosed"] = "ReportingCycleClosed"
    treaty: str
    year: int
    due: int
    on_time: int
    late: int
    missing: int
    per_state: dict[str, StateOutcome]


class AnnualReportRequested(DomainEvent):
    """The State owes the annual report of ``year`` (covering ``covers_from``..``covers_to``,
    the previous calendar year) by ``due_on`` (``article``)."""

    type: Literal["AnnualReportRequested"] = "AnnualReportRequested"
    state: str
    year: int
    in_force_on: date
    due_on: date
    closes_on: date
    covers_from: date
    covers_to: date
    article: str


class ReminderSent(DomainEvent):
    """A reminder to the State's focal point (``kind`` friendly before the deadline,
    overdue after it; ``n``: its number within the report; ``planned_on``: the date the
    policy planned). Its message is written to the outbox in the same transaction."""

    type: Literal["ReminderSent"] = "ReminderSent"
    state: str
    year: int
    kind: Literal["friendly", "overdue"]
    n: int
    planned_on: date
    due_on: date


class ReportSubmitted(DomainEvent):
    """The State's report was received (``occurred_on``: date received); ``on_time``: its
    first submission was received by the deadline; ``resubmission``: after a withdrawal."""

    type: Literal["ReportSubmitted"] = "ReportSubmitted"
    state: str
    year: int
    submission: Submission
    on_time: bool
    resubmission: bool = False


class ReportWithdrawn(DomainEvent):
    """The State withdrew its report (it may submit again)."""

    type: Literal["ReportWithdrawn"] = "ReportWithdrawn"
    state: str
    year: int
    reason: str | None = None


class ReviewFindingRecorded(DomainEvent):
    """A review check found something (``check``: late, period, stockpile_grew)."""

    type: Literal["ReviewFindingRecorded"] = "ReviewFindingRecorded"
    state: str
    year: int
    check: Literal["late", "period", "stockpile_grew"]
    text: str


class ReportAccepted(DomainEvent):
    """The reviewer accepted the report."""

    type: Literal["ReportAccepted"] = "ReportAccepted"
    state: str
    year: int


class InconsistencyNoted(DomainEvent):
    """The reviewer noted an inconsistency (``text``)."""

    type: Literal["InconsistencyNoted"] = "InconsistencyNoted"
    state: str
    year: int
    text: str


class ClarificationRequested(DomainEvent):
    """The reviewer asked the State for a clarification (``text``)."""

    type: Literal["ClarificationRequested"] = "ClarificationRequested"
    state: str
    year: int
    text: str


class ClarificationAnswered(DomainEvent):
    """The State answered the clarification requested (``text``)."""

    type: Literal["ClarificationAnswered"] = "ClarificationAnswered"
    state: str
    year: int
    text: str


# --- obligations of a State Party (ratification:<CODE>:<ISO3>) -------------------------


class ObligationOpened(DomainEvent):
    """The State owes something by a date the treaty fixes (``occurred_on``: the date the
    obligation arose: entry into force, a declaration, the previous annual deadline).

    ``key``: unique in the process (``initial-report``, ``annual-report-2012``,
    ``stockpile-destruction``, ``clearance``); ``article``: the rule (``CCM Art. 7(1)``);
    ``due_on``: the deadline; ``covers``: the period an annual report covers
    (``2011-01-01/2011-12-31``); ``historical``: the deadline was already past when this
    was recorded (import of the record): no timer marks it due or overdue.
    """

    type: Literal["ObligationOpened"] = "ObligationOpened"
    state: str
    key: str
    kind: Literal["initial_report", "annual_report", "stockpile_destruction", "clearance"]
    article: str
    due_on: date
    covers: str | None = None
    historical: bool = False


class ObligationDue(DomainEvent):
    """The deadline of obligation ``key`` is today (``occurred_on`` = ``due_on``): a timer
    marked it; it is still met in time on this day."""

    type: Literal["ObligationDue"] = "ObligationDue"
    state: str
    key: str
    due_on: date


class ObligationOverdue(DomainEvent):
    """The deadline ``due_on`` of obligation ``key`` passed unmet (``occurred_on``: the day
    after it)."""

    type: Literal["ObligationOverdue"] = "ObligationOverdue"
    state: str
    key: str
    due_on: date


class ReportReceived(DomainEvent):
    """A report the State owed (``key``) was received on ``occurred_on`` by ``channel``
    (``e-mail``, ``online reporting tool``...); ``document``: its reference, if any."""

    type: Literal["ReportReceived"] = "ReportReceived"
    state: str
    key: str
    channel: str
    document: str | None = None


class ComplianceDeclared(DomainEvent):
    """The State declared it completed obligation ``key`` (``occurred_on``: date of the
    declaration; CCM Art. 3 stockpile destruction, Art. 4(1)(c) clearance), received by
    ``channel``."""

    type: Literal["ComplianceDeclared"] = "ComplianceDeclared"
    state: str
    key: str
    channel: str
    document: str | None = None


class StockpilesDeclared(DomainEvent):
    """The State declared stockpiles to destroy (CCM Art. 3; ``occurred_on``: the date of
    the declaration). An :class:`ObligationOpened` for ``stockpile-destruction`` follows."""

    type: Literal["StockpilesDeclared"] = "StockpilesDeclared"
    state: str


class ContaminationDeclared(DomainEvent):
    """The State declared areas contaminated by cluster munition remnants under its
    jurisdiction or control (CCM Art. 4). An :class:`ObligationOpened` for ``clearance``
    follows."""

    type: Literal["ContaminationDeclared"] = "ContaminationDeclared"
    state: str


class ExtensionRequested(DomainEvent):
    """The State requested to extend the deadline of ``key`` to ``requested_until``, to be
    decided by the Meeting ``meeting`` (``2MSP``) opening ``meeting_opens_on``
    (``occurred_on``: the date the request was submitted). ``article``: the rule
    (``CCM Art. 3(3)-(5)``); ``exceptional_circumstances``: a further request that invokes
    them (CCM Art. 3(3))."""

    type: Literal["ExtensionRequested"] = "ExtensionRequested"
    state: str
    key: str
    requested_until: date
    deadline_in_force: date
    meeting: str
    meeting_opens_on: date
    article: str
    exceptional_circumstances: bool = False


class ExtensionDecided(DomainEvent):
    """The Meeting ``meeting`` decided the pending request on ``key`` (``occurred_on``: date
    of the decision): ``granted`` (to the date requested), ``granted_shorter`` (to an
    earlier one) or ``refused``, by a majority of the States Parties present and voting
    (CCM Art. 3(5), 4(7)). ``granted_until``: the new deadline (None if refused); the
    votes when the decision was taken by a vote (None: adopted without a vote);
    ``historical``: the new deadline was already past when recorded (no timer marks it)."""

    type: Literal["ExtensionDecided"] = "ExtensionDecided"
    state: str
    key: str
    meeting: str
    outcome: Literal["granted", "granted_shorter", "refused"]
    requested_until: date
    granted_until: date | None = None
    votes_for: int | None = None
    votes_against: int | None = None
    abstentions: int | None = None
    historical: bool = False


class WithdrawalDeposited(DomainEvent):
    """The depositary received the State's instrument of withdrawal (``occurred_on``).

    ``takes_effect_on``: the end of the period (CCM Art. 20(3): six months; ATT Art. 24(2):
    90 days), ``article`` the rule; where the treaty says so, a State engaged in an armed
    conflict when that period ends withdraws only at the end of the conflict.
    ``condition``: the condition the depositary's record says the withdrawal is subject to,
    as written; ``stated_effective_on``: the date the record says it takes effect (None:
    not given); where it differs from ``takes_effect_on`` the import reports it.
    """

    type: Literal["WithdrawalDeposited"] = "WithdrawalDeposited"
    state: str
    takes_effect_on: date
    article: str
    condition: str | None = None
    stated_effective_on: date | None = None


class ArmedConflictRecorded(DomainEvent):
    """The State is engaged in an armed conflict since ``occurred_on`` (CCM Art. 20(3))."""

    type: Literal["ArmedConflictRecorded"] = "ArmedConflictRecorded"
    state: str
    description: str


class ArmedConflictEnded(DomainEvent):
    """The armed conflict the State was engaged in ended on ``occurred_on``."""

    type: Literal["ArmedConflictEnded"] = "ArmedConflictEnded"
    state: str


class WithdrawalDeferred(DomainEvent):
    """The withdrawal period ended (``occurred_on``) while the State was engaged in an
    armed conflict: the withdrawal takes effect only at the end of the conflict (CCM Art.
    20(3))."""

    type: Literal["WithdrawalDeferred"] = "WithdrawalDeferred"
    state: str
    article: str


class WithdrawalTookEffect(DomainEvent):
    """The State's withdrawal took effect on ``occurred_on``: the treaty no longer binds it
    and its open obligations end. ``historical`` as for :class:`EnteredIntoForce`."""

    type: Literal["WithdrawalTookEffect"] = "WithdrawalTookEffect"
    state: str
    historical: bool


# --- meetings of the treaty (treaty:<CODE>) ---------------------------------------------


class MeetingRecorded(DomainEvent):
    """A Meeting of States Parties or Review Conference held (or convened) under the treaty
    (``occurred_on``: its opening day). ``name``: ``2MSP``, ``1RC``; a later event with the
    same name corrects it."""

    type: Literal["MeetingRecorded"] = "MeetingRecorded"
    name: str
    kind: str
    opens_on: date
    closes_on: date
    city: str | None = None
    source: str | None = None


Event = Annotated[
    SignatureRecorded
    | DomesticProcedureCompleted
    | InstrumentDeposited
    | SignatureDateRecorded
    | ProvisionalApplicationRecorded
    | SuccessionDateRecorded
    | DepositaryNoteRecorded
    | EntryIntoForceFixed
    | EnteredIntoForce
    | DepositCounted
    | DepositaryStatementRecorded
    | TreatyEntryIntoForceFixed
    | EntryIntoForceDiscrepancyNoted
    | EntryIntoForceDiscrepancyResolved
    | TreatyEnteredIntoForce
    | DecisionOpened
    | DecisionOptionAdded
    | DecisionDocumentRecorded
    | ConsultationRoundOpened
    | CommentDeadlineReminded
    | ConsultationRoundClosed
    | PositionStated
    | DecisionMilestoneSet
    | DecisionAdopted
    | DecisionDeferred
    | HostCountryAgreementOpened
    | HcaMilestoneReached
    | HcaMeetingMoved
    | HcaMilestoneEscalated
    | HcaPreparationRecorded
    # reporting (CCM Art. 7)
    | ReportingCycleOpened
    | ReportingCycleClosed
    | AnnualReportRequested
    | ReminderSent
    | ReportSubmitted
    | ReportWithdrawn
    | ReviewFindingRecorded
    | ReportAccepted
    | InconsistencyNoted
    | ClarificationRequested
    | ClarificationAnswered
    | ObligationOpened
    | ObligationDue
    | ObligationOverdue
    | ReportReceived
    | ComplianceDeclared
    | StockpilesDeclared
    | ContaminationDeclared
    | ExtensionRequested
    | ExtensionDecided
    | WithdrawalDeposited
    | ArmedConflictRecorded
    | ArmedConflictEnded
    | WithdrawalDeferred
    | WithdrawalTookEffect
    | MeetingRecorded,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_data(event: DomainEvent) -> dict[str, object]:
    """The JSON-ready payload of ``event`` (dates as ISO strings), without ``type``."""
    data = event.model_dump(mode="json")
    data.pop("type", None)
    return data


def event_from_record(event_type: str, data: dict[str, object]) -> Event:
    """Rebuild an event from its stored type and payload (inverse of :func:`event_data`).

    Raises:
        pydantic.ValidationError: not a known event type, or not a valid payload of it.
    """
    # the adapter's own validator: the same validation, without the adapter's per-call
    # Python wrapper (~0.4 of ~1.4 us for a small event; bench/fold_bench.py)
    return EVENT_ADAPTER.validator.validate_python({**data, "type": event_type})
