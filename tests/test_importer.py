"""Reading and planning a depositary status table (pure: no servers)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cli import importer
from domain import ratification as r
from domain.treaties import CCM

ROOT = Path(__file__).resolve().parent.parent
STATUS = ROOT / "examples" / "ccm" / "status.csv"
HEADER = "state,signature_date,instrument,deposit_date,source\n"


def write(tmp_path: Path, text: str | bytes, name: str = "t.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_the_real_ccm_table_reads_whole() -> None:
    rows, errors = importer.read_table(STATUS)
    assert errors == []
    assert len(rows) == 79
    by_state = {row.state: row for row in rows}
    assert sum(1 for row in rows if row.deposited_on) == 74
    # blank signature date on a ratification row: the source does not give it
    assert by_state["LTU"].signed_on is None and by_state["LTU"].instrument == "ratification"
    # Belize declared provisional application of Art. 1 at accession (CCM Art. 18);
    # Lithuania only announced it
    assert by_state["BLZ"].provisional_application
    assert not by_state["LTU"].provisional_application
    assert by_state["JPN"].instrument == "acceptance"


def test_bom_crlf_case_spaces_and_extra_columns(tmp_path: Path) -> None:
    text = "\ufeffState , Signature_Date,instrument,deposit_date,source,note\r\n"
    text += "Bulgaria,2008-12-03,Ratification,2011-04-06,UNTC,x\r\n\r\n,,,,,\r\n"
    rows, errors = importer.read_table(write(tmp_path, text))
    assert errors == []
    assert [(r_.state, r_.instrument, r_.deposited_on) for r_ in rows] == [
        ("BGR", "ratification", date(2011, 4, 6))
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("", "is empty", id="empty"),
        pytest.param("\n  \n", "is empty", id="blank"),
        pytest.param(HEADER, "no data rows", id="header-only"),
        pytest.param(
            "state;signature_date\nBulgaria;2008-12-03\n", "lacks column(s)", id="semicolons"
        ),
        pytest.param(
            "state,signature_date,instrument,deposit_date\nX,,,\n",
            "lacks column(s) source",
            id="missing-column",
        ),
        pytest.param(
            b"state,signature_date,instrument,deposit_date,source\n"
            + "Côte d'Ivoire,2008-12-04,,,x\n".encode("latin-1"),
            "is not UTF-8",
            id="latin-1",
        ),
    ],
)
def test_unusable_tables_are_refused_whole(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    with pytest.raises(importer.TableError, match=message.replace("(", r"\(").replace(")", r"\)")):
        importer.read_table(write(tmp_path, content))


def test_bad_rows_are_listed_and_the_others_kept(tmp_path: Path) -> None:
    text = HEADER + (
        "Bulgaria,2008-12-03\n"  # line 2: short row
        "Atlantis,,accession,2011-01-01,x\n"  # 3: unknown State
        "Cyprus,2009-09-23,ratification,2011-02-30,x\n"  # 4: impossible date
        "Chile,2008-12-03,ratification,,x\n"  # 5: instrument without deposit date
        "Cuba,2008-12-03,accession,2016-04-06,x\n"  # 6: accession with a signature
        "Kenya,2008-12-03,,,UNTC\n"  # 7: fine (signatory)
        "Kenya,2008-12-03,,,UNTC\n"  # 8: identical duplicate: skipped
        "Kenya,2008-12-04,,,other\n"  # 9: conflicting duplicate
        "Peru,,treaty,2011-01-01,x\n"  # 10: unknown instrument
    )
    rows, errors = importer.read_table(write(tmp_path, text))
    assert [row.state for row in rows] == ["KEN"]
    reasons = {e.line: e.reason for e in errors}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 9, 10]
    assert "2 field(s), the header has 5" in reasons[2]
    assert "did you mean" in reasons[3] or "unknown State 'Atlantis'" in reasons[3]
    assert "not a valid date" in reasons[4]
    assert "give both or neither" in reasons[5]
    assert "an accession has no signature" in reasons[6]
    assert "already on line 7" in reasons[9]
    assert "not one of" in reasons[10]


def _row(**kw: object) -> importer.Row:
    base: dict[str, object] = dict(
        line=2,
        name="Bulgaria",
        state="BGR",
        signed_on=date(2008, 12, 3),
        instrument="ratification",
        deposited_on=date(2011, 4, 6),
        source="UNTC",
        provisional_application=False,
    )
    base.update(kw)
    return importer.Row(**base)  # type: ignore[arg-type]


def test_plan_sends_only_what_is_missing() -> None:
    fresh = r.initial_state("CCM", "BGR")
    plan = importer.plan(_row(), fresh)
    assert plan.commands == [
        r.Sign(signed_on=date(2008, 12, 3)),
        r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6)),
    ]
    done = r.fold(fresh, r.decide(fresh, plan.commands[0], CCM, _ctx(), date(2026, 1, 1)))
    done = r.fold(done, r.decide(done, plan.commands[1], CCM, _ctx(), date(2026, 1, 1)))
    again = importer.plan(_row(), done)
    assert again.commands == [] and again.refused is None
    contrary = importer.plan(_row(deposited_on=date(2011, 5, 6)), done)
    assert contrary.commands == [] and "2011-04-06" in (contrary.refused or "")


def test_plan_signature_unknown_for_undated_ratification() -> None:
    plan = importer.plan(_row(signed_on=None), r.initial_state("CCM", "BGR"))
    assert plan.signature_unknown
    assert plan.commands[0] == r.Sign(signed_on=None)


def _ctx() -> r.TreatyContext:
    return r.TreatyContext(
        in_force_on=date(2010, 8, 1), threshold_deposited_on=date(2010, 2, 16), basis="depositary"
    )
