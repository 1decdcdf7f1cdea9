"""What the two sides of the fast path of ``treaty status STATE --json`` share (the
client :mod:`cli.fast`, the worker's :mod:`app.status_server`): standard library only, so
that the client's start-up stays cheap."""

from __future__ import annotations

import os
from collections.abc import Mapping

#: Version of the socket protocol (a JSON line each way), checked by the worker.
PROTOCOL = 1
#: Values of ``TREATYFLOW_FAST_READS`` that leave the fast path on (as the settings read
#: yes/no values); any other non-empty value turns it off.
ON = frozenset({"1", "true", "yes", "on"})


def enabled(environ: Mapping[str, str]) -> bool:
    """Whether ``TREATYFLOW_FAST_READS`` in ``environ`` leaves the fast path on: unset,
    empty or a yes value (``1``, ``true``, ``yes``, ``on``); a no value or anything else
    turns it off (read by the client and by the worker, which then opens no socket)."""
    flag = environ.get("TREATYFLOW_FAST_READS", "").strip().lower()
    return not flag or flag in ON


def socket_path(home: str) -> str:
    """The worker's socket under ``home``."""
    return os.path.join(home, "run", "worker.sock")
