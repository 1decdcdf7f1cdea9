"""Importing the depositary's complete record on the domain and the read models (no
server): successions, withdrawals, provisional application, end notes, the dates a record
lacked, and a row that contradicts the record.

Truth: the UNTC status pages of 3 Feb 2026 and the tables taken from them
(``shared/data``): CCM 112 Parties (Lithuania withdrew: received 6 Sep 2024, effective 6
Mar 2025, CCM Art. 20(3): six months after receipt), in force for 111 (Vanuatu acceded 5
Sep 2025, bound from 1 Mar 2026, Art. 17(2)); APMBC 162 Parties, Montenegro (notification
received 23 Oct 2006) and South Sudan (11 Nov 2011) by succession, dates of succession 3 Jun
2006 and 9 Jul 2011.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from adapters.depositary import read_record
from adapters.status_table import Note, Row
from app import importer, reads
from domain import ratification as r
from domain.errors import DomainError
from domain.events import SignatureDateRecorded, WithdrawalDeposited, event_from_record
from domain.treaties import APMBC
from tests import SHARED_DATA, STATUS_CSV
from tests.status_rows import APMBC_2026, CCM_2026, POLAND_CONDITION, STATUS_AS_AT, shared_rows
from tests.support import APMBC_STATEMENT
from tests.unit.import_support import Imported, import_rows, imported_table, run_commands

APMBC_CONTEXT = r.TreatyContext(
    in_force_on=date(1999, 3, 1), threshold_deposited_on=date(1998, 9, 16), basis="computed"
)
"""APMBC Art. 17(1): the 40th instrument on 16 Sep 1998, in force 1 Mar 1999."""


def row_of(path: object, state: str) -> Row:
    [row] = [x for x in shared_rows(path) if x.state == state]  # type: ignore[arg-type]
    return row


@pytest.fixture(scope="module")
def ccm() -> Imported:
    return imported_table("CCM", shared_rows(CCM_2026))


@pytest.fixture(scope="module")
def apmbc() -> Imported:
    return imported_table("APMBC", shared_rows(APMBC_2026))


# --- succession -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "notified", "succeeded"),
    [("MNE", date(2006, 10, 23), date(2006, 6, 3)), ("SSD", date(2011, 11, 11), date(2011, 7, 9))],
)
def test_a_successor_state_is_bound_from_the_succession(
    state: str, notified: date, succeeded: date
) -> None:
    row = dataclasses.replace(row_of(APMBC_2026, state), succession_on=succeeded)
    plan = importer.plan(row, r.initial_state("APMBC", state))
    # no signature: a successor State signs nothing
    assert plan.commands == [
        r.Deposit(instrument="succession", deposited_on=notified, succession_on=succeeded)
    ]
    assert not plan.succession_date_unknown and plan.refused is None
    start = r.initial_state("APMBC", state)
    s = r.fold(start, run_commands(start, plan.commands, APMBC_CONTEXT))
    assert (s.signed, s.instrument, s.consented_on) == (False, "succession", notified)
    assert (s.succession_on, s.in_force_on) == (succeeded, succeeded)
    assert "23(1)" in (s.eif_article or "")  # VCSST Art. 23(1), not the APMBC's Art. 17
    assert not s.succession_date_unknown


async def test_a_succession_without_its_date_counts_from_the_notification() -> None:
    row = row_of(APMBC_2026, "MNE")
    assert row.succession_on is None  # the table does not give it
    current = r.initial_state("APMBC", "MNE")
    plan = importer.plan(row, current)
    assert plan.succession_date_unknown
    record = imported_table("APMBC", [row], APMBC_STATEMENT)
    s = record.states["MNE"]
    assert s.succession_date_unknown and s.succession_on is None
    # bound no later than its notification of 23 Oct 2006: the record says so
    assert s.in_force_on == date(2006, 10, 23)
    assert "not on record" in (s.eif_article or "")
    # its obligations run from that date, the latest it can be: the initial report 180
    # days after (APMBC Art. 7(1)), 21 Apr 2007
    assert s.obligations["initial-report"].due_on == date(2007, 4, 21)
    status = reads.status_row(s)
    assert status["succession_date_unknown"] is True and status["succession_on"] is None
    recorder = await record.recorder()
    before = await reads.parties(recorder, "APMBC", date(2006, 10, 22))
    after = await reads.parties(recorder, "APMBC", date(2006, 10, 23))
    assert "MNE" not in before.consented and "MNE" not in before.in_force
    assert "MNE" in after.consented and "MNE" in after.in_force


def test_the_date_of_succession_given_later_fixes_the_entry_into_force_again() -> None:
    record = imported_table("APMBC", [row_of(APMBC_2026, "MNE")], APMBC_STATEMENT)
    with_date = dataclasses.replace(row_of(APMBC_2026, "MNE"), succession_on=date(2006, 6, 3))
    plan = importer.plan(with_date, record.states["MNE"])
    assert plan.commands == [r.RecordSuccessionDate(succeeded_on=date(2006, 6, 3))]
    assert plan.filled == ["date of succession 2006-06-03"]
    import_rows(record, [with_date])
    assert record.states["MNE"].in_force_on == date(2006, 6, 3)
    # once known, another date is refused naming both
    other = dataclasses.replace(with_date, succession_on=date(2006, 6, 4))
    refusal = importer.plan(other, record.states["MNE"]).refused or ""
    assert "2006-06-03" in refusal and "2006-06-04" in refusal and "the row says" in refusal


def test_a_successor_state_records_no_signature() -> None:
    row = dataclasses.replace(row_of(APMBC_2026, "SSD"), signed_on=date(2011, 7, 9))
    assert "signs nothing" in (importer.plan(row, r.initial_state("APMBC", "SSD")).refused or "")
    start = r.initial_state("APMBC", "SSD")
    signed = r.fold(start, run_commands(start, [r.Sign(signed_on=None)], APMBC_CONTEXT))
    succession = r.Deposit(instrument="succession", deposited_on=date(2011, 11, 11))
    with pytest.raises(DomainError, match="signs nothing"):
        r.decide(signed, succession, APMBC, APMBC_CONTEXT, date(2026, 1, 1))


def test_a_date_of_succession_after_the_notification_is_refused() -> None:
    late = r.Deposit(
        instrument="succession", deposited_on=date(2011, 11, 11), succession_on=date(2011, 11, 12)
    )
    with pytest.raises(DomainError, match="succession of States comes first"):
        r.check_command(late, APMBC, date(2026, 1, 1))


# --- withdrawal ---------------------------------------------------------------------------


def test_a_withdrawal_row_records_the_withdrawal_by_the_treaty_rule(ccm: Imported) -> None:
    row = row_of(CCM_2026, "LTU")
    plan = importer.plan(row, r.initial_state("CCM", "LTU"))
    assert r.Withdraw(received_on=date(2024, 9, 6), stated_effective_on=date(2025, 3, 6)) in (
        plan.commands
    )
    assert plan.withdrawal is not None
    # CCM Art. 20(3): six months after receipt, as the depositary says
    assert plan.withdrawal.rule_effective_on == date(2025, 3, 6)
    assert plan.withdrawal.disagreement is None
    ltu = ccm.states["LTU"]
    assert (ltu.withdrawal_received_on, ltu.withdrawn_on) == (date(2024, 9, 6), date(2025, 3, 6))
    # its obligations ended with the withdrawal (none is still open)
    assert ltu.obligations and not any(o.is_open for o in ltu.obligations.values())
    # re-importing the row records nothing
    assert importer.plan(row, ltu).commands == []


def test_a_stated_date_that_disagrees_with_the_rule_is_reported() -> None:
    row = dataclasses.replace(row_of(CCM_2026, "LTU"), withdrawal_effective_on=date(2025, 3, 7))
    plan = importer.plan(row, r.initial_state("CCM", "LTU"))
    assert plan.refused is None and plan.withdrawal is not None
    said = plan.withdrawal.disagreement or ""
    assert "2025-03-07" in said and "2025-03-06" in said and "CCM Art. 20(3)" in said
    [withdraw] = [c for c in plan.commands if isinstance(c, r.Withdraw)]
    assert withdraw.stated_effective_on == date(2025, 3, 7)  # the record's date is kept


async def test_a_conditional_withdrawal_keeps_its_condition_and_waits_for_it() -> None:
    """Poland (APMBC): received 20 Aug 2025, in effect 20 Feb 2026 "subject to the
    condition" of Art. 20(3): not while engaged in an armed conflict."""
    row = dataclasses.replace(row_of(APMBC_2026, "POL"), withdrawal_condition=POLAND_CONDITION)
    record = imported_table("APMBC", [row], APMBC_STATEMENT)
    [deposited] = [e for e in record.events["POL"] if isinstance(e, WithdrawalDeposited)]
    assert deposited.condition == POLAND_CONDITION
    assert deposited.takes_effect_on == date(2026, 2, 20)
    recorder = await record.recorder()
    assert "POL" in (await reads.parties(recorder, "APMBC", STATUS_AS_AT)).consented
    # had an armed conflict been recorded when the period ended, it would wait for its end
    s = r.initial_state("APMBC", "POL")
    conflict = r.RecordArmedConflict(since=date(2025, 1, 1), description="a test's conflict")
    row_commands = importer.plan(row, s).commands
    events = run_commands(s, [*row_commands[:2], conflict, *row_commands[2:]], APMBC_CONTEXT)
    waiting = r.fold(s, events)
    assert waiting.withdrawal_deferred and waiting.withdrawn_on is None


