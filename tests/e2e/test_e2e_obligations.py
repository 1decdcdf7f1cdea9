"""Obligations end to end: the ``treaty`` CLI against the embedded stack.

Real deposits from examples/ccm/status.csv (UNTC XXVI-6 and the CMC), the CCM's entry into
force on 1 Aug 2010 (its 30th instrument deposited 16 Feb 2010, Art. 17(1)), the Meetings
as held (examples/ccm/meetings.csv). Every expected date is worked out from the treaty
text in the comments, not taken from the program's output.
"""

from __future__ import annotations

import asyncio
import csv
from datetime import date
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.e2e import ROOT, STATUS_CSV, Stack, embedded_stack, snapshot

pytestmark = pytest.mark.e2e

STATES = ["Niger", "Fiji", "Comoros", "Cameroon", "Bolivia", "Bulgaria", "Lithuania", "Angola"]
MEETINGS = ROOT / "examples" / "ccm" / "meetings.csv"
SOURCE = ("--source", "UNTC / ISU record")  # these facts come from documents


def _subset(tmp: Path) -> Path:
    rows = list(csv.DictReader(STATUS_CSV.read_text(encoding="utf-8").splitlines()))
    out = tmp / "status.csv"
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["state"] in STATES)
    return out


def _refused(stack: Stack, *args: str, match: str) -> None:
    """The command is refused (exit 1) with ``match`` in its message, and the event store
    is exactly as it was."""
    before = asyncio.run(snapshot(stack.database_url))
    result = stack.treaty(*args, *SOURCE)
    assert result.returncode == 1, (args, result.stdout, result.stderr)
    assert match in result.stderr, (match, result.stderr)
    assert result.stderr.startswith("error: refused: ")
    assert asyncio.run(snapshot(stack.database_url)) == before


def _obligations(stack: Stack, *args: str) -> dict[tuple[str, str], dict]:
    rows = stack.json("obligations", *args)
    return {(x["state"], x["obligation"]): x for x in rows}


