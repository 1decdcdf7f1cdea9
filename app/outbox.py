"""The outbox of the reporting cycles' reminders: what is queued and how each was
delivered, and delivering the pending ones now (after a focal point was added, or the SMTP
server came back)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from activities.outbox import OutboxActivities, OutboxRow, list_outbox, smtp_settings
from eventstore.store import EventStore


def stream_prefix(treaty: str, year: int | None) -> str:
    """The streams whose messages are meant: a cycle's reports (``reporting-CCM-2011-``),
    or every cycle's of the treaty (``reporting-CCM-``)."""
    return f"reporting-{treaty}-{year}-" if year else f"reporting-{treaty}-"


async def rows(store: EventStore, prefix: str) -> list[OutboxRow]:
    """The outbox rows of the streams starting with ``prefix``."""
    return await list_outbox(store, prefix)


async def deliver_pending(
    store: EventStore, home: Path, prefix: str, failed: Callable[[str, str], None]
) -> list[OutboxRow]:
    """Deliver each pending message of ``prefix`` now (SMTP as configured, else an ``.eml``
    file under ``home``), each at most once delivered; ``failed(key, reason)`` for each that
    could not be. Returns the rows after."""
    from temporalio.exceptions import ApplicationError

    sender = OutboxActivities(store, home, smtp_settings())
    for row in await list_outbox(store, prefix):
        if row.delivered_at is None:
            try:
                await sender.deliver(row.key)
            except ApplicationError as err:
                failed(row.key, str(err))
    return await list_outbox(store, prefix)
