"""Reads for obligations and Meetings (Temporal queries); their commands go through
:meth:`app.commands.Commands.send` (kinds ``ratification`` and ``treaty``).

Imported by the commands of :mod:`cli.obligations` inside their functions only (it pulls
in temporalio and the workflow modules), and by tests.
"""

from __future__ import annotations

from temporalio.client import Client

from app import processes
from app.errors import Refused
from domain.errors import DomainError
from domain.obligations import Meeting, find_meeting


async def meetings(client: Client, treaty: str) -> list[Meeting]:
    """The Meetings the treaty process has recorded, by opening date."""
    view = await processes.treaty_view(client, treaty)
    if view is None:
        return []
    return sorted(view.state.meetings.values(), key=lambda m: m.opens_on)


async def meeting(client: Client, treaty: str, name: str) -> Meeting:
    """The Meeting called ``name`` as the treaty process records it;
    :class:`app.errors.Refused` naming the known ones (``treaty meetings import``)."""
    try:
        return find_meeting(await meetings(client, treaty), name)
    except DomainError as err:
        raise Refused(f"{err}; record it with `treaty meetings import`") from err