# --- end notes, facts the record lacked, contradictions -------------------------------------


def test_end_notes_are_recorded_once() -> None:
    declaration = Note("declaration", "Until further notice, not the Faroe Islands.", "2")
    row = dataclasses.replace(
        row_of(CCM_2026, "DNK"), notes=(declaration, declaration, Note("note", "  ", None))
    )
    record = imported_table("CCM", [row])
    assert record.plans["DNK"].notes == 1
    assert record.states["DNK"].notes == (
        r.DepositaryNote(kind="declaration", text=declaration.text, mark="2"),
    )
    # the same file again: nothing; the same text under another mark is another note
    assert importer.plan(row, record.states["DNK"]).commands == []
    moved = dataclasses.replace(row, notes=(dataclasses.replace(declaration, mark="3"),))
    assert len(importer.plan(moved, record.states["DNK"]).commands) == 1


def test_the_2026_table_fills_the_signature_dates_the_demo_table_lacked() -> None:
    """examples/ccm/status.csv gives 14 ratifications without a signature date; the 2026
    table gives 13 of them (all 3 Dec 2008 but Iraq, 12 Nov 2009); Iraq's row is refused:
    the demo table has its deposit on 15 May 2013, the page 14 May 2013."""
    from adapters import status_table

    demo_rows, _ = status_table.read_table(STATUS_CSV)
    record = imported_table("CCM", demo_rows)
    unknown = {s for s, x in record.states.items() if x.signed and x.signed_on is None}
    assert len(unknown) == 14 and "LTU" in unknown
    import_rows(record, shared_rows(CCM_2026))
    filled = {
        s
        for s, events in record.events.items()
        if any(isinstance(e, SignatureDateRecorded) for e in events)
    }
    assert len(filled) == 13 and "LTU" in filled and "IRQ" not in filled
    assert record.states["LTU"].signed_on == date(2008, 12, 3)
    assert record.states["LTU"].provisional_application_on == date(2011, 3, 24)
    iraq = next(reason for line, reason in record.refused.items() if "IRQ" in reason)
    assert "2013-05-15" in iraq and "2013-05-14" in iraq


