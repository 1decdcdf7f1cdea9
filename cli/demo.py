"""``treaty demo``: the main job on the embedded stack, with the real CCM record. What it
records is :mod:`app.demo`'s; this module prints."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import settings as settings_mod
from app import reads
from app.demo import CCM_DEMO
from app.demo import run as run_app_demo
from app.errors import Refused, Unavailable
from cli import render
from cli.decision import decision_json, decision_table
from cli.runtime import EXIT_REFUSED, EXIT_UNAVAILABLE, Failure

TREATY = CCM_DEMO.treaty


class _Terminal:
    """The demo's progress on stderr (a progress bar while importing, unless ``quiet``)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def say(self, text: str) -> None:
        render.err.print(text)

    @contextmanager
    def importing(self, name: str, total: int) -> Iterator[Callable[[], None]]:
        from rich.progress import Progress

        with Progress(console=render.err, transient=True, disable=self.quiet) as progress:
            task = progress.add_task(name, total=total)
            yield lambda: progress.advance(task)


def run_demo(as_json: bool) -> None:
    """Run the demo (:data:`app.demo.CCM_DEMO`) and print the table, the counts and where
    to look next."""
    try:
        result = asyncio.run(run_app_demo(CCM_DEMO, _Terminal(quiet=as_json)))
    except Refused as err:
        raise Failure(str(err), EXIT_REFUSED) from None
    except Unavailable as err:
        raise Failure(str(err), EXIT_UNAVAILABLE) from None
    states, treaty_state = result["states"], result["treaty"]
    if as_json:
        render.print_json(
            {
                "states": [reads.status_row(s) for s in states],
                "treaty": treaty_state.model_dump(mode="json"),
                "counts": [
                    {
                        "label": label,
                        "as_of": p.as_of,
                        "consented": len(p.consented),
                        "in_force": len(p.in_force),
                    }
                    for label, p in result["counts"]
                ],
                "ui_url": result["ui_url"],
                "isu_decision": decision_json(
                    result["decision"], date.today(), result["decision_statuses"]
                ),
                "reporting": {
                    "cycle": result["reporting"]["cycle"].model_dump(mode="json"),
                    "figures": result["reporting"]["figures"].model_dump(mode="json"),
                    "outbox": [r.model_dump(mode="json") for r in result["reporting"]["outbox"]],
                },
            }
        )
        return
    o = render.out
    o.print(render.status_table(states, "Convention on Cluster Munitions: status from the record"))
    o.print(
        f"The {TREATY} entered into force on {treaty_state.in_force_on} "
        f"(basis: {treaty_state.basis}, {treaty_state.statement or ''})."
    )
    if treaty_state.discrepancy:
        computed = treaty_state.discrepancy_computed_on
        o.print(
            "[yellow]Discrepancy kept on record:[/yellow] the imported deposits alone would give "
            f"{computed or 'no entry into force'}; only "
            f"{sum(1 for d in treaty_state.deposits.values() if d <= date(2010, 2, 16))} "
            "instruments by 16 Feb 2010 are in this partial table (Malta, San Marino and Uruguay "
            "are missing), so the depositary's date is kept."
        )
    for label, p in result["counts"]:
        o.print(
            f"  {label}: {render.count(len(p.consented), 'State')} consented to be bound "
            f"(deposit), in force for {len(p.in_force)}"
        )
    o.print(
        "Note: the CMC counts a State Party from its deposit; the Convention is in force for "
        "it from the first day of the sixth month after (Art. 17(2)). The status table "
        "records no withdrawal, so Lithuania's (effective 6 Mar 2025) is not deducted from "
        "today's count (`treaty ratification withdraw` records one)."
    )
    o.print(
        f"\nThe ISU hosting decision as the record of 24 Feb 2011 gives it "
        f"({CCM_DEMO.scenario.name}, {render.count(result['scenario_events'], 'event')} "
        "recorded now):"
    )
    o.print(decision_table(result["decision"], result["decision_statuses"], words=False))
    from cli.reporting import print_demo_cycle

    print_demo_cycle(result["reporting"], settings_mod.load().home)
    o.print("Next:")
    o.print(f"  Temporal Web UI  {result['ui_url']}")
    o.print("  treaty events ratification-CCM-BGR    # Bulgaria's events, with sources")
    o.print("  treaty events treaty-CCM              # the treaty's own process")
    o.print("  treaty parties --as-of 2011-09-01     # counts on any date")
    o.print("  treaty decision show isu-hosting      # the ISU decision, conditions in words")
    o.print("  treaty hca show 2MSP                  # the Beirut host-country agreement")
    o.print("  treaty down                            # stop the embedded stack")
