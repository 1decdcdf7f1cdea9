"""The ``treaty audit`` command group, on which the audit command modules register."""

from __future__ import annotations

import typer

audit_app = typer.Typer(
    help=(
        "Audit the record: replay workflow histories against the current code, rebuild a "
        "process's state as of a date, verify hash chains and the match between the event "
        "store and Temporal, export the record."
    ),
    no_args_is_help=True,
)
