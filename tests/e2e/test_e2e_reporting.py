"""End to end: `treaty reporting` and `treaty contacts` against the embedded stack.

- `treaty up` creates the Temporal Schedule `reporting-open-CCM` (each 1 January);
  triggering it opens the cycle of the current year;
- bad input is refused with the reason and nothing changes: a submission for a State
  with no report due that year (Ecuador: initial report still running on 30 April 2011,
  CCM Art. 7(1)-(2)), a year in the future, a review of a report not received, an unknown
  contact;
- the 2011 cycle's figures, status and report (md, csv, html).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.e2e import Stack, embedded_stack, snapshot

pytestmark = pytest.mark.e2e

STATEMENT = "UNTC XXVI-6: in force 1 August 2010 (article 17(1))"
# Norway ratified on 3 Dec 2008 (EIF 1 Aug 2010: owes the 2011 report); Ecuador on
# 11 May 2010 (EIF 1 Nov 2010, initial report due 30 Apr 2011: first annual report 2012);
# Austria on 2 Apr 2009 (EIF 1 Aug 2010).
TABLE = """state,signature_date,instrument,deposit_date,source
Norway,2008-12-03,ratification,2008-12-03,UNTC-XXVI-6
Ecuador,2008-12-03,ratification,2010-05-11,UNTC-XXVI-6
Austria,2008-12-03,ratification,2009-04-02,UNTC-XXVI-6
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with embedded_stack() as s:
        table = tmp_path_factory.mktemp("table") / "status.csv"
        table.write_text(TABLE, encoding="utf-8")
        ok = s.treaty(
            "depositary-statement",
            "--in-force-on",
            "2010-08-01",
            "--threshold-deposited-on",
            "2010-02-16",
            "--statement",
            STATEMENT,
        )
        assert ok.returncode == 0, ok.stderr
        ok = s.treaty("import", str(table))
        assert ok.returncode == 0, ok.stderr
        yield s


def _refused(stack: Stack, *args: str) -> str:
    before = asyncio.run(snapshot(stack.database_url))
    result = stack.treaty(*args)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert asyncio.run(snapshot(stack.database_url)) == before  # nothing changed
    return result.stderr


def test_the_schedule_exists_after_up_and_opens_this_years_cycle(stack: Stack) -> None:
    from adapters.temporal import connect_client

    address = stack.json("ps")["temporal_address"]

    async def describe() -> object:
        client = await connect_client(address, "default")
        return await client.get_schedule_handle("reporting-open-CCM").describe()

    desc = asyncio.run(describe())
    cal = desc.schedule.spec.calendars[0]  # type: ignore[attr-defined]
    assert [(r.start, r.end) for r in cal.month] == [(1, 1)]
    assert [(r.start, r.end) for r in cal.day_of_month] == [(1, 1)]
    nxt = desc.info.next_action_times[0]  # type: ignore[attr-defined]
    assert (nxt.month, nxt.day, nxt.hour) == (1, 1, 0)

    triggered = stack.treaty("reporting", "schedule", "--trigger")
    assert triggered.returncode == 0, triggered.stderr
    year = date.today().year
    for _ in range(120):
        status = stack.treaty("reporting", "status", "--year", str(year), "--json")
        if status.returncode == 0:
            break
        time.sleep(1)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["cycle"] == f"reporting:CCM:{year}"
    assert data["due_on"] == f"{year}-04-30"
    # Norway and Austria (in force since 2010) owe this year's report; Ecuador too by now
    assert {r["state"] for r in data["reports"]} == {"AUT", "ECU", "NOR"}


def test_bad_input_is_refused_and_changes_nothing(stack: Stack) -> None:
    opened = stack.treaty("reporting", "open", "--year", "2011")
    assert opened.returncode == 0, opened.stderr
    assert "2 States owe the annual report due 2011-04-30" in opened.stdout
    err = _refused(stack, "reporting", "submit", "Ecuador", "--year", "2011", "--received-on",
                   "2011-04-20", "--reference", "ECU/2011")  # fmt: skip
    assert "no 2011 annual report is due from ECU" in err
    assert "initial report due 2011-04-30" in err
    err = _refused(stack, "reporting", "submit", "NOR", "--year", "2099")
    assert "2099 is in the future" in err
    err = _refused(stack, "reporting", "review", "NOR", "--year", "2011", "--accept")
    assert "has not been received: there is nothing to review" in err
    err = _refused(stack, "contacts", "remove", "NOR", "nobody@example.org")
    assert "'nobody@example.org' is not a focal point of NOR" in err
    err = _refused(stack, "reporting", "open", "--year", "2011")
    assert "already opened" in err


