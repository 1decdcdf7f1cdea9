"""Treaty profiles: the rules of each treaty as data, each with its source and its words.

The engine reads every number from a :class:`TreatyProfile`; nothing treaty-specific is
hard-coded elsewhere. The profiles of the CCM, the APMBC and the ATT are TOML files
shipped in this package (``domain/profiles/*.toml``), read once at import by
:func:`parse_profile`; others are added by :func:`register_profile` (the data folder's
``profiles/``, read by :mod:`adapters.profiles`). Sources: the treaty texts as
``shared/data/treaty_rules.md`` quotes and summarises them (CCM, Dublin 30 May 2008;
APMBC, Oslo 18 Sep 1997; ATT, New York 2 Apr 2013). The file format is
``docs/profiles.md``.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from importlib import resources
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain import calendar
from domain.errors import DomainError
from domain.profile_errors import ProfileFileError, toml_problem, validation_problems
from domain.toml_lines import key_lines

Instrument = Literal["ratification", "acceptance", "approval", "accession", "succession"]
"""Instruments by which a State consents to be bound (Vienna Convention on the Law of
Treaties Art. 11), and the notification by which a newly independent State establishes its
status as a party by succession (Vienna Convention on Succession of States in respect of
Treaties Art. 17; "d" on the depositary's page)."""

SIGNATORY_INSTRUMENTS: frozenset[str] = frozenset({"ratification", "acceptance", "approval"})

#: How a rule's ``text`` begins: the treaty's own words in double quotation marks
#: (fragments joined by " … "), or a paraphrase, or no text at hand for the rule.
WORDING_FORMS = ('"', "paraphrase: ", "no text: ")


def _wording(value: str) -> str:
    quoted = value.startswith('"') and value.endswith('"') and value.count('"') % 2 == 0
    prefixed = value.startswith(WORDING_FORMS[1:])
    if (quoted or prefixed) and value.strip(' "') and value.strip() == value:
        return value
    raise ValueError(
        'must be the treaty\'s own words in double quotation marks ("...", fragments '
        'joined by " … "), or begin '
        '"paraphrase: " (words that are not the treaty\'s) or "no text: " (no wording at '
        "hand for the rule), with no leading or trailing space"
    )


Wording = Annotated[str, AfterValidator(_wording)]
"""The words of the article a rule encodes (see :data:`WORDING_FORMS`)."""

_MODEL = ConfigDict(frozen=True, extra="forbid")


class DateRule(BaseModel):
    """How one date follows from another under a treaty rule.

    ``kind``: ``first_day_of_nth_month_after`` (``amount`` months), ``days_after``,
    ``months_after``, ``years_after`` (``amount`` of them), or ``within_years`` (the last
    day of the first ``amount`` years: "within the first year after", ATT Art. 13(1));
    ``article`` cites the rule; ``text`` gives its words (:data:`Wording`).
    """

    model_config = _MODEL

    kind: Literal[
        "first_day_of_nth_month_after", "days_after", "months_after", "years_after", "within_years"
    ]
    amount: int = Field(ge=1)
    article: str
    text: Wording

    @model_validator(mode="after")
    def _within_a_century(self) -> DateRule:
        """No treaty period is longer than a hundred years: a larger ``amount`` is a typing
        error, and would give dates beyond the calendar."""
        limit = {"days_after": 36525, "months_after": 1200, "first_day_of_nth_month_after": 1200}
        most = limit.get(self.kind, 100)
        if self.amount > most:
            raise ValueError(f"amount {self.amount} is more than a hundred years: at most {most}")
        return self

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
"""Kept for readability where the rule is an entry-into-force rule (CCM Art. 17(1))."""


class StateEntryIntoForceRule(DateRule):
    """The paragraph that fixes a State's own entry into force from its deposit, and the
    States it covers, in its own words (``covers``):

    - ``applies_after = "threshold_deposit"``: a State depositing after the *date of the
      threshold deposit* ("after the date of the deposit of the thirtieth instrument",
      CCM Art. 17(2); APMBC Art. 17(2));
    - ``applies_after = "treaty_entry_into_force"``: a State depositing after the
      *treaty's own entry into force* ("subsequent to the entry into force of this
      Treaty", ATT Art. 22(2)); a State depositing before it is bound from that date,
      under the treaty's paragraph 1.
    """

    applies_after: Literal["threshold_deposit", "treaty_entry_into_force"]
    covers: Wording


class ExtensionRule(BaseModel):
    """Extensions of a deadline granted by a Meeting of States Parties or Review Conference.

    ``max_years``: the longest one extension may be; ``further_only_exceptional``: after
    the first, further ones only "in exceptional circumstances" (CCM Art. 3(3));
    ``filing_months_before_meeting``: the request must reach the Meeting at least this many
    months before it opens (CCM Art. 3(5), 4(6); None or left out: no such rule);
    ``before_deadline``: it must also be filed before the deadline expires (CCM Art. 4(6)).
    ``article`` cites the extension rule as a whole; ``decision_article`` the rule by which
    the Meeting decides on a request: "by a majority of votes of the States Parties present
    and voting" (CCM Art. 3(5) for stockpiles, 4(7) for clearance; APMBC Art. 5(6));
    ``text`` gives their words.
    """

    model_config = _MODEL

    max_years: int = Field(ge=1)
    further_only_exceptional: bool
    filing_months_before_meeting: int | None = Field(default=None, ge=1)
    before_deadline: bool
    article: str
    decision_article: str
    text: Wording


class ObligationRule(BaseModel):
    """A deadline that runs from the State's entry into force (``due``), with the way it
    may be extended (``extension``: None, or left out, where the treaty allows none)."""

    model_config = _MODEL

    due: DateRule
    extension: ExtensionRule | None = None


class MeetingRules(BaseModel):
    """The Meetings a treaty requires, counted from its own entry into force.

    ``first_meeting_within_years``: the first Meeting of States Parties (or Conference)
    within this many years (CCM Art. 11(2)); ``annual_until_review``: then one a year until
    the first Review Conference; ``first_review_after_years``: the first Review Conference
    this many years after entry into force (CCM Art. 12(1); None or left out: no such
    rule); ``text`` gives their words.
    """

    model_config = _MODEL

    first_meeting_within_years: int = Field(ge=1)
    annual_until_review: bool
    first_review_after_years: int | None = Field(default=None, ge=1)
    article: str
    text: Wording


class ObligationRules(BaseModel):
    """The obligations a treaty puts on each State Party, as data.

    ``reporting_article``: the article on transparency reports as a whole (CCM Art. 7,
    APMBC Art. 7, ATT Art. 13); ``initial_report``: from the State's entry into force;
    ``annual_report_month`` /
    ``annual_report_day``: the yearly deadline, covering the previous calendar year
    (``annual_report_article``, in the words of ``annual_report_text``);
    ``stockpile_report_article``: the rule by which a report gives the State's stockpiles
    (CCM Art. 7(1)(b), APMBC Art. 7(1)(b); None or left out: the reports give none);
    ``stockpile_destruction`` / ``clearance``: deadlines when the State declares
    stockpiles / contaminated areas (None or left out: no such obligation);
    ``withdrawal``: from the depositary's receipt of the instrument of withdrawal;
    ``withdrawal_waits_for_armed_conflict``: not effective before the end of an armed
    conflict the State is engaged in at that time (CCM Art. 20(3)).
    """

    model_config = _MODEL

    reporting_article: str
    initial_report: DateRule
    annual_report_month: int = Field(ge=1, le=12)
    annual_report_day: int = Field(ge=1, le=31)
    annual_report_article: str
    annual_report_text: Wording
    stockpile_report_article: str | None = None
    stockpile_destruction: ObligationRule | None = None
    clearance: ObligationRule | None = None
    withdrawal: DateRule
    withdrawal_waits_for_armed_conflict: bool

    @field_validator("annual_report_day")
    @classmethod
    def _annual_day_exists(cls, day: int, info: ValidationInfo) -> int:
        month = info.data.get("annual_report_month")
        if month is not None:
            try:
                date(2001, month, day)  # a common year: the day must exist every year
            except ValueError:
                raise ValueError(f"is not a day of month {month} in every year") from None
        return day


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
    Art. 13(4) says for amendments). ``article`` cites the source; ``text`` its words.
    """

    model_config = _MODEL

    meeting_kinds: tuple[str, ...] = Field(min_length=1)
    observers_count: bool = False
    majority: Literal["simple", "two_thirds"] = "simple"
    article: str
    text: Wording

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

    - ``code``: the short name commands and process ids use (capitals and digits, e.g.
      ``CCM``).
    - ``mtdsg_no``: the treaty's chapter and number in the depositary's *Multilateral
      Treaties Deposited with the Secretary-General* ("XXVI-6"), by which its status page
      and XML are recognised.
    - ``weapons``: what the treaty regulates, as its reports count them ("cluster
      munitions", "anti-personnel mines", "conventional arms").
    - ``eif_threshold``: number of instruments whose deposit triggers the treaty's own
      entry into force, by ``treaty_eif`` applied to the date of that deposit.
    - ``state_eif``: a State's own entry into force from its deposit date, for the States
      its paragraph covers (:class:`StateEntryIntoForceRule`).
    - ``opened_for_signature_on``: the first day an instrument could be signed or deposited.
    - ``signature_closes_at_eif``: the treaty is open for signature only until it enters
      into force; afterwards States join by accession.
    - ``accession_before_eif``: whether a non-signatory may accede before the treaty's
      entry into force.
    - ``provisional_application``: the articles a State may declare it applies
      provisionally at deposit (None or left out: no such clause, and then no article).
    - ``reservations_allowed``: whether reservations may be made.
    - ``obligations``: the deadlines each State Party owes (:class:`ObligationRules`).
    - ``meetings``: the Meetings the treaty requires (:class:`MeetingRules`).
    - ``decisions``: who decides and how a vote counts (:class:`DecisionRules`).
    Each ``*_article`` field cites the source, each ``*_text`` / ``text`` gives its words.
    """

    model_config = _MODEL

    code: str
    name: str = Field(min_length=1)
    mtdsg_no: str | None = None
    depositary: str
    weapons: str
    eif_threshold: int = Field(ge=1)
    treaty_eif: EntryIntoForceRule
    state_eif: StateEntryIntoForceRule
    opened_for_signature_on: date
    signature_closes_at_eif: bool
    signature_article: str
    signature_text: Wording
    instruments_article: str
    instruments_text: Wording
    accession_before_eif: bool
    provisional_application: str | None = None
    provisional_application_article: str | None = None
    provisional_application_text: Wording | None = None
    reservations_allowed: bool
    reservations_article: str
    reservations_text: Wording
    obligations: ObligationRules
    meetings: MeetingRules
    decisions: DecisionRules

    @field_validator("code")
    @classmethod
    def _code(cls, code: str) -> str:
        if re.fullmatch(r"[A-Z][A-Z0-9]{1,15}", code) is None:
            raise ValueError(
                "must be 2 to 16 capital letters or digits, beginning with a letter (e.g. "
                "TPNW): it names the treaty in commands and in process ids"
            )
        return code

    @model_validator(mode="after")
    def _provisional_application_cited(self) -> TreatyProfile:
        given = [
            self.provisional_application_article is not None,
            self.provisional_application_text is not None,
        ]
        if self.provisional_application is not None and not all(given):
            raise ValueError(
                "provisional_application needs provisional_application_article and "
                "provisional_application_text"
            )
        if self.provisional_application is None and any(given):
            raise ValueError(
                "provisional_application_article / _text without provisional_application "
                "(the articles a State may apply provisionally)"
            )
        return self

    def state_entry_into_force(
        self, deposited_on: date, treaty_in_force_on: date, threshold_deposited_on: date | None
    ) -> tuple[date, str]:
        """Entry into force for a State that deposited on ``deposited_on``.

        Returns ``(date, article)``: ``state_eif`` applied to the deposit (e.g. CCM Art.
        17(2)) for a State its paragraph covers, but never before the treaty itself is in
        force; else the treaty's own entry into force (``treaty_eif.article``, e.g. CCM Art.
        17(1)). Which States the paragraph covers is ``state_eif.applies_after``:

        - ``threshold_deposit`` (CCM, APMBC Art. 17(2): "after the date of the deposit of
          the thirtieth [fortieth] instrument"): a deposit on a later date than the
          threshold deposit, compared by date, not by sequence number (the 29th and 30th
          CCM instruments were deposited on the same day). When the threshold date is not
          known (only the depositary's statement of the treaty's entry-into-force date
          is), the later of the two dates is the one the text gives.
        - ``treaty_entry_into_force`` (ATT Art. 22(2): "subsequent to the entry into force
          of this Treaty"): a deposit on or after the day of the treaty's entry into
          force. The treaty is in force from the start of that day (as
          :func:`domain.ratification.decide` already reads it: signature closes, and
          accession opens, on that day), so a deposit made that day is made after it. A
          deposit between the threshold deposit and that day is bound from the treaty's
          own date (ATT: 50th on 25 Sep 2014; South Africa, 22 Dec 2014 -> 24 Dec 2014).
        """
        own = self.state_eif.apply(deposited_on)
        if self.state_eif.applies_after == "treaty_entry_into_force":
            covered = deposited_on >= treaty_in_force_on
        elif threshold_deposited_on is not None:
            covered = deposited_on > threshold_deposited_on
        else:
            covered = own > treaty_in_force_on
        if covered and own >= treaty_in_force_on:
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


