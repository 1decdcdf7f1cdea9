"""Output: rich tables for people, JSON for scripts (``--json``)."""

from __future__ import annotations

import sys
from datetime import date
from typing import TYPE_CHECKING, Any

from rich.console import Console

from app.jsontext import json_text

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


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (dates as ISO 8601)."""
    sys.stdout.write(json_text(data))


def _d(day: date | None, unknown: str = "") -> str:
    return day.isoformat() if day else unknown


def state_name(code: str) -> str:
    """Display name of an ISO3 code (the code itself if unknown)."""
    from app.reads import state_name as name

    return name(code)


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
            _instrument(s),
            _d(s.consented_on),
            eif,
            _status(s),
        )
    return table


def _instrument(s: r.RatificationState) -> str:
    """The instrument, with what the record says beyond it: the date of a succession (or
    that it is not on record), a declaration of provisional application."""
    text = s.instrument or ""
    if s.instrument == "succession":
        text += f" of {s.succession_on}" if s.succession_on else " (date of succession unknown)"
    if s.provisional_application:
        text += f", provisional application {_d(s.provisional_application_on, 'declared')}"
    return text


def _status(s: r.RatificationState) -> str:
    """The status, with a withdrawal received but not yet in effect."""
    status = s.status()
    if s.withdrawn_on is not None:
        return f"{status} ({s.withdrawn_on})"
    if s.withdrawal_received_on is not None:
        return f"{status}, withdrawal received {s.withdrawal_received_on}"
    return status
