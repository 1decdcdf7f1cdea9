"""The obligation changes to the Ratification workflow keep the golden histories replaying.

Truth: the histories recorded before the change (tests/histories/v1, v2, v1-then-v2) have
no obligation events and no timer after the entry into force; the current code must issue
the same commands. Without its ``workflow.patched`` guards, the new code would open the
obligations and start a deadline timer where those histories recorded nothing, and their
replay would stop (the history that passed the entry into force is Bulgaria's).
"""

from __future__ import annotations

import json
from pathlib import Path

from temporalio import workflow

from tests import HISTORIES

with workflow.unsafe.imports_passed_through():
    import asyncio
    import base64

    from audit import replay as replay_mod
    from domain import ratification as r
    from workflows.common import today
    from workflows.ratification import (
        DEADLINE_TIMERS,
        OPEN_OBLIGATIONS,
        RatificationInput,
        RatificationWorkflow,
    )
    from workflows.treaty import TreatyWorkflow

BEFORE = ("v1", "v2", "v1-then-v2")


@workflow.defn(name="Ratification")
class RatificationWithoutTheObligationGuards(RatificationWorkflow):
    """The obligation change with neither ``workflow.patched`` guard."""

    @workflow.init
    def __init__(self, input: RatificationInput) -> None:
        super().__init__(input)

    @workflow.run
    async def run(self, input: RatificationInput) -> None:
        await super().run(input)

    def _obligations(self, events: list) -> list:
        after = r.fold(self._engine.state, events)
        return r.obligations_at_entry_into_force(after, self._profile, today().date())

    @staticmethod
    def _deadline_timers() -> bool:
        return True


def _replay(paths: list[Path], workflows: list[type]) -> list[replay_mod.ReplayResult]:
    return asyncio.run(replay_mod.replay([replay_mod.from_file(p) for p in paths], workflows))


def _markers(path: Path) -> list[str]:
    found = []
    for e in json.loads(path.read_text(encoding="utf-8"))["events"]:
        if e["eventType"] == "EVENT_TYPE_MARKER_RECORDED":
            payload = e["markerRecordedEventAttributes"]["details"]["patch-data"]["payloads"][0]
            found.append(json.loads(base64.b64decode(payload["data"]))["id"])
    return found


def test_histories_before_the_change_replay_with_the_guards() -> None:
    paths = [p for folder in BEFORE for p in sorted((HISTORIES / folder).glob("*.json"))]
    assert paths and all(
        OPEN_OBLIGATIONS not in _markers(p) and DEADLINE_TIMERS not in _markers(p) for p in paths
    )
    results = _replay(paths, [TreatyWorkflow, RatificationWorkflow])
    assert all(x.status == "clean" for x in results), [x.message for x in results if not x.ok]


def test_without_its_guards_the_change_breaks_the_history_that_passed_entry_into_force() -> None:
    path = HISTORIES / "v2" / "ratification-CCM-BGR.json"
    [bgr] = _replay([path], [TreatyWorkflow, RatificationWithoutTheObligationGuards])
    assert bgr.status == "nondeterministic", bgr.message
    # a process that never entered into force is not affected
    [ago] = _replay(
        [HISTORIES / "v2" / "ratification-CCM-AGO.json"],
        [TreatyWorkflow, RatificationWithoutTheObligationGuards],
    )
    assert ago.status == "clean"


@workflow.defn(name="Ratification")
class RatificationBeforeTheObligations(RatificationWorkflow):
    """The code as it was before the change: no obligations, no deadline timers."""

    @workflow.init
    def __init__(self, input: RatificationInput) -> None:
        super().__init__(input)

    @workflow.run
    async def run(self, input: RatificationInput) -> None:
        await super().run(input)

    def _obligations(self, events: list) -> list:
        return []

    @staticmethod
    def _deadline_timers() -> bool:
        return False


def test_histories_after_the_change_have_its_markers_and_need_it() -> None:
    """v3 was recorded by scripts/record_histories.py with the change: Bulgaria's historical
    deposit opens its obligations (marker) and a timer waits for the next annual report
    (marker, then TimerStarted); the code without the change cannot replay it."""
    path = HISTORIES / "v3" / "ratification-CCM-BGR.json"
    assert _markers(path) == [
        "record-reached-eif-with-its-date",
        OPEN_OBLIGATIONS,
        DEADLINE_TIMERS,
    ]
    [now] = _replay([path], [TreatyWorkflow, RatificationWorkflow])
    assert now.status == "clean", now.message
    [before] = _replay([path], [TreatyWorkflow, RatificationBeforeTheObligations])
    assert before.status == "nondeterministic" and before.event_type == "MarkerRecorded"
    assert OPEN_OBLIGATIONS in before.message
