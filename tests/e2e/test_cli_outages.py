"""Worker outages on a running stack: a worker killed without a word is said at once, and
a live worker reconnecting after the Temporal server restarted is waited for."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import time
from collections.abc import Iterator
from typing import IO

import psutil
import pytest

from tests.e2e import Stack, embedded_stack, snapshot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with embedded_stack() as s:
        yield s


def _events(stack: Stack) -> list:
    return asyncio.run(snapshot(stack.database_url))


def _read_until(stream: IO[str], text: str, timeout: float = 120) -> str:
    """What ``stream`` (a subprocess's pipe) says until ``text`` appears in it, read from
    its descriptor; AssertionError if it does not within ``timeout`` seconds."""
    said = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in said:
        left = deadline - time.monotonic()
        assert left > 0, f"{text!r} not said in {timeout:g} s: {said.decode()!r}"
        if select.select([stream.fileno()], [], [], left)[0]:
            chunk = os.read(stream.fileno(), 4096)
            assert chunk, f"the stream ended without {text!r}: {said.decode()!r}"
            said += chunk
    return said.decode()


def _wait_gone(pid: int, timeout: float = 30) -> None:
    try:
        psutil.Process(pid).wait(timeout)
    except psutil.NoSuchProcess:
        pass


def test_a_live_worker_reconnecting_after_a_temporal_restart_is_waited_for(stack: Stack) -> None:
    assert stack.treaty("up").returncode == 0
    assert (
        stack.treaty(
            "ratification", "sign", "Mali", "--date", "2008-12-03", "--source", "UNTC"
        ).returncode
        == 0
    )
    worker = stack.worker_pid()
    temporal = int((stack.home / "run" / "temporal.pid").read_text())
    os.kill(worker, signal.SIGSTOP)  # alive, but cannot reconnect until continued
    try:
        os.kill(temporal, signal.SIGTERM)
        _wait_gone(temporal)
        up = stack.treaty("up")  # restarts the Temporal dev server; the worker runs
        assert up.returncode == 0, up.stderr
        command = stack.popen(
            "ratification", "sign", "Niger", "--date", "2008-12-03", "--source", "UNTC"
        )
        # the worker stays stopped until the command says it waits (however slowly the
        # command starts on a loaded machine): waiting, not failing
        assert command.stderr is not None
        said = _read_until(command.stderr, "waiting for the worker to reconnect")
        assert command.poll() is None, said
    finally:
        os.kill(worker, signal.SIGCONT)
    out, err = command.communicate(timeout=120)
    assert command.returncode == 0, said + err
    assert "recorded SignatureRecorded" in out
    assert stack.worker_pid() == worker


def test_a_killed_worker_is_said_at_once_and_nothing_is_recorded(stack: Stack) -> None:
    assert stack.treaty("up").returncode == 0
    # a fresh poll on record: Temporal lists it for a minute after the worker is gone
    assert (
        stack.treaty(
            "ratification", "sign", "Togo", "--date", "2008-12-03", "--source", "UNTC"
        ).returncode
        == 0
    )
    worker = stack.worker_pid()
    os.kill(worker, signal.SIGKILL)
    _wait_gone(worker)
    before = _events(stack)
    started = time.monotonic()
    result = stack.treaty(
        "ratification", "sign", "Benin", "--date", "2008-12-03", "--source", "UNTC", timeout=120
    )
    assert result.returncode == 3, result.stderr
    assert time.monotonic() - started < 15
    text = " ".join(result.stderr.split())
    assert "no worker is polling task queue 'treatyflow': the command was not sent" in text
    assert "treaty up" in text
    assert _events(stack) == before
    assert stack.treaty("up").returncode == 0
