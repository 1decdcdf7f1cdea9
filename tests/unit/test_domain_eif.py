"""Entry into force computed by the treaty profiles, against dates derived by hand.

CCM Art. 17(1): "on the first day of the sixth month after the month in which the
thirtieth instrument ... has been deposited" (30th: 16 Feb 2010 -> 1 Aug 2010).
CCM Art. 17(2): a State depositing "after the date of the deposit of the thirtieth
instrument": "the first day of the sixth month after the date on which that State has
deposited". APMBC Art. 17: 40 instruments, same delay (40th: 16 Sep 1998 -> 1 Mar 1999).
ATT Art. 22: 90 days after the 50th instrument (25 Sep 2014 -> 24 Dec 2014), then deposit
+ 90 days.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import calendar
from domain import treaty as t
from domain.ratification import TreatyContext
from domain.treaties import APMBC, ATT, CCM

CCM_EIF = date(2010, 8, 1)
CCM_30TH = date(2010, 2, 16)


@pytest.mark.parametrize(
    ("state", "deposited_on", "expected", "article"),
    [
        # the 29th and 30th instruments, same day: Art. 17(1)
        ("Burkina Faso", date(2010, 2, 16), date(2010, 8, 1), "CCM Art. 17(1)"),
        ("Moldova", date(2010, 2, 16), date(2010, 8, 1), "CCM Art. 17(1)"),
        # among the first: deposited at the Oslo signing
        ("Holy See", date(2008, 12, 3), date(2010, 8, 1), "CCM Art. 17(1)"),
        # after the 30th deposit, before the Convention's own entry into force:
        # sixth month after July 2010 is January 2011
        ("Comoros", date(2010, 7, 28), date(2011, 1, 1), "CCM Art. 17(2)"),
        ("Chile", date(2010, 12, 16), date(2011, 6, 1), "CCM Art. 17(2)"),
        ("Netherlands", date(2011, 2, 23), date(2011, 8, 1), "CCM Art. 17(2)"),
        ("Bulgaria", date(2011, 4, 6), date(2011, 10, 1), "CCM Art. 17(2)"),
        # the "55th State Party" on deposit, in force for it only from 1 Sep 2011
        ("Lithuania", date(2011, 3, 24), date(2011, 9, 1), "CCM Art. 17(2)"),
        ("Switzerland", date(2012, 7, 17), date(2013, 1, 1), "CCM Art. 17(2)"),
    ],
)
def test_ccm_state_entry_into_force(
    state: str, deposited_on: date, expected: date, article: str
) -> None:
    assert CCM.state_entry_into_force(deposited_on, CCM_EIF, CCM_30TH) == (expected, article)
    # the depositary may state only the treaty's date: the answer is the same
    assert CCM.state_entry_into_force(deposited_on, CCM_EIF, None)[0] == expected


def _deposits(first: date, n: int, step_days: int) -> dict[str, date]:
    return {f"S{i:03d}": first + timedelta(days=i * step_days) for i in range(n)}


def test_ccm_threshold_from_thirty_deposits() -> None:
    deposits = _deposits(date(2009, 1, 5), 29, 10)
    assert t.computed_entry_into_force(deposits, CCM) is None
    deposits["S_30"] = CCM_30TH
    assert t.computed_entry_into_force(deposits, CCM) == (CCM_EIF, CCM_30TH)


def test_apmbc_needs_forty_instruments() -> None:
    deposits = _deposits(date(1997, 12, 3), 39, 5)
    assert t.computed_entry_into_force(deposits, APMBC) is None
    deposits["BFA"] = date(1998, 9, 16)
    assert t.computed_entry_into_force(deposits, APMBC) == (date(1999, 3, 1), date(1998, 9, 16))


def test_att_ninety_days_after_the_fiftieth() -> None:
    deposits = _deposits(date(2013, 6, 3), 49, 7)
    assert t.computed_entry_into_force(deposits, ATT) is None
    deposits["S_50"] = date(2014, 9, 25)
    assert t.computed_entry_into_force(deposits, ATT) == (date(2014, 12, 24), date(2014, 9, 25))
    # a later State: deposit + 90 days (ATT Art. 22(2))
    assert ATT.state_entry_into_force(date(2015, 4, 2), date(2014, 12, 24), date(2014, 9, 25)) == (
        date(2015, 7, 1),
        "ATT Art. 22(2)",
    )
    # one of the first fifty: the treaty's own date
    assert ATT.state_entry_into_force(date(2014, 4, 2), date(2014, 12, 24), None) == (
        date(2014, 12, 24),
        "ATT Art. 22(1)",
    )


def test_threshold_counts_by_date_not_arrival_order() -> None:
    late_first = {"A": date(2010, 5, 1), **_deposits(date(2009, 1, 1), 29, 3)}
    # 29 early deposits + one in May 2010: the 30th by date is 1 May 2010
    assert t.computed_entry_into_force(late_first, CCM) == (date(2010, 11, 1), date(2010, 5, 1))


def test_threshold_day_names_every_instrument_of_that_day() -> None:
    # the UNTC page (ccm_status_2026.csv): 28 instruments by 12 Feb 2010 (Denmark the
    # last), then Burkina Faso and Moldova on 16 Feb 2010: the 29th and 30th
    deposits = {**_deposits(date(2009, 1, 5), 28, 10), "BFA": CCM_30TH, "MDA": CCM_30TH}
    deposits["GBR"] = date(2010, 5, 4)
    day = t.threshold_day(deposits, CCM.eif_threshold)
    assert day == t.ThresholdDay(on=CCM_30TH, first=29, last=30, states=("BFA", "MDA"))
    # three instruments on one day reaching past the threshold: positions 29 to 31
    deposits["ZZZ"] = CCM_30TH
    assert t.threshold_day(deposits, 30) == t.ThresholdDay(CCM_30TH, 29, 31, ("BFA", "MDA", "ZZZ"))
    assert t.threshold_day(_deposits(date(2009, 1, 5), 29, 10), 30) is None


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_first_day_of_sixth_month_after(day: date) -> None:
    result = calendar.first_day_of_nth_month_after(day, 6)
    assert result.day == 1
    months = (result.year - day.year) * 12 + result.month - day.month
    assert months == 6


@given(st.dates(min_value=date(2014, 12, 25), max_value=date(2060, 1, 1)))
def test_ccm_state_eif_never_before_deposit_nor_treaty(deposited_on: date) -> None:
    eif, _ = CCM.state_entry_into_force(deposited_on, CCM_EIF, CCM_30TH)
    assert eif > deposited_on and eif >= CCM_EIF
    assert (eif - deposited_on).days <= 184


def test_context_is_what_ratifications_see() -> None:
    s = t.initial_state("CCM")
    events = t.decide(
        s,
        t.RecordDepositaryStatement(
            in_force_on=CCM_EIF, threshold_deposited_on=CCM_30TH, statement="UNTC"
        ),
        CCM,
        date(2026, 1, 1),
    )
    for e in events:
        s = t.evolve(s, e)
    assert s.context() == TreatyContext(
        in_force_on=CCM_EIF, threshold_deposited_on=CCM_30TH, basis="depositary"
    )
