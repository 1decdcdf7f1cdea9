"""``treaty obligations``, ``treaty deadlines`` and the obligation commands of
``treaty ratification`` (stockpiles, contamination, extension-request, extension-decision,
report, compliance-declaration, withdraw, armed-conflict).

Reads (obligations, deadlines) fold the event store; commands go to the State's
ratification process as Updates (a refused one changes nothing: exit 1). Temporal and the
workflow modules are imported inside the commands only, so ``treaty --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

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
    _state,
    _treaty,
    lazy_function,
    provenance_meta,
    report_channel,
    require_source,
)

# The pydantic models are imported when a command uses them, not to print help.
if TYPE_CHECKING:
    from domain import ratification as r
    from domain.treaties import get_profile
    from workflows.common import CommandMeta
else:
    r = LazyModule("domain.ratification")
    get_profile = lazy_function("domain.treaties", "get_profile")

#: ``treaty obligations`` and ``treaty deadlines`` (top-level commands).
app = typer.Typer()
#: The obligation commands under ``treaty ratification``.
ratification_commands = typer.Typer()

STATUSES = ("open", "overdue", "met", "ended", "all")
StateArg = Annotated[str, typer.Argument(help="State name or ISO code, e.g. Bulgaria or BGR.")]
ObligationOpt = Annotated[
    str,
    typer.Option(
        "--obligation",
        help="initial-report, annual-report-YYYY, stockpile-destruction or clearance.",
    ),
]


# --- reads -----------------------------------------------------------------------------------


def _load(code: str, iso: str | None, as_of: date | None = None) -> list[r.RatificationState]:
    """The ratification processes the read commands show (:func:`app.obligations_view.states`;
    a State with nothing recorded is refused, exit 1)."""

    async def work(rt: Runtime) -> list[r.RatificationState]:
        from app import obligations_view

        return await obligations_view.states(await rt.store(), code, iso, as_of)

    return _run(work)


def _rule(row: dict[str, Any]) -> str:
    rule = row["article"]
    if len(row["deadlines"]) > 1:
        rule += f"; {row['deadlines'][-1]['basis']}"
    return rule


@app.command("obligations")
def obligations(
    state: Annotated[str | None, typer.Argument(help="One State (name or ISO code).")] = None,
    status: Annotated[
        str,
        typer.Option(
            "--status", help="open (incl. overdue), overdue, met, ended or all.", show_default=True
        ),
    ] = "open",
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date (default: today).")] = None,
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """Table of the obligations of the States Parties: rule, deadline in force, status
    (open, overdue, met, ended by withdrawal), from the event store."""
    if status not in STATUSES:
        raise typer.BadParameter(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
    code = _treaty(treaty)
    iso = _state(state) if state else None
    day = _parse_date(as_of) or date.today()
    from app.obligations_view import obligation_rows

    rows = obligation_rows(_load(code, iso, day), code, status, day)
    if as_json:
        render.print_json(rows)
        return
    from rich.table import Table

    table = Table(
        title=f"{get_profile(code).name} ({code}): obligations on {day}", header_style="bold"
    )
    for col in ("State", "Obligation", "Rule", "Due on", "Status", "Met on (channel)"):
        table.add_column(col)
    for x in rows:
        met = f"{x['met_on']} ({x['channel']})" if x["met_on"] else ""
        table.add_row(
            x["name"], x["obligation"], _rule(x), x["due_on"].isoformat(), x["status"], met
        )
    render.out.print(table)
    render.out.print(render.count(len(rows), "obligation"))


def to_ics(rows: list[dict[str, Any]], title: str) -> bytes:
    """An iCalendar (RFC 5545) calendar with one all-day VEVENT per row: summary
    "<State>: <obligation> due", the rule and every deadline it had in the description,
    a UID stable across exports (``<treaty>-<ISO3>-<key>@treatyflow``) so a subscribed
    calendar updates the event when a deadline moves."""
    from datetime import UTC, datetime, timedelta

    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//treatyflow//treaty deadlines//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", title)
    stamp = datetime.now(UTC).replace(microsecond=0)
    for x in rows:
        event = Event()
        event.add("uid", f"{x['treaty']}-{x['state']}-{x['obligation']}@treatyflow")
        event.add("dtstamp", stamp)
        event.add("dtstart", x["due_on"])
        event.add("dtend", x["due_on"] + timedelta(days=1))
        event.add("summary", f"{x['name']}: {x['obligation']} due ({x['article']})")
        history = "; ".join(f"{d['due_on']} ({d['basis']})" for d in x["deadlines"])
        lines = [
            f"Rule: {x['article']}",
            f"State: {x['name']} ({x['state']}), {x['treaty']}",
            f"Deadline in force: {x['due_on'].isoformat()} ({x['status']})",
            f"Deadlines: {history}",
        ]
        if x["covers"]:
            lines.append(f"Covers: {x['covers']}")
        if x["extension_request"]:
            req = x["extension_request"]
            lines.append(
                f"Extension requested to {req['requested_until']}, before the {req['meeting']}"
            )
        event.add("description", "\n".join(lines))
        event.add("categories", [x["treaty"], x["kind"]])
        cal.add_component(event)
    return cal.to_ical()


@app.command("deadlines")
def deadlines(
    start: Annotated[str | None, typer.Option("--from", help="First due date, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last due date, YYYY-MM-DD.")] = None,
    state: Annotated[str | None, typer.Option("--state", help="One State.")] = None,
    ics: Annotated[
        str | None,
        typer.Option("--ics", help="Write an iCalendar file (FILE, or - for stdout)."),
    ] = None,
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """Every open obligation's deadline, sorted by date, with the rule cited; --ics writes
    an iCalendar file (one event per open obligation) staff can subscribe to."""
    code = _treaty(treaty)
    first, last = _parse_date(start), _parse_date(end)
    if first and last and last < first:
        raise typer.BadParameter(f"--to {last} is before --from {first}")
    iso = _state(state) if state else None
    from app.obligations_view import deadline_rows

    rows = deadline_rows(_load(code, iso), code, first, last, date.today())
    if ics is not None:
        data = to_ics(rows, f"{code} deadlines")
        if ics == "-":
            import sys

            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        try:
            Path(ics).write_bytes(data)
        except OSError as err:
            raise Failure(f"cannot write {ics}: {err.strerror or err}", EXIT_REFUSED) from None
    if as_json:
        render.print_json(rows)
        return
    if ics is not None:
        render.out.print(f"wrote {render.count(len(rows), 'event')} to {ics}")
        return
    from rich.table import Table

    table = Table(title=f"{get_profile(code).name} ({code}): deadlines", header_style="bold")
    for col in ("Due on", "State", "Obligation", "Rule", "Status"):
        table.add_column(col)
    for x in rows:
        table.add_row(x["due_on"].isoformat(), x["name"], x["obligation"], _rule(x), x["status"])
    render.out.print(table)


# --- commands ----------------------------------------------------------------------------


def _send(
    treaty: str,
    state: str,
    build: Callable[[Any], Any],
    meta: CommandMeta,
    as_json: bool,
    meetings: tuple[str, ...] = (),
    kind: type | None = None,
) -> None:
    """Build the command (``build(meetings)``, the named Meetings as the treaty process
    records them), check it on the process's state and send it as an Update.

    What can be refused without the process (a date in the future or before the treaty
    was opened for signature: :func:`domain.ratification.check_command`) is refused
    first, exit 1, before any server is contacted (as ``sign`` and ``deposit`` do)."""
    if not meetings:
        _check_first(treaty, build(()))
    # ``kind``: the command's type when it can only be built with the Meetings found
    require_source(kind or build(()), meta)

    async def work(rt: Runtime) -> Any:
        from app import meetings as app_meetings
        from app.commands import Commands, ProcessRef
        from app.errors import Refused

        client = await rt.client()
        try:
            store = await rt.store()
            found = [await app_meetings.meeting(store, treaty, name) for name in meetings]
            command = build(found)
            _check_first(treaty, command)
            return await Commands(client, rt.settings.task_queue).send(
                ProcessRef("ratification", treaty, state), command, meta
            )
        except Refused as err:
            raise Failure(f"refused: {err}", EXIT_REFUSED) from None

    recorded = _run(work)
    if as_json:
        render.print_json(recorded.model_dump(mode="json"))
    else:
        from domain import ids

        render.out.print(
            f"{ids.ratification_workflow_id(treaty, state)}: recorded "
            f"{', '.join(recorded.events) or 'nothing new'} (version {recorded.version})"
        )


def _check_first(treaty: str, command: Any) -> None:
    """Refuse (exit 1) what :func:`domain.ratification.check_command` refuses."""
    from domain.errors import DomainError

    try:
        r.check_command(command, get_profile(treaty), date.today())
    except DomainError as err:
        raise Failure(f"refused: {err}", EXIT_REFUSED) from None


def _not_future(what: str, day: date | None) -> None:
    """Refuse (exit 1, no server contacted) a ``--date`` in the future."""
    if day is not None and day > date.today():
        raise Failure(
            f"refused: {what} {day.isoformat()} is in the future "
            f"(today is {date.today().isoformat()})",
            EXIT_REFUSED,
        )


def _day(value: str) -> date:
    day = _parse_date(value)
    assert day is not None
    return day


@ratification_commands.command("stockpiles")
def stockpiles(
    state: StateArg,
    on: Annotated[str, typer.Option("--date", help="Date of the declaration, YYYY-MM-DD.")],
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The State declared stockpiles: opens stockpile destruction (by the treaty's
    rule, e.g. CCM Art. 3(2): 8 years after its entry into force; APMBC Art. 4: 4 years)."""
    command = r.DeclareStockpiles(declared_on=_day(on))
    _send(
        _treaty(treaty),
        _state(state),
        lambda _: command,
        provenance_meta(on_behalf_of, source),
        as_json,
    )


