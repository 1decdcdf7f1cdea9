"""Figure 1b, the depositary's records: ``treaty import`` of the three complete records as
the depositary publishes them (the UNTC status pages of the CCM and the Mine Ban
Convention as at 3 Feb 2026, the ATT's MTDSG XML of 2018, read from ``../shared/data/untc``)
against as many workflow starts and Updates on a no-op workflow with a no-op activity
(``bench/_noop.py``, :func:`import_bench.baseline`), on the same Temporal dev server, in
the same run.

    .venv/bin/python bench/record_import_bench.py            # the three records
    .venv/bin/python bench/record_import_bench.py --quick    # the CCM's page alone

Figure: rows per second; ratio ours/baseline (target >= 1.5: the import makes one
update-with-start and one append per row where the baseline makes a start, two Updates
and two activities).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from _common import ROOT, embedded, noop_worker, parse_args, ratio_line, say, timed
from import_bench import QUEUE, baseline

TARGET = 1.5
UNTC = ROOT.parent / "shared" / "data" / "untc"
RECORDS = (
    ("CCM", UNTC / "XXVI-6.2026-02-03.html"),
    ("APMBC", UNTC / "XXVI-5.2026-02-03.html"),
    ("ATT", UNTC / "XXVI-8.en.2018.xml"),
)


def _rows(records: tuple[tuple[str, Path], ...]) -> int:
    from adapters.depositary import read_record

    return sum(len(read_record(path).rows) for _, path in records)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], concurrency=8)
    records = RECORDS[:1] if args.quick else RECORDS
    rows = _rows(records)
    with embedded() as bench:
        with noop_worker(bench.temporal_address, QUEUE):
            base = asyncio.run(baseline(bench.temporal_address, rows, args.concurrency))
        say(
            f"baseline: {rows} no-op workflow starts + {2 * rows} updates (each one "
            f"activity), concurrency {args.concurrency}: {base:.1f} s, {rows / base:.1f} "
            "processes/s"
        )
        with timed() as elapsed:
            for treaty, path in records:
                with timed() as one:
                    out = bench.treaty("import", str(path), "--treaty", treaty, "--json")
                report = json.loads(out.stdout)
                say(
                    f"  {treaty}: {path.name}: {len(report['changed'])} rows recorded "
                    f"({report['events_recorded']} events), {len(report['refused'])} refused, "
                    f"settled {report['settled']}: {one():.1f} s"
                )
            ours = elapsed()
        say(
            f"ours: treaty import of {len(records)} record(s) ({rows} rows; each waits until every "
            f"deposit is counted and every date fixed): {ours:.1f} s, {rows / ours:.1f} rows/s"
        )
    say(ratio_line(("import", base / ours, TARGET)))


if __name__ == "__main__":
    main()
