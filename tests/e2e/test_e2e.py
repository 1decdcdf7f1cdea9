"""End to end: the `treaty` CLI against the embedded stack (Temporal dev server, embedded
PostgreSQL, a worker), on the complete CCM record the demo imports.

Truth values are derived by hand from CCM Arts. 7, 17 and 20(3) and the rows of
examples/ccm/status_2026.csv (the UNTC status page of XXVI-6 as at 3 Feb 2026: 125
participants, 113 deposits, 108 signatures, Lithuania's withdrawal), with the depositary's
own counts on that page (107 Signatories, 112 Parties).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from domain import ids
from tests.e2e import STATUS_2026_CSV, Stack, embedded_stack, snapshot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with embedded_stack() as s:
        yield s


@pytest.fixture(scope="module")
def demo(stack: Stack) -> dict:
    result = stack.treaty("demo", "--json", timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# State -> (deposit, entry into force) by CCM Art. 17(1) (deposit on or before the 30th
# instrument, 16 Feb 2010: 1 Aug 2010) or Art. 17(2) (first day of the sixth month after
# the deposit).
EXPECTED_EIF = {
    "BFA": ("2010-02-16", "2010-08-01"),  # 29th/30th instrument
    "MDA": ("2010-02-16", "2010-08-01"),  # 29th/30th instrument
    "MLT": ("2009-09-24", "2010-08-01"),  # one of the first 30 the partial table lacked
    "GBR": ("2010-05-04", "2010-11-01"),  # after the 30th: sixth month after May is Nov
    "COM": ("2010-07-28", "2011-01-01"),  # after the 30th, before the CCM's own EIF
    "CHL": ("2010-12-16", "2011-06-01"),
    "NLD": ("2011-02-23", "2011-08-01"),
    "BGR": ("2011-04-06", "2011-10-01"),
    "CHE": ("2012-07-17", "2013-01-01"),
    "LTU": ("2011-03-24", "2011-09-01"),  # "55th State Party" on deposit
    "VUT": ("2025-09-05", "2026-03-01"),  # accession; in force after the page's date
}


def test_demo_computes_entry_into_force_from_the_treaty_text(demo: dict) -> None:
    by_state = {row["state"]: row for row in demo["states"]}
    assert len(by_state) == 125  # one process per participant of the depositary's page
    for state, (deposit, eif) in EXPECTED_EIF.items():
        assert (by_state[state]["consented_on"], by_state[state]["in_force_on"]) == (
            deposit,
            eif,
        ), state
    assert by_state["BFA"]["eif_article"] == "CCM Art. 17(1)"
    assert by_state["COM"]["eif_article"] == "CCM Art. 17(2)"
    # a signatory that has not deposited; an accession without signature (Andorra)
    assert by_state["AGO"]["status"] == "signatory"
    assert (by_state["AND"]["signed"], by_state["AND"]["instrument"]) == (False, "accession")
    # Lithuania: withdrawal received 6 Sep 2024, in effect six months after (CCM Art. 20(3));
    # provisional application of Art. 1 declared at its deposit (CCM Art. 18)
    ltu = by_state["LTU"]
    assert (ltu["withdrawal_received_on"], ltu["withdrawn_on"]) == ("2024-09-06", "2025-03-06")
    assert ltu["status"] == "withdrawn"
    assert (ltu["provisional_application"], ltu["provisional_application_on"]) == (
        True,
        "2011-03-24",
    )


def test_demo_finds_the_30th_instrument_in_the_record_and_agrees_with_the_depositary(
    demo: dict,
) -> None:
    # by date in status_2026.csv: 28 deposits up to Denmark (12 Feb 2010), then Burkina
    # Faso and Moldova on 16 Feb 2010, the 29th and 30th; CCM Art. 17(1): the first day of
    # the sixth month after February 2010 is 1 Aug 2010, the depositary's date
    eif = demo["entry_into_force"]
    assert (eif["threshold"], eif["threshold_deposited_on"]) == (30, "2010-02-16")
    assert [i["state"] for i in eif["instruments"]] == ["BFA", "MDA"]
    assert eif["positions"] == [29, 30]
    assert (eif["in_force_on"], eif["article"]) == ("2010-08-01", "CCM Art. 17(1)")
    assert (eif["depositary_in_force_on"], eif["agrees"]) == ("2010-08-01", True)
    treaty = demo["treaty"]
    assert (treaty["in_force_on"], treaty["basis"]) == ("2010-08-01", "depositary")
    assert treaty["discrepancy"] is False and treaty["discrepancy_computed_on"] is None
    assert len(treaty["deposits"]) == 113  # every instrument on the page, Lithuania's too


# Derived by hand from status_2026.csv. In force on a date D: the 30 deposited by
# 16 Feb 2010 from 1 Aug 2010 (CCM Art. 17(1)); a later State from the first day of the
# sixth month after the month of its deposit (Art. 17(2)). Lithuania counts in neither
# from 6 Mar 2025 (withdrawal received 6 Sep 2024 + six months, Art. 20(3)).
COUNTS = {
    # 38 deposits by 1 Aug 2010: the first 30 + Samoa (28 Apr), the UK (4 May), Ecuador
    # (11 May), Seychelles (20 May), Fiji and Lesotho (28 May), Mali (30 Jun), Comoros
    # (28 Jul); those 8 are in force from 1 Oct 2010 to 1 Jan 2011: in force for 30
    "2010-08-01": (38, 30),
    # 55 deposits by 30 Mar 2011 (the seed record: "As of 30 March, the CCM has 55 States
    # Parties"); in force: the 38 above + the deposits of August and September 2010 (in
    # force 1 Feb / 1 Mar 2011): Antigua and Barbuda, Bosnia, Monaco, Tunisia = 42; those
    # of October 2010 on are in force from 1 Apr 2011
    "2011-03-30": (55, 42),
    # the page's date: 113 deposits less Lithuania = 112 (the depositary's "Parties: 112");
    # Vanuatu (accession 5 Sep 2025) in force only from 1 Mar 2026: 111
    "2026-02-03": (112, 111),
}
NOT_YET_IN_FORCE = {
    "2010-08-01": ["COM", "ECU", "FJI", "GBR", "LSO", "MLI", "SYC", "WSM"],
    "2026-02-03": ["VUT"],
}


def test_demo_counts_consented_and_in_force(demo: dict) -> None:
    counts = {c["as_of"]: c for c in demo["counts"]}
    for day, expected in COUNTS.items():
        assert (counts[day]["consented"], counts[day]["in_force"]) == expected, day
    for day, states in NOT_YET_IN_FORCE.items():
        assert counts[day]["not_yet_in_force"] == states, day
    assert counts["2010-08-01"]["withdrawn"] == []
    assert counts["2026-02-03"]["withdrawn"] == ["LTU"]
    # today: Lithuania's withdrawal deducted; Vanuatu in force from 1 Mar 2026
    today = counts[date.today().isoformat()]
    vanuatu = 1 if date.today() >= date(2026, 3, 1) else 0
    assert (today["consented"], today["in_force"], today["withdrawn"]) == (
        112,
        111 + vanuatu,
        ["LTU"],
    )


def test_demo_shows_the_depositarys_own_counts_beside_the_record(demo: dict) -> None:
    # the page as at 3 Feb 2026: "Signatories: 107. Parties: 112"; the record: 108
    # signatures less Lithuania, 113 deposits less Lithuania
    [page] = [c for c in demo["counts"] if c["as_of"] == "2026-02-03"]
    assert page["depositary"]["source"] == "UNTC status page XXVI-6, status as at 3 Feb 2026"
    assert {c["count"]: (c["stated"], c["recorded"]) for c in page["depositary"]["counts"]} == {
        "Signatories": (107, 107),
        "Parties": (112, 112),
    }
    assert demo["withdrawals"] == [
        {
            "state": "LTU",
            "name": "Lithuania",
            "received_on": "2024-09-06",
            "in_effect_on": "2025-03-06",
            "article": "CCM Art. 20(3)",
        }
    ]
    # provisional application (CCM Art. 18), as the page gives it ("n")
    assert {p["state"]: p["declared_on"] for p in demo["provisional_application"]} == {
        "BLZ": "2014-09-02",
        "CHE": "2012-07-17",
        "LTU": "2011-03-24",
        "NOR": "2008-12-03",
    }
    record = demo["record"]
    assert (record["file"], record["form"], record["refused"]) == ("status_2026.csv", "csv", [])


def test_demo_says_it_in_words(stack: Stack, demo: dict) -> None:
    result = stack.treaty("demo", timeout=600)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert (
        "the 30th instrument was deposited on 2010-02-16 (Burkina Faso and Moldova, the 29th "
        "and 30th by date), so the CCM entered into force on 2010-08-01 (CCM Art. 17(1))"
    ) in text
    assert "They agree: no discrepancy." in text and "Discrepancy" not in text
    assert (
        "1 Aug 2010 (entry into force): 38 States consented to be bound (deposit), in force for 30"
    ) in text
    assert "30 Mar 2011: 55 States consented to be bound (deposit), in force for 42" in text
    assert (
        "3 Feb 2026 (the depositary's page): 112 States consented to be bound (deposit), in "
        "force for 111 (not yet: Vanuatu from 2026-03-01)"
    ) in text
    assert "the depositary counts 112 Parties, the record 112: agrees" in text
    assert "Lithuania, received 2024-09-06, in effect 2025-03-06 (CCM Art. 20(3))" in text
    assert "0 processes advanced, 125 already up to date" in " ".join(result.stderr.split())


def test_import_twice_changes_nothing_and_says_so(stack: Stack, demo: dict) -> None:
    before = _snapshot(stack)
    result = stack.treaty("import", str(STATUS_2026_CSV))
    assert result.returncode == 0, result.stderr
    assert "nothing changed" in result.stdout
    report = stack.json("import", str(STATUS_2026_CSV))
    assert report["changed"] == [] and len(report["unchanged"]) == 125
    assert _snapshot(stack) == before


def test_events_of_bulgaria(stack: Stack, demo: dict) -> None:
    events = stack.json("events", "ratification-CCM-BGR")
    assert [e["event_type"] for e in events[:4]] == [
        "SignatureRecorded",
        "InstrumentDeposited",
        "EntryIntoForceFixed",
        "EnteredIntoForce",
    ]
    assert events[1]["occurred_on"] == "2011-04-06"
    assert events[1]["metadata"]["source"] == "UNTC status page XXVI-6 as at 2026-02-03"
    assert events[3]["data"]["historical"] is True
    # then its obligations, from its entry into force on 1 Oct 2011: the initial report
    # (CCM Art. 7(1): 180 days, 29 Mar 2012) and the annual reports (Art. 7(2): 30 April)
    opened = events[4:-1]
    assert {e["event_type"] for e in opened} == {"ObligationOpened"}
    assert (opened[0]["data"]["key"], opened[0]["data"]["due_on"]) == (
        "initial-report",
        "2012-03-29",
    )
    assert opened[1]["data"]["key"] == "annual-report-2012"
    # then the demo's scenario (examples/ccm/2011-consultation.yaml): Bulgaria "had finalized
    # the domestic procedure for ratification on 10 February" (record of 24 Feb 2011),
    # learnt after the deposit the status table gives
    last = events[-1]
    assert last["event_type"] == "DomesticProcedureCompleted"
    assert last["occurred_on"] == "2011-02-10"
    assert last["metadata"]["source"].startswith("2011-consultation.yaml line ")
    # the same stream by its workflow id
    assert stack.json("events", "ratification:CCM:BGR") == events


def test_parties_as_of(stack: Stack, demo: dict) -> None:
    parties = stack.json("parties", "--as-of", "2011-09-01")
    assert "LTU" in parties["in_force_states"]
    assert "BGR" in parties["consented_states"] and "BGR" not in parties["in_force_states"]


def _snapshot(stack: Stack) -> list:
    import asyncio

    return asyncio.run(snapshot(stack.database_url))


BAD_COMMANDS = [
    pytest.param(
        ["ratification", "deposit", "Bulgria", "--date", "2011-04-06"],
        1,
        "did you mean 'Bulgaria'",
        id="unknown-state",
    ),
    pytest.param(
        ["ratification", "deposit", "BGR", "--date", "06/04/2011"],
        2,
        "expected YYYY-MM-DD",
        id="malformed-date",
    ),
    pytest.param(
        ["ratification", "deposit", "Cyprus", "--date", "2011-02-30"],
        2,
        "not a valid date",
        id="impossible-date",
    ),
    pytest.param(
        ["ratification", "deposit", "Cyprus", "--date", "2009-01-01"],
        1,
        "before CYP's signature on 2009-09-23",
        id="deposit-before-signature",
    ),
    pytest.param(
        ["ratification", "deposit", "Cyprus", "--date", "2099-01-01"],
        1,
        "in the future",
        id="deposit-in-future",
    ),
    pytest.param(
        ["ratification", "deposit", "Bulgaria", "--date", "2012-01-01"],
        1,
        "already deposited its instrument of ratification on 2011-04-06",
        id="second-deposit",
    ),
    # Finland neither signed nor acceded (not on the depositary's page)
    pytest.param(
        ["ratification", "sign", "Finland", "--date", "2011-01-01"],
        1,
        "open for signature only until its entry into force on 2010-08-01",
        id="signature-after-eif",
    ),
    pytest.param(
        ["ratification", "deposit", "Finland", "--date", "2011-01-01"],
        1,
        "no signature on record",
        id="ratification-without-signature",
    ),
    pytest.param(
        ["ratification", "deposit", "Angola", "--date", "2011-01-01", "--reservation", "Art. 21"],
        1,
        "admits no reservations (CCM Art. 19)",
        id="reservation",
    ),
]


@pytest.mark.parametrize(("args", "code", "message"), BAD_COMMANDS)
def test_bad_input_is_refused_and_changes_nothing(
    stack: Stack, demo: dict, args: list[str], code: int, message: str
) -> None:
    before = _snapshot(stack)
    result = stack.treaty(*args, "--source", "UNTC C.N.1.2011")
    assert result.returncode == code, result.stdout + result.stderr
    assert message in " ".join(result.stderr.split()), result.stderr
    assert _snapshot(stack) == before
    # a refused command for a State with no process starts none
    assert stack.treaty("ratification", "show", "Finland").returncode == 1


def test_a_deposit_without_its_source_is_refused_and_changes_nothing(
    stack: Stack, demo: dict
) -> None:
    before = _snapshot(stack)
    # Kenya: a signatory that has not deposited (the depositary's page)
    result = stack.treaty("ratification", "deposit", "Kenya", "--date", "2011-01-01")
    assert result.returncode == 1
    text = " ".join(result.stderr.split())
    assert "refused: the deposit of an instrument is recorded from a document" in text
    assert "--source" in text
    assert _snapshot(stack) == before


def test_csv_with_a_missing_column_is_refused(stack: Stack, demo: dict, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("state,signature_date,instrument,deposit_date\nKenya,2008-12-03,,\n")
    before = _snapshot(stack)
    result = stack.treaty("import", str(bad))
    assert result.returncode == 1
    assert "lacks column(s) source" in " ".join(result.stderr.split())
    assert _snapshot(stack) == before


def test_csv_bad_rows_are_listed_and_good_rows_go_through(
    stack: Stack, demo: dict, tmp_path: Path
) -> None:
    table = tmp_path / "mixed.csv"
    table.write_text(
        "state,signature_date,instrument,deposit_date,source\n"
        "Atlantis,2008-12-03,,,made up\n"
        "Mali,2008-12-03,ratification,2010-06-30,UNTC-XXVI-6\n"
        "Cyprus,2009-09-23,ratification,2009-02-30,bad date\n"
        "Bulgaria,2008-12-03,ratification,2011-05-06,contradicts the record\n"
        "Finland,2009-01-15,,,made up for this test: Finland never signed\n"
    )
    before = _snapshot(stack)
    result = stack.treaty("import", "--json", str(table))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    # Mali's row says what the depositary's page says (signature 3 Dec 2008, ratification
    # 30 Jun 2010), which the demo recorded: accepted, nothing new; Finland's signature
    # (before the CCM's entry into force, CCM Art. 15) is new: recorded
    assert (report["changed"], report["unchanged"]) == (["Finland"], ["Mali"])
    refused = {e["line"]: e["reason"] for e in report["refused"]}
    assert set(refused) == {2, 4, 5}
    assert "unknown State 'Atlantis'" in refused[2]
    assert "not a valid date" in refused[4]
    assert "2011-04-06" in refused[5]
    after = _snapshot(stack)
    assert after[: len(before)] == before  # nothing changed, only added
    finland = ids.stream_id(ids.ratification_workflow_id("CCM", "FIN"))
    assert [(row[1], row[4]) for row in after[len(before) :]] == [(finland, "SignatureRecorded")]


def test_command_without_a_polling_worker_says_so(stack: Stack, demo: dict) -> None:
    env = {**stack.env, "TREATYFLOW_TASK_QUEUE": "nobody-polls-this"}
    lonely = Stack(home=stack.home, env=env)
    before = _snapshot(stack)
    result = lonely.treaty(
        "ratification", "sign", "Djibouti", "--date", "2010-07-30", "--source", "UNTC"
    )
    assert result.returncode == 3
    text = " ".join(result.stderr.split())
    assert "no worker is polling task queue 'nobody-polls-this'" in text
    assert "treaty up" in text
    assert _snapshot(stack) == before


def test_client_command_exits_zero_thirty_times_in_a_row(stack: Stack, demo: dict) -> None:
    # temporalio/sdk-python#300: a short-lived client process could abort (exit 134) at
    # interpreter shutdown after its work was done
    for i in range(30):
        result = stack.treaty("ratification", "show", "BGR", "--json")
        assert result.returncode == 0, (i, result.returncode, result.stderr)
        assert "Fatal Python error" not in result.stderr
        assert json.loads(result.stdout)["state"]["in_force_on"] == "2011-10-01"


def test_stream_ids_in_any_case_name_the_same_events(stack: Stack, demo: dict) -> None:
    assert stack.json("events", "treaty-ccm") == stack.json("events", "treaty-CCM")
    assert stack.json("events", "ratification-ccm-bgr") == stack.json(
        "events", "ratification-CCM-BGR"
    )
    result = stack.treaty("events", "BGR")
    assert result.returncode == 2
    assert "treaty events ratification-CCM-BGR" in " ".join(result.stderr.split())


def test_a_refusal_with_json_is_also_a_json_error(stack: Stack, demo: dict) -> None:
    before = _snapshot(stack)
    result = stack.treaty(
        "ratification", "deposit", "Bulgaria", "--date", "2012-01-01", "--source", "x", "--json"
    )
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert error["exit_code"] == 1
    assert error["error"].startswith("refused: ")
    assert "already deposited its instrument of ratification on 2011-04-06" in error["error"]
    assert error["error"] in " ".join(result.stderr.split())
    assert _snapshot(stack) == before


def owing_this_year(year: int) -> set[str]:
    """Who owes the annual report due 30 April ``year`` (2026 or later), by hand from
    status_2026.csv: every State with a deposit, less Lithuania (withdrawal in effect
    6 Mar 2025, before the due date: no longer a State Party then, CCM Art. 20(3)), less
    Vanuatu until 2027 (in force 1 Mar 2026, initial report due 180 days later, 28 Aug
    2026, after 30 Apr 2026: its first annual report is 2027, Art. 7(1)-(2)). Every other
    State's latest deposit before Vanuatu's is South Sudan's (3 Aug 2023: in force 1 Feb
    2024, initial report due 30 Jul 2024, first annual report 2025)."""
    import csv

    with STATUS_2026_CSV.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["deposit_date"]]
    assert len(rows) == 113
    names = {r["state"] for r in rows} - {"Lithuania"}
    if year < 2027:
        names -= {"Vanuatu"}
    return names


def test_demo_opens_this_years_reporting_cycle_with_its_reminders_in_the_outbox(
    demo: dict,
) -> None:
    """This year's cycle asks every State that owes the report (:func:`owing_this_year`:
    111 in 2026) and names the others with the reason; a cycle opened after a reminder
    date sends one reminder to each at once."""
    from domain import reporting as rp

    part = demo["reporting"]
    year = date.today().year
    cycle = part["cycle"]
    owing = len(owing_this_year(year))
    assert owing == (111 if year == 2026 else 112)
    assert cycle["year"] == year and len(cycle["states"]) == owing
    assert "LTU" not in cycle["states"]
    assert "withdrawal in effect 2025-03-06" in cycle["not_due"]["LTU"]
    assert set(cycle["not_due"]) == ({"LTU", "VUT"} if year == 2026 else {"LTU"})
    slots = rp.pending_reminders(
        rp.ReminderPolicy(),
        date(year, 4, 30),
        date(year, 12, 31),
        date.fromisoformat(cycle["opened_on"]),
    )
    at_once = 1 if slots and slots[0].on == date.fromisoformat(cycle["opened_on"]) else 0
    assert len(part["outbox"]) == owing * at_once
    assert all(r["delivered_via"] == "eml" for r in part["outbox"])
    assert part["figures"]["due"] == owing
