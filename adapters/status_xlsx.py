"""A status table in an Excel workbook (``.xlsx``), read with openpyxl (read-only).

The first sheet; its first row is the header, with the columns of the CSV
(:data:`~adapters.status_table.COLUMNS`); dates are date cells or ISO text. Rows are
numbered as Excel numbers them (the header is row 1). A formula refuses its row, naming
the cell (the workbook must hold the values, not what a formula would compute); an
unknown column refuses the whole sheet, naming the column and its cell.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from adapters.status_table import (
    COLUMNS,
    Row,
    RowError,
    TableError,
    check_columns,
    parse_rows,
)


class _FormulaError(Exception):
    """A cell holds a formula."""


def _value(cell: Any, row: int, column: int) -> str:
    """The cell's value as the CSV would write it: a date as ISO text (a date-time only
    at midnight), a number as written; :class:`_FormulaError` naming a formula's cell."""
    value = cell.value
    if getattr(cell, "data_type", None) == "f" or (
        isinstance(value, str) and value.startswith("=")
    ):
        raise _FormulaError(
            f"cell {get_column_letter(column)}{row} holds the formula {value!r}: save the "
            "workbook with values, not formulas"
        )
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() != time(0):
            return value.isoformat(sep=" ")  # refused as a date, with the value shown
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_sheet(path: Path) -> tuple[list[Row], list[RowError]]:
    """Read and validate the first sheet of the workbook ``path``: the valid rows and the
    refused ones (row number as in Excel). :class:`TableError` if it is not a workbook,
    has no sheet or no header, a header cell holds a formula, a column is missing, unknown
    or given twice, or there are no data rows."""
    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as err:
        raise TableError(
            f"{path} is not an Excel workbook (.xlsx) that can be read: {err}"
        ) from None
    try:
        if not workbook.worksheets:
            raise TableError(f"{path} has no sheet")
        sheet = workbook.worksheets[0]
        lines = sheet.iter_rows()
        header_cells = next(lines, None)
        if header_cells is None:
            raise TableError(f"{path} is empty: its first sheet has no header row")
        try:
            header = [_value(c, 1, i) for i, c in enumerate(header_cells, start=1)]
        except _FormulaError as err:
            raise TableError(f"{path} sheet {sheet.title!r}: the header's {err}") from None
        while header and not header[-1].strip():
            header.pop()  # empty cells after the last column
        where = f"{path} sheet {sheet.title!r}"
        try:
            names = check_columns(header, where)
        except TableError as err:
            cells = [
                f"{get_column_letter(i)}1 {h!r}"
                for i, h in enumerate(header, start=1)
                if h.strip().lower() not in COLUMNS
            ]
            raise TableError(
                f"{err} (header cells: {', '.join(cells)})" if cells else str(err)
            ) from None
        refused: list[RowError] = []
        rows, errors = parse_rows(_records(lines, refused, names), names)
    finally:
        workbook.close()
    errors = sorted(errors + refused, key=lambda e: e.line)
    if not rows and not errors:
        raise TableError(f"{path} has a header but no data rows")
    return rows, errors


def _records(
    lines: Iterator[tuple[Any, ...]], refused: list[RowError], names: list[str]
) -> Iterator[tuple[int, list[str]]]:
    """``(row number, values)`` of each data row, as wide as the header ``names`` (a value
    beyond it is refused by :func:`parse_rows`); a row with a formula goes to
    ``refused``."""
    width = len(names)
    at = names.index("state")
    for number, cells in enumerate(lines, start=2):
        try:
            values = [_value(c, number, i) for i, c in enumerate(cells, start=1)]
        except _FormulaError as err:
            name = str(cells[at].value or "").strip() if len(cells) > at else ""
            refused.append(RowError(line=number, name=name or "(empty)", reason=str(err)))
            continue
        while len(values) > width and not values[-1].strip():
            values.pop()  # empty cells after the last column
        yield number, values + [""] * (width - len(values))