def parse_profile(text: str, name: str) -> TreatyProfile:
    """The profile the TOML ``text`` of file ``name`` describes (format:
    ``docs/profiles.md``).

    Raises :class:`~domain.profile_errors.ProfileFileError` naming every problem with its
    line: a syntax error; an unknown key (and the keys accepted there); a missing key; a
    value not accepted (and what is).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ProfileFileError(name, [toml_problem(err)]) from None
    try:
        return TreatyProfile.model_validate(data)
    except ValidationError as err:
        problems = validation_problems(err, key_lines(text), TreatyProfile)
        raise ProfileFileError(name, problems) from None


def _shipped(file_name: str) -> TreatyProfile:
    """A profile shipped in ``domain/profiles`` (read once, at import)."""
    path = resources.files("domain") / "profiles" / file_name
    return parse_profile(path.read_text(encoding="utf-8"), f"domain/profiles/{file_name}")


CCM = _shipped("ccm.toml")
APMBC = _shipped("apmbc.toml")
ATT = _shipped("att.toml")

#: The profiles shipped with treatyflow: recorded processes were decided by them, so a
#: profile from elsewhere may add a treaty but not replace one of these.
SHIPPED: frozenset[str] = frozenset({CCM.code, APMBC.code, ATT.code})

PROFILES: dict[str, TreatyProfile] = {p.code: p for p in (CCM, APMBC, ATT)}


def register_profile(profile: TreatyProfile) -> None:
    """Make ``profile`` known to :func:`get_profile` (a treaty read from the data folder);
    it replaces a profile registered earlier under its code, never a shipped one
    (:class:`DomainError`)."""
    if profile.code in SHIPPED:
        raise DomainError(
            f"{profile.code} is shipped with treatyflow: a profile may add a treaty, not "
            "replace one whose processes may already be recorded"
        )
    PROFILES[profile.code] = profile


def data_file_problems(profile: TreatyProfile, file_name: str) -> list[str]:
    """Why ``profile``, read from ``file_name``, cannot be a data-folder profile: it is
    named after its code, in lower case (``tpnw.toml`` for ``TPNW``, so that the settings
    know the code by the file's name), and it does not replace a shipped profile."""
    problems = []
    expected = f"{profile.code.lower()}.toml"
    if file_name != expected:
        problems.append(f"the file of treaty {profile.code} is named {expected}, not {file_name}")
    if profile.code in SHIPPED:
        problems.append(
            f"{profile.code} is shipped with treatyflow: a data-folder profile may add a "
            "treaty, not replace one whose processes may already be recorded"
        )
    return problems


def get_profile(code: str) -> TreatyProfile:
    """The profile for treaty ``code`` (case-insensitive); :class:`DomainError` if unknown."""
    profile = PROFILES.get(code.upper())
    if profile is None:
        raise DomainError(f"unknown treaty {code!r}: expected one of {', '.join(PROFILES)}")
    return profile
