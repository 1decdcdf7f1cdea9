"""The history archive: Temporal histories of closed workflow runs, kept in PostgreSQL.

A Temporal server keeps a closed workflow only for its namespace's retention; the audit
must still be able to replay it years later. :func:`archive_closed` copies the history of
every run that is no longer running (completed, failed, terminated, timed out, cancelled,
or continued as new) into ``workflow_history_archive`` (migration 003): the JSON exactly
as :meth:`WorkflowHistory.to_json` writes it, and its sha256. A run is archived once
(its history is final). Every read recomputes the digest, so an archived history altered
afterwards is reported (:class:`TamperedHistory`), never replayed as if genuine.

The worker runs :func:`archive_closed` every few minutes (``worker.run_worker``);
``treaty audit archive`` runs it on demand.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

#: The visibility query for runs whose history is final.
CLOSED_QUERY = 'ExecutionStatus != "Running"'

_STATUS_NAMES = {
    WorkflowExecutionStatus.COMPLETED: "completed",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.CONTINUED_AS_NEW: "continued as new",
    WorkflowExecutionStatus.TIMED_OUT: "timed out",
}


class ArchivedId(NamedTuple):
    """One archived run."""

    workflow_id: str
    run_id: str


@dataclass(frozen=True)
class ArchivedHistory:
    """An archived run whose digest matched: ``history`` is what was archived."""

    workflow_id: str
    run_id: str
    workflow_type: str
    status: str
    closed_at: datetime | None
    archived_at: datetime
    history: WorkflowHistory


@dataclass(frozen=True)
class TamperedHistory:
    """An archived run whose stored text no longer has the sha256 recorded with it."""

    workflow_id: str
    run_id: str
    workflow_type: str
    archived_at: datetime
    stored_sha256: str
    actual_sha256: str

    @property
    def message(self) -> str:
        return (
            f"the archived history of {self.workflow_id} (run {self.run_id}, archived "
            f"{self.archived_at:%Y-%m-%d %H:%M:%S %Z}) was altered after it was archived: its "
            f"sha256 is {self.actual_sha256[:16]}…, the archive recorded "
            f"{self.stored_sha256[:16]}…"
        )


def digest(text: str) -> bytes:
    """sha256 of ``text`` as UTF-8 (what the archive stores next to a history)."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def _pool_of(store_or_pool: Any) -> asyncpg.Pool | asyncpg.Connection:
    """The asyncpg pool (or connection) behind ``store_or_pool``: an
    :class:`eventstore.store.EventStore` (its pool, whose connections run as the
    application role), a :class:`HistoryArchive`, an ``asyncpg.Pool`` or a connection."""
    if isinstance(store_or_pool, HistoryArchive):
        return store_or_pool.pool
    pool = getattr(store_or_pool, "_pool", None)  # EventStore
    if pool is not None:
        return pool
    if isinstance(store_or_pool, asyncpg.Pool | asyncpg.Connection):
        return store_or_pool
    raise TypeError(f"not an event store, archive or asyncpg pool: {store_or_pool!r}")


_COLUMNS = "workflow_id, run_id, workflow_type, status, closed_at, archived_at, history, sha256"


class HistoryArchive:
    """Reads and writes ``workflow_history_archive`` through an asyncpg pool (or
    connection): the application role may insert and read, the auditors' role only read.
    """

    def __init__(self, store_or_pool: Any) -> None:
        self.pool = _pool_of(store_or_pool)

    async def archived_ids(self) -> set[ArchivedId]:
        """Every archived ``(workflow_id, run_id)``."""
        rows = await self.pool.fetch("SELECT workflow_id, run_id FROM workflow_history_archive")
        return {ArchivedId(r["workflow_id"], r["run_id"]) for r in rows}

    async def put(
        self,
        history: WorkflowHistory,
        *,
        workflow_type: str,
        status: str,
        closed_at: datetime | None,
    ) -> bool:
        """Archive ``history`` (the JSON of :meth:`WorkflowHistory.to_json` and its sha256);
        True if stored now, False if this run was archived already (nothing changes)."""
        text = history.to_json()
        inserted = await self.pool.fetchval(
            "INSERT INTO workflow_history_archive"
            " (workflow_id, run_id, workflow_type, closed_at, status, history, sha256)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (workflow_id, run_id) DO NOTHING RETURNING true",
            history.workflow_id,
            history.run_id,
            workflow_type,
            closed_at,
            status,
            text,
            digest(text),
        )
        return bool(inserted)

    async def get(self, workflow_id: str | None = None) -> list[ArchivedHistory | TamperedHistory]:
        """The archived runs of ``workflow_id`` (every archived run when None), oldest
        closed first, each checked against its sha256."""
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM workflow_history_archive"
            " WHERE $1::text IS NULL OR workflow_id = $1::text"
            " ORDER BY workflow_id, closed_at NULLS LAST, archived_at",
            workflow_id,
        )
        return [_checked(r) for r in rows]


