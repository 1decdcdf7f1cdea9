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
- ``TREATYFLOW_ARCHIVE_MINUTES``: minutes between the worker's archiving passes (read by
  :mod:`worker`; default 10, 0 turns archiving off).
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


class SettingsError(SystemExit):
    """A variable of the environment has a value that cannot be used; the message names
    the variable, what it holds and what is accepted.

    A :class:`SystemExit`, so that an entry point that does not catch it (``python -m
    worker``) still ends with just the message (exit 1); the ``treaty`` command catches it
    and exits 2.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _port_env(name: str, default: int) -> int:
    """The TCP port in ``$name`` (1..65535), ``default`` when unset or empty."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        port = int(raw.strip())
    except ValueError:
        port = None
    if port is None or not 1 <= port <= 65535:
        raise SettingsError(
            f"{name}={raw!r} is not a TCP port: expected a whole number from 1 to 65535 "
            f"(default {default})"
        )
    return port


def load() -> Settings:
    """Read the settings from the environment (see the module docstring).

    Raises :class:`SettingsError` when a variable holds a value that cannot be used.
    """
    home = os.environ.get("TREATYFLOW_HOME") or platformdirs.user_data_dir("treatyflow")
    return Settings(
        home=Path(home).expanduser().resolve(),
        temporal_address=os.environ.get("TEMPORAL_ADDRESS") or None,
        temporal_namespace=os.environ.get("TEMPORAL_NAMESPACE") or "default",
        database_url=os.environ.get("DATABASE_URL") or None,
        task_queue=os.environ.get("TREATYFLOW_TASK_QUEUE") or "treatyflow",
        temporal_port=_port_env("TREATYFLOW_TEMPORAL_PORT", 7233),
        ui_port=_port_env("TREATYFLOW_UI_PORT", 8233),
        log_format=os.environ.get("TREATYFLOW_LOG_FORMAT") or None,
        log_level=os.environ.get("TREATYFLOW_LOG_LEVEL") or None,
    )
