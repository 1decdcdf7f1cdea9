"""The application's errors, which every entrypoint maps to its own terms (the CLI to exit
codes 1 and 3, an HTTP layer to statuses)."""

from __future__ import annotations


class Refused(Exception):
    """A command refused (the message says why and what would be accepted); nothing was
    recorded and no process was started."""


class Unavailable(Exception):
    """The servers or the worker a command needs did not answer; nothing was recorded."""
