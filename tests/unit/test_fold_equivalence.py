"""The fold over many events (:meth:`domain.processes.ProcessType.fold_all`, the treaty's
:func:`domain.treaty.fold`, which counts a run of deposits in one working map instead of
copying the state per event) gives exactly the state :func:`evolve` gives event by event:
on every stream recorded in the golden histories (tests/histories; there also against the
events as stored and folded by the audit's path), on the treaty stream of
the real CCM status table (../shared/data/ccm_status.csv), and on generated streams;
after every prefix of a stream (the intermediate states ``treaty audit timeline`` shows)
and as of every date in it.

"Exactly": equal models of the same class, the same fields set, the same JSON (so also the
order of the keys of the map of deposits).
"""

from __future__ import annotations

import asyncio
import base64
import csv
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from audit.timeline import timeline
from domain import processes, treaty
from domain.events import (
    DepositaryStatementRecorded,
    DepositCounted,
    DomainEvent,
    EntryIntoForceDiscrepancyNoted,
    EntryIntoForceDiscrepancyResolved,
    MeetingRecorded,
    SignatureRecorded,
    TreatyEnteredIntoForce,
    TreatyEntryIntoForceFixed,
    event_data,
    event_from_record,
)
from domain.states import resolve_state
from domain.treaties import CCM
from eventstore.folding import UnreadableEventError, fold_stored
from eventstore.recorder import InMemoryRecorder
from eventstore.store import NewEvent, StoredEvent
from tests import HISTORIES, SHARED_DATA
from tests.support import CCM_STATEMENT

STATUS_CSV = SHARED_DATA / "ccm_status.csv"


def by_evolve(kind: processes.ProcessType, state: BaseModel, events: Iterable[DomainEvent]):  # noqa: ANN201
    """The reference: ``evolve`` event by event."""
    for event in events:
        state = kind.evolve(state, event)
    return state


def assert_same(a: BaseModel, b: BaseModel) -> None:
    assert type(a) is type(b)
    assert a == b
    assert a.model_fields_set == b.model_fields_set
    assert a.model_dump_json() == b.model_dump_json()  # key order of the maps too
    assert a.model_dump_json(exclude_unset=True) == b.model_dump_json(exclude_unset=True)


def assert_same_stored(a: BaseModel, b: BaseModel) -> None:
    """:func:`assert_same`, but the keys of a map read from a stored payload come in the
    store's order (jsonb keeps an object's keys shorter first), not in the order the
    workflow decided them: the same JSON values, in any key order."""
    assert type(a) is type(b)
    assert a == b
    assert a.model_fields_set == b.model_fields_set
    assert json.loads(a.model_dump_json()) == json.loads(b.model_dump_json())


def assert_folds_agree(stream_id: str, events: Sequence[DomainEvent]) -> None:
    """Both ways after every prefix, and as of every date of the stream (and the day before
    each, and before them all) through :func:`domain.processes.fold`."""
    kind, parts = processes.process_type(stream_id)
    state = kind.initial(parts)
    for n, event in enumerate(events, start=1):
        state = kind.evolve(state, event)  # the timeline's states, one by one
        assert_same(kind.fold_all(kind.initial(parts), events[:n]), state)
    dates = {e.occurred_on for e in events if e.occurred_on is not None}
    for as_of in sorted(dates | {d - timedelta(days=1) for d in dates}):
        counted = [e for e in events if e.occurred_on is None or e.occurred_on <= as_of]
        expected = by_evolve(kind, kind.initial(parts), counted)
        assert_same(
            processes.fold(stream_id, [(e, e.occurred_on) for e in events], as_of=as_of),
            expected,
        )


# --- the golden histories ---------------------------------------------------------------------