def test_obligations_deadlines_extensions_withdrawal(tmp_path: Path) -> None:
    with embedded_stack() as stack:
        ok = stack.treaty(
            "depositary-statement",
            "--in-force-on",
            "2010-08-01",
            "--threshold-deposited-on",
            "2010-02-16",
            "--statement",
            "UNTC XXVI-6: entry into force 1 August 2010, in accordance with article 17(1)",
        )
        assert ok.returncode == 0, ok.stderr
        imported = stack.treaty("import", str(_subset(tmp_path)))
        assert imported.returncode == 0, imported.stdout + imported.stderr
        held = stack.treaty("meetings", "import", str(MEETINGS))
        assert held.returncode == 0, held.stderr
        again = stack.json("meetings", "import", str(MEETINGS))
        assert again["events"] == []  # idempotent
        listed = {m["meeting"]: m for m in stack.json("meetings", "list")}
        assert listed["2MSP"]["city"] == "Beirut"
        # CCM Art. 11(2): the 1MSP within a year of 1 Aug 2010; Art. 12(1): 1RC five years on
        assert listed["1MSP"]["required_by"] == "2011-08-01"
        assert listed["1RC"]["required_by"] == "2015-08-01"

        every = _obligations(stack, "--status", "all")
        # CCM Art. 7(1): the initial report 180 days after entry into force for the State
        # (Art. 17(1): 1 Aug 2010 for deposits by 16 Feb 2010; Art. 17(2): the first day of
        # the sixth month after the deposit for later ones)
        expected = {
            "NER": "2011-01-28",  # deposit 2 Jun 2009 -> 1 Aug 2010 + 180 d
            # deposit 28 May 2010, after the 30th instrument: Art. 17(2), the first day of
            # the sixth month after May 2010 -> 1 Nov 2010 + 180 d
            "FJI": "2011-04-30",
            "COM": "2011-06-30",  # deposit 28 Jul 2010 -> 1 Jan 2011 + 180 d
            "CMR": "2013-06-30",  # deposit 12 Jul 2012 -> 1 Jan 2013 + 180 d
            "BOL": "2014-03-30",  # deposit 30 Apr 2013 -> 1 Oct 2013 + 180 d
            "BGR": "2012-03-29",  # deposit 6 Apr 2011 -> 1 Oct 2011 + 180 d
        }
        for iso, due in expected.items():
            row = every[(iso, "initial-report")]
            assert (row["due_on"], row["article"]) == (due, "CCM Art. 7(1)"), iso
            assert row["historical"] is True and row["status"] == "overdue"
        # the annual report by 30 April, covering the previous calendar year (Art. 7(2))
        assert every[("BGR", "annual-report-2013")]["covers"] == "2012-01-01/2012-12-31"
        assert ("AGO", "initial-report") not in every  # a signatory owes nothing

        # Bulgaria declares stockpiles: Art. 3(2), eight years from 1 Oct 2011
        ok = stack.treaty("ratification", "stockpiles", "Bulgaria", "--date", "2012-03-01", *SOURCE)
        assert ok.returncode == 0, ok.stderr
        stock = _obligations(stack)[("BGR", "stockpile-destruction")]
        assert (stock["due_on"], stock["article"]) == ("2019-10-01", "CCM Art. 3(2)")

        # an extension of more than four years (Art. 3(3)) is refused
        _refused(
            stack,
            *("ratification", "extension-request", "BGR", "--obligation", "stockpile-destruction"),
            *("--until", "2023-10-02", "--meeting", "9MSP", "--date", "2018-11-01"),
            match="up to 4 years",
        )
        # a request to the 9MSP (opening 2 Sep 2019) filed nine months before, then granted
        # for one year instead of two
        ok = stack.treaty(
            *("ratification", "extension-request", "BGR", "--obligation", "stockpile-destruction"),
            *("--until", "2021-10-01", "--meeting", "9msp", "--date", "2018-11-01"),
            *SOURCE,
        )
        assert ok.returncode == 0, ok.stderr
        _refused(
            stack,
            *("ratification", "extension-decision", "BGR", "--obligation", "stockpile-destruction"),
            *("--meeting", "99MSP", "--granted-until", "2020-10-01"),
            match="no Meeting called '99MSP'",
        )
        ok = stack.treaty(
            *("ratification", "extension-decision", "BGR", "--obligation", "stockpile-destruction"),
            *("--meeting", "9MSP", "--granted-until", "2020-10-01"),
            *SOURCE,
        )
        assert ok.returncode == 0, ok.stderr
        stock = _obligations(stack)[("BGR", "stockpile-destruction")]
        assert stock["due_on"] == "2020-10-01"
        assert [d["due_on"] for d in stock["deadlines"]] == ["2019-10-01", "2020-10-01"]
        assert stock["deadlines"][1]["basis"] == "extension granted by the 9MSP (2019-09-04)"
        # moving the 9MSP a week on would leave its decision of 4 Sep 2019 outside it:
        # refused, the State named, nothing changed
        moved = tmp_path / "moved.csv"
        moved.write_text(
            "meeting,kind,opens_on,closes_on,city\n9MSP,MSP,2019-09-09,2019-09-11,Geneva\n"
        )
        _refused(
            stack,
            *("meetings", "import", str(moved), "--correct"),
            match="BGR stockpile-destruction: extension decided on 2019-09-04",
        )
        nine = {m["meeting"]: m for m in stack.json("meetings", "list")}["9MSP"]
        assert (nine["opens_on"], nine["closes_on"]) == ("2019-09-02", "2019-09-04")

        # clearance (Art. 4(1)(a): ten years, 1 Oct 2021); a request that reaches the 9MSP
        # less than nine months before it opens is refused (Art. 4(6))
        ok = stack.treaty("ratification", "contamination", "BGR", "--date", "2012-03-01", *SOURCE)
        assert ok.returncode == 0, ok.stderr
        assert _obligations(stack)[("BGR", "clearance")]["due_on"] == "2021-10-01"
        _refused(
            stack,
            *("ratification", "extension-request", "BGR", "--obligation", "clearance"),
            *("--until", "2024-10-01", "--meeting", "9MSP", "--date", "2019-01-15"),
            match="at least 9 months before, by 2018-12-02 (CCM Art. 4(5)-(8))",
        )
        _refused(
            stack,
            *("ratification", "extension-request", "BGR", "--obligation", "clearance"),
            *("--until", "2026-10-02", "--meeting", "2RC", "--date", "2020-01-15"),
            match="up to 5 years",
        )

        # compliance: declared once; not for an obligation that is not open
        ok = stack.treaty(
            *("ratification", "compliance-declaration", "BGR"),
            *("--obligation", "stockpile-destruction", "--date", "2020-09-20"),
            *("--channel", "note verbale"),
            *SOURCE,
        )
        assert ok.returncode == 0, ok.stderr
        _refused(
            stack,
            *("ratification", "compliance-declaration", "BGR"),
            *("--obligation", "stockpile-destruction", "--date", "2020-09-21"),
            *("--channel", "e-mail"),
            match="stockpile-destruction is not open: it was met on 2020-09-20",
        )
        _refused(
            stack,
            *("ratification", "compliance-declaration", "Niger"),
            *("--obligation", "clearance", "--date", "2020-09-21", "--channel", "e-mail"),
            match="NER has no obligation 'clearance'",
        )

        # withdrawal: not by a State that is not party
        _refused(
            stack,
            "ratification",
            "withdraw",
            "Angola",
            "--date",
            "2024-09-06",
            match="not a State Party",
        )
        _refused(
            stack,
            "ratification",
            "withdraw",
            "Norway",
            "--date",
            "2024-09-06",
            match="not a State Party",
        )
        # Lithuania: instrument of withdrawal received 6 Sep 2024, effective six months later
        # (Art. 20(3)): 6 Mar 2025, as the public record says
        ok = stack.treaty("ratification", "withdraw", "Lithuania", "--date", "2024-09-06", *SOURCE)
        assert ok.returncode == 0, ok.stderr
        assert "WithdrawalTookEffect" in ok.stdout
        ltu = stack.json("status", "Lithuania")[0]
        assert ltu["status"] == "withdrawn"
        events = stack.json("events", "ratification-CCM-LTU")
        took = [e for e in events if e["event_type"] == "WithdrawalTookEffect"]
        assert [e["occurred_on"] for e in took] == ["2025-03-06"]
        assert not any(k[0] == "LTU" for k in _obligations(stack))  # no open obligation

        # the calendar: one event per open obligation, the rule in its description
        open_rows = stack.json("obligations")
        result = stack.treaty("deadlines", "--ics", "-")
        assert result.returncode == 0, result.stderr
        cal = Calendar.from_ical(result.stdout)
        events_ics = list(cal.walk("VEVENT"))
        assert len(events_ics) == len(open_rows) > 0
        by_uid = {str(e["UID"]): e for e in events_ics}
        clearance = by_uid["CCM-BGR-clearance@treatyflow"]
        assert clearance.decoded("DTSTART") == date(2021, 10, 1)
        assert "Rule: CCM Art. 4(1)(a)" in str(clearance["DESCRIPTION"])
        for event in events_ics:
            assert "Rule: CCM Art. " in str(event["DESCRIPTION"])
        ics_file = tmp_path / "deadlines.ics"
        written = stack.treaty("deadlines", "--ics", str(ics_file), "--state", "Bulgaria")
        assert written.returncode == 0, written.stderr
        bgr = Calendar.from_ical(ics_file.read_bytes())
        assert len(list(bgr.walk("VEVENT"))) == len([x for x in open_rows if x["state"] == "BGR"])
        # the table, sorted by date, with the rule cited
        table = stack.json("deadlines", "--from", "2021-01-01", "--to", "2021-12-31")
        due_dates = [x["due_on"] for x in table]
        assert due_dates == sorted(due_dates) and all(d.startswith("2021") for d in due_dates)
        # clearance (1 Oct 2021) and the annual reports of 30 Apr 2021 (Art. 7(2)) of the
        # six States in force then; Lithuania's ended with its withdrawal
        assert ("BGR", "clearance", "CCM Art. 4(1)(a)") in {
            (x["state"], x["obligation"], x["article"]) for x in table
        }
        assert {x["state"] for x in table if x["obligation"] == "annual-report-2021"} == {
            "NER",
            "FJI",
            "COM",
            "CMR",
            "BOL",
            "BGR",
        }
