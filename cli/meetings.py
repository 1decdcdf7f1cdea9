"""``treaty meetings import FILE`` / ``list``: the Meetings held, as the treaty process
records them (the file is read by :mod:`adapters.meetings_file`; the checks are
:mod:`app.meetings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
from domain.errors import DomainError

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
        from adapters.meetings_file import read_meetings

        meetings = read_meetings(path, get_profile(code))
    except DomainError as err:
        raise Failure(f"refused: {err}", EXIT_REFUSED) from None
    meta = provenance_meta(on_behalf_of, source or str(path))

    async def work(rt: Runtime) -> Any:
        from app import meetings as app_meetings
        from app.commands import Commands, ProcessRef
        from app.errors import Refused
        from domain.treaty import RecordMeetings

        if correct:
            try:
                await app_meetings.check_dependents(await rt.store(), code, meetings)
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
    """The Meetings the treaty requires (by its rule, e.g. CCM Art. 11(2): the first within a
    year of entry into force, then annually; Art. 12(1): a Review Conference five years
    after; ATT Art. 17(1)) beside those held (as recorded), from the event store."""
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
