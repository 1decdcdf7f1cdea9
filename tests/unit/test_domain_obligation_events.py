"""Obligations as events of the ratification process (decide/evolve), against the treaty
text and the public record.

Deposits come from examples/ccm/status.csv; entry into force from CCM Art. 17 (the 30th
instrument was deposited on 16 Feb 2010, so the CCM entered into force on 1 Aug 2010).
"""

from __future__ import annotations

import csv
from datetime import date, timedelta

import pytest

from domain import ratification as r
from domain.errors import DomainError
from domain.events import ObligationOpened
from domain.obligations import Meeting
from domain.treaties import APMBC, ATT, CCM, TreatyProfile
from tests import STATUS_CSV

STATUS = STATUS_CSV
CCM_CONTEXT = r.TreatyContext(
    in_force_on=date(2010, 8, 1), threshold_deposited_on=date(2010, 2, 16), basis="depositary"
)
TODAY = date(2026, 11, 29)
NINE_MSP = Meeting(name="9MSP", kind="MSP", opens_on=date(2019, 9, 2), closes_on=date(2019, 9, 4))


def _deposits() -> dict[str, tuple[str, date]]:
    rows = csv.DictReader(STATUS.read_text(encoding="utf-8").splitlines())
    return {
        row["state"]: (row["instrument"], date.fromisoformat(row["deposit_date"]))
        for row in rows
        if row["deposit_date"]
    }


def _apply(
    s: r.RatificationState,
    command: r.Command,
    profile: TreatyProfile = CCM,
    context: r.TreatyContext = CCM_CONTEXT,
    today: date = TODAY,
) -> r.RatificationState:
    return r.fold(s, r.decide(s, command, profile, context, today))


def in_force(
    iso: str,
    deposited_on: date,
    profile: TreatyProfile = CCM,
    context: r.TreatyContext = CCM_CONTEXT,
    today: date = TODAY,
    instrument: str = "ratification",
) -> r.RatificationState:
    """A State whose deposit is recorded, in force, with its obligations opened as the
    workflow opens them (decide, then the consequences of EnteredIntoForce)."""
    s = r.initial_state(profile.code, iso)
    if instrument != "accession":
        s = _apply(s, r.Sign(signed_on=None), profile, context, today)
    s = _apply(
        s,
        r.Deposit(instrument=instrument, deposited_on=deposited_on),  # type: ignore[arg-type]
        profile,
        context,
        today,
    )
    s = _apply(s, r.MarkEnteredIntoForce(), profile, context, today)
    return r.fold(s, r.obligations_at_entry_into_force(s, profile, today))


@pytest.mark.parametrize(
    ("state", "iso", "in_force_on", "due"),
    [
        # 2 Jun 2009, before the 30th instrument: Art. 17(1), 1 Aug 2010; + 180 days
        ("Niger", "NER", date(2010, 8, 1), date(2011, 1, 28)),
        # 28 May 2010, after it: Art. 17(2), first day of the sixth month after, 1 Nov 2010
        ("Fiji", "FJI", date(2010, 11, 1), date(2011, 4, 30)),
        # 28 Jul 2010 -> 1 Jan 2011; + 180 days = 30 Jun 2011
        ("Comoros", "COM", date(2011, 1, 1), date(2011, 6, 30)),
        # 12 Jul 2012 -> 1 Jan 2013 -> 30 Jun 2013
        ("Cameroon", "CMR", date(2013, 1, 1), date(2013, 6, 30)),
        # 30 Apr 2013 -> 1 Oct 2013 -> 30 Mar 2014
        ("Bolivia", "BOL", date(2013, 10, 1), date(2014, 3, 30)),
    ],
)
def test_initial_report_from_the_recorded_deposit(
    state: str, iso: str, in_force_on: date, due: date
) -> None:
    instrument, deposited_on = _deposits()[state]
    s = in_force(iso, deposited_on, instrument=instrument)
    assert s.in_force_on == in_force_on
    report = s.obligations["initial-report"]
    assert (report.due_on, report.article, report.opened_on) == (due, "CCM Art. 7(1)", in_force_on)
    # recorded long after the date: historical, so no timer marks it
    assert report.deadlines[-1].historical and report.marked is None
    assert report.status(TODAY) == "overdue"


