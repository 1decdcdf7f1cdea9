"""Each State's entry into force, by the words of its treaty's own entry-into-force article.

Deposit dates: the depositary's record (UNTC status pages XXVI-6 and XXVI-5 as at 3 Feb
2026, ``shared/data/ccm_status_2026.csv`` and ``apmbc_status_2026.csv``; the ATT's MTDSG
XML of 2018, ``shared/data/untc/XXVI-8.en.2018.xml``); each is checked against that file
below. Entry-into-force dates: each treaty's text as ``shared/data/treaty_rules.md`` gives
it (the treaties' own dates are the depositary's: CCM 1 Aug 2010, "in accordance with
article 17(1)"; ATT 24 Dec 2014, "in accordance with article 22"; APMBC 1 Mar 1999,
ICRC, IRRC No. 324):

- CCM Art. 17(1): "on the first day of the sixth month after the month in which the
  thirtieth instrument … has been deposited" (30th: 16 Feb 2010, so 1 Aug 2010); 17(2):
  for a State depositing "after the date of the deposit of the thirtieth instrument", "on
  the first day of the sixth month after the date on which that State has deposited".
- APMBC Art. 17: the same with the fortieth instrument (16 Sep 1998, so 1 Mar 1999).
- ATT Art. 22(1): "ninety days following the date of the deposit of the fiftieth
  instrument" (25 Sep 2014, so 24 Dec 2014); 22(2): for a State that deposits
  "subsequent to the entry into force of this Treaty", ninety days after its deposit. A
  State that deposited between 25 Sep and 24 Dec 2014 is therefore bound from 24 Dec 2014
  under 22(1), where a CCM State that deposited between 16 Feb and 1 Aug 2010 is bound
  from the first day of the sixth month after its own deposit under 17(2).
"""

from __future__ import annotations

import csv
import re
from datetime import date

import pytest

from domain.treaties import APMBC, ATT, CCM, TreatyProfile
from tests import SHARED_DATA

CCM_30TH, CCM_EIF = date(2010, 2, 16), date(2010, 8, 1)
APMBC_40TH, APMBC_EIF = date(1998, 9, 16), date(1999, 3, 1)
ATT_50TH, ATT_EIF = date(2014, 9, 25), date(2014, 12, 24)

_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


def _csv_deposit(file_name: str, state: str) -> date:
    with (SHARED_DATA / file_name).open(encoding="utf-8", newline="") as f:
        rows = {row["state"]: row["deposit_date"] for row in csv.DictReader(f)}
    return date.fromisoformat(rows[state])


def _att_deposit(state: str) -> date:
    """The instrument's date in the participants' table of the ATT's MTDSG XML (the
    fourth entry of the State's row: "21 Oct 2014", possibly followed by a type)."""
    xml = (SHARED_DATA / "untc" / "XXVI-8.en.2018.xml").read_text(encoding="iso-8859-1")
    row = re.search(rf"<Row>\s*<Entry>{re.escape(state)}</Entry>(.*?)</Row>", xml, flags=re.DOTALL)
    assert row is not None, state
    entries = re.findall(r"<Entry(?:\s*/>|>([^<]*)</Entry>)", row.group(1))
    day, month, year = entries[2].split()[:3]
    return date(int(year), _MONTHS[month], int(day))


def _deposit(profile: TreatyProfile, state: str) -> date:
    if profile is ATT:
        return _att_deposit(state)
    return _csv_deposit(f"{profile.code.lower()}_status_2026.csv", state)


