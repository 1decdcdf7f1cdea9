"""The host-country agreement process, pure: the 2MSP (Beirut, 12-16 Sep 2011, per
ccm_meetings.csv) with Lebanon as host and UNODA as counterpart (the 24 Feb 2011 record:
"Lebanon stated the priority of finalising the host country agreement with UN ODA");
due dates set back from the opening by the margins, a move of the meeting moving them
all, escalation of a milestone that slips."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import hca as h
from domain.errors import DomainError
from domain.events import HcaMilestoneEscalated

OPENS = date(2011, 9, 12)
RECORDED = date(2011, 2, 24)


def run(s: h.AgreementState, command: object, today: date) -> h.AgreementState:
    return h.fold(s, h.decide(s, command, today))  # type: ignore[arg-type]


def opened(today: date = RECORDED, **margins: int) -> h.AgreementState:
    return run(
        h.initial_state("CCM", "2MSP"),
        h.OpenAgreement(
            meeting="2MSP",
            opens_on=OPENS,
            closes_on=date(2011, 9, 16),
            city="Beirut",
            host="Lebanon",
            counterpart="UNODA",
            margins=margins,
            opened_on=RECORDED,
        ),
        today,
    )


def test_due_dates_are_set_back_from_the_opening_by_the_margins() -> None:
    s = opened(**{"text-agreed": 100})
    assert s.host == "LBN" and s.counterpart == "UNODA" and s.presidency == "Presidency (LBN)"
    due = {m.milestone: m.due_on for m in s.milestones.values()}
    assert due == {
        "draft-received": OPENS - timedelta(days=180),
        "negotiations": OPENS - timedelta(days=150),
        "text-agreed": OPENS - timedelta(days=100),
        "signed": OPENS - timedelta(days=60),
        "in-force": OPENS - timedelta(days=30),
    }
    assert due["signed"] == date(2011, 7, 14)
    assert not any(m.historical for m in s.milestones.values())
    with pytest.raises(DomainError, match="unknown milestone 'ratified'"):
        opened(ratified=10)


def test_moving_the_meeting_moves_every_due_date_and_escalates_what_is_now_late() -> None:
    s = opened()
    s = run(
        s,
        h.ReachMilestone(milestone="draft-received", reached_on=date(2011, 3, 10)),
        RECORDED + timedelta(days=20),
    )
    s = run(
        s, h.ReachMilestone(milestone="negotiations", reached_on=date(2011, 4, 1)), date(2011, 4, 1)
    )
    before = {m.milestone: m.due_on for m in s.milestones.values()}
    today = date(2011, 5, 1)
    events = h.decide(
        s,
        h.MoveMeeting(opens_on=date(2011, 7, 12), closes_on=date(2011, 7, 16), decided_on=today),
        today,
    )
    s = h.fold(s, events)
    shift = OPENS - date(2011, 7, 12)
    assert {m.milestone: m.due_on for m in s.milestones.values()} == {
        k: v - shift for k, v in before.items()
    }
    assert s.opens_on == date(2011, 7, 12)
    # text agreed was due 14 Jun; now 13 Apr, past and not reached: escalated at once to
    # the Presidency; draft received and negotiations were reached, nothing to escalate
    escalated = [e for e in events if isinstance(e, HcaMilestoneEscalated)]
    assert [(e.milestone, e.due_on, e.escalated_to) for e in escalated] == [
        ("text-agreed", date(2011, 4, 13), "Presidency (LBN)")
    ]
    assert escalated[0].occurred_on == today
    assert s.milestones["text-agreed"].status(today) == "late (escalated)"
    # the next one slips when its day passes, once
    assert h.next_wakeup(s) == date(2011, 5, 14)
    assert h.decide(s, h.Tick(), date(2011, 5, 13)) == []
    later = h.decide(s, h.Tick(), date(2011, 5, 14))
    assert [(e.milestone, e.due_on) for e in later] == [("signed", date(2011, 5, 13))]  # type: ignore[attr-defined]
    s = h.fold(s, later)
    assert h.decide(s, h.Tick(), date(2011, 5, 14)) == []


def test_a_historical_record_is_not_escalated_after_the_fact() -> None:
    s = opened(today=date(2025, 6, 1))
    assert all(m.historical for m in s.milestones.values())
    assert h.decide(s, h.Tick(), date(2025, 6, 1)) == []
    assert h.next_wakeup(s) is None


def test_milestones_come_in_order_and_preparations_are_checked() -> None:
    s = opened()
    with pytest.raises(
        DomainError, match="signed comes after draft-received, which is not reached"
    ):
        h.decide(
            s, h.ReachMilestone(milestone="signed", reached_on=date(2011, 3, 1)), date(2011, 3, 1)
        )
    s = run(
        s,
        h.ReachMilestone(milestone="draft-received", reached_on=date(2011, 3, 1)),
        date(2011, 3, 1),
    )
    s = run(
        s, h.ReachMilestone(milestone="negotiations", reached_on=date(2011, 3, 5)), date(2011, 4, 1)
    )
    s = run(
        s,
        h.ReachMilestone(milestone="negotiations", reached_on=date(2011, 3, 20)),
        date(2011, 4, 1),
    )
    assert s.milestones["negotiations"].rounds == (date(2011, 3, 5), date(2011, 3, 20))
    pledge = h.RecordPreparation(
        item="funding_pledge",
        detail="for delegates' travel",
        recorded_on=date(2011, 4, 1),
        donor="Norway",
        amount="50000",
        currency="usd",
    )
    s = run(s, pledge, date(2011, 4, 1))
    assert (s.preparations[0].donor, s.preparations[0].amount, s.preparations[0].currency) == (
        "NOR",
        "50000",
        "USD",
    )
    with pytest.raises(DomainError, match="unknown currency 'XYZ'"):
        h.decide(s, pledge.model_copy(update={"currency": "XYZ"}), date(2011, 4, 1))
    with pytest.raises(DomainError, match="not a positive number"):
        h.decide(s, pledge.model_copy(update={"amount": "-3"}), date(2011, 4, 1))


def test_the_same_opening_again_records_nothing_even_after_a_move() -> None:
    s = opened(today=date(2025, 6, 1))
    s = run(
        s,
        h.MoveMeeting(opens_on=date(2011, 9, 13), closes_on=date(2011, 9, 16), decided_on=RECORDED),
        date(2025, 6, 1),
    )
    again = h.OpenAgreement(
        meeting="2MSP",
        opens_on=OPENS,
        closes_on=date(2011, 9, 16),
        city="Beirut",
        host="LBN",
        opened_on=RECORDED,
    )
    assert h.decide(s, again, date(2025, 6, 1)) == []
    with pytest.raises(DomainError, match="already open"):
        h.decide(s, again.model_copy(update={"opens_on": date(2011, 9, 1)}), date(2025, 6, 1))


def open_3msp(today: date, **margins: int) -> h.AgreementState:
    """The 3MSP (Oslo, 11-14 Sep 2012, ccm_meetings.csv) opened on ``today``."""
    return run(
        h.initial_state("CCM", "3MSP"),
        h.OpenAgreement(
            meeting="3MSP",
            opens_on=date(2012, 9, 11),
            closes_on=date(2012, 9, 14),
            city="Oslo",
            host="Norway",
            margins=margins,
            opened_on=today,
        ),
        today,
    )


def test_due_dates_past_when_an_agreement_is_opened_today_are_not_escalated() -> None:
    """A 2012 meeting opened today: every due date was past when
    recorded: historical, no HcaMilestoneEscalated, no timer."""
    today = date(2026, 11, 29)
    s = open_3msp(today)
    assert all(m.historical for m in s.milestones.values())
    assert not any(m.escalated for m in s.milestones.values())
    assert h.decide(s, h.Tick(), today) == [] and h.next_wakeup(s) is None
    # the workflows' earlier behaviour stays available for replay
    old = h.decide(
        h.initial_state("CCM", "3MSP"),
        h.OpenAgreement(
            meeting="3MSP",
            opens_on=date(2012, 9, 11),
            closes_on=date(2012, 9, 14),
            host="Norway",
            opened_on=today,
        ),
        today,
        past_due_historical=False,
    )
    assert not any(e.historical for e in old[0].due)  # type: ignore[attr-defined]


def test_an_escalation_is_dated_the_day_after_the_due_date() -> None:
    s = opened()
    due = s.milestones["draft-received"].due_on  # 2011-03-16: 180 days before 12 Sep
    assert due == date(2011, 3, 16)
    s = run(s, h.Tick(), due + timedelta(days=1))
    m = s.milestones["draft-received"]
    assert m.escalated_on == (date(2011, 3, 17),) and m.escalated == (due,)


@pytest.mark.parametrize(
    ("margins", "message"),
    [
        ({"signed": 5000}, "0 to 730 days"),
        ({"in-force": -1}, "0 to 730 days"),
        ({"signed": 120}, "margins out of order: signed"),
        ({"draft-received": 100}, "margins out of order: negotiations"),
    ],
)
def test_margins_are_bounded_and_keep_the_milestones_order(
    margins: dict[str, int], message: str
) -> None:
    with pytest.raises(DomainError, match=message):
        h.margins_with(margins)
    with pytest.raises(DomainError, match=message):
        open_3msp(date(2012, 1, 2), **margins)
    assert h.margins_with({"signed": 90, "text-agreed": 90})["signed"] == 90


def test_the_meeting_cannot_move_before_a_milestone_already_reached() -> None:
    """A milestone reached before the new date keeps the meeting from moving before it."""
    s = opened()
    s = run(
        s,
        h.ReachMilestone(milestone="draft-received", reached_on=date(2011, 3, 1)),
        date(2011, 3, 1),
    )
    move = h.MoveMeeting(
        opens_on=date(2011, 2, 10), closes_on=date(2011, 2, 12), decided_on=date(2011, 3, 2)
    )
    with pytest.raises(DomainError, match=r"draft-received was reached on 2011-03-01.*after"):
        h.decide(s, move, date(2011, 3, 2))
    ok = move.model_copy(update={"opens_on": date(2011, 3, 20), "closes_on": date(2011, 3, 22)})
    assert h.decide(s, ok, date(2011, 3, 2))


def test_opening_again_with_other_data_is_refused_naming_the_difference() -> None:
    """The same opening records nothing; another city or other dates
    are refused, naming what differs."""
    s = opened()
    same = h.OpenAgreement(
        meeting="2MSP",
        opens_on=OPENS,
        closes_on=date(2011, 9, 16),
        city="Beirut",
        host="Lebanon",
        opened_on=RECORDED,
    )
    assert h.decide(s, same, RECORDED) == []
    with pytest.raises(DomainError, match="city Beirut, not Tripoli"):
        h.decide(s, same.model_copy(update={"city": "Tripoli"}), RECORDED)
    with pytest.raises(DomainError, match="dates 2011-09-12 to 2011-09-16, not 2011-09-13"):
        h.decide(s, same.model_copy(update={"opens_on": date(2011, 9, 13)}), RECORDED)
