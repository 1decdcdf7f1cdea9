"""Status tables in Excel (``adapters.status_xlsx`` via ``read_record``), written here with
openpyxl from ``../shared/data/ccm_status_2026.csv`` (the CCM as at 3 Feb 2026)."""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from adapters.depositary import read_record
from adapters.status_table import TableError, read_table
from tests import SHARED_DATA

CCM_CSV = SHARED_DATA / "ccm_status_2026.csv"
DATES = {
    "signature_date",
    "provisional_application",
    "deposit_date",
    "withdrawal_received",
    "withdrawal_effective",
}


def _workbook(path: Path, lines: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "status"
    for line in lines:
        sheet.append(line)
    book.save(path)
    return path


def _csv_lines(as_dates: bool) -> list[list[object]]:
    """The CSV's header and rows; dates as date cells (``as_dates``) or ISO text."""
    with CCM_CSV.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    lines: list[list[object]] = [list(header)]
    for row in rows:
        lines.append(
            [
                (date.fromisoformat(v) if as_dates and name in DATES and v else v or None)
                for name, v in zip(header, row, strict=True)
            ]
        )
    return lines


@pytest.mark.parametrize("as_dates", [True, False], ids=["date-cells", "iso-text"])
def test_the_ccm_table_reads_back_the_same(tmp_path: Path, as_dates: bool) -> None:
    expected, bad = read_table(CCM_CSV)
    assert bad == [] and len(expected) == 125
    path = _workbook(tmp_path / "ccm.xlsx", _csv_lines(as_dates))
    record = read_record(path)
    assert record.form == "xlsx" and record.header is None
    assert record.errors == []
    # rows numbered as Excel numbers them: the header is row 1, as the CSV's line 1
    assert record.rows == expected


def test_a_formula_refuses_its_row_naming_the_cell(tmp_path: Path) -> None:
    header = ["state", "signature_date", "instrument", "deposit_date", "source"]
    lines: list[list[object]] = [
        header,
        ["Bulgaria", date(2008, 12, 3), "ratification", "=DATE(2011,4,6)", "UNTC"],
        [],
        ["Albania", datetime(2008, 12, 3), "ratification", date(2009, 6, 16), "UNTC"],
    ]
    record = read_record(_workbook(tmp_path / "t.xlsx", lines))
    assert [(r.line, r.state, r.deposited_on) for r in record.rows] == [
        (4, "ALB", date(2009, 6, 16))
    ]
    (error,) = record.errors
    assert (error.line, error.name) == (2, "Bulgaria")
    assert "cell D2 holds the formula '=DATE(2011,4,6)'" in error.reason


def test_a_formula_in_the_header_is_refused(tmp_path: Path) -> None:
    lines: list[list[object]] = [
        ["state", "signature_date", "instrument", "deposit_date", '=LOWER("SOURCE")'],
        ["Bulgaria", "2008-12-03", "", "", "UNTC"],
    ]
    with pytest.raises(TableError, match=re.escape("the header's cell E1 holds the formula")):
        read_record(_workbook(tmp_path / "t.xlsx", lines))


def test_an_unknown_column_is_refused_naming_it_and_its_cell(tmp_path: Path) -> None:
    lines: list[list[object]] = [
        ["state", "signature_date", "instrument", "deposit_date", "source", "remarks"],
        ["Bulgaria", "2008-12-03", "", "", "UNTC", "x"],
    ]
    with pytest.raises(TableError) as caught:
        read_record(_workbook(tmp_path / "t.xlsx", lines))
    assert "column(s) 'remarks' that it does not understand" in str(caught.value)
    assert "header cells: F1 'remarks'" in str(caught.value)


def test_a_bad_date_cell_names_its_row(tmp_path: Path) -> None:
    lines: list[list[object]] = [
        ["state", "signature_date", "instrument", "deposit_date", "source"],
        ["Cyprus", "2009-02-31", "", "", "UNTC"],
        ["Chile", datetime(2008, 12, 3, 15, 30), "", "", "UNTC"],
    ]
    record = read_record(_workbook(tmp_path / "t.xlsx", lines))
    assert record.rows == []
    reasons = {(e.line, e.name): e.reason for e in record.errors}
    assert "signature_date '2009-02-31' is not a valid date" in reasons[(2, "Cyprus")]
    assert "signature_date '2008-12-03 15:30:00' is not a valid date" in reasons[(3, "Chile")]


def test_a_zip_that_is_no_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    with pytest.raises(TableError, match="is not an Excel workbook"):
        read_record(path)