CASES = [
    # --- CCM: 30th instrument 16 Feb 2010 (Burkina Faso and Moldova), in force 1 Aug 2010
    (CCM, "Denmark", date(2010, 2, 12), CCM_EIF, "CCM Art. 17(1)"),
    (CCM, "Burkina Faso", date(2010, 2, 16), CCM_EIF, "CCM Art. 17(1)"),
    (CCM, "Republic of Moldova", date(2010, 2, 16), CCM_EIF, "CCM Art. 17(1)"),
    # after the 30th deposit, before the Convention's entry into force: its own date
    (CCM, "Samoa", date(2010, 4, 28), date(2010, 10, 1), "CCM Art. 17(2)"),
    (
        CCM,
        "United Kingdom of Great Britain and Northern Ireland",
        date(2010, 5, 4),
        date(2010, 11, 1),
        "CCM Art. 17(2)",
    ),
    (CCM, "Comoros", date(2010, 7, 28), date(2011, 1, 1), "CCM Art. 17(2)"),
    # after the Convention's entry into force
    (CCM, "Antigua and Barbuda", date(2010, 8, 23), date(2011, 2, 1), "CCM Art. 17(2)"),
    # --- APMBC: 40th instrument 16 Sep 1998 (Burkina Faso), in force 1 Mar 1999
    (APMBC, "Andorra", date(1998, 6, 29), APMBC_EIF, "APMBC Art. 17(1)"),
    (APMBC, "Burkina Faso", date(1998, 9, 16), APMBC_EIF, "APMBC Art. 17(1)"),
    (APMBC, "Equatorial Guinea", date(1998, 9, 16), APMBC_EIF, "APMBC Art. 17(1)"),  # same day
    # after the 40th deposit, before the Convention's entry into force: its own date (the
    # sixth month after September 1998 is March 1999: the same day, by paragraph 2)
    (APMBC, "Namibia", date(1998, 9, 21), APMBC_EIF, "APMBC Art. 17(2)"),
    (APMBC, "Jordan", date(1998, 11, 13), date(1999, 5, 1), "APMBC Art. 17(2)"),
    (APMBC, "Australia", date(1999, 1, 14), date(1999, 7, 1), "APMBC Art. 17(2)"),
    # after the Convention's entry into force
    (APMBC, "Costa Rica", date(1999, 3, 17), date(1999, 9, 1), "APMBC Art. 17(2)"),
    # --- ATT: 50th instrument 25 Sep 2014, in force 24 Dec 2014
    (ATT, "Albania", date(2014, 3, 19), ATT_EIF, "ATT Art. 22(1)"),
    (ATT, "Argentina", date(2014, 9, 25), ATT_EIF, "ATT Art. 22(1)"),
    # after the 50th deposit, before the Treaty's entry into force: the Treaty's own date,
    # not 90 days after the deposit (which would be 19 Jan, 16 Mar and 22 Mar 2015)
    (ATT, "Guinea", date(2014, 10, 21), ATT_EIF, "ATT Art. 22(1)"),
    (ATT, "Liechtenstein", date(2014, 12, 16), ATT_EIF, "ATT Art. 22(1)"),
    (ATT, "South Africa", date(2014, 12, 22), ATT_EIF, "ATT Art. 22(1)"),
    # after the Treaty's entry into force: 30 Jan 2015 + 90 days
    (ATT, "Switzerland", date(2015, 1, 30), date(2015, 4, 30), "ATT Art. 22(2)"),
]


@pytest.mark.parametrize(
    ("profile", "state", "deposited_on", "expected", "article"),
    CASES,
    ids=[f"{c[0].code}-{c[1]}" for c in CASES],
)
def test_state_entry_into_force(
    profile: TreatyProfile, state: str, deposited_on: date, expected: date, article: str
) -> None:
    assert _deposit(profile, state) == deposited_on  # the depositary's record
    treaty_eif, threshold = {
        "CCM": (CCM_EIF, CCM_30TH),
        "APMBC": (APMBC_EIF, APMBC_40TH),
        "ATT": (ATT_EIF, ATT_50TH),
    }[profile.code]
    assert profile.state_entry_into_force(deposited_on, treaty_eif, threshold) == (
        expected,
        article,
    )
    # the depositary may state only the treaty's date: the date is the same
    assert profile.state_entry_into_force(deposited_on, treaty_eif, None)[0] == expected


def test_att_deposit_on_the_day_of_entry_into_force_is_subsequent_to_it() -> None:
    # The Treaty is in force from the start of 24 Dec 2014 (signature closes and accession
    # opens that day): a deposit that day is "subsequent to the entry into force",
    # 24 Dec 2014 + 90 days. No State deposited that day (MTDSG XXVI-8).
    assert ATT.state_entry_into_force(date(2014, 12, 24), ATT_EIF, ATT_50TH) == (
        date(2015, 3, 24),
        "ATT Art. 22(2)",
    )
    assert ATT.state_entry_into_force(date(2014, 12, 23), ATT_EIF, ATT_50TH) == (
        ATT_EIF,
        "ATT Art. 22(1)",
    )


def test_no_att_deposit_on_the_day_of_entry_into_force() -> None:
    xml = (SHARED_DATA / "untc" / "XXVI-8.en.2018.xml").read_text(encoding="iso-8859-1")
    assert "<Entry>24 Dec 2014" not in xml
    assert xml.count("<Entry>22 Dec 2014") == 1  # South Africa, the last before it


def test_the_paragraphs_cover_states_in_each_treatys_words() -> None:
    assert CCM.state_eif.covers == '"after the date of the deposit of the thirtieth instrument"'
    assert ATT.state_eif.covers == '"subsequent to the entry into force of this Treaty"'
