"""``treaty audit verify``'s check of a treaty's counts against its States' deposits
(``audit.verify.check_deposits``; pure: streams built in memory). The treaty's entry into
force rests on the deposits it counts (CCM Art. 17(1)): each must be one a State's stream
records, on the same date."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from audit.verify import check_deposits
from eventstore.store import StoredEvent


def _event(stream: str, version: int, kind: str, state: str, day: date) -> StoredEvent:
    return StoredEvent(
        global_position=version,
        stream_id=stream,
        stream_version=version,
        event_id=uuid.uuid4(),
        event_type=kind,
        data={"state": state},
        metadata={},
        occurred_on=day,
        recorded_at=datetime(2026, 11, 29, tzinfo=UTC),
        prev_hash=b"\0" * 32,
        hash=b"\0" * 32,
    )


BGR_DEPOSIT = date(2011, 4, 6)  # UNTC XXVI-6: Bulgaria's instrument of ratification


def _treaty(*counted: tuple[str, date]) -> list[StoredEvent]:
    return [
        _event("treaty-CCM", i + 1, "DepositCounted", state, day)
        for i, (state, day) in enumerate(counted)
    ]


def _ratification(state: str, day: date) -> list[StoredEvent]:
    stream = f"ratification-CCM-{state}"
    return [
        _event(stream, 1, "SignatureRecorded", state, date(2008, 12, 3)),
        _event(stream, 2, "InstrumentDeposited", state, day),
    ]


def test_counts_that_agree_with_the_states_streams_pass() -> None:
    found, notes = check_deposits(
        "treaty-CCM",
        _treaty(("BGR", BGR_DEPOSIT)),
        {"ratification-CCM-BGR": _ratification("BGR", BGR_DEPOSIT)},
    )
    assert (found, notes) == ([], [])


def test_a_count_on_another_date_than_the_states_stream_is_a_discrepancy() -> None:
    treaty = _treaty(("AUT", date(2009, 4, 2)), ("BGR", date(2011, 5, 5)))
    found, _ = check_deposits(
        "treaty-CCM",
        treaty,
        {
            "ratification-CCM-AUT": _ratification("AUT", date(2009, 4, 2)),
            "ratification-CCM-BGR": _ratification("BGR", BGR_DEPOSIT),
        },
    )
    assert [(d.stream_id, d.version, d.event_id, d.check, d.detail) for d in found] == [
        (
            "treaty-CCM",
            2,
            treaty[1].event_id,
            "deposits",
            "counts BGR's deposit on 2011-05-05, ratification-CCM-BGR records it on 2011-04-06",
        )
    ]


def test_a_count_no_stream_records_is_a_discrepancy_and_a_deposit_not_counted_a_note() -> None:
    found, notes = check_deposits(
        "treaty-CCM",
        _treaty(("BGR", BGR_DEPOSIT)),
        {"ratification-CCM-AUT": _ratification("AUT", date(2009, 4, 2))},
    )
    assert [d.detail for d in found] == [
        "counts BGR's deposit of 2011-04-06, which ratification-CCM-BGR does not record "
        "(an import stopped after the count? import the table again)"
    ]
    assert [str(n) for n in notes] == [
        "ratification-CCM-AUT: its deposit of 2009-04-02 is not counted by treaty-CCM yet"
    ]
