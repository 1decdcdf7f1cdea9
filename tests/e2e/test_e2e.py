"""End to end: the `treaty` CLI against the embedded stack (Temporal dev server, embedded
PostgreSQL, a worker), on the real CCM status table.

Truth values are derived by hand from CCM Art. 17 and the rows of examples/ccm/status.csv.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.e2e import STATUS_CSV, Stack, embedded_stack, snapshot

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
    "COM": ("2010-07-28", "2011-01-01"),  # after the 30th, before the CCM's own EIF
    "CHL": ("2010-12-16", "2011-06-01"),
    "NLD": ("2011-02-23", "2011-08-01"),
    "BGR": ("2011-04-06", "2011-10-01"),
    "CHE": ("2012-07-17", "2013-01-01"),
    "LTU": ("2011-03-24", "2011-09-01"),  # "55th State Party" on deposit
}


def test_demo_computes_entry_into_force_from_the_treaty_text(demo: dict) -> None:
    by_state = {row["state"]: row for row in demo["states"]}
    assert len(by_state) == 79  # one process per row of the table
    for state, (deposit, eif) in EXPECTED_EIF.items():
        assert (by_state[state]["consented_on"], by_state[state]["in_force_on"]) == (
            deposit,
            eif,
        ), state
    assert by_state["BFA"]["eif_article"] == "CCM Art. 17(1)"
    assert by_state["COM"]["eif_article"] == "CCM Art. 17(2)"
    # a signatory that has not deposited, and signatures the source did not date
    assert by_state["AGO"]["status"] == "signatory"
    assert by_state["IRQ"]["signed"] and by_state["IRQ"]["signed_on"] is None


def test_demo_counts_consented_and_in_force(demo: dict) -> None:
    counts = {c["as_of"]: (c["consented"], c["in_force"]) for c in demo["counts"]}
    # 1 Aug 2010: the table has 27 of the first 30 instruments (Malta, San Marino and
    # Uruguay missing) + Ecuador, Fiji, Comoros deposited before 1 Aug 2010 = 30 consented;
    # in force for the 27.
    assert counts["2010-08-01"] == (30, 27)
    # 30 Mar 2011: 42 deposits in the table (the official count is 55); in force for
    # those deposited by 30 Sep 2010: the 30 above + Antigua and Barbuda + Bosnia = 32.
    assert counts["2011-03-30"] == (42, 32)
    assert counts[date.today().isoformat()] == (74, 74)


def test_depositary_date_is_kept_and_the_discrepancy_reported(demo: dict) -> None:
    treaty = demo["treaty"]
    assert treaty["in_force_on"] == "2010-08-01"
    assert treaty["basis"] == "depositary"
    # the 30th deposit by date in this partial table is Comoros (28 Jul 2010) -> 1 Jan 2011
    assert treaty["discrepancy"] is True
    assert treaty["discrepancy_computed_on"] == "2011-01-01"


def test_import_twice_changes_nothing_and_says_so(stack: Stack, demo: dict) -> None:
    before = _snapshot(stack)
    result = stack.treaty("import", str(STATUS_CSV))
    assert result.returncode == 0, result.stderr
    assert "nothing changed" in result.stdout
    report = stack.json("import", str(STATUS_CSV))
    assert report["changed"] == [] and len(report["unchanged"]) == 79
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
    assert events[1]["metadata"]["source"] == "UNTC-XXVI-6"
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
    pytest.param(
        ["ratification", "sign", "Kenya", "--date", "2011-01-01"],
        1,
        "open for signature only until its entry into force on 2010-08-01",
        id="signature-after-eif",
    ),
    pytest.param(
        ["ratification", "deposit", "Kenya", "--date", "2011-01-01"],
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
    assert stack.treaty("ratification", "show", "Kenya").returncode == 1


def test_a_deposit_without_its_source_is_refused_and_changes_nothing(
    stack: Stack, demo: dict
) -> None:
    before = _snapshot(stack)
    result = stack.treaty("ratification", "deposit", "Mali", "--date", "2011-01-01")
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
        "Mali,2008-12-03,,,UNTC-XXVI-6\n"
        "Cyprus,2009-09-23,ratification,2009-02-30,bad date\n"
        "Bulgaria,2008-12-03,ratification,2011-05-06,contradicts the record\n"
    )
    before = _snapshot(stack)
    result = stack.treaty("import", "--json", str(table))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["changed"] == ["Mali"]
    refused = {e["line"]: e["reason"] for e in report["refused"]}
    assert set(refused) == {2, 4, 5}
    assert "unknown State 'Atlantis'" in refused[2]
    assert "not a valid date" in refused[4]
    assert "2011-04-06" in refused[5]
    after = _snapshot(stack)
    new = after[len(before) :]
    assert after[: len(before)] == before
    assert [(e[1], e[4]) for e in new] == [("ratification-CCM-MLI", "SignatureRecorded")]


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


def test_demo_opens_this_years_reporting_cycle_with_its_reminders_in_the_outbox(
    demo: dict,
) -> None:
    """Every State of the table with a deposit is in force by now and past its initial
    report (the latest deposit, Benin 10 Jul 2017: in force 1 Jan 2018, first annual report
    2019), so all 74 owe this year's report (CCM Art. 7(2)); a cycle opened after a
    reminder date sends one reminder to each at once."""
    from domain import reporting as rp

    part = demo["reporting"]
    year = date.today().year
    cycle = part["cycle"]
    assert cycle["year"] == year and len(cycle["states"]) == 74 and cycle["not_due"] == {}
    slots = rp.pending_reminders(
        rp.ReminderPolicy(),
        date(year, 4, 30),
        date(year, 12, 31),
        date.fromisoformat(cycle["opened_on"]),
    )
    at_once = 1 if slots and slots[0].on == date.fromisoformat(cycle["opened_on"]) else 0
    assert len(part["outbox"]) == 74 * at_once
    assert all(r["delivered_via"] == "eml" for r in part["outbox"])
    assert part["figures"]["due"] == 74
