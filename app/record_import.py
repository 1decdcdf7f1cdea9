"""``treaty import FILE``: the depositary's whole record (:class:`DepositaryRecord`) into
the treaty's processes.

1. the treaty: the one the header names (:func:`app.depositary_header.recognise`), or
   ``--treaty`` for a record with no header;
2. the header's entry-into-force statement recorded on the treaty process as the
   depositary's statement (once; another date than the one on record is refused);
3. the rows: :func:`app.service.import_rows` (signatures, deposits and successions, the
   dates the record lacked, withdrawals, end notes), then, unless told not to wait, until
   every State's entry into force is fixed;
4. the header's counts of Signatories and Parties checked against the record as at the
   page's date (:func:`app.depositary_header.check_counts`).
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio.client import Client

from adapters.depositary import DepositaryRecord, Header
from app import depositary_header, reads, service
from app.commands import Commands, ProcessRef
from app.errors import Refused
from app.import_report import HeaderReport, ImportReport
from domain import treaty as t
from eventstore.recorder import Recorder
from workflows.common import CommandMeta


async def _statement(
    client: Client,
    code: str,
    header: Header,
    report: HeaderReport,
    meta: CommandMeta,
    task_queue: str,
) -> None:
    """Record the header's statement of entry into force unless the record has it; what
    became of it goes into ``report``."""
    command = depositary_header.statement_command(header)
    if command is None:
        return
    view = await service.treaty_view(client, code)
    outcome, refusal = depositary_header.statement_outcome(
        view.state if view else t.initial_state(code), command
    )
    if outcome == "record":
        as_at = f", status as at {header.status_as_at}" if header.status_as_at else ""
        source = f"{meta.source or 'the depositary record'} (header{as_at})"
        try:
            await Commands(client, task_queue).send(
                ProcessRef("treaty", code), command, meta.model_copy(update={"source": source})
            )
            outcome = "recorded"
        except Refused as err:
            outcome, refusal = "refused", str(err)
    report.statement_outcome, report.statement_refusal = outcome, refusal


async def import_record(
    client: Client,
    store: Recorder | None,
    record: DepositaryRecord,
    requested: str | None,
    meta: CommandMeta,
    task_queue: str,
    *,
    wait: bool = True,
    progress: Callable[[], None] = lambda: None,
    settling: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ``record`` (steps in the module docstring) and report it.

    ``store``: the record read to check the header's counts (None: not checked);
    ``requested``: ``--treaty`` (None: the header's treaty, or the default for a record
    without header); ``progress()``: after each row; ``settling(done, total)``: while
    waiting for the entry-into-force dates. Raises :class:`Refused` when the header names
    a treaty with no profile or another than ``requested`` (nothing imported). Refused
    rows are in the report; the others are recorded, each whole or not at all.
    """
    code, header_report = depositary_header.recognise(record.header, requested)
    if record.header is None:
        depositary_header.check_sources(record.rows, code)
    if record.header is not None and header_report is not None:
        await _statement(client, code, record.header, header_report, meta, task_queue)
    report = await service.import_rows(
        client, code, record.rows, meta, task_queue, progress=progress
    )
    report.treaty, report.form, report.header = code, record.form, header_report
    report.refused = sorted([*record.errors, *report.refused], key=lambda e: e.line)
    if wait:
        total = len(report.states)
        report.settled = not total or await service.wait_settled(
            client,
            code,
            report.states,
            progress=None if settling is None else lambda n: settling(n, total),
            store=store,
        )
    if record.header is not None and header_report is not None:
        as_of = record.header.status_as_at
        if as_of is None:
            as_of = depositary_header.latest_action(record.rows)
            if as_of is not None:
                header_report.counts_note = (
                    f"the file gives no status date: its counts are checked as at the latest "
                    f"action it records, {as_of}"
                )
        if as_of is None:
            header_report.counts_note = "the file gives no date: its counts are not checked"
        elif store is None:
            header_report.counts_note = "the record was not read: the counts are not checked"
        else:
            states = await reads.ratifications(store, code, as_of)
            header_report.counts = depositary_header.check_counts(record.header, states, as_of)
    return report
