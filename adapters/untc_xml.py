"""The depositary's MTDSG XML of a treaty (*Multilateral Treaties Deposited with the
Secretary-General*, ``treaties.un.org/doc/Publication/MTDSG/Volume II/Chapter
XXVI/XXVI-6.en.xml``).

``<Document><Treaty>``: the ``Header`` (chapter, number, title, conclusion, entry into
force, registration, the counts), the ``Participants`` table (as the status page's), the
``Declarations``, ``Objections``, ``DeclarationsUnderArticle``, ``Notifications`` and the
``EndNotes``. The file is decoded as its XML declaration says (ISO-8859-1 for these).
It gives no date of status: each row's source names the counts it states instead, e.g.
"UNTC MTDSG XML XXVI-6 (undated; 108 signatories, 102 parties)".

The files write some characters by the low byte of their code point: U+2018/2019 and
U+201C/201D (quotation marks) as the control characters 0x18/0x19 and 0x1C/0x1D, U+2013/2014
(dashes) as 0x13/0x14, and U+2026 (ellipsis) as a bare ``&``. :func:`repair` puts them
back before parsing; markup inside the text (``Belize<superscript>1</superscript>``,
``<i>``) is written escaped and read here.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from lxml import etree

from adapters.depositary_record import DepositaryRecord, Header
from adapters.status_table import Note, TableError
from adapters.untc_common import (
    Participant,
    build_rows,
    clean,
    find_column,
    mtdsg_no,
    parse_entry_into_force,
    statement_kind,
)
from adapters.untc_notes import Statement, attach

_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_LOW_BYTES = str.maketrans(
    {"\x13": "\u2013", "\x14": "\u2014", "\x18": "\u2018", "\x19": "\u2019"}
    | {"\x1c": "\u201c", "\x1d": "\u201d"}
)
_BARE_AMPERSAND = re.compile(r"&(?!#\d+;|#x[0-9A-Fa-f]+;|[A-Za-z][A-Za-z0-9]*;)")
_SUPERSCRIPT = re.compile(r"<superscript>\s*([^<]*?)\s*</superscript>", re.I)
_TAG = re.compile(r"<[^>]+>")
_SECTIONS = {
    "Declarations": "declaration",
    "DeclarationsUnderArticle": "declaration",
    "Objections": "objection",
    "Notifications": "communication",
    "TerritorialApplications": "note",
}


def decode(path: Path, data: bytes) -> str:
    """The text of ``data`` in the encoding its XML declaration names (UTF-8 if none);
    :class:`TableError` naming the encoding and the offset of the first byte it cannot
    decode, or an encoding Python does not know. A byte-order mark (UTF-16, UTF-32) decides
    before the declaration, as XML 1.0 Appendix F has it."""
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as err:
                raise TableError(
                    f"{path} starts with a {codec.upper()} byte-order mark but is not "
                    f"{codec.upper()} text (offset {err.start}); save it again"
                ) from None
    match = _DECLARATION.match(data.removeprefix(b"\xef\xbb\xbf"))
    encoding = match.group(1).decode("ascii") if match else "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise TableError(f"{path} declares the encoding {encoding!r}, which is unknown") from None
    try:
        return data.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as err:
        raise TableError(
            f"{path} cannot be decoded as {encoding} (as its XML declaration says): byte "
            f"0x{data[err.start]:02x} at offset {err.start} is not {encoding}"
        ) from None


def repair(text: str) -> str:
    """``text`` with the characters written by their low byte put back (see the module)."""
    return _BARE_AMPERSAND.sub("\u2026", text.translate(_LOW_BYTES))


def parse(path: Path, text: str) -> etree._Element:
    """The ``<Treaty>`` element; :class:`TableError` if the text is not well-formed XML
    (saying so if it stops early: truncated) or not an MTDSG ``<Document>``."""
    body = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as err:
        line, column = err.position
        hint = ""
        if line >= body.count("\n") + 1 or "end of data" in str(err).lower():
            hint = "; it looks truncated (it stops before the document is closed)"
        raise TableError(
            f"{path} is not well-formed XML at line {line}, column {column}: {err.msg}{hint}"
        ) from None
    treaty = root.find("Treaty")
    if root.tag != "Document" or treaty is None:
        raise TableError(f"{path} is not an MTDSG XML (<Document> with a <Treaty>)")
    return treaty


def read_xml(path: Path, data: bytes) -> DepositaryRecord:
    """Read the MTDSG XML ``data`` (from ``path``); :class:`TableError` as :func:`decode`
    and :func:`parse` say, or if it has no participants' table."""
    treaty = parse(path, repair(decode(path, data)))
    header = _header(treaty)
    participants = _participants(path, treaty)
    source = f"UNTC MTDSG XML {header.mtdsg_no or path.name} (undated"
    if header.signatories is not None and header.parties is not None:
        source += f"; {header.signatories} signatories, {header.parties} parties"
    source += ")"
    rows, errors = build_rows(participants, source)
    bracketed = {p.line for p in participants if p.bracketed}
    rows, errors = attach(rows, errors, bracketed, _end_notes(treaty), _statements(treaty))
    return DepositaryRecord(
        path=path,
        form="untc-xml",
        header=header,
        rows=rows,
        errors=errors,
    )


