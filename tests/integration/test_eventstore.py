"""The PostgreSQL event store against a real (embedded) PostgreSQL server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from structlog.testing import capture_logs

from audit.verify import verify_chain
from eventstore.hashing import GENESIS_HASH, canonical_json, chain_hash, event_record
from eventstore.migrate import migrate, migration_files
from eventstore.store import (
    STREAM_LOCK_NAMESPACE,
    AppendResult,
    ConcurrencyError,
    DuplicateEventError,
    EventStore,
    NewEvent,
)

STREAM = "ratification-CCM-BGR"


def new_event(
    event_type: str = "InstrumentDeposited",
    data: dict[str, Any] | None = None,
    occurred_on: date | None = date(2024, 3, 1),
) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        event_type=event_type,
        data=data if data is not None else {"state": "BGR"},
        metadata={"actor": "tester", "correlation_id": "c-1"},
        occurred_on=occurred_on,
    )


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[EventStore]:
    es = await EventStore.connect(db_url, max_size=10)
    try:
        yield es
    finally:
        await es.close()


@pytest.fixture
async def admin(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the test database (not restricted to the app role)."""
    conn = await asyncpg.connect(db_url)
    try:
        yield conn
    finally:
        await conn.close()


# --------------------------------------------------------------------------- hashing


def test_canonical_json_is_sorted_compact_utf8() -> None:
    value = {
        "b": 1,
        "a": "é",
        "d": date(2024, 1, 2),
        "u": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "l": [1.5, None, True],
    }
    expected = (
        '{"a":"é","b":1,"d":"2024-01-02","l":[1.5,null,true],'
        '"u":"12345678-1234-5678-1234-567812345678"}'
    )
    assert canonical_json(value) == expected.encode("utf-8")
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError):
        canonical_json({"x": object()})


