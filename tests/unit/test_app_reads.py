"""The read models (``app.reads``) on the in-memory recorder holding the real CCM record
(:mod:`tests.unit.record`), as they run on PostgreSQL. Values from the treaty text and the
public record: CCM Art. 17(1) (in force 1 Aug 2010, the 30th instrument 16 Feb 2010),
Art. 17(2) (for a later deposit, the first day of the sixth month after it), Art. 20(3)
(a withdrawal takes effect six months after the depositary received it); Lithuania
deposited on 24 Mar 2011 and withdrew with effect from 6 Mar 2025."""

from __future__ import annotations

import csv
from datetime import date

from app import reads
from domain.states import resolve_state
from eventstore.recorder import InMemoryRecorder
from tests import STATUS_CSV

EIF = date(2010, 8, 1)
THRESHOLD = date(2010, 2, 16)


def table_deposits() -> dict[str, date]:
    """ISO3 -> deposit date, read from the table with the csv module alone."""
    with STATUS_CSV.open(encoding="utf-8", newline="") as f:
        return {
            resolve_state(row["state"]).code: date.fromisoformat(row["deposit_date"])
            for row in csv.DictReader(f)
            if row["deposit_date"]
        }


async def test_lithuania_in_force_six_months_after_its_deposit_then_withdrawn(
    ccm_recorder: InMemoryRecorder,
) -> None:
    [ltu] = await reads.state_status(ccm_recorder, "CCM", "LTU")
    assert ltu.consented_on == date(2011, 3, 24)
    assert ltu.in_force_on == date(2011, 9, 1)  # Art. 17(2)
    assert ltu.withdrawn_on == date(2025, 3, 6)  # Art. 20(3): received 6 Sep 2024
    assert reads.status_row(ltu)["name"] == "Lithuania"
    assert await reads.state_status(ccm_recorder, "CCM", "USA") == []  # nothing recorded


async def test_every_process_of_the_table_folded_from_its_stream(
    ccm_recorder: InMemoryRecorder,
) -> None:
    states = await reads.ratifications(ccm_recorder, "CCM")
    by_code = {s.state: s for s in states}
    assert [s.state for s in states] == sorted(by_code) and len(states) == 79
    deposits = table_deposits()
    assert {c: s.consented_on for c, s in by_code.items() if s.consented_on} == deposits
    # the 30th instrument (Burkina Faso and Moldova, 16 Feb 2010): in force with the
    # Convention (Art. 17(1)); Bulgaria (6 Apr 2011): 1 Oct 2011 (Art. 17(2))
    assert by_code["BFA"].in_force_on == by_code["MDA"].in_force_on == EIF
    assert by_code["BGR"].in_force_on == date(2011, 10, 1)
    for code, deposited in deposits.items():  # no State before the Convention itself
        assert by_code[code].in_force_on >= EIF, code
        if deposited <= THRESHOLD:
            assert by_code[code].in_force_on == EIF, code
    treaty = await reads.treaty_state(ccm_recorder, "CCM")
    assert (treaty.in_force_on, treaty.threshold_deposited_on) == (EIF, THRESHOLD)


async def test_parties_as_of_count_consent_and_entry_into_force_apart(
    ccm_recorder: InMemoryRecorder,
) -> None:
    deposits = table_deposits()
    on_eif = await reads.parties(ccm_recorder, "CCM", EIF)
    assert on_eif.consented == sorted(c for c, d in deposits.items() if d <= EIF)
    assert on_eif.in_force == sorted(c for c, d in deposits.items() if d <= THRESHOLD)
    consented = await reads.parties(ccm_recorder, "CCM", date(2011, 6, 1))
    assert "LTU" in consented.consented and "LTU" not in consented.in_force
    for day in (date(2011, 9, 1), date(2025, 3, 5)):
        bound = await reads.parties(ccm_recorder, "CCM", day)
        assert "LTU" in bound.consented and "LTU" in bound.in_force, day
    withdrawn = await reads.parties(ccm_recorder, "CCM", date(2025, 3, 6))
    assert "LTU" not in withdrawn.consented and "LTU" not in withdrawn.in_force
    assert len(withdrawn.consented) == len(deposits) - 1


async def test_parties_as_of_on_states_folded_from_the_whole_record(
    ccm_recorder: InMemoryRecorder,
) -> None:
    """Folded from the whole record, every date already fixed counts by today's knowledge:
    on 1 Jun 2011 Lithuania has consented, its entry into force (1 Sep 2011) not reached."""
    states = await reads.ratifications(ccm_recorder, "CCM")
    parties = reads.parties_as_of(states, date(2011, 6, 1))
    assert "LTU" in parties.consented and "LTU" not in parties.in_force
    assert parties == await reads.parties(ccm_recorder, "CCM", date(2011, 6, 1))
