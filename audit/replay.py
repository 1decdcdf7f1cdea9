"""Replay recorded workflow histories against the current workflow code.

A workflow's Temporal history is the record of every decision its code took. Replaying it
with :class:`temporalio.worker.Replayer` runs today's code over that record: if today's
code would decide differently (a *non-determinism*: it schedules another step, sends a
signal the record does not have, or no longer sends one it has), the replay stops at the
first event where code and record part. :func:`replay` reports, for each history, either
that it replayed cleanly or where it diverged: the event id and type, what the record
says happened there and what the current code does instead, in plain words.

Histories come from the Temporal server (:func:`from_server`, :func:`from_query`), from
JSON files (:func:`from_file`, as ``WorkflowHistory.to_json()``, ``temporal workflow
show -o json`` or the Web UI write them) or from the history archive
(:mod:`audit.archive`; :func:`from_archive`), for closed workflows no longer on the
server. The workflow classes are a parameter, so a test can replay against a changed
definition registered under the same name; the CLI passes
``workflows.registry.WORKFLOWS``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from google.protobuf.json_format import ParseError
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from audit.archive import (
    ArchivedHistory,
    HistoryArchive,
    TamperedHistory,
    UnreadableHistory,
    history_problem,
)

Status = Literal["clean", "nondeterministic", "failed", "not_found", "unreadable", "tampered"]

#: What each status means, for the summary and ``--json`` readers.
STATUS_WORDS: dict[str, str] = {
    "clean": "replayed cleanly",
    "nondeterministic": "diverged from the recorded history",
    "failed": "replay failed",
    "not_found": "no history found",
    "unreadable": "history could not be read",
    "tampered": "archived history altered",
}


@dataclass
class ReplayResult:
    """The outcome for one workflow run.

    ``source``: ``server``, ``archive`` or ``file``; ``location``: the file, or where on
    the server/archive it was found; ``events``: number of history events; ``status``:
    see :data:`STATUS_WORDS`; ``message``: one sentence for an auditor; ``event_id`` /
    ``event_type``: the first event where the current code departs from the record (for
    ``nondeterministic``, when it could be determined); ``detail``: the SDK's own text.
    """

    workflow_id: str
    run_id: str | None
    workflow_type: str | None
    source: str
    location: str | None
    events: int
    status: Status
    message: str
    event_id: int | None = None
    event_type: str | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "clean"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Loaded:
    """A history to replay, or why there is none (``problem``: status and message)."""

    workflow_id: str
    source: str
    location: str | None = None
    history: WorkflowHistory | None = None
    problem: tuple[Status, str] | None = None
    run_id: str | None = None


@dataclass
class Target:
    """Something to replay: ``load()`` fetches its history (or histories: an archived
    workflow may have several runs). ``label`` names it for the progress bar."""

    label: str
    load: Callable[[], Awaitable[list[Loaded]]]


# --- sources ---------------------------------------------------------------------------------


def _workflow_id_in(history: WorkflowHistory) -> str | None:
    if not history.events:
        return None
    attrs = history.events[0].workflow_execution_started_event_attributes
    return attrs.workflow_id or None


def from_file(path: Path) -> Target:
    """A history in a JSON file. The workflow id is read from the history's first event
    (``workflowId``), else taken from the file name (``ratification-CCM-BGR.json``)."""

    async def load() -> list[Loaded]:
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
            history = WorkflowHistory.from_json(path.stem, text)
        except OSError as err:
            return [Loaded(path.stem, "file", str(path), problem=("unreadable", _os(err)))]
        except (ValueError, ParseError, KeyError, TypeError) as err:
            reason = f"not a workflow history in JSON ({str(err).splitlines()[0][:160]})"
            return [Loaded(path.stem, "file", str(path), problem=("unreadable", reason))]
        problem = history_problem(history)
        if problem is not None:
            reason = f"not a workflow history: {problem}"
            return [Loaded(path.stem, "file", str(path), problem=("unreadable", reason))]
        workflow_id = _workflow_id_in(history) or _id_from_stem(path.stem)
        history = WorkflowHistory(workflow_id, history.events)
        return [Loaded(workflow_id, "file", str(path), history=history)]

    return Target(str(path), load)


def _id_from_stem(stem: str) -> str:
    kind, _, rest = stem.partition("-")
    return f"{kind}:{rest.replace('-', ':')}" if kind in ("treaty", "ratification") else stem


def _os(err: OSError) -> str:
    return f"cannot read the file ({err.strerror or err})"


def from_archive(
    archive: Callable[[], Awaitable[HistoryArchive]], workflow_id: str | None = None
) -> Target:
    """The archived runs of ``workflow_id`` (all archived runs when None); ``archive``
    opens the archive when first needed."""

    async def load() -> list[Loaded]:
        records = await (await archive()).get(workflow_id)
        if not records and workflow_id is not None:
            return [_not_found(workflow_id, archive_checked=True)]
        return [_from_record(r) for r in records]

    return Target(workflow_id or "archive", load)


def _from_record(record: ArchivedHistory | TamperedHistory) -> Loaded:
    where = f"archive, run {record.run_id}, archived {record.archived_at:%Y-%m-%d %H:%M:%S}"
    if isinstance(record, UnreadableHistory):
        return Loaded(
            record.workflow_id,
            "archive",
            where,
            problem=("unreadable", record.message),
            run_id=record.run_id,
        )
    if isinstance(record, TamperedHistory):
        return Loaded(
            record.workflow_id,
            "archive",
            where,
            problem=("tampered", record.message),
            run_id=record.run_id,
        )
    return Loaded(record.workflow_id, "archive", where, history=record.history)


def _not_found(workflow_id: str, *, archive_checked: bool) -> Loaded:
    where = "on the Temporal server" + (" nor in the history archive" if archive_checked else "")
    return Loaded(
        workflow_id,
        "server",
        problem=("not_found", f"no workflow {workflow_id!r} {where}"),
    )


def from_server(
    client: Client,
    workflow_id: str,
    run_id: str | None = None,
    archive: Callable[[], Awaitable[HistoryArchive]] | None = None,
) -> Target:
    """The history of ``workflow_id`` on the server (its latest run, or ``run_id``); when
    the server no longer has it and ``archive`` is given, its archived runs."""

    async def load() -> list[Loaded]:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        try:
            history = await handle.fetch_history()
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            history = None
        if history is None or not history.events:  # gone (or being deleted)
            if archive is None:
                return [_not_found(workflow_id, archive_checked=False)]
            return await from_archive(archive, workflow_id).load()
        return [Loaded(workflow_id, "server", f"server, run {history.run_id}", history=history)]

    return Target(workflow_id, load)


async def from_query(client: Client, query: str | None) -> list[Target]:
    """One target per run the server lists for the visibility ``query`` (every workflow of
    the namespace when None), e.g. ``WorkflowType = "Ratification"``."""
    targets = []
    async for execution in client.list_workflows(query):
        targets.append(from_server(client, execution.id, execution.run_id))
    return targets


# --- replay ----------------------------------------------------------------------------------

_RUNTIME: Runtime | None = None


def _quiet_runtime() -> Runtime:
    """A Temporal runtime whose core logs only errors: a replay that diverges is reported
    by :func:`replay`, not also as a core warning on stderr."""
    global _RUNTIME
    if _RUNTIME is None:
        _RUNTIME = Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level="ERROR", other_level="ERROR")
                )
            )
        )
    return _RUNTIME


def replayer(workflows: Sequence[type]) -> Replayer:
    """A replayer for ``workflows`` with the data converter the workers use."""
    return Replayer(
        workflows=list(workflows),
        data_converter=pydantic_data_converter,
        runtime=_quiet_runtime(),
    )


async def replay(
    targets: Iterable[Target],
    workflows: Sequence[type],
    *,
    on_target: Callable[[Target, list[ReplayResult]], None] | None = None,
    prefetch: int = 4,
) -> list[ReplayResult]:
    """Replay the histories of ``targets`` against ``workflows``; one result per history
    (or per history that could not be had), in the order of ``targets``.

    Up to ``prefetch`` histories are fetched ahead of the replay. ``on_target`` is
    called after each target with its results (a progress bar). A divergence whose
    message names no event is located by replaying ever longer prefixes of the history.
    """
    rep = replayer(workflows)
    results: list[ReplayResult] = []
    upcoming = iter(targets)
    ahead: deque[tuple[Target, asyncio.Task[list[Loaded]]]] = deque()
    # Targets loaded, in order, with their outcomes so far (None: not replayed yet).
    loaded_targets: deque[tuple[Target, list[Loaded], list[ReplayResult | None]]] = deque()
    slots: dict[int, tuple[Loaded, list[ReplayResult | None], int]] = {}

    def fetch_ahead() -> None:
        while len(ahead) < max(1, prefetch):
            target = next(upcoming, None)
            if target is None:
                return
            ahead.append((target, asyncio.ensure_future(target.load())))

    def flush() -> None:
        """Report the targets at the front whose histories have all been replayed."""
        while loaded_targets and all(r is not None for r in loaded_targets[0][2]):
            target, _, outcomes = loaded_targets.popleft()
            mine = [r for r in outcomes if r is not None]
            results.extend(mine)
            if on_target is not None:
                on_target(target, mine)

    async def histories() -> AsyncIterator[WorkflowHistory]:
        """Every history to replay, in the order of ``targets`` (fetched ahead); the
        targets' problems (no history) are recorded on the way."""
        fetch_ahead()
        while ahead:
            target, loading = ahead.popleft()
            loaded = await loading
            fetch_ahead()
            outcomes: list[ReplayResult | None] = [
                _problem(item) if item.history is None else None for item in loaded
            ]
            loaded_targets.append((target, loaded, outcomes))
            flush()
            for index, item in enumerate(loaded):
                if item.history is not None:
                    slots[id(item.history)] = (item, outcomes, index)
                    yield item.history

    try:
        # One replay worker for all the histories (a worker per history costs more than
        # most replays).
        async with rep.workflow_replay_iterator(histories()) as replayed:
            async for result in replayed:
                item, outcomes, index = slots.pop(id(result.history))
                outcome = _outcome(item, result.replay_failure)
                if outcome.status == "nondeterministic" and outcome.event_id is None:
                    await _locate(rep, item.history, outcome)  # type: ignore[arg-type]
                outcomes[index] = outcome
                flush()
        flush()
    finally:
        for _, loading in ahead:
            loading.cancel()
        await asyncio.gather(*(loading for _, loading in ahead), return_exceptions=True)
    return results


