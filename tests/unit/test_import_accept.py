"""Which rows of a status table an import accepts (``app.service.accept_rows``; pure: no
servers). A row's validity can depend on the treaty's entry into force, which the
table's own deposits fix: a signature only until that date (ATT Art. 21(1)), an ATT
accession only after it (ATT Art. 21(3)). The rows accepted must be valid under the date
the accepted rows give, and a refused row must not move that date.

Dates (ATT Art. 22(1): in force on the ninetieth day after the 50th instrument): 50
ratifications deposited one a day from 16 Jul 2014, the 50th on 3 Sep 2014, so in force on
2 Dec 2014. An accession of 1 Feb 2014 counted with them would make the 49th ratification
(2 Sep 2014) the 50th instrument and the date 1 Dec 2014.
"""

from __future__ import annotations

from datetime import date, timedelta

from adapters import status_table
from app import importer, service
from domain import ratification as r
from domain import treaty as t
from domain.states import all_states

TODAY = date(2026, 11, 29)
CODES = sorted(p.code for p in all_states() if p.code not in ("CYP", "MNG"))[:50]


def _row(line: int, state: str, signed: str, instrument: str, deposited: str) -> status_table.Row:
    parsed = status_table.parse_row(
        line,
        {
            "state": state,
            "signature_date": signed,
            "instrument": instrument,
            "deposit_date": deposited,
            "source": "test",
        },
    )
    assert isinstance(parsed, status_table.Row), parsed
    return parsed


def _planned(rows: list[status_table.Row]) -> list[service._Planned]:
    out = []
    for row in rows:
        current = r.initial_state("ATT", row.state)
        plan = importer.plan(row, current)
        out.append(service._Planned(row, current, False, plan.commands, plan.signature_unknown))
    return out


def _ratifications() -> list[status_table.Row]:
    first = date(2014, 7, 16)
    return [
        _row(i + 2, code, "2013-06-03", "ratification", (first + timedelta(days=i)).isoformat())
        for i, code in enumerate(CODES)
    ]


def test_a_refused_accession_does_not_move_the_date_the_other_rows_are_checked_against() -> None:
    rows = _ratifications()
    assert rows[-1].deposited_on == date(2014, 9, 3)
    cyprus = _row(52, "Cyprus", "", "accession", "2014-02-01")
    mongolia = _row(53, "Mongolia", "2014-12-01", "", "")  # the day before 2 Dec 2014
    accepted, refused, context = service.accept_rows(
        _planned([*rows, cyprus, mongolia]), t.initial_state("ATT"), TODAY
    )
    assert context.in_force_on == date(2014, 12, 2)
    assert [(p.row.state, "open for accession only after" in why) for p, why in refused] == [
        ("CYP", True)
    ]
    assert [p.row.state for p in accepted] == [*CODES, "MNG"]


def test_a_signature_on_the_date_the_table_fixes_is_refused() -> None:
    rows = _ratifications()
    late = _row(52, "Mongolia", "2014-12-02", "", "")
    accepted, refused, context = service.accept_rows(
        _planned([*rows, late]), t.initial_state("ATT"), TODAY
    )
    assert context.in_force_on == date(2014, 12, 2)
    assert [p.row.state for p, _ in refused] == ["MNG"]
    assert "open for signature only until its entry into force on 2014-12-02" in refused[0][1]
    assert len(accepted) == 50


def test_every_row_valid_is_accepted_at_once() -> None:
    rows = _ratifications()
    accession = _row(52, "Mongolia", "", "accession", "2016-01-01")
    accepted, refused, context = service.accept_rows(
        _planned([*rows, accession]), t.initial_state("ATT"), TODAY
    )
    assert refused == [] and len(accepted) == 51
    assert context.in_force_on == date(2014, 12, 2)
