"""``treaty decision``: decisions of the States Parties (``decision:<CODE>:<slug>``).

Commands go to the process as Updates (checked first, here and by the workflow's
validator: a refused one records nothing, exit 1); ``show`` folds the process from the
event store (no worker needed). ``import`` records a scenario file (as ``treaty scenario
run``, :mod:`cli.scenario`) after checking every item.

This module imports no temporalio at load time (``treaty --help`` stays fast).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Group
from rich.markup import escape
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
    lazy_function,
    provenance_meta,
    require_source,
)
from domain import ids
from domain.errors import DomainError

# The pydantic models are imported when a command uses them, not to print help.
if TYPE_CHECKING:
    from pydantic import BaseModel

    from domain import decision as d
    from domain.obligations import Meeting
    from domain.states import resolve_participant
    from domain.treaties import get_profile
else:
    d = LazyModule("domain.decision")
    resolve_participant = lazy_function("domain.states", "resolve_participant")
    get_profile = lazy_function("domain.treaties", "get_profile")

#: ``domain.decision.DEFAULT_REMIND_DAYS``, repeated here for the option's default so that
#: printing help imports no model (tests/e2e/test_cli_lazy.py checks they are equal).
DEFAULT_REMIND_DAYS = 7

decision_app = typer.Typer(
    help=(
        "Decisions of the States Parties (decision:<CODE>:<slug>): options, documents, "
        "consultation rounds, positions, milestones and the outcome."
    ),
    no_args_is_help=True,
)

SlugArg = Annotated[str, typer.Argument(help="The decision's key, e.g. isu-hosting.")]


def _today() -> date:
    return date.today()


def _slug(text: str) -> str:
    slug = text.strip().lower()
    if not d._KEY.match(slug):
        raise typer.BadParameter(
            f"{text!r} is not a decision key: lower-case letters, digits and '-' (e.g. isu-hosting)"
        )
    return slug


def _send(treaty: str, slug: str, command: BaseModel, meta: Any, as_json: bool) -> None:
    try:
        d.check_command(command, get_profile(treaty), _today())
    except DomainError as err:
        raise Failure(f"refused: {err}", EXIT_REFUSED) from None

    require_source(command, meta)

    async def work(rt: Runtime) -> Any:
        from app.commands import Commands, ProcessRef

        await _record_checks(rt, treaty, slug, command)
        client = await rt.client()
        return await Commands(client, rt.settings.task_queue).send(
            ProcessRef("decision", treaty, slug), command, meta
        )

    recorded = _run(work)
    if as_json:
        render.print_json(recorded.model_dump(mode="json"))
    else:
        render.out.print(
            f"{ids.decision_workflow_id(treaty, slug)}: recorded "
            f"{', '.join(recorded.events) or 'nothing new'} (version {recorded.version})"
        )


async def _record_checks(rt: Runtime, treaty: str, slug: str, command: BaseModel) -> None:
    """Checks that need the record but not the process's workflow: a position's meeting
    is known (the Meetings the treaty process records, the process's milestones and cited
    meetings) and dated within it; a vote's States Parties present are not more than the
    States Parties on that day (the ratification record; not checked when the record holds
    no deposit). Raises :class:`Failure` (exit 1)."""
    from app import decisions, meetings

    try:
        if isinstance(command, d.StatePosition) and command.meeting:
            store = await rt.store()
            d.check_meeting(
                await decisions.load(store, treaty, slug),
                command,
                await meetings.table(store, treaty),
            )
        if isinstance(command, d.RecordOutcome) and command.present is not None:
            from app import reads

            p = await reads.parties(await rt.store(), treaty, command.decided_on)
            if p.consented:
                d.check_present(command, len(p.consented), treaty)
    except DomainError as err:
        raise Failure(f"refused: {err}", EXIT_REFUSED) from None


def _required_date(value: str | None, name: str) -> date:
    day = _parse_date(value)
    if day is None:
        raise typer.BadParameter(f"give {name} YYYY-MM-DD")
    return day


@decision_app.command("open")
def open_decision(
    slug: SlugArg,
    question: Annotated[str, typer.Option(help="What the States Parties are to decide.")],
    on: Annotated[str | None, typer.Option("--on", help="Opening date (default: today).")] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a decision process with its question."""
    command = d.OpenDecision(question=question, opened_on=_parse_date(on) or _today())
    _send(_treaty(treaty), _slug(slug), command, provenance_meta(on_behalf_of, source), as_json)


