"""The Meetings actually held, read from a table like ``examples/ccm/meetings.csv``.

Columns: ``meeting`` (its name, e.g. ``2MSP``), ``kind``, ``opens_on``, ``closes_on``
(ISO 8601), ``city``; others (``country``, ``president``, ``source``, ``note``) are kept
out of the model. Rows that cannot be read are refused with the line number.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli import render
from cli.runtime import (
    EXIT_REFUSED,
    Failure,
    JsonOpt,
    OnBehalfOfOpt,
    Runtime,
    SourceOpt,
    TreatyOpt,
    _run,
    _treaty,
    provenance_meta,
)
from domain.errors import DomainError, nul_line

if TYPE_CHECKING:  # the pydantic models are imported where used, not to print help
    from domain.obligations import Meeting, Obligation
    from domain.treaties import TreatyProfile
    from eventstore.store import EventStore

COLUMNS = ("meeting", "kind", "opens_on", "closes_on", "city")


def read_meetings(path: Path, profile: TreatyProfile | None = None) -> list[Meeting]:
    """All the Meetings of the table, in order; :class:`DomainError` naming the line of the
    first bad row (missing column, bad date, closing before opening, a name twice). With
    ``profile``, each row must also pass :func:`domain.obligations.check_meeting` (kind MSP
    or Review Conference agreeing with the name, not before the opening for signature, a
    city) and no two rows' dates may overlap."""
    from domain.obligations import Meeting, check_meeting, overlapping_meeting

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise DomainError(f"cannot read {path} as UTF-8 text: {err}") from None
    nul = nul_line(text)
    if nul is not None:
        raise DomainError(
            f"{path} line {nul} contains the character U+0000 (NUL), which no record can "
            "hold: remove it"
        )
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DomainError(f"{path} lacks column(s) {', '.join(missing)}")
    meetings: list[Meeting] = []
    for row in reader:
        line = reader.line_num
        try:
            opens_on = date.fromisoformat((row["opens_on"] or "").strip())
            closes_on = date.fromisoformat((row["closes_on"] or "").strip())
        except ValueError as err:
            raise DomainError(f"{path} line {line}: {err}; expected YYYY-MM-DD") from None
        name = (row["meeting"] or "").strip()
        if not name:
            raise DomainError(f"{path} line {line}: the meeting has no name")
        if closes_on < opens_on:
            raise DomainError(f"{path} line {line}: {name} closes before it opens")
        if any(m.name.lower() == name.lower() for m in meetings):
            raise DomainError(f"{path} line {line}: {name} appears twice")
        meeting = Meeting(
            name=name,
            kind=(row["kind"] or "").strip(),
            opens_on=opens_on,
            closes_on=closes_on,
            city=(row["city"] or "").strip() or None,
        )
        if profile is not None:
            try:
                check_meeting(profile, meeting)
            except DomainError as err:
                raise DomainError(f"{path} line {line}: {err}") from None
            other = overlapping_meeting(meeting, meetings)
            if other is not None:
                raise DomainError(
                    f"{path} line {line}: {name} ({opens_on} to {closes_on}) overlaps "
                    f"{other.name} ({other.opens_on} to {other.closes_on})"
                )
        meetings.append(meeting)
    return meetings


async def check_dependents(store: EventStore, code: str, meetings: list[Meeting]) -> None:
    """:class:`DomainError` if correcting the recorded Meetings to ``meetings`` would break
    an extension decision or pending request recorded in a ratification process
    (:func:`domain.obligations.check_meeting_correction`); read from the event store."""
    from app import reads
    from domain import ids
    from domain.obligations import DecisionAt, check_meeting_correction
    from domain.treaties import get_profile

    profile = get_profile(code)
    recorded = (await reads.treaty_state(store, code)).meetings
    changed = [m for m in meetings if recorded.get(m.name.strip().upper()) not in (None, m)]
    if not changed:
        return
    prefix = ids.stream_id(ids.ratification_workflow_id(code, ""))
    decisions: list[DecisionAt] = []
    pending: list[tuple[str, Obligation]] = []
    for stream, _version in await store.list_streams(prefix=prefix):
        iso = stream[len(prefix) :]
        events = await store.read_stream(stream)
        for e in events:
            if e.event_type == "ExtensionDecided":
                day = e.occurred_on or date.fromisoformat(e.data["occurred_on"])
                decisions.append(
                    DecisionAt(
                        state=iso, key=e.data["key"], meeting=e.data["meeting"], decided_on=day
                    )
                )
        state = reads.fold_ratification(code, iso, events)
        pending += [(iso, o) for o in state.obligations.values() if o.request is not None]
    for m in changed:
        check_meeting_correction(profile, m, pending, decisions)


