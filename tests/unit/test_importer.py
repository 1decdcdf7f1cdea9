"""Reading and planning a depositary status table (pure: no servers)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import status_table
from app import importer
from domain import ratification as r
from domain import treaty as t
from domain.events import (
    DepositCounted,
    DomainEvent,
    EntryIntoForceDiscrepancyNoted,
    TreatyEntryIntoForceFixed,
)
from domain.treaties import CCM
from tests import ROOT
from tests.support import CCM_STATEMENT

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
    rows, errors = status_table.read_table(STATUS)
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


def test_bom_crlf_case_and_spaces(tmp_path: Path) -> None:
    text = "\ufeffState , Signature_Date,instrument,deposit_date,source\r\n"
    text += "Bulgaria,2008-12-03,Ratification,2011-04-06,UNTC\r\n\r\n,,,,\r\n"
    rows, errors = status_table.read_table(write(tmp_path, text))
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
            "state,signature_date,instrument,deposit_date,source,note\nBulgaria,,,,x,y\n",
            "column(s) 'note' that it does not understand",
            id="unknown-column",
        ),
        pytest.param(
            b"state,signature_date,instrument,deposit_date,source\n"
            + "Côte d'Ivoire,2008-12-04,,,x\n".encode("latin-1"),
            "is not UTF-8",
            id="latin-1",
        ),
        pytest.param(
            HEADER + "Bulgaria,2008-12-03,,,UNTC\nIndonesia,2008-12-03,,,nul\x00byte\n",
            "line 3 contains the character U+0000 (NUL)",
            id="nul",
        ),
    ],
)
def test_unusable_tables_are_refused_whole(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    with pytest.raises(status_table.TableError, match=re.escape(message)):
        status_table.read_table(write(tmp_path, content))


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
    rows, errors = status_table.read_table(write(tmp_path, text))
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


def _row(**kw: object) -> status_table.Row:
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
    return status_table.Row(**base)  # type: ignore[arg-type]


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


# --- an import's deposits counted in one append (domain.treaty.count_deposits) -----------
#
# The import tells the treaty process of all its deposits in one Update, in date order
# (then ISO3); the treaty process counts them in one append. CCM Art. 17(1) counts
# instruments by date: the record must be the one of counting them one by one in date
# order, as separate signals did.


def _count(
    state: t.TreatyState, deposits: list[tuple[str, date]]
) -> tuple[t.TreatyState, list[DomainEvent]]:
    """Count ``deposits`` one by one in the order given (decide, evolve): the reference."""
    events: list[DomainEvent] = []
    for iso3, day in deposits:
        new = t.decide(state, t.CountDeposit(state=iso3, deposited_on=day), CCM, TODAY)
        for event in new:
            state = t.evolve(state, event)
        events += new
    return state, events


def _at_once(
    state: t.TreatyState, deposits: list[tuple[str, date]]
) -> tuple[t.TreatyState, list[DomainEvent], list[tuple[t.CountDeposit, str]]]:
    """Count ``deposits`` as the treaty process's ``count_deposits`` Update does."""
    commands = [t.CountDeposit(state=s, deposited_on=d) for s, d in deposits]
    events, refused = t.count_deposits(state, commands, CCM, TODAY)
    return t.fold(state, events), events, refused


TODAY = date(2026, 1, 1)


def _date_order(deposits: list[tuple[str, date]]) -> list[tuple[str, date]]:
    return sorted(deposits, key=lambda d: (d[1], d[0]))


def _table_deposits() -> list[tuple[str, date]]:
    rows, _ = status_table.read_table(STATUS)
    return [(row.state, row.deposited_on) for row in rows if row.deposited_on is not None]


STATEMENT = CCM_STATEMENT


def _with_statement() -> t.TreatyState:
    state = t.initial_state("CCM")
    for event in t.decide(state, STATEMENT, CCM, TODAY):
        state = t.evolve(state, event)
    return state


def test_real_table_at_once_fixes_the_date_of_date_order_once() -> None:
    # examples/ccm/status.csv has 74 deposits; the 30th by date in this partial table is
    # Comoros, 28 Jul 2010 (Malta, San Marino and Uruguay are missing): CCM Art. 17(1),
    # first day of the sixth month after, 1 Jan 2011
    deposits = _date_order(_table_deposits())
    state, events, refused = _at_once(t.initial_state("CCM"), deposits)
    fixed = [e for e in events if isinstance(e, TreatyEntryIntoForceFixed)]
    assert [(e.in_force_on, e.threshold_deposited_on) for e in fixed] == [
        (date(2011, 1, 1), date(2010, 7, 28))
    ]
    assert state.in_force_on == date(2011, 1, 1) and len(state.deposits) == 74
    counted = [e for e in events if isinstance(e, DepositCounted)]
    assert [e.count for e in counted] == list(range(1, 75))
    assert refused == []
    assert events == _count(t.initial_state("CCM"), deposits)[1]


def test_real_table_after_the_statement_notes_the_discrepancy_once() -> None:
    # the depositary's 1 Aug 2010 prevails; the partial table gives 1 Jan 2011, noted once,
    # with 27 of the first 30 by date deposited by 16 Feb 2010 (in time for 1 Aug 2010)
    deposits = _date_order(_table_deposits())
    state, events, _ = _at_once(_with_statement(), deposits)
    noted = [e for e in events if isinstance(e, EntryIntoForceDiscrepancyNoted)]
    assert [(e.computed_on, e.deposits_in_time, e.occurred_on) for e in noted] == [
        (date(2011, 1, 1), 27, date(2010, 7, 28))
    ]
    assert not [e for e in events if isinstance(e, TreatyEntryIntoForceFixed)]
    assert (state.in_force_on, state.basis) == (date(2010, 8, 1), "depositary")
    assert events == _count(_with_statement(), deposits)[1]


def test_a_count_refused_leaves_the_others_counted() -> None:
    # a State deposits one instrument: counted on 1 Mar 2009, another date is refused
    # (idempotent for the same date)
    base, _ = _count(t.initial_state("CCM"), [("NOR", date(2009, 3, 1))])
    deposits = [("NOR", date(2009, 3, 1)), ("NOR", date(2009, 4, 1)), ("AUT", date(2009, 4, 2))]
    state, events, refused = _at_once(base, deposits)
    assert [(c.state, c.deposited_on) for c, _ in refused] == [("NOR", date(2009, 4, 1))]
    assert "already counted on 2009-03-01" in refused[0][1]
    assert [(e.state, e.count) for e in events if isinstance(e, DepositCounted)] == [("AUT", 2)]
    assert state.deposits == {"NOR": date(2009, 3, 1), "AUT": date(2009, 4, 2)}


@settings(max_examples=60, deadline=None)
@given(
    counted_days=st.lists(st.integers(0, 40), max_size=35),
    pending_days=st.lists(st.integers(0, 40), min_size=25, max_size=45),
    statement=st.booleans(),
)
def test_counting_at_once_records_what_counting_one_by_one_records(
    counted_days: list[int], pending_days: list[int], statement: bool
) -> None:
    start = date(2009, 1, 1)
    base = _with_statement() if statement else t.initial_state("CCM")
    base, _ = _count(
        base, [(f"C{i:02d}", start + timedelta(days=n)) for i, n in enumerate(counted_days)]
    )
    pending = _date_order(
        [(f"P{i:02d}", start + timedelta(days=n)) for i, n in enumerate(pending_days)]
    )
    after, events, refused = _at_once(base, pending)
    one_by_one, expected = _count(base, pending)
    assert refused == []
    assert events == expected
    assert after == one_by_one
