"""Scenario files, pure: the YAML reader (adapters/scenario_file.py) and the validator it
shares with JSON Lines (domain/scenario.py), the shipped 24 Feb 2011 scenario decided on
an empty record and on the imported status table, ratification facts reconciled with the
record.

Truth: shared/seeds/000_78116837e85fdd53.txt (the consultation of 24 Feb 2011: GICHD
support from Switzerland, Australia, France; Belgium undecided; the CMC, an observer,
wants the ISU agreed by the 2MSP; Bulgaria finalised its domestic procedure on 10 Feb;
Lebanon chose the Phoenicia (Intercontinental) and needs financial support);
examples/ccm/status.csv (Bulgaria signed 3 Dec 2008 and deposited 6 Apr 2011, UNTC).
"""

from __future__ import annotations

from datetime import date

import pytest

from adapters import scenario_file
from domain import decision as d
from domain import hca, scenario
from domain import ratification as r
from domain.treaties import CCM
from tests import ROOT

SCENARIO = ROOT / "examples" / "ccm" / "2011-consultation.yaml"
TODAY = date(2025, 6, 1)
CTX = r.TreatyContext(
    in_force_on=date(2010, 8, 1), threshold_deposited_on=date(2010, 2, 16), basis="depositary"
)


def steps() -> list[scenario.Step]:
    return scenario_file.parse(SCENARIO.read_text(encoding="utf-8"))


def replay(items: list[scenario.Step], start: dict[str, object] | None = None) -> dict[str, object]:
    states: dict[str, object] = dict(start or {})
    for step in items:
        wid = step.workflow_id
        state = states.get(wid) or scenario.initial(step)
        states[wid] = scenario.fold(step, state, scenario.decide(step, state, TODAY, CTX))  # type: ignore[arg-type]
    return states


def bulgaria_as_imported() -> r.RatificationState:
    """Bulgaria as `treaty import examples/ccm/status.csv` records it."""
    s = r.initial_state("CCM", "BGR")
    for command in (
        r.Sign(signed_on=date(2008, 12, 3)),
        r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6)),
    ):
        s = r.fold(s, r.decide(s, command, CCM, CTX, TODAY))
    return s


def test_the_shipped_scenario_gives_the_tallies_of_the_record() -> None:
    states = replay(steps())
    isu = states["decision:CCM:isu-hosting"]
    assert isinstance(isu, d.DecisionState)
    tally = {t.option: t for t in d.tally(isu)}
    assert tally["gichd"].states["support"] == ["CHE", "AUS", "FRA"]
    assert tally[None].states["undecided"] == ["BEL"]
    # the CMC's call for a decision at the 2MSP: an observer's position, not counted
    assert tally[None].observers["condition"] == ["CMC"]
    assert all("CMC" not in codes for codes in tally[None].states.values())
    assert set(isu.options) == {"gichd", "independent", "unoda"}
    assert isu.options["unoda"].proposed_by == "IRL"
    # every participant the record names on the ISU, and no one else
    assert {p.participant for p in isu.current_positions()} == {
        "CMC", "AUS", "CHE", "NOR", "GBR", "PRT", "DEU", "MEX", "JPN", "FRA", "IRL", "BEL",
        "LBN",
    }  # fmt: skip
    agreement = states["hca:CCM:2MSP"]
    assert isinstance(agreement, hca.AgreementState)
    assert (agreement.host, agreement.city, agreement.venue) == (
        "LBN",
        "Beirut",
        "Phoenicia (Intercontinental)",
    )
    assert [p.item for p in agreement.preparations] == [
        "venue",
        "focal_point",
        "task_force",
        "funding_need",
    ]
    bulgaria = states["ratification:CCM:BGR"]
    assert isinstance(bulgaria, r.RatificationState)
    assert bulgaria.domestic_procedure_completed_on == date(2011, 2, 10)


def test_no_personal_names_and_no_fact_twice() -> None:
    text = SCENARIO.read_text(encoding="utf-8")
    assert "Yong" not in text  # the one office-holder the record names has no part here
    assert not (ROOT / "examples" / "ccm" / "isu-hosting-2011.jsonl").exists()


