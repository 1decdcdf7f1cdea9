"""Treaty profiles: the rules of each treaty as data, each with its source.

The engine reads every number from a :class:`TreatyProfile`; nothing treaty-specific is
hard-coded elsewhere. Sources: the treaty texts as summarised in
``shared/data/treaty_rules.md`` (CCM, Dublin 30 May 2008; APMBC, Oslo 18 Sep 1997;
ATT, New York 2 Apr 2013).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain import calendar
from domain.errors import DomainError

Instrument = Literal["ratification", "acceptance", "approval", "accession", "succession"]
"""Instruments by which a State consents to be bound (Vienna Convention on the Law of
Treaties Art. 11), and the notification by which a newly independent State establishes its
status as a party by succession (Vienna Convention on Succession of States in respect of
Treaties Art. 17; "d" on the depositary's page)."""

SIGNATORY_INSTRUMENTS: frozenset[str] = frozenset({"ratification", "acceptance", "approval"})


class DateRule(BaseModel):
    """How one date follows from another under a treaty rule.

    ``kind``: ``first_day_of_nth_month_after`` (``amount`` months), ``days_after``,
    ``months_after``, ``years_after`` (``amount`` of them), or ``within_years`` (the last
    day of the first ``amount`` years: "within the first year after", ATT Art. 13(1));
    ``article`` cites the rule.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal[
        "first_day_of_nth_month_after", "days_after", "months_after", "years_after", "within_years"
    ]
    amount: int
    article: str

    def apply(self, start: date) -> date:
        """The date the rule gives from ``start`` (e.g. a deposit or entry-into-force date)."""
        match self.kind:
            case "first_day_of_nth_month_after":
                return calendar.first_day_of_nth_month_after(start, self.amount)
            case "days_after":
                return calendar.days_after(start, self.amount)
            case "months_after":
                return calendar.months_after(start, self.amount)
            case "years_after":
                return calendar.months_after(start, 12 * self.amount)
            case "within_years":
                return calendar.months_after(start, 12 * self.amount) - calendar.ONE_DAY
        raise ValueError(self.kind)  # pragma: no cover


EntryIntoForceRule = DateRule
"""Kept for readability where the rule is an entry-into-force rule (CCM Art. 17)."""


class ExtensionRule(BaseModel):
    """Extensions of a deadline granted by a Meeting of States Parties or Review Conference.

    ``max_years``: the longest one extension may be; ``further_only_exceptional``: after
    the first, further ones only "in exceptional circumstances" (CCM Art. 3(3));
    ``filing_months_before_meeting``: the request must reach the Meeting at least this many
    months before it opens (CCM Art. 3(5), 4(6); None: no such rule);
    ``before_deadline``: it must also be filed before the deadline expires (CCM Art. 4(6)).
    ``article`` cites the extension rule as a whole; ``decision_article`` the rule by which
    the Meeting decides on a request: "by a majority of votes of the States Parties present
    and voting" (CCM Art. 3(5) for stockpiles, 4(7) for clearance; APMBC Art. 5(6)).
    """

    model_config = ConfigDict(frozen=True)

    max_years: int
    further_only_exceptional: bool
    filing_months_before_meeting: int | None
    before_deadline: bool
    article: str
    decision_article: str


class ObligationRule(BaseModel):
    """A deadline that runs from the State's entry into force (``due``), with the way it
    may be extended (``extension``: None where the treaty allows none)."""

    model_config = ConfigDict(frozen=True)

    due: DateRule
    extension: ExtensionRule | None = None


class MeetingRules(BaseModel):
    """The Meetings a treaty requires, counted from its own entry into force.

    ``first_meeting_within_years``: the first Meeting of States Parties (or Conference)
    within this many years (CCM Art. 11(2)); ``annual_until_review``: then one a year until
    the first Review Conference; ``first_review_after_years``: the first Review Conference
    this many years after entry into force (CCM Art. 12(1); None: no such rule).
    """

    model_config = ConfigDict(frozen=True)

    first_meeting_within_years: int
    annual_until_review: bool
    first_review_after_years: int | None
    article: str


class ObligationRules(BaseModel):
    """The obligations a treaty puts on each State Party, as data.

    ``reporting_article``: the article on transparency reports as a whole (CCM Art. 7,
    APMBC Art. 7, ATT Art. 13); ``initial_report``: from the State's entry into force;
    ``annual_report_month`` /
    ``annual_report_day``: the yearly deadline, covering the previous calendar year
    (``annual_report_article``); ``stockpile_report_article``: the rule by which a report
    gives the State's stockpiles (CCM Art. 7(1)(b), APMBC Art. 7(1)(b); None: the reports
    give none); ``stockpile_destruction`` / ``clearance``: deadlines when
    the State declares stockpiles / contaminated areas (None: no such obligation);
    ``withdrawal``: from the depositary's receipt of the instrument of withdrawal;
    ``withdrawal_waits_for_armed_conflict``: not effective before the end of an armed
    conflict the State is engaged in at that time (CCM Art. 20(3)).
    """

    model_config = ConfigDict(frozen=True)

    reporting_article: str
    initial_report: DateRule
    annual_report_month: int
    annual_report_day: int
    annual_report_article: str
    stockpile_report_article: str | None
    stockpile_destruction: ObligationRule | None
    clearance: ObligationRule | None
    withdrawal: DateRule
    withdrawal_waits_for_armed_conflict: bool


class DecisionRules(BaseModel):
    """Who takes the decisions of the States Parties, and how a vote counts.

    ``meeting_kinds``: the kinds of meeting that may decide (CCM Art. 11(1): the States
    Parties meet "to consider and, where necessary, take decisions"; Art. 12: the Review
    Conference), by the names of ``ccm_meetings.csv`` (``MSP``, ``Review Conference``);
    ``deciders``: only States Parties decide; observers (CCM Art. 11(3): States not party,
    the UN, the ICRC, the CMC and other organisations "may be invited to attend ... as
    observers") have their positions recorded but not counted; ``majority``: the share of
    the States Parties *present and voting* (those voting in favour or against; abstentions
    do not count) an option needs to carry a vote: ``simple`` (more in favour than
    against, as CCM Art. 3(5) and 4(7) say for extension requests) or ``two_thirds`` (as
    Art. 13(4) says for amendments). ``article`` cites the source.
    """

    model_config = ConfigDict(frozen=True)

    meeting_kinds: tuple[str, ...]
    observers_count: bool = False
    majority: Literal["simple", "two_thirds"] = "simple"
    article: str

    def carries(self, in_favour: int, against: int) -> bool:
        """Whether ``in_favour`` votes against ``against`` carry an option (abstentions are
        not "present and voting")."""
        voting = in_favour + against
        if voting == 0:
            return False
        if self.majority == "two_thirds":
            return 3 * in_favour >= 2 * voting
        return in_favour > against


class TreatyProfile(BaseModel):
    """The rules of one treaty that drive its processes.

    - ``mtdsg_no``: the treaty's chapter and number in the depositary's *Multilateral
      Treaties Deposited with the Secretary-General* ("XXVI-6"), by which its status page
      and XML are recognised.
    - ``weapons``: what the treaty regulates, as its reports count them ("cluster
      munitions", "anti-personnel mines", "conventional arms").
    - ``eif_threshold``: number of instruments whose deposit triggers the treaty's own
      entry into force, by ``treaty_eif`` applied to the date of that deposit.
    - ``state_eif``: for a State depositing after the date of the threshold deposit, its
      own entry into force from its deposit date.
    - ``opened_for_signature_on``: the first day an instrument could be signed or deposited.
    - ``signature_closes_at_eif``: the treaty is open for signature only until it enters
      into force; afterwards States join by accession.
    - ``accession_before_eif``: whether a non-signatory may accede before the treaty's
      entry into force.
    - ``provisional_application``: the articles a State may declare it applies
      provisionally at deposit (``None``: no such clause).
    - ``reservations_allowed``: whether reservations may be made.
    - ``obligations``: the deadlines each State Party owes (:class:`ObligationRules`).
    - ``meetings``: the Meetings the treaty requires (:class:`MeetingRules`).
    - ``decisions``: who decides and how a vote counts (:class:`DecisionRules`).
    Each ``*_article`` field cites the source.
    """

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    mtdsg_no: str | None = None
    depositary: str
    weapons: str
    eif_threshold: int
    treaty_eif: EntryIntoForceRule
    state_eif: EntryIntoForceRule
    opened_for_signature_on: date
    signature_closes_at_eif: bool
    signature_article: str
    instruments_article: str
    accession_before_eif: bool
    provisional_application: str | None
    provisional_application_article: str
    reservations_allowed: bool
    reservations_article: str
    obligations: ObligationRules
    meetings: MeetingRules
    decisions: DecisionRules = DecisionRules(
        meeting_kinds=("MSP", "Review Conference"), article="CCM Arts. 11(1), 11(3), 12"
    )

    def state_entry_into_force(
        self, deposited_on: date, treaty_in_force_on: date, threshold_deposited_on: date | None
    ) -> tuple[date, str]:
        """Entry into force for a State that deposited on ``deposited_on``.

        Returns ``(date, article)``. A State that deposited on or before the date of the
        threshold deposit is bound from the treaty's own entry into force
        (``treaty_eif.article``, e.g. CCM Art. 17(1)); a State that deposited after it,
        from ``state_eif`` applied to its deposit (e.g. CCM Art. 17(2)), but never before
        the treaty itself is in force. Deposits are compared by date, not by sequence
        number (the 29th and 30th CCM instruments were deposited on the same day). When
        the threshold date is not known (only the depositary's statement of the treaty's
        entry-into-force date is), the later of the two dates is the one the text gives.
        """
        own = self.state_eif.apply(deposited_on)
        if threshold_deposited_on is not None:
            after = deposited_on > threshold_deposited_on
        else:
            after = own > treaty_in_force_on
        if after and own >= treaty_in_force_on:
            return own, self.state_eif.article
        return treaty_in_force_on, self.treaty_eif.article

    def check_instrument(self, instrument: str) -> None:
        """Raise :class:`DomainError` if ``instrument`` is not a known instrument type."""
        allowed = sorted(SIGNATORY_INSTRUMENTS | {"accession"})
        if instrument not in allowed:
            raise DomainError(
                f"unknown instrument {instrument!r}: expected one of {', '.join(allowed)} "
                f"({self.instruments_article})"
            )


CCM = TreatyProfile(
    code="CCM",
    name="Convention on Cluster Munitions",
    mtdsg_no="XXVI-6",
    depositary="Secretary-General of the United Nations (CCM Art. 22)",
    weapons="cluster munitions",
    eif_threshold=30,
    treaty_eif=EntryIntoForceRule(
        kind="first_day_of_nth_month_after", amount=6, article="CCM Art. 17(1)"
    ),
    state_eif=EntryIntoForceRule(
        kind="first_day_of_nth_month_after", amount=6, article="CCM Art. 17(2)"
    ),
    opened_for_signature_on=date(2008, 12, 3),
    signature_closes_at_eif=True,
    signature_article="CCM Art. 15",
    instruments_article="CCM Art. 16",
    accession_before_eif=True,
    provisional_application="Art. 1",
    provisional_application_article="CCM Art. 18",
    reservations_allowed=False,
    reservations_article="CCM Art. 19",
    obligations=ObligationRules(
        reporting_article="CCM Art. 7",
        initial_report=DateRule(kind="days_after", amount=180, article="CCM Art. 7(1)"),
        annual_report_month=4,
        annual_report_day=30,
        annual_report_article="CCM Art. 7(2)",
        stockpile_report_article="CCM Art. 7(1)(b)",
        stockpile_destruction=ObligationRule(
            due=DateRule(kind="years_after", amount=8, article="CCM Art. 3(2)"),
            extension=ExtensionRule(
                max_years=4,
                further_only_exceptional=True,
                filing_months_before_meeting=9,
                # Art. 3(3): a State that "will be unable" to destroy them within eight
                # years may request an extension: a request looks ahead of the deadline,
                # so none is possible once it has expired (as Art. 4(6) says in so many
                # words for clearance).
                before_deadline=True,
                article="CCM Art. 3(3)-(5)",
                decision_article="CCM Art. 3(5)",
            ),
        ),
        clearance=ObligationRule(
            due=DateRule(kind="years_after", amount=10, article="CCM Art. 4(1)(a)"),
            extension=ExtensionRule(
                max_years=5,
                further_only_exceptional=False,
                filing_months_before_meeting=9,
                before_deadline=True,
                article="CCM Art. 4(5)-(8)",
                decision_article="CCM Art. 4(7)",
            ),
        ),
        withdrawal=DateRule(kind="months_after", amount=6, article="CCM Art. 20(3)"),
        withdrawal_waits_for_armed_conflict=True,
    ),
    meetings=MeetingRules(
        first_meeting_within_years=1,
        annual_until_review=True,
        first_review_after_years=5,
        article="CCM Arts. 11(2), 12(1)",
    ),
    decisions=DecisionRules(
        meeting_kinds=("MSP", "Review Conference"),
        observers_count=False,
        majority="simple",
        article="CCM Arts. 11(1), 11(3), 12; majority of States Parties present and voting "
        "as in Arts. 3(5), 4(7)",
    ),
)

APMBC = TreatyProfile(
    code="APMBC",
    name="Anti-Personnel Mine Ban Convention",
    mtdsg_no="XXVI-5",
    depositary="Secretary-General of the United Nations (APMBC Art. 21)",
    weapons="anti-personnel mines",
    eif_threshold=40,
    treaty_eif=EntryIntoForceRule(
        kind="first_day_of_nth_month_after", amount=6, article="APMBC Art. 17(1)"
    ),
    state_eif=EntryIntoForceRule(
        kind="first_day_of_nth_month_after", amount=6, article="APMBC Art. 17(2)"
    ),
    opened_for_signature_on=date(1997, 12, 3),
    signature_closes_at_eif=True,
    signature_article="APMBC Art. 15",
    instruments_article="APMBC Art. 16",
    accession_before_eif=True,
    provisional_application="Art. 1(1)",
    provisional_application_article="APMBC Art. 18",
    reservations_allowed=False,
    reservations_article="APMBC Art. 19",
    obligations=ObligationRules(
        reporting_article="APMBC Art. 7",
        initial_report=DateRule(kind="days_after", amount=180, article="APMBC Art. 7(1)"),
        annual_report_month=4,
        annual_report_day=30,
        annual_report_article="APMBC Art. 7(2)",
        stockpile_report_article="APMBC Art. 7(1)(b)",
        stockpile_destruction=ObligationRule(
            due=DateRule(kind="years_after", amount=4, article="APMBC Art. 4"),
            extension=None,
        ),
        clearance=ObligationRule(
            due=DateRule(kind="years_after", amount=10, article="APMBC Art. 5(1)"),
            extension=ExtensionRule(
                max_years=10,
                further_only_exceptional=False,
                filing_months_before_meeting=None,
                before_deadline=False,
                article="APMBC Art. 5(3)-(6)",
                decision_article="APMBC Art. 5(6)",
            ),
        ),
        withdrawal=DateRule(kind="months_after", amount=6, article="APMBC Art. 20(3)"),
        withdrawal_waits_for_armed_conflict=True,
    ),
    meetings=MeetingRules(
        first_meeting_within_years=1,
        annual_until_review=True,
        first_review_after_years=5,
        article="APMBC Arts. 11(2), 12(1)",
    ),
    decisions=DecisionRules(
        meeting_kinds=("MSP", "Review Conference"),
        observers_count=False,
        majority="simple",
        article="APMBC Arts. 11, 12; majority present and voting as in Art. 5(6)",
    ),
)

ATT = TreatyProfile(
    code="ATT",
    name="Arms Trade Treaty",
    mtdsg_no="XXVI-8",
    depositary="Secretary-General of the United Nations (ATT Art. 27)",
    weapons="conventional arms",
    eif_threshold=50,
    treaty_eif=EntryIntoForceRule(kind="days_after", amount=90, article="ATT Art. 22(1)"),
    state_eif=EntryIntoForceRule(kind="days_after", amount=90, article="ATT Art. 22(2)"),
    opened_for_signature_on=date(2013, 6, 3),
    signature_closes_at_eif=True,
    signature_article="ATT Art. 21(1)",
    instruments_article="ATT Art. 21(2)-(3)",
    accession_before_eif=False,
    provisional_application="Arts. 6 and 7",
    provisional_application_article="ATT Art. 23",
    reservations_allowed=True,
    reservations_article="ATT Art. 25",
    obligations=ObligationRules(
        reporting_article="ATT Art. 13",
        initial_report=DateRule(kind="within_years", amount=1, article="ATT Art. 13(1)"),
        annual_report_month=5,
        annual_report_day=31,
        annual_report_article="ATT Art. 13(3)",
        stockpile_report_article=None,
        stockpile_destruction=None,
        clearance=None,
        withdrawal=DateRule(kind="days_after", amount=90, article="ATT Art. 24(2)"),
        withdrawal_waits_for_armed_conflict=False,
    ),
    meetings=MeetingRules(
        first_meeting_within_years=1,
        annual_until_review=False,
        first_review_after_years=None,
        article="ATT Art. 17(1)",
    ),
    decisions=DecisionRules(
        meeting_kinds=("CSP",),
        observers_count=False,
        majority="simple",
        article="ATT Art. 17",
    ),
)

PROFILES: dict[str, TreatyProfile] = {p.code: p for p in (CCM, APMBC, ATT)}


def get_profile(code: str) -> TreatyProfile:
    """The profile for treaty ``code`` (case-insensitive); :class:`DomainError` if unknown."""
    profile = PROFILES.get(code.upper())
    if profile is None:
        raise DomainError(f"unknown treaty {code!r}: expected one of {', '.join(PROFILES)}")
    return profile
