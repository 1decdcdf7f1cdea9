"""The reporting guards of the CLI (``app.reporting.require_cycle``, ``require_due``) on a
2011 cycle opened from the States Parties the record holds (CCM Art. 7(2): annual reports
by 30 April, covering the previous calendar year; a State whose initial report, due 180
days after its entry into force under Art. 7(1), still runs on that day is not asked)."""

from __future__ import annotations

from datetime import date

import pytest

from app import reads
from app.errors import Refused
from app.reporting import require_cycle, require_due
from domain import reporting as rp
from domain.treaties import CCM
from eventstore.recorder import InMemoryRecorder

TODAY = date(2026, 11, 29)


async def cycle_2011(recorder: InMemoryRecorder) -> rp.CycleState:
    parties = [
        rp.Party(state=s.state, in_force_on=s.in_force_on)
        for s in await reads.ratifications(recorder, "CCM")
        if s.in_force_on is not None
    ]
    state = rp.initial_cycle_state("CCM", 2011)
    for event in rp.decide_cycle(state, rp.OpenCycle(parties=parties), CCM, TODAY):
        state = rp.evolve_cycle(state, event)
    return state


def test_a_cycle_not_opened_is_refused_saying_what_to_run() -> None:
    cycle = rp.initial_cycle_state("CCM", 2011)
    with pytest.raises(Refused, match="`treaty reporting open --treaty CCM --year 2011`"):
        require_cycle(cycle, "CCM", 2011, TODAY)
    with pytest.raises(Refused, match="2030 is in the future"):
        require_cycle(rp.initial_cycle_state("CCM", 2030), "CCM", 2030, TODAY)


async def test_only_the_states_the_cycle_asks_owe_a_report(
    ccm_recorder: InMemoryRecorder,
) -> None:
    cycle = require_cycle(await cycle_2011(ccm_recorder), "CCM", 2011, TODAY)
    assert cycle.due_on == date(2011, 4, 30)
    # France: in force 1 Aug 2010, initial report due 28 Jan 2011: owes the 2011 report
    require_due(cycle, "FRA")
    # Bulgaria: deposit 6 Apr 2011, in force 1 Oct 2011: nothing due in 2011
    with pytest.raises(Refused, match=r"no 2011 annual report is due from BGR") as err:
        require_due(cycle, "BGR")
    assert f"asks {len(cycle.states)} States: ALB, " in str(err.value)
    # Ecuador: in force 1 Nov 2010, its initial report due 30 Apr 2011 (Art. 7(1))
    with pytest.raises(Refused, match=r"ECU \(in force 2010-11-01; initial report due 2011-04-30"):
        require_due(cycle, "ECU")
    with pytest.raises(Refused, match="not a State Party in force in the record"):
        require_due(cycle, "USA")
