"""Obligations and their deadlines, against dates derived by hand from the treaty texts.

Entry-into-force dates are those of CCM Art. 17 for the real deposits in
examples/ccm/status.csv (see tests/unit/test_domain_eif.py).
"""

from __future__ import annotations

from datetime import date

import pytest

from domain import obligations as o
from domain.errors import DomainError
from domain.treaties import APMBC, ATT, CCM


@pytest.mark.parametrize(
    ("state", "in_force_on", "due"),
    [
        # deposit 2 Jun 2009 -> in force 1 Aug 2010 (Art. 17(1)); + 180 days
        ("Niger", date(2010, 8, 1), date(2011, 1, 28)),
        # deposit 28 May 2010, after the 30th instrument (16 Feb 2010) -> 1 Nov 2010 (Art. 17(2))
        ("Fiji", date(2010, 11, 1), date(2011, 4, 30)),
        # deposit 28 Jul 2010 -> 1 Jan 2011 (Art. 17(2)); + 180 days
        ("Comoros", date(2011, 1, 1), date(2011, 6, 30)),
        # deposit 12 Jul 2012 -> 1 Jan 2013
        ("Cameroon", date(2013, 1, 1), date(2013, 6, 30)),
        # deposit 30 Apr 2013 -> 1 Oct 2013
        ("Bolivia", date(2013, 10, 1), date(2014, 3, 30)),
    ],
)
def test_ccm_initial_report_180_days_after_entry_into_force(
    state: str, in_force_on: date, due: date
) -> None:
    obligation = o.initial_report(CCM, in_force_on)
    assert obligation.due_on == due, state
    assert obligation.article == "CCM Art. 7(1)"


def test_first_annual_report_follows_the_initial_one() -> None:
    # Niger: initial report due 28 Jan 2011, then 30 April 2011 covering 2010
    first = o.opened_at_entry_into_force(CCM, date(2010, 8, 1))
    assert [(x.key, x.due_on) for x in first] == [
        ("initial-report", date(2011, 1, 28)),
        ("annual-report-2011", date(2011, 4, 30)),
    ]
    assert first[1].covers == "2010-01-01/2010-12-31"
    # Comoros: initial due 30 Jun 2011, so the first annual report is 30 April 2012
    assert o.first_annual_report_year(CCM, date(2011, 1, 1)) == 2012


def test_att_initial_report_within_the_first_year_and_annual_31_may() -> None:
    # original ATT parties, in force 24 Dec 2014: the Secretariat reads "within the first
    # year" as 23 Dec 2015
    assert o.initial_report(ATT, date(2014, 12, 24)).due_on == date(2015, 12, 23)
    assert o.annual_report(ATT, 2016).due_on == date(2016, 5, 31)


def test_bulgaria_stockpile_deadline_and_a_granted_extension() -> None:
    # Bulgaria: deposit 6 Apr 2011 -> in force 1 Oct 2011; Art. 3(2): eight years
    stock = o.stockpile_destruction(CCM, date(2011, 10, 1))
    assert stock.due_on == date(2019, 10, 1) and stock.article == "CCM Art. 3(2)"
    nine_msp = o.Meeting(
        name="9MSP", kind="MSP", opens_on=date(2019, 9, 2), closes_on=date(2019, 9, 4)
    )
    o.check_extension_request(CCM, stock, date(2021, 10, 1), nine_msp, date(2018, 12, 1))
    granted = o.grant_extension(CCM, stock, date(2021, 10, 1), date(2020, 10, 1), nine_msp)
    assert granted.due_on == date(2020, 10, 1)
    assert [d.due_on for d in granted.deadlines] == [date(2019, 10, 1), date(2020, 10, 1)]
    assert granted.deadlines[-1].basis == "extension granted by the 9MSP (2019-09-04)"
    # a further extension only in exceptional circumstances (Art. 3(3))
    with pytest.raises(DomainError, match="exceptional circumstances"):
        o.check_extension_request(CCM, granted, date(2021, 6, 1), nine_msp, date(2018, 12, 1))