def _problem(item: Loaded) -> ReplayResult:
    assert item.problem is not None
    status, message = item.problem
    return ReplayResult(
        workflow_id=item.workflow_id,
        run_id=item.run_id,
        workflow_type=None,
        source=item.source,
        location=item.location,
        events=0,
        status=status,
        message=message,
    )


def _workflow_type(history: WorkflowHistory) -> str | None:
    if not history.events:
        return None
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def _outcome(item: Loaded, failure: Exception | None) -> ReplayResult:
    history = item.history
    assert history is not None
    result = ReplayResult(
        workflow_id=history.workflow_id,
        run_id=history.run_id,
        workflow_type=_workflow_type(history),
        source=item.source,
        location=item.location,
        events=len(history.events),
        status="clean",
        message="replayed cleanly: the current code takes the same decisions as the record",
    )
    if failure is None:
        return result
    explain(history, failure, result)
    return result


# --- explaining a failure --------------------------------------------------------------------

_CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')
_EVENT_REF = re.compile(r"HistoryEvent\(id: (\d+), (\w+)\)")
_MACHINE = re.compile(r"^(.*?) machine does not handle this event")
_ACTIVITY_TYPE = re.compile(
    r"Activity type of scheduled event '([^']*)' does not match activity type of "
    r"activity command '([^']*)'"
)
_TIMER_ID = re.compile(r"Timer id of scheduled event '([^']*)' does not match")
_CHANGE_ID = re.compile(r"Change id (\S+) does not match expected id (\S+)")
_MARKER_WITHOUT_PATCH = re.compile(
    r"patch marker encountered for change (\S+), but there is no corresponding change command"
)
_NOT_REGISTERED = re.compile(r"Workflow class (\S+) is not registered on this worker")
_PREFIX = re.compile(r"^(?:\[TMPRL\d+\]\s*)?(?:Nondeterminism error:\s*)?")

