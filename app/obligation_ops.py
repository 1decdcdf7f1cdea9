"""Staff operations on obligations and Meetings (Temporal Updates and queries).

Imported by the commands of :mod:`cli.obligations` inside their functions only (it pulls
in temporalio and the workflow modules), and by tests.
"""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.client import Client, WorkflowHandle

from app import service
from domain import ratification as r
from domain import treaty as t
from domain.errors import DomainError
from domain.obligations import Meeting, find_meeting
from domain.treaties import get_profile
from workflows.common import CommandMeta, Recorded
from workflows.ratification import ObligationRequest, RatificationWorkflow
from workflows.treaty import MeetingsRequest, TreatyWorkflow


async def send_obligation(
    handle: WorkflowHandle, command: r.ObligationCommand, meta: CommandMeta
) -> Recorded:
    """Send one obligation command as the ``record_obligation`` Update;
    :class:`app.service.Refused` if the process refuses it (nothing recorded)."""
    return await service._update(  # noqa: SLF001 - the one way commands are sent
        handle,
        RatificationWorkflow.record_obligation,
        ObligationRequest(command=command, meta=meta),  # type: ignore[arg-type]
    )


async def record_meetings(
    client: Client, treaty: str, command: t.RecordMeetings, meta: CommandMeta, task_queue: str
) -> Recorded:
    """Record Meetings on ``treaty:<CODE>`` (started if needed)."""
    handle = await service.ensure_treaty(client, treaty, task_queue)
    return await service._update(  # noqa: SLF001
        handle, TreatyWorkflow.record_meetings, MeetingsRequest(command=command, meta=meta)
    )


async def meetings(client: Client, treaty: str) -> list[Meeting]:
    """The Meetings the treaty process has recorded, by opening date."""
    view = await service.treaty_view(client, treaty)
    if view is None:
        return []
    return sorted(view.state.meetings.values(), key=lambda m: m.opens_on)


async def meeting(client: Client, treaty: str, name: str) -> Meeting:
    """The Meeting called ``name`` as the treaty process records it;
    :class:`app.service.Refused` naming the known ones (``treaty meetings import``)."""
    try:
        return find_meeting(await meetings(client, treaty), name)
    except DomainError as err:
        raise service.Refused(f"{err}; record it with `treaty meetings import`") from err


async def prepare(
    client: Client, treaty: str, state: str, command: r.ObligationCommand
) -> WorkflowHandle:
    """The handle of the State's running process, after checking ``command`` locally on
    its state; :class:`app.service.Refused` if it would be refused or there is no process
    (a State with no process has deposited nothing: it is not a State Party)."""
    view = await service.ratification_view(client, treaty, state)
    if view is None:
        if isinstance(command, r.Withdraw):
            raise service.Refused(
                f"{state} is not a State Party to the {treaty}: no instrument of "
                "ratification or accession is recorded for it, so it has nothing to withdraw "
                "from"
            )
        raise service.Refused(
            f"no ratification process for {state} under the {treaty}: the treaty is not in "
            "force for it, so it owes nothing yet"
        )
    # a process in force before obligations existed opens them with this command
    today = datetime.now(UTC).date()
    missing = r.obligations_at_entry_into_force(view.state, get_profile(treaty), today)
    service.precheck(r.fold(view.state, missing), [command], view.context)
    return client.get_workflow_handle(view_id(treaty, state))


def view_id(treaty: str, state: str) -> str:
    from domain import ids

    return ids.ratification_workflow_id(treaty, state)