@dataclass(frozen=True)
class UnreadableHistory(TamperedHistory):
    """An archived run whose text matches its sha256 but is not a history that can be
    replayed (``reason`` says why); only an altered archive holds one."""

    reason: str = ""

    @property
    def message(self) -> str:
        return (
            f"the archived history of {self.workflow_id} (run {self.run_id}) cannot be read: "
            f"{self.reason}"
        )


def history_problem(history: WorkflowHistory) -> str | None:
    """Why ``history`` cannot be replayed (None: it can be tried). The SDK's replayer does
    not return on some malformed histories, so they are refused before it sees them."""
    if not history.events:
        return "it has no events"
    first = history.events[0]
    if not first.HasField("workflow_execution_started_event_attributes"):
        return "it does not begin with WorkflowExecutionStarted"
    if not first.workflow_execution_started_event_attributes.workflow_type.name:
        return "its WorkflowExecutionStarted event names no workflow type"
    return None


def _checked(row: asyncpg.Record) -> ArchivedHistory | TamperedHistory:
    text: str = row["history"]
    stored = bytes(row["sha256"])
    actual = digest(text)
    if actual != stored:
        return TamperedHistory(
            workflow_id=row["workflow_id"],
            run_id=row["run_id"],
            workflow_type=row["workflow_type"],
            archived_at=row["archived_at"],
            stored_sha256=stored.hex(),
            actual_sha256=actual.hex(),
        )
    try:
        history = WorkflowHistory.from_json(row["workflow_id"], text)
        problem = history_problem(history)
    except Exception as err:  # noqa: BLE001 - any parse failure means "cannot be read"
        problem = f"not a workflow history in JSON ({str(err).splitlines()[0][:160]})"
    if problem is not None:
        return UnreadableHistory(
            workflow_id=row["workflow_id"],
            run_id=row["run_id"],
            workflow_type=row["workflow_type"],
            archived_at=row["archived_at"],
            stored_sha256=stored.hex(),
            actual_sha256=actual.hex(),
            reason=problem,
        )
    return ArchivedHistory(
        workflow_id=row["workflow_id"],
        run_id=row["run_id"],
        workflow_type=row["workflow_type"],
        status=row["status"],
        closed_at=row["closed_at"],
        archived_at=row["archived_at"],
        history=history,
    )


async def archive_closed(
    client: Client, store_or_pool: Any, *, query: str = CLOSED_QUERY
) -> list[ArchivedId]:
    """Archive the history of every run the server lists as no longer running and that
    is not archived yet; the runs archived by this call (``[]`` when there was nothing
    new). Idempotent: running it again archives nothing twice.

    ``store_or_pool``: where the archive table is (see :class:`HistoryArchive`); its role
    must be allowed to INSERT into it (the application role). ``query``: a visibility query that
    selects closed runs (default all of them). A run whose history is gone from the
    server between listing and fetching is skipped.

    Raises:
        temporalio.service.RPCError: the server cannot be reached.
        asyncpg.PostgresError, OSError: the database cannot be written.
    """
    archive = HistoryArchive(store_or_pool)
    done = await archive.archived_ids()
    archived: list[ArchivedId] = []
    async for execution in client.list_workflows(query):
        key = ArchivedId(execution.id, execution.run_id)
        if key in done or execution.status in (None, WorkflowExecutionStatus.RUNNING):
            continue
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        try:
            history = await handle.fetch_history()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                continue  # deleted (or beyond retention) since it was listed
            raise
        stored = await archive.put(
            history,
            workflow_type=execution.workflow_type,
            status=_STATUS_NAMES.get(execution.status, execution.status.name.lower()),
            closed_at=execution.close_time,
        )
        if stored:
            archived.append(key)
        done.add(key)
    return archived
