"""Depositary status tables in CSV (``treaty import STATUS.csv``): read and validate.

Columns (as ``examples/ccm/status.csv``): ``state``, ``signature_date``, ``instrument``,
``deposit_date``, ``source``, and optionally ``provisional_application`` (the date of the
declaration of provisional application), ``withdrawal_received``, ``withdrawal_effective``
and ``succession_date`` (as ``../shared/data/ccm_status_2026.csv``); any other column is
refused (:func:`check_columns`). :func:`read_table` reads a file into valid :class:`Row` s
and refused :class:`RowError` s (with the line and the reason); :func:`parse_row` validates
one row, with no I/O (the Excel reader uses it too). What a row still needs is
:func:`app.importer.plan`'s business.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from domain.errors import DomainError, nul_line
from domain.states import resolve_state

REQUIRED_COLUMNS = ("state", "signature_date", "instrument", "deposit_date", "source")
OPTIONAL_COLUMNS = (
    "provisional_application",
    "withdrawal_received",
    "withdrawal_effective",
    "succession_date",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
INSTRUMENTS = ("ratification", "acceptance", "approval", "accession", "succession")
UNSIGNED_INSTRUMENTS = ("accession", "succession")
_PROVISIONAL = re.compile(r"provisional application of art\.?\s*1\b[^;]*declared", re.I)


class TableError(Exception):
    """The file as a whole cannot be imported (missing file, missing or unknown columns,
    truncated, no participants' table)."""


@dataclass(frozen=True)
class Note:
    """An end note of the depositary's record on one State: ``kind`` ``declaration``,
    ``reservation``, ``objection``, ``communication``, ``withdrawal`` (the end note giving
    the withdrawal's dates) or ``note``; ``text`` as written; ``mark``: its footnote
    number ("8"), if any."""

    kind: str
    text: str
    mark: str | None = None


@dataclass(frozen=True)
class Row:
    """One valid row: ``line`` is its line number in the file (header = line 1), or the
    participant's row number in a page, XML or sheet.

    ``name``: as the record writes it; ``state``: ISO 3166 alpha-3; ``instrument``:
    ratification, acceptance, approval, accession or succession (None: signatory only);
    ``provisional_application_on``: the date of the declaration of provisional application
    ("(n)" on the UNTC page); ``withdrawal_received_on`` / ``withdrawal_effective_on``: the
    depositary's receipt of the instrument of withdrawal and the date the record says it
    takes effect, ``withdrawal_condition`` the condition it is subject to, as written
    (APMBC Art. 20(3)); ``succession_on``: the date of the succession of States, where the
    record gives it; ``marks``: footnote numbers after the name or dates; ``notes``: the
    end notes on this State.
    """

    line: int
    name: str
    state: str
    signed_on: date | None
    instrument: str | None
    deposited_on: date | None
    source: str
    provisional_application: bool
    provisional_application_on: date | None = None
    withdrawal_received_on: date | None = None
    withdrawal_effective_on: date | None = None
    withdrawal_condition: str | None = None
    succession_on: date | None = None
    marks: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class RowError:
    """A row refused, with the reason."""

    line: int
    name: str
    reason: str


def _date(value: str, column: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise DomainError(
            f"{column} {value!r} is not a valid date ({err}); expected YYYY-MM-DD"
        ) from None


def check_withdrawal(
    deposited_on: date | None, received_on: date | None, effective_on: date | None
) -> None:
    """The dates of a withdrawal agree with each other and with the deposit: the receipt
    of the notification and the date it takes effect go together, only after a deposit,
    and it takes effect neither before it is received nor before the deposit.
    :class:`DomainError` if not."""
    if received_on is None and effective_on is None:
        return
    if received_on is None or effective_on is None:
        raise DomainError(
            "withdrawal_received and withdrawal_effective go together: give both or neither"
        )
    if deposited_on is None:
        raise DomainError("a withdrawal without a deposit: there is nothing to withdraw from")
    if received_on < deposited_on:
        raise DomainError(
            f"the withdrawal was received on {received_on}, before the deposit of {deposited_on}"
        )
    if effective_on < received_on:
        raise DomainError(
            f"the withdrawal takes effect on {effective_on}, before it was received on "
            f"{received_on}"
        )


def check_columns(header: list[str], where: str) -> list[str]:
    """The header's names, stripped and lower-cased, in order; :class:`TableError` naming
    ``where`` (the file) if one is missing, unknown or given twice."""
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise TableError(
            f"{where} lacks column(s) {', '.join(missing)}: its header is {','.join(header)!r}; "
            f"expected {','.join(REQUIRED_COLUMNS)} (comma-separated), and optionally "
            f"{', '.join(OPTIONAL_COLUMNS)}"
        )
    unknown = [h for h, n in zip(header, names, strict=True) if n not in COLUMNS]
    if unknown:
        raise TableError(
            f"{where} has column(s) {', '.join(repr(u) for u in unknown)} that it does not "
            f"understand; the accepted columns are {', '.join(COLUMNS)}"
        )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise TableError(f"{where} has column(s) {', '.join(twice)} more than once")
    return names


def parse_row(line: int, raw: dict[str, str | None]) -> Row | RowError:
    """Validate one row of text (no I/O): the State (unknown names get the closest known
    ones suggested), ISO dates, the instrument with its deposit date, a signature only for
    a ratification, acceptance or approval, the withdrawal's dates (:func:`check_withdrawal`)
    and a succession date only with a succession."""
    name = (raw.get("state") or "").strip()
    try:
        state = resolve_state(name).code
        signed_on = _date(raw.get("signature_date") or "", "signature_date")
        deposited_on = _date(raw.get("deposit_date") or "", "deposit_date")
        provisional_on = _date(raw.get("provisional_application") or "", "provisional_application")
        received_on = _date(raw.get("withdrawal_received") or "", "withdrawal_received")
        effective_on = _date(raw.get("withdrawal_effective") or "", "withdrawal_effective")
        succession_on = _date(raw.get("succession_date") or "", "succession_date")
        instrument = (raw.get("instrument") or "").strip().lower() or None
        if instrument is not None and instrument not in INSTRUMENTS:
            raise DomainError(
                f"instrument {instrument!r} is not one of {', '.join(INSTRUMENTS)} (or empty)"
            )
        if (instrument is None) != (deposited_on is None):
            raise DomainError("instrument and deposit_date go together: give both or neither")
        if instrument in UNSIGNED_INSTRUMENTS and signed_on is not None:
            article = "an" if instrument == "accession" else "a"
            raise DomainError(
                f"{article} {instrument} has no signature: leave signature_date empty"
            )
        if instrument is None and signed_on is None:
            raise DomainError("neither a signature nor a deposit: nothing to record")
        check_withdrawal(deposited_on, received_on, effective_on)
        if succession_on is not None and instrument != "succession":
            raise DomainError("a succession_date is for an instrument of succession only")
    except DomainError as err:
        return RowError(line=line, name=name or "(empty)", reason=str(err))
    source = (raw.get("source") or "").strip()
    return Row(
        line=line,
        name=name,
        state=state,
        signed_on=signed_on,
        instrument=instrument,
        deposited_on=deposited_on,
        source=source,
        provisional_application=provisional_on is not None or bool(_PROVISIONAL.search(source)),
        provisional_application_on=provisional_on,
        withdrawal_received_on=received_on,
        withdrawal_effective_on=effective_on,
        succession_on=succession_on,
    )


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise TableError(f"cannot read {path}: {err.strerror}") from err
    # a byte-order mark names the encoding (Excel's "Unicode text" is UTF-16); else UTF-8
    codec = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        return data.decode(codec)
    except UnicodeDecodeError as err:
        raise TableError(
            f"{path} is not {codec.removesuffix('-sig').upper()} text (byte "
            f"0x{data[err.start]:02x} at offset {err.start}); save it as CSV in UTF-8"
        ) from None


def parse_rows(
    records: Iterable[tuple[int, list[str]]], names: list[str]
) -> tuple[list[Row], list[RowError]]:
    """Validate the data rows ``(line, fields)`` under the header ``names`` (from
    :func:`check_columns`): blank rows are skipped; a row with another number of fields
    than the header is refused; a State on two rows is refused on the second unless the
    rows are identical (then the second is skipped)."""
    rows: list[Row] = []
    errors: list[RowError] = []
    seen: dict[str, tuple[int, tuple[str, ...]]] = {}
    at = names.index("state")
    for line, fields in records:
        if not any(f.strip() for f in fields):
            continue
        name = fields[at].strip() if len(fields) > at else ""
        if len(fields) != len(names):
            errors.append(
                RowError(
                    line=line,
                    name=name or "(empty)",
                    reason=f"has {len(fields)} field(s), the header has {len(names)}",
                )
            )
            continue
        raw = dict(zip(names, fields, strict=True))
        parsed = parse_row(line, raw)
        if isinstance(parsed, Row):
            key = tuple(raw.get(c, "").strip() for c in COLUMNS)
            if parsed.state in seen:
                first_line, first_key = seen[parsed.state]
                if first_key == key:
                    continue  # the same row twice: nothing more to record
                parsed = RowError(
                    line=line,
                    name=parsed.name,
                    reason=f"{parsed.state} is already on line {first_line} with other values",
                )
            else:
                seen[parsed.state] = (line, key)
        (rows if isinstance(parsed, Row) else errors).append(parsed)
    return rows, errors


def read_table(path: Path) -> tuple[list[Row], list[RowError]]:
    """Read and validate a status table; :class:`TableError` if it cannot be used at all
    (unreadable, not UTF-8, empty, a column missing, unknown or twice, no data rows).

    Header names are matched without regard to case or surrounding spaces; the rows are
    validated by :func:`parse_rows`.
    """
    text = _decode(path)
    nul = nul_line(text)
    if nul is not None:
        raise TableError(
            f"{path} line {nul} contains the character U+0000 (NUL), which no record can "
            "hold: it is not a text CSV, or it is damaged; remove the character"
        )
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise TableError(f"{path} is empty: expected a header {','.join(REQUIRED_COLUMNS)}")
    reader = csv.reader(lines)
    try:
        names = check_columns(next(reader), str(path))
        rows, errors = parse_rows(((reader.line_num, fields) for fields in reader), names)
    except csv.Error as err:  # a field beyond the csv module's limit (128 KiB), a bad quote
        raise TableError(
            f"{path} line {reader.line_num} cannot be read as CSV ({err}): no field of a "
            "status table is that long; is it a status table?"
        ) from None
    if not rows and not errors:
        raise TableError(f"{path} has a header but no data rows")
    return rows, errors
