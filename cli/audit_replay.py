"""``treaty audit replay`` and ``treaty audit archive`` (see :mod:`audit.replay` and
:mod:`audit.archive`).

``replay`` runs recorded workflow histories (from the Temporal server, files, or the
history archive) through the current workflow code (``workflows.registry.WORKFLOWS``,
the data converter of the workers) and says, per workflow run, whether it replays cleanly
or where the current code departs from the record; exit 0 only when every history replayed
cleanly. ``archive`` copies the histories of closed runs into the archive (the worker also
does so every few minutes).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from cli import render
from cli.audit_group import audit_app
from cli.runtime import EXIT_REFUSED, EXIT_USAGE, Failure, JsonOpt, LazyModule, Runtime, _run
from domain import ids as ids_mod

# Temporal and the replayer are imported when the command runs, not to print help.
if TYPE_CHECKING:
    from audit import archive as archive_mod
    from audit import replay as replay_mod
else:
    archive_mod = LazyModule("audit.archive")
    replay_mod = LazyModule("audit.replay")

#: Histories at which the progress bar appears (fewer are done before it would be seen).
PROGRESS_FROM = 3


@contextmanager
def _quiet_sdk_logs() -> Iterator[None]:
    """Keep the SDK's own log lines about a failing replay off stderr: each failure is
    reported once, in the command's output."""
    logger = logging.getLogger("temporalio")
    before = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(before)


def _mark(result: replay_mod.ReplayResult) -> Text:
    if result.ok:
        return Text("ok  ", style="green")
    return Text("FAIL", style="bold red")


def _where(result: replay_mod.ReplayResult) -> str:
    parts = [result.location or result.source]
    if result.events:
        parts.append(render.count(result.events, "event"))
    return ", ".join(parts)


async def _listed(client: Any, query: str | None) -> list[Any]:
    """The runs the server lists for ``query`` (:func:`audit.replay.from_query`).

    Raises :class:`Failure` (exit 2, usage) when the server refuses the query itself."""
    from temporalio.service import RPCError, RPCStatusCode

    try:
        return await replay_mod.from_query(client, query)
    except RPCError as err:
        if err.status != RPCStatusCode.INVALID_ARGUMENT:
            raise
        raise Failure(
            f"--query {query!r} is not a visibility query the server accepts ({err.message}): "
            "expected e.g. 'WorkflowType = \"Ratification\"' or "
            "'WorkflowId STARTS_WITH \"ratification:CCM:\"'",
            EXIT_USAGE,
        ) from None


def _print_results(results: list[replay_mod.ReplayResult]) -> None:
    o = render.out
    for r in results:
        o.print(
            Text.assemble(
                _mark(r),
                " ",
                (r.workflow_id, "bold"),
                f" ({_where(r)}): ",
                r.message,
            ),
            soft_wrap=True,
        )
    s = replay_mod.summary(results)
    failed = s["histories"] - s["clean"]
    line = (
        f"{render.count(s['histories'], 'workflow run')} checked against the current code: "
        f"{s['clean']} replayed cleanly"
    )
    if failed:
        kinds = ", ".join(
            f"{n} {replay_mod.STATUS_WORDS[k]}" for k, n in s["counts"].items() if k != "clean"
        )
        line += f", {failed} did not ({kinds})"
    o.print(line, highlight=False)


