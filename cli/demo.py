"""``treaty demo``: the main job on the embedded stack, with the real CCM record."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import settings as settings_mod
from adapters.stack import StackError, stack_up
from adapters.temporal import NoWorkerError, connect_client, require_worker
from app import importer, reads, service
from app.provenance import command_meta
from app.reporting import ensure_schedules_after_up
from cli import render
from cli.decision import decision_json, decision_table, party_statuses
from cli.runtime import EXIT_REFUSED, EXIT_UNAVAILABLE, Failure
from domain import treaty as t
from eventstore.migrate import migrate
from eventstore.store import EventStore
from workflows.common import CommandMeta

TREATY = "CCM"
STATEMENT = (
    "UNTC chapter XXVI-6: the Convention entered into force on 1 August 2010, in accordance "
    "with article 17(1) (30th instrument deposited on 16 February 2010 by Burkina Faso and "
    "Moldova); registration No. 47713"
)
DATES = (("1 Aug 2010 (entry into force)", date(2010, 8, 1)), ("30 Mar 2011", date(2011, 3, 30)))


async def _wait_for_worker(client: Any, task_queue: str, wait_seconds: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        try:
            await require_worker(client, task_queue)
            return
        except NoWorkerError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _demo(csv_path: Path, as_json: bool) -> dict[str, Any]:
    settings = settings_mod.load()
    try:
        status = await asyncio.to_thread(stack_up, settings, after_worker=ensure_schedules_after_up)
    except StackError as err:
        raise Failure(str(err), EXIT_UNAVAILABLE) from None
    log = render.err
    log.print(f"embedded stack up: Temporal {status.temporal_address}, Web UI {status.ui_url}")
    client = await connect_client(status.temporal_address, settings.temporal_namespace)
    try:
        await _wait_for_worker(client, settings.task_queue)
    except NoWorkerError as err:
        raise Failure(f"{err} (worker log: {settings.home / 'logs' / 'worker.log'})", 3) from None
    # recorded by the user running the demo, for the demo; each fact's source is the
    # statement, the status table (and its rows' own sources) or the scenario's lines
    meta = command_meta(on_behalf_of="treaty demo", source=csv_path.name, correlation_id="demo")
    view = await service.treaty_view(client, TREATY)
    if view is None or view.state.declared_on is None:
        log.print("recording the depositary's statement of entry into force (1 Aug 2010)")
        await service.record_statement(
            client,
            TREATY,
            t.RecordDepositaryStatement(
                in_force_on=date(2010, 8, 1),
                threshold_deposited_on=date(2010, 2, 16),
                statement=STATEMENT,
            ),
            meta.model_copy(update={"source": STATEMENT}),
            settings.task_queue,
        )
    rows, bad = importer.read_table(csv_path)
    from rich.progress import Progress

    with Progress(console=log, transient=True, disable=as_json) as progress:
        task = progress.add_task(f"importing {csv_path.name}", total=len(rows))
        report = await service.import_rows(
            client, TREATY, rows, meta, settings.task_queue, progress=lambda: progress.advance(task)
        )
    if bad or report.refused:
        for e in [*bad, *report.refused]:
            log.print(f"refused line {e.line} ({e.name}): {e.reason}")
        raise Failure("the shipped status table did not import cleanly", EXIT_REFUSED)
    log.print(
        f"imported {csv_path}: {render.count(len(report.changed), 'process', 'processes')} "
        f"advanced, {len(report.unchanged)} already up to date"
    )
    if not await service.wait_settled(client, TREATY, [r.state for r in rows]):
        log.print("[yellow]some entry-into-force dates are still being fixed[/yellow]")
    isu_events = await _isu_scenario(client, meta, settings.task_queue)
    store = await EventStore.connect(status.database_url)
    try:
        await migrate(status.database_url)
        isu = await _isu_state(store)
        isu_statuses = await party_statuses(store, isu)
        states = await reads.ratifications(store, TREATY)
        treaty_state = await reads.treaty_state(store, TREATY)
        today = date.today()
        counts = [
            (label, await reads.parties(store, TREATY, day))
            for label, day in (*DATES, (f"today ({today.isoformat()})", today))
        ]
        from app.reporting import demo_cycle  # this year's reporting cycle (CCM Art. 7)

        reporting = await demo_cycle(client, store, TREATY, today.year, settings.task_queue)
    finally:
        await store.close()
    return {
        "states": states,
        "treaty": treaty_state,
        "counts": counts,
        "ui_url": status.ui_url,
        "signature_unknown": report.signature_unknown,
        "isu": isu,
        "isu_statuses": isu_statuses,
        "isu_events": isu_events,
        "reporting": reporting,
    }


ISU_SCENARIO = (
    Path(__file__).resolve().parent.parent / "examples" / "ccm" / "2011-consultation.yaml"
)


async def _isu_scenario(client: Any, meta: CommandMeta, task_queue: str) -> int:
    """Record the 24 Feb 2011 consultation (the ISU decision, Bulgaria's domestic
    procedure, the 2MSP's host-country agreement) from the shipped scenario file; the
    number of events recorded."""
    from adapters import scenario_file
    from app import process_ops

    steps = scenario_file.parse(ISU_SCENARIO.read_text(encoding="utf-8"))
    where = meta.model_copy(update={"source": ISU_SCENARIO.name})
    try:
        recorded = await process_ops.run_scenario(client, steps, where, task_queue)
    except service.Refused as err:
        raise Failure(f"the shipped scenario {ISU_SCENARIO.name}: {err}", EXIT_REFUSED) from None
    return sum(recorded.values())


async def _isu_state(store: EventStore) -> Any:
    from audit.folding import fold_stored

    stream = "decision-CCM-isu-hosting"
    return fold_stored(stream, await store.read_stream(stream))


def run_demo(csv_path: Path, as_json: bool) -> None:
    """Run the demo and print the table, the counts and where to look next."""
    result = asyncio.run(_demo(csv_path, as_json))
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
                "isu_decision": decision_json(result["isu"], date.today(), result["isu_statuses"]),
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
        f"({ISU_SCENARIO.name}, {render.count(result['isu_events'], 'event')} recorded now):"
    )
    o.print(decision_table(result["isu"], result["isu_statuses"], words=False))
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