# --- treaty meetings import / list ---------------------------------------------------------

app = typer.Typer(
    help="The Meetings of States Parties and Review Conferences: required and held.",
    no_args_is_help=True,
)


@app.command("import")
def import_meetings(
    path: Annotated[Path, typer.Argument(help="CSV: meeting, kind, opens_on, closes_on, city.")],
    correct: Annotated[
        bool, typer.Option("--correct", help="Replace Meetings recorded with other dates.")
    ] = False,
    treaty: TreatyOpt = "CCM",
    source: SourceOpt = None,
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the Meetings of a table (e.g. ccm_meetings.csv) in the treaty process;
    Meetings already recorded alike are skipped (idempotent)."""
    from domain.treaties import get_profile

    code = _treaty(treaty)
    try:
        meetings = read_meetings(path, get_profile(code))
    except DomainError as err:
        raise Failure(f"refused: {err}", EXIT_REFUSED) from None
    meta = provenance_meta(on_behalf_of, source or str(path))

    async def work(rt: Runtime) -> Any:
        from app.commands import Commands, ProcessRef
        from app.errors import Refused
        from domain.treaty import RecordMeetings

        if correct:
            try:
                await check_dependents(await rt.store(), code, meetings)
            except DomainError as err:
                raise Failure(f"refused: {err}", EXIT_REFUSED) from None
        client = await rt.client()
        command = RecordMeetings(meetings=meetings, source=meta.source, correction=correct)
        try:
            return await Commands(client, rt.settings.task_queue).send(
                ProcessRef("treaty", code), command, meta
            )
        except Refused as err:
            raise Failure(f"refused: {err}", EXIT_REFUSED) from None

    recorded = _run(work)
    if as_json:
        render.print_json(recorded.model_dump(mode="json"))
    else:
        render.out.print(
            f"treaty:{code}: {render.count(len(recorded.events), 'Meeting')} recorded, "
            f"{len(meetings) - len(recorded.events)} already known (version {recorded.version})"
        )


@app.command("list")
def list_meetings(treaty: TreatyOpt = "CCM", as_json: JsonOpt = False) -> None:
    """The Meetings the treaty requires (CCM Art. 11(2): the first within a year of entry
    into force, then annually; Art. 12(1): a Review Conference five years after) beside
    those held (as recorded), from the event store."""
    from app import reads
    from domain.treaties import get_profile

    code = _treaty(treaty)

    async def work(rt: Runtime) -> Any:
        return await reads.treaty_state(await rt.store(), code)

    state = _run(work)
    held = sorted(state.meetings.values(), key=lambda m: m.opens_on)
    required = {m.name.upper(): m for m in state.required_meetings(get_profile(code))}
    rows = [
        {
            "meeting": m.name,
            "kind": m.kind,
            "opens_on": m.opens_on,
            "closes_on": m.closes_on,
            "city": m.city,
            "required_by": required[m.name.upper()].due_by if m.name.upper() in required else None,
            "article": required[m.name.upper()].article if m.name.upper() in required else None,
        }
        for m in held
    ]
    names = {m.name.upper() for m in held}
    rows += [
        {
            "meeting": q.name,
            "kind": None,
            "opens_on": None,
            "closes_on": None,
            "city": None,
            "required_by": q.due_by,
            "article": q.article,
        }
        for key, q in required.items()
        if key not in names
    ]
    if as_json:
        render.print_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"{code}: Meetings", header_style="bold")
    for col in ("Meeting", "Opens", "Closes", "City", "Required by"):
        table.add_column(col)
    for x in rows:
        req = f"{x['required_by']} ({x['article']})" if x["required_by"] else ""
        table.add_row(
            x["meeting"],
            str(x["opens_on"] or "not recorded"),
            str(x["closes_on"] or ""),
            x["city"] or "",
            req,
        )
    render.out.print(table)
