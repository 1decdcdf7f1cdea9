"""The CSV status table's optional columns, and the columns it refuses.

Truth: ``../shared/data/ccm_status_2026.csv`` and ``apmbc_status_2026.csv`` (and their
README: CCM 125 participants, Lithuania's withdrawal received 6 Sep 2024, effective 6 Mar
2025; APMBC 166, two by succession, five withdrawals, Poland's received 20 Aug 2025 and
effective 20 Feb 2026); ``examples/ccm/status.csv`` (79 rows, the columns of before).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from adapters.depositary import read_record
from adapters.status_table import TableError, read_table
from tests import SHARED_DATA, STATUS_CSV

HEADER = "state,signature_date,instrument,deposit_date,source"
ACCEPTED = (
    "state, signature_date, instrument, deposit_date, source, provisional_application, "
    "withdrawal_received, withdrawal_effective, succession_date"
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_2026_tables_read_whole() -> None:
    ccm, bad = read_table(SHARED_DATA / "ccm_status_2026.csv")
    assert bad == [] and len(ccm) == 125
    lithuania = next(r for r in ccm if r.state == "LTU")
    assert (lithuania.withdrawal_received_on, lithuania.withdrawal_effective_on) == (
        date(2024, 9, 6),
        date(2025, 3, 6),
    )
    belize = next(r for r in ccm if r.state == "BLZ")
    assert belize.provisional_application and belize.provisional_application_on == date(2014, 9, 2)
    apmbc, bad = read_table(SHARED_DATA / "apmbc_status_2026.csv")
    assert bad == [] and len(apmbc) == 166
    assert sorted(r.name for r in apmbc if r.instrument == "succession") == [
        "Montenegro",
        "South Sudan",
    ]
    assert sum(1 for r in apmbc if r.withdrawal_effective_on) == 5
    poland = next(r for r in apmbc if r.state == "POL")
    assert (poland.withdrawal_received_on, poland.withdrawal_effective_on) == (
        date(2025, 8, 20),
        date(2026, 2, 20),
    )


def test_the_example_table_still_reads_by_content() -> None:
    record = read_record(STATUS_CSV)
    assert record.form == "csv" and record.header is None
    assert record.errors == [] and len(record.rows) == 79


def test_an_unknown_column_is_refused_naming_it_and_the_accepted_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, f"{HEADER},Remarks\nBulgaria,2008-12-03,,,UNTC,first\n")
    with pytest.raises(TableError) as caught:
        read_table(path)
    message = str(caught.value)
    assert "column(s) 'Remarks' that it does not understand" in message
    assert f"the accepted columns are {ACCEPTED}" in message


def test_a_column_given_twice_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, f"{HEADER},Source\nBulgaria,2008-12-03,,,UNTC,UNTC\n")
    with pytest.raises(TableError, match=re.escape("column(s) source more than once")):
        read_table(path)


def test_the_optional_columns(tmp_path: Path) -> None:
    text = (
        f"{HEADER},provisional_application,withdrawal_received,withdrawal_effective,"
        "succession_date\n"
        "Montenegro,,succession,2006-10-23,UNTC,,,,2006-06-03\n"
        "Norway,2008-12-03,ratification,2008-12-03,UNTC,2008-12-03,,,\n"
        "Poland,1997-12-04,ratification,2012-12-27,UNTC,,2025-08-20,2026-02-20,\n"
    )
    rows, errors = read_table(_write(tmp_path, text))
    assert errors == []
    mne, nor, pol = rows
    assert (mne.instrument, mne.signed_on, mne.succession_on) == (
        "succession",
        None,
        date(2006, 6, 3),
    )
    assert nor.provisional_application and nor.provisional_application_on == date(2008, 12, 3)
    assert not pol.provisional_application
    assert (pol.withdrawal_received_on, pol.withdrawal_effective_on) == (
        date(2025, 8, 20),
        date(2026, 2, 20),
    )


def test_bad_optional_values_refuse_their_row(tmp_path: Path) -> None:
    text = (
        f"{HEADER},withdrawal_received,withdrawal_effective,succession_date\n"
        "Montenegro,2006-01-01,succession,2006-10-23,x,,,\n"  # 2
        "Serbia,,accession,2003-09-18,x,,,2006-06-03\n"  # 3
        "Estonia,,accession,2004-05-12,x,2025-06-27,,\n"  # 4
        "Latvia,,accession,2005-07-01,x,2025-12-27,2025-06-27,\n"  # 5
        "Angola,1997-12-04,,,x,2025-06-27,2025-12-27,\n"  # 6
        "Finland,,accession,2012-01-09,x,2025-07-10,2026-01-10,\n"  # 7: fine
    )
    rows, errors = read_table(_write(tmp_path, text))
    assert [r.state for r in rows] == ["FIN"]
    reasons = {e.line: e.reason for e in errors}
    assert sorted(reasons) == [2, 3, 4, 5, 6]
    assert "a succession has no signature" in reasons[2]
    assert "a succession_date is for an instrument of succession only" in reasons[3]
    assert "withdrawal_received and withdrawal_effective go together" in reasons[4]
    assert "takes effect on 2025-06-27, before it was received on 2025-12-27" in reasons[5]
    assert "a withdrawal without a deposit" in reasons[6]


def test_a_field_too_long_for_a_status_table_is_a_clear_refusal(tmp_path: Path) -> None:
    table = tmp_path / "huge.csv"
    table.write_text(
        "state,signature_date,instrument,deposit_date,source\n"
        f"Malta,2008-12-03,ratification,2009-09-24,{'x' * 200_000}\n",
        encoding="utf-8",
    )
    with pytest.raises(TableError, match=r"huge\.csv line 2 cannot be read as CSV"):
        read_table(table)