def _text(element: etree._Element | None) -> str:
    """The element's text, escaped markup removed."""
    if element is None:
        return ""
    return clean(_TAG.sub(" ", "".join(element.itertext())))


def _marked(element: etree._Element) -> tuple[str, tuple[str, ...]]:
    """An entry's text without its footnote marks (``<superscript>``), and the marks."""
    raw = "".join(element.itertext())
    marks = tuple(m for s in _SUPERSCRIPT.findall(raw) for m in re.split(r"[\s,]+", s) if m)
    return clean(_TAG.sub(" ", _SUPERSCRIPT.sub(" ", raw))), marks


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _header(treaty: etree._Element) -> Header:
    data = treaty.find("Header/ExternalData")
    if data is None:
        return Header(mtdsg_no=None)
    eif = parse_entry_into_force(_text(data.find("EIF/Labeltext")))
    return Header(
        title=_text(data.find("Titlesect")) or None,
        mtdsg_no=mtdsg_no(_text(treaty.find("Header/Chapter/Header")), _text(data.find("Numsect"))),
        status_as_at=None,
        concluded=_text(data.find("Conclusion")) or None,
        entry_into_force_text=eif.text,
        entry_into_force_on=eif.on,
        entry_into_force_article=eif.article,
        registration=_text(data.find("Registration/Labeltext")) or None,
        signatories=_int(_text(data.find("Status/Signatories"))),
        parties=_int(_text(data.find("Status/Parties"))),
    )


def _participants(path: Path, treaty: etree._Element) -> list[Participant]:
    group = treaty.find("Participants/Table/TGroup")
    head = group.find("Thead/Row") if group is not None else None
    if group is None or head is None or _text(head.find("Entry")) != "Participant":
        raise TableError(f"{path} has no participants' table (Participants/Table with a Thead)")
    titles = [_text(e) for e in head.findall("Entry")]
    signature = find_column(titles, "Signature")
    provisional = find_column(titles, "Provisional")
    instrument = find_column(titles, "Ratification", "Accession")
    if signature is None or instrument is None:
        raise TableError(
            f"{path}: the participants' table has the columns {titles!r}: expected "
            "Participant, Signature, [Provisional application(n),] and the instrument's column"
        )
    participants: list[Participant] = []
    for number, row in enumerate(group.findall("Tbody/Rows/Row"), start=1):
        entries = row.findall("Entry")
        if len(entries) != len(titles):
            raise TableError(
                f"{path}: row {number} of the participants' table has {len(entries)} "
                f"entries, its header {len(titles)}"
            )
        name, marks = _marked(entries[0])
        texts: list[str] = []
        for index in (signature, provisional, instrument):
            text, more = _marked(entries[index]) if index is not None else ("", ())
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
    return participants


def _lines(elements: list[etree._Element]) -> str:
    return "\n".join(line for line in (_text(e) for e in elements) if line)


def _end_notes(treaty: etree._Element) -> dict[str, str]:
    return {
        _text(note.find("index")): _lines(note.findall("text"))
        for note in treaty.findall("EndNotes/Note")
    }


def _statements(treaty: etree._Element) -> list[Statement]:
    statements: list[Statement] = []
    for section, kind in _SECTIONS.items():
        element = treaty.find(section)
        if element is None:
            continue
        title = " ".join(_text(t) for t in element.findall("Title"))
        for entry in element:
            who = entry.find("Participant")
            if who is None:
                continue
            name, _ = _marked(who)
            text = _lines(entry.findall("text"))
            note = Note(kind=statement_kind(kind, text), text=text or title)
            statements.append(Statement(name=name, note=note))
    return statements
