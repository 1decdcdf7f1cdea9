"""The JSON text of ``--json`` (standard library only: the CLI imports it at start-up)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any


def _default(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def json_text(data: Any) -> str:
    """``data`` as the JSON text of ``--json`` (dates as ISO 8601, two-space indent, one
    final newline): what the CLI prints, and what the worker's fast path for ``treaty
    status STATE --json`` answers (:mod:`app.status_server`)."""
    return json.dumps(data, default=_default, ensure_ascii=False, indent=2) + "\n"
