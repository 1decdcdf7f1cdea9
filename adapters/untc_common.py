"""What the UN Treaty Collection's status page and its MTDSG XML write alike.

Dates as the depositary writes them ("3 Dec 2008", "1 August 2010"), a participant's
date cells with their type suffix (none: ratification; ``A`` acceptance; ``AA`` approval;
``a`` accession; ``d`` succession; ``n`` provisional application) and the brackets of a
State that has withdrawn, the header's statements (entry into force, counts, the MTDSG
number), and one :class:`~adapters.status_table.Row` built from the cells of a
participant (:func:`build_row`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from adapters.status_table import Row, RowError
from domain.errors import DomainError
from domain.states import resolve_state

MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
"""Month names and abbreviations (lower case) -> month number."""

SUFFIXES: dict[str, str] = {
    "": "ratification",
    "A": "acceptance",
    "AA": "approval",
    "a": "accession",
    "d": "succession",
}
"""The type suffix of an instrument's date -> the instrument."""

PROVISIONAL_SUFFIX = "n"

_DATE = re.compile(r"(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})")
_CELL = re.compile(rf"^(?P<date>{_DATE.pattern})(?:\s+(?P<suffix>\S+))?$")
_EIF = re.compile(
    rf"^(?P<date>{_DATE.pattern})\s*,\s*in accordance with\s+(?P<article>articles?\s+[^,;]+?)"
    r"\s*\.?$",
    re.IGNORECASE,
)
_COUNTS = re.compile(
    r"Signatories\s*:\s*(?P<signatories>\d+)\D+?Parties\s*:\s*(?P<parties>\d+)", re.IGNORECASE
)
_CHAPTER = re.compile(r"CHAPTER\s+(?P<chapter>[IVXLC]+)\b", re.IGNORECASE)


def clean(text: str) -> str:
    """``text`` with no-break spaces and runs of whitespace as one space, stripped."""
    return " ".join(text.replace("\xa0", " ").split())


def parse_date(text: str, what: str) -> date:
    """The date written ``3 Dec 2008`` or ``1 August 2010``; :class:`DomainError` naming
    ``what`` if it is not such a date or no such day exists (``31 Feb 2009``)."""
    match = _DATE.fullmatch(clean(text))
    month = MONTHS.get(match.group(2).lower()) if match else None
    if match is None or month is None:
        raise DomainError(
            f"{what} {text!r} is not a date as the depositary writes it (e.g. '3 Dec 2008')"
        )
    try:
        return date(int(match.group(3)), month, int(match.group(1)))
    except ValueError as err:
        raise DomainError(
            f"{what} {clean(text)!r} is not a valid date ({err}): expected a day that exists, "
            "as the depositary writes it (e.g. '3 Dec 2008')"
        ) from None


def find_dates(text: str) -> list[date]:
    """Every valid date written in full or abbreviated in ``text``, in order."""
    found: list[date] = []
    for match in _DATE.finditer(text):
        try:
            found.append(parse_date(match.group(0), "date"))
        except DomainError:
            continue
    return found


@dataclass(frozen=True)
class Cell:
    """A date cell of the participants' table: ``on`` (None if empty), the type
    ``suffix`` ("" if none) and whether it is ``bracketed`` (the State has withdrawn)."""

    on: date | None
    suffix: str
    bracketed: bool


def parse_cell(text: str, what: str) -> Cell:
    """Read one date cell ("[ 3 Dec 2008 ]", "9 Apr 2013 a", ""); :class:`DomainError`
    naming ``what`` if it holds anything but a date with an optional suffix."""
    value = clean(text)
    bracketed = value.startswith("[") and value.endswith("]")
    if bracketed:
        value = clean(value[1:-1])
    if not value:
        return Cell(on=None, suffix="", bracketed=bracketed)
    match = _CELL.match(value)
    if match is None:
        raise DomainError(
            f"{what} {value!r} is not a date as the depositary writes it (e.g. '3 Dec 2008', "
            "with a suffix such as 'a' after it)"
        )
    return Cell(
        on=parse_date(match.group("date"), what),
        suffix=match.group("suffix") or "",
        bracketed=bracketed,
    )


@dataclass(frozen=True)
class Participant:
    """A participant's cells as the record writes them: ``line`` its row number in the
    participants' table (1 = the first participant), ``name`` without footnote marks,
    ``marks`` the footnote numbers after the name or a date, ``provisional`` None where
    the table has no column of provisional application."""

    line: int
    name: str
    marks: tuple[str, ...]
    signature: str
    provisional: str | None
    instrument: str

    @property
    def bracketed(self) -> bool:
        """Shown in brackets: the State has withdrawn."""
        cells = (self.signature, self.provisional or "", self.instrument)
        return any(clean(cell).startswith("[") for cell in cells)


