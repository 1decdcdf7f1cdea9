"""``treaty audit verify``: is the record intact, and does it agree with Temporal?

For each process (one event-store stream, one workflow), generic over
:data:`domain.processes.PROCESS_TYPES`:

1. **chain**: every event's hash recomputed (``sha256(prev_hash || canonical_json)``),
   every ``prev_hash`` equal to the previous event's hash, versions 1, 2, 3... without a
   gap (:func:`check_chain`);
2. **fold**: every event is a domain event the process can fold (:func:`check_fold`);
3. **state**: the state folded from the store equals the state the workflow reports by
   its query (:func:`compare_state`);
4. **history**: every event in the store was appended by an ``append_events`` activity
   that completed in the workflow's Temporal history, with the same event id, version,
   type, business date, data and metadata, and every event such a completed activity
   appended is in the store (:func:`appends_in_history`, :func:`match_history`). All the
   workflow's runs count; runs no longer on the server are taken from the history archive
   when the caller gives one (``archived``);
5. **deposits** (for each treaty process verified): every deposit it counts is one its
   State's ratification stream records, on the same date (:func:`check_deposits`).

A :class:`Discrepancy` is a fault of the record (it names the stream, the version, the
event id and what is wrong); a :class:`Note` says what could not be checked and why (a
workflow no longer on the Temporal server is not a fault of the record).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory, WorkflowQueryFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode

from activities.eventstore import AppendRequest, AppendResponse
from domain import ids, processes
from eventstore.folding import UnreadableEventError, changes, decode, fold_stored, metadata_of, show
from eventstore.hashing import GENESIS_HASH, canonical_json
from eventstore.recorder import Recorder
from eventstore.store import EventStore, StoredEvent

APPEND_ACTIVITY = "append_events"
"""The activity type through which every workflow appends its events (the one write path)."""


@dataclass(frozen=True)
class Discrepancy:
    """A fault of the record: in ``stream_id`` at ``version`` (None: not tied to one),
    event ``event_id`` (None: no such event in the store), ``check`` (``chain``, ``fold``,
    ``state``, ``history``) found ``detail``."""

    stream_id: str
    version: int | None
    event_id: UUID | None
    check: str
    detail: str

    def __str__(self) -> str:
        where = self.stream_id
        if self.version is not None:
            where += f" version {self.version}"
        if self.event_id is not None:
            where += f" (event {self.event_id})"
        return f"{where}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream_id,
            "version": self.version,
            "event_id": str(self.event_id) if self.event_id else None,
            "check": self.check,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Note:
    """Something about ``stream_id`` that could not be checked (not a fault of the record)."""

    stream_id: str
    detail: str

    def __str__(self) -> str:
        return f"{self.stream_id}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {"stream": self.stream_id, "detail": self.detail}


CHECKS = ("chain", "fold", "state", "history")


@dataclass
class StreamReport:
    """What verify found for one process: ``events`` in its stream; ``checks``: each of
    :data:`CHECKS` -> ``ok``, ``failed`` or ``not checked``."""

    stream_id: str
    events: int
    discrepancies: list[Discrepancy] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)

    def record(self, check: str, found: Sequence[Discrepancy]) -> None:
        self.discrepancies.extend(found)
        self.checks[check] = "failed" if found else "ok"

    def skip(self, check: str, why: str | None = None) -> None:
        self.checks[check] = "not checked"
        if why:
            self.notes.append(Note(self.stream_id, why))

    def to_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream_id,
            "events": self.events,
            "checks": self.checks,
            "discrepancies": [d.to_json() for d in self.discrepancies],
            "notes": [n.to_json() for n in self.notes],
        }


@dataclass
class VerifyReport:
    """The outcome for every process checked; ``ok``: no discrepancy."""

    streams: list[StreamReport] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def discrepancies(self) -> list[Discrepancy]:
        return [d for s in self.streams for d in s.discrepancies]

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "streams_checked": len(self.streams),
            "events_checked": sum(s.events for s in self.streams),
            "discrepancies": [d.to_json() for d in self.discrepancies],
            "notes": [
                n.to_json() for n in [*self.notes, *(n for s in self.streams for n in s.notes)]
            ],
            "streams": [s.to_json() for s in self.streams],
        }


# --- 1. the hash chain and the versions -------------------------------------------------


def check_chain(stream_id: str, events: Sequence[StoredEvent]) -> list[Discrepancy]:
    """The hash chain and the versions of one stream (``events`` in version order).

    Each event's hash is recomputed from its stored ``prev_hash`` and content, so one
    altered event is named once, at its own version; a deleted event shows as the missing
    version and as the broken link at the next one. (A removed *last* event leaves no gap:
    :func:`match_history` finds it.)
    """
    found: list[Discrepancy] = []
    expected_version = 1
    prev_hash = GENESIS_HASH
    for event in events:
        version = event.stream_version
        if version > expected_version:
            missing = (
                f"version {expected_version} is"
                if version == expected_version + 1
                else f"versions {expected_version} to {version - 1} are"
            )
            found.append(
                Discrepancy(
                    stream_id,
                    expected_version,
                    None,
                    "chain",
                    f"{missing} missing: the stream goes on at version {version}"
                    if expected_version > 1
                    else f"{missing} missing: the stream starts at version {version}",
                )
            )
        elif version < expected_version:  # pragma: no cover - UNIQUE(stream_id, version)
            found.append(
                Discrepancy(stream_id, version, event.event_id, "chain", "version repeated")
            )
        if event.prev_hash != prev_hash:
            found.append(
                Discrepancy(
                    stream_id,
                    version,
                    event.event_id,
                    "chain",
                    f"the chain breaks here: prev_hash {event.prev_hash.hex()[:16]}… is not"
                    f" the hash of the event before it ({prev_hash.hex()[:16]}…)",
                )
            )
        if len(event.prev_hash) == len(GENESIS_HASH):
            recomputed = event.recomputed_hash()
            if recomputed != event.hash:
                found.append(
                    Discrepancy(
                        stream_id,
                        version,
                        event.event_id,
                        "chain",
                        "the event was altered after it was recorded: its content hashes to"
                        f" {recomputed.hex()[:16]}…, its stored hash is {event.hash.hex()[:16]}…",
                    )
                )
        prev_hash = event.hash
        expected_version = version + 1
    return found


async def verify_chain(recorder: Recorder, stream_id: str) -> list[Discrepancy]:
    """:func:`check_chain` of ``stream_id`` as ``recorder`` reads it (``[]``: intact, or
    no such stream)."""
    return check_chain(stream_id, await recorder.read_stream(stream_id))


# --- 2. the fold ------------------------------------------------------------------------


def check_fold(
    stream_id: str, events: Sequence[StoredEvent]
) -> tuple[BaseModel | None, list[Discrepancy]]:
    """The state folded from the whole stream, or None and the events that cannot be read
    (each named; a stream id of no known process type is one discrepancy)."""
    try:
        processes.process_type(stream_id)
    except processes.UnknownProcessError as err:
        return None, [Discrepancy(stream_id, None, None, "fold", str(err))]
    unreadable: list[Discrepancy] = []
    for event in events:
        try:
            decode(event)
        except UnreadableEventError as err:
            unreadable.append(
                Discrepancy(
                    stream_id,
                    event.stream_version,
                    event.event_id,
                    "fold",
                    f"{event.event_type} cannot be read: {err.reason}",
                )
            )
    if unreadable:
        return None, unreadable
    return fold_stored(stream_id, events), []


# --- 3. the workflow's own state ----------------------------------------------------------


def compare_state(stream_id: str, folded: BaseModel, reported: BaseModel) -> list[Discrepancy]:
    """One discrepancy naming every field where the state folded from the store differs
    from the state the workflow reports (``[]`` when equal)."""
    if folded == reported:
        return []
    diffs = changes(reported, folded, ignore=())
    what = (
        "; ".join(
            f"{c.field}: {show(c.after)} in the store, {show(c.before)} in the workflow"
            for c in diffs
        )
        or f"{type(folded).__name__} differs from {type(reported).__name__}"
    )
    return [
        Discrepancy(
            stream_id,
            getattr(folded, "version", None),
            None,
            "state",
            f"the state folded from the store differs from the workflow's: {what}",
        )
    ]


# --- 4. the Temporal history --------------------------------------------------------------


@dataclass(frozen=True)
class RecordedAppend:
    """One ``append_events`` activity in a workflow history: the run, the history event
    that scheduled it, its ``outcome`` (``completed``, ``failed``, ``timed out``,
    ``canceled`` or ``pending``) and its request."""

    run_id: str
    scheduled_event_id: int
    outcome: str
    request: AppendRequest

    def where(self) -> str:
        return f"run {self.run_id}, history event {self.scheduled_event_id}"


_CLOSED = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: (
        "completed",
        "activity_task_completed_event_attributes",
    ),
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: ("failed", "activity_task_failed_event_attributes"),
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: (
        "timed out",
        "activity_task_timed_out_event_attributes",
    ),
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: (
        "canceled",
        "activity_task_canceled_event_attributes",
    ),
}


LOCAL_ACTIVITY_MARKER = "core_local_activity"


async def _local_append(
    event: HistoryEvent, converter: DataConverter
) -> tuple[AppendRequest, str] | None:
    """The request and outcome of an ``append_events`` run as a local activity (its
    ``MarkerRecorded``: the marker's ``data`` names the activity, its ``result`` is the
    :class:`AppendResponse` carrying the request; a failed one has no result), or None
    for another marker."""
    attrs = event.marker_recorded_event_attributes
    if attrs.marker_name != LOCAL_ACTIVITY_MARKER:
        return None
    details = attrs.details
    [data] = await converter.decode(details["data"].payloads, [dict])
    if data.get("activity_type") != APPEND_ACTIVITY:
        return None
    if "result" not in details or not details["result"].payloads:
        return None  # failed: nothing appended, and the request is not in the history
    [response] = await converter.decode(details["result"].payloads, [AppendResponse])
    if response.request is None:
        return None
    return response.request, "completed"


async def appends_in_history(
    history: WorkflowHistory, converter: DataConverter = pydantic_data_converter
) -> list[RecordedAppend]:
    """Every ``append_events`` activity scheduled in ``history``, in order, with its outcome
    and its :class:`~activities.eventstore.AppendRequest` (decoded with ``converter``, the
    workers' pydantic data converter)."""
    scheduled: dict[int, AppendRequest] = {}
    outcome: dict[int, str] = {}
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            local = await _local_append(event, converter)
            if local is not None:
                scheduled[event.event_id], outcome[event.event_id] = local
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            if attrs.activity_type.name != APPEND_ACTIVITY:
                continue
            [request] = await converter.decode(attrs.input.payloads, [AppendRequest])
            scheduled[event.event_id] = request
        elif event.event_type in _CLOSED:
            name, field_name = _CLOSED[event.event_type]
            scheduled_id = getattr(event, field_name).scheduled_event_id
            if scheduled_id in scheduled:
                outcome[scheduled_id] = name
    run_id = history.run_id
    return [
        RecordedAppend(run_id, event_id, outcome.get(event_id, "pending"), request)
        for event_id, request in scheduled.items()
    ]


def _json(value: Any) -> Any:
    """``value`` as the JSON the store hands back (dates as strings, keys sorted)."""
    return json.loads(canonical_json(value))


def _differences(stored: StoredEvent, appended: Any, metadata: dict[str, Any]) -> list[str]:
    """How a stored event differs from the event record its append carried."""
    out: list[str] = []
    if stored.event_type != appended.event_type:
        out.append(
            f"event type {stored.event_type} in the store, {appended.event_type} in the history"
        )
    if stored.occurred_on != appended.occurred_on:
        out.append(
            f"business date {show(stored.occurred_on)} in the store,"
            f" {show(appended.occurred_on)} in the history"
        )
    for label, mine, theirs in (
        ("data", _json(stored.data), _json(appended.data)),
        ("metadata", _json(stored.metadata), _json(metadata)),
    ):
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key):
                out.append(
                    f"{label}.{key} {json.dumps(mine.get(key), ensure_ascii=False)} in the"
                    f" store, {json.dumps(theirs.get(key), ensure_ascii=False)} in the history"
                )
    return out