def test_event_record_renders_recorded_at_in_utc_with_microseconds() -> None:
    record = event_record(
        stream_id="s",
        stream_version=1,
        event_id=uuid.UUID(int=1),
        event_type="T",
        data={},
        metadata={},
        occurred_on=None,
        recorded_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert record["recorded_at"] == "2024-01-02T03:04:05.000000+00:00"
    assert record["event_id"] == "00000000-0000-0000-0000-000000000001"
    assert record["occurred_on"] is None
    with pytest.raises(ValueError):
        event_record(
            **{**record, "event_id": uuid.UUID(int=1), "recorded_at": datetime(2024, 1, 1)}
        )


# ------------------------------------------------------------------- append / read


async def test_append_and_read_stream(store: EventStore) -> None:
    first, second = new_event(), new_event("InstrumentAccepted", {"n": 2}, None)

    result = await store.append(STREAM, 0, [first, second])

    assert result == AppendResult(STREAM, first_version=1, last_version=2, appended=True)
    events = await store.read_stream(STREAM)
    assert [e.stream_version for e in events] == [1, 2]
    assert [e.event_id for e in events] == [first.event_id, second.event_id]
    assert [e.event_type for e in events] == ["InstrumentDeposited", "InstrumentAccepted"]
    assert [e.data for e in events] == [{"state": "BGR"}, {"n": 2}]
    assert events[0].metadata == {"actor": "tester", "correlation_id": "c-1"}
    assert [e.occurred_on for e in events] == [date(2024, 3, 1), None]
    assert events[0].recorded_at == events[1].recorded_at
    assert events[0].recorded_at.utcoffset() is not None
    assert abs((datetime.now(UTC) - events[0].recorded_at).total_seconds()) < 60
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert len(events[1].hash) == 32
    assert events[1].global_position == events[0].global_position + 1

    third = new_event("InstrumentRegistered")
    assert await store.append(STREAM, 2, [third]) == AppendResult(STREAM, 3, 3, True)
    assert await store.stream_version(STREAM) == 3
    tail = await store.read_stream(STREAM, from_version=2)
    assert [(e.stream_version, e.event_id) for e in tail] == [
        (2, second.event_id),
        (3, third.event_id),
    ]
    assert tail[1].prev_hash == tail[0].hash
    assert await store.read_stream("no-such-stream") == []
    assert await store.stream_version("no-such-stream") == 0


async def test_expected_version_mismatch_raises_and_stores_nothing(store: EventStore) -> None:
    await store.append(STREAM, 0, [new_event(), new_event()])

    with pytest.raises(ConcurrencyError) as behind:
        await store.append(STREAM, 1, [new_event()])
    assert (behind.value.stream_id, behind.value.expected_version) == (STREAM, 1)
    assert behind.value.actual_version == 2
    assert str(behind.value) == (
        f"stream {STREAM} is at version 2, expected 1: another writer appended first;"
        " reload and retry"
    )

    with pytest.raises(ConcurrencyError) as ahead:
        await store.append(STREAM, 5, [new_event()])
    assert ahead.value.actual_version == 2
    assert "is at version 2, expected 5" in str(ahead.value)

    with pytest.raises(ConcurrencyError) as fresh:
        await store.append("new-stream", 3, [new_event()])
    assert fresh.value.actual_version == 0

    assert await store.stream_version(STREAM) == 2
    assert len(await store.read_stream(STREAM)) == 2
    assert await store.read_stream("new-stream") == []


async def test_idempotent_retry_appends_nothing(store: EventStore) -> None:
    batch = [new_event(), new_event()]
    assert (await store.append(STREAM, 0, batch)).appended is True
    before = await store.read_stream(STREAM)

    retry = await store.append(STREAM, 0, batch)

    assert retry == AppendResult(STREAM, first_version=1, last_version=2, appended=False)
    assert await store.read_stream(STREAM) == before

    # Still recognised after later appends moved the stream on.
    await store.append(STREAM, 2, [new_event()])
    assert await store.append(STREAM, 0, batch) == AppendResult(STREAM, 1, 2, False)
    assert await store.stream_version(STREAM) == 3
    assert len(await store.read_all()) == 3


async def test_other_event_id_at_same_version_is_a_conflict(store: EventStore) -> None:
    original = new_event()
    await store.append(STREAM, 0, [original])

    with pytest.raises(ConcurrencyError) as err:
        await store.append(STREAM, 0, [new_event()])
    assert (err.value.expected_version, err.value.actual_version) == (0, 1)

    # A batch that only starts like the stored one is not a retry either.
    with pytest.raises(ConcurrencyError):
        await store.append(STREAM, 0, [original, new_event()])
    # Same ids, wrong order.
    second = new_event()
    await store.append(STREAM, 1, [second])
    with pytest.raises(ConcurrencyError):
        await store.append(STREAM, 0, [second, original])
    assert [e.event_id for e in await store.read_stream(STREAM)] == [
        original.event_id,
        second.event_id,
    ]


async def test_event_id_reused_in_another_stream_is_refused(store: EventStore) -> None:
    event = new_event()
    await store.append("stream-a", 0, [event])

    with pytest.raises(DuplicateEventError) as err:
        await store.append("stream-b", 0, [new_event(), event])

    assert err.value.stream_id == "stream-b"
    assert err.value.event_ids == [event.event_id]
    assert await store.read_stream("stream-b") == []
    assert await store.stream_version("stream-a") == 1


@pytest.mark.parametrize(
    ("expected_version", "events", "error"),
    [
        (0, [], ValueError),
        (-1, None, ValueError),
        (0, "dup", ValueError),
    ],
)
async def test_invalid_appends_are_rejected(
    store: EventStore, expected_version: int, events: Any, error: type[Exception]
) -> None:
    if events is None:
        events = [new_event()]
    elif events == "dup":
        event = new_event()
        events = [event, event]
    with pytest.raises(error):
        await store.append(STREAM, expected_version, events)
    assert await store.stream_version(STREAM) == 0


async def test_concurrent_first_appends_exactly_one_wins(
    store: EventStore, admin: asyncpg.Connection
) -> None:
    candidates = [new_event(data={"writer": i}) for i in range(8)]
    # Hold the stream lock so that all writers are queued on it at the same time.
    blocker = admin.transaction()
    await blocker.start()
    await admin.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))", STREAM_LOCK_NAMESPACE, STREAM
    )
    tasks = [asyncio.create_task(store.append(STREAM, 0, [e])) for e in candidates]
    await asyncio.sleep(0.3)
    assert not any(t.done() for t in tasks)
    await blocker.rollback()

    results = await asyncio.gather(*tasks, return_exceptions=True)

    winners = [r for r in results if isinstance(r, AppendResult)]
    losers = [r for r in results if isinstance(r, ConcurrencyError)]
    assert len(winners) == 1 and len(losers) == 7, results
    assert winners[0] == AppendResult(STREAM, 1, 1, True)
    assert {(e.expected_version, e.actual_version) for e in losers} == {(0, 1)}
    stored = await store.read_stream(STREAM)
    assert len(stored) == 1
    assert stored[0].event_id == candidates[results.index(winners[0])].event_id


