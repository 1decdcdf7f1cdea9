"""The decision process, pure: the 24 Feb 2011 record replayed from the scenario file, and
the rules (options, positions, decision points, votes, deferral).

Truth: the record of the CCM's open-ended informal consultation of 24 February 2011
(shared/seeds/000_78116837e85fdd53.txt): "Switzerland stated support for the GICHD to host
the ISU ... Australia and France intervened and said that they also support the GICHD to
host the ISU"; "Belgium stated they were undecided with regards to preferred location";
"the CMC commented that it is crucial to the Convention that agreements on the ISU are
made by the 2MSP"; Ireland: "there is not an offer from [UNODA] ... but there should be a
consultation process on if they could host it"; Norway: "decisions on future structure and
location of an ISU could be left for the 3MSP". Meeting dates: ccm_meetings.csv (2MSP
12-16 Sep 2011, 3MSP 11-14 Sep 2012).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from adapters import scenario_file
from domain import decision as d
from domain import scenario
from domain.errors import DomainError
from domain.events import DecisionAdopted, DecisionDeferred, PositionStated
from domain.treaties import CCM
from tests import ROOT

SCENARIO = ROOT / "examples" / "ccm" / "2011-consultation.yaml"
TODAY = date(2025, 6, 1)
MEETING = "Open-ended informal consultation, Geneva, 24 Feb 2011"


def replay(path: Path = SCENARIO, today: date = TODAY) -> d.DecisionState:
    """The ISU decision after every item of the scenario file, decided as the workflow does."""
    state = d.initial_state("CCM", "isu-hosting")
    for step in scenario_file.parse(path.read_text(encoding="utf-8")):
        if step.kind == "decision":
            state = d.fold(state, scenario.decide(step, state, today))
    return state


def run(state: d.DecisionState, command: object, today: date = TODAY) -> d.DecisionState:
    return d.fold(state, d.decide(state, command, CCM, today))  # type: ignore[arg-type]


def tally_of(state: d.DecisionState, option: str | None) -> d.Tally:
    return next(t for t in d.tally(state) if t.option == option)


def test_the_24_feb_2011_record_gives_the_tallies_of_the_record() -> None:
    s = replay()
    assert s.question and "Implementation Support Unit" in s.question
    assert list(s.options) == ["gichd", "independent", "unoda"]
    assert s.options["gichd"].proposed_by == "GICHD"  # "the GICHD has offered to host"
    assert s.options["unoda"].proposed_by == "IRL"  # raised by Ireland
    gichd = tally_of(s, "gichd")
    assert gichd.states["support"] == ["CHE", "AUS", "FRA"]
    assert gichd.states["oppose"] == [] and gichd.observers["support"] == []
    general = tally_of(s, None)
    assert general.states["undecided"] == ["BEL"]
    # the CMC's call for agreement on the ISU by the 2MSP: an observer's position, recorded
    # and shown apart, never counted with the States
    assert general.observers["condition"] == ["CMC"]
    assert "CMC" not in [c for codes in general.states.values() for c in codes]
    cmc = next(p for p in s.current_positions() if p.participant == "CMC")
    assert cmc.participant_kind == "observer" and "2MSP" in (cmc.condition or "")
    assert cmc.meeting == MEETING
    # Australia and Switzerland want the decision at the 2MSP; Norway would leave
    # structure and location for the 3MSP
    conditions = {p.participant: p.condition for p in s.current_positions() if p.option is None}
    assert "2MSP" in conditions["AUS"] and "2MSP" in conditions["CHE"]
    assert "3MSP" in conditions["NOR"]
    ireland = next(
        p for p in s.current_positions() if p.participant == "IRL" and p.option == "unoda"
    )
    assert ireland.stance == "condition" and "consultation" in (ireland.condition or "")
    # Canada's request for written comments on the ISU's terms of reference: no deadline
    assert s.rounds["isu-tor-comments"].comments_due is None
    assert s.rounds["isu-tor-comments"].open
    assert s.next_decision_point() is not None
    assert s.next_decision_point().meeting == "2MSP"  # type: ignore[union-attr]
    assert d.open_items(s) == {"rounds": ["isu-tor-comments"], "decision_points": ["2MSP"]}
    assert [dv.document for dv in s.documents] == ["discussion-paper", "norway-independent-isu"]
    assert s.documents[0].authors[0].startswith("Canada")


def test_replaying_the_file_twice_records_nothing_more() -> None:
    s = replay()
    steps = [x for x in scenario_file.parse(SCENARIO.read_text()) if x.kind == "decision"]
    assert all(scenario.decide(step, s, TODAY) == [] for step in steps)


def test_a_later_position_replaces_the_earlier_and_the_history_keeps_both() -> None:
    s = replay()
    later = d.StatePosition(
        participant="Belgium",
        option=None,
        stance="condition",
        condition="decide at the 2MSP",
        stated_on=date(2011, 6, 27),
        meeting="June 2011 intersessionals",
    )
    s2 = run(s, later)
    assert tally_of(s2, None).states["undecided"] == []
    assert "BEL" in tally_of(s2, None).states["condition"]
    assert [p.stance for p in s2.positions if p.participant == "BEL"] == ["undecided", "condition"]
    earlier = later.model_copy(update={"stated_on": date(2011, 3, 1), "meeting": "x"})
    with pytest.raises(DomainError, match="replaces only an earlier one"):
        d.decide(s2, earlier, CCM, TODAY)


def test_a_position_on_an_option_that_does_not_exist_is_refused() -> None:
    s = replay()
    bad = d.StatePosition(
        participant="Norway",
        option="undp",
        stance="support",
        stated_on=date(2011, 2, 24),
        meeting=MEETING,
    )
    with pytest.raises(DomainError, match=r"no option 'undp'.*gichd, independent, unoda"):
        d.decide(s, bad, CCM, TODAY)


def test_a_position_needs_its_source_and_a_known_participant_and_document() -> None:
    s = replay()
    base = {"option": "gichd", "stance": "support", "stated_on": date(2011, 2, 24)}
    with pytest.raises(DomainError, match="source of the position"):
        d.decide(s, d.StatePosition(participant="Norway", **base), CCM, TODAY)
    with pytest.raises(DomainError, match="unknown State 'Atlantis'"):
        d.decide(s, d.StatePosition(participant="Atlantis", meeting=MEETING, **base), CCM, TODAY)
    with pytest.raises(DomainError, match="no document 'tor-draft'"):
        d.decide(s, d.StatePosition(participant="NOR", document="tor-draft", **base), CCM, TODAY)
    with pytest.raises(DomainError, match="has no version '3'"):
        d.decide(
            s, d.StatePosition(participant="NOR", document="discussion-paper@3", **base), CCM, TODAY
        )
    ok = d.decide(
        s, d.StatePosition(participant="NOR", document="discussion-paper@1", **base), CCM, TODAY
    )
    assert isinstance(ok[0], PositionStated) and ok[0].participant == "NOR"


def test_an_outcome_at_a_meeting_that_is_not_a_decision_point_is_refused() -> None:
    s = replay()
    at_intersessionals = d.RecordOutcome(
        meeting="June 2011 intersessionals",
        decided_on=date(2011, 6, 29),
        result="adopted",
        option="gichd",
        method="consensus",
    )
    with pytest.raises(
        DomainError, match="is not a decision point of decision:CCM:isu-hosting.*2MSP"
    ):
        d.decide(s, at_intersessionals, CCM, TODAY)
    elsewhere = at_intersessionals.model_copy(update={"meeting": "5MSP"})
    with pytest.raises(DomainError, match="is not a milestone of"):
        d.decide(s, elsewhere, CCM, TODAY)
    # an intersessional meeting cannot be made a decision point: only an MSP or a Review
    # Conference decides (CCM Art. 11(1), 12)
    with pytest.raises(DomainError, match="cannot take the decisions of the States Parties"):
        d.decide(
            s,
            d.SetMilestone(
                meeting="June 2011 intersessionals",
                meeting_kind="intersessional",
                opens_on=date(2011, 6, 27),
                closes_on=date(2011, 6, 29),
                decision_point=True,
            ),
            CCM,
            TODAY,
        )
    outside = at_intersessionals.model_copy(
        update={"meeting": "2MSP", "decided_on": date(2011, 9, 20)}
    )
    with pytest.raises(DomainError, match="met from 2011-09-12 to 2011-09-16"):
        d.decide(s, outside, CCM, TODAY)


def vote(**figures: int) -> d.RecordOutcome:
    return d.RecordOutcome(
        meeting="2MSP",
        decided_on=date(2011, 9, 16),
        result="adopted",
        option="gichd",
        method="vote",
        **figures,
    )


def test_a_vote_whose_figures_do_not_add_up_is_refused() -> None:
    s = replay()
    with pytest.raises(
        DomainError, match=r"do not add up: 40 in favour \+ 5 against \+ 3 abstaining = 48, but 50"
    ):
        d.decide(s, vote(present=50, in_favour=40, against=5, abstaining=3), CCM, TODAY)
    with pytest.raises(DomainError, match="needs its figures"):
        d.decide(s, vote(present=50, in_favour=40), CCM, TODAY)
    # more against than in favour among those present and voting: not carried
    with pytest.raises(DomainError, match="do not carry the option"):
        d.decide(s, vote(present=50, in_favour=10, against=20, abstaining=20), CCM, TODAY)
    # abstentions are not "present and voting": 21 to 20 carries it
    events = d.decide(s, vote(present=50, in_favour=21, against=20, abstaining=9), CCM, TODAY)
    assert isinstance(events[0], DecisionAdopted) and events[0].in_favour == 21


def test_deferred_at_the_2msp_the_decision_is_still_open_and_decidable_at_the_3msp() -> None:
    s = replay()
    deferred = run(
        s,
        d.RecordOutcome(
            meeting="2MSP",
            decided_on=date(2011, 9, 16),
            result="deferred",
            deferred_to=d.LaterMeeting(
                meeting="3MSP",
                meeting_kind="MSP",
                opens_on=date(2012, 9, 11),
                closes_on=date(2012, 9, 14),
            ),
        ),
    )
    assert deferred.status == "open" and deferred.adopted is None
    assert deferred.milestones["2MSP"].outcome == "deferred"
    assert deferred.milestones["2MSP"].deferred_to == "3MSP"
    assert d.open_items(deferred)["decision_points"] == ["3MSP"]
    # the process goes on: positions are still recorded
    deferred = run(
        deferred,
        d.StatePosition(
            participant="Norway",
            option="gichd",
            stance="support",
            stated_on=date(2012, 9, 11),
            meeting="3MSP",
        ),
    )
    with pytest.raises(DomainError, match="already took its outcome"):
        d.decide(deferred, vote(present=1, in_favour=1, against=0, abstaining=0), CCM, TODAY)
    adopted = run(
        deferred,
        d.RecordOutcome(
            meeting="3MSP",
            decided_on=date(2012, 9, 14),
            result="adopted",
            option="gichd",
            method="consensus",
        ),
    )
    assert adopted.status == "adopted"
    assert adopted.adopted is not None and adopted.adopted.meeting == "3MSP"
    with pytest.raises(DomainError, match="was decided at the 3MSP"):
        d.decide(
            adopted,
            d.StatePosition(
                participant="FRA",
                option="gichd",
                stance="oppose",
                stated_on=date(2013, 1, 1),
                meeting="x",
            ),
            CCM,
            TODAY,
        )


def test_a_deferral_goes_to_a_later_deciding_meeting() -> None:
    s = replay()
    back = d.RecordOutcome(
        meeting="2MSP",
        decided_on=date(2011, 9, 16),
        result="deferred",
        deferred_to=d.LaterMeeting(meeting="June 2011 intersessionals"),
    )
    with pytest.raises(DomainError, match="cannot take the decisions"):
        d.decide(s, back, CCM, TODAY)
    unknown = back.model_copy(update={"deferred_to": d.LaterMeeting(meeting="3MSP")})
    with pytest.raises(DomainError, match="give its kind and dates"):
        d.decide(s, unknown, CCM, TODAY)
    events = d.decide(
        s,
        back.model_copy(
            update={
                "deferred_to": d.LaterMeeting(
                    meeting="3MSP",
                    meeting_kind="MSP",
                    opens_on=date(2012, 9, 11),
                    closes_on=date(2012, 9, 14),
                )
            }
        ),
        CCM,
        TODAY,
    )
    assert isinstance(events[0], DecisionDeferred) and events[0].to_meeting == "3MSP"


def test_a_round_reminds_before_its_deadline_then_closes_by_itself() -> None:
    s = replay()
    opened = run(
        s,
        d.OpenRound(
            round="tor-draft-comments",
            title="Comments on the draft ToR",
            opened_on=date(2025, 6, 1),
            comments_due=date(2025, 6, 30),
        ),
    )
    r = opened.rounds["tor-draft-comments"]
    assert r.remind_on == date(2025, 6, 23) and r.closes_on == date(2025, 7, 1)
    assert d.next_wakeup(opened) == date(2025, 6, 23)
    assert d.decide(opened, d.Tick(), CCM, date(2025, 6, 22)) == []
    reminded = run(opened, d.Tick(), date(2025, 6, 23))
    assert reminded.rounds["tor-draft-comments"].reminded_on == date(2025, 6, 23)
    assert d.decide(reminded, d.Tick(), CCM, date(2025, 6, 30)) == []
    closed = run(reminded, d.Tick(), date(2025, 7, 1))
    assert closed.rounds["tor-draft-comments"].close_reason == "deadline"
    assert closed.rounds["tor-draft-comments"].closed_on == date(2025, 7, 1)


def test_a_round_recorded_after_its_deadline_closes_at_once_without_a_reminder() -> None:
    s = replay()
    command = d.OpenRound(
        round="old",
        title="Comments asked in 2011",
        opened_on=date(2011, 3, 1),
        comments_due=date(2011, 4, 15),
    )
    step = scenario.Step(line=1, kind="decision", treaty="CCM", key="isu-hosting", command=command)
    events = scenario.decide(step, s, TODAY)
    assert [e.type for e in events] == ["ConsultationRoundOpened", "ConsultationRoundClosed"]
    assert events[0].historical and events[0].remind_on is None  # type: ignore[attr-defined]


def test_a_scenario_file_with_one_bad_line_is_refused_naming_the_line(tmp_path: Path) -> None:
    lines = SCENARIO.read_text().splitlines()
    france = lines.index("    participant: France")  # the item starts two lines above
    item, option, stance = france - 1, france + 2, france + 3  # line numbers (from 1)
    assert lines[option - 1] == "    option: gichd" and lines[stance - 1] == "    stance: support"
    bad = lines.copy()
    bad[option - 1] = "    option: geneva-centre"
    path = tmp_path / "bad.yaml"
    path.write_text("\n".join(bad) + "\n")
    steps = scenario_file.parse(path.read_text())
    with pytest.raises(scenario.ScenarioError, match=rf"^line {item}: .*no option 'geneva-centre'"):
        scenario.check_all(steps, lambda step: None, TODAY)
    typo = lines.copy()
    typo[stance - 1] = "    stanse: support"
    with pytest.raises(scenario.ScenarioError, match=rf"^line {stance}: unknown field\(s\) stanse"):
        scenario_file.parse("\n".join(typo))
    broken = lines.copy()
    broken[option - 1] = "    option: [gichd"
    with pytest.raises(scenario.ScenarioError, match=r"^line \d+: not valid YAML"):
        scenario_file.parse("\n".join(broken))
    dated = lines.copy()
    dated.insert(stance, "    stated_on: 2011-02-30")  # overrides the anchor's date
    with pytest.raises(
        scenario.ScenarioError, match=rf"^line {stance + 1}: decision position: stated_on"
    ):
        scenario_file.parse("\n".join(dated))


def test_stream_and_workflow_ids_keep_a_slug_with_a_dash() -> None:
    from app.streams import stream_id as _stream_id
    from domain import ids, processes

    assert ids.stream_id(ids.decision_workflow_id("CCM", "isu-hosting")) == (
        "decision-CCM-isu-hosting"
    )
    assert ids.workflow_id_of_stream("decision-CCM-isu-hosting") == "decision:CCM:isu-hosting"
    assert ids.workflow_id_of_stream("hca-CCM-2MSP") == "hca:CCM:2MSP"
    assert ids.workflow_id_of_stream("ratification-CCM-BGR") == "ratification:CCM:BGR"
    assert _stream_id("Decision:ccm:isu-hosting", "CCM") == "decision-CCM-isu-hosting"
    state = processes.fold("decision-CCM-isu-hosting", [])
    assert isinstance(state, d.DecisionState) and state.slug == "isu-hosting"


def test_dates_and_sources_out_of_the_record_are_refused() -> None:
    """A decision opened before the CCM was opened for signature
    (3 Dec 2008, CCM Art. 15); facts dated before the process opened (24 Feb 2011);
    a position at the 2MSP (a milestone, 12-16 Sep 2011) dated outside its days; a
    position giving both a meeting and a document."""
    fresh = d.initial_state("CCM", "x")
    with pytest.raises(DomainError, match=r"before the CCM was opened for signature \(2008-12-03"):
        d.decide(fresh, d.OpenDecision(question="Q?", opened_on=date(2001, 1, 1)), CCM, TODAY)
    assert d.decide(fresh, d.OpenDecision(question="Q?", opened_on=date(2008, 12, 3)), CCM, TODAY)
    s = replay()
    early = date(2011, 2, 23)
    for command in (
        d.AddOption(
            option="undp", title="UNDP", proposed_by="Norway", proposed_on=early, source="x"
        ),
        d.OpenRound(round="r2", title="Comments", opened_on=early),
        d.StatePosition(
            participant="Norway", option="gichd", stance="support", stated_on=early, meeting=MEETING
        ),
    ):
        with pytest.raises(
            DomainError, match=r"2011-02-23, before decision:CCM:isu-hosting opened"
        ):
            d.decide(s, command, CCM, TODAY)
    at_2msp = d.StatePosition(
        participant="Norway",
        option="gichd",
        stance="support",
        stated_on=date(2011, 9, 20),
        meeting="2MSP",
    )
    with pytest.raises(DomainError, match="met from 2011-09-12 to 2011-09-16"):
        d.decide(s, at_2msp, CCM, TODAY)
    assert d.decide(s, at_2msp.model_copy(update={"stated_on": date(2011, 9, 14)}), CCM, TODAY)
    both = at_2msp.model_copy(
        update={"stated_on": date(2011, 9, 14), "document": "discussion-paper"}
    )
    with pytest.raises(DomainError, match="not both"):
        d.decide(s, both, CCM, TODAY)


def test_a_position_names_a_known_meeting_and_a_vote_no_more_present_than_parties() -> None:
    """The meetings data (ccm_meetings.csv: 2MSP 12-16 Sep 2011),
    the process's milestones and the meetings it cites are known, nothing else; a vote
    cannot count more States Parties present than the ratification record holds."""
    s = replay()
    table = {"2MSP": (date(2011, 9, 12), date(2011, 9, 16))}
    base = {"participant": "Norway", "option": "gichd", "stance": "support"}
    kitchen = d.StatePosition(stated_on=date(2011, 3, 1), meeting="my kitchen", **base)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="unknown meeting 'my kitchen'"):
        d.check_meeting(s, kitchen, table)
    for ok in (MEETING, "June 2011 intersessionals"):
        d.check_meeting(s, kitchen.model_copy(update={"meeting": ok}), table)
    d.check_meeting(
        None, kitchen.model_copy(update={"meeting": "2mSP", "stated_on": date(2011, 9, 12)}), table
    )
    with pytest.raises(DomainError, match="met from 2011-09-12 to 2011-09-16"):
        d.check_meeting(None, kitchen.model_copy(update={"meeting": "2MSP"}), table)
    vote = d.RecordOutcome(
        meeting="2MSP",
        decided_on=date(2011, 9, 16),
        result="adopted",
        option="gichd",
        method="vote",
        present=1000,
        in_favour=600,
        against=400,
        abstaining=0,
    )
    with pytest.raises(DomainError, match="1000 States Parties present, but the CCM had 61"):
        d.check_present(vote, 61, "CCM")
    d.check_present(
        vote.model_copy(update={"present": 61, "in_favour": 41, "against": 20}), 61, "CCM"
    )
