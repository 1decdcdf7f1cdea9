"""Run treatyflow workers: all workflows and activities, on every task queue or named ones.

    python -m worker                        # or: treaty worker
    python -m worker --task-queue treatyflow --processes 3
    python -m worker health                 # container health check: exit 0 if healthy

Configuration from the environment (:mod:`settings`); with nothing set it connects to the
embedded stack started by ``treaty up`` (starting the servers that do not run).

- **Task queues**: one process polls every queue of :func:`task_queues` (each with every
  workflow and activity of :mod:`workflows.registry`), or the ones named with
  ``--task-queue`` / ``TREATYFLOW_WORKER_TASK_QUEUES``.
- **Graceful shutdown**: on SIGTERM or SIGINT the worker stops polling; activities in
  flight get ``TREATYFLOW_GRACEFUL_SHUTDOWN_SECONDS`` (default 30) to finish, then are
  cancelled and so handed back to the server, which retries them on another worker.
  Workflow tasks are never lost: the server gives them to another worker.
- **Several processes**: ``--processes N`` (``TREATYFLOW_WORKER_PROCESSES``) runs N worker
  processes under this one, which restarts one that dies and passes SIGTERM/SIGINT on to
  all of them. Process ``i`` (0..N-1) serves its metrics and health endpoints on the
  configured ports + ``i``.
- **Metrics**: with ``TREATYFLOW_METRICS_PORT`` set, the Temporal SDK's runtime metrics
  (``temporal_worker_task_slots_available``, ``temporal_activity_execution_latency``, ...)
  are served for Prometheus at ``http://TREATYFLOW_METRICS_HOST:PORT/metrics``.
- **Fast reads**: the first process (index 0) answers ``treaty status STATE --json`` on
  the Unix socket ``$TREATYFLOW_HOME/run/worker.sock`` (:mod:`app.status_server`), so that
  the command does not pay for the CLI's imports and connections;
  ``TREATYFLOW_FAST_READS=0`` turns it off.
- **Health**: with ``TREATYFLOW_HEALTH_PORT`` set, ``GET /healthz`` answers 200 and a JSON
  object while every worker of the process runs, the Temporal frontend answers its health
  check and the event store answers ``SELECT 1``; 503 with the reason otherwise (also while
  shutting down). ``python -m worker health`` (or the lighter ``python -m adapters.health``,
  which loads no Temporal SDK) asks every process's endpoint.

Besides polling, the worker archives the histories of closed workflow runs into the event
store's history archive (:func:`audit.archive.archive_closed`) when it starts and then every
``TREATYFLOW_ARCHIVE_MINUTES`` minutes (default 10; ``0`` turns it off).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

import settings as settings_mod
from adapters import fast_protocol as fast_reads
from app.status_server import StatusServer
from audit.archive import archive_closed
from eventstore.migrate import migrate
from eventstore.store import EventStore
from workflows import registry

#: Task queues a worker polls by default besides ``TREATYFLOW_TASK_QUEUE`` (each gets every
#: workflow and activity); one line per queue.
EXTRA_TASK_QUEUES: list[str] = []

#: Minutes between two archiving passes unless ``TREATYFLOW_ARCHIVE_MINUTES`` says otherwise.
DEFAULT_ARCHIVE_MINUTES = 10.0
#: Seconds a ``/healthz`` check waits for Temporal or PostgreSQL before saying unhealthy.
HEALTH_CHECK_TIMEOUT = 3.0
#: Seconds the supervisor of ``--processes N`` waits before restarting a process that died.
RESTART_DELAY = 1.0

log = structlog.get_logger("worker")


def task_queues(settings: settings_mod.Settings, named: Sequence[str] = ()) -> list[str]:
    """The task queues a worker process polls: ``named`` if any, else
    ``TREATYFLOW_WORKER_TASK_QUEUES`` if set, else all of treatyflow's queues: the queue
    ``TREATYFLOW_TASK_QUEUE`` that commands are sent to and :data:`EXTRA_TASK_QUEUES`."""
    chosen = [q for q in named if q] or list(settings.worker_task_queues)
    return list(dict.fromkeys(chosen or [settings.task_queue, *EXTRA_TASK_QUEUES]))


def archive_interval() -> float | None:
    """Seconds between two archiving passes, from ``TREATYFLOW_ARCHIVE_MINUTES`` (minutes,
    a decimal number; default 10); None when it is 0 (no archiving by the worker).

    Raises :class:`settings.SettingsError` for a value that is not a number >= 0.
    """
    minutes = settings_mod.load().archive_minutes
    return minutes * 60 if minutes > 0 else None


async def archive_periodically(client: Client, store: EventStore, every: float) -> None:
    """Archive closed runs now and then every ``every`` seconds, until cancelled. A pass
    that fails (a server unreachable for a while) is logged and retried at the next one."""
    while True:
        try:
            archived = await archive_closed(client, store)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - keep archiving on the next pass
            log.warning("archive pass failed", error=f"{type(err).__name__}: {err}")
        else:
            if archived:
                log.info(
                    "archived closed workflow histories",
                    count=len(archived),
                    runs=[f"{a.workflow_id}/{a.run_id}" for a in archived],
                )
        await asyncio.sleep(every)


def build_worker(
    client: Client,
    store: EventStore,
    task_queue: str,
    *,
    settings: settings_mod.Settings | None = None,
    **reporting: Any,
) -> Worker:
    """A worker for every treatyflow workflow and activity on ``task_queue``, with the
    concurrency limits and the graceful-shutdown time of ``settings`` (default: the
    environment's).

    ``reporting``: ``home`` / ``smtp`` for :func:`activities.registry.reporting_activities`
    (default: the data folder and SMTP settings of the environment). What it runs is
    :mod:`workflows.registry`'s."""
    settings = settings or settings_mod.load()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=registry.WORKFLOWS,
        activities=registry.activities(store, **reporting),
        max_concurrent_activities=settings.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_seconds),
    )