#: What the current code does, by the name of the core state machine that received an
#: event it did not expect.
_MACHINE_WORDS = {
    "timer": "starts a timer",
    "activity": "schedules an activity",
    "local activity": "runs a local activity",
    "signal external wf": "sends a signal to another process",
    "cancel external wf": "asks another process to cancel",
    "child workflow": "starts a child workflow",
    "complete workflow": "completes the process",
    "fail workflow": "fails the process",
    "cancel workflow": "cancels the process",
    "continue as new workflow": "continues the process as new",
    "patch": "records a code-change marker",
    "upsert search attributes": "updates its search attributes",
    "modify workflow properties": "modifies its properties",
    "update": "handles an update",
}


def core_message(failure: BaseException) -> str:
    """The core's own sentence inside a replay failure (``[TMPRL1100] Nondeterminism
    error: ...`` unwrapped from ``Workflow activation completion failed: Failure {
    message: "..." ...}``), without its code prefix."""
    text = str(failure)
    found = _CORE_MESSAGE.search(text)
    if found:
        text = found.group(1).encode().decode("unicode_escape", errors="replace")
    return _PREFIX.sub("", text.strip(), count=1)


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.removeprefix("EVENT_TYPE_").split("_"))


def event_type_name(event: HistoryEvent) -> str:
    """``ActivityTaskScheduled`` for ``EVENT_TYPE_ACTIVITY_TASK_SCHEDULED``."""
    return _camel(EventType.Name(event.event_type))