def test_annual_reports_every_30_april_and_the_next_one_open() -> None:
    s = in_force("BGR", date(2011, 4, 6))
    keys = [k for k in s.obligations if k.startswith("annual-report-")]
    # initial report due 29 Mar 2012, so the first annual report is that of 30 Apr 2012
    assert keys[0] == "annual-report-2012" and keys[-1] == "annual-report-2027"
    nxt = s.obligations["annual-report-2027"]
    assert (nxt.due_on, nxt.covers, nxt.deadlines[-1].historical) == (
        date(2027, 4, 30),
        "2026-01-01/2026-12-31",
        False,
    )
    assert r.next_wake(s) == date(2027, 4, 30)
    # the timer: due on the day (and the next year's report opens), overdue the day after
    events = r.settle(s, CCM, date(2027, 4, 30))
    assert [(e.type, e.occurred_on) for e in events] == [
        ("ObligationDue", date(2027, 4, 30)),
        ("ObligationOpened", date(2027, 4, 30)),
    ]
    assert isinstance(events[1], ObligationOpened) and events[1].key == "annual-report-2028"
    s = r.fold(s, events)
    assert r.next_wake(s) == date(2027, 5, 1)
    later = r.settle(s, CCM, date(2027, 5, 1))
    assert [(e.type, e.occurred_on) for e in later] == [("ObligationOverdue", date(2027, 5, 1))]
    s = r.fold(s, later)
    assert r.settle(s, CCM, date(2027, 5, 1)) == []


def test_bulgaria_stockpile_deadline_moved_by_a_granted_extension() -> None:
    # deposit 6 Apr 2011 -> in force 1 Oct 2011 (Art. 17(2)); Art. 3(2): eight years
    s = in_force("BGR", date(2011, 4, 6))
    s = _apply(s, r.DeclareStockpiles(declared_on=date(2011, 10, 1)))
    stock = s.obligations["stockpile-destruction"]
    assert (stock.due_on, stock.article) == (date(2019, 10, 1), "CCM Art. 3(2)")
    request = r.RequestExtension(
        key="stockpile-destruction",
        requested_until=date(2021, 10, 1),
        meeting=NINE_MSP,
        filed_on=date(2018, 12, 2),  # nine months before 2 Sep 2019: the last day
    )
    s = _apply(s, request)
    assert s.obligations["stockpile-destruction"].request is not None
    decided = r.decide(
        s,
        r.DecideExtension(
            key="stockpile-destruction",
            meeting=NINE_MSP,
            granted_until=date(2020, 10, 1),
            votes_for=90,
            votes_against=2,
        ),
        CCM,
        CCM_CONTEXT,
        TODAY,
    )
    assert [(e.type, e.outcome, e.occurred_on) for e in decided] == [  # type: ignore[attr-defined]
        ("ExtensionDecided", "granted_shorter", date(2019, 9, 4))
    ]
    s = r.fold(s, decided)
    stock = s.obligations["stockpile-destruction"]
    assert [d.due_on for d in stock.deadlines] == [date(2019, 10, 1), date(2020, 10, 1)]
    assert stock.request is None and stock.extensions_granted == 1


