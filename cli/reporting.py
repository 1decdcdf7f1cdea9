"""``treaty reporting ...`` and ``treaty contacts ...``: annual transparency reporting
(the treaty's reporting article: CCM Art. 7, APMBC Art. 7, ATT Art. 13) and the States'
focal points.

Refusals that need no record (a year or a date in the future, a malformed SHA-256) are
decided before any server is contacted; the others (no report due from that State, a
review of a report not received, an unknown contact) come from the record or from the
workflow's validator, and nothing is recorded. Workflow modules are imported inside the
commands so that ``treaty --help`` stays fast.
"""

from __future__ import annotations

import csv
import html
import io
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from cli import render
from cli.runtime import (
    EXIT_REFUSED,
    EXIT_USAGE,
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
from domain.errors import DomainError

# The pydantic models are imported when a command uses them, not to print help.
if TYPE_CHECKING:
    from app import reporting as app_reporting
    from domain import reporting as rp
    from domain.treaties import get_profile
else:
    app_reporting = LazyModule("app.reporting")
    rp = LazyModule("domain.reporting")
    get_profile = lazy_function("domain.treaties", "get_profile")

reporting_app = typer.Typer(
    help="Annual transparency reporting (the treaty's article: CCM Art. 7, APMBC Art. 7, "
    "ATT Art. 13): open a cycle, record submissions and "
    "reviews, follow the figures, the yearly schedule and the outbox.",
    no_args_is_help=True,
)
contacts_app = typer.Typer(
    help="The States' reporting focal points, to whom reminders are e-mailed.",
    no_args_is_help=True,
)

YearOpt = Annotated[int, typer.Option("--year", "-y", help="The reporting year (deadline year).")]


def _refused(err: DomainError) -> Failure:
    return Failure(f"refused: {err}", EXIT_REFUSED)


def _today() -> date:
    return date.today()


# --- reads from the record ----------------------------------------------------------------


async def _cycle(rt: Runtime, treaty: str, year: int) -> rp.CycleState:
    return await app_reporting.cycle(await rt.store(), treaty, year)


async def _require_cycle(rt: Runtime, treaty: str, year: int) -> rp.CycleState:
    from app.reporting import require_cycle

    return require_cycle(await _cycle(rt, treaty, year), treaty, year, _today())


async def _reports(rt: Runtime, cycle: rp.CycleState) -> list[rp.ReportState]:
    return await app_reporting.reports(await rt.store(), cycle)


# --- open / close -------------------------------------------------------------------------------


@reporting_app.command("open")
def open_cycle(
    year: YearOpt,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open the annual reporting cycle of YEAR: one report per State Party that owes it
    (by the treaty's annual report rule, e.g. CCM Art. 7(2); not a State whose initial
    report still runs), with the
    reminders of the policy. A cycle whose closing date has passed (the record of an
    earlier year) sends no reminders; close it with `treaty reporting close`."""
    code = _treaty(treaty)
    profile = get_profile(code)
    try:
        rp.check_year(profile, year, _today())
    except DomainError as err:
        raise _refused(err) from None
    meta = provenance_meta(on_behalf_of, source)

    async def work(rt: Runtime) -> Any:
        from app.commands import Commands

        commands = Commands(await rt.client(), rt.settings.task_queue)
        return await app_reporting.open_cycle(
            commands, await rt.store(), code, year, meta, _today()
        )

    cycle: rp.CycleState = _run(work)
    if as_json:
        render.print_json(cycle.model_dump(mode="json"))
        return
    o = render.out
    o.print(
        f"{rp.cycle_workflow_id(code, year)} opened: "
        f"{render.count(len(cycle.states), 'State')} owe the annual report due {cycle.due_on} "
        f"(covering {year - 1}; {profile.obligations.annual_report_article}); the cycle closes "
        f"on {cycle.closes_on}"
    )
    if not cycle.states and not cycle.not_due:
        o.print(
            f"no State Party of the {code} is recorded (no entry into force in any "
            "ratification process): the cycle is empty. Import the status table "
            "(`treaty import`) first to have reports requested."
        )
    if cycle.not_due:
        o.print(
            f"not asked this year ({len(cycle.not_due)}; initial report still running, "
            f"{profile.obligations.initial_report.article}): {', '.join(cycle.not_due)}"
        )
    if cycle.historical:
        o.print(
            "Its closing date has passed: no reminders are sent. Record the submissions, then "
            f"`treaty reporting close --year {year}`."
        )


@reporting_app.command("close")
def close_cycle(
    year: YearOpt,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Close the cycle now and record its figures (a cycle of an earlier year is closed
    this way; a current one closes by itself on its closing date)."""
    code = _treaty(treaty)
    meta = provenance_meta(on_behalf_of, source)

    async def work(rt: Runtime) -> rp.Figures:
        from app.commands import CloseCycle, Commands, ProcessRef

        cycle = await _require_cycle(rt, code, year)
        if cycle.closed:
            raise Failure(
                f"refused: the {code} {year} cycle was already closed on {cycle.closed_on}",
                EXIT_REFUSED,
            )
        client = await rt.client()
        return await Commands(client, rt.settings.task_queue).send(
            ProcessRef("reporting", code, str(year)), CloseCycle(), meta
        )

    fig = _run(work)
    if as_json:
        render.print_json(_figures_json(fig))
        return
    render.out.print(_figures_table(fig, f"{code} {year}: figures recorded at the close"))


# --- submit / withdraw / review ---------------------------------------------------------------


def _stockpiles(items: list[str]) -> dict[str, int] | None:
    if not items:
        return None
    out: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            count = int(value)
        except ValueError:
            count = -1
        if not sep or not name.strip() or count < 0:
            raise typer.BadParameter(
                f"--stockpile {item!r}: expected TYPE=COUNT with a count >= 0, e.g. M26=120"
            )
        out[name.strip()] = count
    return out


async def _send_report_update(
    rt: Runtime, code: str, year: int, state: str, command: Any, meta: Any
) -> Any:
    from app.commands import Commands, ProcessRef

    cycle = await _require_cycle(rt, code, year)
    app_reporting.require_due(cycle, state)
    if cycle.closed:
        raise Failure(
            f"refused: the {code} {year} cycle was closed on {cycle.closed_on}: {state}'s "
            "report can no longer change",
            EXIT_REFUSED,
        )
    client = await rt.client()
    return await Commands(client, rt.settings.task_queue).send(
        ProcessRef("report", code, f"{year}:{state}"), command, meta
    )


def _print_recorded(recorded: Any, workflow_id: str, as_json: bool) -> None:
    if as_json:
        render.print_json(recorded.model_dump(mode="json"))
    else:
        render.out.print(
            f"{workflow_id}: recorded {', '.join(recorded.events) or 'nothing new'} "
            f"(version {recorded.version})"
        )


@reporting_app.command("submit")
def submit(
    state: Annotated[str, typer.Argument(help="State name or ISO code.")],
    year: YearOpt,
    received_on: Annotated[
        str | None, typer.Option("--received-on", help="Date received (default: today).")
    ] = None,
    period_from: Annotated[
        str | None, typer.Option(help="Start of the period covered (default: 1 Jan of YEAR-1).")
    ] = None,
    period_to: Annotated[
        str | None, typer.Option(help="End of the period covered (default: 31 Dec of YEAR-1).")
    ] = None,
    channel: Annotated[
        str,
        typer.Option(help="How it was received: email, online, post, hand, note-verbale, other."),
    ] = "email",
    reference: Annotated[str | None, typer.Option(help="Document symbol or file name.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="The report file: its SHA-256 is recorded.")
    ] = None,
    nothing_new: Annotated[
        bool, typer.Option("--nothing-new", help="The State reports no change (valid).")
    ] = False,
    stockpile: Annotated[
        list[str] | None,
        typer.Option(
            "--stockpile",
            help="TYPE=COUNT stockpiled (the treaty's rule, e.g. CCM Art. 7(1)(b)); repeatable.",
        ),
    ] = None,
    explanation: Annotated[
        str | None, typer.Option(help="Why figures changed since the previous report.")
    ] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a State's annual report as received; the review checks (late, period
    covered, stockpiles grown without explanation) are recorded as findings. Its source is
    --source, else the report itself (--reference, or --file's name): one is required."""
    code, iso = _treaty(treaty), _state(state)
    channel = report_channel(channel)
    sha = None
    if file is not None:
        try:
            sha = rp.file_sha256(file.read_bytes())
        except OSError as err:
            raise Failure(f"cannot read {file}: {err.strerror or err}", EXIT_USAGE) from None
        reference = reference or file.name
    sub = rp.Submission(
        received_on=_parse_date(received_on) or _today(),
        period_from=_parse_date(period_from),
        period_to=_parse_date(period_to),
        channel=channel,
        reference=reference,
        sha256=sha,
        nothing_new=nothing_new,
        stockpiles=_stockpiles(stockpile or []),
        explanation=explanation,
    )
    try:
        rp.check_submission(get_profile(code), year, sub, _today())
    except DomainError as err:
        raise _refused(err) from None

    command = rp.Submit(submission=sub)
    meta = provenance_meta(on_behalf_of, source or reference)  # the report is its own source
    require_source(command, meta)

    async def work(rt: Runtime) -> Any:
        return await _send_report_update(rt, code, year, iso, command, meta)

    _print_recorded(_run(work), rp.report_workflow_id(code, year, iso), as_json)


@reporting_app.command("withdraw")
def withdraw(
    state: Annotated[str, typer.Argument(help="State name or ISO code.")],
    year: YearOpt,
    on: Annotated[str | None, typer.Option("--date", help="Date (default: today).")] = None,
    reason: Annotated[str | None, typer.Option(help="Why it is withdrawn.")] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record that the State withdrew its report (it may submit again)."""
    code, iso = _treaty(treaty), _state(state)
    command = rp.Withdraw(withdrawn_on=_parse_date(on) or _today(), reason=reason)

    meta = provenance_meta(on_behalf_of, source)

    async def work(rt: Runtime) -> Any:
        return await _send_report_update(rt, code, year, iso, command, meta)

    _print_recorded(_run(work), rp.report_workflow_id(code, year, iso), as_json)


@reporting_app.command("review")
def review(
    state: Annotated[str, typer.Argument(help="State name or ISO code.")],
    year: YearOpt,
    accept: Annotated[bool, typer.Option("--accept", help="Accept the report.")] = False,
    inconsistency: Annotated[
        str | None, typer.Option("--inconsistency", help="Note an inconsistency (text).")
    ] = None,
    clarification: Annotated[
        str | None, typer.Option("--clarification", help="Request a clarification (text).")
    ] = None,
    answer: Annotated[
        str | None, typer.Option("--answer", help="Record the State's answer (text).")
    ] = None,
    on: Annotated[str | None, typer.Option("--date", help="Date (default: today).")] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Review a received report: --accept, --inconsistency TEXT, --clarification TEXT, or
    --answer TEXT (exactly one)."""
    given = [
        (a, t)
        for a, t in (
            ("accept", "" if accept else None),
            ("inconsistency", inconsistency),
            ("clarification", clarification),
            ("answer", answer),
        )
        if t is not None
    ]
    if len(given) != 1:
        raise typer.BadParameter(
            "give exactly one of --accept, --inconsistency TEXT, --clarification TEXT, "
            "--answer TEXT"
        )
    action, text = given[0]
    code, iso = _treaty(treaty), _state(state)
    command = rp.Review(action=action, on=_parse_date(on) or _today(), text=text or None)  # type: ignore[arg-type]
    if command.on > _today():
        raise Failure(f"refused: review date {command.on} is in the future", EXIT_REFUSED)

    meta = provenance_meta(on_behalf_of, source)

    async def work(rt: Runtime) -> Any:
        return await _send_report_update(rt, code, year, iso, command, meta)

    _print_recorded(_run(work), rp.report_workflow_id(code, year, iso), as_json)


# --- status and report --------------------------------------------------------------------------


def _line(r: rp.ReportState, closed: bool, today: date) -> dict[str, Any]:
    outcome = r.outcome()
    if outcome == "missing":
        shown = "missing" if closed or (r.due_on and today > r.due_on) else "not yet received"
    else:
        shown = "on time" if outcome == "on_time" else "late"
    return {
        "state": r.state,
        "name": render.state_name(r.state),
        "due_on": r.due_on,
        "received_on": r.received_on if r.received else None,
        "status": shown,
        "outcome": outcome,
        "reminders": len(r.reminders),
        "review": r.review,
        "findings": [f.text for f in r.findings],
    }


@reporting_app.command("status")
def status(year: YearOpt, treaty: TreatyOpt = "CCM", as_json: JsonOpt = False) -> None:
    """Table of the cycle's reports: received on, on time / late / missing, reminders sent,
    review and findings, with a progress bar of received / due."""
    code = _treaty(treaty)

    async def work(rt: Runtime) -> tuple[rp.CycleState, list[rp.ReportState]]:
        cycle = await _require_cycle(rt, code, year)
        return cycle, await _reports(rt, cycle)

    cycle, reports = _run(work)
    today = _today()
    lines = [_line(r, cycle.closed, today) for r in reports]
    received = sum(1 for x in lines if x["outcome"] != "missing")
    if as_json:
        render.print_json(
            {
                "cycle": rp.cycle_workflow_id(code, year),
                "due_on": cycle.due_on,
                "closes_on": cycle.closes_on,
                "closed": cycle.closed,
                "due": len(lines),
                "received": received,
                "reports": lines,
                "not_due": cycle.not_due,
            }
        )
        return
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    table = Table(
        title=f"{code} {year} annual reports (due {cycle.due_on}, covering {year - 1})",
        header_style="bold",
    )
    for col in ("State", "Name", "Received", "Status", "Reminders", "Review", "Findings"):
        table.add_column(col)
    style = {"on time": "green", "late": "yellow", "missing": "red"}
    for x in lines:
        table.add_row(
            x["state"],
            x["name"],
            x["received_on"].isoformat() if x["received_on"] else "",
            f"[{style.get(x['status'], 'dim')}]{x['status']}[/]",
            str(x["reminders"]),
            x["review"].replace("_", " "),
            "; ".join(x["findings"]),
        )
    o = render.out
    o.print(table)
    o.print(f"received {received} / due {len(lines)}")
    o.print(ProgressBar(total=max(len(lines), 1), completed=received, width=50))
    state = (
        f"closed on {cycle.closed_on}"
        if cycle.closed
        else f"open; closes on {cycle.closes_on}"
        + (" (historical: close it with `treaty reporting close`)" if cycle.historical else "")
    )
    o.print(f"cycle {state}")


def _figures_json(fig: rp.Figures) -> dict[str, Any]:
    return {
        "due": fig.due,
        "received": fig.received,
        "on_time": fig.on_time,
        "late": fig.late,
        "missing": fig.missing,
        "on_time_rate": None if fig.on_time_rate is None else round(fig.on_time_rate, 4),
        "per_state": {k: v.model_dump(mode="json") for k, v in fig.per_state.items()},
    }


def report_json(treaty: str, year: int, fig: rp.Figures, final: bool) -> dict[str, Any]:
    """`reporting report --json`: ``cycle``, ``year``, ``final`` (figures recorded at the
    close, else provisional), the figures (``on_time_rate``: null when none is due) and
    ``states``: one row per State (``state``, ``name``, ``outcome``, ``received_on``)."""
    data = _figures_json(fig)
    per_state = data.pop("per_state")
    return {
        "cycle": rp.cycle_workflow_id(treaty, year),
        "year": year,
        "final": final,
        **data,
        "states": [{"state": k, "name": render.state_name(k), **v} for k, v in per_state.items()],
    }


def _figures_table(fig: rp.Figures, title: str) -> Any:
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for col in ("Due", "Received", "On time", "Late", "Missing", "On-time rate"):
        table.add_column(col, justify="right")
    table.add_row(
        str(fig.due),
        str(fig.received),
        str(fig.on_time),
        str(fig.late),
        str(fig.missing),
        fig.on_time_rate_text,
    )
    return table


def _names(fig: rp.Figures, outcome: str) -> list[str]:
    return [
        f"{render.state_name(k)} ({k})" for k, v in fig.per_state.items() if v.outcome == outcome
    ]


def render_report(
    treaty: str, year: int, fig: rp.Figures, final: bool, fmt: Literal["md", "csv", "html"]
) -> str:
    """The compliance report of a cycle as Markdown, CSV (one row per State) or HTML (with
    an inline SVG bar chart of on time / late / missing)."""
    title = f"{treaty} annual transparency reports {year} (covering {year - 1})"
    note = "figures recorded at the close" if final else "provisional: the cycle is open"
    late, missing = _names(fig, "late"), _names(fig, "missing")
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["state", "name", "outcome", "received_on"])
        for k, v in fig.per_state.items():
            w.writerow([k, render.state_name(k), v.outcome, v.received_on or ""])
        return buf.getvalue()
    rate = fig.on_time_rate_text
    if fmt == "md":
        lines = [
            f"# {title}",
            "",
            f"_{note}_",
            "",
            "| due | received | on time | late | missing | on-time rate |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {fig.due} | {fig.received} | {fig.on_time} | {fig.late} | {fig.missing} | {rate} |",
            "",
            f"**Late** ({len(late)}): {', '.join(late) or 'none'}",
            "",
            f"**Missing** ({len(missing)}): {', '.join(missing) or 'none'}",
            "",
        ]
        return "\n".join(lines)
    bars = [("On time", fig.on_time, "#2e7d32"), ("Late", fig.late, "#f9a825"),
            ("Missing", fig.missing, "#c62828")]  # fmt: skip
    top = max(fig.due, 1)
    label = f"on time {fig.on_time}, late {fig.late}, missing {fig.missing}"
    svg = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="520" height="110" role="img" '
        f'aria-label="{label}">'
    ]
    for i, (label, value, colour) in enumerate(bars):
        y = 10 + i * 32
        width = round(360 * value / top)
        svg.append(f'<text x="0" y="{y + 17}" font-size="14">{label}</text>')
        svg.append(f'<rect x="80" y="{y}" width="{width}" height="24" fill="{colour}"/>')
        svg.append(f'<text x="{86 + width}" y="{y + 17}" font-size="14">{value}</text>')
    svg.append("</svg>")
    e = html.escape
    return "\n".join(
        [
            "<!doctype html>",
            f'<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title></head><body>',
            f"<h1>{e(title)}</h1>",
            f"<p><em>{e(note)}</em></p>",
            "<table border='1' cellpadding='4'><tr><th>due</th><th>received</th><th>on time</th>"
            "<th>late</th><th>missing</th><th>on-time rate</th></tr>",
            f"<tr><td>{fig.due}</td><td>{fig.received}</td><td>{fig.on_time}</td>"
            f"<td>{fig.late}</td><td>{fig.missing}</td><td>{rate}</td></tr></table>",
            *svg,
            f"<h2>Late ({len(late)})</h2><p>{e(', '.join(late) or 'none')}</p>",
            f"<h2>Missing ({len(missing)})</h2><p>{e(', '.join(missing) or 'none')}</p>",
            "</body></html>",
            "",
        ]
    )


@reporting_app.command("report")
def report(
    year: YearOpt,
    fmt: Annotated[str, typer.Option("--format", help="md, csv or html.")] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (default: stdout).")
    ] = None,
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """The compliance figures of a cycle: due, received on time, late, missing, the on-time
    rate, the late and missing States (HTML: with a bar chart). Once the cycle closed,
    the figures it recorded; before, the figures so far (marked provisional). --json:
    the figures and one row per State (``--format`` is then ignored). CSV has one row per
    State and no totals row (a row of another shape would break the column types for
    spreadsheets and scripts): the totals are in md, html and --json."""
    if fmt not in ("md", "csv", "html"):
        raise typer.BadParameter(f"--format {fmt!r}: expected md, csv or html")
    code = _treaty(treaty)

    async def work(rt: Runtime) -> tuple[rp.Figures, bool]:
        cycle = await _require_cycle(rt, code, year)
        if cycle.figures is not None:
            return cycle.figures, True
        return rp.figures(await _reports(rt, cycle)), False

    fig, final = _run(work)
    if as_json:
        import json

        text = json.dumps(report_json(code, year, fig, final), indent=2, default=str) + "\n"
    else:
        text = render_report(code, year, fig, final, fmt)  # type: ignore[arg-type]
    if output is None:
        render.out.file.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        raise Failure(f"cannot write {output}: {err.strerror or err}", 1) from None
    render.err.print(f"wrote {output}")


# --- outbox --------------------------------------------------------------------------------------


@reporting_app.command("outbox")
def outbox(
    year: Annotated[int | None, typer.Option("--year", "-y", help="Only this cycle.")] = None,
    deliver: Annotated[
        bool,
        typer.Option(
            "--deliver", help="Deliver the pending ones now (e.g. after adding a focal point)."
        ),
    ] = False,
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """The reminders queued in the outbox and how each was delivered (SMTP, .eml file, or
    still pending with the last error); --deliver tries the pending ones again, each at
    most once delivered."""
    from app import outbox as app_outbox

    code = _treaty(treaty)
    prefix = app_outbox.stream_prefix(code, year)

    async def work(rt: Runtime) -> Any:
        store = await rt.store()
        if deliver:
            return await app_outbox.deliver_pending(
                store,
                rt.settings.home,
                prefix,
                lambda key, reason: render.err.print(f"{key}: {reason}"),
            )
        return await app_outbox.rows(store, prefix)

    rows = _run(work)
    if as_json:
        render.print_json([r.model_dump(mode="json") for r in rows])
        return
    from rich.table import Table

    table = Table(title=f"outbox: {prefix}*", header_style="bold")
    for col in ("Report", "Message", "Planned", "Delivered", "Via", "To", "Attempts", "Error"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.stream_id.removeprefix("reporting-"),
            r.template.removeprefix("reminder_"),
            str(r.planned_on or ""),
            (r.delivered_at or "pending")[:19],
            r.delivered_via or "",
            ", ".join(r.recipients or []),
            str(r.attempts),
            r.last_error or "",
        )
    render.out.print(table)
    delivered = sum(1 for r in rows if r.delivered_at)
    render.out.print(f"{render.count(len(rows), 'message')}, {delivered} delivered")


@reporting_app.command("schedule")
def schedule(
    treaty: TreatyOpt = "CCM",
    month: Annotated[
        int | None,
        typer.Option(min=1, max=12, help="Month the cycle opens (default: keep; new: 1)."),
    ] = None,
    day: Annotated[
        int | None,
        typer.Option(min=1, max=31, help="Day of the month (default: keep; new: 1)."),
    ] = None,
    pause: Annotated[bool, typer.Option("--pause", help="Pause the schedule.")] = False,
    unpause: Annotated[bool, typer.Option("--unpause", help="Resume the schedule.")] = False,
    delete: Annotated[bool, typer.Option("--delete", help="Delete the schedule.")] = False,
    trigger: Annotated[
        bool, typer.Option("--trigger", help="Run it now (opens this year's cycle).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create or change the Temporal Schedule that opens the reporting cycle each year
    (default: 1 January, 00:00 UTC; `treaty up` and the compose `migrate` service create
    it). Only --month/--day change its date; --pause, --unpause and --trigger leave it as
    it is."""
    code = _treaty(treaty)
    if pause and unpause:
        raise typer.BadParameter("--pause and --unpause contradict each other: give one")
    if delete and (pause or unpause or trigger or month is not None or day is not None):
        raise typer.BadParameter(
            "--delete cannot be combined with --pause, --unpause, --trigger, --month or --day"
        )
    if month is not None or day is not None:
        try:
            app_reporting.check_schedule_day(month or 1, day or 1)
        except ValueError as err:
            raise typer.BadParameter(str(err)) from None

    async def work(rt: Runtime) -> dict[str, Any]:
        from temporalio.service import RPCError, RPCStatusCode

        client = await rt.client(need_worker=trigger)
        sid = app_reporting.schedule_id(code)
        if delete:
            try:
                await client.get_schedule_handle(sid).delete()
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    raise Failure(
                        f"refused: no such schedule {sid}: nothing to delete (create it with "
                        f"`treaty reporting schedule --treaty {code}`)",
                        EXIT_REFUSED,
                    ) from None
                raise
            return {"schedule": sid, "action": "deleted"}
        try:
            what = await app_reporting.ensure_schedule(
                client, code, rt.settings.task_queue, month=month, day=day
            )
        except ValueError as err:  # an existing day combined with a new month
            raise Failure(f"usage: {err}", EXIT_USAGE) from None
        handle = client.get_schedule_handle(sid)
        if pause:
            await handle.pause(note="paused with treaty reporting schedule --pause")
            what += ", paused"
        if unpause:
            await handle.unpause(note="resumed with treaty reporting schedule --unpause")
            what += ", resumed"
        if trigger:
            await handle.trigger()
            what += ", triggered"
        desc = await handle.describe()
        nxt = desc.info.next_action_times[:1]
        return {
            "schedule": sid,
            "action": what,
            "next": nxt[0].isoformat() if nxt else None,
            "paused": desc.schedule.state.paused,
        }

    result = _run(work)
    if as_json:
        render.print_json(result)
        return
    render.out.print(
        f"{result['schedule']}: {result['action']}"
        + (f"; next run {result['next']}" if result.get("next") else "")
        + ("; paused" if result.get("paused") else "")
    )


# --- contacts ------------------------------------------------------------------------------------


@contacts_app.command("add")
def contacts_add(
    state: Annotated[str, typer.Argument(help="State name or ISO code.")],
    email: Annotated[str, typer.Argument(help="E-mail address of the focal point.")],
    name: Annotated[str | None, typer.Option(help="Name of the focal point.")] = None,
    role: Annotated[str, typer.Option(help="What they are the focal point for.")] = "reporting",
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """Add a State's focal point (reminders are e-mailed to every focal point of the State)."""
    from app import contacts
    from app.errors import Refused

    code, iso = _treaty(treaty), _state(state)
    try:
        focal_point = contacts.contact(code, iso, email, name, role)
    except Refused as err:
        raise Failure(f"refused: {err}", EXIT_REFUSED) from None

    async def work(rt: Runtime) -> tuple[bool, Any]:
        return await contacts.add(await rt.store(), focal_point)

    added, stored = _run(work)
    if as_json:
        render.print_json({**stored.model_dump(), "added": added})
    elif added:
        render.out.print(f"{iso}: {stored.email} added")
    else:
        who = f" ({stored.name})" if stored.name else ""
        render.out.print(f"{iso}: {stored.email}{who} was already a focal point; kept as stored")


@contacts_app.command("list")
def contacts_list(
    state: Annotated[str | None, typer.Argument(help="One State (name or ISO code).")] = None,
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """The focal points (of one State, or all)."""
    from app import contacts

    code = _treaty(treaty)
    iso = _state(state) if state else None

    async def work(rt: Runtime) -> Any:
        return await contacts.listed(await rt.store(), code, iso)

    rows = _run(work)
    if as_json:
        render.print_json([c.model_dump() for c in rows])
        return
    from rich.table import Table

    table = Table(title=f"{code} focal points", header_style="bold")
    for col in ("State", "Name", "E-mail", "Focal point for", "Contact name"):
        table.add_column(col)
    for c in rows:
        table.add_row(c.state, render.state_name(c.state), c.email, c.role, c.name or "")
    render.out.print(table)


@contacts_app.command("remove")
def contacts_remove(
    state: Annotated[str, typer.Argument(help="State name or ISO code.")],
    email: Annotated[str, typer.Argument(help="The address to remove.")],
    treaty: TreatyOpt = "CCM",
    as_json: JsonOpt = False,
) -> None:
    """Remove a focal point (refused, nothing changed, if the State has no such contact)."""
    from app import contacts

    code, iso = _treaty(treaty), _state(state)

    async def work(rt: Runtime) -> None:
        await contacts.remove(await rt.store(), code, iso, email)

    _run(work)
    if as_json:
        render.print_json({"treaty": code, "state": iso, "email": email, "removed": True})
    else:
        render.out.print(f"{iso}: {email} removed")


# --- the demo's part ---------------------------------------------------------------------------


def print_demo_cycle(part: dict, home: Path) -> None:
    """The demo's reporting lines: the cycle, its figures so far, the outbox."""
    o = render.out
    cycle: rp.CycleState = part["cycle"]
    rows = part["outbox"]
    year = cycle.year
    o.print(
        f"Reporting ({get_profile(cycle.treaty).obligations.reporting_article}): the {year} "
        "cycle asks "
        f"{render.count(len(cycle.states), 'State Party', 'States Parties')} for the annual "
        f"report due {cycle.due_on} (covering {year - 1})"
        + ("." if cycle.not_due else "; every State Party in the record owes it.")
    )
    if 0 < len(cycle.not_due) <= 5:
        from app.reads import state_name

        for state, why in cycle.not_due.items():
            o.print(f"  not asked: {state_name(state)} ({why})")
    elif cycle.not_due:
        o.print(
            f"  {len(cycle.not_due)} more not asked (initial report still running, or "
            "withdrawal in effect by the due date)"
        )
    o.print(_figures_table(part["figures"], f"{cycle.treaty} {year}: figures so far"))
    delivered = [r for r in rows if r.delivered_at]
    o.print(
        f"  outbox: {render.count(len(rows), 'reminder')} queued, {len(delivered)} delivered"
        + (
            f" as .eml files in {home / 'outbox'}"
            if any(r.delivered_via == "eml" for r in rows)
            else ""
        )  # fmt: skip
        + " (focal points: example.org placeholders; set TREATYFLOW_SMTP_HOST to send)"
    )
    o.print(f"  treaty reporting status --year {year}   # the table with received / due")
    o.print(f"  treaty reporting outbox --year {year}   # each reminder and its delivery")