@pytest.mark.parametrize(
    ("until", "filed_on", "message"),
    [
        (date(2024, 10, 2), date(2018, 12, 1), "up to 4 years"),
        (date(2019, 9, 1), date(2018, 12, 1), "not after the deadline in force"),
        (date(2020, 10, 1), date(2018, 12, 3), "by 2018-12-02"),
    ],
)
def test_stockpile_extension_refusals(until: date, filed_on: date, message: str) -> None:
    stock = o.stockpile_destruction(CCM, date(2011, 10, 1))
    meeting = o.Meeting(
        name="9MSP", kind="MSP", opens_on=date(2019, 9, 2), closes_on=date(2019, 9, 4)
    )
    with pytest.raises(DomainError, match=message):
        o.check_extension_request(CCM, stock, until, meeting, filed_on)


def test_clearance_request_less_than_nine_months_before_the_meeting_is_refused() -> None:
    # Lao PDR, in force 1 Aug 2010: Art. 4(1)(a) clearance within ten years
    clear = o.clearance(CCM, date(2010, 8, 1))
    assert clear.due_on == date(2020, 8, 1)
    two_rc = o.Meeting(
        name="2RC",
        kind="Review Conference",
        opens_on=date(2020, 11, 25),
        closes_on=date(2021, 9, 21),
    )
    with pytest.raises(DomainError, match=r"at least 9 months before, by 2020-02-25 \(CCM Art\. 4"):
        o.check_extension_request(CCM, clear, date(2025, 8, 1), two_rc, date(2020, 3, 1))
    with pytest.raises(DomainError, match="up to 5 years"):
        o.check_extension_request(CCM, clear, date(2025, 8, 2), two_rc, date(2020, 1, 1))
    with pytest.raises(DomainError, match="before the deadline expires"):
        later = o.Meeting(
            name="11MSP", kind="MSP", opens_on=date(2023, 9, 11), closes_on=date(2023, 9, 14)
        )
        o.check_extension_request(CCM, clear, date(2025, 8, 1), later, date(2020, 9, 1))
    o.check_extension_request(CCM, clear, date(2025, 8, 1), two_rc, date(2020, 2, 25))


def test_apmbc_stockpile_four_years_and_no_extension() -> None:
    stock = o.stockpile_destruction(APMBC, date(1999, 3, 1))
    assert stock.due_on == date(2003, 3, 1) and stock.article == "APMBC Art. 4"
    meeting = o.Meeting(
        name="4MSP", kind="MSP", opens_on=date(2002, 9, 16), closes_on=date(2002, 9, 20)
    )
    with pytest.raises(DomainError, match="allows no extension"):
        o.check_extension_request(APMBC, stock, date(2004, 3, 1), meeting, date(2001, 1, 1))


def test_att_has_no_stockpile_obligation() -> None:
    with pytest.raises(DomainError, match="no stockpile destruction obligation"):
        o.stockpile_destruction(ATT, date(2014, 12, 24))


def test_withdrawal_six_months_and_armed_conflict() -> None:
    # Lithuania: instrument received 6 Sep 2024, effective 6 Mar 2025 (CCM Art. 20(3))
    assert o.withdrawal_effective_on(CCM, date(2024, 9, 6)) == date(2025, 3, 6)
    # engaged in an armed conflict when the six months end: not before its end
    assert o.withdrawal_effective_on(CCM, date(2024, 9, 6), in_armed_conflict=True) is None
    assert o.withdrawal_effective_on(
        CCM, date(2024, 9, 6), date(2025, 5, 1), in_armed_conflict=True
    ) == date(2025, 5, 1)
    # the ATT has no armed-conflict clause: 90 days (Art. 24(2))
    assert o.withdrawal_effective_on(ATT, date(2025, 1, 1), in_armed_conflict=True) == date(
        2025, 4, 1
    )


