"""``treaty demo``: the main job on the embedded stack, with the real CCM record. What it
records is :mod:`app.demo`'s; this module prints."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import settings as settings_mod
from app import reads
from app.demo import CCM_DEMO, RecordEntryIntoForce
from app.demo import run as run_app_demo
from app.errors import Refused, Unavailable
from cli import render
from cli.decision import decision_json, decision_table
from cli.runtime import EXIT_REFUSED, EXIT_UNAVAILABLE, Failure
from domain import ratification as r

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


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _names(codes: list[str] | tuple[str, ...]) -> str:
    names = [reads.state_name(c) for c in codes]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _entry_into_force_json(eif: RecordEntryIntoForce | None) -> dict[str, Any] | None:
    if eif is None:
        return None
    return {
        "threshold": eif.threshold,
        "threshold_deposited_on": eif.day.on,
        "instruments": [{"state": c, "name": reads.state_name(c)} for c in eif.day.states],
        "positions": [eif.day.first, eif.day.last],
        "in_force_on": eif.in_force_on,
        "article": eif.article,
        "depositary_in_force_on": eif.declared_on,
        "agrees": eif.agrees,
    }


def _withdrawn(states: list[r.RatificationState], as_of: date) -> list[str]:
    """ISO3 of the States whose withdrawal was in effect on ``as_of``."""
    return sorted(s.state for s in states if s.withdrawn_on is not None and s.withdrawn_on <= as_of)


def _counts_json(result: dict[str, Any]) -> list[dict[str, Any]]:
    checks = result["depositary_counts"]
    rows = []
    for label, p in result["counts"]:
        row: dict[str, Any] = {
            "label": label,
            "as_of": p.as_of,
            "consented": len(p.consented),
            "in_force": len(p.in_force),
            "not_yet_in_force": sorted(set(p.consented) - set(p.in_force)),
            "withdrawn": _withdrawn(result["states"], p.as_of),
        }
        depositary = [c for c in checks if c.as_of == p.as_of]
        if depositary and CCM_DEMO.depositary_counts is not None:
            row["depositary"] = {
                "source": CCM_DEMO.depositary_counts.source,
                "counts": [
                    {
                        "count": c.count,
                        "stated": c.stated,
                        "recorded": c.recorded,
                        "agrees": c.agrees,
                    }
                    for c in depositary
                ],
            }
        rows.append(row)
    return rows


def _print_json(result: dict[str, Any]) -> None:
    states, treaty_state, profile = result["states"], result["treaty"], result["profile"]
    withdrawal = profile.obligations.withdrawal.article
    render.print_json(
        {
            "record": {"file": CCM_DEMO.record.name, **result["import"].as_json()},
            "states": [reads.status_row(s) for s in states],
            "treaty": treaty_state.model_dump(mode="json"),
            "entry_into_force": _entry_into_force_json(result["entry_into_force"]),
            "counts": _counts_json(result),
            "withdrawals": [
                {
                    "state": s.state,
                    "name": reads.state_name(s.state),
                    "received_on": s.withdrawal_received_on,
                    "in_effect_on": s.withdrawn_on,
                    "article": withdrawal,
                }
                for s in states
                if s.withdrawal_received_on is not None
            ],
            "provisional_application": [
                {
                    "state": s.state,
                    "name": reads.state_name(s.state),
                    "declared_on": s.provisional_application_on,
                    "article": profile.provisional_application_article,
                }
                for s in states
                if s.provisional_application
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


def _print_entry_into_force(result: dict[str, Any]) -> None:
    o = render.out
    treaty_state, eif = result["treaty"], result["entry_into_force"]
    if eif is not None:
        day = eif.day
        places = f"the {_ordinal(day.first)}"
        if day.last > day.first:
            joined = " and " if day.last == day.first + 1 else " to "
            places += f"{joined}{_ordinal(day.last)}"
        o.print(
            f"From the record's deposits: the {_ordinal(eif.threshold)} instrument was deposited "
            f"on {day.on} ({_names(day.states)}, {places} by date), so the {TREATY} entered "
            f"into force on {eif.in_force_on} ({eif.article})."
        )
    o.print(
        f"The depositary's statement: in force on {treaty_state.declared_on} "
        f"({treaty_state.statement or 'no statement recorded'})."
    )
    if treaty_state.discrepancy:
        computed = treaty_state.discrepancy_computed_on
        o.print(
            "[yellow]Discrepancy kept on record:[/yellow] the recorded deposits alone give "
            f"{computed or 'no entry into force'}; the depositary's date is kept."
        )
    elif eif is not None and eif.agrees:
        o.print("They agree: no discrepancy.")


def _print_counts(result: dict[str, Any]) -> None:
    o = render.out
    states, profile = result["states"], result["profile"]
    checks = result["depositary_counts"]
    for label, p in result["counts"]:
        waiting = sorted(set(p.consented) - set(p.in_force))
        by_code = {s.state: s for s in states}
        pending = ""
        if 0 < len(waiting) <= 3:
            pending = (
                " (not yet: "
                + ", ".join(f"{reads.state_name(c)} from {by_code[c].in_force_on}" for c in waiting)
                + ")"
            )
        o.print(
            f"  {label}: {render.count(len(p.consented), 'State')} consented to be bound "
            f"(deposit), in force for {len(p.in_force)}{pending}"
        )
        for c in (c for c in checks if c.as_of == p.as_of):
            mark = "agrees" if c.agrees else "[yellow]differs[/yellow]"
            o.print(
                f"    the depositary counts {c.stated} {c.count}, the record {c.recorded}: {mark}"
            )
    for s in states:
        if s.withdrawal_received_on is None:
            continue
        o.print(
            f"Withdrawal: {reads.state_name(s.state)}, received {s.withdrawal_received_on}, in "
            f"effect {s.withdrawn_on} ({profile.obligations.withdrawal.article}): in neither "
            "count from that day."
        )
    applied = sorted((s.state for s in states if s.provisional_application), key=reads.state_name)
    if applied:
        o.print(
            f"Provisional application of {profile.provisional_application} declared "
            f"({profile.provisional_application_article}): {_names(applied)}."
        )
    o.print(
        "Note: the CMC counts a State Party from its deposit; the Convention is in force for "
        "it from the first day of the sixth month after "
        f"({profile.state_eif.article})."
    )


def run_demo(as_json: bool) -> None:
    """Run the demo (:data:`app.demo.CCM_DEMO`) and print the table, the entry into force
    from the record beside the depositary's, the counts and where to look next."""
    try:
        result = asyncio.run(run_app_demo(CCM_DEMO, _Terminal(quiet=as_json)))
    except Refused as err:
        raise Failure(str(err), EXIT_REFUSED) from None
    except Unavailable as err:
        raise Failure(str(err), EXIT_UNAVAILABLE) from None
    if as_json:
        _print_json(result)
        return
    o = render.out
    o.print(
        render.status_table(
            result["states"],
            f"Convention on Cluster Munitions: status from the record ({CCM_DEMO.record.name})",
        )
    )
    _print_entry_into_force(result)
    _print_counts(result)
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
