"""The UN Treaty Collection's status page of a treaty, as saved from the site (UTF-8 HTML,
``treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-6...``).

The page (ASP.NET, the tables inside nested markup) gives the header ("STATUS AS AT :
03-02-2026", the chapter and number, the title, the conclusion, entry into force,
registration, the counts), the participants' table (Participant | Signature |
Provisional application(n), where the treaty has one | the instrument's date with its
type suffix), the declarations and the other statements, and the end notes. Each row's
source is "UNTC status page XXVI-6 as at 2026-02-03". The succession date is not on the
page (it refers to the front matter): ``succession_on`` stays None.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from adapters.depositary_record import DepositaryRecord, Header
from adapters.status_table import Note, TableError
from adapters.untc_common import (
    Participant,
    build_rows,
    clean,
    find_column,
    mtdsg_no,
    parse_counts,
    parse_entry_into_force,
    statement_kind,
)
from adapters.untc_notes import Statement, attach

_STATUS_AS_AT = re.compile(r"STATUS AS AT\s*:\s*(\d{2})-(\d{2})-(\d{4})", re.I)
_TABLE_START = re.compile(r"<t[dh][^>]*>\s*Participant\s*(?:<br\s*/?>)?\s*</t[dh]>", re.I)


def read_page(path: Path, text: str) -> DepositaryRecord:
    """Read the page's ``text`` (from ``path``). :class:`TableError` if it has no
    participants' table or looks truncated (it does not end with ``</html>``: the message
    says where it stops)."""
    soup = BeautifulSoup(text, "lxml")
    table = _participants_table(soup)
    if table is None:
        _check_complete(path, text, [])
        raise TableError(
            f"{path} has no participants' table (a table whose first column is "
            "'Participant'): is it the status page of a treaty?"
        )
    participants, short = _participants(table)
    _check_complete(path, text, participants)
    if short:
        raise TableError(
            f"{path}: row(s) {', '.join(map(str, short))} of the participants' table have "
            "fewer cells than its header"
        )
    header = _header(soup)
    source = "UNTC status page " + (header.mtdsg_no or path.name)
    if header.status_as_at is not None:
        source += f" as at {header.status_as_at.isoformat()}"
    rows, errors = build_rows(participants, source)
    bracketed = {p.line for p in participants if p.bracketed}
    rows, errors = attach(rows, errors, bracketed, _end_notes(soup), _statements(soup))
    return DepositaryRecord(
        path=path,
        form="untc-html",
        header=header,
        rows=rows,
        errors=errors,
    )


def _check_complete(path: Path, text: str, participants: list[Participant]) -> None:
    """:class:`TableError` if the page does not end with ``</html>``, saying where it
    stops: before, inside or after the participants' table."""
    if re.search(r"</html>\s*$", text, re.I):
        return
    line = text.count("\n") + 1
    start = _TABLE_START.search(text)
    if start is None:
        where = "before any participants' table"
    elif re.search(r"</table>", text[start.end() :], re.I) is None:
        complete = len(re.findall(r"</tr>", text[start.end() :], re.I)) - 1
        where = f"inside the participants' table, after {max(complete, 0)} complete row(s)"
        if 0 < complete <= len(participants):
            where += f" (the last: {participants[complete - 1].name})"
    else:
        where = "after the participants' table (the end notes may be cut)"
    raise TableError(
        f"{path} looks truncated: it stops at line {line} without the closing </html>, "
        f"{where}; save the whole page again"
    )


def _text(element: Tag | None) -> str:
    return clean(element.get_text(" ")) if element is not None else ""


def _by_id(soup: BeautifulSoup, ending: str) -> Tag | None:
    found = soup.find(id=re.compile(rf"{ending}$"))
    return found if isinstance(found, Tag) else None


def _header(soup: BeautifulSoup) -> Header:
    status = _STATUS_AS_AT.search(soup.get_text(" "))
    status_as_at = None
    if status is not None:
        day, month, year = (int(g) for g in status.groups())
        status_as_at = date(year, month, day)
    treaty = _text(_by_id(soup, r"rptTreaty_ctl\d+_tcTreaty"))
    number, _, title = treaty.partition(". ")
    eif = parse_entry_into_force(_text(_by_id(soup, r"rptEIF_ctl\d+_tcText")))
    signatories, parties = parse_counts(_text(_by_id(soup, r"rptStatus_ctl\d+_tcText")))
    return Header(
        title=clean(title) or None,
        mtdsg_no=mtdsg_no(_text(_by_id(soup, r"rptHead_ctl\d+_tcHead")), number),
        status_as_at=status_as_at,
        concluded=_text(_by_id(soup, r"rptTreaty_ctl\d+_tcText")) or None,
        entry_into_force_text=eif.text,
        entry_into_force_on=eif.on,
        entry_into_force_article=eif.article,
        registration=_text(_by_id(soup, r"rptRegistration_ctl\d+_tcText")) or None,
        signatories=signatories,
        parties=parties,
    )


