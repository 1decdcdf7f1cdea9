"""``treaty scenario run FILE``: record a sequence of dated facts (positions, documents,
rounds, milestones, preparations, signatures, domestic procedures, deposits) into the
decision, host-country agreement and ratification processes.

The file is YAML (``examples/ccm/2011-consultation.yaml``, :mod:`adapters.scenario_file`)
or JSON Lines (``*.jsonl``, :func:`domain.scenario.parse`); both go through one
validator. Every item is checked first, on the processes' current states: one bad item
and nothing is recorded (exit 1, the error names its line). A fact the record already
holds is accepted and records nothing, so running a file twice records nothing new.

This module imports no temporalio or asyncpg at load time (``treaty --help`` stays fast).
"""

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
    TreatyOpt,
    _run,
    _treaty,
    provenance_meta,
)

scenario_app = typer.Typer(
    help=(
        "Scenario files: dated facts recorded into the decision, host-country agreement "
        "and ratification processes, every item checked before any is recorded."
    ),
    no_args_is_help=True,
)

JSON_LINES = (".jsonl", ".ndjson")


def read_steps(path: Path, treaty: str) -> list[Any]:
    """The steps of a scenario file: JSON Lines if its name ends in ``.jsonl`` (or
    ``.ndjson``), YAML otherwise. :class:`Failure` (exit 1) naming the line of the first
    item that is not a well-formed command, or why the file cannot be read."""
    from adapters import scenario_file
    from domain import scenario

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise Failure(f"cannot read {path} as UTF-8 text: {err}", EXIT_REFUSED) from None
    from domain.errors import nul_line

    nul = nul_line(text)
    if nul is not None:
        raise Failure(
            f"refused: nothing recorded from {path}: line {nul} contains the character "
            "U+0000 (NUL), which no record can hold; remove it",
            EXIT_REFUSED,
        )
    try:
        if path.suffix.lower() in JSON_LINES:
            return scenario.parse(text, treaty)
        return scenario_file.parse(text, treaty)
    except scenario.ScenarioError as err:
        raise Failure(f"refused: nothing recorded from {path}: {err}", EXIT_REFUSED) from None


def record_file(
    path: Path, treaty: str, on_behalf_of: str | None, as_json: bool, dry_run: bool = False
) -> None:
    """Check every item of ``path`` on the record, then record them in order (unless
    ``dry_run``) and print the events recorded per process."""
    steps = read_steps(path, _treaty(treaty))

    async def work(rt: Runtime) -> dict[str, int]:
        from app import process_ops

        client = await rt.client()
        return await process_ops.run_scenario(
            client,
            steps,
            provenance_meta(on_behalf_of, path.name),
            rt.settings.task_queue,
            dry_run=dry_run,
        )

    recorded = _run(work)
    total = sum(recorded.values())
    if as_json:
        render.print_json(
            {
                "file": str(path),
                "items": len(steps),
                "dry_run": dry_run,
                ("events_to_record" if dry_run else "events_recorded"): recorded,
            }
        )
        return
    verb = "would be recorded (dry run: nothing recorded)" if dry_run else "recorded"
    render.out.print(
        f"{path}: {render.count(len(steps), 'item')} checked, "
        f"{render.count(total, 'event')} {verb}"
        + ("" if total else " (nothing new: the record already says what this file says)")
    )
    for wid, n in recorded.items():
        render.out.print(f"  {wid}: {render.count(n, 'event')}")


@scenario_app.command("run")
def run(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="Scenario file: YAML (e.g. examples/ccm/2011-consultation.yaml) or JSON Lines "
            "(*.jsonl).",
        ),
    ],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check every item on the record; record nothing."),
    ] = False,
    treaty: TreatyOpt = "CCM",
    on_behalf_of: OnBehalfOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a scenario file: each item names its process (decision: <slug>, hca:
    <meeting>, ratification: <State>), its command (do: ...) and the command's fields.
    Every item is checked first; one bad item and nothing is recorded (the error names
    its line). A fact already on record is accepted and records nothing; one that
    contradicts the record is refused."""
    record_file(path, treaty, on_behalf_of, as_json, dry_run)
