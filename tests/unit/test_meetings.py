"""The CCM's Meetings as held (examples/ccm/meetings.csv, from public CCM records)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from adapters.meetings_file import read_meetings
from domain.errors import DomainError
from domain.obligations import find_meeting, required_meetings
from domain.treaties import CCM
from tests import ROOT, SHARED_DATA

MEETINGS = ROOT / "examples" / "ccm" / "meetings.csv"


def test_ccm_meetings_as_held() -> None:
    meetings = read_meetings(MEETINGS)
    assert len(meetings) == 15
    beirut = find_meeting(meetings, "2msp")
    assert (beirut.city, beirut.opens_on, beirut.closes_on) == (
        "Beirut",
        date(2011, 9, 12),
        date(2011, 9, 16),
    )
    # the two-part second Review Conference: 25 Nov 2020 to 21 Sep 2021
    assert find_meeting(meetings, "2RC").closes_on == date(2021, 9, 21)


def test_first_msp_was_held_within_the_year_art_11() -> None:
    held = {m.name: m for m in read_meetings(MEETINGS)}
    required = {m.name: m for m in required_meetings(CCM, date(2010, 8, 1))}
    # CCM Art. 11(2): within one year of entry into force (1 Aug 2010): 9 Nov 2010
    assert held["1MSP"].opens_on <= required["1MSP"].due_by


def test_bad_meetings_table(tmp_path: Path) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text("meeting,kind,opens_on,closes_on,city\n2MSP,MSP,2011-09-16,2011-09-12,Beirut\n")
    with pytest.raises(DomainError, match="line 2: 2MSP closes before it opens"):
        read_meetings(bad)


# --- refusals: kinds, dates, names, cities, overlaps ----------------------------------------

HEADER = "meeting,kind,opens_on,closes_on,city\n"
GOOD = "1MSP,MSP,2010-11-09,2010-11-12,Vientiane\n"  # ccm_meetings.csv, first row


@pytest.mark.parametrize(
    ("row", "match"),
    [
        # CCM Art. 11 and 12 know only Meetings of States Parties and Review Conferences
        ("2MSP,Intersessional,2011-09-12,2011-09-16,Beirut", "line 3: 2MSP: kind 'Intersessional'"),
        # CCM Art. 15: opened for signature on 3 Dec 2008 (adopted 30 May 2008)
        ("2MSP,MSP,2008-06-02,2008-06-03,Dublin", "line 3: 2MSP opens on 2008-06-02, before"),
        ("18MSP,Review Conference,2030-09-02,2030-09-06,Geneva", "line 3: 18MSP: the name"),
        ("2RC,MSP,2020-11-25,2021-09-21,Geneva", "line 3: 2RC: the name"),
        ("2MSP,MSP,2011-09-12,2011-09-16,", "line 3: 2MSP has no city"),
        # overlaps the 1MSP (9-12 Nov 2010) of the line before
        ("2MSP,MSP,2010-11-12,2010-11-15,Beirut", "line 3: 2MSP .* overlaps 1MSP"),
    ],
)
def test_meetings_the_treaty_cannot_have_are_refused(tmp_path: Path, row: str, match: str) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text(HEADER + GOOD + row + "\n")
    assert len(read_meetings(bad)) == 2  # without the treaty's rules the rows read
    with pytest.raises(DomainError, match=match):
        read_meetings(bad, CCM)


def test_the_public_record_passes_the_checks() -> None:
    assert len(read_meetings(MEETINGS, CCM)) == 15
    assert len(read_meetings(SHARED_DATA / "ccm_meetings.csv", CCM)) == 15


def test_cli_refuses_the_whole_file_naming_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    bad = tmp_path / "m.csv"
    bad.write_text(HEADER + GOOD + "2RC,MSP,2020-11-25,2021-09-21,Geneva\n")
    # refused while reading, before any server is asked: nothing recorded
    assert main(["meetings", "import", str(bad)]) == 1
    captured = capsys.readouterr()
    assert "line 3: 2RC" in captured.out + captured.err


def _meeting(name: str, kind: str, opens: date, closes: date, city: str | None = "Geneva"):
    from domain.obligations import Meeting

    return Meeting(name=name, kind=kind, opens_on=opens, closes_on=closes, city=city)


@pytest.mark.parametrize(
    ("meeting", "match"),
    [
        (_meeting("2MSP", "Workshop", date(2011, 9, 12), date(2011, 9, 16)), "neither"),
        (_meeting("2MSP", "MSP", date(2008, 11, 1), date(2008, 11, 2)), "2008-12-03"),
        (_meeting("18MSP", "Review Conference", date(2030, 9, 2), date(2030, 9, 6)), "name"),
        (_meeting("2RC", "MSP", date(2020, 11, 25), date(2021, 9, 21)), "name"),
        (_meeting("2MSP", "MSP", date(2011, 9, 12), date(2011, 9, 16), None), "no city"),
        (_meeting("2MSP", "MSP", date(2011, 9, 12), date(2011, 9, 16), "  "), "no city"),
        # overlaps the recorded 1MSP (9-12 Nov 2010)
        (_meeting("2MSP", "MSP", date(2010, 11, 10), date(2010, 11, 11)), "overlaps 1MSP"),
    ],
)
def test_domain_refuses_what_the_treaty_cannot_have(meeting: object, match: str) -> None:
    from domain import treaty as t

    first = _meeting("1MSP", "MSP", date(2010, 11, 9), date(2010, 11, 12), "Vientiane")
    today = date(2026, 1, 1)
    state = t.TreatyState(treaty="CCM")
    for event in t.decide(state, t.RecordMeetings(meetings=[first]), CCM, today):
        state = t.evolve(state, event)
    with pytest.raises(DomainError, match=match):
        t.decide(state, t.RecordMeetings(meetings=[meeting], correction=True), CCM, today)


def test_domain_accepts_a_correction_of_a_meeting_onto_its_own_dates() -> None:
    from domain import treaty as t

    held = _meeting("2MSP", "MSP", date(2011, 9, 13), date(2011, 9, 16), "Beirut")
    state = t.TreatyState(treaty="CCM")
    today = date(2026, 1, 1)
    for event in t.decide(state, t.RecordMeetings(meetings=[held]), CCM, today):
        state = t.evolve(state, event)
    # sources differ on the opening day (12 or 13 Sep 2011): a correction does not
    # overlap the Meeting it replaces
    fixed = _meeting("2MSP", "MSP", date(2011, 9, 12), date(2011, 9, 16), "Beirut")
    events = t.decide(state, t.RecordMeetings(meetings=[fixed], correction=True), CCM, today)
    assert [e.opens_on for e in events] == [date(2011, 9, 12)]  # type: ignore[attr-defined]


def test_domain_records_the_public_record_once() -> None:
    from domain import treaty as t

    held = read_meetings(MEETINGS, CCM)
    state = t.TreatyState(treaty="CCM")
    today = date(2026, 1, 1)
    events = t.decide(state, t.RecordMeetings(meetings=held), CCM, today)
    assert [e.name for e in events][:2] == ["1MSP", "2MSP"]  # type: ignore[attr-defined]
    assert len(events) == 15
    for event in events:
        state = t.evolve(state, event)
    assert state.meetings["1MSP"].city == "Vientiane"
    assert t.decide(state, t.RecordMeetings(meetings=held), CCM, today) == []  # idempotent