def test_extension_refusals_name_the_rule() -> None:
    s = in_force("BGR", date(2011, 4, 6))
    s = _apply(s, r.DeclareContamination(declared_on=date(2011, 10, 1)))
    assert s.obligations["clearance"].due_on == date(2021, 10, 1)  # Art. 4(1)(a)

    def refused(command: r.Command, match: str) -> None:
        with pytest.raises(DomainError, match=match):
            r.decide(s, command, CCM, CCM_CONTEXT, TODAY)

    # filed less than nine months before the Meeting opens (Art. 4(6))
    refused(
        r.RequestExtension(
            key="clearance",
            requested_until=date(2024, 10, 1),
            meeting=NINE_MSP,
            filed_on=date(2018, 12, 3),
        ),
        r"at least 9 months before, by 2018-12-02 \(CCM Art\. 4\(5\)-\(8\)\); this one is dated "
        r"2018-12-03",
    )
    # more than five years (Art. 4(5))
    refused(
        r.RequestExtension(
            key="clearance",
            requested_until=date(2026, 10, 2),
            meeting=NINE_MSP,
            filed_on=date(2018, 11, 1),
        ),
        "up to 5 years",
    )
    # a decision with no request, or by another Meeting
    refused(
        r.DecideExtension(key="clearance", meeting=NINE_MSP, granted_until=date(2022, 10, 1)),
        "no extension request on clearance",
    )
    s = _apply(
        s,
        r.RequestExtension(
            key="clearance",
            requested_until=date(2026, 10, 1),
            meeting=NINE_MSP,
            filed_on=date(2018, 11, 1),
        ),
    )
    ten = Meeting(name="10MSP", kind="MSP", opens_on=date(2022, 8, 30), closes_on=date(2022, 9, 2))
    refused(
        r.DecideExtension(key="clearance", meeting=ten, granted_until=date(2022, 10, 1)),
        "before the 9MSP, not the 10MSP",
    )
    refused(
        r.DecideExtension(key="clearance", meeting=NINE_MSP, granted_until=date(2027, 1, 1)),
        "up to the requested 2026-10-01",
    )
    refused(
        r.DecideExtension(
            key="clearance",
            meeting=NINE_MSP,
            granted_until=date(2026, 10, 1),
            votes_for=10,
            votes_against=10,
        ),
        "no majority of the States Parties present and voting",
    )
    refused(
        r.DeclareCompliance(key="initial-report", declared_on=date(2020, 1, 1), channel="x"),
        "met by a report",
    )
    refused(
        r.DeclareCompliance(key="stockpile-destruction", declared_on=date(2020, 1, 1), channel="x"),
        "has no obligation 'stockpile-destruction'",
    )


def test_apmbc_stockpile_four_years_no_extension() -> None:
    # Norway: APMBC in force for it 1 Mar 1999 (Art. 17(1)); Art. 4: four years
    context = r.TreatyContext(
        in_force_on=date(1999, 3, 1), threshold_deposited_on=date(1998, 9, 16), basis="depositary"
    )
    s = in_force("NOR", date(1998, 7, 9), APMBC, context)
    s = _apply(s, r.DeclareStockpiles(declared_on=date(1999, 3, 1)), APMBC, context)
    stock = s.obligations["stockpile-destruction"]
    assert (stock.due_on, stock.article) == (date(2003, 3, 1), "APMBC Art. 4")
    meeting = Meeting(
        name="4MSP", kind="MSP", opens_on=date(2002, 9, 16), closes_on=date(2002, 9, 20)
    )
    with pytest.raises(DomainError, match="allows no extension"):
        r.decide(
            s,
            r.RequestExtension(
                key="stockpile-destruction",
                requested_until=date(2004, 3, 1),
                meeting=meeting,
                filed_on=date(2001, 1, 1),
            ),
            APMBC,
            context,
            TODAY,
        )


def test_att_initial_report_within_the_first_year() -> None:
    # the ATT entered into force on 24 Dec 2014 (50th instrument 25 Sep 2014, Art. 22(1));
    # a State that ratified on 2 Apr 2014 is bound from then; initial report within the
    # first year (Art. 13(1)): by 23 Dec 2015; annual reports by 31 May (Art. 13(3))
    context = r.TreatyContext(
        in_force_on=date(2014, 12, 24), threshold_deposited_on=date(2014, 9, 25), basis="depositary"
    )
    s = in_force("ISL", date(2014, 4, 2), ATT, context)
    assert s.obligations["initial-report"].due_on == date(2015, 12, 23)
    assert s.obligations["initial-report"].article == "ATT Art. 13(1)"
    assert s.obligations["annual-report-2016"].due_on == date(2016, 5, 31)
    with pytest.raises(DomainError, match="no stockpile destruction obligation"):
        r.decide(s, r.DeclareStockpiles(declared_on=date(2015, 1, 1)), ATT, context, TODAY)