def match_history(
    stream_id: str,
    events: Sequence[StoredEvent],
    appends: Sequence[RecordedAppend],
    *,
    runs: Collection[str] | None = None,
) -> tuple[list[Discrepancy], list[Note]]:
    """Compare the stream's stored events with the appends its workflow's history records
    (of all its runs): nothing lost, nothing added, nothing changed.

    - an event a completed append carried that is not stored at its version (or another
      event is stored there): lost or replaced;
    - a stored event that no completed append carried: added by other means (or stored
      although its append failed);
    - a stored event whose type, business date, data or metadata differ from its append:
      changed (even if its hash chain was recomputed);
    - an append still pending whose events are stored: a note (it is in progress).

    ``runs``: the run ids whose histories ``appends`` come from, when some runs of the
    workflow are not available; a stored event whose metadata names another run is then
    not looked for in them (the caller says so). None: all runs are available.
    """
    by_version = {e.stream_version: e for e in events}
    found: list[Discrepancy] = []
    notes: list[Note] = []
    recorded: dict[int, tuple[Any, RecordedAppend]] = {}
    unfinished: dict[UUID, RecordedAppend] = {}
    for append in appends:
        request = append.request
        if request.stream_id != stream_id:
            continue
        for offset, record in enumerate(request.events):
            version = request.expected_version + offset + 1
            if append.outcome != "completed":
                unfinished[record.event_id] = append
                continue
            earlier = recorded.get(version)
            if earlier is not None and earlier[0].event_id != record.event_id:
                found.append(
                    Discrepancy(
                        stream_id,
                        version,
                        record.event_id,
                        "history",
                        f"the history appended two events at this version: {earlier[0].event_id}"
                        f" ({earlier[1].where()}) and {record.event_id} ({append.where()})",
                    )
                )
                continue
            recorded[version] = (record, append)

    for version, (record, append) in sorted(recorded.items()):
        stored = by_version.get(version)
        if stored is None:
            found.append(
                Discrepancy(
                    stream_id,
                    version,
                    record.event_id,
                    "history",
                    f"{record.event_type} is missing from the store: the Temporal history"
                    f" ({append.where()}) records its append as completed",
                )
            )
        elif stored.event_id != record.event_id:
            found.append(
                Discrepancy(
                    stream_id,
                    version,
                    stored.event_id,
                    "history",
                    f"the store holds event {stored.event_id} ({stored.event_type}) where the"
                    f" Temporal history ({append.where()}) appended {record.event_id}"
                    f" ({record.event_type})",
                )
            )
        else:
            diffs = _differences(stored, record, append.request.metadata)
            if diffs:
                found.append(
                    Discrepancy(
                        stream_id,
                        version,
                        stored.event_id,
                        "history",
                        f"differs from its append in the Temporal history ({append.where()}): "
                        + "; ".join(diffs),
                    )
                )

    for stored in events:
        if stored.stream_version in recorded:
            continue
        run_id = metadata_of(stored).get("run_id")
        if runs is not None and run_id and run_id not in runs:
            continue
        pending = unfinished.get(stored.event_id)
        if pending is not None and pending.outcome == "pending":
            notes.append(
                Note(
                    stream_id,
                    f"version {stored.stream_version} ({stored.event_id}) is stored and its"
                    f" append ({pending.where()}) is still in progress",
                )
            )
        elif pending is not None:
            found.append(
                Discrepancy(
                    stream_id,
                    stored.stream_version,
                    stored.event_id,
                    "history",
                    f"{stored.event_type} is stored, but its append {pending.outcome} in the"
                    f" Temporal history ({pending.where()})",
                )
            )
        else:
            found.append(
                Discrepancy(
                    stream_id,
                    stored.stream_version,
                    stored.event_id,
                    "history",
                    f"{stored.event_type} is in the store but in no completed append of the"
                    " workflow's Temporal history: it was not recorded by the workflow",
                )
            )
    return found, notes