@decision_app.command("option")
def option(
    slug: SlugArg,
    key: Annotated[str, typer.Argument(help="The option's key, e.g. gichd.")],
    title: Annotated[str, typer.Option(help="What the option is.")],
    proposed_by: Annotated[str, typer.Option(help="State or observer, e.g. Ireland or GICHD.")],
    on: Annotated[str, typer.Option("--on", help="When it was put forward, YYYY-MM-DD.")],
    source: Annotated[
        str | None, typer.Option(help="Meeting or document it comes from (required).")
    ] = None,
    treaty: TreatyOpt = "CCM",
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put forward an option (who proposed it, when, where)."""
    meta = provenance_meta(on_behalf_of, source)
    require_source(d.AddOption, meta)
    command = d.AddOption(
        option=key,
        title=title,
        proposed_by=proposed_by,
        proposed_on=_required_date(on, "--on"),
        source=meta.source,
    )
    _send(_treaty(treaty), _slug(slug), command, meta, as_json)


@decision_app.command("document")
def document(
    slug: SlugArg,
    key: Annotated[str, typer.Argument(help="The document's key, e.g. discussion-paper.")],
    title: Annotated[str, typer.Option(help="The document's title.")],
    source: Annotated[
        str | None, typer.Option(help="Where it was presented or published (required).")
    ] = None,
    dated: Annotated[str | None, typer.Option(help="The version's date (if known).")] = None,
    label: Annotated[str | None, typer.Option(help="The version's label, e.g. revised.")] = None,
    author: Annotated[
        list[str] | None, typer.Option("--author", help="An author (repeat for several).")
    ] = None,
    treaty: TreatyOpt = "CCM",
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a new version of a document (versions are numbered 1, 2, ...)."""
    meta = provenance_meta(on_behalf_of, source)
    require_source(d.RecordDocument, meta)
    command = d.RecordDocument(
        document=key,
        title=title,
        dated=_parse_date(dated),
        label=label,
        authors=tuple(author or ()),
        source=meta.source,
    )
    _send(_treaty(treaty), _slug(slug), command, meta, as_json)


@decision_app.command("round")
def round_(
    slug: SlugArg,
    key: Annotated[str, typer.Argument(help="The round's key, e.g. tor-comments.")],
    title: Annotated[
        str | None, typer.Option(help="What comments are asked for (to open a round).")
    ] = None,
    opened_on: Annotated[
        str | None, typer.Option(help="Opening (or closing) date (default: today).")
    ] = None,
    comments_due: Annotated[
        str | None, typer.Option(help="Deadline for written comments (the round closes after).")
    ] = None,
    requested_by: Annotated[str | None, typer.Option(help="Who asked for comments.")] = None,
    remind_days: Annotated[
        int, typer.Option(help="Days before the deadline the reminder goes.")
    ] = DEFAULT_REMIND_DAYS,
    close: Annotated[
        bool, typer.Option("--close", help="Close this round now instead of opening it.")
    ] = False,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a consultation round with a deadline for written comments (a reminder goes
    before it; the round closes by itself the day after), or --close one."""
    command: BaseModel
    if close:
        command = d.CloseRound(round=key, closed_on=_parse_date(opened_on) or _today())
    else:
        if not title:
            raise typer.BadParameter("give --title: what written comments are asked for")
        command = d.OpenRound(
            round=key,
            title=title,
            opened_on=_parse_date(opened_on) or _today(),
            comments_due=_parse_date(comments_due),
            requested_by=requested_by,
            remind_days=remind_days,
        )
    _send(_treaty(treaty), _slug(slug), command, provenance_meta(on_behalf_of, source), as_json)


def recorded_meeting(name: str, treaty: str) -> Meeting | None:
    """The Meeting ``name`` as the treaty process records it (``treaty meetings import``),
    read from the event store; None when it records none of that name."""

    async def work(rt: Runtime) -> Meeting | None:
        from app import meetings

        return await meetings.find(await rt.store(), treaty, name)

    return _run(work)


def _meeting(
    name: str, kind: str | None, opens_on: str | None, closes_on: str | None, treaty: str
) -> tuple[str, date, date]:
    opens, closes = _parse_date(opens_on), _parse_date(closes_on)  # usage errors first
    if kind and opens and closes:
        return kind, opens, closes
    known = recorded_meeting(name, treaty)
    if known is None:
        from app.meetings import not_recorded

        raise Failure(
            f"refused: {not_recorded(treaty, name, 'give --kind, --opens-on and --closes-on')}",
            EXIT_REFUSED,
        )
    return kind or known.kind, opens or known.opens_on, closes or known.closes_on


@decision_app.command("milestone")
def milestone(
    slug: SlugArg,
    meeting: Annotated[str, typer.Argument(help="The meeting, e.g. 2MSP.")],
    kind: Annotated[
        str | None, typer.Option(help="MSP, Review Conference, intersessional ...")
    ] = None,
    opens_on: Annotated[
        str | None, typer.Option(help="Opening date (default: the Meeting as recorded).")
    ] = None,
    closes_on: Annotated[str | None, typer.Option(help="Closing date.")] = None,
    decision_point: Annotated[
        bool, typer.Option("--decision-point", help="The outcome is to be taken there.")
    ] = False,
    purpose: Annotated[str | None, typer.Option(help="What happens there.")] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tie the process to a meeting (its kind and dates default to the Meeting as the treaty
    process records it: `treaty meetings import FILE`)."""
    code, key = _treaty(treaty), _slug(slug)
    mkind, opens, closes = _meeting(meeting, kind, opens_on, closes_on, code)
    command = d.SetMilestone(
        meeting=meeting,
        meeting_kind=mkind,
        opens_on=opens,
        closes_on=closes,
        decision_point=decision_point,
        purpose=purpose,
    )
    _send(code, key, command, provenance_meta(on_behalf_of, source), as_json)


@decision_app.command("position")
def position(
    slug: SlugArg,
    participant: Annotated[
        str, typer.Argument(help="A State (name or ISO code) or observer (CMC).")
    ],
    stance: Annotated[str, typer.Option(help="support, oppose, prefer, undecided or condition.")],
    on: Annotated[str, typer.Option("--on", help="When it was stated, YYYY-MM-DD.")],
    option_key: Annotated[
        str | None, typer.Option("--option", help="The option (none: the process as a whole).")
    ] = None,
    condition: Annotated[
        str | None, typer.Option(help="The condition or reasons, in words.")
    ] = None,
    meeting: Annotated[str | None, typer.Option(help="The meeting it was stated at.")] = None,
    document: Annotated[
        str | None, typer.Option(help="The document it comes from (key or key@version).")
    ] = None,
    treaty: TreatyOpt = "CCM",
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a participant's position; a later one on the same option replaces it (the
    history keeps both)."""
    stance = stance.strip().lower()
    if stance not in d.STANCES:
        raise typer.BadParameter(
            f"unknown stance {stance!r}: expected one of {', '.join(d.STANCES)}"
        )
    command = d.StatePosition(
        participant=participant,
        option=option_key,
        stance=stance,  # type: ignore[arg-type]
        condition=condition,
        stated_on=_required_date(on, "--on"),
        meeting=meeting,
        document=document,
    )
    _send(
        _treaty(treaty),
        _slug(slug),
        command,
        provenance_meta(on_behalf_of, meeting or document),
        as_json,
    )


@decision_app.command("outcome")
def outcome(
    slug: SlugArg,
    meeting: Annotated[str, typer.Option(help="The decision point, e.g. 2MSP.")],
    on: Annotated[str, typer.Option("--on", help="Date of the decision.")],
    adopted: Annotated[str | None, typer.Option(help="The option adopted.")] = None,
    consensus: Annotated[bool, typer.Option("--consensus", help="Adopted by consensus.")] = False,
    vote: Annotated[
        str | None,
        typer.Option(help="Adopted by vote: IN_FAVOUR,AGAINST,ABSTAINING (States Parties)."),
    ] = None,
    present: Annotated[int | None, typer.Option(help="States Parties present (a vote).")] = None,
    deferred_to: Annotated[str | None, typer.Option(help="Deferred to this later meeting.")] = None,
    to_kind: Annotated[str | None, typer.Option(help="Its kind, if not recorded.")] = None,
    to_opens_on: Annotated[str | None, typer.Option(help="Its opening date.")] = None,
    to_closes_on: Annotated[str | None, typer.Option(help="Its closing date.")] = None,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the outcome at a decision point: --adopted OPTION (--consensus, or --vote
    with --present), or --deferred-to a later meeting (the process goes on)."""
    code, key = _treaty(treaty), _slug(slug)
    day = _required_date(on, "--on")
    if (adopted is None) == (deferred_to is None):
        raise typer.BadParameter("give --adopted OPTION or --deferred-to MEETING")
    if adopted is not None:
        if consensus == (vote is not None):
            raise typer.BadParameter("say how it was adopted: --consensus or --vote Y,N,A")
        figures: list[int | None] = [None, None, None]
        if vote is not None:
            try:
                figures = [int(x) for x in vote.split(",")]  # type: ignore[misc]
            except ValueError:
                figures = []
            if len(figures) != 3:
                raise typer.BadParameter(
                    f"--vote {vote!r}: expected three numbers IN_FAVOUR,AGAINST,ABSTAINING"
                )
        command = d.RecordOutcome(
            meeting=meeting,
            decided_on=day,
            result="adopted",
            option=adopted,
            method="consensus" if consensus else "vote",
            present=present,
            in_favour=figures[0],
            against=figures[1],
            abstaining=figures[2],
        )
    else:
        assert deferred_to is not None
        to_opens, to_closes = _parse_date(to_opens_on), _parse_date(to_closes_on)
        known = None if to_kind and to_opens and to_closes else recorded_meeting(deferred_to, code)
        later = d.LaterMeeting(
            meeting=deferred_to,
            meeting_kind=to_kind or (known.kind if known else None),
            opens_on=to_opens or (known.opens_on if known else None),
            closes_on=to_closes or (known.closes_on if known else None),
        )
        command = d.RecordOutcome(
            meeting=meeting, decided_on=day, result="deferred", deferred_to=later
        )
    _send(code, key, command, provenance_meta(on_behalf_of, source or meeting), as_json)


# --- show --------------------------------------------------------------------------------------


def _name(code: str) -> str:
    try:
        return resolve_participant(code).name
    except DomainError:
        return code


def decision_json(
    s: d.DecisionState, today: date, statuses: dict[str, str] | None = None
) -> dict[str, Any]:
    """The JSON of ``treaty decision show --json``: the state, the positions in force with
    names (and, with ``statuses``, each State's status under the treaty on the date of its
    position: ``party_status``), the tally, what is open, what is due next."""
    statuses = statuses or {}
    return {
        "workflow_id": ids.decision_workflow_id(s.treaty, s.slug),
        "status": s.status,
        "state": s.model_dump(mode="json"),
        "current_positions": [
            {
                **p.model_dump(mode="json"),
                "name": _name(p.participant),
                "source": p.source,
                "party_status": statuses.get(p.participant),
            }
            for p in s.current_positions()
        ],
        "tally": [t.model_dump(mode="json") for t in d.tally(s)],
        "open": d.open_items(s),
        "due_next": [i.model_dump(mode="json") for i in d.due_next(s, today)],
    }


def _cell(p: d.Position, sources: dict[str, int], words: bool = True) -> str:
    ref = sources.setdefault(f"{p.source} ({p.stated_on})", len(sources) + 1)
    text = f"[bold]{p.stance}[/bold] \\[{ref}]"
    if p.condition and words:
        text += f"\n[dim]{escape(p.condition)}[/dim]"
    return text


def decision_table(
    s: d.DecisionState, statuses: dict[str, str] | None = None, *, words: bool = True
) -> Group:
    """Options × participants: each position in force with its source (numbered notes);
    with ``statuses``, each State's status under the treaty when it stated its position;
    ``words``: the words of conditions and reasons too (the demo leaves them out)."""
    statuses = statuses or {}
    columns: list[str | None] = [*s.options, None]
    table = Table(
        title=f"{s.question} — decision:{s.treaty}:{s.slug} ({s.status})",
        header_style="bold",
        show_lines=words,
        caption=(
            "Observers' positions are recorded, not counted: only States Parties decide "
            f"({get_profile(s.treaty).decisions.article})."
        ),
    )
    table.add_column("Participant")
    for key in columns:
        title = s.options[key].title if key else "the process as a whole"
        table.add_column(f"{key or '(general)'}\n[dim]{title}[/dim]")
    sources: dict[str, int] = {}
    rows: dict[str, dict[str | None, str]] = {}
    kinds: dict[str, str] = {}
    for p in s.current_positions():
        rows.setdefault(p.participant, {})[p.option] = _cell(p, sources, words)
        kinds[p.participant] = p.participant_kind
    order = sorted(rows, key=lambda c: (kinds[c] == "observer", _name(c)))
    for code in order:
        note = "observer" if kinds[code] == "observer" else statuses.get(code)
        label = escape(_name(code)) + (f" [dim]({escape(note)})[/dim]" if note else "")
        table.add_row(label, *(rows[code].get(k, "") for k in columns))
    notes = Table.grid(padding=(0, 1))
    for text, n in sources.items():
        notes.add_row(f"\\[{n}]", escape(text))
    tallies = Table(title="Tally of the positions in force", header_style="bold")
    for col in (
        "Option",
        "States: support",
        "prefer",
        "oppose",
        "undecided",
        "condition",
        "Observers",
    ):
        tallies.add_column(col)
    for t in d.tally(s):
        observers = "; ".join(
            f"{st} {', '.join(codes)}" for st, codes in t.observers.items() if codes
        )
        tallies.add_row(
            t.option or "(general)",
            f"{len(t.states['support'])} {', '.join(t.states['support'])}",
            ", ".join(t.states["prefer"]),
            ", ".join(t.states["oppose"]),
            ", ".join(t.states["undecided"]),
            ", ".join(t.states["condition"]),
            observers,
        )
    return Group(table, "Sources:", notes, tallies)


def _summary(s: d.DecisionState, today: date) -> Group:
    lines: list[Any] = []
    e = escape
    for o in s.options.values():
        lines.append(
            f"option {o.option}: {e(o.title)} — put forward by {_name(o.proposed_by)} on "
            f"{o.proposed_on} ({e(o.source)})"
        )
    for doc in s.documents:
        lines.append(
            f"document {doc.document} v{doc.version}: {e(doc.title)}"
            + (f", {e(doc.label)}" if doc.label else "")
            + f" — {doc.dated or 'date not given'}; by {e(', '.join(doc.authors)) or '?'}"
        )
    for r in s.rounds.values():
        due = f"comments due {r.comments_due}" if r.comments_due else "no deadline given"
        state = f"closed {r.closed_on} ({r.close_reason})" if r.closed_on else "open"
        reminded = f", reminder {r.reminded_on}" if r.reminded_on else ""
        lines.append(f"round {r.round}: {e(r.title)} — {due}{reminded}; {state}")
    for m in s.milestones.values():
        point = "decision point" if m.decision_point else "milestone"
        done = (
            f" → {m.outcome}" + (f" to the {m.deferred_to}" if m.deferred_to else "")
            if m.outcome
            else ""
        )
        lines.append(f"{point} {m.meeting} ({m.kind}, {m.opens_on} to {m.closes_on}){done}")
    if s.adopted:
        a = s.adopted
        figures = (
            f": {a.in_favour} in favour, {a.against} against, {a.abstaining} abstaining, "
            f"{a.present} States Parties present"
            if a.method == "vote"
            else ""
        )
        lines.append(
            f"[bold]adopted[/bold] at the {a.meeting} on {a.decided_on}: {a.option} "
            f"by {a.method}{figures}"
        )
    due = d.due_next(s, today)
    lines.append(
        "due next: " + ("; ".join(f"{i.on} {i.what} ({i.ref})" for i in due[:3]) or "nothing dated")
    )
    return Group(*lines)


@decision_app.command("show")
def show(slug: SlugArg, treaty: TreatyOpt = "CCM", as_json: JsonOpt = False) -> None:
    """The decision: options × participants with each position in force and its source
    (and each State's status under the treaty then, from its ratification record), the
    tally (States and observers apart), documents, rounds, milestones, what is due."""
    code, key = _treaty(treaty), _slug(slug)

    async def work(rt: Runtime) -> tuple[d.DecisionState | None, dict[str, str]]:
        from app import decisions

        store = await rt.store()
        s = await decisions.load(store, code, key)
        return s, (await decisions.party_statuses(store, s) if s else {})

    s, statuses = _run(work)
    if s is None:
        raise Failure(f"nothing recorded for decision:{code}:{key}", EXIT_REFUSED)
    if as_json:
        render.print_json(decision_json(s, _today(), statuses))
        return
    render.out.print(decision_table(s, statuses))
    render.out.print(_summary(s, _today()))


@decision_app.command("import")
def import_scenario(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="Scenario file: JSON Lines (*.jsonl) or YAML, as `treaty scenario run` takes.",
        ),
    ],
    treaty: TreatyOpt = "CCM",
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a scenario file (the same as `treaty scenario run FILE`). Every item is
    checked first; one bad item and nothing is recorded (the error names its line).
    Running it again records nothing new."""
    from cli.scenario import record_file

    record_file(path, treaty, on_behalf_of, as_json)
