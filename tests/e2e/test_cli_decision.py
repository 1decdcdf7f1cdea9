"""`treaty scenario run`, `treaty decision` and `treaty hca` against a real embedded stack
(tests/e2e/__init__.py fresh_stack: Temporal dev server, PostgreSQL, a worker): the 24 Feb 2011
scenario (examples/ccm/2011-consultation.yaml) recorded, the ISU decision table, refused
input that changes nothing, the audit of the new processes, the demo's addition, the
scenario's ratification facts against the imported status table.

Truth: shared/seeds/000_78116837e85fdd53.txt (Switzerland, Australia and France support
hosting by the GICHD; Belgium undecided on the location; the CMC wants agreement on the
ISU by the 2MSP; Lebanon chose the Phoenicia (Intercontinental) and will finalise the
host country agreement with UNODA); ccm_meetings.csv (2MSP 12-16 Sep 2011; sources
differ on the opening day, 12 or 13 Sep); Bulgaria finalised its domestic procedure on
10 Feb 2011 (the seed) and deposited on 6 Apr 2011 (UNTC, examples/ccm/status_2026.csv, the
complete record the demo imports).
"""

from __future__ import annotations

import asyncio
import csv
import json
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.e2e import ROOT, Stack, embedded_stack, snapshot

pytestmark = pytest.mark.e2e

SCENARIO = ROOT / "examples" / "ccm" / "2011-consultation.yaml"
MEETINGS = ROOT / "examples" / "ccm" / "meetings.csv"
CONSULTATION = "Open-ended informal consultation, Geneva, 24 Feb 2011"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with embedded_stack() as s:
        yield s


