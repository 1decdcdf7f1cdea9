"""Run a treatyflow worker: all workflows and activities on the task queue.

    python -m worker            # or: treaty worker

Configuration from the environment (see :mod:`settings`); with nothing set it connects to
the embedded stack started by ``treaty up``. Stops gracefully on SIGTERM / SIGINT.
"""

from __future__ import annotations

import asyncio
import signal

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

import settings as settings_mod
from activities.eventstore import EventStoreActivities
from eventstore.migrate import migrate
from eventstore.store import EventStore
from workflows.ratification import RatificationWorkflow
from workflows.treaty import TreatyWorkflow

WORKFLOWS = [TreatyWorkflow, RatificationWorkflow]

log = structlog.get_logger()


def build_worker(client: Client, store: EventStore, task_queue: str) -> Worker:
    """A worker for every treatyflow workflow and activity on ``task_queue``."""
    activities = EventStoreActivities(store)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[activities.append_events],
    )


async def run_worker(
    temporal_address: str, namespace: str, database_url: str, task_queue: str
) -> None:
    """Connect, migrate the event store, and poll ``task_queue`` until SIGTERM/SIGINT."""
    from cli.connect import connect_client

    client = await connect_client(temporal_address, namespace)
    await migrate(database_url)
    store = await EventStore.connect(database_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with build_worker(client, store, task_queue):
            log.info("worker started", task_queue=task_queue, temporal=temporal_address)
            await stop.wait()
            log.info("worker stopping")
    finally:
        await store.close()


def main() -> None:
    """Entry point: resolve the servers (embedded or configured) and run the worker."""
    from cli.logging import configure_logging
    from cli.stack import StackError, ensure_servers

    settings = settings_mod.load()
    configure_logging(settings)
    try:
        temporal_address, database_url = ensure_servers(settings)
    except StackError as err:
        raise SystemExit(f"error: {err}") from None
    asyncio.run(
        run_worker(temporal_address, settings.temporal_namespace, database_url, settings.task_queue)
    )


if __name__ == "__main__":
    main()