async def test_concurrent_appends_to_existing_stream_exactly_one_wins(store: EventStore) -> None:
    await store.append(STREAM, 0, [new_event(), new_event()])

    results = await asyncio.gather(
        store.append(STREAM, 2, [new_event(), new_event()]),
        store.append(STREAM, 2, [new_event()]),
        return_exceptions=True,
    )

    assert sorted(type(r).__name__ for r in results) == ["AppendResult", "ConcurrencyError"]
    winner = next(r for r in results if isinstance(r, AppendResult))
    assert await store.stream_version(STREAM) == winner.last_version
    assert await verify_chain(store, STREAM) == []


async def test_read_all_is_in_global_order_across_streams(store: EventStore) -> None:
    await store.append("a", 0, [new_event("A1")])
    await store.append("b", 0, [new_event("B1"), new_event("B2")])
    await store.append("a", 1, [new_event("A2")])
    await store.append("c", 0, [new_event("C1")])

    everything = await store.read_all()

    assert [(e.stream_id, e.stream_version, e.event_type) for e in everything] == [
        ("a", 1, "A1"),
        ("b", 1, "B1"),
        ("b", 2, "B2"),
        ("a", 2, "A2"),
        ("c", 1, "C1"),
    ]
    positions = [e.global_position for e in everything]
    assert positions == sorted(positions) and len(set(positions)) == 5
    assert [e.event_type for e in await store.read_all(limit=2)] == ["A1", "B1"]
    from_third = await store.read_all(from_position=positions[2])
    assert [e.event_type for e in from_third] == ["B2", "A2", "C1"]
    assert [e.event_type for e in await store.read_all(positions[2], limit=1)] == ["B2"]
    assert await store.read_all(from_position=positions[-1] + 1) == []


async def test_list_streams_with_literal_prefix(store: EventStore) -> None:
    await store.append("ratification-CCM-BGR", 0, [new_event(), new_event()])
    await store.append("ratification-CCM-FRA", 0, [new_event()])
    await store.append("rat_x", 0, [new_event()])
    await store.append("accession-X", 0, [new_event()])

    assert await store.list_streams() == [
        ("accession-X", 1),
        ("rat_x", 1),
        ("ratification-CCM-BGR", 2),
        ("ratification-CCM-FRA", 1),
    ]
    assert await store.list_streams("ratification-") == [
        ("ratification-CCM-BGR", 2),
        ("ratification-CCM-FRA", 1),
    ]
    assert await store.list_streams("rat_") == [("rat_x", 1)]
    assert await store.list_streams("nothing") == []


# ------------------------------------------------------------------ append-only


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("UPDATE events SET event_type = 'Forged'", "UPDATE"),
        ("DELETE FROM events", "DELETE"),
        ("TRUNCATE events", "TRUNCATE"),
    ],
)
async def test_trigger_refuses_changes_even_for_superuser(
    store: EventStore, admin: asyncpg.Connection, statement: str, operation: str
) -> None:
    await store.append(STREAM, 0, [new_event()])
    assert await admin.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")

    with pytest.raises(asyncpg.RaiseError) as err:
        await admin.execute(statement)

    assert err.value.message == f"events is append-only: {operation} is not allowed"
    assert err.value.hint == "Record a new (compensating) event instead of changing history."
    assert await admin.fetchval("SELECT count(*) FROM events WHERE event_type = 'Forged'") == 0
    assert await admin.fetchval("SELECT count(*) FROM events") == 1


