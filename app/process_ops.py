"""Reads of the decision and host-country agreement processes, and scenario files (which
reach the ratification processes too); every command goes through
:meth:`app.commands.Commands.send`.

Imported by :mod:`cli.decision`, :mod:`cli.hca` and :mod:`cli.scenario` inside their
commands (it imports temporalio).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client

from app import processes
from app.commands import Commands, ProcessRef
from app.errors import Refused
from domain import ids, scenario
from domain import ratification as r
from workflows.common import CommandMeta
from workflows.decision import DecisionView, DecisionWorkflow
from workflows.hca import AgreementView, AgreementWorkflow


def _today() -> Any:
    return datetime.now(UTC).date()


def workflow_id(kind: scenario.ProcessKind, treaty: str, key: str) -> str:
    """``decision:<CODE>:<slug>`` or ``hca:<CODE>:<meeting>``."""
    if kind == "decision":
        return ids.decision_workflow_id(treaty, key)
    return ids.hca_workflow_id(treaty, key)


async def view(
    client: Client, kind: scenario.ProcessKind, treaty: str, key: str
) -> DecisionView | AgreementView | None:
    """The process's state by query, or None if it was never started."""
    handle = client.get_workflow_handle(workflow_id(kind, treaty, key))
    query = DecisionWorkflow.view if kind == "decision" else AgreementWorkflow.view
    return await processes.query_or_none(handle, query)


async def _ratification_context(client: Client, step: scenario.Step) -> Any:
    """What ``step``'s ratification process knows of the treaty (its own view, else the
    treaty process's, else nothing known); starts nothing."""
    found = await processes.ratification_view(client, step.treaty, step.key)
    if found is not None:
        return found.state, found.context
    handle = client.get_workflow_handle(ids.treaty_workflow_id(step.treaty))
    from workflows.treaty import TreatyWorkflow

    context = await processes.query_or_none(handle, TreatyWorkflow.context)
    return None, context or r.TreatyContext()


async def run_scenario(
    client: Client,
    steps: list[scenario.Step],
    meta: CommandMeta,
    task_queue: str,
    progress: Callable[[], None] = lambda: None,
    *,
    dry_run: bool = False,
) -> dict[str, int]:
    """Record every step of a scenario, in order, after checking them all on the
    processes' current states (:func:`domain.scenario.check_all`): one step that would be
    refused and nothing is recorded (:class:`Refused` naming the line). A step the record
    already holds (no event) is not sent. Returns the events recorded per process
    (workflow id); with ``dry_run``, the events that would be, and nothing is sent."""
    states: dict[str, Any] = {}
    contexts: dict[str, r.TreatyContext] = {}
    for step in steps:
        wid = step.workflow_id
        if wid in states:
            continue
        if step.kind == "ratification":
            states[wid], contexts[wid] = await _ratification_context(client, step)
        else:
            found = await view(client, step.kind, step.treaty, step.key)
            states[wid] = found.state if found else None
    try:
        counts = scenario.plan_all(
            steps,
            lambda s: states[s.workflow_id],
            _today(),
            lambda s: contexts.get(s.workflow_id, r.TreatyContext()),
        )
    except scenario.ScenarioError as err:
        raise Refused(f"nothing recorded from the file: {err}") from None
    for step, n in zip(steps, counts, strict=True):
        if step.kind == "ratification" and n:  # a deposit the treaty counted otherwise
            try:
                await processes.check_counted(client, step.treaty, step.key, [step.command])
            except Refused as err:
                raise Refused(f"nothing recorded from the file: line {step.line}: {err}") from None
    recorded: dict[str, int] = {wid: 0 for wid in states}
    if dry_run:
        for step, n in zip(steps, counts, strict=True):
            recorded[step.workflow_id] += n
        return recorded
    send = Commands(client, task_queue).send
    for step, n in zip(steps, counts, strict=True):
        wid = step.workflow_id
        if n == 0:  # already recorded: the process would record nothing (or refuse)
            progress()
            continue
        where = f"{meta.source} line {step.line}" if meta.source else f"line {step.line}"
        line_meta = meta.model_copy(update={"source": where})
        try:
            result = await send(
                ProcessRef(step.kind, step.treaty, step.key), step.command, line_meta
            )
        except Refused as err:  # the record changed meanwhile: say where it stopped
            raise Refused(
                f"line {step.line}: {wid}: {err} (the lines before it were recorded)"
            ) from None
        recorded[wid] += len(result.events)
        progress()
    return recorded
