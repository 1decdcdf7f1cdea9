"""Output: rich tables for people, JSON for scripts (``--json``)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:  # imported where used: `treaty --help` needs neither
    from rich.table import Table

    from domain import ratification as r

#: Width of output piped to a file or another program: tables keep their columns whole and
#: messages are not broken at 80 columns.
PIPED_WIDTH = 200

out = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
err = Console(stderr=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``"1 State"``, ``"2 States"``; ``plural`` for irregular nouns (``"processes"``)."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _default(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def json_text(data: Any) -> str:
    """``data`` as the JSON text of ``--json`` (dates as ISO 8601, two-space indent, one
    final newline): what :func:`print_json` writes, and what the worker's fast path for
    ``treaty status STATE --json`` answers (:mod:`cli.fast_server`)."""
    return json.dumps(data, default=_default, ensure_ascii=False, indent=2) + "\n"


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (dates as ISO 8601)."""
    sys.stdout.write(json_text(data))


def _d(day: date | None, unknown: str = "") -> str:
    return day.isoformat() if day else unknown


def state_name(code: str) -> str:
    """Display name of an ISO3 code (the code itself if unknown)."""
    from domain.states import resolve_state

    try:
        return resolve_state(code).name
    except Exception:  # noqa: BLE001 - display only
        return code


def status_row(s: r.RatificationState) -> dict[str, Any]:
    """One State's status as a JSON-ready dict."""
    return {
        "state": s.state,
        "name": state_name(s.state),
        "signed": s.signed,
        "signed_on": s.signed_on,
        "domestic_procedure_completed_on": s.domestic_procedure_completed_on,
        "instrument": s.instrument,
        "consented_on": s.consented_on,
        "in_force_on": s.in_force_on,
        "eif_article": s.eif_article,
        "provisional_application": s.provisional_application,
        "status": s.status(),
    }


def status_table(states: list[r.RatificationState], title: str) -> Table:
    """The table of ``treaty status``."""
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for col in (
        "State",
        "ISO3",
        "Signature",
        "Instrument",
        "Deposit",
        "Entry into force",
        "Status",
    ):
        table.add_column(col)
    for s in states:
        signature = _d(s.signed_on, "date unknown") if s.signed else ""
        eif = f"{_d(s.in_force_on)} ({s.eif_article})" if s.in_force_on else ""
        table.add_row(
            state_name(s.state),
            s.state,
            signature,
            s.instrument or "",
            _d(s.consented_on),
            eif,
            s.status(),
        )
    return table
