"""Scenario checking (``domain.scenario.plan_all`` / ``check_all`` through the scenario file
reader) against processes as the record holds them: the in-memory recorder with the real
CCM record, folded by the audit's path. The 24 Feb 2011 consultation
(``examples/ccm/2011-consultation.yaml``): Bulgaria "had finalized the domestic procedure
for ratification on 10 February" (2011); its deposit (6 Apr 2011) is already recorded."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import BaseModel

from adapters import scenario_file
from app import reads
from domain import ids, scenario
from domain import ratification as r
from domain.treaties import CCM
from eventstore.folding import fold_stored
from eventstore.recorder import InMemoryRecorder
from tests import ROOT

SCENARIO = ROOT / "examples" / "ccm" / "2011-consultation.yaml"
TODAY = date(2026, 11, 29)


async def recorded(
    recorder: InMemoryRecorder, steps: list[scenario.Step]
) -> dict[str, BaseModel | None]:
    """Each step's process as the record holds it (None: nothing recorded)."""
    states: dict[str, BaseModel | None] = {}
    for step in steps:
        stream = ids.stream_id(step.workflow_id)
        events = await recorder.read_stream(stream)
        states[step.workflow_id] = fold_stored(stream, events) if events else None
    return states


async def check(recorder: InMemoryRecorder, text: str) -> dict[str, int]:
    steps = scenario_file.parse(text)
    states = await recorded(recorder, steps)
    context = (await reads.treaty_state(recorder, "CCM")).context()
    return scenario.check_all(steps, lambda s: states[s.workflow_id], TODAY, lambda s: context)


async def test_the_shipped_scenario_records_only_what_the_record_lacks(
    ccm_recorder: InMemoryRecorder,
) -> None:
    counts = await check(ccm_recorder, SCENARIO.read_text(encoding="utf-8"))
    assert set(counts) == {"decision:CCM:isu-hosting", "hca:CCM:2MSP", "ratification:CCM:BGR"}
    assert counts["ratification:CCM:BGR"] == 1  # the domestic procedure of 10 Feb 2011
    assert counts["decision:CCM:isu-hosting"] > 0 and counts["hca:CCM:2MSP"] > 0  # new


async def test_a_fact_already_recorded_is_nothing_new_and_a_contradiction_names_its_line(
    ccm_recorder: InMemoryRecorder,
) -> None:
    same = "facts:\n  - ratification: Lithuania\n    do: deposit\n    instrument: ratification\n"
    assert await check(ccm_recorder, same + "    deposited_on: 2011-03-24\n") == {
        "ratification:CCM:LTU": 0
    }
    with pytest.raises(scenario.ScenarioError, match=r"^line 2: ") as err:
        await check(ccm_recorder, same + "    deposited_on: 2011-03-25\n")
    assert "deposited on 2011-03-24" in str(err.value)
    # the domestic procedure is completed on or before the deposit, never after
    late = "facts:\n  - ratification: Lithuania\n    do: domestic_procedure\n"
    with pytest.raises(scenario.ScenarioError, match="after LTU's deposit on 2011-03-24"):
        await check(ccm_recorder, late + "    completed_on: 2011-04-01\n")


def test_plan_all_decides_each_step_on_the_state_the_steps_before_left() -> None:
    """Two facts of one process in one file: the second is decided after the first."""
    steps = scenario_file.parse(
        "facts:\n"
        "  - ratification: Bulgaria\n    do: sign\n    signed_on: 2008-12-03\n"
        "  - ratification: Bulgaria\n    do: sign\n    signed_on: 2008-12-03\n"
    )
    assert scenario.plan_all(steps, lambda s: None, TODAY) == [1, 0]
    fresh = r.initial_state("CCM", "BGR")
    sign = r.Sign(signed_on=date(2008, 12, 3))
    signed = r.fold(fresh, r.decide(fresh, sign, CCM, r.TreatyContext(), TODAY))
    assert scenario.plan_all(steps, lambda s: signed, TODAY) == [0, 0]
