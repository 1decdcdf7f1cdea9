"""The embedded stack manager against real processes (PostgreSQL, Temporal, a dummy worker)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import socket
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

import settings as settings_module
from adapters.stack import (
    StackError,
    ensure_servers,
    stack_down,
    stack_status,
    stack_up,
    start_servers,
    stop_servers,
)
from app.reporting import ensure_schedules_after_up, schedule_id
from settings import Settings

pytestmark = pytest.mark.timeout(180)

NAMESPACE = "treaties-test"
# A stand-in worker: records its environment, then idles.
DUMMY_WORKER = (
    "import json, os, sys, time\n"
    "json.dump(dict(os.environ), open(sys.argv[1], 'w'))\n"
    "time.sleep(600)\n"
)


def _free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports that are free on 127.0.0.1 right now."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@pytest.fixture
def stack_settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings for an embedded stack in a fresh home, on free ports; torn down after."""
    port, ui_port = _free_ports(2)
    cfg = dataclasses.replace(
        settings_module.load(),
        home=tmp_path / "home",
        temporal_address=None,
        database_url=None,
        temporal_namespace=NAMESPACE,
        temporal_port=port,
        ui_port=ui_port,
    )
    try:
        yield cfg
    finally:
        stack_down(cfg)


def _wait_for_file(path: Path, timeout: float = 10.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            time.sleep(0.05)
    raise AssertionError(f"{path} was not written")


def _http_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return int(resp.status)


async def test_up_status_down_up(stack_settings: Settings, tmp_path: Path) -> None:
    cfg = stack_settings
    env_file = tmp_path / "worker-env.json"
    worker_cmd = [sys.executable, "-c", DUMMY_WORKER, str(env_file)]

    # up: all three start
    up = stack_up(cfg, worker_cmd=worker_cmd, after_worker=ensure_schedules_after_up)
    assert {c.name: c.detail for c in up.components} == {
        "postgres": "started",
        "temporal": "started",
        "ui": "started",
        "worker": "started",
    }
    status = stack_status(cfg)
    assert status.all_running, status
    assert status.temporal_address == f"127.0.0.1:{cfg.temporal_port}"
    assert status.ui_url == f"http://127.0.0.1:{cfg.ui_port}"
    assert status["ui"].address == status.ui_url
    assert status.database_url is not None
    # the yearly reporting Schedule is made by `up` even when called from async code

    client = await Client.connect(status.temporal_address, namespace=cfg.temporal_namespace)
    assert (await client.get_schedule_handle(schedule_id("CCM")).describe()).id == (
        "reporting-open-CCM"
    )
    pids = {c.name: c.pid for c in status.components}
    assert all(pids.values()), pids

    # files: pid files and stack.json
    run = cfg.home / "run"
    assert int((run / "temporal.pid").read_text()) == pids["temporal"]
    assert int((run / "worker.pid").read_text()) == pids["worker"]
    recorded = json.loads((run / "stack.json").read_text())
    assert recorded["temporal"]["pid"] == pids["temporal"]
    assert recorded["worker"]["pid"] == pids["worker"]
    assert recorded["postgres"]["pid"] == pids["postgres"]
    assert recorded["ui_url"] == status.ui_url
    assert recorded["database_url"] == status.database_url
    assert recorded["started_at"]
    assert (cfg.home / "logs" / "temporal.log").exists()

    # the worker got the addresses
    worker_env = _wait_for_file(env_file)
    assert worker_env["TEMPORAL_ADDRESS"] == status.temporal_address
    assert worker_env["TEMPORAL_NAMESPACE"] == NAMESPACE
    assert worker_env["DATABASE_URL"] == status.database_url
    assert worker_env["TREATYFLOW_HOME"] == str(cfg.home)

    # Temporal answers and has our namespace; the UI serves pages
    client = await Client.connect(status.temporal_address, namespace=NAMESPACE)
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=NAMESPACE)
    )
    assert described.namespace_info.name == NAMESPACE
    assert await asyncio.to_thread(_http_status, status.ui_url) == 200

    # PostgreSQL accepts connections; leave a table behind
    conn = await asyncpg.connect(status.database_url)
    try:
        await conn.execute("CREATE TABLE survivor (name text)")
        await conn.execute("INSERT INTO survivor VALUES ('Bulgaria')")
    finally:
        await conn.close()

    # up again: harmless, same processes; ensure_servers agrees
    again = stack_up(cfg, worker_cmd=worker_cmd)
    assert {c.detail for c in again.components} == {"already running"}
    assert {c.name: c.pid for c in again.components} == pids
    assert ensure_servers(cfg) == (status.temporal_address, status.database_url)

    # down: everything stops, twice is harmless
    down = stack_down(cfg)
    assert {c.name: c.detail for c in down.components} == {
        "postgres": "stopped",
        "temporal": "stopped",
        "ui": "stopped",
        "worker": "stopped",
    }
    after = stack_status(cfg)
    assert not any(c.running for c in after.components), after
    assert after.temporal_address is None and after.database_url is None
    assert not (run / "temporal.pid").exists() and not (run / "worker.pid").exists()
    assert not (run / "stack.json").exists()
    assert {c.detail for c in stack_down(cfg).components} == {"not running"}

    # up again (servers only): the data survived
    address, database_url = ensure_servers(cfg)
    assert address == status.temporal_address
    restarted = stack_status(cfg)
    assert restarted["postgres"].running and restarted["temporal"].running
    assert not restarted["worker"].running
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT name FROM survivor") == "Bulgaria"
    finally:
        await conn.close()

    # a worker that dies at once is reported with its log
    crash = [sys.executable, "-c", "import sys; print('worker boom'); sys.exit(3)"]
    with pytest.raises(StackError, match="worker boom"):
        stack_up(cfg, worker_cmd=crash)
    assert stack_status(cfg)["temporal"].running


