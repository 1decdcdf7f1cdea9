"""The CCM's Meetings as held (examples/ccm/meetings.csv, from public CCM records)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cli.meetings import read_meetings
from domain.errors import DomainError
from domain.obligations import find_meeting, required_meetings
from domain.treaties import CCM

MEETINGS = Path(__file__).resolve().parent.parent / "examples" / "ccm" / "meetings.csv"


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