def _suffix_list() -> str:
    return ", ".join(f"{s or '(none)'} {name}" for s, name in SUFFIXES.items())


def build_row(participant: Participant, source: str) -> Row | RowError:
    """The row of one participant, or why it is refused: a name that names no State (with
    the closest names), a date that does not exist, a suffix that is not a type of
    instrument (or not ``n`` in the column of provisional application, or any suffix after
    a signature), neither a signature nor an instrument."""
    p = participant
    try:
        state = resolve_state(p.name).code
        signature = parse_cell(p.signature, "signature")
        if signature.suffix:
            raise DomainError(
                f"signature {clean(p.signature)!r} has the suffix {signature.suffix!r}; "
                "a signature has none"
            )
        provisional = parse_cell(p.provisional or "", "provisional application")
        if provisional.suffix not in ("", PROVISIONAL_SUFFIX):
            raise DomainError(
                f"provisional application {clean(p.provisional or '')!r} has the suffix "
                f"{provisional.suffix!r}; expected {PROVISIONAL_SUFFIX!r} or none"
            )
        deposit = parse_cell(p.instrument, "the instrument's date")
        if deposit.suffix not in SUFFIXES:
            raise DomainError(
                f"instrument {clean(p.instrument)!r} has the suffix {deposit.suffix!r}, "
                f"which is not a type of instrument: expected {_suffix_list()}"
            )
        if signature.on is None and deposit.on is None:
            raise DomainError("neither a signature nor an instrument: nothing to record")
    except DomainError as err:
        return RowError(line=p.line, name=p.name or "(empty)", reason=str(err))
    return Row(
        line=p.line,
        name=p.name,
        state=state,
        signed_on=signature.on,
        instrument=SUFFIXES[deposit.suffix] if deposit.on else None,
        deposited_on=deposit.on,
        source=source,
        provisional_application=provisional.on is not None,
        provisional_application_on=provisional.on,
        marks=p.marks,
    )


def build_rows(participants: list[Participant], source: str) -> tuple[list[Row], list[RowError]]:
    """:func:`build_row` for each participant: the rows and the refused ones."""
    rows: list[Row] = []
    errors: list[RowError] = []
    for participant in participants:
        built = build_row(participant, source)
        (rows if isinstance(built, Row) else errors).append(built)
    return rows, errors


def find_column(titles: list[str], *words: str) -> int | None:
    """The index of the first column after the first whose title holds one of ``words``
    (in that order of preference), case aside."""
    for word in words:
        found = [i for i, t in enumerate(titles) if i > 0 and word.lower() in t.lower()]
        if found:
            return found[0]
    return None


def statement_kind(section: str, text: str) -> str:
    """The kind of an entry of a section of statements: a declaration whose first line
    speaks of a reservation is a ``reservation``; otherwise the ``section``'s kind."""
    first = text.split("\n", 1)[0]
    if section == "declaration" and re.search(r"\breservations?\b", first, re.I):
        return "reservation"
    return section


@dataclass(frozen=True)
class EntryIntoForce:
    """The entry-into-force statement as written (without its final full stop), with the
    date and the article read from it (None if it does not give them)."""

    text: str | None
    on: date | None
    article: str | None


def parse_entry_into_force(text: str) -> EntryIntoForce:
    """Read "1 August 2010, in accordance with article 17(1)."."""
    value = clean(text).rstrip(".").strip() or None
    if value is None:
        return EntryIntoForce(text=None, on=None, article=None)
    match = _EIF.match(value)
    if match is None:
        return EntryIntoForce(text=value, on=None, article=None)
    try:
        on: date | None = parse_date(match.group("date"), "entry into force")
    except DomainError:
        on = None
    return EntryIntoForce(text=value, on=on, article=clean(match.group("article")))


def parse_counts(text: str) -> tuple[int | None, int | None]:
    """``(signatories, parties)`` from "Signatories : 107. Parties : 112"."""
    match = _COUNTS.search(clean(text))
    if match is None:
        return None, None
    return int(match.group("signatories")), int(match.group("parties"))


def mtdsg_no(chapter: str, number: str) -> str | None:
    """ "XXVI-6" from "CHAPTER XXVI" and "6." (None if either is missing)."""
    match = _CHAPTER.search(chapter)
    digits = re.match(r"\s*(\d+)", number)
    if match is None or digits is None:
        return None
    return f"{match.group('chapter').upper()}-{digits.group(1)}"
