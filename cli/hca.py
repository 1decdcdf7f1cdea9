"""``treaty hca``: host-country agreements for meetings (``hca:<CODE>:<meeting>``).

Commands go to the process as Updates (checked here first and by the workflow's
validator; a refused one records nothing, exit 1); ``show`` folds the process from the
event store. No temporalio at load time.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cli import render
from cli.runtime import (
    EXIT_REFUSED,
    Failure,
    JsonOpt,
    LazyModule,
    OnBehalfOfOpt,
    Runtime,
    SourceOpt,
    TreatyOpt,
    _parse_date,
    _run,
    _treaty,
    provenance_meta,
    require_source,
)
from domain import ids
from domain.errors import DomainError

# The pydantic models are imported when a command uses them, not to print help.
if TYPE_CHECKING:
    from pydantic import BaseModel

    from domain import hca as h
else:
    h = LazyModule("domain.hca")

#: ``domain.hca.MILESTONES`` and ``PREPARATIONS``, repeated here for the arguments' help so
#: that printing help imports no model (tests/e2e/test_cli_lazy.py checks they are equal).
MILESTONES = ("draft-received", "negotiations", "text-agreed", "signed", "in-force")
PREPARATIONS = ("venue", "focal_point", "task_force", "funding_need", "funding_pledge")

hca_app = typer.Typer(
    help=(
        "Host-country agreements (hca:<CODE>:<meeting>): milestones due before the meeting "
        "opens, escalation to the Presidency when one slips, preparations and pledges."
    ),
    no_args_is_help=True,
)

MeetingArg = Annotated[str, typer.Argument(help="The meeting, e.g. 2MSP.")]


def _today() -> date:
    return date.today()


def _meeting(text: str) -> str:
    name = text.strip()
    if not name or ":" in name or any(c.isspace() for c in name):
        raise typer.BadParameter(f"{text!r} is not a meeting name: e.g. 2MSP (no spaces)")
    return name


def _send(treaty: str, meeting: str, command: BaseModel, meta: Any, as_json: bool) -> None:
    try:
        h.check_command(command, _today())
    except DomainError as err:
        raise Failure(f"refused: {err}", EXIT_REFUSED) from None

    require_source(command, meta)

    async def work(rt: Runtime) -> Any:
        from app.commands import Commands, ProcessRef

        client = await rt.client()
        return await Commands(client, rt.settings.task_queue).send(
            ProcessRef("hca", treaty, meeting), command, meta
        )

    recorded = _run(work)
    if as_json:
        render.print_json(recorded.model_dump(mode="json"))
    else:
        render.out.print(
            f"{ids.hca_workflow_id(treaty, meeting)}: recorded "
            f"{', '.join(recorded.events) or 'nothing new'} (version {recorded.version})"
        )


def _date(value: str | None, name: str) -> date:
    day = _parse_date(value)
    if day is None:
        raise typer.BadParameter(f"give {name} YYYY-MM-DD")
    return day


def _margins(values: list[str] | None) -> dict[str, int]:
    margins: dict[str, int] = {}
    for value in values or []:
        key, _, days = value.partition("=")
        try:
            margins[key.strip()] = int(days)
        except ValueError:
            raise typer.BadParameter(
                f"--margin {value!r}: expected MILESTONE=DAYS, e.g. text-agreed=90"
            ) from None
    try:
        h.margins_with(margins)
    except DomainError as err:
        raise typer.BadParameter(f"--margin: {err}") from None
    return margins


@hca_app.command("open")
def open_agreement(
    meeting: MeetingArg,
    host: Annotated[str, typer.Option(help="The host State, e.g. Lebanon.")],
    opens_on: Annotated[
        str | None, typer.Option(help="Opening date (default: the Meeting as recorded).")
    ] = None,
    closes_on: Annotated[str | None, typer.Option(help="Closing date.")] = None,
    city: Annotated[str | None, typer.Option(help="The city.")] = None,
    venue: Annotated[str | None, typer.Option(help="The venue.")] = None,
    counterpart: Annotated[str, typer.Option(help="The other party.")] = "UNODA",
    presidency: Annotated[
        str | None, typer.Option(help="State holding the Presidency (default: the host).")
    ] = None,
    margin: Annotated[
        list[str] | None,
        typer.Option(help="MILESTONE=DAYS before the opening (repeat); defaults: see docs."),
    ] = None,
    on: Annotated[str | None, typer.Option("--on", help="Date recorded (default: today).")] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open the host-country agreement process for a meeting; every milestone is due a
    margin of days before the opening (0 to 730 days, in the milestones' order). The
    dates and city default to the Meeting as the treaty process records it (`treaty
    meetings import FILE`). Due dates already past when recorded are marked so and never
    escalated."""
    code, name = _treaty(treaty), _meeting(meeting)
    margins = _margins(margin)  # usage errors first: the lookup below reads the record
    opens, closes = _parse_date(opens_on), _parse_date(closes_on)
    opened_on = _parse_date(on) or _today()
    if opens is None or closes is None or city is None:
        from cli.decision import recorded_meeting

        known = recorded_meeting(name, code)
        if known is None and (opens is None or closes is None):
            from app.meetings import not_recorded

            raise Failure(
                f"refused: {not_recorded(code, name, 'give --opens-on and --closes-on')}",
                EXIT_REFUSED,
            )
        if known is not None:
            opens, closes = opens or known.opens_on, closes or known.closes_on
            city = city or known.city
    assert opens is not None and closes is not None
    command = h.OpenAgreement(
        meeting=name,
        opens_on=opens,
        closes_on=closes,
        city=city,
        venue=venue,
        host=host,
        counterpart=counterpart,
        presidency=presidency,
        margins=margins,
        opened_on=opened_on,
    )
    _send(code, name, command, provenance_meta(on_behalf_of, source), as_json)


