"""What the `treaty` command starts on its own, and that it leaves nothing behind that it
started when it fails or ends: the real executable in fresh homes, on free ports."""

from __future__ import annotations

import json
import shutil
import signal
import time
from collections.abc import Iterator

import pytest

from tests.e2e import Stack, fresh_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def home() -> Iterator[Stack]:
    """A fresh home with nothing running (no `treaty up`); `treaty down` at the end."""
    stack = fresh_stack("treatyflow-cli-", "cli-test")
    path = stack.home
    try:
        yield stack
    finally:
        stack.treaty("down")
        shutil.rmtree(path, ignore_errors=True)


def running(stack: Stack) -> dict[str, bool]:
    return {c["name"]: c["running"] for c in stack.json("ps")["components"]}


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_a_read_starts_only_postgres_and_says_so(home: Stack) -> None:
    first = home.treaty("status")
    assert first.returncode == 0, first.stderr
    assert (
        f"started the embedded PostgreSQL under {home.home}; stop it with `treaty down`"
        in one_line(first.stderr)
    )
    assert running(home) == {"postgres": True, "temporal": False, "ui": False, "worker": False}
    again = home.treaty("parties")
    assert again.returncode == 0 and "started" not in again.stderr


def test_a_command_needing_a_worker_starts_nothing_when_the_stack_is_down(home: Stack) -> None:
    sign = ["ratification", "sign", "KEN", "--date", "2008-12-03", "--source", "UNTC"]
    for args in (sign, ["ratification", "show", "KEN"]):
        result = home.treaty(*args)
        assert result.returncode == 3, result.stderr
        text = one_line(result.stderr)
        assert "Temporal dev server" in text and "is not running" in text
        assert "treaty up" in text
    assert not any(running(home).values())


def test_a_failed_up_stops_what_it_started(home: Stack) -> None:
    # the Temporal dev server cannot open its database (a folder in its place): it exits
    # while starting, after PostgreSQL was started
    (home.home / "temporal" / "temporal.db").mkdir(parents=True)
    result = home.treaty("up")
    assert result.returncode == 3
    assert "the Temporal dev server exited while starting" in result.stderr
    assert "stopped again what this call had started: the embedded PostgreSQL" in result.stderr
    assert not any(running(home).values())


def test_a_foreground_worker_stops_the_servers_it_started(home: Stack) -> None:
    worker = home.popen("worker")
    try:
        deadline = time.monotonic() + 90
        while True:  # ready when a command finds the worker (and is refused: no process)
            probe = home.treaty("ratification", "show", "KEN")
            if probe.returncode == 1:
                break
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, probe.stderr
            time.sleep(0.5)
        assert running(home)["postgres"] and running(home)["temporal"]
        worker.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    text = one_line(err)
    assert "they stop with this worker" in text
    assert "stopped the embedded PostgreSQL and the Temporal dev server again" in text
    assert not any(running(home).values())


def test_ps_shows_the_database_url_the_same_way_twice(home: Stack) -> None:
    assert home.treaty("status").returncode == 0  # starts PostgreSQL
    ps = home.json("ps")
    address = {c["name"]: c["address"] for c in ps["components"]}["postgres"]
    assert address == ps["database_url"]
    assert ":@" in address and "***" not in address  # no password to hide
    assert json.loads(home.treaty("ps", "--json").stdout) == ps