def test_after_the_status_table_the_scenario_records_only_what_is_new() -> None:
    items = steps()
    start = {"ratification:CCM:BGR": bulgaria_as_imported()}
    counts = scenario.plan_all(
        items,
        lambda s: start.get(s.workflow_id),
        TODAY,
        lambda s: CTX,  # type: ignore[arg-type, return-value]
    )
    by_wid: dict[str, int] = {}
    for step, n in zip(items, counts, strict=True):
        by_wid[step.workflow_id] = by_wid.get(step.workflow_id, 0) + n
    assert by_wid == {"decision:CCM:isu-hosting": 26, "ratification:CCM:BGR": 1, "hca:CCM:2MSP": 5}
    states = replay(items, start)
    # ... and then nothing: every item is already on record
    assert scenario.check_all(items, lambda s: states[s.workflow_id], TODAY, lambda s: CTX) == {  # type: ignore[arg-type, return-value]
        "decision:CCM:isu-hosting": 0,
        "ratification:CCM:BGR": 0,
        "hca:CCM:2MSP": 0,
    }


def one(text: str) -> scenario.Step:
    (step,) = scenario_file.parse(text)
    return step


@pytest.mark.parametrize(
    ("fact", "expected"),
    [
        ("do: sign\n    signed_on: 2008-12-03", []),
        ("do: deposit\n    instrument: ratification\n    deposited_on: 2011-04-06", []),
        (
            "do: deposit\n    instrument: ratification\n    deposited_on: 2011-04-05",
            "contradicts the record: ratification:CCM:BGR has BGR's instrument of "
            "ratification deposited on 2011-04-06; this item says ratification deposited "
            "on 2011-04-05",
        ),
        (
            "do: sign\n    signed_on: null",
            "has BGR's signature on 2008-12-03; this item says signed with its date unknown",
        ),
        (
            "do: domestic_procedure\n    completed_on: 2011-04-07",
            "completion date 2011-04-07 is after BGR's deposit on 2011-04-06",
        ),
    ],
)
def test_a_ratification_fact_already_recorded_is_accepted_and_a_contradiction_refused(
    fact: str, expected: list[object] | str
) -> None:
    step = one(f"facts:\n  - ratification: Bulgaria\n    {fact}\n")
    s = bulgaria_as_imported()
    if isinstance(expected, list):
        assert scenario.decide(step, s, TODAY, CTX) == expected
        return
    with pytest.raises(scenario.ScenarioError, match=r"^line 2: ") as err:
        scenario.check_all([step], lambda _: s, TODAY, lambda _: CTX)
    assert expected in str(err.value)


def test_dates_and_booleans_reach_the_validator_as_written() -> None:
    # YAML 1.1 would turn NO (Norway's ISO code) into false, and 2011-02-30 into an error
    # without a line: here NO is Norway and the bad date is named on its line
    step = one(
        "facts:\n"
        "  - decision: isu-hosting\n"
        "    do: position\n"
        "    participant: NO\n"
        "    stance: support\n"
        "    option: gichd\n"
        "    stated_on: 2011-02-24\n"
    )
    assert step.command.participant == "NO"  # type: ignore[attr-defined]
    assert step.command.stated_on == date(2011, 2, 24)  # type: ignore[attr-defined]
    with pytest.raises(scenario.ScenarioError, match=r"^line 4: ratification domestic_procedure: "):
        one(
            "- ratification: Bulgaria\n"
            "  do: domestic_procedure\n"
            "  # the record says 10 February\n"
            "  completed_on: 2011-02-30\n"
        )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "the file holds no YAML"),
        ("facts: []\n", 1, "the file holds no fact"),
        ("treaty: CCM\nfacts:\n  - [a, b]\n", 3, "an item is a list"),
        ("treety: CCM\nfacts: []\n", 1, "unknown top-level key 'treety': expected treaty"),
        ("treaty: CCM\n", 1, "no 'facts'"),
        ("facts:\n  - hca: 2MSP\n    do: adjourn\n", 3, '"do" must be one of open, milestone'),
        (
            "facts:\n  - ratification: Atlantis\n    do: sign\n    signed_on: null\n",
            2,
            "unknown State 'Atlantis'",
        ),
        (
            "facts:\n  - decision: isu-hosting\n    hca: 2MSP\n    do: open\n",
            2,
            'name one process: "decision": "<slug>" or "hca": "<meeting>" or "ratification"',
        ),
        (
            "facts:\n  - ratification: Bulgaria\n    do: sign\n    signed_on: 2008-12-03\n"
            "    signed_on: 2008-12-04\n",
            5,
            "field 'signed_on' given twice in this item (first on line 4)",
        ),
        (
            "facts:\n  - ratification: Bulgaria\n    do: deposit\n    deposited_on: 2011-04-06\n",
            2,
            "ratification deposit: instrument: Field required (fields: instrument, "
            "deposited_on, provisional_application, reservation, provisional_application_on, "
            "succession_on)",
        ),
        ("facts:\n  - ratification: Bulgaria\n    do: sign\n   bad: [\n", 4, "not valid YAML"),
        ("treaty: XYZ\nfacts:\n  - ratification: Bulgaria\n", 1, "XYZ"),
    ],
)
def test_bad_files_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(scenario.ScenarioError) as err:
        scenario_file.parse(text)
    assert err.value.line == line, str(err.value)
    assert message in str(err.value)


