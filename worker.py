"""Run a treatyflow worker: all workflows and activities on the task queue.

    python -m worker            # or: treaty worker

Configuration from the environment (see :mod:`settings`); with nothing set it connects to
the embedded stack started by ``treaty up``. Stops gracefully on SIGTERM / SIGINT.

Besides polling, the worker archives the histories of closed workflow runs into the event
store's history archive (:func:`audit.archive.archive_closed`) when it starts and then every
``TREATYFLOW_ARCHIVE_MINUTES`` minutes (default 10; ``0`` turns it off).
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

import settings as settings_mod
from activities.eventstore import EventStoreActivities
from audit.archive import archive_closed
from eventstore.migrate import migrate
from eventstore.store import EventStore
from workflows.decision import DecisionWorkflow
from workflows.hca import AgreementWorkflow
from workflows.ratification import RatificationWorkflow
from workflows.reporting import WORKFLOWS as REPORTING_WORKFLOWS
from workflows.reporting import activities as reporting_activities
from workflows.reporting import check_environment as check_reporting_environment
from workflows.treaty import TreatyWorkflow

WORKFLOWS = [TreatyWorkflow, RatificationWorkflow, DecisionWorkflow, AgreementWorkflow]
WORKFLOWS += REPORTING_WORKFLOWS  # reporting cycles (CCM Art. 7)

#: Minutes between two archiving passes unless ``TREATYFLOW_ARCHIVE_MINUTES`` says otherwise.
DEFAULT_ARCHIVE_MINUTES = 10.0

log = structlog.get_logger()


def archive_interval() -> float | None:
    """Seconds between two archiving passes, from ``TREATYFLOW_ARCHIVE_MINUTES`` (minutes,
    a decimal number; default 10); None when it is 0 (no archiving by the worker).

    Raises :class:`settings.SettingsError` for a value that is not a number >= 0.
    """
    raw = os.environ.get("TREATYFLOW_ARCHIVE_MINUTES", "").strip()
    if not raw:
        return DEFAULT_ARCHIVE_MINUTES * 60
    try:
        minutes = float(raw)
    except ValueError:
        minutes = -1.0
    if not minutes >= 0 or minutes == float("inf"):
        raise settings_mod.SettingsError(
            f"TREATYFLOW_ARCHIVE_MINUTES={raw!r} is not a number of minutes: expected a number "
            f"from 0 (no archiving) up, e.g. 10 (default {DEFAULT_ARCHIVE_MINUTES:g})"
        )
    return minutes * 60 if minutes > 0 else None


async def archive_periodically(client: Client, store: EventStore, every: float) -> None:
    """Archive closed runs now and then every ``every`` seconds, until cancelled. A pass
    that fails (a server unreachable for a while) is logged and retried at the next one."""
    while True:
        try:
            archived = await archive_closed(client, store)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - keep archiving on the next pass
            log.warning("archive pass failed", error=f"{type(err).__name__}: {err}")
        else:
            if archived:
                log.info(
                    "archived closed workflow histories",
                    count=len(archived),
                    runs=[f"{a.workflow_id}/{a.run_id}" for a in archived],
                )
        await asyncio.sleep(every)


def build_worker(client: Client, store: EventStore, task_queue: str, **reporting: Any) -> Worker:
    """A worker for every treatyflow workflow and activity on ``task_queue``.

    ``reporting``: ``home`` / ``smtp`` for :func:`workflows.reporting.activities` (default:
    the data folder and SMTP settings of the environment)."""
    activities = EventStoreActivities(store)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[activities.append_events, *reporting_activities(store, **reporting)],
    )


async def run_worker(
    temporal_address: str,
    namespace: str,
    database_url: str,
    task_queue: str,
    *,
    archive_every: float | None = None,
) -> None:
    """Connect, migrate the event store, and poll ``task_queue`` until SIGTERM/SIGINT;
    meanwhile archive closed runs every ``archive_every`` seconds (None: as
    :func:`archive_interval` says; 0: not at all)."""
    from cli.connect import connect_client

    if archive_every is None:
        archive_every = archive_interval()
    client = await connect_client(temporal_address, namespace)
    await migrate(database_url)
    store = await EventStore.connect(database_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    archiver: asyncio.Task[None] | None = None
    try:
        async with build_worker(client, store, task_queue):
            log.info("worker started", task_queue=task_queue, temporal=temporal_address)
            if archive_every:
                archiver = asyncio.create_task(
                    archive_periodically(client, store, archive_every), name="archiver"
                )
            await stop.wait()
            log.info("worker stopping")
    finally:
        if archiver is not None:
            archiver.cancel()
            await asyncio.gather(archiver, return_exceptions=True)
        await store.close()


def main() -> None:
    """Entry point: resolve the servers (embedded or configured) and run the worker."""
    from cli.logging import configure_logging
    from cli.stack import StackError, ensure_servers

    settings = settings_mod.load()
    archive_every = archive_interval() or 0.0  # a bad value is said before anything starts
    check_reporting_environment()  # SMTP settings, reminder policy
    configure_logging(settings)
    try:
        temporal_address, database_url = ensure_servers(settings)
    except StackError as err:
        raise SystemExit(f"error: {err}") from None
    asyncio.run(
        run_worker(
            temporal_address,
            settings.temporal_namespace,
            database_url,
            settings.task_queue,
            archive_every=archive_every,
        )
    )


if __name__ == "__main__":
    main()