async def test_store_connections_run_as_app_role_with_insert_select_only(
    db_url: str,
) -> None:
    es = await EventStore.connect(db_url, min_size=1, max_size=1)
    try:
        await es.append(STREAM, 0, [new_event()])
        for _ in range(2):  # the role survives the pool's reset between uses
            async with es._p.acquire() as conn:
                assert await conn.fetchval("SELECT current_user") == "treatyflow_app"
        async with es._p.acquire() as conn:
            privileges = {
                p: await conn.fetchval("SELECT has_table_privilege('events', $1)", p)
                for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
            }
            assert privileges == {
                "SELECT": True,
                "INSERT": True,
                "UPDATE": False,
                "DELETE": False,
                "TRUNCATE": False,
                "TRIGGER": False,
            }
            with pytest.raises(asyncpg.InsufficientPrivilegeError) as err:
                await conn.execute("UPDATE events SET event_type = 'Forged'")
            assert err.value.message == "permission denied for table events"
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("DELETE FROM events")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
    finally:
        await es.close()


async def test_unusable_app_role_logs_warning_and_continues(
    db_url: str, admin: asyncpg.Connection
) -> None:
    login = f"tf_plain_{uuid.uuid4().hex[:12]}"
    await admin.execute(f"CREATE ROLE {login} LOGIN PASSWORD 'pw'")
    await admin.execute(f"GRANT SELECT ON events TO {login}")
    parts = urlsplit(db_url)
    host = parts.netloc.rpartition("@")[2]
    login_url = urlunsplit(parts._replace(netloc=f"{login}:pw@{host}"))
    try:
        with capture_logs() as logs:
            es = await EventStore.connect(login_url, max_size=2)
        try:
            async with es._p.acquire() as conn:
                assert await conn.fetchval("SELECT current_user") == login
            assert await es.read_all() == []
        finally:
            await es.close()
        warnings = [entry for entry in logs if entry["log_level"] == "warning"]
        assert len(warnings) == 1, logs
        assert warnings[0]["event"].startswith("cannot SET ROLE to the application role")
        assert warnings[0]["app_role"] == "treatyflow_app"
    finally:
        await admin.execute(f"REVOKE ALL ON events FROM {login}")
        await admin.execute(f"DROP ROLE {login}")


async def test_app_role_none_keeps_login_user(db_url: str, admin: asyncpg.Connection) -> None:
    login_user = await admin.fetchval("SELECT session_user")
    es = await EventStore.connect(db_url, app_role=None)
    try:
        async with es._p.acquire() as conn:
            assert await conn.fetchval("SELECT current_user") == login_user != "treatyflow_app"
    finally:
        await es.close()


# ------------------------------------------------------------------- hash chain


async def test_hash_chain_verifies_after_round_trip(store: EventStore) -> None:
    tricky = {
        "big_float": 1e20,
        "tiny": 1.5e-10,
        "huge_int": 10**30,
        "one": 1.0,
        "text": "Zürich — ☃\u2028",
        "nested": {"z": [1, {"b": None, "a": False}], "a": date(2024, 2, 29)},
        "id": uuid.UUID(int=7),
    }
    await store.append(STREAM, 0, [new_event(data=tricky), new_event()])
    await store.append(STREAM, 2, [new_event(occurred_on=None)])

    assert await verify_chain(store, STREAM) == []
    events = await store.read_stream(STREAM)
    # jsonb normalised the numbers; the hash was computed over what comes back.
    assert events[0].data["big_float"] == 10**20
    assert events[0].data["nested"] == {"z": [1, {"b": None, "a": False}], "a": "2024-02-29"}
    assert events[0].data["id"] == "00000000-0000-0000-0000-000000000007"
    assert events[0].data["text"] == "Zürich — ☃\u2028"
    # Independent recomputation of the chain.
    prev = GENESIS_HASH
    for e in events:
        record = event_record(
            stream_id=e.stream_id,
            stream_version=e.stream_version,
            event_id=e.event_id,
            event_type=e.event_type,
            data=e.data,
            metadata=e.metadata,
            occurred_on=e.occurred_on,
            recorded_at=e.recorded_at,
        )
        assert e.prev_hash == prev
        assert e.hash == chain_hash(prev, record)
        prev = e.hash
    assert await verify_chain(store, "no-such-stream") == []


