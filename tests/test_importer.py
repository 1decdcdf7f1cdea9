"""Reading and planning a depositary status table (pure: no servers)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import importer
from domain import ratification as r
from domain import treaty as t
from domain.events import (
    DepositCounted,
    DomainEvent,
    EntryIntoForceDiscrepancyNoted,
    TreatyEntryIntoForceFixed,
)
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
    with pytest.raises(importer.TableError, match=re.escape(message)):
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


# --- deposits in batches (next_deposit_batch) ---------------------------------------------
#
# The treaty process's record when deposits are counted in the batches the import sends
# (any order inside a concurrent batch) must be the record of date order, but for the rank
# (``count``) of each DepositCounted and the order of those events: CCM Art. 17(1) counts
# instruments by date.


def _count(
    state: t.TreatyState, deposits: list[tuple[str, date]]
) -> tuple[t.TreatyState, list[DomainEvent]]:
    """Count ``deposits`` in the order given, as the treaty process does (decide, evolve)."""
    events: list[DomainEvent] = []
    for iso3, day in deposits:
        new = t.decide(state, t.CountDeposit(state=iso3, deposited_on=day), CCM, date(2026, 1, 1))
        for event in new:
            state = t.evolve(state, event)
        events += new
    return state, events


def _in_batches(
    state: t.TreatyState, pending: list[tuple[str, date]], shuffle: Callable[[list], list]
) -> tuple[t.TreatyState, list[DomainEvent], list[bool]]:
    """Count ``pending`` batch by batch as the import sends them, each concurrent batch in
    the order ``shuffle`` gives; also whether each batch was concurrent."""
    pending = sorted(pending, key=lambda d: (d[1], d[0]))
    events: list[DomainEvent] = []
    kinds: list[bool] = []
    while pending:
        batch = importer.next_deposit_batch(state.deposits, pending, CCM.eif_threshold)
        assert batch.indices, "an empty batch would never end"
        chosen = [pending[i] for i in batch.indices]
        if batch.concurrent:
            chosen = shuffle(chosen)
        else:
            assert chosen == sorted(chosen, key=lambda d: (d[1], d[0]))
        state, new = _count(state, chosen)
        events += new
        kinds.append(batch.concurrent)
        pending = [d for i, d in enumerate(pending) if i not in set(batch.indices)]
    return state, events, kinds


def _date_order(deposits: list[tuple[str, date]]) -> list[tuple[str, date]]:
    return sorted(deposits, key=lambda d: (d[1], d[0]))


def _facts(events: list[DomainEvent]) -> tuple[list[DomainEvent], set[tuple[str, date]]]:
    """The events but DepositCounted, in order, and the deposits counted (State, date)."""
    others = [e for e in events if not isinstance(e, DepositCounted)]
    counted = {(e.state, e.occurred_on) for e in events if isinstance(e, DepositCounted)}
    return others, counted


def _table_deposits() -> list[tuple[str, date]]:
    rows, _ = importer.read_table(STATUS)
    return [(row.state, row.deposited_on) for row in rows if row.deposited_on is not None]


STATEMENT = t.RecordDepositaryStatement(
    in_force_on=date(2010, 8, 1),
    threshold_deposited_on=date(2010, 2, 16),
    statement="UNTC XXVI-6: in force 1 August 2010 (art. 17(1))",
)


def _with_statement() -> t.TreatyState:
    state = t.initial_state("CCM")
    for event in t.decide(state, STATEMENT, CCM, date(2026, 1, 1)):
        state = t.evolve(state, event)
    return state


def test_real_table_in_batches_fixes_the_date_of_date_order_once() -> None:
    # examples/ccm/status.csv has 74 deposits; the 30th by date in this partial table is
    # Comoros, 28 Jul 2010 (Malta, San Marino and Uruguay are missing): CCM Art. 17(1),
    # first day of the sixth month after, 1 Jan 2011
    deposits = _table_deposits()
    state, events, kinds = _in_batches(t.initial_state("CCM"), deposits, lambda b: b[::-1])
    fixed = [e for e in events if isinstance(e, TreatyEntryIntoForceFixed)]
    assert [(e.in_force_on, e.threshold_deposited_on) for e in fixed] == [
        (date(2011, 1, 1), date(2010, 7, 28))
    ]
    assert state.in_force_on == date(2011, 1, 1) and len(state.deposits) == 74
    # the 29 deposits before 28 Jul 2010 together, Comoros alone, the 44 after together
    assert kinds == [True, False, True]
    assert _facts(events) == _facts(_count(t.initial_state("CCM"), _date_order(deposits))[1])


def test_real_table_after_the_statement_notes_the_discrepancy_of_date_order() -> None:
    # the depositary's 1 Aug 2010 prevails; the partial table gives 1 Jan 2011, noted once,
    # with 27 of the first 30 by date deposited by 16 Feb 2010 (in time for 1 Aug 2010)
    deposits = _table_deposits()
    state, events, _ = _in_batches(_with_statement(), deposits, lambda b: b[::-1])
    noted = [e for e in events if isinstance(e, EntryIntoForceDiscrepancyNoted)]
    assert [(e.computed_on, e.deposits_in_time, e.occurred_on) for e in noted] == [
        (date(2011, 1, 1), 27, date(2010, 7, 28))
    ]
    assert not [e for e in events if isinstance(e, TreatyEntryIntoForceFixed)]
    assert (state.in_force_on, state.basis) == (date(2010, 8, 1), "depositary")
    assert _facts(events) == _facts(_count(_with_statement(), _date_order(deposits))[1])


def test_ties_on_the_threshold_date_go_one_by_one_in_date_order() -> None:
    # the 29th and 30th CCM instruments were deposited on the same day (16 Feb 2010, BFA
    # and MDA): with the statement on record, which of them reaches the threshold decides
    # how many of the counted set are in time; date order's set must be kept
    day = date(2010, 2, 16)
    early = [(f"S{i:02d}", date(2009, 1, 1) + timedelta(days=i)) for i in range(28)]
    ties = [("BFA", day), ("MDA", day), ("ZZZ", day)]
    late = [("NLD", date(2011, 2, 23))]
    batch = importer.next_deposit_batch({}, early + ties + late, 30)
    assert batch == importer.DepositBatch(list(range(28)), concurrent=True)
    counted = dict(early)
    batch = importer.next_deposit_batch(counted, ties + late, 30)
    assert batch == importer.DepositBatch([0, 1, 2], concurrent=False)
    batch = importer.next_deposit_batch({**counted, **dict(ties)}, late, 30)
    assert batch == importer.DepositBatch([0], concurrent=True)


def test_the_deposit_reaching_the_threshold_is_date_orders_among_ties() -> None:
    # statement on record (1 Aug 2010); 28 deposits in Jan 2009, then 3 on 1 Mar 2009: by
    # date order the 30th is one of the 1 Mar deposits, so the record gives 1 Sep 2009
    # (CCM Art. 17(1)) and the discrepancy is noted on 1 Mar 2009. Sent all together, a
    # January deposit could be the one counted 30th and the note would bear its date.
    pending = [(f"P{i:02d}", date(2009, 1, 1 + i)) for i in range(28)]
    pending += [(f"Q{i}", date(2009, 3, 1)) for i in range(3)]
    _, events, kinds = _in_batches(_with_statement(), pending, lambda b: b[::-1])
    assert kinds == [True, False]  # January together, then the ties one by one
    noted = [e for e in events if isinstance(e, EntryIntoForceDiscrepancyNoted)]
    assert [(e.occurred_on, e.computed_on, e.deposits_in_time) for e in noted] == [
        (date(2009, 3, 1), date(2009, 9, 1), 30)
    ]
    assert _facts(events) == _facts(_count(_with_statement(), _date_order(pending))[1])


def test_an_earlier_deposit_after_later_ones_were_counted_goes_in_date_order() -> None:
    # 30 deposits counted from 2011 (date fixed from the 30th of them); an import then adds
    # deposits from 2009: the threshold deposit moves, so date order it is
    counted = {f"S{i:02d}": date(2011, 1, 1) + timedelta(days=i) for i in range(30)}
    pending = [(f"E{i:02d}", date(2009, 1, 1) + timedelta(days=i)) for i in range(5)]
    assert importer.next_deposit_batch(counted, pending, 30) == importer.DepositBatch(
        list(range(5)), concurrent=False
    )


def test_fewer_deposits_than_the_threshold_or_the_date_unchanged_go_together() -> None:
    pending = [(f"S{i:02d}", date(2009, 1, 1) + timedelta(days=i)) for i in range(29)]
    assert importer.next_deposit_batch({}, pending, 30).concurrent
    # a re-import adding later deposits to 30 counted: the 30th stays the threshold
    counted = {f"S{i:02d}": date(2009, 1, 1) + timedelta(days=i) for i in range(30)}
    later = [("NLD", date(2011, 2, 23)), ("BGR", date(2011, 4, 6))]
    assert importer.next_deposit_batch(counted, later, 30) == importer.DepositBatch(
        [0, 1], concurrent=True
    )


@settings(max_examples=60, deadline=None)
@given(
    counted_days=st.lists(st.integers(0, 40), max_size=35),
    pending_days=st.lists(st.integers(0, 40), min_size=25, max_size=45),
    statement=st.booleans(),
    seed=st.randoms(use_true_random=False),
)
def test_any_order_inside_the_batches_records_what_date_order_records(
    counted_days: list[int],
    pending_days: list[int],
    statement: bool,
    seed: random.Random,
) -> None:
    start = date(2009, 1, 1)
    base = _with_statement() if statement else t.initial_state("CCM")
    base, _ = _count(
        base, [(f"C{i:02d}", start + timedelta(days=n)) for i, n in enumerate(counted_days)]
    )
    pending = [(f"P{i:02d}", start + timedelta(days=n)) for i, n in enumerate(pending_days)]

    def shuffle(batch: list) -> list:
        batch = list(batch)
        seed.shuffle(batch)
        return batch

    after, events, _ = _in_batches(base, pending, shuffle)
    in_order, expected = _count(base, _date_order(pending))
    assert _facts(events) == _facts(expected)
    assert after.model_dump(exclude={"version"}) == in_order.model_dump(exclude={"version"})