def recorded_appends() -> dict[tuple[str, str], list[NewEvent]]:
    """``(history file, stream) -> events`` as the ``append_events`` activities of each
    golden history appended them (type, data, business date, metadata as recorded), in
    stream order (a retried append counted once)."""
    streams: dict[tuple[str, str], dict[int, NewEvent]] = {}
    for path in sorted(HISTORIES.glob("*/*.json")):
        for event in json.loads(path.read_text())["events"]:
            scheduled = event.get("activityTaskScheduledEventAttributes")
            if not scheduled or scheduled["activityType"]["name"] != "append_events":
                continue
            append = json.loads(base64.b64decode(scheduled["input"]["payloads"][0]["data"]))
            name = f"{path.parent.name}/{path.name}"
            stream = streams.setdefault((name, append["stream_id"]), {})
            for i, e in enumerate(append["events"]):
                day = e["occurred_on"]
                stream.setdefault(
                    append["expected_version"] + i + 1,
                    NewEvent(
                        event_id=UUID(e["event_id"]),
                        event_type=e["event_type"],
                        data=e["data"],
                        metadata=append["metadata"],
                        occurred_on=date.fromisoformat(day) if day else None,
                    ),
                )
    return {key: [v[k] for k in sorted(v)] for key, v in streams.items()}


APPENDS = recorded_appends()
RECORDED = {
    key: [event_from_record(e.event_type, e.data) for e in events]
    for key, events in APPENDS.items()
}


def test_the_golden_histories_hold_streams_of_every_kind() -> None:
    kinds = {stream.split("-")[0] for _, stream in RECORDED}
    assert kinds == {"treaty", "ratification", "decision", "hca", "reporting"}
    # the treaty streams are mostly deposits: the case the treaty's fold is for
    treaty_events = [e for (_, s), events in RECORDED.items() if s == "treaty-CCM" for e in events]
    assert sum(isinstance(e, DepositCounted) for e in treaty_events) > len(treaty_events) / 2


def stored_in_a_recorder(stream_id: str, events: list[NewEvent]) -> list[StoredEvent]:
    """``events`` appended to an in-memory recorder and read back: what the store gives the
    audit and the read models (JSON as jsonb returns it, the business date as a column)."""

    async def append_and_read() -> list[StoredEvent]:
        recorder = InMemoryRecorder()
        await recorder.append(stream_id, 0, events)
        return await recorder.read_stream(stream_id)

    return asyncio.run(append_and_read())


@pytest.mark.parametrize("key", sorted(RECORDED), ids=lambda key: f"{key[0]}:{key[1]}")
def test_recorded_stream_folds_the_same_both_ways(key: tuple[str, str]) -> None:
    """Two computations of every recorded stream's state: the domain's ``evolve``, event by
    event, on the events the workflow decided; and the path of ``treaty audit state`` and
    the read models (:func:`eventstore.folding.fold_stored`: the events as stored, decoded from
    their JSON, kept by their stored business date, folded by the process's ``fold_all``),
    after every prefix and as of every date of the stream."""
    stream_id = key[1]
    kind, parts = processes.process_type(stream_id)
    events = RECORDED[key]
    stored = stored_in_a_recorder(stream_id, APPENDS[key])
    state = kind.initial(parts)
    for n, event in enumerate(events, start=1):
        state = kind.evolve(state, event)
        assert_same_stored(fold_stored(stream_id, stored[:n]), state)
    dates = {e.occurred_on for e in events if e.occurred_on is not None}
    for as_of in sorted(dates | {d - timedelta(days=1) for d in dates}):
        counted = [e for e in events if e.occurred_on is None or e.occurred_on <= as_of]
        assert_same_stored(
            fold_stored(stream_id, stored, as_of=as_of),
            by_evolve(kind, kind.initial(parts), counted),
        )
    assert_folds_agree(stream_id, events)  # and the fold over many events, in memory


# --- the real CCM status table ------------------------------------------------------------------


def status_deposits() -> list[tuple[str, date]]:
    """``(ISO3, deposit date)`` of each row of the CCM status table with a deposit, in the
    table's order."""
    with STATUS_CSV.open(encoding="utf-8", newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["deposit_date"]]
    return [(resolve_state(r["state"]).code, date.fromisoformat(r["deposit_date"])) for r in rows]