async def _tamper(admin: asyncpg.Connection, sql: str, *args: Any) -> None:
    """Change history as a superuser would: trigger off, edit, trigger on."""
    async with admin.transaction():
        await admin.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        await admin.execute(sql, *args)
        await admin.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")


@pytest.mark.parametrize(
    "assignment",
    [
        """data = jsonb_set(data, '{state}', '"FRA"')""",
        """metadata = metadata || '{"actor": "mallory"}'""",
        "event_type = 'InstrumentWithdrawn'",
        "occurred_on = occurred_on + 1",
        "recorded_at = recorded_at + interval '1 microsecond'",
        "event_id = gen_random_uuid()",
    ],
)
async def test_tampering_is_detected_at_its_version(
    store: EventStore, admin: asyncpg.Connection, assignment: str
) -> None:
    await store.append(STREAM, 0, [new_event(), new_event(), new_event()])

    await _tamper(
        admin, f"UPDATE events SET {assignment} WHERE stream_id = $1 AND stream_version = 2", STREAM
    )

    problems = await verify_chain(store, STREAM)
    assert [(p.version, p.detail[:42]) for p in problems] == [
        (2, "the event was altered after it was recorde")
    ], problems


async def test_rehashed_tampering_breaks_the_next_link(
    store: EventStore, admin: asyncpg.Connection
) -> None:
    await store.append(STREAM, 0, [new_event(), new_event(), new_event()])
    victim = (await store.read_stream(STREAM))[1]
    forged_data = {"state": "FRA"}
    forged_hash = chain_hash(
        victim.prev_hash,
        event_record(
            stream_id=STREAM,
            stream_version=2,
            event_id=victim.event_id,
            event_type=victim.event_type,
            data=forged_data,
            metadata=victim.metadata,
            occurred_on=victim.occurred_on,
            recorded_at=victim.recorded_at,
        ),
    )

    await _tamper(
        admin,
        "UPDATE events SET data = $2::jsonb, hash = $3 WHERE stream_id = $1 AND stream_version = 2",
        STREAM,
        canonical_json(forged_data).decode(),
        forged_hash,
    )

    problems = await verify_chain(store, STREAM)
    assert [(p.version, p.detail[:20]) for p in problems] == [(3, "the chain breaks her")], problems


async def test_deleted_event_shows_as_version_gap(
    store: EventStore, admin: asyncpg.Connection
) -> None:
    await store.append(STREAM, 0, [new_event(), new_event(), new_event()])

    await _tamper(admin, "DELETE FROM events WHERE stream_id = $1 AND stream_version = 2", STREAM)

    problems = await verify_chain(store, STREAM)
    assert [(p.version, p.detail[:20]) for p in problems] == [
        (2, "version 2 is missing"),
        (3, "the chain breaks her"),
    ], problems


# ------------------------------------------------------------------- migrations


async def test_migrate_twice_is_a_noop(empty_db_url: str) -> None:
    versions = [version for version, _ in migration_files()]
    assert versions[:2] == ["001_events", "002_audit_role"]
    assert await migrate(empty_db_url) == versions
    assert await migrate(empty_db_url) == []

    conn = await asyncpg.connect(empty_db_url)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations")
        assert sorted(r["version"] for r in rows) == versions
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
    finally:
        await conn.close()


async def test_concurrent_migrations_apply_once(empty_db_url: str) -> None:
    results = await asyncio.gather(*(migrate(empty_db_url) for _ in range(3)))

    versions = [version for version, _ in migration_files()]
    assert sorted(results) == [[], [], versions]
    assert await migrate(empty_db_url) == []


# ------------------------------------------------------- contacts: one per address


