"""``treaty audit``: the auditors' command group.

The commands are defined in :mod:`cli.audit_replay` (replay, archive) and
:mod:`cli.audit_record` (timeline, state, verify, export) on the group of
:mod:`cli.audit_group`; :func:`register` imports them.
"""

from __future__ import annotations

import typer

from cli.audit_group import audit_app


def register() -> typer.Typer:
    """Import the command modules (they decorate :data:`audit_app`) and return the group."""
    from cli import audit_record, audit_replay  # noqa: F401

    return audit_app
