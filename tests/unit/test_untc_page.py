"""The UNTC status page read by content (``adapters.untc_page`` via ``read_record``).

Truth: the depositary's pages as at 3 Feb 2026 (``../shared/data/untc/``) and the same
facts as CSV (``ccm_status_2026.csv``, 125 participants; ``apmbc_status_2026.csv``, 166),
read with the CSV reader; the counts and the withdrawals the README of ``untc/`` states;
the Mine Ban Convention's entry into force from ``treaty_rules.md`` (1 Mar 1999).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from adapters.depositary import DepositaryRecord, read_record
from adapters.status_table import Note, Row, TableError, read_table
from tests import SHARED_DATA

UNTC = SHARED_DATA / "untc"
CCM_PAGE = UNTC / "XXVI-6.2026-02-03.html"
APMBC_PAGE = UNTC / "XXVI-5.2026-02-03.html"
AS_AT = date(2026, 2, 3)


@pytest.fixture(scope="module")
def ccm() -> DepositaryRecord:
    return read_record(CCM_PAGE)


@pytest.fixture(scope="module")
def apmbc() -> DepositaryRecord:
    return read_record(APMBC_PAGE)


def _columns(row: Row) -> tuple[object, ...]:
    """Every column of the shared CSVs, and the State it resolves to."""
    return (
        row.name,
        row.state,
        row.signed_on,
        row.provisional_application_on,
        row.provisional_application,
        row.instrument,
        row.deposited_on,
        row.withdrawal_received_on,
        row.withdrawal_effective_on,
        row.source,
    )


@pytest.mark.parametrize(
    ("treaty", "table", "count"),
    [("ccm", "ccm_status_2026.csv", 125), ("apmbc", "apmbc_status_2026.csv", 166)],
)
def test_the_page_gives_the_rows_of_the_csv(
    request: pytest.FixtureRequest, treaty: str, table: str, count: int
) -> None:
    record: DepositaryRecord = request.getfixturevalue(treaty)
    expected, bad = read_table(SHARED_DATA / table)
    assert bad == [] and len(expected) == count
    assert record.form == "untc-html"
    assert record.errors == []
    assert [_columns(r) for r in record.rows] == [_columns(r) for r in expected]
    assert [r.line for r in record.rows] == list(range(1, count + 1))


def test_the_ccm_header(ccm: DepositaryRecord) -> None:
    header = ccm.header
    assert header is not None
    assert header.title == "Convention on Cluster Munitions"
    assert header.mtdsg_no == "XXVI-6"
    assert header.status_as_at == AS_AT
    assert header.concluded == "Dublin, 30 May 2008"
    assert header.entry_into_force_text == "1 August 2010, in accordance with article 17(1)"
    assert header.entry_into_force_on == date(2010, 8, 1)
    assert header.entry_into_force_article == "article 17(1)"
    assert header.registration == "1 August 2010, No. 47713"
    assert (header.signatories, header.parties) == (107, 112)


def test_the_apmbc_header(apmbc: DepositaryRecord) -> None:
    header = apmbc.header
    assert header is not None
    assert header.mtdsg_no == "XXVI-5"
    assert header.concluded == "Oslo, 18 September 1997"
    assert header.entry_into_force_on == date(1999, 3, 1)  # treaty_rules.md, APMBC Art. 17
    assert header.entry_into_force_article == "article 17(1)"
    assert (header.signatories, header.parties) == (132, 162)


@pytest.mark.parametrize("treaty", ["ccm", "apmbc"])
def test_the_stated_parties_are_the_deposits_less_the_withdrawals_in_effect(
    request: pytest.FixtureRequest, treaty: str
) -> None:
    record: DepositaryRecord = request.getfixturevalue(treaty)
    assert record.header is not None
    parties = [
        r
        for r in record.rows
        if r.deposited_on is not None
        and not (r.withdrawal_effective_on and r.withdrawal_effective_on <= AS_AT)
    ]
    assert len(parties) == record.header.parties


def test_lithuania_withdrew_from_the_ccm(ccm: DepositaryRecord) -> None:
    (ltu,) = [r for r in ccm.rows if r.state == "LTU"]
    # shown in brackets on the page, still a row, with the dates of end note 3
    assert (ltu.signed_on, ltu.deposited_on) == (date(2008, 12, 3), date(2011, 3, 24))
    assert ltu.withdrawal_received_on == date(2024, 9, 6)
    assert ltu.withdrawal_effective_on == date(2025, 3, 6)
    assert ltu.withdrawal_condition is None
    assert ltu.marks == ("3",)
    assert [n.kind for n in ltu.notes] == ["withdrawal"]
    assert "deposited with the Secretary-General a notification of withdrawal" in ltu.notes[0].text


def test_polands_withdrawal_from_the_apmbc_is_conditional(apmbc: DepositaryRecord) -> None:
    (pol,) = [r for r in apmbc.rows if r.state == "POL"]
    assert pol.withdrawal_received_on == date(2025, 8, 20)
    assert pol.withdrawal_effective_on == date(2026, 2, 20)
    assert pol.withdrawal_condition == "subject to the condition set forth in the said paragraph"
    withdrawal = [n for n in pol.notes if n.kind == "withdrawal"]
    assert [n.mark for n in withdrawal] == ["8"]
    assert "in accordance with article 20 (3) of the Convention" in withdrawal[0].text
    # its declaration upon ratification is a note too
    (declaration,) = [n for n in pol.notes if n.kind == "declaration"]
    assert "It is the understanding of the Government of the Republic of Poland" in (
        declaration.text
    )


def test_a_declaration_is_a_note_on_its_state(ccm: DepositaryRecord) -> None:
    (bel,) = [r for r in ccm.rows if r.state == "BEL"]
    (note,) = bel.notes
    assert note.kind == "declaration" and note.mark is None
    assert note.text == (
        "Declaration made upon signature:\nThis signature is equally binding the region of "
        "Walloon, the Flemish region and the region of the capital of Brussels."
    )


def test_footnotes_and_communications(apmbc: DepositaryRecord) -> None:
    by_state = {r.state: r for r in apmbc.rows}
    ukraine = by_state["UKR"]
    assert ukraine.name == "Ukraine" and ukraine.marks == ("10", "11")
    assert [(n.kind, n.mark) for n in ukraine.notes] == [
        ("communication", "10"),
        ("communication", "11"),
    ]
    assert ukraine.notes[0].text.startswith("On 30 March 2016, the Government of Ukraine made")
    # a succession: its date is in the front matter, not on the page
    montenegro = by_state["MNE"]
    assert (montenegro.instrument, montenegro.deposited_on) == ("succession", date(2006, 10, 23))
    assert montenegro.succession_on is None
    assert (montenegro.notes[0].kind, montenegro.notes[0].mark) == ("note", "6")
    assert "Historical Information" in montenegro.notes[0].text


# --------------------------------------------------------------------------------------
# Bad input, on small pages
# --------------------------------------------------------------------------------------

_HEAD = (
    '<tr class="thead-one"><td>Participant<br></td><td>Signature<br></td>'
    "<td>Provisional application(n)<br></td>"
    "<td>Approval(AA), Acceptance(A), Accession(a), Ratification<br></td></tr>"
)


def _page(
    rows: list[tuple[str, str, str, str]],
    table: bool = True,
    declarations: tuple[tuple[str, str], ...] = (),
) -> str:
    cells = "".join("<tr>" + "".join(f"<td>{c}<br></td>" for c in row) + "</tr>\n" for row in rows)
    body = f'<table id="x_tblgrid">{_HEAD}\n{cells}</table>' if table else "<p>No table</p>"
    entries = "".join(
        f'<tr><td><div id="x_dgDec_ctl{i:02}_divParticipant">{name}</div>'
        f"<div id=\"x_dgDec_ctl{i:02}_divText\"><p class='invisible'>{name}</p>"
        f"<p><i>Declaration:<br></i></p>&nbsp;&nbsp;{text}<br></div></td></tr>"
        for i, (name, text) in enumerate(declarations, start=2)
    )
    return (
        "<!DOCTYPE html>\n<html><body>\n"
        '<div id="x_div3">STATUS AS AT : 03-02-2026 10:16:18 EDT</div>\n'
        f"<table><tr><td><div>{body}</div></td></tr></table>\n"
        f'<table id="x_dgDec">{entries}</table>\n</body></html>\n'
    )


def _write(tmp_path: Path, text: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_rows_are_refused_and_the_good_kept(tmp_path: Path) -> None:
    page = _page(
        [
            ("Bulgaria", "&nbsp;3 Dec\t 2008", "&nbsp;", "&nbsp;6 Apr\t 2011"),
            ("Cyprus", "31 Feb\t 2009", "&nbsp;", "&nbsp;"),
            ("Cyprys", "23 Sep 2009", "&nbsp;", "&nbsp;"),
            ("Chile", "&nbsp;3 Dec 2008", "&nbsp;", "16 Dec 2010 x"),
            ("Andorra", "&nbsp;", "&nbsp;", "&nbsp;9 Apr 2013 a"),
        ],
        declarations=(
            ("Bulgaria", "Bulgaria declares."),
            ("Cyprus", "Cyprus declares."),  # its row is refused: no second error
            ("Malta", "Malta declares."),  # not in the table
        ),
    )
    # named .csv: the content decides
    record = read_record(_write(tmp_path, page, "status.csv"))
    assert record.form == "untc-html"
    assert [(r.state, r.instrument, r.deposited_on) for r in record.rows] == [
        ("BGR", "ratification", date(2011, 4, 6)),
        ("AND", "accession", date(2013, 4, 9)),
    ]
    assert record.rows[0].notes == (
        Note(kind="declaration", text="Declaration:\nBulgaria declares."),
    )
    reasons = {(e.line, e.name): e.reason for e in record.errors}
    assert sorted(reasons) == [(0, "Malta"), (2, "Cyprus"), (3, "Cyprys"), (4, "Chile")]
    assert "a declaration on MLT, which is not in the participants' table" in reasons[(0, "Malta")]
    assert "signature '31 Feb 2009' is not a valid date" in reasons[(2, "Cyprus")]
    assert "unknown State 'Cyprys'; did you mean 'Cyprus'" in reasons[(3, "Cyprys")]
    assert "has the suffix 'x', which is not a type of instrument" in reasons[(4, "Chile")]


def test_a_withdrawn_state_with_no_end_note_is_refused(tmp_path: Path) -> None:
    page = _page([("Lithuania", "[ &nbsp;3 Dec 2008 ]", "&nbsp;", "[24 Mar 2011 ]")])
    record = read_record(_write(tmp_path, page))
    assert record.rows == []
    (error,) = record.errors
    assert error.name == "Lithuania"
    assert "shown in brackets (withdrawn), but no end note gives the dates" in error.reason


def test_a_page_with_no_participants_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="has no participants' table"):
        read_record(_write(tmp_path, _page([], table=False)))


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="is empty"):
        read_record(_write(tmp_path, "  \n"))


def test_a_page_cut_inside_the_participants_table(tmp_path: Path) -> None:
    text = CCM_PAGE.read_text(encoding="utf-8")
    names = [r.name for r in read_table(SHARED_DATA / "ccm_status_2026.csv")[0]]
    cut = text.index("<td>Lithuania") + len("<td>Lithu")
    with pytest.raises(TableError) as caught:
        read_record(_write(tmp_path, text[:cut]))
    message = str(caught.value)
    assert "looks truncated" in message
    assert f"line {text[:cut].count(chr(10)) + 1}" in message
    before = names.index("Lithuania")
    assert (
        f"inside the participants' table, after {before} complete row(s) "
        f"(the last: {names[before - 1]})" in message
    )


def test_a_page_cut_in_the_end_notes(tmp_path: Path) -> None:
    text = APMBC_PAGE.read_text(encoding="utf-8")
    cut = text.index("notification of withdrawal")
    with pytest.raises(TableError, match=re.escape("after the participants' table")):
        read_record(_write(tmp_path, text[:cut]))


def test_an_impossible_deposit_date_names_the_instruments_date_and_the_form(
    tmp_path: Path,
) -> None:
    """The date in the instrument's column is the deposit's: the refusal says so, and
    what would be accepted."""
    page = tmp_path / "page.html"
    text = CCM_PAGE.read_text(encoding="utf-8").replace("16 Jun\t 2009", "31 Feb\t 2009", 1)
    page.write_text(text, encoding="utf-8")
    record = read_record(page)
    [error] = [e for e in record.errors if e.name == "Albania"]
    assert error.reason.startswith("the instrument's date '31 Feb 2009' is not a valid date")
    assert "e.g. '3 Dec 2008'" in error.reason