async def test_concurrent_adds_of_one_address_in_any_case_store_one_row(
    store: EventStore, admin: asyncpg.Connection
) -> None:
    from activities.outbox import Contact, add_contact, put_contact

    # the pool runs as treatyflow_app: its grants (004) suffice for INSERT ... ON CONFLICT
    assert await store.pool.fetchval("SELECT current_user") == "treatyflow_app"
    spellings = [
        "art7@mfa.example.org",
        "ART7@MFA.EXAMPLE.ORG",
        "Art7@Mfa.Example.Org",
        "aRt7@mFa.eXample.oRg",
        "art7@MFA.example.org",
        "ART7@mfa.example.org",
    ] * 4
    contacts = [
        Contact(treaty="CCM", state="NOR", email=e, name=f"caller {i}")
        for i, e in enumerate(spellings)
    ]
    results = await asyncio.gather(*(add_contact(store, c) for c in contacts))

    assert results.count(True) == 1
    winner = contacts[results.index(True)]
    rows = await admin.fetch(
        "SELECT email, name FROM contacts WHERE treaty = 'CCM' AND state = 'NOR'"
    )
    assert [(r["email"], r["name"]) for r in rows] == [(winner.email, winner.name)]
    # a later add in yet another case is told what is stored
    added, stored = await put_contact(
        store, Contact(treaty="CCM", state="NOR", email="ArT7@mfa.EXAMPLE.org", name="late")
    )
    assert not added
    assert (stored.email, stored.name) == (winner.email, winner.name)
    # the same address for another State or treaty is another focal point
    assert await add_contact(store, Contact(treaty="CCM", state="DNK", email=spellings[1]))
    assert await add_contact(store, Contact(treaty="APMBC", state="NOR", email=spellings[1]))


async def test_migration_005_keeps_the_earliest_of_case_duplicates(empty_db_url: str) -> None:
    assert await migrate(empty_db_url, up_to="004_outbox") == [
        "001_events",
        "002_audit_role",
        "003_history_archive",
        "004_outbox",
    ]
    conn = await asyncpg.connect(empty_db_url)
    try:
        # the data 004's code-only check could let in under a race
        rows = [
            ("CCM", "AUT", "X@BMEIA.example.org", "second", "2024-03-02T10:00:00Z"),
            ("CCM", "AUT", "x@bmeia.example.org", "first", "2024-03-01T10:00:00Z"),
            ("CCM", "AUT", "x@BMEIA.EXAMPLE.ORG", "third", "2024-03-03T10:00:00Z"),
            ("CCM", "BEL", "X@BMEIA.example.org", "other State", "2024-03-04T10:00:00Z"),
            ("APMBC", "AUT", "X@bmeia.example.org", "other treaty", "2024-03-05T10:00:00Z"),
            ("CCM", "AUT", "y@bmeia.example.org", "other address", "2024-03-06T10:00:00Z"),
        ]
        for treaty, state, email, name, added in rows:
            await conn.execute(
                "INSERT INTO contacts (treaty, state, email, name, added_at)"
                " VALUES ($1, $2, $3, $4, $5::timestamptz)",
                treaty,
                state,
                email,
                name,
                datetime.fromisoformat(added),
            )
        with capture_logs() as logs:
            assert await migrate(empty_db_url) == ["005_contacts_unique_address"]
        kept = await conn.fetch(
            "SELECT treaty, state, email, name FROM contacts ORDER BY treaty, state, email"
        )
        assert [tuple(r) for r in kept] == [
            ("APMBC", "AUT", "X@bmeia.example.org", "other treaty"),
            ("CCM", "AUT", "x@bmeia.example.org", "first"),
            ("CCM", "AUT", "y@bmeia.example.org", "other address"),
            ("CCM", "BEL", "X@BMEIA.example.org", "other State"),
        ]
        notices = [e for e in logs if e["event"] == "migration notice"]
        assert len(notices) == 2
        assert {e["version"] for e in notices} == {"005_contacts_unique_address"}
        removed = sorted(e["notice"] for e in notices)
        assert "X@BMEIA.example.org (name second" in removed[0]
        assert "x@BMEIA.EXAMPLE.ORG (name third" in removed[1]
        # from now on the database itself refuses a second spelling
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(
                "INSERT INTO contacts (treaty, state, email)"
                " VALUES ('CCM', 'AUT', 'X@Bmeia.Example.Org')"
            )
    finally:
        await conn.close()


async def test_migrate_up_to_an_unknown_version_is_refused(empty_db_url: str) -> None:
    with pytest.raises(ValueError, match="no migration '009_nothing': known versions are 001_"):
        await migrate(empty_db_url, up_to="009_nothing")