@audit_app.command("replay")
def replay(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="WORKFLOW_ID|FILE",
            help="Workflow ids (treaty:CCM, ratification:CCM:BGR): the latest run on the "
            "server, else every archived run. With --from-file: history files.",
            show_default=False,
        ),
    ] = None,
    query: Annotated[
        str | None,
        typer.Option(
            "--query",
            help="A visibility query, e.g. 'WorkflowType = \"Ratification\"': every run it lists.",
        ),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every workflow run of the namespace on the server.")
    ] = False,
    from_file: Annotated[
        bool,
        typer.Option(
            "--from-file",
            help="The arguments are histories in JSON files (as WorkflowHistory.to_json(), "
            "`temporal workflow show -o json` or the Web UI's download write them).",
        ),
    ] = False,
    archived: Annotated[
        bool, typer.Option("--archived", help="Every run in the history archive.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Replay recorded workflow histories against the current code.

    For each workflow run: replayed cleanly, or the first event where the current code
    would decide differently from the record (non-determinism), with its id and type.
    A workflow no longer on the server is replayed from the history archive. Exit 0 only
    if every history replayed cleanly, 1 otherwise."""
    args = list(names or [])
    ids, files = (
        ([], [Path(a) for a in args]) if from_file else ([_workflow_id(a) for a in args], [])
    )
    if all_ and query:
        raise typer.BadParameter("give --all or --query, not both")
    if from_file and not files:
        raise typer.BadParameter("--from-file needs one or more history files")
    if not (ids or files or all_ or query or archived):
        raise typer.BadParameter(
            "say what to replay: WORKFLOW_ID ..., --query QUERY, --all, --from-file FILE or "
            "--archived"
        )
    from workflows import registry

    async def work(rt: Runtime) -> list[replay_mod.ReplayResult]:
        from cli.audit_record import audit_store

        async with AsyncExitStack() as stack:
            opened: list[archive_mod.HistoryArchive] = []

            async def archive() -> archive_mod.HistoryArchive:
                if not opened:  # the database only when the archive is needed
                    opened.append(
                        archive_mod.HistoryArchive(await stack.enter_async_context(audit_store(rt)))
                    )
                return opened[0]

            targets: list[replay_mod.Target] = []
            if ids or all_ or query:
                client = await rt.client(need_worker=False)
                targets += [replay_mod.from_server(client, i, archive=archive) for i in ids]
                if all_ or query:
                    targets += await _listed(client, query)
            targets += [replay_mod.from_file(p) for p in files]
            if archived:
                targets.append(replay_mod.from_archive(archive))
            return await _replay(targets, registry.WORKFLOWS, show_progress=not as_json)

    results = _run(work)
    if as_json:
        render.print_json(
            {**replay_mod.summary(results), "results": [r.to_json() for r in results]}
        )
    else:
        _print_results(results)
        if not results:
            render.out.print("nothing to replay")
    if not results or not all(r.ok for r in results):
        raise typer.Exit(EXIT_REFUSED)


def _workflow_id(text: str) -> str:
    """A process named as ``treaty events`` accepts it (``ratification-CCM-BGR``,
    ``ratification:ccm:bgr``) as its workflow id; any other id as it is."""
    from cli.audit_record import resolve_stream

    try:
        return ids_mod.workflow_id_of_stream(resolve_stream(text, "CCM"))
    except (typer.BadParameter, Failure):  # not a process's name: a workflow id as given
        return text.strip()


async def _replay(
    targets: list[replay_mod.Target], workflows: list[type], *, show_progress: bool
) -> list[replay_mod.ReplayResult]:
    with (
        _quiet_sdk_logs(),
        Progress(
            TextColumn("replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=render.err,
            transient=True,
            disable=not show_progress or len(targets) < PROGRESS_FROM or not render.err.is_terminal,
        ) as progress,
    ):
        task = progress.add_task("", total=len(targets))

        def advance(target: replay_mod.Target, _results: Any) -> None:
            progress.update(task, advance=1, description=target.label)

        return await replay_mod.replay(targets, workflows, on_target=advance)


@audit_app.command("archive")
def archive(as_json: JsonOpt = False) -> None:
    """Copy the histories of closed workflow runs into the history archive (PostgreSQL).

    Runs that are no longer running (completed, failed, terminated, timed out, cancelled,
    continued as new) and not archived yet; each with its sha256. The worker does the same
    every few minutes (TREATYFLOW_ARCHIVE_MINUTES); `treaty audit replay` falls back to the
    archive for a workflow the server no longer has."""

    async def work(rt: Runtime) -> tuple[list[archive_mod.ArchivedId], int]:
        client = await rt.client(need_worker=False)
        store = await rt.store()
        done = await archive_mod.archive_closed(client, store)
        total = len(await archive_mod.HistoryArchive(store).archived_ids())
        return done, total

    done, total = _run(work)
    if as_json:
        render.print_json(
            {
                "archived": [a._asdict() for a in done],
                "archived_now": len(done),
                "in_archive": total,
            }
        )
        return
    for a in done:
        render.out.print(f"archived {a.workflow_id} (run {a.run_id})", highlight=False)
    render.out.print(
        f"{render.count(len(done), 'closed run')} archived now; "
        f"{render.count(total, 'run')} in the history archive",
        highlight=False,
    )
