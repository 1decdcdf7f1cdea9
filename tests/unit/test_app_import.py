"""Import acceptance (``app.status_table.read_table`` / ``plan``, ``app.service.accept_rows``
and ``predicted_context``) on the real CCM status table, in the shared data and in
``examples/``, without a server. CCM Art. 17(1): in force on the first day of the sixth
month after the month of the 30th instrument; the depositary: 16 Feb 2010, so 1 Aug 2010.
CCM Art. 15: open for signature until its entry into force."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from adapters import status_table
from app import importer, service
from domain import ratification as r
from domain import treaty as t
from domain.treaties import CCM
from tests import SHARED_DATA, STATUS_CSV
from tests.unit.record import TODAY, planned_rows, treaty_with_statement

TABLES = [SHARED_DATA / "ccm_status.csv", STATUS_CSV]


def sixth_month_after(day: date) -> date:
    """The first day of the sixth month after the month of ``day`` (CCM Art. 17)."""
    month = day.month + 6
    return date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


@pytest.mark.parametrize("path", TABLES, ids=["shared", "examples"])
def test_the_table_reads_whole_and_each_row_plans_what_it_says(path: Path) -> None:
    rows, errors = status_table.read_table(path)
    with path.open(encoding="utf-8", newline="") as f:
        raw = list(csv.DictReader(f))
    assert errors == [] and len(rows) == len(raw) == 79
    by_state = {row.state: row for row in rows}
    # Lithuania: ratification deposited 24 Mar 2011, signature date not in the source
    ltu = importer.plan(by_state["LTU"], r.initial_state("CCM", "LTU"))
    assert ltu.commands == [
        r.Sign(signed_on=None),
        r.Deposit(instrument="ratification", deposited_on=date(2011, 3, 24)),
    ]
    assert ltu.signature_unknown and ltu.refused is None
    # Angola: a signatory only (3 Dec 2008, the Oslo signing conference)
    assert importer.plan(by_state["AGO"], r.initial_state("CCM", "AGO")).commands == [
        r.Sign(signed_on=date(2008, 12, 3))
    ]


def test_a_row_that_contradicts_the_record_is_refused() -> None:
    rows, _ = status_table.read_table(STATUS_CSV)
    [ltu_row] = [row for row in rows if row.state == "LTU"]
    current = r.initial_state("CCM", "LTU")
    for command in (
        r.Sign(signed_on=None),
        r.Deposit(instrument="ratification", deposited_on=date(2011, 3, 25)),
    ):
        current = r.fold(current, r.decide(current, command, CCM, r.TreatyContext(), TODAY))
    plan = importer.plan(ltu_row, current)
    assert plan.commands == [] and plan.refused is not None
    assert "deposited on 2011-03-25, the row says ratification on 2011-03-24" in plan.refused


@pytest.mark.parametrize("path", TABLES, ids=["shared", "examples"])
def test_the_table_alone_fixes_the_date_its_own_thirtieth_deposit_gives(path: Path) -> None:
    """The table lacks some early deposits: alone, its own 30th deposit by date (Comoros,
    28 Jul 2010) fixes the date, 1 Jan 2011."""
    planned = planned_rows(path)
    deposits = sorted(p.row.deposited_on for p in planned if p.row.deposited_on)
    thirtieth = deposits[29]
    accepted, refused, context = service.accept_rows(planned, t.initial_state("CCM"), TODAY)
    assert refused == [] and len(accepted) == 79
    assert (context.threshold_deposited_on, context.in_force_on) == (
        thirtieth,
        sixth_month_after(thirtieth),
    )
    assert (thirtieth, context.in_force_on) == (date(2010, 7, 28), date(2011, 1, 1))


def test_after_the_depositarys_statement_the_table_keeps_its_date() -> None:
    treaty, _ = treaty_with_statement()
    accepted, refused, context = service.accept_rows(planned_rows(STATUS_CSV), treaty, TODAY)
    assert refused == [] and len(accepted) == 79
    assert context == r.TreatyContext(
        in_force_on=date(2010, 8, 1), threshold_deposited_on=date(2010, 2, 16), basis="depositary"
    )
    assert sixth_month_after(date(2010, 2, 16)) == context.in_force_on


def test_a_signature_after_entry_into_force_is_refused_and_moves_nothing() -> None:
    """CCM Art. 15: a signature dated after 1 Aug 2010 is refused (accession only); the
    other rows are checked against the same date."""
    treaty, _ = treaty_with_statement()
    late = status_table.parse_row(
        81,
        {
            "state": "Tuvalu",
            "signature_date": "2010-09-01",
            "instrument": "",
            "deposit_date": "",
            "source": "test",
        },
    )
    assert isinstance(late, status_table.Row)
    plan = importer.plan(late, r.initial_state("CCM", "TUV"))
    tuvalu = service._Planned(late, r.initial_state("CCM", "TUV"), False, plan.commands, False)
    accepted, refused, context = service.accept_rows(
        [*planned_rows(STATUS_CSV), tuvalu], treaty, TODAY
    )
    assert [p.row.state for p, _ in refused] == ["TUV"]
    assert "2010-08-01" in refused[0][1]
    assert len(accepted) == 79 and context.in_force_on == date(2010, 8, 1)


def test_predicted_context_counts_in_date_order() -> None:
    """The table's 27 deposits up to 16 Feb 2010 and three more that day, given latest
    first: the 30th is dated 16 Feb 2010, so 1 Aug 2010 (Art. 17(1)); one fewer and the
    date is not fixed."""
    planned = planned_rows(STATUS_CSV)
    early = [(p.row.state, p.row.deposited_on) for p in planned if p.row.deposited_on]
    early = [(state, day) for state, day in early if day <= date(2010, 2, 16)]
    assert len(early) == 27
    signatories = [p.row.state for p in planned if p.row.deposited_on is None][:3]
    thirty = sorted(early, key=lambda d: d[1]) + [(s, date(2010, 2, 16)) for s in signatories]
    context = service.predicted_context(t.initial_state("CCM"), thirty[::-1], TODAY)
    assert (context.in_force_on, context.basis) == (date(2010, 8, 1), "computed")
    assert service.predicted_context(t.initial_state("CCM"), thirty[1:], TODAY).in_force_on is None