def test_lithuania_withdrawal_effective_6_march_2025() -> None:
    # deposit 24 Mar 2011 -> in force 1 Sep 2011 (Art. 17(2)); the instrument of
    # withdrawal received 6 Sep 2024 -> six months later (Art. 20(3)): 6 Mar 2025, the
    # date the public record gives (examples/ccm/status.csv)
    instrument, deposited_on = _deposits()["Lithuania"]
    s = in_force("LTU", deposited_on, instrument=instrument)
    assert s.in_force_on == date(2011, 9, 1)
    events = r.decide(s, r.Withdraw(received_on=date(2024, 9, 6)), CCM, CCM_CONTEXT, TODAY)
    assert [(e.type, e.occurred_on) for e in events] == [
        ("WithdrawalDeposited", date(2024, 9, 6)),
        ("WithdrawalTookEffect", date(2025, 3, 6)),
    ]
    s = r.fold(s, events)
    assert s.status() == "withdrawn" and s.status(date(2025, 3, 5)) == "in force"
    assert not any(o.is_open for o in s.obligations.values())
    assert r.next_wake(s) is None
    with pytest.raises(DomainError, match="already received on 2024-09-06"):
        r.decide(s, r.Withdraw(received_on=date(2024, 9, 7)), CCM, CCM_CONTEXT, TODAY)


def test_withdrawal_waits_for_the_end_of_an_armed_conflict() -> None:
    today = date(2025, 1, 10)
    s = in_force("LTU", date(2011, 3, 24), today=today)
    s = _apply(s, r.RecordArmedConflict(since=date(2024, 12, 1), description="test"), today=today)
    s = _apply(s, r.Withdraw(received_on=date(2025, 1, 10)), today=today)
    ends = date(2025, 7, 10)
    # the next date to wake for: the annual report of 30 Apr 2025, then the end of the period
    assert s.withdrawal_period_ends_on == ends and r.next_wake(s) == date(2025, 4, 30)
    s = r.fold(s, r.settle(s, CCM, date(2025, 4, 30)))
    s = r.fold(s, r.settle(s, CCM, date(2025, 5, 1)))
    assert r.next_wake(s) == ends
    deferred = r.settle(s, CCM, ends)
    assert [e.type for e in deferred if e.type.startswith("Withdrawal")] == ["WithdrawalDeferred"]
    s = r.fold(s, deferred)
    ended = r.decide(
        s, r.EndArmedConflict(ended_on=date(2025, 9, 1)), CCM, CCM_CONTEXT, date(2025, 9, 1)
    )
    assert [(e.type, e.occurred_on) for e in ended] == [
        ("ArmedConflictEnded", date(2025, 9, 1)),
        ("WithdrawalTookEffect", date(2025, 9, 1)),
    ]
    # ATT: no armed-conflict clause, 90 days (Art. 24(2))
    with pytest.raises(DomainError, match="no armed-conflict clause"):
        r.decide(
            r.initial_state("ATT", "ISL"),
            r.RecordArmedConflict(since=date(2024, 1, 1), description="x"),
            ATT,
            r.TreatyContext(),
            TODAY,
        )


def test_withdrawal_by_a_state_that_is_not_party() -> None:
    s = _apply(r.initial_state("CCM", "AGO"), r.Sign(signed_on=date(2008, 12, 3)))
    with pytest.raises(DomainError, match="AGO is not a State Party to the CCM"):
        r.decide(s, r.Withdraw(received_on=date(2024, 9, 6)), CCM, CCM_CONTEXT, TODAY)


def test_report_received_meets_the_obligation() -> None:
    s = in_force("NER", date(2009, 6, 2))
    s = _apply(
        s, r.RecordReport(key="initial-report", received_on=date(2011, 1, 20), channel="e-mail")
    )
    report = s.obligations["initial-report"]
    assert (report.met_on, report.channel, report.status(TODAY)) == (
        date(2011, 1, 20),
        "e-mail",
        "met",
    )
    with pytest.raises(DomainError, match="not open: it was met on 2011-01-20"):
        r.decide(
            s,
            r.RecordReport(key="initial-report", received_on=date(2011, 2, 1), channel="fax"),
            CCM,
            CCM_CONTEXT,
            TODAY,
        )
    assert date(2011, 1, 28) - timedelta(days=180) == date(2010, 8, 1)


# --- refusals the treaty text requires ----------------------------------------------------