def telemetry_runtime(settings: settings_mod.Settings, index: int = 0) -> Runtime | None:
    """A Temporal SDK runtime exporting its metrics for Prometheus on
    ``TREATYFLOW_METRICS_HOST:(TREATYFLOW_METRICS_PORT + index)``; None when no metrics port
    is configured (the SDK's default runtime, no endpoint)."""
    if settings.metrics_port is None:
        return None
    address = f"{settings.metrics_host}:{settings.metrics_port + index}"
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
    except Exception as err:  # noqa: BLE001 - the SDK's bind error, said in one line
        raise RuntimeError(
            f"the metrics endpoint cannot listen on {address} ({err}); set "
            "TREATYFLOW_METRICS_PORT to a free port"
        ) from None


class _Health:
    """The ``/healthz`` endpoint of one worker process (a tiny HTTP/1.0 server)."""

    def __init__(self, client: Client, store: EventStore, tasks: list[asyncio.Task[None]]) -> None:
        self.client = client
        self.store = store
        self.tasks = tasks
        self.stopping = False
        self.details: dict[str, Any] = {}

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, report)."""
        report: dict[str, Any] = dict(self.details, pid=os.getpid())
        problems: list[str] = []
        if self.stopping:
            problems.append("shutting down")
        dead = [t.get_name() for t in self.tasks if t.done()]
        if dead:
            problems.append(f"worker for {', '.join(dead)} stopped")
        try:
            await asyncio.wait_for(self.client.service_client.check_health(), HEALTH_CHECK_TIMEOUT)
        except Exception as err:  # noqa: BLE001 - reported, not raised
            problems.append(f"Temporal unreachable: {type(err).__name__}")
        try:
            await asyncio.wait_for(self.store.stream_version("healthz"), HEALTH_CHECK_TIMEOUT)
        except Exception as err:  # noqa: BLE001 - reported, not raised
            problems.append(f"event store unreachable: {type(err).__name__}")
        report["status"] = "unhealthy" if problems else "ok"
        if problems:
            report["problems"] = problems
        return not problems, report

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            parts = request.decode("latin-1").split()
            path = parts[1] if len(parts) > 1 else "/"
            if path.split("?")[0] in ("/healthz", "/health", "/"):
                healthy, report = await self.check()
                status = "200 OK" if healthy else "503 Service Unavailable"
            else:
                report, status = {"error": "not found: ask /healthz"}, "404 Not Found"
            body = json.dumps(report).encode()
            writer.write(
                f"HTTP/1.0 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()


async def run_worker(
    temporal_address: str,
    namespace: str,
    database_url: str,
    task_queue: str,
    *,
    archive_every: float | None = None,
    queues: Sequence[str] | None = None,
    settings: settings_mod.Settings | None = None,
    index: int = 0,
) -> None:
    """Connect, migrate the event store, and poll until SIGTERM/SIGINT; then stop
    gracefully (in-flight activities get ``settings.graceful_shutdown_seconds`` to finish,
    then are handed back). Meanwhile archive closed runs every ``archive_every`` seconds
    (None: as :func:`archive_interval` says; 0: not at all).

    Polls ``queues`` (default: ``task_queue`` alone). ``index``: this process's number
    under ``--processes`` (its metrics and health ports are the configured ones +
    ``index``). Raises ``RuntimeError`` when a worker fails (the process should end
    non-zero, so that it is restarted).
    """
    from adapters.logging import quiet_temporal_messages
    from adapters.temporal import connect_cause, connect_client

    quiet_temporal_messages()
    settings = settings or settings_mod.load()
    if archive_every is None:
        archive_every = archive_interval()
    queues = list(dict.fromkeys(queues or [task_queue]))
    runtime = telemetry_runtime(settings, index)
    try:
        client = await connect_client(temporal_address, namespace, runtime=runtime)
    except settings_mod.SettingsError:
        raise
    except Exception as err:  # noqa: BLE001 - the SDK's connect error, said in one line
        raise RuntimeError(
            f"cannot connect to Temporal at {temporal_address}: {connect_cause(err)}"
        ) from None
    try:
        await migrate(database_url)
        store = await EventStore.connect(
            database_url, min_size=1, max_size=settings.database_pool_size
        )
    except (OSError, TimeoutError) as err:
        raise RuntimeError(
            f"the event store cannot be reached: {settings_mod.redact_url(str(err))}"
        ) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    workers = [build_worker(client, store, q, settings=settings) for q in queues]
    tasks: list[asyncio.Task[None]] = []
    health = _Health(client, store, tasks)
    server: asyncio.Server | None = None
    archiver: asyncio.Task[None] | None = None
    details: dict[str, Any] = {
        "task_queues": queues,
        "identity": client.identity,
        "namespace": namespace,
        "temporal": temporal_address,
    }
    if runtime is not None:
        details["metrics"] = (
            f"http://{settings.metrics_host}:{settings.metrics_port + index}/metrics"  # type: ignore[operator]
        )
    if settings.health_port is not None:
        port = settings.health_port + index
        try:
            server = await asyncio.start_server(health.handle, settings.health_host, port)
        except OSError as err:
            await store.close()
            raise RuntimeError(
                f"the health endpoint cannot listen on {settings.health_host}:{port} "
                f"({err.strerror or err}); set TREATYFLOW_HEALTH_PORT to a free port"
            ) from None
        details["health"] = f"http://{settings.health_host}:{port}/healthz"
    health.details = details
    status_server: StatusServer | None = None
    if index == 0 and fast_reads.enabled(os.environ):  # `treaty status STATE --json`
        status_server = StatusServer(settings, store, database_url)
        if await status_server.start():
            details["fast_reads"] = str(status_server.path)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks += [asyncio.create_task(w.run(), name=q) for w, q in zip(workers, queues, strict=True)]
    failed: BaseException | None = None
    try:
        log.info("worker started", **details)
        if archive_every:
            archiver = asyncio.create_task(
                archive_periodically(client, store, archive_every), name="archiver"
            )
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        for task in tasks:
            if task in done and task.exception() is not None:
                failed = task.exception()
                log.error(
                    "worker failed",
                    task_queue=task.get_name(),
                    error=f"{type(failed).__name__}: {failed}",
                )
        health.stopping = True
        log.info(
            "worker stopping",
            reason="worker failed" if failed else "signal",
            graceful_shutdown_seconds=settings.graceful_shutdown_seconds,
        )
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)
        log.info("worker stopped")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if server is not None:
            server.close()
        if status_server is not None:
            await status_server.stop()
        if archiver is not None:
            archiver.cancel()
            await asyncio.gather(archiver, return_exceptions=True)
        await store.close()
    if failed is not None:
        raise RuntimeError(f"a worker failed: {type(failed).__name__}: {failed}") from failed


# ---------------------------------------------------------------- several processes


def supervise(
    processes: int,
    queues: Sequence[str],
    env: dict[str, str] | None = None,
) -> int:
    """Run ``processes`` worker processes (``python -m worker --index i``) until SIGTERM or
    SIGINT, which is passed on to each; a process that dies meanwhile is restarted after
    :data:`RESTART_DELAY` seconds. Returns 0 when every process stopped cleanly, else the
    first non-zero exit code.

    ``env`` (default: this process's environment) must name the servers
    (``TEMPORAL_ADDRESS``, ``DATABASE_URL``) so that the processes do not each start
    embedded ones.
    """
    env = dict(os.environ if env is None else env)
    env.setdefault("PYTHONUNBUFFERED", "1")
    queue_args = [a for q in queues for a in ("--task-queue", q)]

    def spawn(i: int) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "worker", "--index", str(i), *queue_args]
        proc = subprocess.Popen(cmd, env=env)
        log.info("worker process started", index=i, pid=proc.pid)
        return proc

    stopping = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for proc in children.values():
            with suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    children: dict[int, subprocess.Popen[bytes]] = {}
    try:
        for i in range(processes):
            children[i] = spawn(i)
        code = 0
        while children:
            for i, proc in list(children.items()):
                rc = proc.poll()
                if rc is None:
                    continue
                if stopping:
                    del children[i]
                    if rc != 0 and code == 0:
                        code = rc if rc > 0 else 128 - rc
                    continue
                log.warning(
                    "worker process died; restarting it", index=i, pid=proc.pid, exit_code=rc
                )
                time.sleep(RESTART_DELAY)
                if not stopping:
                    children[i] = spawn(i)
            time.sleep(0.2)
        log.info("worker processes stopped", exit_code=code)
        return code
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        for proc in children.values():  # interrupted by an exception: leave nothing behind
            with suppress(ProcessLookupError):
                proc.kill()


# ---------------------------------------------------------------- entry point


def _migrate(settings: settings_mod.Settings) -> int:
    """Apply the pending migrations to ``DATABASE_URL`` (the embedded PostgreSQL when it is
    not set); 0 when done, 1 when the database refused or could not be reached."""
    from adapters.stack import StackError, start_servers

    try:
        database_url = start_servers(settings, temporal=False).database_url
    except StackError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    assert database_url is not None
    try:
        applied = asyncio.run(migrate(database_url))
    except (TimeoutError, OSError) as err:
        print(f"error: the event store cannot be reached: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - asyncpg's errors: said in one line
        text = settings_mod.redact_url(str(err))
        print(f"error: migration failed: {type(err).__name__}: {text}", file=sys.stderr)
        return 1
    log.info("event store migrated", applied=applied or "none: up to date")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m worker",
        description="Run treatyflow workers (configuration from the environment).",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=["run", "health", "migrate"],
        default="run",
        help="run the worker(s) (default); health: check the running ones (exit 0 healthy); "
        "migrate: apply the event store's pending migrations and exit",
    )
    parser.add_argument(
        "--task-queue",
        "-q",
        action="append",
        default=[],
        help="a task queue to poll (repeatable; default all)",
    )
    parser.add_argument(
        "--processes", "-p", type=int, default=None, help="worker processes (default 1)"
    )
    # set by the supervisor of --processes for each of its processes (never a supervisor)
    parser.add_argument("--index", type=int, default=None, help=argparse.SUPPRESS)
    return parser


def keep_compiled_workflows(home: Path) -> None:
    """Keep the workflow modules' bytecode even where ``PYTHONDONTWRITEBYTECODE`` is set (the
    Dockerfile sets it, as images commonly do): the workflow sandbox imports a workflow's
    module afresh for every run it starts, and without cached bytecode each of those
    imports compiles the source again (the largest part of starting a process, measured
    with py-spy during an import). The cache goes to ``<home>/pycache``
    (``sys.pycache_prefix``), not beside the sources, which may be read-only."""
    if sys.dont_write_bytecode:
        sys.pycache_prefix = sys.pycache_prefix or str(home / "pycache")
        sys.dont_write_bytecode = False


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: resolve the servers (embedded or configured) and run the worker(s), or
    with ``health`` check the running ones (exit 0 healthy, 1 not)."""
    from adapters.logging import configure_logging
    from adapters.profiles import load_data_profiles
    from adapters.stack import StackError, ensure_servers

    args = _parser().parse_args(argv)
    settings = settings_mod.load()
    processes = 1 if args.index is not None else args.processes or settings.worker_processes
    if processes < 1:
        raise SystemExit("error: --processes must be 1 or more")
    if args.command == "health":
        from adapters.health import check_health, health_urls

        healthy, lines = check_health(health_urls(settings, args.processes))
        print("\n".join(lines))
        raise SystemExit(0 if healthy else 1)
    archive_every = archive_interval() or 0.0  # a bad value is said before anything starts
    registry.check_environment()  # SMTP settings, reminder policy
    load_data_profiles(settings.home)  # the data folder's treaties, before a workflow runs
    keep_compiled_workflows(settings.home)
    configure_logging(settings)
    if args.command == "migrate":
        raise SystemExit(_migrate(settings))
    try:
        temporal_address, database_url = ensure_servers(settings)
    except StackError as err:
        raise SystemExit(f"error: {err}") from None
    queues = task_queues(settings, args.task_queue)
    if processes > 1:
        env = dict(os.environ, TEMPORAL_ADDRESS=temporal_address, DATABASE_URL=database_url)
        env["TREATYFLOW_WORKER_PROCESSES"] = "1"  # each child is one worker, never a supervisor
        raise SystemExit(supervise(processes, queues, env))
    try:
        asyncio.run(
            run_worker(
                temporal_address,
                settings.temporal_namespace,
                database_url,
                settings.task_queue,
                archive_every=archive_every,
                queues=queues,
                settings=settings,
                index=args.index or 0,
            )
        )
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        _exit(1)
    _exit(0)


def _exit(code: int) -> None:
    """Leave at once after flushing: a Temporal client's threads must not abort the
    interpreter's shutdown (temporalio/sdk-python#300; see cli.main.run)."""
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    main()