@ratification_commands.command("contamination")
def contamination(
    state: StateArg,
    on: Annotated[str, typer.Option("--date", help="Date of the declaration, YYYY-MM-DD.")],
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The State declared contaminated areas: opens clearance (by the treaty's rule, e.g. CCM
    Art. 4(1)(a), APMBC Art. 5(1): 10 years after its entry into force)."""
    command = r.DeclareContamination(declared_on=_day(on))
    _send(
        _treaty(treaty),
        _state(state),
        lambda _: command,
        provenance_meta(on_behalf_of, source),
        as_json,
    )


@ratification_commands.command("extension-request")
def extension_request(
    state: StateArg,
    obligation: ObligationOpt,
    until: Annotated[str, typer.Option("--until", help="Deadline requested, YYYY-MM-DD.")],
    meeting: Annotated[str, typer.Option("--meeting", help="The Meeting to decide it (2MSP).")],
    on: Annotated[str, typer.Option("--date", help="Date the request was submitted.")],
    exceptional: Annotated[
        bool,
        typer.Option("--exceptional-circumstances", help="A further request (e.g. CCM Art. 3(3))."),
    ] = False,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Request an extension of a deadline, within the treaty's limits (e.g. CCM Art. 3(3)-(5):
    up to 4 years; Art. 4(5)-(8): up to 5 years, before the deadline, and at least nine
    months before the Meeting opens; APMBC Art. 5(3)-(6): up to 10 years)."""
    requested, filed = _day(until), _day(on)
    _not_future("request date", filed)
    _send(
        _treaty(treaty),
        _state(state),
        lambda found: r.RequestExtension(
            key=obligation,
            requested_until=requested,
            meeting=found[0],
            filed_on=filed,
            exceptional_circumstances=exceptional,
        ),
        provenance_meta(on_behalf_of, source),
        as_json,
        meetings=(meeting,),
        kind=r.RequestExtension,
    )


@ratification_commands.command("extension-decision")
def extension_decision(
    state: StateArg,
    obligation: ObligationOpt,
    meeting: Annotated[str, typer.Option("--meeting", help="The Meeting that decided (2MSP).")],
    granted_until: Annotated[
        str | None,
        typer.Option("--granted-until", help="Deadline granted (the one requested or earlier)."),
    ] = None,
    refused: Annotated[bool, typer.Option("--refused", help="The request was refused.")] = False,
    on: Annotated[
        str | None, typer.Option("--date", help="Date of the decision (default: last day).")
    ] = None,
    votes_for: Annotated[int | None, typer.Option("--votes-for")] = None,
    votes_against: Annotated[int | None, typer.Option("--votes-against")] = None,
    abstentions: Annotated[int | None, typer.Option("--abstentions")] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the Meeting's decision on a pending request: granted (to --granted-until) or
    --refused, by a majority of States Parties present and voting (by the treaty's rule,
    e.g. CCM Art. 3(5), 4(7); APMBC Art. 5(6))."""
    if (granted_until is None) == (not refused):
        raise typer.BadParameter("give --granted-until YYYY-MM-DD, or --refused")
    granted = _parse_date(granted_until)
    decided = _parse_date(on)
    _not_future("decision date", decided)
    _send(
        _treaty(treaty),
        _state(state),
        lambda found: r.DecideExtension(
            key=obligation,
            meeting=found[0],
            granted_until=granted,
            decided_on=decided,
            votes_for=votes_for,
            votes_against=votes_against,
            abstentions=abstentions,
        ),
        provenance_meta(on_behalf_of, source),
        as_json,
        meetings=(meeting,),
        kind=r.DecideExtension,
    )


ChannelOpt = Annotated[
    str,
    typer.Option(
        "--channel",
        help="How it was received: email, online, post, hand, note-verbale, other.",
        callback=report_channel,
    ),
]
DocumentOpt = Annotated[str | None, typer.Option("--document", help="Its reference, if any.")]


@ratification_commands.command("report")
def report(
    state: StateArg,
    obligation: ObligationOpt,
    on: Annotated[str, typer.Option("--date", help="Date the report was received.")],
    channel: ChannelOpt,
    document: DocumentOpt = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A transparency report the State owed was received (e.g. CCM Art. 7, ATT Art. 13)."""
    command = r.RecordReport(
        key=obligation, received_on=_day(on), channel=channel, document=document
    )
    _send(
        _treaty(treaty),
        _state(state),
        lambda _: command,
        provenance_meta(on_behalf_of, source),
        as_json,
    )


@ratification_commands.command("compliance-declaration")
def compliance_declaration(
    state: StateArg,
    obligation: ObligationOpt,
    on: Annotated[str, typer.Option("--date", help="Date of the declaration.")],
    channel: ChannelOpt,
    document: DocumentOpt = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The State declared it completed stockpile destruction or clearance (e.g. CCM
    Art. 3, 4(1)(c)); the obligation must be open."""
    command = r.DeclareCompliance(
        key=obligation, declared_on=_day(on), channel=channel, document=document
    )
    _send(
        _treaty(treaty),
        _state(state),
        lambda _: command,
        provenance_meta(on_behalf_of, source),
        as_json,
    )


@ratification_commands.command("withdraw")
def withdraw(
    state: StateArg,
    on: Annotated[str, typer.Option("--date", help="Date the depositary received it.")],
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The depositary received the State's instrument of withdrawal: effective by the
    treaty's rule (e.g. CCM Art. 20(3): six months later, not before the end of an armed
    conflict the State is engaged in then; ATT Art. 24(2): 90 days)."""
    command = r.Withdraw(received_on=_day(on))
    _send(
        _treaty(treaty),
        _state(state),
        lambda _: command,
        provenance_meta(on_behalf_of, source),
        as_json,
    )


@ratification_commands.command("armed-conflict")
def armed_conflict(
    state: StateArg,
    since: Annotated[
        str | None, typer.Option("--since", help="Start of the armed conflict.")
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="What conflict, and the source.")
    ] = None,
    ended: Annotated[str | None, typer.Option("--ended", help="Its end, YYYY-MM-DD.")] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record that the State is engaged in an armed conflict (--since, --description), or
    its end (--ended alone) (e.g. CCM Art. 20(3), APMBC Art. 20(3))."""
    command: r.RecordArmedConflict | r.EndArmedConflict
    if since is not None:
        command = r.RecordArmedConflict(
            since=_day(since), description=description or "", ended_on=_parse_date(ended)
        )
    elif ended is not None:
        command = r.EndArmedConflict(ended_on=_day(ended))
    else:
        raise typer.BadParameter("give --since D --description TEXT, or --ended D")
    _send(
        _treaty(treaty),
        _state(state),
        lambda _: command,
        provenance_meta(on_behalf_of, source),
        as_json,
    )