# --- putting it together ---------------------------------------------------------------------

HistorySource = Callable[[str], Awaitable[tuple[list[WorkflowHistory], list[str]]]]
"""``(histories, problems)`` of a workflow id kept elsewhere (the history archive), for runs
no longer on the Temporal server: the histories that can be trusted, and what is wrong
with those that cannot (e.g. altered since they were archived)."""

QUERY_TIMEOUT = timedelta(seconds=15)


class WorkflowGoneError(Exception):
    """The workflow is not (any more) on the Temporal server."""


def _not_found(err: RPCError) -> bool:
    return err.status == RPCStatusCode.NOT_FOUND


async def fetch_histories(
    client: Client, workflow_id: str, run_ids: Sequence[str] = ()
) -> tuple[list[WorkflowHistory], list[str]]:
    """The histories of ``workflow_id``'s runs: the latest run, every run it continued (back
    through continue-as-new), and the runs in ``run_ids`` (those the stored events name).

    Returns:
        ``(histories, missing)``: ``missing`` lists run ids of ``run_ids`` no longer on the
        server.

    Raises:
        WorkflowGoneError: the server has no run of ``workflow_id``.
        RPCError: any other failure of the server.
    """
    try:
        latest = await client.get_workflow_handle(workflow_id).fetch_history()
    except RPCError as err:
        if _not_found(err):
            raise WorkflowGoneError(workflow_id) from None
        raise
    histories = {latest.run_id: latest}
    wanted = [
        latest.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
    ]
    wanted += list(run_ids)
    missing: list[str] = []
    while wanted:
        run_id = wanted.pop(0)
        if not run_id or run_id in histories or run_id in missing:
            continue
        try:
            history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        except RPCError as err:
            if _not_found(err):
                missing.append(run_id)
                continue
            raise
        histories[run_id] = history
        wanted.insert(
            0,
            history.events[
                0
            ].workflow_execution_started_event_attributes.continued_execution_run_id,
        )
    return list(histories.values()), [r for r in missing if r in run_ids]