@pytest.mark.parametrize(
    ("change", "has", "says"),
    [
        ({"signed_on": date(2008, 12, 4)}, "2008-12-03", "2008-12-04"),
        ({"provisional_application_on": date(2011, 3, 25)}, "2011-03-24", "2011-03-25"),
        ({"withdrawal_received_on": date(2024, 9, 7)}, "2024-09-06", "2024-09-07"),
    ],
    ids=["signature", "provisional-application", "withdrawal"],
)
def test_a_value_that_contradicts_the_record_is_refused_naming_both(
    ccm: Imported, change: dict, has: str, says: str
) -> None:
    row = dataclasses.replace(row_of(CCM_2026, "LTU"), **change)
    plan = importer.plan(row, ccm.states["LTU"])
    assert plan.commands == [] and plan.refused is not None
    assert "the record has LTU's" in plan.refused and has in plan.refused
    assert f"the row says {says}" in plan.refused
    assert "correction" in plan.refused


def test_events_recorded_before_these_fields_still_fold() -> None:
    old = event_from_record(
        "InstrumentDeposited",
        {"occurred_on": "2011-03-24", "state": "LTU", "instrument": "ratification"},
    )
    s = r.evolve(r.initial_state("CCM", "LTU"), old)
    assert (s.consented_on, s.provisional_application_on, s.succession_on) == (
        date(2011, 3, 24),
        None,
        None,
    )
    withdrawal = event_from_record(
        "WithdrawalDeposited",
        {
            "occurred_on": "2024-09-06",
            "state": "LTU",
            "takes_effect_on": "2025-03-06",
            "article": "CCM Art. 20(3)",
        },
    )
    assert r.evolve(s, withdrawal).withdrawal_period_ends_on == date(2025, 3, 6)


