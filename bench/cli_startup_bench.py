"""Figure 5, CLI start-up: wall time of ``treaty --help`` against ``python -c pass``, and
of ``treaty status STATE --json`` (the State's row, folded from the event store) against
the official Temporal CLI's ``temporal workflow query`` of the same State's process
(``--type view``), on the same embedded stack.

    .venv/bin/python bench/cli_startup_bench.py            # median of 10 runs each
    .venv/bin/python bench/cli_startup_bench.py --quick    # median of 2

``treaty status`` is timed as users get it, with the stack's worker running: the worker
answers it on its Unix socket (:mod:`cli.fast`, :mod:`app.status_server`); the normal path
(``TREATYFLOW_FAST_READS=0``: typer, the settings, asyncpg, the fold in the CLI) is timed
in the same rounds and reported beside it. The script first checks that both print the
same.

Targets: ``treaty --help`` under 0.3 s (no temporalio, asyncpg or pydantic models imported
to print help); ``status`` no slower than the Temporal CLI (ratio >= 1). The ratios are
the baseline's wall time over ours.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import PYTHON, embedded, median_time, parse_args, ratio_line, say, states, status_table

HELP_LIMIT = 0.3
TARGET_STATUS = 1.0


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], repeat=10)
    repeat = 2 if args.quick else args.repeat
    from adapters.stack import _temporal_binary
    from tests.e2e import TREATY

    with embedded() as bench, tempfile.TemporaryDirectory() as tmp:
        env = bench.env
        table = status_table("CCM", 5, Path(tmp) / "ccm.csv")
        bench.treaty("import", str(table), "--json")
        state = states(5)[0]
        address = bench.temporal_address

        def run(cmd: list[str], cmd_env: dict[str, str] = env) -> str:
            result = subprocess.run(cmd, env=cmd_env, capture_output=True, text=True, timeout=120)
            if result.returncode != 0:
                raise RuntimeError(f"{cmd} exited {result.returncode}: {result.stderr[-2000:]}")
            return result.stdout

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
        status_cmd = [*treaty_cmd, "status", state, "--json"]
        normal_env = dict(env, TREATYFLOW_FAST_READS="0")
        # warm (the store is migrated, caches), and check that the worker answers, with what
        # the normal path prints
        fast_out = run(status_cmd)
        normal_out = run(status_cmd, normal_env)
        if fast_out != normal_out:
            raise RuntimeError(f"fast path printed {fast_out!r}, normal path {normal_out!r}")
        ask = f"from cli.fast import ask; import sys; sys.exit(ask({state!r}, 'CCM') is None)"
        if subprocess.run([str(PYTHON), "-c", ask], env=env, timeout=60).returncode != 0:
            raise RuntimeError("the worker does not answer `treaty status` (fast path off)")
        run(query)
        python = median_time(lambda: run([str(PYTHON), "-c", "pass"]), repeat)
        help_ = median_time(lambda: run([*treaty_cmd, "--help"]), repeat)
        # the three alternate, round after round, so that the machine's load weighs on each
        times: dict[str, list[float]] = {"temporal": [], "status": [], "normal": []}
        for _ in range(repeat):
            for name, cmd, cmd_env in (
                ("temporal", query, env),
                ("status", status_cmd, env),
                ("normal", status_cmd, normal_env),
            ):
                start = time.perf_counter()
                run(cmd, cmd_env)
                times[name].append(time.perf_counter() - start)
        temporal, status, normal = (statistics.median(times[k]) for k in times)
    say(
        f"python -c pass: {python * 1000:.0f} ms; treaty --help: {help_ * 1000:.0f} ms "
        f"(limit {HELP_LIMIT * 1000:.0f} ms: {'met' if help_ < HELP_LIMIT else 'MISSED'})"
    )
    say(
        f"temporal workflow query (view of ratification:CCM:{state}): {temporal * 1000:.0f} ms; "
        f"treaty status {state} --json: {status * 1000:.0f} ms (the worker answers; the "
        f"normal path, TREATYFLOW_FAST_READS=0: {normal * 1000:.0f} ms)"
    )
    say(ratio_line(("help", python / help_, None), ("status", temporal / status, TARGET_STATUS)))


if __name__ == "__main__":
    main()