async def reported_state(client: Client, stream_id: str) -> BaseModel:
    """The state the process's workflow reports by its query (:attr:`ProcessType.query`).

    Raises:
        RPCError, temporalio.client.WorkflowQueryFailedError: the query failed.
        pydantic.ValidationError: its answer holds no state of the process's model.
    """
    kind, _ = processes.process_type(stream_id)
    handle = client.get_workflow_handle(ids.workflow_id_of_stream(stream_id))
    view = await handle.query(kind.query, rpc_timeout=QUERY_TIMEOUT)
    return processes.workflow_state(stream_id, view)


async def verify_process(
    stream_id: str,
    events: Sequence[StoredEvent],
    client: Client | None,
    archived: HistorySource | None = None,
) -> StreamReport:
    """Every check of one process (``events``: its stream in version order). Without a
    ``client`` only the store is checked (chain, fold)."""
    report = StreamReport(stream_id, len(events))
    report.record("chain", check_chain(stream_id, events))
    folded, unreadable = check_fold(stream_id, events)
    report.record("fold", unreadable)
    try:
        processes.process_type(stream_id)
    except processes.UnknownProcessError:
        client = None  # no workflow to compare with
    if client is None:
        report.skip("history")
        report.skip("state")
        return report
    on_server = await _check_history(report, events, client, archived)
    if not on_server:
        report.skip("state")
    elif folded is None:
        report.skip("state")  # the unreadable events are already named
    else:
        await _check_state(report, folded, client)
    return report