def _bulgaria_stockpiles() -> r.RatificationState:
    # deposit 6 Apr 2011 -> in force 1 Oct 2011 (Art. 17(2)); stockpiles declared 1 Oct
    # 2011 -> destroy by 1 Oct 2019 (Art. 3(2))
    s = in_force("BGR", date(2011, 4, 6))
    return _apply(s, r.DeclareStockpiles(declared_on=date(2011, 10, 1)))


@pytest.mark.parametrize("key", ["stockpile-destruction", "clearance"])
def test_extension_request_after_the_deadline_expired_is_refused(key: str) -> None:
    # stockpiles: Art. 3(3) (a State that "will be unable" to destroy them in time asks
    # before the deadline); clearance: Art. 4(6) "prior to the expiry"
    s = _bulgaria_stockpiles()
    s = _apply(s, r.DeclareContamination(declared_on=date(2011, 10, 1)))
    o = s.obligations[key]
    # the Meeting opens long after: the nine-month rule is not what refuses it
    rc = Meeting(name="3RC", kind="RC", opens_on=date(2026, 9, 7), closes_on=date(2026, 9, 11))
    late = o.due_on + timedelta(days=1)
    with pytest.raises(DomainError, match=f"before the deadline expires .*expired on {o.due_on}"):
        r.decide(
            s,
            r.RequestExtension(
                key=key,
                requested_until=o.due_on.replace(year=o.due_on.year + 3),
                meeting=rc,
                filed_on=late,
            ),
            CCM,
            CCM_CONTEXT,
            TODAY,
        )


def test_extension_request_dates_out_of_order_are_refused() -> None:
    s = _bulgaria_stockpiles()

    def refused(requested_until: date, filed_on: date, match: str) -> None:
        with pytest.raises(DomainError, match=match):
            r.decide(
                s,
                r.RequestExtension(
                    key="stockpile-destruction",
                    requested_until=requested_until,
                    meeting=NINE_MSP,
                    filed_on=filed_on,
                ),
                CCM,
                CCM_CONTEXT,
                TODAY,
            )

    # filed before the obligation arose (stockpiles declared 1 Oct 2011)
    refused(date(2021, 10, 1), date(2011, 9, 1), "before the obligation on 2011-10-01")
    # a requested date not after the deadline in force (1 Oct 2019)
    refused(date(2019, 10, 1), date(2018, 12, 1), "not after the deadline in force 2019-10-01")


def test_extension_granted_to_a_date_past_when_the_meeting_met_is_refused() -> None:
    # a Meeting meeting in 2025 cannot grant a deadline of 2021: the extension would be
    # over before it was granted
    s = _bulgaria_stockpiles()
    msp13 = Meeting(
        name="13MSP", kind="MSP", opens_on=date(2025, 9, 15), closes_on=date(2025, 9, 19)
    )
    s = _apply(
        s,
        r.RequestExtension(
            key="stockpile-destruction",
            requested_until=date(2021, 10, 1),
            meeting=msp13,
            filed_on=date(2018, 12, 1),
        ),
    )
    with pytest.raises(DomainError, match="cannot grant an extension to 2021-10-01"):
        r.decide(
            s,
            r.DecideExtension(
                key="stockpile-destruction", meeting=msp13, granted_until=date(2021, 10, 1)
            ),
            CCM,
            CCM_CONTEXT,
            TODAY,
        )


def test_report_received_before_the_period_it_covers_ended_is_refused() -> None:
    s = in_force("BGR", date(2011, 4, 6))
    # annual-report-2027 covers 2026 (Art. 7(2)) and arose when the 2026 one fell due
    # (30 Apr 2026): a receipt in 2012 is before the obligation; annual-report-2026 covers
    # 2025: a receipt on 31 Dec 2025 is before the end of the year it covers
    for key, day, match in (
        ("annual-report-2027", date(2012, 5, 1), "before the obligation on 2026-04-30"),
        ("annual-report-2026", date(2025, 12, 31), "not after the end of the period"),
    ):
        with pytest.raises(DomainError, match=match):
            r.decide(
                s,
                r.RecordReport(key=key, received_on=day, channel="e-mail"),
                CCM,
                CCM_CONTEXT,
                TODAY,
            )
    # before the obligation arose: annual-report-2013 was opened when the 2012 one fell
    # due (30 Apr 2012); a receipt on 1 Jan 2012 is before that
    with pytest.raises(DomainError, match="before the obligation on 2012-04-30"):
        r.decide(
            s,
            r.RecordReport(key="annual-report-2013", received_on=date(2012, 1, 1), channel="x"),
            CCM,
            CCM_CONTEXT,
            TODAY,
        )
    # on time: 2 Jan 2013 for the report covering 2012
    s = _apply(
        s, r.RecordReport(key="annual-report-2013", received_on=date(2013, 1, 2), channel="x")
    )
    assert s.obligations["annual-report-2013"].met_on == date(2013, 1, 2)