@pytest.mark.parametrize(
    ("which", "variable"),
    [("temporal_port", "TREATYFLOW_TEMPORAL_PORT"), ("ui_port", "TREATYFLOW_UI_PORT")],
)
def test_port_taken_by_foreign_listener(
    stack_settings: Settings, which: str, variable: str
) -> None:
    cfg = stack_settings
    port = getattr(cfg, which)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as foreign:
        foreign.bind(("127.0.0.1", port))
        foreign.listen()
        with pytest.raises(StackError) as excinfo:
            stack_up(cfg, worker_cmd=[sys.executable, "-c", "import time; time.sleep(600)"])
    message = str(excinfo.value)
    assert str(port) in message and variable in message
    # nothing was started
    assert not any(c.running for c in stack_status(cfg).components)
    assert not (cfg.home / "postgres").exists()


def test_foreign_pids_are_not_ours(stack_settings: Settings) -> None:
    """A pid file pointing at an unrelated live process (pid reuse) is not trusted."""
    cfg = stack_settings
    run = cfg.home / "run"
    run.mkdir(parents=True)
    for name in ("temporal", "worker"):
        (run / f"{name}.pid").write_text(f"{os.getpid()}\n")
    status = stack_status(cfg)
    assert not any(c.running for c in status.components)
    # and down must not signal that process (this very test)
    assert {c.detail for c in stack_down(cfg).components} == {"not running"}


def test_external_servers_are_used_not_started(tmp_path: Path) -> None:
    port = _free_ports(1)[0]
    cfg = dataclasses.replace(
        settings_module.load(),
        home=tmp_path / "home",
        temporal_address=f"127.0.0.1:{port}",
        database_url=f"postgresql://app:secret@127.0.0.1:{port}/treaties",
    )
    assert ensure_servers(cfg) == (cfg.temporal_address, cfg.database_url)
    status = stack_status(cfg)
    assert status.temporal_address == cfg.temporal_address
    assert status.database_url == cfg.database_url
    assert "secret" not in (status["postgres"].address or "")
    assert not status["temporal"].running and "external" in status["temporal"].detail
    assert not (cfg.home / "postgres").exists()
    assert stack_down(cfg)["worker"].detail == "not running"


def _running(cfg: Settings) -> dict[str, bool]:
    return {c.name: c.running for c in stack_status(cfg).components}


@pytest.mark.parametrize("start", ["stack_up", "start_servers"])
def test_a_failed_start_stops_what_it_started(stack_settings: Settings, start: str) -> None:
    """PostgreSQL starts, then the Temporal dev server exits at once (its database file
    cannot be opened): PostgreSQL is stopped again, and the error says so."""
    cfg = stack_settings
    (cfg.home / "temporal" / "temporal.db").mkdir(parents=True)
    worker = [sys.executable, "-c", "import time; time.sleep(600)"]
    with pytest.raises(StackError) as excinfo:
        if start == "stack_up":
            stack_up(cfg, worker_cmd=worker)
        else:
            start_servers(cfg)
    message = str(excinfo.value)
    assert "the Temporal dev server exited while starting" in message
    assert "stopped again what this call had started: the embedded PostgreSQL" in message
    assert not any(_running(cfg).values())


def test_start_servers_says_what_it_started_and_stop_servers_stops_it(
    stack_settings: Settings,
) -> None:
    cfg = stack_settings
    pg_only = start_servers(cfg, temporal=False)
    assert pg_only.started == ("postgres",) and pg_only.temporal_address is None
    assert pg_only.database_url is not None
    both = start_servers(cfg)
    assert both.started == ("temporal",)
    assert both.database_url == pg_only.database_url
    assert start_servers(cfg).started == ()
    assert stop_servers(cfg, ["postgres", "temporal"]) == ["temporal", "postgres"]
    assert not any(_running(cfg).values())

    # what a stack worker (`treaty up`) relies on is not stopped under it
    started = start_servers(cfg).started
    stack_up(cfg, worker_cmd=[sys.executable, "-c", "import time; time.sleep(600)"])
    assert stop_servers(cfg, started) == []
    assert all(_running(cfg).values())


def test_a_home_that_is_a_file_is_a_stack_error(tmp_path: Path) -> None:
    home = tmp_path / "file"
    home.write_text("")
    cfg = dataclasses.replace(
        settings_module.load(), home=home, temporal_address=None, database_url=None
    )
    for call in (stack_up, ensure_servers, stack_down):
        with pytest.raises(StackError, match="is a file, not a folder; set TREATYFLOW_HOME"):
            call(cfg)