def test_ccm_required_meetings_from_entry_into_force() -> None:
    # in force 1 Aug 2010: first MSP within a year (held 9-12 Nov 2010 in Vientiane), then
    # annually until the first Review Conference five years after (held Sep 2015)
    names = [(m.name, m.due_by) for m in o.required_meetings(CCM, date(2010, 8, 1))]
    assert names == [
        ("1MSP", date(2011, 8, 1)),
        ("2MSP", date(2012, 8, 1)),
        ("3MSP", date(2013, 8, 1)),
        ("4MSP", date(2014, 8, 1)),
        ("1RC", date(2015, 8, 1)),
    ]
    assert [m.name for m in o.required_meetings(ATT, date(2014, 12, 24))] == ["1MSP"]


def test_status_and_unknown_meeting() -> None:
    report = o.initial_report(CCM, date(2010, 8, 1))
    assert report.status(date(2011, 1, 28)) == "open"
    assert report.status(date(2011, 1, 29)) == "overdue"
    met = report.model_copy(update={"met_on": date(2011, 1, 10), "channel": "e-mail"})
    assert met.status(date(2011, 6, 1)) == "met"
    with pytest.raises(DomainError, match="no Meeting called '2MPS'"):
        o.find_meeting([], "2MPS")


# --- correcting a Meeting something depends on -------------------------------------------


def _bgr_pending() -> o.Obligation:
    # Bulgaria's stockpile deadline (1 Oct 2019, Art. 3(2)), a request of 1 Dec 2018 to
    # the 9MSP (opening 2 Sep 2019): nine months before is 2 Dec 2018 (Art. 3(5))
    stock = o.stockpile_destruction(CCM, date(2011, 10, 1))
    request = o.PendingRequest(
        requested_until=date(2021, 10, 1),
        meeting="9MSP",
        meeting_opens_on=date(2019, 9, 2),
        filed_on=date(2018, 12, 1),
    )
    return stock.model_copy(update={"request": request})


def _nine_msp(opens: date, closes: date) -> o.Meeting:
    return o.Meeting(name="9MSP", kind="MSP", opens_on=opens, closes_on=closes, city="Geneva")


def test_moving_a_meeting_a_request_no_longer_reaches_is_refused() -> None:
    pending = [("BGR", _bgr_pending())]
    # opening one day earlier (1 Sep 2019): the request had to be in by 1 Dec 2018; it was
    o.check_meeting_correction(CCM, _nine_msp(date(2019, 9, 1), date(2019, 9, 4)), pending, [])
    # opening on 31 Aug 2019: by 30 Nov 2018, and the request is of 1 Dec 2018
    with pytest.raises(DomainError, match=r"BGR stockpile-destruction: request of 2018-12-01"):
        o.check_meeting_correction(CCM, _nine_msp(date(2019, 8, 31), date(2019, 9, 4)), pending, [])


def test_moving_a_meeting_away_from_its_decision_is_refused() -> None:
    # the 9MSP (2-4 Sep 2019) granted Bulgaria's extension on 4 Sep 2019
    decided = [
        o.DecisionAt(
            state="BGR", key="stockpile-destruction", meeting="9MSP", decided_on=date(2019, 9, 4)
        )
    ]
    o.check_meeting_correction(CCM, _nine_msp(date(2019, 9, 2), date(2019, 9, 5)), [], decided)
    with pytest.raises(DomainError, match="BGR stockpile-destruction: extension decided on"):
        o.check_meeting_correction(CCM, _nine_msp(date(2019, 9, 9), date(2019, 9, 11)), [], decided)
    # another Meeting's decisions are not its concern
    other = o.Meeting(
        name="8MSP",
        kind="MSP",
        opens_on=date(2018, 9, 3),
        closes_on=date(2018, 9, 4),
        city="Geneva",
    )
    o.check_meeting_correction(CCM, other, [], decided)