@pytest.mark.parametrize(
    "command",
    [
        r.DeclareStockpiles(declared_on=date(2999, 1, 1)),
        r.DeclareContamination(declared_on=date(2999, 1, 1)),
        r.Withdraw(received_on=date(2999, 1, 1)),
        r.RecordArmedConflict(since=date(2999, 1, 1), description="x"),
        r.EndArmedConflict(ended_on=date(2999, 1, 1)),
        r.RecordReport(key="initial-report", received_on=date(2999, 1, 1), channel="x"),
        r.DeclareCompliance(key="clearance", declared_on=date(2999, 1, 1), channel="x"),
        r.RequestExtension(
            key="clearance",
            requested_until=date(3000, 1, 1),
            meeting=NINE_MSP,
            filed_on=date(2999, 1, 1),
        ),
        r.DecideExtension(
            key="clearance",
            meeting=NINE_MSP,
            granted_until=date(3000, 1, 1),
            decided_on=date(2999, 1, 1),
        ),
    ],
)
def test_obligation_commands_future_dates_refused_without_state(command: r.Command) -> None:
    # check_command needs no process state: the CLI runs it before contacting a server
    with pytest.raises(DomainError, match="2999-01-01 is in the future"):
        r.check_command(command, CCM, TODAY)


def test_parties_drop_a_state_once_its_withdrawal_took_effect() -> None:
    from app.reads import parties_as_of

    # Lithuania: deposit 24 Mar 2011, in force 1 Sep 2011; withdrawal received 6 Sep 2024,
    # effective 6 Mar 2025 (Art. 20(3); examples/ccm/status.csv)
    instrument, deposited_on = _deposits()["Lithuania"]
    ltu = in_force("LTU", deposited_on, instrument=instrument)
    ltu = _apply(ltu, r.Withdraw(received_on=date(2024, 9, 6)))
    bgr = in_force("BGR", date(2011, 4, 6))
    before = parties_as_of([bgr, ltu], date(2025, 3, 5))
    assert (before.consented, before.in_force) == (["BGR", "LTU"], ["BGR", "LTU"])
    after = parties_as_of([bgr, ltu], date(2025, 3, 6))
    assert (after.consented, after.in_force) == (["BGR"], ["BGR"])


def test_obligations_opened_after_the_withdrawal_took_effect_never_arose() -> None:
    # Lithuania, recorded in force up to today (2026-11-29) before its withdrawal was
    # recorded: the annual reports opened on 30 Apr 2025 and 30 Apr 2026 (for 2026 and
    # 2027) arose after the withdrawal took effect on 6 Mar 2025 (Art. 20(3)): they are no
    # obligation of Lithuania. The one opened on 30 Apr 2024 (annual-report-2025) was
    # owed and ended with the withdrawal.
    instrument, deposited_on = _deposits()["Lithuania"]
    s = in_force("LTU", deposited_on, instrument=instrument)
    assert {"annual-report-2026", "annual-report-2027"} <= set(s.obligations)
    s = _apply(s, r.Withdraw(received_on=date(2024, 9, 6)))
    assert "annual-report-2026" not in s.obligations
    assert "annual-report-2027" not in s.obligations
    owed = s.obligations["annual-report-2025"]
    assert (owed.opened_on, owed.ended_on) == (date(2024, 4, 30), date(2025, 3, 6))
    assert owed.status(TODAY) == "ended"
