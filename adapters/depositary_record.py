"""The shape every reader of the depositary's record gives (:mod:`adapters.depositary`
reads a file into it): the :class:`Header` where the form has one, the rows and the
refused rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from adapters.status_table import Row, RowError

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