def events_now(stack: Stack) -> list:
    return asyncio.run(snapshot(stack.database_url))


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def imported(stack: Stack) -> Stack:
    # the Meetings held, as the treaty process records them: `treaty decision` and `treaty
    # hca` take a Meeting's dates and city from there, not from a file
    unknown = stack.treaty("hca", "open", "3MSP", "--host", "NOR")
    assert unknown.returncode == 1, unknown.stdout + unknown.stderr
    assert "treaty meetings import FILE" in one_line(unknown.stderr)
    meetings = stack.treaty("meetings", "import", str(MEETINGS))
    assert meetings.returncode == 0, meetings.stdout + meetings.stderr
    # then a file with one bad item: nothing of it is recorded, the error names its line
    lines = SCENARIO.read_text(encoding="utf-8").splitlines()
    france = lines.index("    participant: France")
    at = france + 1
    assert lines[at] == "    option: gichd"
    lines[at] = "    option: gichd-geneva"
    bad = Path(stack.home) / "bad.yaml"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = events_now(stack)
    result = stack.treaty("scenario", "run", str(bad))
    assert result.returncode == 1, result.stdout + result.stderr
    message = one_line(result.stderr)
    # the item starts on the line of "decision: isu-hosting", two lines above France's
    assert f"line {france - 1}:" in message and "no option 'gichd-geneva'" in message
    assert "nothing recorded" in message
    assert events_now(stack) == before

    dry = stack.json("scenario", "run", str(SCENARIO), "--dry-run")
    assert dry["dry_run"] is True
    assert events_now(stack) == before

    result = stack.treaty("scenario", "run", str(SCENARIO), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    expected = {"decision:CCM:isu-hosting": 26, "ratification:CCM:BGR": 1, "hca:CCM:2MSP": 5}
    assert report["events_recorded"] == expected
    assert dry["events_to_record"] == expected
    again = stack.json("scenario", "run", str(SCENARIO))
    assert again["events_recorded"] == {wid: 0 for wid in expected}
    return stack


def test_show_gives_the_positions_of_the_record(imported: Stack) -> None:
    shown = imported.json("decision", "show", "isu-hosting")
    tally = {t["option"]: t for t in shown["tally"]}
    assert tally["gichd"]["states"]["support"] == ["CHE", "AUS", "FRA"]
    assert tally[None]["states"]["undecided"] == ["BEL"]
    assert tally[None]["observers"]["condition"] == ["CMC"]
    assert "CMC" not in sum(tally[None]["states"].values(), [])
    assert shown["open"] == {"rounds": ["isu-tor-comments"], "decision_points": ["2MSP"]}
    cmc = next(p for p in shown["current_positions"] if p["participant"] == "CMC")
    assert cmc["name"] == "Cluster Munition Coalition"
    assert cmc["source"] == "Open-ended informal consultation, Geneva, 24 Feb 2011"

    table = imported.treaty("decision", "show", "isu-hosting")
    assert table.returncode == 0, table.stderr
    text = one_line(table.stdout)
    for expected in (
        "Switzerland",
        "Australia",
        "France",
        "Belgium",
        "undecided",
        "Cluster Munition Coalition (observer)",
        "Observers' positions are recorded, not counted",
        "[1] Open-ended informal consultation, Geneva, 24 Feb 2011 (2011-02-24)",
        "ISU hosted by the GICHD",
    ):
        assert expected in text, expected


def test_refused_input_changes_nothing(imported: Stack) -> None:
    before = events_now(imported)
    refusals = {
        "no option 'undp'": (
            "decision", "position", "isu-hosting", "Norway", "--option", "undp",
            "--stance", "support", "--on", "2011-02-24", "--meeting", CONSULTATION,
        ),
        # a meeting neither in the meetings data nor in the process
        "unknown meeting 'my kitchen'": (
            "decision", "position", "isu-hosting", "Norway", "--option", "gichd",
            "--stance", "support", "--on", "2011-02-24", "--meeting", "my kitchen",
        ),
        # ... a position at the 2MSP (12-16 Sep 2011, ccm_meetings.csv) dated outside it
        "the 2MSP met from 2011-09-12 to 2011-09-16": (
            "decision", "position", "isu-hosting", "Norway", "--option", "gichd",
            "--stance", "support", "--on", "2011-02-24", "--meeting", "2MSP",
        ),
        "is not a decision point": (
            "decision", "outcome", "isu-hosting", "--meeting", "June 2011 intersessionals",
            "--on", "2011-06-29", "--adopted", "gichd", "--consensus",
        ),
        "the vote figures do not add up": (
            "decision", "outcome", "isu-hosting", "--meeting", "2MSP", "--on", "2011-09-16",
            "--adopted", "gichd", "--vote", "40,5,3", "--present", "50",
        ),
        "unknown currency 'ABC'": (
            "hca", "prepare", "2MSP", "funding_pledge", "--detail", "travel", "--donor",
            "Norway", "--amount", "1000", "--currency", "ABC", "--on", "2011-03-01",
        ),
    }  # fmt: skip
    for expected, args in refusals.items():
        result = imported.treaty(*args)
        assert result.returncode == 1, (args, result.stderr)
        assert expected in one_line(result.stderr), result.stderr
    with_json = imported.treaty(*refusals["no option 'undp'"], "--json")
    assert json.loads(with_json.stdout)["exit_code"] == 1
    assert events_now(imported) == before


def test_hca_shows_the_2msp_and_moving_it_moves_every_due_date(imported: Stack) -> None:
    shown = imported.json("hca", "show", "2MSP")
    state = shown["state"]
    assert (state["host"], state["counterpart"], state["city"]) == ("LBN", "UNODA", "Beirut")
    assert state["venue"] == "Phoenicia (Intercontinental)"
    assert [p["item"] for p in state["preparations"]] == [
        "venue",
        "focal_point",
        "task_force",
        "funding_need",
    ]
    before = {m["milestone"]: date.fromisoformat(m["due_on"]) for m in shown["milestones"]}
    assert before["signed"] == date(2011, 9, 12) - timedelta(days=60)
    # recorded after the fact (2011 dates): past due when recorded, not escalated
    assert all(m["historical"] and not m["escalated"] for m in shown["milestones"])
    moved = imported.treaty(
        "hca", "move-meeting", "2MSP", "--opens-on", "2011-09-13", "--closes-on",
        "2011-09-16", "--on", "2011-03-01",
    )  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    after = imported.json("hca", "show", "2MSP")
    assert {m["milestone"]: date.fromisoformat(m["due_on"]) for m in after["milestones"]} == {
        k: v + timedelta(days=1) for k, v in before.items()
    }


def test_the_audit_verifies_the_new_processes(imported: Stack) -> None:
    result = imported.treaty("audit", "verify", "--all", "--json", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    events = imported.json("events", "decision-ccm-isu-hosting")
    assert len(events) == 26 and events[0]["event_type"] == "DecisionOpened"
    assert events[0]["metadata"]["workflow_id"] == "decision:CCM:isu-hosting"
    timeline = imported.treaty("audit", "timeline", "decision-CCM-isu-hosting")
    assert timeline.returncode == 0, timeline.stderr
    assert "PositionStated" in timeline.stdout


def test_the_demo_shows_the_isu_decision(imported: Stack) -> None:
    result = imported.treaty("demo", "--json", timeout=900)
    assert result.returncode == 0, result.stderr
    isu = json.loads(result.stdout)["isu_decision"]
    gichd = next(t for t in isu["tally"] if t["option"] == "gichd")
    assert gichd["states"]["support"] == ["CHE", "AUS", "FRA"]
    # with the status table imported, each State's status on 24 Feb 2011: of the three
    # supporting hosting by the GICHD only France was a State Party (deposit 25 Sep 2009,
    # in force 1 Aug 2010); Switzerland (deposit 17 Jul 2012) and Australia (8 Oct 2012)
    # were signatories; Portugal deposited on 9 Mar 2011; the UK deposited on 4 May 2010, in
    # force from 1 Nov 2010 (CCM Art. 17(2)); Lebanon deposited on 5 Nov 2010, in force
    # from 1 May 2011 (status_2026.csv)
    status = {
        p["participant"]: p["party_status"]
        for p in isu["current_positions"]
        if p["participant_kind"] == "state"
    }
    assert (status["FRA"], status["CHE"], status["AUS"]) == (
        "State Party",
        "signatory",
        "signatory",
    )
    assert status["PRT"] == "signatory" and status["BEL"] == "State Party"
    assert (status["GBR"], status["LBN"]) == ("State Party", "consented, not yet in force")


def test_the_scenario_agrees_with_the_status_table(imported: Stack) -> None:
    # after the demo imported examples/ccm/status_2026.csv: Bulgaria's process holds both the
    # scenario's domestic procedure (10 Feb 2011) and the table's deposit (6 Apr 2011)
    bgr = imported.json("events", "ratification-CCM-BGR")
    dated = {e["event_type"]: e["occurred_on"] for e in bgr}
    assert dated["DomesticProcedureCompleted"] == "2011-02-10"
    assert dated["InstrumentDeposited"] == "2011-04-06"
    assert imported.json("scenario", "run", str(SCENARIO))["events_recorded"] == {
        "decision:CCM:isu-hosting": 0,
        "ratification:CCM:BGR": 0,
        "hca:CCM:2MSP": 0,
    }
    # a deposit as the table has it: accepted, nothing recorded; another date: refused
    same = Path(imported.home) / "same.yaml"
    same.write_text(
        "facts:\n"
        "  - ratification: Bulgaria\n"
        "    do: deposit\n"
        "    instrument: ratification\n"
        "    deposited_on: 2011-04-06\n",
        encoding="utf-8",
    )
    assert imported.json("scenario", "run", str(same))["events_recorded"] == {
        "ratification:CCM:BGR": 0
    }
    before = events_now(imported)
    other = Path(imported.home) / "other.yaml"
    other.write_text(
        "facts:\n"
        "  - hca: 2MSP\n"
        "    do: preparation\n"
        "    item: funding_need\n"
        "    detail: a second need, never recorded\n"
        "    recorded_on: 2011-03-01\n"
        "  - ratification: Bulgaria\n"
        "    do: deposit\n"
        "    instrument: ratification\n"
        "    deposited_on: 2011-04-05\n",
        encoding="utf-8",
    )
    result = imported.treaty("scenario", "run", str(other))
    assert result.returncode == 1, result.stdout + result.stderr
    message = one_line(result.stderr)
    assert "line 7: ratification:CCM:BGR: contradicts the record" in message
    assert "instrument of ratification deposited on 2011-04-06" in message
    assert "ratification deposited on 2011-04-05" in message
    assert events_now(imported) == before


def test_the_scenario_and_the_demo_run_again_after_later_facts(imported: Stack) -> None:
    """After a later position of France on hosting by the GICHD (the
    June 2011 intersessionals, after the scenario's 24 Feb 2011), the scenario's earlier
    France position is already in the history: the file runs again, 0 events; after staff
    corrected a Meeting the demo ships (4MSP's closing day), the demo (which runs the file
    and records its Meetings) stays green twice and keeps the correction. Then a reopening
    of the 2MSP's agreement with another city is refused naming the difference."""
    later = imported.treaty(
        "decision", "position", "isu-hosting", "France", "--option", "gichd", "--stance",
        "prefer", "--on", "2011-06-29", "--meeting", "June 2011 intersessionals",
    )  # fmt: skip
    assert later.returncode == 0, later.stdout + later.stderr
    result = imported.treaty("scenario", "run", str(SCENARIO), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    recorded = json.loads(result.stdout)["events_recorded"]
    assert set(recorded.values()) == {0}, recorded
    corrected = Path(tempfile.mkdtemp(prefix="treatyflow-meetings-")) / "corrected.csv"
    corrected.write_text(
        "meeting,kind,opens_on,closes_on,city\n4MSP,MSP,2013-09-09,2013-09-12,Lusaka\n"
    )
    fix = imported.treaty("meetings", "import", str(corrected), "--correct")
    assert fix.returncode == 0, fix.stdout + fix.stderr
    for _ in range(2):
        demo = imported.treaty("demo", "--json", timeout=900)
        assert demo.returncode == 0, demo.stdout + demo.stderr
    held = {m["meeting"]: m for m in imported.json("meetings", "list")}
    assert held["4MSP"]["closes_on"] == "2013-09-12"
    before = events_now(imported)
    # with the status table imported (by the demo), a vote cannot count more
    # States Parties present than had deposited by the day (the CCM had some 60 in 2011)
    parties = imported.json("parties", "--as-of", "2011-09-16")["consented"]
    # the States of the demo's record that had deposited by the 2MSP's last day (none had
    # withdrawn then): the 55 of 30 Mar 2011 + Bulgaria, Costa Rica, Botswana, Grenada,
    # Senegal, the Cook Islands, Afghanistan and Eswatini (6 Apr to 13 Sep 2011) = 63
    with open(ROOT / "examples" / "ccm" / "status_2026.csv", newline="") as table:
        deposited = [r for r in csv.DictReader(table) if "" < r["deposit_date"] <= "2011-09-16"]
    assert parties == len(deposited) == 63
    vote = imported.treaty(
        "decision", "outcome", "isu-hosting", "--meeting", "2MSP", "--on", "2011-09-16",
        "--adopted", "gichd", "--vote", "600,400,0", "--present", "1000",
    )  # fmt: skip
    assert vote.returncode == 1, vote.stdout + vote.stderr
    assert f"1000 States Parties present, but the CCM had {parties}" in one_line(vote.stderr)
    other = imported.treaty(
        "hca", "open", "2MSP", "--host", "Lebanon", "--city", "Tripoli", "--on", "2011-02-24"
    )
    assert other.returncode == 1, other.stdout + other.stderr
    assert "city Beirut, not Tripoli" in one_line(other.stderr)
    assert events_now(imported) == before


def test_a_past_meeting_opened_today_is_not_escalated_and_takes_its_city(imported: Stack) -> None:
    """The 3MSP (Oslo, 11-14 Sep 2012, ccm_meetings.csv) opened
    today: every due date was past when recorded, so none is escalated; the city comes
    from the meetings table."""
    opened = imported.treaty("hca", "open", "3MSP", "--host", "NOR", "--json")
    assert opened.returncode == 0, opened.stdout + opened.stderr
    recorded = json.loads(opened.stdout)["events"]
    assert "HcaMilestoneEscalated" not in recorded and recorded, recorded
    shown = imported.json("hca", "show", "3MSP")
    assert shown["state"]["city"] == "Oslo"
    assert all(m["historical"] and not m["escalated"] for m in shown["milestones"])
