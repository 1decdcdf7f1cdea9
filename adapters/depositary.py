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

from pathlib import Path

from adapters import status_table
from adapters.depositary_record import DepositaryRecord, Form, Header
from adapters.status_table import Row, RowError, TableError


def read_record(path: Path) -> DepositaryRecord:
    """Read ``path`` by its content (not its name): a zip (``PK``) is an Excel ``.xlsx``,
    an XML ``<Document>`` with a ``<Treaty>`` the MTDSG XML, HTML the UNTC status page,
    anything else a CSV status table. :class:`TableError` if it cannot be used at all
    (unreadable, empty, truncated, no participants' table, undecodable, a column it does
    not understand)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise TableError(f"cannot read {path}: {err.strerror}") from err
    if not data.strip():
        raise TableError(f"{path} is empty")
    form = sniff(data)
    # each reader imported when its form is met: openpyxl, lxml and beautifulsoup4 take
    # half a second to import, which a CSV import need not wait
    if form == "xlsx":
        from adapters import status_xlsx

        rows, errors = status_xlsx.read_sheet(path)
        return DepositaryRecord(path=path, form="xlsx", rows=rows, errors=errors)
    if form == "untc-xml":
        from adapters import untc_xml

        return untc_xml.read_xml(path, data)
    if form == "untc-html":
        from adapters import untc_page

        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise TableError(
                f"{path} is not UTF-8 HTML (byte 0x{data[err.start]:02x} at offset "
                f"{err.start}); save the page again as UTF-8"
            ) from None
        return untc_page.read_page(path, text)
    rows, errors = status_table.read_table(path)
    return DepositaryRecord(path=path, form="csv", rows=rows, errors=errors)


_HEAD = 4096


_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _head(data: bytes) -> bytes:
    """The file's first bytes as ASCII: a UTF-16 or UTF-32 text (a byte-order mark first)
    decoded, so that an XML or HTML saved in those encodings is recognised as such."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = data[len(bom) : len(bom) + 4 * _HEAD].decode(codec, errors="ignore")
            return text.encode("ascii", errors="ignore")
    return data[:_HEAD]


def sniff(data: bytes) -> Form:
    """The form of a file from its first bytes: ``xlsx`` (a zip), ``untc-xml`` (an XML
    declaration and a ``<Document>`` holding a ``<Treaty>``), ``untc-html``
    (``<!DOCTYPE html``, ``<html``), else ``csv``."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    head = _head(data).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml") and b"<document" in head and b"<treaty" in head:
        return "untc-xml"
    if head.startswith((b"<!doctype html", b"<html")) or (
        head.startswith((b"<?xml", b"<!--")) and b"<html" in head
    ):
        return "untc-html"
    return "csv"


__all__ = [
    "DepositaryRecord",
    "Form",
    "Header",
    "Row",
    "RowError",
    "TableError",
    "read_record",
    "sniff",
]