def _payload_text(payload: Any) -> str | None:
    try:
        return json.loads(payload.data)
    except (ValueError, TypeError):
        return None


def describe_event(event: HistoryEvent) -> str:
    """What the record says happened at ``event``, in words."""
    kind = event.WhichOneof("attributes") or ""
    attrs = getattr(event, kind, None) if kind else None
    t = event.event_type
    if t == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        name = attrs.activity_type.name
        what = " (appending domain events to the event store)" if name == "append_events" else ""
        return f"the process scheduled activity {name!r}{what}"
    if t == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        target = attrs.workflow_execution.workflow_id
        return f"the process sent signal {attrs.signal_name!r} to {target}"
    if t == EventType.EVENT_TYPE_TIMER_STARTED:
        seconds = attrs.start_to_fire_timeout.ToTimedelta()
        return f"the process started a timer of {seconds}"
    if t == EventType.EVENT_TYPE_MARKER_RECORDED:
        patch = attrs.details.get("patch-data") or attrs.details.get("patch_data")
        if patch is not None and patch.payloads:
            data = _payload_text(patch.payloads[0])
            if isinstance(data, dict) and "id" in data:
                return f"the process recorded the code-change marker {data['id']!r}"
        return f"the process recorded marker {attrs.marker_name!r}"
    if t == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        return f"the process started child workflow {attrs.workflow_id}"
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        return "the process completed"
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        return "the process failed"
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        return "the process continued as new"
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        return f"the process received signal {attrs.signal_name!r}"
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        return f"the process accepted update {attrs.accepted_request.input.name!r}"
    words = re.sub(r"(?<!^)([A-Z])", r" \1", event_type_name(event)).lower()
    return f"the history records {words}"


def _event(history: WorkflowHistory, event_id: int) -> HistoryEvent | None:
    for event in history.events:
        if event.event_id == event_id:
            return event
    return None


def _now_words(core: str) -> str:
    """What the current code does instead, from the core's sentence."""
    if core.startswith("No command scheduled for event"):
        return "the current code does not do this at that point"
    found = _MACHINE.match(core)
    if found:
        machine = found.group(1).strip().lower()
        doing = _MACHINE_WORDS.get(machine, f"issues another command ({machine})")
        return f"the current code {doing} instead"
    found = _ACTIVITY_TYPE.search(core)
    if found:
        return f"the current code schedules activity {found.group(2)!r} instead"
    found = _CHANGE_ID.search(core)
    if found:
        return f"the current code expects code-change marker {found.group(2)} instead"
    found = _MARKER_WITHOUT_PATCH.search(core)
    if found:
        return (
            f"the current code no longer asks for it (its workflow.patched({found.group(1)!r}) "
            "was removed while histories that have the marker can still be replayed)"
        )
    return f"the current code does otherwise ({core})"