async def _check_history(
    report: StreamReport,
    events: Sequence[StoredEvent],
    client: Client,
    archived: HistorySource | None,
) -> bool:
    """Check 4 into ``report``; False when the workflow is not on the server any more.

    Runs no longer on the server are taken from ``archived``; stored events of a run found
    in neither are named in a note and not compared.
    """
    stream_id = report.stream_id
    workflow_id = ids.workflow_id_of_stream(stream_id)
    run_ids = sorted(
        {str(metadata_of(e)["run_id"]) for e in events if metadata_of(e).get("run_id")}
    )
    on_server = True
    try:
        histories, missing = await fetch_histories(client, workflow_id, run_ids)
    except WorkflowGoneError:
        on_server, histories, missing = False, [], run_ids
    problems: list[str] = []
    if (missing or not on_server) and archived is not None:
        kept, problems = await archived(workflow_id)
        have = {h.run_id for h in histories}
        histories += [h for h in kept if h.run_id not in have]
    if not on_server and not histories and not problems:
        report.skip(
            "history",
            f"workflow {workflow_id} is no longer on the Temporal server (and has no archived"
            " history): its state and history were not compared with the store",
        )
        return on_server
    if not on_server and histories:
        report.notes.append(
            Note(
                stream_id,
                f"workflow {workflow_id} is no longer on the Temporal server: the store was"
                " compared with its archived history; its state was not queried",
            )
        )
    runs = {h.run_id for h in histories}
    appends = [a for h in histories for a in await appends_in_history(h, client.data_converter)]
    found, notes = match_history(stream_id, events, appends, runs=runs)
    found += [Discrepancy(stream_id, None, None, "history", p) for p in problems]
    report.record("history", found)
    report.notes.extend(notes)
    for run_id in sorted(set(run_ids) - runs):
        versions = [e.stream_version for e in events if metadata_of(e).get("run_id") == run_id]
        report.notes.append(
            Note(
                stream_id,
                f"run {run_id} of {workflow_id} (versions {_ranges(versions)}) is neither on"
                " the Temporal server nor intact in the archive: those events were not"
                " compared",
            )
        )
    return on_server


