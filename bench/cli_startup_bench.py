"""Figure 5, CLI start-up: wall time of ``treaty --help`` against ``python -c pass``, and
of ``treaty status STATE --json`` (the State's row, folded from the event store) against
the official Temporal CLI's ``temporal workflow query`` of the same State's process
(``--type view``), on the same embedded stack.

    .venv/bin/python bench/cli_startup_bench.py            # median of 10 runs each
    .venv/bin/python bench/cli_startup_bench.py --quick    # median of 2

Targets: ``treaty --help`` under 0.3 s (no temporalio, asyncpg or pydantic models imported
to print help); ``status`` no slower than the Temporal CLI (ratio >= 1). The ratios are
the baseline's wall time over ours.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from _common import PYTHON, embedded, median_time, parse_args, ratio_line, say, states, status_table

HELP_LIMIT = 0.3
TARGET_STATUS = 1.0


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], repeat=10)
    repeat = 2 if args.quick else args.repeat
    from cli.stack import _temporal_binary
    from tests.e2e import TREATY

    with embedded() as bench, tempfile.TemporaryDirectory() as tmp:
        env = bench.env
        table = status_table("CCM", 5, Path(tmp) / "ccm.csv")
        bench.treaty("import", str(table), "--json")
        state = states(5)[0]
        address = bench.temporal_address

        def run(cmd: list[str]) -> None:
            result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
            if result.returncode != 0:
                raise RuntimeError(f"{cmd} exited {result.returncode}: {result.stderr[-2000:]}")

        treaty_cmd = [str(TREATY)]
        query = [
            str(_temporal_binary()),
            "workflow",
            "query",
            "--address",
            address,
            "--namespace",
            "default",
            "--workflow-id",
            f"ratification:CCM:{state}",
            "--type",
            "view",
            "-o",
            "json",
        ]
        run([*treaty_cmd, "status", state, "--json"])  # warm: the store is migrated, caches
        run(query)
        python = median_time(lambda: run([str(PYTHON), "-c", "pass"]), repeat)
        help_ = median_time(lambda: run([*treaty_cmd, "--help"]), repeat)
        temporal = median_time(lambda: run(query), repeat)
        status = median_time(lambda: run([*treaty_cmd, "status", state, "--json"]), repeat)
    say(
        f"python -c pass: {python * 1000:.0f} ms; treaty --help: {help_ * 1000:.0f} ms "
        f"(limit {HELP_LIMIT * 1000:.0f} ms: {'met' if help_ < HELP_LIMIT else 'MISSED'})"
    )
    say(
        f"temporal workflow query (view of ratification:CCM:{state}): {temporal * 1000:.0f} ms; "
        f"treaty status {state} --json: {status * 1000:.0f} ms"
    )
    say(ratio_line(("help", python / help_, None), ("status", temporal / status, TARGET_STATUS)))


if __name__ == "__main__":
    main()
