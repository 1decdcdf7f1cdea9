"""Schema migrations: apply ``eventstore/migrations/NNN_*.sql`` in order, each once.

Applied versions are recorded in ``schema_migrations(version text primary key,
applied_at timestamptz)``; the version is the file name without ``.sql``
(``"001_events"``). The whole run holds a PostgreSQL advisory lock, so two processes
migrating the same database at once apply every file exactly once. Each file runs in its
own transaction together with its ``schema_migrations`` row.

Run it as the database owner (not as ``treatyflow_app``, which may only INSERT/SELECT).
"""

from __future__ import annotations

import re
from importlib import resources

import asyncpg
import structlog

MIGRATION_LOCK_KEY = 0x7472_6561_7479_0001
"""Key of the session advisory lock held while migrating (``"treaty"`` + 1)."""

_FILE_RE = re.compile(r"^(\d{3})_[A-Za-z0-9_]+\.sql$")


def migration_files() -> list[tuple[str, str]]:
    """The packaged migrations in order, as ``[(version, sql), ...]``.

    ``version`` is the file name without ``.sql``, e.g. ``("001_events", "CREATE ...")``.

    Raises:
        RuntimeError: two files share the same ``NNN`` number.
    """
    folder = resources.files("eventstore").joinpath("migrations")
    entries = sorted(
        (entry.name, entry) for entry in folder.iterdir() if _FILE_RE.match(entry.name)
    )
    numbers = [name[:3] for name, _ in entries]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        raise RuntimeError(f"duplicate migration numbers: {', '.join(duplicates)}")
    return [
        (name.removesuffix(".sql"), entry.read_text(encoding="utf-8")) for name, entry in entries
    ]


async def migrate(dsn: str, *, up_to: str | None = None) -> list[str]:
    """Apply the pending migrations to the database at ``dsn``.

    ``up_to`` (a version, e.g. ``"004_outbox"``) stops after that version: the later ones
    stay pending (to upgrade step by step, or to test a migration on an older schema).
    NOTICEs a migration raises (e.g. rows a data fix removed) are logged as
    ``migration notice`` with the version.

    Returns:
        The versions applied by this call, in order (``[]`` when already up to date),
        e.g. ``["001_events"]``.

    Raises:
        asyncpg.PostgresError: a migration failed (its transaction is rolled back; the
            versions applied before it stay applied).
        ValueError: ``up_to`` is not a packaged version.
        OSError: the database cannot be reached.
    """
    log = structlog.get_logger("eventstore.migrate")
    files = migration_files()
    if up_to is not None:
        if up_to not in {version for version, _ in files}:
            known = ", ".join(version for version, _ in files)
            raise ValueError(f"no migration {up_to!r}: known versions are {known}")
        files = [(version, sql) for version, sql in files if version <= up_to]
    conn = await asyncpg.connect(dsn)
    current: list[str] = []

    def on_notice(_conn: object, message: asyncpg.PostgresLogMessage) -> None:
        if current:  # not the bookkeeping's own ("schema_migrations already exists")
            log.info("migration notice", version=current[-1], notice=message.message)

    try:
        # Session-level lock: released by the unlock below or, if anything fails, when the
        # connection closes.
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        applied: list[str] = []
        conn.add_log_listener(on_notice)
        for version, sql in files:
            if version in done:
                continue
            current.append(version)
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())",
                    version,
                )
            log.info("migration applied", version=version)
            applied.append(version)
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        return applied
    finally:
        await conn.close()