def _ranges(versions: Sequence[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    parts: list[str] = []
    for v in sorted(versions):
        if parts and int(parts[-1].split("-")[-1]) == v - 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{v}"
        else:
            parts.append(str(v))
    return ", ".join(parts)


async def _check_state(report: StreamReport, folded: BaseModel, client: Client) -> None:
    """Check 3 into ``report``."""
    stream_id = report.stream_id
    workflow_id = ids.workflow_id_of_stream(stream_id)
    try:
        reported = await reported_state(client, stream_id)
    except RPCError as err:
        report.skip("state", f"workflow {workflow_id} did not answer its query: {err.message}")
        return
    except WorkflowQueryFailedError as err:
        report.skip("state", f"the query of workflow {workflow_id} failed: {err}")
        return
    except ValueError as err:  # pydantic.ValidationError: not the process's state model
        wrong = Discrepancy(
            stream_id,
            None,
            None,
            "state",
            f"workflow {workflow_id} answered its query with no {type(folded).__name__}:"
            f" {' '.join(str(err).split())[:200]}",
        )
        report.record("state", [wrong])
        return
    report.record("state", compare_state(stream_id, folded, reported))


# --- 5. the treaty's counts against the States' deposits --------------------------------


_DEPOSIT_EVENTS = ("DepositCounted", "InstrumentDeposited")


def _deposit_dates(events: Sequence[StoredEvent], event_type: str) -> dict[str, tuple[Any, int]]:
    """State -> (the date of its last ``event_type`` event, that event's version)."""
    found: dict[str, tuple[Any, int]] = {}
    for e in events:
        if e.event_type == event_type:
            found[str(e.data.get("state"))] = (e.occurred_on, e.stream_version)
    return found


def check_deposits(
    treaty_stream: str,
    treaty_events: Sequence[StoredEvent],
    ratifications: dict[str, Sequence[StoredEvent]],
) -> tuple[list[Discrepancy], list[Note]]:
    """The deposits ``treaty-<CODE>`` counts (``DepositCounted``) against those its States'
    streams record (``InstrumentDeposited``; ``ratifications``: every
    ``ratification-<CODE>-<ISO3>`` stream): the treaty's entry into force rests on its
    counts (CCM Art. 17(1)), so each must be a deposit a State's stream records, on the
    same date. A count with no such deposit, or on another date, is a discrepancy (e.g. an
    import stopped after the count and not run again); a deposit not counted yet is a
    note (the treaty process counts a signalled deposit just after it is recorded)."""
    code = treaty_stream.removeprefix("treaty-")
    counted = _deposit_dates(treaty_events, "DepositCounted")
    recorded: dict[str, Any] = {}
    for stream_id, events in ratifications.items():
        for state, (day, _) in _deposit_dates(events, "InstrumentDeposited").items():
            recorded[state] = (day, stream_id)
    found: list[Discrepancy] = []
    for state, (day, version) in sorted(counted.items()):
        stream_id = f"ratification-{code}-{state}"
        if state not in recorded:
            detail = (
                f"counts {state}'s deposit of {day}, which {stream_id} does not record "
                "(an import stopped after the count? import the table again)"
            )
        elif recorded[state][0] != day:
            detail = (
                f"counts {state}'s deposit on {day}, {stream_id} records it on {recorded[state][0]}"
            )
        else:
            continue
        event = next(e for e in treaty_events if e.stream_version == version)
        found.append(Discrepancy(treaty_stream, version, event.event_id, "deposits", detail))
    notes = [
        Note(stream_id, f"its deposit of {day} is not counted by {treaty_stream} yet")
        for state, (day, stream_id) in sorted(recorded.items())
        if state not in counted
    ]
    return found, notes


async def all_processes(store: EventStore, client: Client | None) -> tuple[list[str], list[Note]]:
    """Every process to verify: each stream in the store and, with a ``client``, each
    workflow on the Temporal server whose id names a process type (a workflow that appended
    events the store does not hold has no stream). Sorted stream ids, and a note when the
    server cannot list its workflows."""
    streams = {s for s, _ in await store.list_streams()}
    notes: list[Note] = []
    if client is not None:
        try:
            async for execution in client.list_workflows():
                try:
                    processes.process_type(execution.id)
                except processes.UnknownProcessError:
                    continue
                streams.add(ids.stream_id(execution.id))
        except RPCError as err:
            notes.append(
                Note(
                    "*",
                    f"the Temporal server cannot list its workflows ({err.message}): only"
                    " the processes with events in the store were checked",
                )
            )
    return sorted(streams), notes


async def verify(
    store: EventStore,
    client: Client | None,
    stream_ids: Sequence[str],
    *,
    archived: HistorySource | None = None,
    progress: Callable[[], None] | None = None,
    concurrency: int = 8,
) -> VerifyReport:
    """:func:`verify_process` for each of ``stream_ids`` (at most ``concurrency`` at once),
    calling ``progress()`` after each; the reports in the order of ``stream_ids``."""
    gate = asyncio.Semaphore(concurrency)
    read: dict[str, Sequence[StoredEvent]] = {}  # the deposit events of each stream read

    def keep(stream_id: str, events: Sequence[StoredEvent]) -> None:
        read[stream_id] = [e for e in events if e.event_type in _DEPOSIT_EVENTS]

    async def one(stream_id: str) -> StreamReport:
        async with gate:
            events = await store.read_stream(stream_id)
            keep(stream_id, events)
            report = await verify_process(stream_id, events, client, archived)
        if progress is not None:
            progress()
        return report

    async def events_of(stream_id: str) -> Sequence[StoredEvent]:
        if stream_id not in read:
            async with gate:
                keep(stream_id, await store.read_stream(stream_id))
        return read[stream_id]

    reports = list(await asyncio.gather(*(one(s) for s in stream_ids)))
    for report in reports:  # each treaty verified: its counts against its States' deposits
        if not report.stream_id.startswith("treaty-"):
            continue
        prefix = "ratification-" + report.stream_id.removeprefix("treaty-") + "-"
        names = [s for s, _ in await store.list_streams(prefix)]
        streams = dict(zip(names, await asyncio.gather(*map(events_of, names)), strict=True))
        found, notes = check_deposits(report.stream_id, read[report.stream_id], streams)
        report.discrepancies.extend(found)
        report.notes.extend(notes)
    return VerifyReport(streams=reports)