def counted_stream(
    deposits: Iterable[tuple[str, date]], statement: treaty.RecordDepositaryStatement | None
) -> list[DomainEvent]:
    """The treaty stream the domain decides for these deposits (after the depositary's
    statement, if given), as ``treaty:CCM`` records them."""
    today = date(2026, 11, 29)
    s = treaty.initial_state("CCM")
    stream: list[DomainEvent] = []
    commands: list[Any] = [statement] if statement else []
    commands += [treaty.CountDeposit(state=c, deposited_on=d) for c, d in deposits]
    commands.append(treaty.MarkTreatyEnteredIntoForce())
    for command in commands:
        events = treaty.decide(s, command, CCM, today)
        for e in events:
            s = treaty.evolve(s, e)
        stream += events
    return stream


UNTC_STATEMENT = CCM_STATEMENT


@pytest.mark.parametrize("order", ["table", "date"])
@pytest.mark.parametrize("statement", [None, UNTC_STATEMENT], ids=["computed", "depositary"])
def test_the_real_status_table_folds_the_same_both_ways(
    order: str, statement: treaty.RecordDepositaryStatement | None
) -> None:
    deposits = status_deposits()
    if order == "date":
        deposits.sort(key=lambda cd: cd[1])
    stream = counted_stream(deposits, statement)

    assert_folds_agree("treaty-CCM", stream)
    folded = processes.fold("treaty-CCM", [(e, e.occurred_on) for e in stream])
    assert isinstance(folded, treaty.TreatyState)
    assert folded.deposits == dict(deposits)
    # CCM Art. 17(1), UNTC XXVI-6: in force on 1 August 2010
    assert folded.entered_into_force
    if statement is not None:
        assert (folded.in_force_on, folded.basis) == (date(2010, 8, 1), "depositary")
    else:
        # the table lacks some early deposits: its own 30th deposit by date fixes the date
        # it gives, the first day of the sixth month after that month (CCM Art. 17(1))
        thirtieth = sorted(d for _, d in deposits)[29]
        month = thirtieth.month + 6
        computed = date(thirtieth.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        assert (folded.threshold_deposited_on, folded.in_force_on, folded.basis) == (
            thirtieth,
            computed,
            "computed",
        )
    # the stream is deposits and the dates they fix, interleaved
    assert {type(e) for e in stream} >= {DepositCounted, TreatyEntryIntoForceFixed}


# --- generated streams --------------------------------------------------------------------------

CODES = ["AFG", "ALB", "AND", "AUT", "BGR", "BFA", "MDA", "NOR"]
days = st.dates(min_value=date(2008, 12, 3), max_value=date(2012, 12, 31))
maybe_days = st.none() | days

treaty_events = st.one_of(
    st.builds(
        DepositCounted,
        occurred_on=maybe_days,
        state=st.sampled_from(CODES),
        count=st.integers(1, 200),
    ),
    st.builds(
        DepositCounted, occurred_on=days, state=st.sampled_from(CODES), count=st.integers(1, 200)
    ),
    st.builds(
        DepositaryStatementRecorded,
        occurred_on=maybe_days,
        in_force_on=days,
        threshold_deposited_on=maybe_days,
        statement=st.just("UNTC"),
        corrects=maybe_days,
    ),
    st.builds(
        TreatyEntryIntoForceFixed,
        occurred_on=maybe_days,
        in_force_on=days,
        threshold_deposited_on=maybe_days,
        article=st.just("Art. 17(1)"),
        basis=st.sampled_from(["computed", "depositary"]),
    ),
    st.builds(
        EntryIntoForceDiscrepancyNoted,
        occurred_on=maybe_days,
        declared_on=days,
        computed_on=days,
        deposits_in_time=st.integers(0, 40),
        threshold=st.just(30),
    ),
    st.builds(EntryIntoForceDiscrepancyResolved, occurred_on=maybe_days, declared_on=days),
    st.builds(TreatyEnteredIntoForce, occurred_on=maybe_days, historical=st.booleans()),
    st.builds(
        MeetingRecorded,
        occurred_on=days,
        name=st.sampled_from(["1MSP", "2MSP", "1RC"]),
        kind=st.sampled_from(["MSP", "RC"]),
        opens_on=days,
        closes_on=days,
        city=st.sampled_from(["Vientiane", "Beirut"]),
        source=st.none(),
    ),
    st.builds(SignatureRecorded, occurred_on=maybe_days, state=st.sampled_from(CODES)),
)


@settings(max_examples=300, deadline=None)
@given(events=st.lists(treaty_events, max_size=40))
def test_generated_treaty_streams_fold_the_same_both_ways(events: list[DomainEvent]) -> None:
    assert_folds_agree("treaty-CCM", events)


@settings(max_examples=100, deadline=None)
@given(events=st.lists(treaty_events, max_size=20), more=st.lists(treaty_events, max_size=20))
def test_folding_on_leaves_the_states_before_as_they_were(
    events: list[DomainEvent], more: list[DomainEvent]
) -> None:
    """A state (and the maps it shares with states folded from it) is not changed by a fold
    that starts from it: the intermediate states of a timeline stay true."""
    start = treaty.fold(treaty.initial_state("CCM"), events)
    before = start.model_dump_json()
    after = treaty.fold(start, more)
    assert start.model_dump_json() == before
    treaty.fold(start, more)  # again, from the same state
    assert start.model_dump_json() == before
    assert_same(after, by_evolve(processes.PROCESS_TYPES["treaty"], start, more))


def test_the_bench_stream_folds_the_same_both_ways() -> None:
    """The shape bench/fold_bench.py folds: deposits of 200 States in turn, one a day."""
    codes = [c for c in CODES] * 25
    events: list[DomainEvent] = [
        DepositCounted(
            occurred_on=date(1990, 1, 1) + timedelta(days=v), state=codes[v % 200], count=v
        )
        for v in range(1, 1001)
    ]
    as_of = date(1990, 1, 1) + timedelta(days=500)
    kind = processes.PROCESS_TYPES["treaty"]
    expected = by_evolve(
        kind, treaty.initial_state("CCM"), [e for e in events if e.occurred_on <= as_of]
    )
    assert_same(
        processes.fold("treaty-CCM", [(e, e.occurred_on) for e in events], as_of=as_of), expected
    )
    assert expected.version == 500


# --- the audit stays as strong ------------------------------------------------------------------


def stored(version: int, event_type: str, data: dict[str, Any], on: date | None) -> StoredEvent:
    return StoredEvent(
        version,
        "treaty-CCM",
        version,
        uuid4(),
        event_type,
        data,
        {"actor": "test"},
        on,
        datetime(2026, 11, 29, tzinfo=UTC),
        bytes(32),
        bytes(32),
    )


def test_an_altered_event_after_the_date_asked_is_still_named() -> None:
    """Every event is decoded, also those the date leaves out of the fold, so
    ``treaty audit state --as-of`` names an altered one whatever the date."""
    deposits = [
        DepositCounted(
            occurred_on=date(2009, 1, 1) + timedelta(days=v), state=CODES[v % 8], count=v
        )
        for v in range(1, 21)
    ]
    events = [
        stored(v, "DepositCounted", event_data(e), e.occurred_on) for v, e in enumerate(deposits, 1)
    ]
    altered = stored(
        21,
        "DepositCounted",
        {"occurred_on": "2009-02-30", "state": "BGR", "count": 21},
        date(2009, 3, 2),
    )
    with pytest.raises(UnreadableEventError) as err:
        fold_stored("treaty-CCM", [*events, altered], as_of=date(2009, 1, 5))
    assert err.value.event is altered
    assert "occurred_on" in err.value.reason
    state = fold_stored("treaty-CCM", events, as_of=date(2009, 1, 5))
    assert state.version == 4  # type: ignore[attr-defined]
    steps = timeline("treaty-CCM", [*events, altered])
    assert [s.error is None for s in steps] == [True] * 20 + [False]
    assert [str(c) for c in steps[0].changes] == ["deposits.ALB: — → 2009-01-02"]