def test_2011_figures_status_and_report(stack: Stack, tmp_path: Path) -> None:
    add = stack.treaty("contacts", "add", "NOR", "art7@mfa.example.org", "--name", "Focal")
    assert add.returncode == 0, add.stderr
    listed = stack.json("contacts", "list")
    assert [(c["state"], c["email"]) for c in listed] == [("NOR", "art7@mfa.example.org")]
    report = tmp_path / "nor.pdf"
    report.write_bytes(b"%PDF- Norway Article 7 report 2011")
    ok = stack.treaty("reporting", "submit", "Norway", "--year", "2011", "--received-on",
                      "2011-04-27", "--file", str(report), "--stockpile", "M26=100")  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    ok = stack.treaty("reporting", "review", "NOR", "--year", "2011", "--accept",
                      "--date", "2011-06-01")  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    status = stack.json("reporting", "status", "--year", "2011")
    assert (status["due"], status["received"]) == (2, 1)
    nor = next(r for r in status["reports"] if r["state"] == "NOR")
    assert (nor["status"], nor["review"], nor["reminders"]) == ("on time", "accepted", 0)
    closed = stack.json("reporting", "close", "--year", "2011")
    assert (closed["due"], closed["on_time"], closed["late"], closed["missing"]) == (2, 1, 0, 1)
    md = stack.treaty("reporting", "report", "--year", "2011", "--format", "md")
    assert "| 2 | 1 | 1 | 0 | 1 | 50.0% |" in md.stdout
    assert "**Missing** (1): Austria (AUT)" in md.stdout
    csv_out = stack.treaty("reporting", "report", "--year", "2011", "--format", "csv").stdout
    assert "NOR,Norway,on_time,2011-04-27" in csv_out and "AUT,Austria,missing," in csv_out
    html_file = tmp_path / "r.html"
    ok = stack.treaty("reporting", "report", "--year", "2011", "--format", "html", "-o",
                      str(html_file))  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    page = html_file.read_text()
    assert "<svg" in page and 'aria-label="on time 1, late 0, missing 1"' in page
    events = stack.json("events", "reporting-CCM-2011-NOR")
    types = [e["event_type"] if "event_type" in e else e["type"] for e in events]
    assert types == ["AnnualReportRequested", "ReportSubmitted", "ReportAccepted"]


def test_schedule_options_keep_the_date_and_contradictions_are_refused(stack: Stack) -> None:
    def next_run(*args: str) -> str:
        result = stack.treaty("reporting", "schedule", *args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["next"][5:10]

    assert next_run("--month", "3", "--day", "15") == "03-15"
    # --pause, --unpause, a bare call (and --trigger) leave the date alone
    assert next_run("--pause") == "03-15"
    assert next_run("--unpause") == "03-15"
    assert next_run() == "03-15"
    assert next_run("--day", "20") == "03-20"  # the month given before is kept
    for args in (("--pause", "--unpause"), ("--pause", "--delete"), ("--month", "2", "--day",
                 "29"), ("--month", "4", "--day", "31")):  # fmt: skip
        result = stack.treaty("reporting", "schedule", *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
    assert "leap years" in stack.treaty("reporting", "schedule", "--month", "2", "--day",
                                        "29").stderr  # fmt: skip
    gone = stack.treaty("reporting", "schedule", "--treaty", "ATT", "--delete")
    assert gone.returncode == 1, (gone.stdout, gone.stderr)
    assert "no such schedule reporting-open-ATT" in gone.stderr
    assert next_run("--month", "1", "--day", "1") == "01-01"


def test_no_cycle_before_the_first_annual_reports(stack: Stack) -> None:
    # CCM in force 1 Aug 2010: first annual reports due 30 April 2011 (Art. 7(1)-(2))
    for year in ("2009", "2010"):
        err = _refused(stack, "reporting", "open", "--year", year)
        assert "expected a year from 2011 on" in err
    future = stack.treaty("reporting", "status", "--year", "2099")
    assert future.returncode == 1
    assert "2099 is in the future" in future.stderr
    assert "reporting open --year 2099" not in future.stderr


def test_contacts_case_and_bad_addresses(stack: Stack) -> None:
    ok = stack.treaty("contacts", "add", "AUT", "x@bmeia.example.org", "--name", "Focal AT")
    assert ok.returncode == 0, ok.stderr
    again = stack.json("contacts", "add", "AUT", "X@BMEIA.EXAMPLE.ORG")
    assert (again["added"], again["email"], again["name"]) == (
        False,
        "x@bmeia.example.org",
        "Focal AT",
    )
    listed = stack.json("contacts", "list", "AUT")
    assert [c["email"] for c in listed] == ["x@bmeia.example.org"]
    err = _refused(stack, "contacts", "add", "AUT", "a@-.-")
    assert "is not an e-mail address" in err


def test_late_resubmission_is_late_and_report_json(stack: Stack) -> None:
    opened = stack.treaty("reporting", "open", "--year", "2012")
    assert opened.returncode == 0, opened.stderr
    for args in (
        ("submit", "NOR", "--year", "2012", "--received-on", "2012-03-01", "--source", "e-mail"),
        ("withdraw", "NOR", "--year", "2012", "--date", "2012-03-10"),
        ("submit", "NOR", "--year", "2012", "--received-on", "2012-06-01", "--source", "e-mail"),
    ):
        ok = stack.treaty("reporting", *args)
        assert ok.returncode == 0, (args, ok.stderr)
    status = stack.json("reporting", "status", "--year", "2012")
    nor = next(r for r in status["reports"] if r["state"] == "NOR")
    assert nor["status"] == "late"  # 1 June 2012 > 30 April 2012 (CCM Art. 7(2))
    closed = stack.json("reporting", "close", "--year", "2012")
    # AUT, ECU (in force 1 Nov 2010: first annual report 2012) and NOR owe it
    assert (closed["due"], closed["on_time"], closed["late"], closed["missing"]) == (3, 0, 1, 2)
    data = stack.json("reporting", "report", "--year", "2012")
    assert (data["due"], data["on_time"], data["late"], data["missing"]) == (3, 0, 1, 2)
    assert data["on_time_rate"] == 0.0 and data["final"] is True
    rows = {r["state"]: r for r in data["states"]}
    assert rows["NOR"]["outcome"] == "late" and rows["NOR"]["received_on"] == "2012-06-01"
    assert rows["AUT"]["outcome"] == "missing"