def _cells(row: Tag) -> list[Tag]:
    return [c for c in row.find_all(["td", "th"], recursive=False) if isinstance(c, Tag)]


def _rows(table: Tag) -> list[Tag]:
    return [
        r for r in table.find_all("tr") if isinstance(r, Tag) and r.find_parent("table") is table
    ]


def _participants_table(soup: BeautifulSoup) -> Tag | None:
    for table in soup.find_all("table"):
        if not isinstance(table, Tag):
            continue
        rows = _rows(table)
        cells = _cells(rows[0]) if rows else []
        if cells and _text(cells[0]) == "Participant":
            return table
    return None


def _marked(cell: Tag) -> tuple[str, tuple[str, ...]]:
    """A cell's text without its footnote marks, and the marks."""
    marks: list[str] = []
    for sup in cell.find_all("sup"):
        marks.extend(m for m in re.split(r"[\s,]+", _text(sup)) if m)
        sup.extract()
    return _text(cell), tuple(marks)


def _participants(table: Tag) -> tuple[list[Participant], list[int]]:
    """The participants, and the numbers of the rows with too few cells."""
    rows = _rows(table)
    titles = [_text(c) for c in _cells(rows[0])]
    signature = find_column(titles, "Signature")
    provisional = find_column(titles, "Provisional")
    instrument = find_column(titles, "Ratification", "Accession")
    if signature is None or instrument is None:
        raise TableError(
            f"the participants' table has the columns {titles!r}: expected Participant, "
            "Signature, [Provisional application(n),] and the instrument's column"
        )
    participants: list[Participant] = []
    short: list[int] = []
    for number, tr in enumerate(rows[1:], start=1):
        cells = _cells(tr)
        if len(cells) < len(titles):
            short.append(number)
            continue
        name, marks = _marked(cells[0])
        texts: list[str] = []
        for index in (signature, provisional, instrument):
            text, more = _marked(cells[index]) if index is not None else ("", ())
            texts.append(text)
            marks += more
        participants.append(
            Participant(
                line=number,
                name=name,
                marks=marks,
                signature=texts[0],
                provisional=texts[1] if provisional is not None else None,
                instrument=texts[2],
            )
        )
    return participants, short


def _end_notes(soup: BeautifulSoup) -> dict[str, str]:
    """End notes by their number: the text, paragraphs on lines of their own."""
    notes: dict[str, str] = {}
    for div in soup.find_all("div", class_="divNotesAll"):
        if not isinstance(div, Tag):
            continue
        anchor = div.find("a", attrs={"name": True})
        if not isinstance(anchor, Tag):
            continue
        mark = _text(anchor)
        anchor.extract()
        notes[mark] = _paragraphs(div)
    return notes


def _paragraphs(element: Tag) -> str:
    """The element's text, a line for each paragraph (``<br>``, ``<p>``), links inline."""
    for hidden in element.find_all(class_="invisible"):
        hidden.extract()
    for br in element.find_all("br"):
        br.replace_with("\n")
    for paragraph in element.find_all("p"):
        paragraph.append("\n")
    lines = (clean(line) for line in element.get_text().split("\n"))
    return "\n".join(line for line in lines if line)


def _statements(soup: BeautifulSoup) -> list[Statement]:
    """The entries of the declarations' (and objections', notifications') tables."""
    statements: list[Statement] = []
    for table in soup.find_all("table", id=re.compile(r"_dg\w+$")):
        if not isinstance(table, Tag):
            continue
        section = str(table.get("id", "")).rsplit("_", 1)[-1]
        kind = _section_kind(section)
        if kind is None:
            continue
        title = _section_title(soup, section)
        for name_div in table.find_all("div", id=re.compile(r"divParticipant$")):
            if not isinstance(name_div, Tag):
                continue
            name, _ = _marked(name_div)
            text_div = _by_id(soup, str(name_div["id"]).replace("divParticipant", "divText"))
            text = _paragraphs(text_div) if text_div is not None else ""
            note = Note(kind=statement_kind(kind, text), text=text or title)
            statements.append(Statement(name=name, note=note))
    return statements


def _section_kind(section: str) -> str | None:
    """The kind of the entries of the statements' table ``dg...`` (``dgDec``,
    ``dgDecUnderArticle``, ``dgObj...``, ``dgNotif...``); None for the end notes
    (``dgNotesAll``), read apart."""
    name = section.lower()
    if name.startswith("dgnotes"):
        return None
    for part, kind in (
        ("obj", "objection"),
        ("notif", "communication"),
        ("comm", "communication"),
        ("res", "reservation"),
        ("dec", "declaration"),
    ):
        if part in name:
            return kind
    return "note"


def _section_title(soup: BeautifulSoup, section: str) -> str:
    """The title of the declarations under an article ("Declarations made under article
    18 (1) (Declaration of provisional application)"), for entries with no text."""
    if section != "dgDecUnderArticle":
        return ""
    return clean(f"{_text(_by_id(soup, 'divMainDecArt'))} {_text(_by_id(soup, 'divDecArt'))}")
