"""The depositary's record of one treaty, as read from any of its forms.

``treaty import FILE`` reads, by content, the UN Treaty Collection's status page (HTML as
saved from the site), its MTDSG XML, a status table in CSV or an Excel ``.xlsx``
(:func:`read_record`). Each reader gives the same :class:`DepositaryRecord`: the
header where the form has one, one :class:`~adapters.status_table.Row` per participant
(the State resolved to ISO 3166), and the rows refused with the reason
(:class:`~adapters.status_table.RowError`). What the record still needs is
:mod:`app.importer`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from adapters.status_table import Row, RowError, TableError

Form = Literal["untc-html", "untc-xml", "csv", "xlsx"]


@dataclass(frozen=True)
class Header:
    """What the depositary's page or XML says of the treaty as a whole.

    ``mtdsg_no``: the chapter and number in *Multilateral Treaties Deposited with the
    Secretary-General* ("XXVI-6"); ``entry_into_force_text``: the statement as written
    ("1 August 2010, in accordance with article 17(1)"), with its date and article read
    from it; ``signatories`` / ``parties``: the counts the depositary states.
    """

    title: str | None = None
    mtdsg_no: str | None = None
    status_as_at: date | None = None
    concluded: str | None = None
    entry_into_force_text: str | None = None
    entry_into_force_on: date | None = None
    entry_into_force_article: str | None = None
    registration: str | None = None
    signatories: int | None = None
    parties: int | None = None


@dataclass
class DepositaryRecord:
    """One file read: its ``form``, the ``header`` (None for CSV and Excel), the valid
    ``rows`` and the refused ones (``errors``), each naming its line or row."""

    path: Path
    form: Form
    header: Header | None = None
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def read_record(path: Path) -> DepositaryRecord:
    """Read ``path`` by its content (not its name): UNTC HTML, MTDSG XML, ``.xlsx`` (a zip)
    or CSV. :class:`TableError` if it cannot be used at all (unreadable, truncated, no
    participants' table, a column it does not understand)."""
    from adapters import status_table

    rows, errors = status_table.read_table(path)
    return DepositaryRecord(path=path, form="csv", rows=rows, errors=errors)


__all__ = ["DepositaryRecord", "Form", "Header", "Row", "RowError", "TableError", "read_record"]
