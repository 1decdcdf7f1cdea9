"""The depositary's MTDSG XML read by content (``adapters.untc_xml`` via ``read_record``).

Truth: the 2018 XML of the CCM, the Mine Ban Convention (APMBC) and the Arms Trade
Treaty (``../shared/data/untc/``), whose counts its README states (about 15 Jan 2018: CCM
108 signatories / 102 parties, APMBC 133 / 164, ATT 130 / 94) and of which it says that
no date disagrees with the 2026 status pages (``ccm_status_2026.csv``,
``apmbc_status_2026.csv``, read with the CSV reader); the entry into force of each treaty
from ``treaty_rules.md`` (CCM 1 Aug 2010, APMBC 1 Mar 1999, ATT 24 Dec 2014).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from adapters.depositary import DepositaryRecord, read_record
from adapters.status_table import TableError, read_table
from tests import SHARED_DATA

UNTC = SHARED_DATA / "untc"
CCM_XML = UNTC / "XXVI-6.en.2018.xml"
APMBC_XML = UNTC / "XXVI-5.en.2018.xml"
ATT_XML = UNTC / "XXVI-8.en.2018.xml"


@pytest.fixture(scope="module")
def records() -> dict[str, DepositaryRecord]:
    return {path.name: read_record(path) for path in (CCM_XML, APMBC_XML, ATT_XML)}


@pytest.mark.parametrize(
    ("path", "mtdsg_no", "counts", "in_force", "article"),
    [
        (CCM_XML, "XXVI-6", (108, 102), date(2010, 8, 1), "article 17(1)"),
        (APMBC_XML, "XXVI-5", (133, 164), date(1999, 3, 1), "article 17(1)"),
        (ATT_XML, "XXVI-8", (130, 94), date(2014, 12, 24), "article 22"),
    ],
)
def test_the_header_and_the_table_agree_with_the_stated_counts(
    records: dict[str, DepositaryRecord],
    path: Path,
    mtdsg_no: str,
    counts: tuple[int, int],
    in_force: date,
    article: str,
) -> None:
    record = records[path.name]
    assert record.form == "untc-xml" and record.errors == []
    header = record.header
    assert header is not None
    assert header.mtdsg_no == mtdsg_no
    assert (header.signatories, header.parties) == counts
    assert header.entry_into_force_on == in_force
    assert header.entry_into_force_article == article
    assert header.status_as_at is None  # the file gives no date of status
    # no withdrawal yet in 2018: every signature a signatory, every deposit a Party
    signed = sum(1 for r in record.rows if r.signed_on is not None)
    deposited = sum(1 for r in record.rows if r.deposited_on is not None)
    assert (signed, deposited) == counts
    assert {r.source for r in record.rows} == {
        f"UNTC MTDSG XML {mtdsg_no} (undated; {counts[0]} signatories, {counts[1]} parties)"
    }


@pytest.mark.parametrize(
    ("path", "table"),
    [(CCM_XML, "ccm_status_2026.csv"), (APMBC_XML, "apmbc_status_2026.csv")],
)
def test_every_2018_date_is_the_2026_pages(
    records: dict[str, DepositaryRecord], path: Path, table: str
) -> None:
    later = {r.state: r for r in read_table(SHARED_DATA / table)[0]}
    compared = 0
    for row in records[path.name].rows:
        now = later[row.state]  # every participant of 2018 is still on the page
        for field in ("signed_on", "provisional_application_on", "deposited_on", "instrument"):
            given = getattr(row, field)
            if given is not None:
                assert given == getattr(now, field), (row.name, field)
                compared += 1
    assert compared >= len(records[path.name].rows)  # each gives a signature or a deposit


def test_the_declarations_read_as_the_page_writes_them(
    records: dict[str, DepositaryRecord],
) -> None:
    page = {r.state: r for r in read_record(UNTC / "XXVI-6.2026-02-03.html").rows}
    xml = {r.state: r for r in records[CCM_XML.name].rows}
    # Colombia's declaration quotes ‘cluster munition remnants’: the XML writes the quotation
    # marks by their low byte (0x18, 0x19), the page as they are
    (colombia,) = xml["COL"].notes
    assert colombia.kind == "declaration"
    assert "understands \u2018cluster munition remnants\u2019 to mean" in colombia.text
    assert colombia == page["COL"].notes[0]
    # New Zealand's end note opens with an ellipsis, written as a bare "&" in the XML
    assert xml["NZL"].notes == page["NZL"].notes
    assert "\u201c\u2026 consistent with the constitutional status of Tokelau" in (
        xml["NZL"].notes[0].text
    )


def test_the_apmbc_declarations_under_article_18(records: dict[str, DepositaryRecord]) -> None:
    rows = {r.state: r for r in records[APMBC_XML.name].rows}
    (austria,) = rows["AUT"].notes
    assert austria.kind == "declaration"
    assert austria.text == (
        "Declarations made under article 18 (1) (Declaration of provisional application)"
    )
    assert (rows["SSD"].instrument, rows["SSD"].signed_on) == ("succession", None)


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


def _write(tmp_path: Path, data: bytes, name: str = "t.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _xml(rows: str, participants: bool = True) -> bytes:
    table = (
        "<Participants><Table><TGroup cols='3'><Thead><Row><Entry>Participant</Entry>"
        "<Entry>Signature</Entry><Entry>Ratification, Acceptance(A), Approval(AA), "
        f"Accession(a), Succession(d)</Entry></Row></Thead><Tbody><Rows>{rows}</Rows>"
        "</Tbody></TGroup></Table></Participants>"
        if participants
        else "<Participants />"
    )
    return (
        '<?xml version="1.0" encoding="iso-8859-1"?>\n<Document><Treaty><Header><Chapter>'
        "<Header>CHAPTER XXVI</Header></Chapter><ExternalData><Numsect>5</Numsect>"
        f"</ExternalData></Header>{table}</Treaty></Document>\n"
    ).encode("iso-8859-1")


def _row(*entries: str) -> str:
    return "<Row>" + "".join(f"<Entry>{e}</Entry>" for e in entries) + "</Row>"


def test_bad_rows_are_refused_and_the_good_kept(tmp_path: Path) -> None:
    rows = "".join(
        [
            _row("Côte d'Ivoire", "", "30 Jun 2000 a"),
            _row("Cyprus", "31 Feb 2009", ""),
            _row("Cyprys", "4 Dec 1997", ""),
            _row("Slovakia", "3 Dec 1997", "25 Feb 1999 R"),
        ]
    )
    record = read_record(_write(tmp_path, _xml(rows), "status.csv"))
    assert record.form == "untc-xml"
    assert [(r.state, r.instrument, r.deposited_on) for r in record.rows] == [
        ("CIV", "accession", date(2000, 6, 30))
    ]
    assert record.rows[0].name == "Côte d'Ivoire"  # decoded as ISO-8859-1, as declared
    reasons = {(e.line, e.name): e.reason for e in record.errors}
    assert sorted(reasons) == [(2, "Cyprus"), (3, "Cyprys"), (4, "Slovakia")]
    assert "signature '31 Feb 2009' is not a valid date" in reasons[(2, "Cyprus")]
    assert "did you mean 'Cyprus'" in reasons[(3, "Cyprys")]
    assert "has the suffix 'R', which is not a type of instrument" in reasons[(4, "Slovakia")]


def test_an_xml_with_no_participants_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="has no participants' table"):
        read_record(_write(tmp_path, _xml("", participants=False)))


def test_an_xml_it_cannot_decode_names_the_encoding_and_the_offset(tmp_path: Path) -> None:
    # the real file said to be UTF-8 but left in ISO-8859-1
    text = CCM_XML.read_bytes().decode("iso-8859-1")
    text = text.replace('encoding="iso-8859-1"', 'encoding="utf-8"', 1)
    first = next(i for i, ch in enumerate(text) if ord(ch) > 0x7F)
    path = _write(tmp_path, text.encode("iso-8859-1"))
    with pytest.raises(TableError) as caught:
        read_record(path)
    assert "cannot be decoded as utf-8 (as its XML declaration says): byte 0x" in str(caught.value)
    assert f"at offset {first} " in str(caught.value)


def test_an_unknown_encoding_is_refused(tmp_path: Path) -> None:
    data = _xml(_row("Chile", "3 Dec 1997", "10 Sep 2001")).replace(
        b"iso-8859-1", b"x-no-such-encoding"
    )
    with pytest.raises(TableError, match="declares the encoding 'x-no-such-encoding'"):
        read_record(_write(tmp_path, data))


def test_a_truncated_xml_is_refused(tmp_path: Path) -> None:
    data = APMBC_XML.read_bytes()
    cut = data.index(b"<Entry>Poland</Entry>")
    with pytest.raises(TableError, match=re.escape("it looks truncated")):
        read_record(_write(tmp_path, data[:cut]))


def test_an_xml_saved_as_utf16_reads_as_the_original(tmp_path: Path) -> None:
    """A byte-order mark decides the encoding before the declaration (XML 1.0 Appendix F):
    the ATT's file re-saved as UTF-16, its declaration still saying ISO-8859-1, is the
    same record."""
    original = read_record(ATT_XML)
    copy = tmp_path / "att-utf16.xml"
    copy.write_bytes(ATT_XML.read_bytes().decode("iso-8859-1").encode("utf-16"))
    again = read_record(copy)
    assert again.form == "untc-xml"
    assert [(r.state, r.signed_on, r.deposited_on) for r in again.rows] == [
        (r.state, r.signed_on, r.deposited_on) for r in original.rows
    ]
    assert again.header is not None and again.header.parties == 94


def test_a_csv_saved_as_utf16_reads_as_the_original(tmp_path: Path) -> None:
    table = SHARED_DATA / "ccm_status_2026.csv"
    copy = tmp_path / "ccm-utf16.csv"
    copy.write_bytes(table.read_text(encoding="utf-8").encode("utf-16"))
    rows = read_record(copy).rows
    assert len(rows) == 125
    assert [(r.state, r.deposited_on) for r in rows] == [
        (r.state, r.deposited_on) for r in read_record(table).rows
    ]
