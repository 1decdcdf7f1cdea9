"""Configuration from the environment, with embedded defaults.

Variables (all optional):

- ``TREATYFLOW_HOME``: data folder of the embedded stack (default: the platform's user
  data folder, e.g. ``~/.local/share/treatyflow``).
- ``TEMPORAL_ADDRESS`` (``host:port``) and ``TEMPORAL_NAMESPACE``: an existing Temporal
  server; when unset the embedded dev server is used.
- ``DATABASE_URL``: an existing PostgreSQL server (``postgresql://user:pw@host/db``); when
  unset the embedded PostgreSQL is used.
- ``TREATYFLOW_TASK_QUEUE``: the task queue workers poll (default ``treatyflow``).
- ``TREATYFLOW_TEMPORAL_PORT`` / ``TREATYFLOW_UI_PORT``: ports of the embedded dev server
  (default 7233 / 8233).
- ``TREATYFLOW_LOG_FORMAT``: ``console`` or ``json`` (default: console on a terminal).
- ``TREATYFLOW_LOG_LEVEL``: e.g. ``INFO`` (default: WARNING for the CLI, INFO for workers).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs


@dataclass(frozen=True)
class Settings:
    """Effective settings; ``embedded_*`` say whether the embedded servers are used."""

    home: Path
    temporal_address: str | None
    temporal_namespace: str
    database_url: str | None
    task_queue: str
    temporal_port: int
    ui_port: int
    log_format: str | None
    log_level: str | None

    @property
    def embedded_temporal(self) -> bool:
        return self.temporal_address is None

    @property
    def embedded_postgres(self) -> bool:
        return self.database_url is None


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a port number (expected e.g. {default})") from None


def load() -> Settings:
    """Read the settings from the environment (see the module docstring)."""
    home = os.environ.get("TREATYFLOW_HOME") or platformdirs.user_data_dir("treatyflow")
    return Settings(
        home=Path(home).expanduser().resolve(),
        temporal_address=os.environ.get("TEMPORAL_ADDRESS") or None,
        temporal_namespace=os.environ.get("TEMPORAL_NAMESPACE") or "default",
        database_url=os.environ.get("DATABASE_URL") or None,
        task_queue=os.environ.get("TREATYFLOW_TASK_QUEUE") or "treatyflow",
        temporal_port=_int_env("TREATYFLOW_TEMPORAL_PORT", 7233),
        ui_port=_int_env("TREATYFLOW_UI_PORT", 8233),
        log_format=os.environ.get("TREATYFLOW_LOG_FORMAT") or None,
        log_level=os.environ.get("TREATYFLOW_LOG_LEVEL") or None,
    )