def explain(history: WorkflowHistory, failure: BaseException, result: ReplayResult) -> None:
    """Fill ``result`` (status, message, event id and type) from a replay ``failure``."""
    from temporalio.workflow import NondeterminismError

    core = core_message(failure)
    result.detail = str(failure)
    if not isinstance(failure, NondeterminismError) and "Nondeterminism" not in str(failure):
        result.status = "failed"
        missing = _NOT_REGISTERED.search(core)
        if missing:
            result.message = (
                f"replay failed: the current code has no workflow type {missing.group(1)!r} "
                f"({core})"
            )
        else:
            result.message = f"replay failed: {core}"
        return
    result.status = "nondeterministic"
    ref = _EVENT_REF.search(core)
    if ref:
        result.event_id = int(ref.group(1))
        result.event_type = ref.group(2)
    _say_divergence(history, core, result)


def _say_divergence(history: WorkflowHistory, core: str, result: ReplayResult) -> None:
    now = _now_words(core)
    if result.event_id is None:
        result.message = (
            f"the current code does not take the decisions recorded in this history: {now}"
        )
        return
    event = _event(history, result.event_id)
    recorded = describe_event(event) if event is not None else "the history records an event"
    result.message = (
        f"diverges at event {result.event_id} ({result.event_type}): {recorded} there, but {now}"
    )


# Events written for commands (what a workflow task decided), in the record.
_COMMAND_EVENTS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    EventType.EVENT_TYPE_TIMER_STARTED,
    EventType.EVENT_TYPE_TIMER_CANCELED,
    EventType.EVENT_TYPE_MARKER_RECORDED,
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
    EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
}


async def _locate(rep: Replayer, history: WorkflowHistory, result: ReplayResult) -> None:
    """Find the first diverging event when the core's message names none.

    A history cut right after the start of workflow task ``k`` replays the decisions of
    tasks before ``k`` only; the smallest such cut that fails tells which task decided
    differently, and the diverging event is the first event that task's decisions wrote
    (of the kind the message names, if it names one)."""
    events = list(history.events)
    starts = [
        i
        for i, e in enumerate(events)
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
    ]

    async def fails(k: int) -> bool:
        cut = WorkflowHistory(history.workflow_id, events[: starts[k] + 1])
        outcome = await rep.replay_workflow(cut, raise_on_replay_failure=False)
        return outcome.replay_failure is not None

    lo, hi = 0, len(starts)  # the smallest failing cut is in [lo, hi); hi = whole history
    while lo < hi:
        mid = (lo + hi) // 2
        if await fails(mid):
            hi = mid
        else:
            lo = mid + 1
    # decisions of task lo - 1 wrote the events between its start and the next task's start
    begin = starts[lo - 1] + 1 if lo >= 1 else 0
    end = starts[lo] if lo < len(starts) else len(events)
    segment = events[begin:end]
    core = core_message_from(result.detail or "")
    wanted = _wanted_event(core)
    for event in segment:
        if event.event_type in _COMMAND_EVENTS and (wanted is None or wanted(event)):
            result.event_id = event.event_id
            result.event_type = event_type_name(event)
            break
    _say_divergence(history, core, result)


def core_message_from(detail: str) -> str:
    return core_message(Exception(detail))


def _wanted_event(core: str) -> Callable[[HistoryEvent], bool] | None:
    found = _ACTIVITY_TYPE.search(core)
    if found:
        name = found.group(1)
        return lambda e: (
            e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and e.activity_task_scheduled_event_attributes.activity_type.name == name
        )
    if _TIMER_ID.search(core):
        return lambda e: e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    if _CHANGE_ID.search(core) or _MARKER_WITHOUT_PATCH.search(core):
        return lambda e: e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    return None


def summary(results: Sequence[ReplayResult]) -> dict[str, Any]:
    """Counts by status and whether all replayed cleanly."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {
        "histories": len(results),
        "clean": counts.get("clean", 0),
        "counts": counts,
        "all_clean": bool(results) and all(r.ok for r in results),
    }


__all__ = [
    "Loaded",
    "ReplayResult",
    "STATUS_WORDS",
    "Target",
    "core_message",
    "describe_event",
    "explain",
    "from_archive",
    "from_file",
    "from_query",
    "from_server",
    "replay",
    "replayer",
    "summary",
]