# --- the whole tables: counts as the depositary's ---------------------------------------------


async def test_the_ccm_table_gives_the_depositarys_parties(ccm: Imported) -> None:
    assert ccm.refused == {}
    # CCM Art. 17(1): the 30th instrument on 16 Feb 2010 (Burkina Faso, Moldova)
    assert (ccm.treaty.in_force_on, ccm.treaty.threshold_deposited_on) == (
        date(2010, 8, 1),
        date(2010, 2, 16),
    )
    parties = await reads.parties(await ccm.recorder(), "CCM", STATUS_AS_AT)
    assert (len(parties.consented), len(parties.in_force)) == (112, 111)
    assert "LTU" not in parties.consented
    assert "VUT" in parties.consented and "VUT" not in parties.in_force
    assert ccm.states["VUT"].in_force_on == date(2026, 3, 1)  # CCM Art. 17(2)
    # Lithuania in both lists up to 5 Mar 2025
    before = await reads.parties(await ccm.recorder(), "CCM", date(2025, 3, 5))
    assert "LTU" in before.consented and "LTU" in before.in_force


async def test_the_apmbc_table_gives_the_depositarys_parties(apmbc: Imported) -> None:
    assert apmbc.refused == {}
    recorder = await apmbc.recorder()
    parties = await reads.parties(recorder, "APMBC", STATUS_AS_AT)
    assert len(parties.consented) == 162
    assert {"MNE", "SSD", "POL"} <= set(parties.consented)
    # the table gives no date of succession: both counted from their notification
    assert parties.succession_date_unknown == ["MNE", "SSD"]
    assert not {"EST", "LVA", "LTU", "FIN"} & set(parties.consented)
    assert (apmbc.states["MNE"].instrument, apmbc.states["SSD"].instrument) == (
        "succession",
        "succession",
    )
    # Estonia, Latvia and Lithuania out from 27 Dec 2025, Finland from 10 Jan 2026
    day_before = set((await reads.parties(recorder, "APMBC", date(2025, 12, 26))).consented)
    out_then = set((await reads.parties(recorder, "APMBC", date(2025, 12, 27))).consented)
    assert {"EST", "LVA", "LTU", "FIN"} <= day_before
    assert not {"EST", "LVA", "LTU"} & out_then and "FIN" in out_then
    assert "FIN" not in (await reads.parties(recorder, "APMBC", date(2026, 1, 10))).consented
    assert "POL" not in (await reads.parties(recorder, "APMBC", date(2026, 2, 20))).consented


@pytest.mark.parametrize(
    ("code", "page"), [("CCM", "XXVI-6.2026-02-03.html"), ("APMBC", "XXVI-5.2026-02-03.html")]
)
def test_every_row_of_the_depositarys_page_is_recorded_with_its_end_notes(
    code: str, page: str
) -> None:
    """Every participant of the UNTC page, end notes included (a withdrawal's end note
    among them), is recorded on an empty record: none refused."""
    rows = read_record(SHARED_DATA / "untc" / page).rows
    imported = imported_table(code, rows)
    assert imported.refused == {}
    kinds = {n.kind for row in rows for n in row.notes}
    assert "withdrawal" in kinds