def test_json_lines_and_yaml_go_through_one_validator() -> None:
    jsonl = (
        '{"ratification": "Bulgaria", "do": "domestic_procedure", "completed_on": "2011-02-10"}\n'
        '{"hca": "2MSP", "do": "preparation", "item": "venue", "detail": "Phoenicia", '
        '"recorded_on": "2011-02-24"}\n'
    )
    yaml_text = (
        "- ratification: Bulgaria\n  do: domestic_procedure\n  completed_on: 2011-02-10\n"
        "- hca: 2MSP\n  do: preparation\n  item: venue\n  detail: Phoenicia\n"
        "  recorded_on: 2011-02-24\n"
    )
    from_jsonl, from_yaml = scenario.parse(jsonl), scenario_file.parse(yaml_text)
    assert [(s.workflow_id, s.command) for s in from_jsonl] == [
        (s.workflow_id, s.command) for s in from_yaml
    ]
    assert [s.line for s in from_yaml] == [1, 4]


def test_a_rerun_after_later_facts_records_nothing_for_every_kind_of_item() -> None:
    """Once later facts were recorded in the processes (a later
    position of France on the GICHD option, a later version of the milestone, the round
    closed), every item of the 24 Feb 2011 file is still on record: 0 events, no refusal."""
    items = steps()
    states = replay(items)
    isu = states["decision:CCM:isu-hosting"]
    assert isinstance(isu, d.DecisionState)
    later_day = date(2011, 6, 29)
    later = [
        d.StatePosition(
            participant="France",
            option="gichd",
            stance="oppose",
            stated_on=later_day,
            meeting="June 2011 intersessionals",
        ),
        d.SetMilestone(
            meeting="June 2011 intersessionals",
            meeting_kind="intersessional",
            opens_on=date(2011, 6, 27),
            closes_on=date(2011, 6, 30),
        ),
    ]
    for command in later:
        isu = d.fold(isu, d.decide(isu, command, CCM, TODAY))
    rounds = [r_ for r_ in isu.rounds.values() if r_.open]
    for r_ in rounds:
        close = d.CloseRound(round=r_.round, closed_on=later_day)
        isu = d.fold(isu, d.decide(isu, close, CCM, TODAY))
    adopt = d.RecordOutcome(
        meeting="2MSP",
        decided_on=date(2011, 9, 16),
        result="adopted",
        option="gichd",
        method="consensus",
    )
    isu = d.fold(isu, d.decide(isu, adopt, CCM, TODAY))
    assert isu.adopted is not None
    states["decision:CCM:isu-hosting"] = isu
    counts = scenario.check_all(items, lambda s: states[s.workflow_id], TODAY, lambda s: CTX)  # type: ignore[arg-type, return-value]
    assert counts == {"decision:CCM:isu-hosting": 0, "ratification:CCM:BGR": 0, "hca:CCM:2MSP": 0}
    # France's current position is the later one; the history keeps the scenario's
    current = [p for p in isu.current_positions() if (p.participant, p.option) == ("FRA", "gichd")]
    assert current[0].stance == "oppose" and current[0].stated_on == later_day
    # an item differing from the history in one field is still refused
    fra = next(p for p in isu.positions if p.participant == "FRA" and p.option == "gichd")
    with pytest.raises(Exception, match="nothing more is recorded"):
        d.decide(
            isu,
            d.StatePosition(
                participant="France",
                option="gichd",
                stance="oppose",
                stated_on=fra.stated_on,  # type: ignore[arg-type]
                meeting=fra.meeting,
            ),
            CCM,
            TODAY,
        )
