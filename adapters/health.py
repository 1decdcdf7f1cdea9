"""The worker's health check as a command, for container health checks.

    python -m adapters.health        # exit 0 when every worker process of this host is healthy

Asks ``GET /healthz`` of each worker process (``TREATYFLOW_HEALTH_PORT`` + 0..N-1, N =
``TREATYFLOW_WORKER_PROCESSES``) and prints one line per process. Loads neither the
Temporal SDK nor the workflows, so that a check every few seconds costs little
(``python -m worker health`` does the same).
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

import settings as settings_mod


def health_urls(settings: settings_mod.Settings, processes: int | None = None) -> list[str]:
    """The ``/healthz`` URLs of the worker processes of this host (one per process)."""
    if settings.health_port is None:
        raise settings_mod.SettingsError(
            "TREATYFLOW_HEALTH_PORT is not set: the worker serves no health endpoint "
            "(set it to a free port, e.g. 8080, for the worker and for this check)"
        )
    host = settings.health_host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    n = processes or settings.worker_processes
    return [f"http://{host}:{settings.health_port + i}/healthz" for i in range(n)]


def check_health(urls: Sequence[str], timeout: float = 10.0) -> tuple[bool, list[str]]:
    """Ask each URL; (all healthy, one line per process)."""
    lines, healthy = [], True
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                lines.append(f"ok   {url}: {response.read().decode()}")
        except urllib.error.HTTPError as err:
            healthy = False
            lines.append(f"FAIL {url}: {err.code} {err.read().decode(errors='replace')}")
        except (urllib.error.URLError, OSError) as err:
            healthy = False
            reason = getattr(err, "reason", err)
            lines.append(f"FAIL {url}: no answer ({reason})")
    return healthy, lines


def main() -> None:
    """Exit 0 when every worker process answers healthy, 1 otherwise (2: a bad setting)."""
    try:
        urls = health_urls(settings_mod.load())
    except settings_mod.SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    healthy, lines = check_health(urls)
    print("\n".join(lines))
    raise SystemExit(0 if healthy else 1)


if __name__ == "__main__":
    main()
