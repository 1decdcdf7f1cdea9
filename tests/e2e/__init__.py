"""Helpers for the end-to-end tests: an embedded stack in a temporary home, the CLI as a
subprocess, and a snapshot of the event store read straight from PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from tests import ROOT
from tests import STATUS_2026_CSV as STATUS_2026_CSV
from tests import STATUS_CSV as STATUS_CSV  # the e2e tests import them from here

TREATY = Path(sys.executable).parent / "treaty"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """An embedded stack under ``home``; ``env`` is what the CLI needs to use it."""

    home: Path
    env: dict[str, str]

    def treaty(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run ``treaty ARGS`` against this stack; returns the completed process."""
        return subprocess.run(
            [str(TREATY), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(TREATY), *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )

    def json(self, *args: str) -> Any:
        result = self.treaty(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    @property
    def database_url(self) -> str:
        # the embedded server has no password, so `ps --json` gives the full URL
        return str(self.json("ps")["database_url"])

    def worker_pid(self) -> int:
        return int((self.home / "run" / "worker.pid").read_text().strip())


async def snapshot(database_url: str) -> list[tuple[Any, ...]]:
    """Every stored event, in global order (what "nothing changed" compares)."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT global_position, stream_id, stream_version, event_id, event_type, hash "
            "FROM events ORDER BY global_position"
        )
    finally:
        await conn.close()
    return [tuple(r) for r in rows]


def fresh_stack(prefix: str, actor: str, **extra_env: str) -> Stack:
    """A new temporary home on free ports with nothing running, and the environment the CLI
    needs to use it (configured servers removed, so the embedded ones are used)."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TEMPORAL_ADDRESS", "DATABASE_URL", "TEMPORAL_NAMESPACE")
    }
    env.update(
        TREATYFLOW_HOME=str(home),
        TREATYFLOW_TEMPORAL_PORT=str(free_port()),
        TREATYFLOW_UI_PORT=str(free_port()),
        TREATYFLOW_ACTOR=actor,
        **extra_env,
    )
    return Stack(home=home, env=env)


@contextmanager
def embedded_stack(**extra_env: str) -> Iterator[Stack]:
    """`treaty up` in a fresh temporary home on free ports; `treaty down` at the end."""
    stack = fresh_stack("treatyflow-e2e-", "e2e-test", **extra_env)
    home = stack.home
    try:
        up = stack.treaty("up")
        assert up.returncode == 0, up.stdout + up.stderr
        yield stack
    finally:
        stack.treaty("down")
        shutil.rmtree(home, ignore_errors=True)