@hca_app.command("milestone")
def milestone(
    meeting: MeetingArg,
    key: Annotated[str, typer.Argument(help=", ".join(MILESTONES))],
    on: Annotated[str, typer.Option("--on", help="When it was reached, YYYY-MM-DD.")],
    note: Annotated[str | None, typer.Option(help="A note.")] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a milestone reached (negotiations: one round each time)."""
    command = h.ReachMilestone(
        milestone=key.strip().lower(), reached_on=_date(on, "--on"), note=note
    )
    _send(
        _treaty(treaty), _meeting(meeting), command, provenance_meta(on_behalf_of, source), as_json
    )


@hca_app.command("move-meeting")
def move_meeting(
    meeting: MeetingArg,
    opens_on: Annotated[str, typer.Option(help="New opening date.")],
    closes_on: Annotated[str, typer.Option(help="New closing date.")],
    on: Annotated[
        str | None, typer.Option("--on", help="Date of the change (default: today).")
    ] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move the meeting: every due date moves with its opening; a milestone now late is
    escalated to the Presidency at once."""
    command = h.MoveMeeting(
        opens_on=_date(opens_on, "--opens-on"),
        closes_on=_date(closes_on, "--closes-on"),
        decided_on=_parse_date(on) or _today(),
    )
    _send(
        _treaty(treaty), _meeting(meeting), command, provenance_meta(on_behalf_of, source), as_json
    )


@hca_app.command("prepare")
def prepare(
    meeting: MeetingArg,
    item: Annotated[str, typer.Argument(help=", ".join(PREPARATIONS))],
    detail: Annotated[str, typer.Option(help="What was prepared or pledged.")],
    on: Annotated[str | None, typer.Option("--on", help="Date (default: today).")] = None,
    donor: Annotated[
        str | None, typer.Option(help="A pledge's donor (State or organisation).")
    ] = None,
    amount: Annotated[str | None, typer.Option(help="A pledge's amount, e.g. 50000.")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217 code, e.g. USD.")] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a preparation: venue, focal point, task force, funding need or pledge."""
    command = h.RecordPreparation(
        item=item.strip().lower().replace("-", "_"),
        detail=detail,
        recorded_on=_parse_date(on) or _today(),
        donor=donor,
        amount=amount,
        currency=currency,
    )
    _send(
        _treaty(treaty), _meeting(meeting), command, provenance_meta(on_behalf_of, source), as_json
    )


def agreement_json(s: h.AgreementState, today: date) -> dict[str, Any]:
    """The JSON of ``treaty hca show --json``."""
    return {
        "workflow_id": ids.hca_workflow_id(s.treaty, s.meeting),
        "state": s.model_dump(mode="json"),
        "milestones": [
            {**m.model_dump(mode="json"), "status": m.status(today)} for m in s.milestones.values()
        ],
    }


def agreement_table(s: h.AgreementState, today: date) -> Table:
    """Milestones: due date, margin, reached, status, escalations."""
    title = (
        f"Host-country agreement for the {s.meeting} ({s.opens_on} to {s.closes_on}, "
        f"{s.city or '?'}{', ' + s.venue if s.venue else ''}): {s.host} with {s.counterpart}"
    )
    table = Table(title=title, header_style="bold")
    for col in ("Milestone", "Due", "Days before opening", "Reached", "Status", "Escalated to"):
        table.add_column(col)
    for m in s.milestones.values():
        reached = str(m.reached_on or "")
        if m.rounds:
            reached += f" ({len(m.rounds)} round{'s' if len(m.rounds) > 1 else ''})"
        status = m.status(today)
        if m.historical and m.reached_on is None:
            status += " (past when recorded: not escalated)"
        table.add_row(
            m.milestone,
            str(m.due_on),
            str(s.margins.get(m.milestone, "")),
            reached,
            status,
            (
                f"{s.presidency} (on {', '.join(str(x) for x in m.escalated_on or m.escalated)})"
                if m.escalated
                else ""
            ),
        )
    return table


@hca_app.command("show")
def show(meeting: MeetingArg, treaty: TreatyOpt = "CCM", as_json: JsonOpt = False) -> None:
    """The agreement: milestones with due dates and status, escalations, preparations."""
    code, name = _treaty(treaty), _meeting(meeting)

    async def work(rt: Runtime) -> Any:
        from app import decisions

        return await decisions.load_agreement(await rt.store(), code, name)

    s = _run(work)
    if s is None:
        raise Failure(f"nothing recorded for hca:{code}:{name}", EXIT_REFUSED)
    today = _today()
    if as_json:
        render.print_json(agreement_json(s, today))
        return
    render.out.print(agreement_table(s, today))
    for p in s.preparations:
        pledge = f" — {p.donor}: {p.amount} {p.currency}" if p.item == "funding_pledge" else ""
        render.out.print(f"{p.recorded_on} {p.item.replace('_', ' ')}: {p.detail}{pledge}")
    for opens, closes in s.moves:
        render.out.print(f"moved to {opens} – {closes}")
