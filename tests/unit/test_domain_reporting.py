"""The reporting domain (CCM Art. 7): who owes the annual report, the reminder policy, the
review checks, the figures, and refusals. Values from the treaty text and the real CCM
status table (examples/ccm/status.csv)."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from domain import reporting as rp
from domain.errors import DomainError
from domain.processes import fold, process_type
from domain.states import resolve_state
from domain.treaties import ATT, CCM
from tests import STATUS_CSV

TREATY_EIF = date(2010, 8, 1)  # depositary: in force 1 Aug 2010 (CCM Art. 17(1))
THRESHOLD = date(2010, 2, 16)  # the 30th instrument (Burkina Faso, Moldova)
TODAY = date(2026, 11, 29)

# Who owes the annual report due 30 April 2011 (covering 2010)?
# - CCM Art. 7(1): the initial report is due 180 days after entry into force for the State.
# - CCM Art. 7(2): then annually by 30 April, covering the last calendar year; a State is
#   not asked for the annual report while its initial report still runs on that deadline.
# So the 2011 report is owed iff EIF + 180 days < 30 Apr 2011, i.e. EIF <= 31 Oct 2010.
# EIF is 1 Aug 2010 for deposits by 16 Feb 2010 (Art. 17(1)), else the first day of the
# sixth month after the deposit (Art. 17(2)): EIF <= 1 Oct 2010 <=> deposit <= 30 Apr 2010.
# In the table: the 27 States that deposited by 16 Feb 2010 (none deposited between
# 17 Feb and 30 Apr 2010). Ecuador (11 May 2010) and Fiji (28 May 2010) enter into force
# on 1 Nov 2010: initial report due 30 Apr 2011 (1 Nov 2010 + 180 days), so not asked
# for 2011; their first annual report is 2012.
OWE_2011 = [
    "ALB", "AUT", "BDI", "BEL", "BFA", "DEU", "DNK", "ESP", "FRA", "HRV", "IRL", "JPN", "LAO",
    "LUX", "MDA", "MEX", "MKD", "MNE", "MWI", "NER", "NIC", "NOR", "NZL", "SLE", "SVN", "VAT",
    "ZMB",
]  # fmt: skip


def ccm_parties() -> list[rp.Party]:
    """Every State of the real status table with a deposit, with its EIF (Art. 17)."""
    out = []
    with STATUS_CSV.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if not row["deposit_date"]:
                continue
            deposited = date.fromisoformat(row["deposit_date"])
            eif, _ = CCM.state_entry_into_force(deposited, TREATY_EIF, THRESHOLD)
            out.append(rp.Party(state=resolve_state(row["state"]).code, in_force_on=eif))
    return out


def test_who_owes_the_2011_report_follows_art_7_and_the_eif_dates() -> None:
    due = rp.due_parties(CCM, ccm_parties(), 2011)
    assert [p.state for p in due] == OWE_2011
    assert all(p.in_force_on == TREATY_EIF for p in due)
    # not asked twice: initial report still running on 30 April 2011
    assert not rp.owes_annual_report(CCM, date(2010, 11, 1), 2011)
    assert rp.owes_annual_report(CCM, date(2010, 11, 1), 2012)
    assert rp.owes_annual_report(CCM, date(2010, 10, 1), 2011)  # initial due 30 Mar 2011


def test_cycle_opened_lists_due_and_not_due_with_the_reason() -> None:
    s = rp.initial_cycle_state("CCM", 2011)
    events = rp.decide_cycle(s, rp.OpenCycle(parties=ccm_parties()), CCM, TODAY)
    s = rp.evolve_cycle(s, events[0])
    assert list(s.states) == OWE_2011
    assert s.due_on == date(2011, 4, 30)
    assert s.closes_on == date(2011, 12, 31)  # 30 April + 245 days
    assert s.historical  # opened in 2026 for 2011: no reminders
    assert "initial report due 2011-04-30" in s.not_due["ECU"]
    assert "FJI" in s.not_due and "BGR" in s.not_due  # Bulgaria: deposit 6 Apr 2011


def test_a_state_whose_withdrawal_took_effect_by_the_due_date_is_not_asked() -> None:
    """Lithuania (UNTC XXVI-6, ccm_status_2026.csv): in force 1 Sep 2011, withdrawal
    received 6 Sep 2024, in effect 6 Mar 2025 (CCM Art. 20(3): six months after receipt).
    It owes the report due 30 Apr 2024 (a State Party then), not the one due 30 Apr 2025:
    on that date it is no longer a State Party."""
    ltu = rp.Party(state="LTU", in_force_on=date(2011, 9, 1), withdrawn_on=date(2025, 3, 6))
    aut = rp.Party(state="AUT", in_force_on=TREATY_EIF)
    assert [p.state for p in rp.due_parties(CCM, [ltu, aut], 2024)] == ["AUT", "LTU"]
    assert [p.state for p in rp.due_parties(CCM, [ltu, aut], 2025)] == ["AUT"]
    s = rp.initial_cycle_state("CCM", 2025)
    events = rp.decide_cycle(s, rp.OpenCycle(parties=[ltu, aut]), CCM, TODAY)
    s = rp.evolve_cycle(s, events[0])
    assert list(s.states) == ["AUT"]
    assert s.not_due["LTU"] == (
        "withdrawal in effect 2025-03-06, before the report was due on 2025-04-30 (CCM Art. 20(3))"
    )


def test_default_reminder_policy_dates() -> None:
    due = date(2011, 4, 30)
    slots = rp.reminder_schedule(rp.ReminderPolicy(), due, date(2011, 7, 31))
    assert [(s.on, s.kind) for s in slots] == [
        (date(2011, 3, 1), "friendly"),  # 60 days before
        (date(2011, 4, 16), "friendly"),  # 14 days before
        (date(2011, 5, 1), "overdue"),  # the day after
        (date(2011, 5, 31), "overdue"),  # then every 30 days until the close
        (date(2011, 6, 30), "overdue"),
        (date(2011, 7, 30), "overdue"),
    ]
    assert [s.n for s in slots] == [1, 2, 3, 4, 5, 6]
    # ATT: 31 May (Art. 13(3))
    assert rp.annual_due_on(ATT, 2016) == date(2016, 5, 31)


def test_opened_late_sends_one_catch_up_reminder_and_historical_none() -> None:
    policy = rp.ReminderPolicy()
    due, closes = date(2026, 4, 30), date(2026, 12, 31)
    pending = rp.pending_reminders(policy, due, closes, TODAY)
    assert pending[0].on == TODAY and pending[0].kind == "overdue"
    assert [s.on for s in pending[1:]] == [date(2026, 12, 27)]
    assert rp.pending_reminders(policy, date(2011, 4, 30), date(2011, 12, 31), TODAY) == []


def _requested(year: int = 2011, state: str = "BEL") -> rp.ReportState:
    s = rp.initial_report_state("CCM", year, state)
    req = rp.Request(
        in_force_on=TREATY_EIF,
        due_on=date(year, 4, 30),
        closes_on=date(year, 12, 31),
        requested_on=date(year, 1, 1),
    )
    return rp.fold_report(s, rp.decide_report(s, req, CCM, TODAY))


def test_review_checks_recorded_as_findings() -> None:
    s = _requested()
    sub = rp.Submission(
        received_on=date(2011, 5, 10),
        period_from=date(2010, 8, 1),
        period_to=date(2010, 12, 31),
        stockpiles={"M26": 120, "BL755": 10},
    )
    events = rp.decide_report(s, rp.Submit(submission=sub), CCM, TODAY, {"M26": 100, "BL755": 12})
    checks = [getattr(e, "check", None) for e in events[1:]]
    assert checks == ["late", "period", "stockpile_grew"]
    assert "10 day(s) after the deadline 2011-04-30" in events[1].text  # type: ignore[attr-defined]
    assert "M26: 100 -> 120" in events[3].text  # type: ignore[attr-defined]
    s = rp.fold_report(s, events)
    assert s.outcome() == "late" and s.review == "pending"
    # explained growth, right period, on time: no finding
    ok = rp.Submission(
        received_on=date(2011, 4, 29), stockpiles={"M26": 120}, explanation="newly found"
    )
    assert (
        len(rp.decide_report(_requested(), rp.Submit(submission=ok), CCM, TODAY, {"M26": 1})) == 1
    )


def test_nothing_new_is_valid_and_a_resubmission_after_withdrawal_is_judged_by_its_date() -> None:
    # README / CCM practice: a withdrawn report counts as not received, so the standing
    # submission's date decides. Due 30 April 2011 (CCM Art. 7(2)).
    s = _requested()
    first = rp.Submission(received_on=date(2011, 4, 20), nothing_new=True)
    s = rp.fold_report(s, rp.decide_report(s, rp.Submit(submission=first), CCM, TODAY))
    assert s.outcome() == "on_time"
    s = rp.fold_report(
        s, rp.decide_report(s, rp.Withdraw(withdrawn_on=date(2011, 5, 2)), CCM, TODAY)
    )
    assert s.outcome() == "missing"
    again = rp.Submission(received_on=date(2011, 5, 20))
    events = rp.decide_report(s, rp.Submit(submission=again), CCM, TODAY)
    assert [e.type for e in events] == ["ReportSubmitted", "ReviewFindingRecorded"]
    assert events[0].on_time is False  # 20 May 2011 > 30 April 2011
    s = rp.fold_report(s, events)
    assert s.outcome() == "late" and s.submissions == 2
    assert s.first_received_on == date(2011, 4, 20)  # kept for the record
    fig = rp.figures([s])
    assert (fig.on_time, fig.late, fig.missing) == (0, 1, 0)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (rp.Review(action="accept", on=date(2011, 5, 1)), "has not been received"),
        (rp.Withdraw(withdrawn_on=date(2011, 5, 1)), "nothing to withdraw"),
        (rp.Submit(submission=rp.Submission(received_on=date(2027, 1, 1))), "in the future"),
        (
            rp.Submit(submission=rp.Submission(received_on=date(2011, 5, 1), sha256="abc")),
            "64 hex digits",
        ),
    ],
)
def test_refusals_say_why(command: rp.ReportCommand, message: str) -> None:
    s = _requested()
    with pytest.raises(DomainError, match=message):
        rp.decide_report(s, command, CCM, TODAY)


def test_not_due_and_future_years_are_refused() -> None:
    s = rp.initial_report_state("CCM", 2011, "ECU")
    sub = rp.Submit(submission=rp.Submission(received_on=date(2011, 4, 1)))
    with pytest.raises(DomainError, match="no annual report is due from ECU for 2011"):
        rp.decide_report(s, sub, CCM, TODAY)
    with pytest.raises(DomainError, match="year 2027 is in the future"):
        rp.check_year(CCM, 2027, TODAY)
    with pytest.raises(DomainError, match="2099 is in the future"):
        rp.check_submission(CCM, 2099, rp.Submission(received_on=TODAY), TODAY)


def test_figures_and_the_process_registry() -> None:
    reports = []
    for code, received in (("AUT", date(2011, 4, 29)), ("BEL", date(2011, 5, 3)), ("DEU", None)):
        s = _requested(state=code)
        if received:
            sub = rp.Submit(submission=rp.Submission(received_on=received))
            s = rp.fold_report(s, rp.decide_report(s, sub, CCM, TODAY))
        reports.append(s)
    fig = rp.figures(reports)
    assert (fig.due, fig.on_time, fig.late, fig.missing) == (3, 1, 1, 1)
    assert fig.per_state["BEL"].outcome == "late"
    kind, parts = process_type("reporting-CCM-2011-BEL")
    assert kind.prefix == "reporting" and parts == ["CCM", "2011", "BEL"]
    state = fold("reporting:CCM:2011:BEL", [])
    assert isinstance(state, rp.ReportState) and state.state == "BEL"
    assert isinstance(fold("reporting-CCM-2011", []), rp.CycleState)


def test_no_cycle_before_the_first_annual_reports_are_owed() -> None:
    # CCM in force 1 Aug 2010 (Art. 17(1)): initial reports due 28 Jan 2011 (Art. 7(1),
    # 180 days), so the first annual reports are due 30 April 2011 (Art. 7(2)).
    parties = ccm_parties()
    assert rp.first_reporting_year(CCM, parties) == 2011
    for year in (2009, 2010):
        with pytest.raises(DomainError, match="expected a year from 2011 on"):
            rp.check_year_owed(CCM, year, parties)
        s = rp.initial_cycle_state("CCM", year)
        with pytest.raises(DomainError, match="first annual reports are due 2011"):
            rp.decide_cycle(s, rp.OpenCycle(parties=parties), CCM, TODAY)
    rp.check_year_owed(CCM, 2011, parties)
    # a single State in force 1 Nov 2010 (Ecuador): initial report due 30 April 2011,
    # first annual report 2012
    late_only = [rp.Party(state="ECU", in_force_on=date(2010, 11, 1))]
    assert rp.first_reporting_year(CCM, late_only) == 2012
    with pytest.raises(DomainError, match="from 2012 on"):
        rp.check_year_owed(CCM, 2011, late_only)
    # no State recorded at all: not refused here (the CLI says the cycle is empty)
    rp.check_year_owed(CCM, 2010, [])


def test_reminders_are_numbered_per_report_from_1() -> None:
    # opened on TODAY (29 Nov 2026) for 2026: the catch-up overdue notice is the first
    # reminder BGR ever gets, whatever its position in the plan
    policy = rp.ReminderPolicy()
    due, closes = date(2026, 4, 30), date(2026, 12, 31)
    pending = rp.pending_reminders(policy, due, closes, TODAY)
    assert pending[0].n > 1  # its place in the policy's plan
    s = _requested(year=2026, state="BGR")
    numbers = []
    for slot in pending:
        events = rp.decide_report(s, rp.SendReminder(slot=slot), CCM, slot.on)
        s = rp.fold_report(s, events)
        numbers.append(events[0].n)
    assert numbers == [1, 2]
    # the same slot again sends nothing
    assert rp.decide_report(s, rp.SendReminder(slot=pending[0]), CCM, TODAY) == []


def test_on_time_rate_is_none_when_nothing_is_due() -> None:
    fig = rp.figures([])
    assert fig.due == 0 and fig.on_time_rate is None and fig.on_time_rate_text == "n/a"
    fig = rp.figures([_requested()])
    assert fig.on_time_rate == 0.0 and fig.on_time_rate_text == "0.0%"
