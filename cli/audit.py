"""``treaty audit``: the auditors' command group.

The commands are defined in :mod:`cli.audit_replay` (replay, archive) and
:mod:`cli.audit_record` (timeline, state, verify, export); importing this module
registers them on :data:`audit_app`.
"""

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


def register() -> typer.Typer:
    """Import the command modules (they decorate :data:`audit_app`) and return the group."""
    from cli import audit_record, audit_replay  # noqa: F401

    return audit_app
