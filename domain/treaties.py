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

Instrument = Literal["ratification", "acceptance", "approval", "accession"]
"""Instruments by which a State consents to be bound (Vienna Convention Art. 11)."""

SIGNATORY_INSTRUMENTS: frozenset[str] = frozenset({"ratification", "acceptance", "approval"})


class EntryIntoForceRule(BaseModel):
    """How an entry-into-force date follows from a deposit date.

    ``kind`` is ``first_day_of_nth_month_after`` (``amount`` months) or ``days_after``
    (``amount`` days); ``article`` cites the rule.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["first_day_of_nth_month_after", "days_after"]
    amount: int
    article: str

    def apply(self, deposited_on: date) -> date:
        """The entry-into-force date for an instrument deposited on ``deposited_on``."""
        if self.kind == "first_day_of_nth_month_after":
            return calendar.first_day_of_nth_month_after(deposited_on, self.amount)
        return calendar.days_after(deposited_on, self.amount)


class TreatyProfile(BaseModel):
    """The rules of one treaty that drive its processes.

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
    Each ``*_article`` field cites the source.
    """

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    depositary: str
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
    depositary="Secretary-General of the United Nations (CCM Art. 22)",
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
)

APMBC = TreatyProfile(
    code="APMBC",
    name="Anti-Personnel Mine Ban Convention",
    depositary="Secretary-General of the United Nations (APMBC Art. 21)",
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
)

ATT = TreatyProfile(
    code="ATT",
    name="Arms Trade Treaty",
    depositary="Secretary-General of the United Nations (ATT Art. 27)",
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
)

PROFILES: dict[str, TreatyProfile] = {p.code: p for p in (CCM, APMBC, ATT)}


def get_profile(code: str) -> TreatyProfile:
    """The profile for treaty ``code`` (case-insensitive); :class:`DomainError` if unknown."""
    profile = PROFILES.get(code.upper())
    if profile is None:
        raise DomainError(f"unknown treaty {code!r}: expected one of {', '.join(PROFILES)}")
    return profile
