"""Several worker processes against the embedded servers (Temporal dev server, PostgreSQL).

- Three workers share a batch (an import of CCM status rows); one is killed with SIGKILL
  mid-batch; every process still completes with each event stored exactly once, and the
  histories show the work spread over more than one worker.
- SIGTERM to a worker while an activity runs on it: the activity is handed back and
  retried on another worker, or completes within the grace period; nothing lost or
  doubled.
- The metrics endpoint serves the Temporal SDK's metrics and ``/healthz`` answers while
  the worker runs; the workers' JSON logs carry the workflow id, run id and process key,
  and no secret of their environment.

Each test uses its own task queue and treaty, so the workflow ids do not meet.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType

import settings as settings_mod
from adapters.stack import stack_down, start_servers
from adapters.temporal import connect_client, require_worker
from app import service
from audit.verify import verify_chain
from domain import ids
from domain import ratification as r
from domain.states import resolve_state
from eventstore.store import STREAM_LOCK_NAMESPACE, EventStore
from tests.e2e import ROOT, STATUS_CSV, TREATY, free_port
from tests.support import eventually
from workflows.common import CommandMeta

pytestmark = pytest.mark.e2e

DB_PASSWORD = "Wk-s3cret-77"  # in DATABASE_URL (the embedded server trusts local logins)
SMTP_PASSWORD = "smtp-s3cret-88"
BATCH_ROWS = 24


@dataclass
class Servers:
    settings: settings_mod.Settings
    temporal_address: str
    database_url: str  # the embedded server's own URL (superuser, no password)

    @property
    def worker_database_url(self) -> str:
        """The same server with a password in the URL, which must never be logged."""
        parts = urlsplit(self.database_url)
        host = parts.netloc.rsplit("@", 1)[-1]
        netloc = f"{parts.username}:{DB_PASSWORD}@{host}"
        return urlunsplit(parts._replace(netloc=netloc))

    def env(self, task_queue: str, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in settings_mod.Settings.variables() or k == "TREATYFLOW_HOME"
        }
        env.update(
            TREATYFLOW_HOME=str(self.settings.home),
            TEMPORAL_ADDRESS=self.temporal_address,
            DATABASE_URL=self.worker_database_url,
            TREATYFLOW_TASK_QUEUE=task_queue,
            TREATYFLOW_LOG_FORMAT="json",
            TREATYFLOW_ARCHIVE_MINUTES="0",
            TREATYFLOW_SMTP_PASSWORD=SMTP_PASSWORD,
            TREATYFLOW_ACTOR="worker-test",
            PYTHONUNBUFFERED="1",
            **extra,
        )
        return env


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    home = Path(tempfile.mkdtemp(prefix="treatyflow-workers-"))
    config = settings_mod.Settings(
        home=home, temporal_port=free_port(), ui_port=free_port(), log_format="json"
    )
    try:
        started = start_servers(config)
        assert started.temporal_address and started.database_url
        yield Servers(config, started.temporal_address, started.database_url)
    finally:
        stack_down(config)
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def identity(self) -> str:
        return f"{self.proc.pid}@{socket.gethostname()}"

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def start_workers(
    servers: Servers, n: int, queue: str, first: dict[str, str] | None = None, **extra: str
) -> list[WorkerProcess]:
    """``n`` `python -m worker` processes on ``queue`` with the variables ``extra`` (and
    ``first`` for the first one only); waits until each polls."""
    workers = []
    for i in range(n):
        log = servers.settings.home / "logs" / f"{queue}-{i}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = servers.env(queue, **extra, **(first or {} if i == 0 else {}))
        with open(log, "wb") as f:
            proc = subprocess.Popen(
                [sys.executable, "-m", "worker"], env=env, stdout=f, stderr=f, cwd=ROOT
            )
        workers.append(WorkerProcess(proc, log))
    deadline = time.monotonic() + 90
    for w in workers:
        while "worker started" not in w.text():
            assert w.proc.poll() is None, w.text()
            assert time.monotonic() < deadline, w.text()
            time.sleep(0.2)
    return workers


def stop_workers(workers: list[WorkerProcess]) -> None:
    for w in workers:
        if w.proc.poll() is None:
            w.proc.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()


async def _stored(database_url: str, prefix: str) -> dict[str, list[tuple[int, str, Any]]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT stream_id, stream_version, event_type, event_id FROM events "
            "WHERE stream_id LIKE $1 ORDER BY stream_id, stream_version",
            prefix + "%",
        )
    finally:
        await conn.close()
    streams: dict[str, list[tuple[int, str, Any]]] = {}
    for row in rows:
        streams.setdefault(row["stream_id"], []).append(
            (row["stream_version"], row["event_type"], row["event_id"])
        )
    return streams


def _expected_types(row: dict[str, str]) -> list[str]:
    """The events a status row implies (CCM Art. 17(2): a deposit made after the treaty's
    entry into force fixes the State's own, on the first day of the sixth month after)."""
    types = [] if row["instrument"] == "accession" else ["SignatureRecorded"]
    if row["deposit_date"]:
        types += ["InstrumentDeposited", "EntryIntoForceFixed", "EnteredIntoForce"]
    return types


async def _identities(servers: Servers, workflow_ids: list[str]) -> dict[str, set[str]]:
    """Per workflow: the identities of the workers that ran its workflow and activity
    tasks (from its history)."""
    client = await connect_client(servers.temporal_address, "default")
    found: dict[str, set[str]] = {}
    for wid in workflow_ids:
        history = await client.get_workflow_handle(wid).fetch_history()
        names: set[str] = set()
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                names.add(event.workflow_task_completed_event_attributes.identity)
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                names.add(event.activity_task_started_event_attributes.identity)
        found[wid] = names - {""}
    return found


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_three_workers_one_killed_mid_batch(servers: Servers, tmp_path: Path) -> None:
    queue = "q-batch"
    with open(STATUS_CSV, encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = [row for _, row in zip(range(BATCH_ROWS), reader, strict=False)]
        fieldnames = reader.fieldnames
    assert fieldnames is not None
    batch = tmp_path / "batch.csv"
    with open(batch, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    expected = {
        f"ratification-CCM-{resolve_state(row['state']).code}": _expected_types(row) for row in rows
    }
    deposits = sum(1 for row in rows if row["deposit_date"])
    metrics_port, health_port = free_port(), free_port()
    workers = start_workers(
        servers,
        3,
        queue,
        first={
            "TREATYFLOW_METRICS_PORT": str(metrics_port),
            "TREATYFLOW_HEALTH_PORT": str(health_port),
        },
    )
    cli_env = servers.env(queue)
    try:
        # the Temporal SDK's metrics and the health endpoint, while the worker runs
        status, metrics = _get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert status == 200
        assert "# TYPE temporal_num_pollers gauge" in metrics
        assert f'task_queue="{queue}"' in metrics
        status, body = _get(f"http://127.0.0.1:{health_port}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        assert json.loads(body)["identity"] == workers[0].identity
        check = subprocess.run(
            [sys.executable, "-m", "worker", "health"],
            env=dict(cli_env, TREATYFLOW_HEALTH_PORT=str(health_port)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 0, check.stdout + check.stderr

        # CCM Art. 17(1): in force 1 Aug 2010, the 30th instrument deposited 16 Feb 2010
        statement = subprocess.run(
            [
                str(TREATY),
                "depositary-statement",
                "--in-force-on",
                "2010-08-01",
                "--threshold-deposited-on",
                "2010-02-16",
                "--statement",
                "UNTC XXVI-6: in force 1 August 2010, in accordance with article 17(1)",
            ],
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert statement.returncode == 0, statement.stderr
        importing = subprocess.Popen(
            [str(TREATY), "import", str(batch)],
            env=cli_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        victim = workers[1]
        deadline = time.monotonic() + 120
        while (
            sum(
                len(v)
                for v in asyncio.run(_stored(servers.database_url, "ratification-CCM")).values()
            )
            < 12
        ):
            assert importing.poll() is None, "the import ended before a worker was killed"
            assert time.monotonic() < deadline, "no events flowing"
            time.sleep(0.1)
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(timeout=10)
        killed_at = sum(
            1
            for v in asyncio.run(_stored(servers.database_url, "ratification-CCM")).values()
            for _, t, _ in v
            if t != "ObligationOpened"
        )
        out, err = importing.communicate(timeout=240)
        assert importing.returncode == 0, out + err
        assert killed_at < sum(len(v) for v in expected.values()), "the kill came too late"

        # what follows a deposit asynchronously (the treaty counts it; EIF follows)
        deadline = time.monotonic() + 120
        while True:
            streams = asyncio.run(_stored(servers.database_url, "ratification-CCM"))
            # the obligations opened with each entry into force are counted apart
            got = {k: [t for _, t, _ in v if t != "ObligationOpened"] for k, v in streams.items()}
            treaty = asyncio.run(_stored(servers.database_url, "treaty-CCM")).get("treaty-CCM", [])
            counted = [t for _, t, _ in treaty].count("DepositCounted")
            if (got == expected and counted >= deposits) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        # every process completed, each event stored exactly once
        assert got == expected
        assert counted == deposits
        for stream, events in {**streams, "treaty-CCM": treaty}.items():
            assert [v for v, _, _ in events] == list(range(1, len(events) + 1)), stream
            assert len({e for _, _, e in events}) == len(events), stream

        async def verify() -> list[str]:
            store = await EventStore.connect(servers.database_url)
            try:
                problems: list[str] = []
                for stream in [*streams, "treaty-CCM"]:
                    problems += await verify_chain(store, stream)
                return problems
            finally:
                await store.close()

        assert asyncio.run(verify()) == []

        # the work was spread over more than one worker
        workflow_ids = [ids.workflow_id_of_stream(s) for s in expected]
        per_workflow = asyncio.run(_identities(servers, workflow_ids))
        used = set().union(*per_workflow.values())
        assert used <= {w.identity for w in workers}
        assert len(used) > 1
    finally:
        stop_workers(workers)

    # the survivors stopped cleanly on SIGTERM
    assert [w.proc.returncode for w in workers if w is not victim] == [0, 0]
    # their logs: JSON; the append lines carry workflow id, run id and process key
    appended = [x for w in workers for x in w.lines() if str(x["event"]).startswith("appended")]
    assert appended
    for line in appended:
        assert line["process_key"] == ids.stream_id(line["workflow_id"])
        assert line["run_id"] and line["activity"] == "append_events"
    for w in workers:
        assert DB_PASSWORD not in w.text() and SMTP_PASSWORD not in w.text()


async def _sigterm_during_append(
    servers: Servers,
    queue: str,
    state: str,
    victim: WorkerProcess,
    release_after: float,
    take_over: Callable[[], None] = lambda: None,
    sig: signal.Signals = signal.SIGTERM,
) -> tuple[list[Any], dict[str, list[tuple[int, str, Any]]]]:
    """Sign for ``state`` (ATT, signed 3 Jun 2013, the day it opened for signature: ATT
    Art. 21(1)) while the test holds the stream's append lock, so the append (a local
    activity, in the workflow task of the one worker polling: ``victim``) waits; send the
    victim ``sig``; ``take_over()`` (start another worker); release the lock
    ``release_after`` s after the signal."""
    client = await connect_client(servers.temporal_address, "default")
    command = r.Sign(signed_on=date(2013, 6, 3))
    meta = CommandMeta(actor="worker-test", source="UNTC XXVI-8")
    handle = await service.prepare_ratification(client, "ATT", state, [command], queue)
    stream = ids.stream_id(ids.ratification_workflow_id("ATT", state))
    lock = await asyncpg.connect(servers.database_url)
    tx = lock.transaction()
    await tx.start()
    await lock.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))", STREAM_LOCK_NAMESPACE, stream
    )
    try:
        sending = asyncio.create_task(service.send(handle, command, meta))

        async def waiting() -> int:
            return int(
                await lock.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )
            )

        await eventually(waiting, 30, "the append did not start")
        victim.proc.send_signal(sig)
        loop = asyncio.get_running_loop()
        released_at = loop.time() + release_after
        await asyncio.to_thread(take_over)
        await asyncio.sleep(max(0.0, released_at - loop.time()))
    finally:
        await tx.rollback()
        await lock.close()
    recorded = await asyncio.wait_for(sending, 120)
    assert recorded.events == ["SignatureRecorded"] and recorded.version == 1
    await asyncio.to_thread(victim.proc.wait, 60)
    history = await handle.fetch_history()
    stored = await _stored(servers.database_url, stream)
    return history.events, stored


def _append_completed_by(events: list[Any]) -> list[str]:
    """The identity of the worker that completed each workflow task recording an append
    (a local activity's marker follows its ``WorkflowTaskCompleted``)."""
    by = []
    completed = ""
    for e in events:
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            completed = e.workflow_task_completed_event_attributes.identity
        elif (
            e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
        ):
            by.append(completed)
    return by


def test_a_worker_stopped_or_killed_during_an_append_stores_it_once(servers: Servers) -> None:
    """An append runs as a local activity in its workflow task. A worker stopped (SIGTERM)
    while it waits finishes it before it stops, even past the activities' grace period
    (the workflow task is completed first; the append's start-to-close time bounds it). A
    worker killed (SIGKILL) while it waits appends nothing: its workflow task times out, and
    another worker runs it again. The events are stored once either way."""
    queue = "q-sigterm"
    grace = {"TREATYFLOW_GRACEFUL_SHUTDOWN_SECONDS": "2"}
    [stopped] = start_workers(servers, 1, queue, **grace)
    others: list[WorkerProcess] = []
    try:
        events, stored = asyncio.run(
            _sigterm_during_append(servers, queue, "GBR", stopped, release_after=5.0)
        )
        assert stopped.proc.returncode == 0, stopped.text()
        assert [t for _, t, _ in stored["ratification-ATT-GBR"]] == ["SignatureRecorded"]
        assert _append_completed_by(events) == [stopped.identity]
        assert "Beginning worker shutdown" in stopped.text()

        [killed] = start_workers(servers, 1, queue, **grace)
        others.append(killed)
        events2, stored2 = asyncio.run(
            _sigterm_during_append(
                servers,
                queue,
                "FRA",
                killed,
                release_after=1.0,
                take_over=lambda: others.extend(start_workers(servers, 1, queue, **grace)),
                sig=signal.SIGKILL,
            )
        )
        assert killed.proc.returncode == -signal.SIGKILL
        assert [t for _, t, _ in stored2["ratification-ATT-FRA"]] == ["SignatureRecorded"]
        assert _append_completed_by(events2) == [others[-1].identity]
    finally:
        stop_workers([stopped, *others])


def test_processes_are_supervised(servers: Servers) -> None:
    """``--processes 2``: two worker processes, each with its own health port; one that dies
    is restarted; SIGTERM to the supervisor stops both cleanly."""
    import psutil

    health = free_port()
    while not _port_free(health + 1):
        health = free_port()
    env = servers.env("q-processes", TREATYFLOW_HEALTH_PORT=str(health))
    log = servers.settings.home / "logs" / "supervisor.log"
    with open(log, "wb") as f:
        supervisor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "worker",
                "--processes",
                "2",
                "-q",
                "q-proc-a",
                "-q",
                "q-proc-b",
            ],
            env=env,
            stdout=f,
            stderr=f,
            cwd=ROOT,
        )
    check_env = dict(env, TREATYFLOW_WORKER_PROCESSES="2")

    def healthy() -> bool:
        check = subprocess.run(
            [sys.executable, "-m", "adapters.health"],
            env=check_env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        return check.returncode == 0

    try:
        deadline = time.monotonic() + 90
        while not healthy():
            assert supervisor.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        children = psutil.Process(supervisor.pid).children()
        assert len(children) == 2

        async def polled() -> None:  # both named queues, by each process
            # A healthy worker has started; the server lists it as a poller only once its
            # first poll request has arrived, so the check waits for that.
            client = await connect_client(servers.temporal_address, "default")
            identities = {f"{c.pid}@{socket.gethostname()}" for c in children}
            for queue in ("q-proc-a", "q-proc-b"):
                await require_worker(client, queue)
                until = time.monotonic() + 60
                pollers = await _pollers(client, queue)
                while not identities <= pollers and time.monotonic() < until:
                    await asyncio.sleep(0.5)
                    pollers = await _pollers(client, queue)
                assert identities <= pollers

        asyncio.run(polled())
        first = children[0].pid
        children[0].kill()
        deadline = time.monotonic() + 90
        while True:
            pids = {c.pid for c in psutil.Process(supervisor.pid).children()}
            if len(pids) == 2 and first not in pids and healthy():
                break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        assert "worker process died; restarting it" in log.read_text()
        survivors = psutil.Process(supervisor.pid).children()
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=60) == 0, log.read_text()
        _, alive = psutil.wait_procs(survivors, timeout=10)
        assert alive == []
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()


async def _pollers(client: Any, queue: str) -> set[str]:
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return {p.identity for p in response.pollers}


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
