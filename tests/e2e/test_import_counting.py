"""An import has the treaty process count the table's deposits in one Update
(``count_deposits``), in date order in one append, then records each row in one Update to
its process, started knowing the treaty's context: the record must be the one of counting
the deposits one by one in date order, and every State's entry into force the one CCM
Art. 17 gives.
On the Temporal dev server (the one ``treaty up`` runs), with a real embedded PostgreSQL
event store and the real CCM status table (examples/ccm/status.csv, the UNTC XXVI-6
record; the same as ../shared/data).

Truth values from CCM Art. 17 and the table: its 74 deposits; the 30th by date in this
partial table is Comoros, 28 Jul 2010 (Malta, San Marino and Uruguay are missing), so the
record alone gives 1 Jan 2011 (Art. 17(1): first day of the sixth month after the month of
the 30th deposit); the depositary's statement gives 1 Aug 2010 (30th instrument 16 Feb
2010, Burkina Faso and Moldova that day). A State that deposited after the threshold
deposit is bound from the first day of the sixth month after its deposit (Art. 17(2)).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, Interceptor, OutboundInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from adapters import scenario_file, status_table
from app import commands, importer, process_ops, service
from audit import verify
from domain import ratification as r
from eventstore.store import EventStore
from tests.e2e import STATUS_CSV, TREATY
from tests.support import CCM_STATEMENT, META
from worker import build_worker

pytestmark = pytest.mark.e2e

DEV_SERVER = Path(TREATY).parent / "temporal"

STATEMENT = CCM_STATEMENT


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of its own per test (``treaty:CCM`` is one workflow per namespace)."""
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(DEV_SERVER), data_converter=pydantic_data_converter
    ) as environment:
        yield environment


def sixth_month_after(day: date) -> date:
    """The first day of the sixth month after the month of ``day`` (CCM Art. 17)."""
    months = day.year * 12 + day.month - 1 + 6
    return date(months // 12, months % 12 + 1, 1)


def expected_eif(deposits: dict[str, date], threshold_on: date, in_force_on: date) -> dict:
    """State -> its entry into force: the treaty's own date for a deposit on or before the
    threshold deposit (Art. 17(1)), else six months after, not before the treaty's."""
    return {
        s: in_force_on if d <= threshold_on else max(sixth_month_after(d), in_force_on)
        for s, d in deposits.items()
    }


def table(rows: list[status_table.Row]) -> dict[str, date]:
    return {row.state: row.deposited_on for row in rows if row.deposited_on is not None}


async def run_import(env: WorkflowEnvironment, queue: str, rows: list[status_table.Row]):
    report = await service.import_rows(env.client, "CCM", rows, META, queue)
    assert report.refused == []
    assert await service.wait_settled(env.client, "CCM", [r.state for r in rows])
    return report


async def record(store: EventStore, states: list[str]) -> tuple[list, dict[str, list]]:
    treaty = await store.read_stream("treaty-CCM")
    ratifications = {s: await store.read_stream(f"ratification-CCM-{s}") for s in states}
    return treaty, ratifications


async def counted_deposits(client: Client, n: int, wait_seconds: float = 60) -> dict[str, date]:
    """The treaty process's counted deposits once it has ``n`` (signals are handled after
    they are sent): polled for up to ``wait_seconds``."""
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        view = await service.treaty_view(client, "CCM")
        counted = dict(view.state.deposits) if view else {}
        if len(counted) >= n or asyncio.get_running_loop().time() > deadline:
            return counted
        await asyncio.sleep(0.1)


def of_type(events: list, kind: str) -> list:
    return [e for e in events if e.event_type == kind]


async def check_dates(env: WorkflowEnvironment, expected: dict) -> None:
    """Each State's process holds its date now (however many times it was fixed)."""
    for state, in_force_on in expected.items():
        got = await service.ratification_view(env.client, "CCM", state)
        assert got is not None and got.state.in_force_on == in_force_on, state


async def check_states(env: WorkflowEnvironment, store: EventStore, expected: dict) -> None:
    """Each State's process and stream hold its date, fixed once."""
    _, streams = await record(store, sorted(expected))
    for state, in_force_on in expected.items():
        view = await service.ratification_view(env.client, "CCM", state)
        assert view is not None and view.state.in_force_on == in_force_on, state
        fixed = of_type(streams[state], "EntryIntoForceFixed")
        assert [e.data["in_force_on"] for e in fixed] == [in_force_on.isoformat()], state
        assert len(of_type(streams[state], "InstrumentDeposited")) == 1, state


async def test_import_of_the_real_table_fixes_the_date_once(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    rows, bad = status_table.read_table(STATUS_CSV)
    assert bad == []
    deposits = table(rows)
    assert len(deposits) == 74
    queue = f"q-{uuid.uuid4().hex}"
    async with build_worker(env.client, store, queue):
        report = await run_import(env, queue, rows)
        assert len(report.changed) == 79
        treaty, _ = await record(store, [])
        fixed = of_type(treaty, "TreatyEntryIntoForceFixed")
        assert [(e.data["in_force_on"], e.data["threshold_deposited_on"]) for e in fixed] == [
            ("2011-01-01", "2010-07-28")
        ]
        assert fixed[0].occurred_on == date(2010, 7, 28)
        counted = of_type(treaty, "DepositCounted")
        assert {e.data["state"]: e.occurred_on for e in counted} == deposits
        # counted in date order (then ISO3), all in one append caused by one Update
        assert [e.data["count"] for e in counted] == list(range(1, 75))
        assert [(e.occurred_on, e.data["state"]) for e in counted] == sorted(
            (d, s) for s, d in deposits.items()
        )
        assert len({e.metadata["causation_id"] for e in counted}) == 1
        assert counted[0].metadata["causation_id"].startswith("update:count_deposits:")
        # no process registered or reported its deposit by a signal of its own
        history = await env.client.get_workflow_handle("treaty:CCM").fetch_history()
        signals = [
            e.workflow_execution_signaled_event_attributes.signal_name
            for e in history.events
            if e.HasField("workflow_execution_signaled_event_attributes")
        ]
        assert signals == []
        # each row (signature and deposit) recorded in one append
        _, streams = await record(store, ["BGR"])
        first = streams["BGR"][:2]
        assert [e.event_type for e in first] == ["SignatureRecorded", "InstrumentDeposited"]
        assert first[0].metadata["causation_id"] == first[1].metadata["causation_id"]
        expected = expected_eif(deposits, date(2010, 7, 28), date(2011, 1, 1))
        # by hand: Burkina Faso (16 Feb 2010) and Comoros (28 Jul 2010, the 30th) from the
        # CCM's own date; Chile (16 Dec 2010) and Bulgaria (6 Apr 2011) by Art. 17(2)
        assert (expected["BFA"], expected["COM"]) == (date(2011, 1, 1), date(2011, 1, 1))
        assert (expected["CHL"], expected["BGR"]) == (date(2011, 6, 1), date(2011, 10, 1))
        await check_states(env, store, expected)

        # idempotent: a second import changes nothing
        before = await record(store, sorted(deposits))
        again = await service.import_rows(env.client, "CCM", rows, META, queue)
        assert (again.changed, len(again.unchanged), again.events) == ([], 79, 0)
        await asyncio.sleep(1)
        assert await record(store, sorted(deposits)) == before


async def test_import_after_the_statement_notes_the_discrepancy_once(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    rows, _ = status_table.read_table(STATUS_CSV)
    deposits = table(rows)
    queue = f"q-{uuid.uuid4().hex}"
    async with build_worker(env.client, store, queue):
        await service.record_statement(env.client, "CCM", STATEMENT, META, queue)
        await run_import(env, queue, rows)
        treaty, _ = await record(store, [])
        fixed = of_type(treaty, "TreatyEntryIntoForceFixed")
        assert [(e.data["in_force_on"], e.data["basis"]) for e in fixed] == [
            ("2010-08-01", "depositary")
        ]
        # the record (30th by date: Comoros, 28 Jul 2010) gives 1 Jan 2011: noted once, on
        # the day of the deposit reaching the threshold, with the 27 of those first 30
        # deposited by 16 Feb 2010 (in time for 1 Aug 2010)
        noted = of_type(treaty, "EntryIntoForceDiscrepancyNoted")
        assert [
            (e.occurred_on, e.data["computed_on"], e.data["deposits_in_time"]) for e in noted
        ] == [(date(2010, 7, 28), "2011-01-01", 27)]
        assert of_type(treaty, "EntryIntoForceDiscrepancyResolved") == []
        expected = expected_eif(deposits, date(2010, 2, 16), date(2010, 8, 1))
        # the dates of tests/e2e/test_e2e.py's EXPECTED_EIF (the demo's complete record): with
        # the depositary's statement on record, a State's date follows from its own deposit
        # and the statement's 30th instrument, not from this table's gaps
        assert (expected["BFA"], expected["MDA"]) == (date(2010, 8, 1), date(2010, 8, 1))
        assert (expected["COM"], expected["LTU"]) == (date(2011, 1, 1), date(2011, 9, 1))
        await check_states(env, store, expected)


async def test_earlier_deposits_imported_after_later_ones_still_give_the_right_date(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    rows, _ = status_table.read_table(STATUS_CSV)
    deposits = table(rows)
    late = [row for row in rows if row.deposited_on and row.deposited_on > date(2011, 1, 1)]
    # 38 deposits from 2011: alone they reach the threshold and fix a later date, which the
    # earlier deposits of the whole table then correct
    assert len(late) == 38
    queue = f"q-{uuid.uuid4().hex}"
    async with build_worker(env.client, store, queue):
        await run_import(env, queue, late)
        await run_import(env, queue, rows)  # then the whole table, earlier deposits too
        treaty, _ = await record(store, [])
        fixed = of_type(treaty, "TreatyEntryIntoForceFixed")
        assert len(fixed) >= 2 and fixed[0].data["in_force_on"] > "2011-01-01"
        last = fixed[-1].data
        assert (last["in_force_on"], last["threshold_deposited_on"]) == (
            "2011-01-01",
            "2010-07-28",
        )
        view = await service.treaty_view(env.client, "CCM")
        assert view is not None and view.state.deposits == deposits
        await check_dates(env, expected_eif(deposits, date(2010, 7, 28), date(2011, 1, 1)))


async def test_processes_neither_registered_nor_counted_are_completed_by_an_import(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    """Processes that hold their deposits but are neither registered with the treaty
    process nor counted by it (e.g. recorded by an older import, or by ``start_with``
    alone). Importing the table registers and counts them: the record ends as after one
    whole import (CCM Art. 17(1): 1 Jan 2011 from Comoros)."""
    rows, _ = status_table.read_table(STATUS_CSV)
    deposits = table(rows)
    queue = f"q-{uuid.uuid4().hex}"
    async with build_worker(env.client, store, queue):
        context = await service.treaty_context(env.client, "CCM", queue)
        for row in rows:  # the first step alone, as import_rows sends it
            commands = importer.plan(row, r.initial_state("CCM", row.state)).commands
            await service.start_with(env.client, "CCM", row.state, commands, META, queue, context)
        view = await service.treaty_view(env.client, "CCM")
        assert view is not None and (view.state.deposits, view.registered) == ({}, [])
        again = await run_import(env, queue, rows)
        assert (again.changed, len(again.unchanged), again.events) == ([], 79, 0)
        view = await service.treaty_view(env.client, "CCM")
        assert view is not None and view.state.deposits == deposits
        assert len(view.registered) == 79
        await check_states(env, store, expected_eif(deposits, date(2010, 7, 28), date(2011, 1, 1)))


async def test_an_import_stopped_after_the_count_is_completed_by_the_next(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    """The CLI stopped after the treaty process counted the table but before any row
    reached its process: importing the table again starts every process, knowing the
    date the count fixed (1 Jan 2011), and counts nothing twice."""
    rows, _ = status_table.read_table(STATUS_CSV)
    deposits = table(rows)
    queue = f"q-{uuid.uuid4().hex}"
    async with build_worker(env.client, store, queue):
        await service.count_deposits(env.client, "CCM", list(deposits.items()), META, queue)
        # the audit says the record is incomplete: 74 counts no State's stream records
        audit = await verify.verify(store, None, ["treaty-CCM"])
        found = [d for d in audit.discrepancies if d.check == "deposits"]
        assert len(found) == 74 and not audit.ok
        bgr = [d.detail for d in found if "BGR" in d.detail]
        assert bgr == [
            "counts BGR's deposit of 2011-04-06, which ratification-CCM-BGR does not record "
            "(an import stopped after the count? import the table again)"
        ]
        report = await run_import(env, queue, rows)
        assert len(report.changed) == 79
        audit = await verify.verify(store, None, ["treaty-CCM"])
        assert audit.ok and audit.streams[0].notes == []
        treaty, _ = await record(store, [])
        assert len(of_type(treaty, "DepositCounted")) == 74
        assert len(of_type(treaty, "TreatyEntryIntoForceFixed")) == 1
        view = await service.treaty_view(env.client, "CCM")
        assert view is not None and len(view.registered) == 79
        await check_states(env, store, expected_eif(deposits, date(2010, 7, 28), date(2011, 1, 1)))


async def test_an_accession_after_the_date_the_same_import_fixes_is_accepted(
    env: WorkflowEnvironment, store: EventStore, tmp_path: Path
) -> None:
    """The ATT is open for accession only after its entry into force (ATT Art. 21(3));
    a table whose 50th instrument fixes that date (ATT Art. 22(1): the ninetieth day after
    the 50th deposit) and that also holds a later accession is accepted in one import:
    the accession is checked against the date the table's own deposits fix, not against
    the treaty's state before the import. Dates: 50 ratifications from 2 Apr 2014, the
    50th on 21 May 2014, so in force 19 Aug 2014; an accession on 1 Jan 2016 is in force
    for its State on 31 Mar 2016 (ATT Art. 22(2): the ninetieth day after)."""
    from domain.states import all_states

    codes = sorted(p.code for p in all_states() if p.code != "AGO")[:50]
    lines = ["state,signature_date,instrument,deposit_date,source"]
    for i, code in enumerate(codes):
        deposited = date(2014, 4, 2) + timedelta(days=i)
        lines.append(f"{code},2013-06-03,ratification,{deposited.isoformat()},test")
    lines.append("AGO,,accession,2016-01-01,test")
    path = tmp_path / "att.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows, bad = status_table.read_table(path)
    assert bad == [] and len(rows) == 51
    queue = f"q-{uuid.uuid4().hex}"
    async with build_worker(env.client, store, queue):
        report = await service.import_rows(env.client, "ATT", rows, META, queue)
        assert report.refused == [] and len(report.changed) == 51
        assert await service.wait_settled(env.client, "ATT", [r.state for r in rows])
        treaty = await service.treaty_view(env.client, "ATT")
        assert treaty is not None and treaty.state.in_force_on == date(2014, 8, 19)
        ago = await service.ratification_view(env.client, "ATT", "AGO")
        assert ago is not None and ago.state.in_force_on == date(2016, 3, 31)
        last = await service.ratification_view(env.client, "ATT", codes[-1])
        assert last is not None and last.state.in_force_on == date(2014, 8, 19)


async def test_two_overlapping_imports_at_once_refuse_nothing(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    """Two imports of overlapping tables at the same time (the whole table, and its rows
    from 2011): a row whose process the other import started or advanced after this one
    planned it is planned again on what is recorded, not refused for what the record
    already says. Before the fix, rows were refused ("already signed", "already
    deposited") though the record agreed with them."""
    rows, _ = status_table.read_table(STATUS_CSV)
    deposits = table(rows)
    late = [row for row in rows if row.deposited_on and row.deposited_on > date(2011, 1, 1)]
    queue = f"q-{uuid.uuid4().hex}"
    async with build_worker(env.client, store, queue):
        whole, part = await asyncio.gather(
            service.import_rows(env.client, "CCM", rows, META, queue),
            service.import_rows(env.client, "CCM", late, META, queue),
        )
        assert (whole.refused, part.refused) == ([], [])
        assert len(whole.changed) + len(whole.unchanged) == 79
        assert await service.wait_settled(env.client, "CCM", [r.state for r in rows])
        treaty, _ = await record(store, [])
        assert len(of_type(treaty, "DepositCounted")) == 74
        view = await service.treaty_view(env.client, "CCM")
        assert view is not None and len(view.registered) == 79
        # if the later rows were counted first, they fixed a later date for a while (as
        # when imported first, above): each State's date ends by CCM Art. 17
        await check_dates(env, expected_eif(deposits, date(2010, 7, 28), date(2011, 1, 1)))


async def test_a_deposit_otherwise_dated_than_the_count_is_refused(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    """An import stopped after the count left Bulgaria's deposit counted (6 Apr 2011, the
    table's date) but not recorded in its process. A deposit of another date, by hand, is
    refused (a State deposits one instrument, and the treaty's date may rest on the count);
    the counted date is accepted."""
    queue = f"q-{uuid.uuid4().hex}"
    async with build_worker(env.client, store, queue):
        await service.count_deposits(env.client, "CCM", [("BGR", date(2011, 4, 6))], META, queue)
        sign = r.Sign(signed_on=date(2008, 12, 3))
        wrong = r.Deposit(instrument="ratification", deposited_on=date(2011, 5, 5))
        with pytest.raises(service.Refused, match="counted BGR's deposit on 2011-04-06"):
            await service.prepare_ratification(env.client, "CCM", "BGR", [sign, wrong], queue)
        # a scenario file with that deposit is refused whole: its signature is not recorded
        steps = scenario_file.parse(
            "facts:\n"
            "  - ratification: Bulgaria\n    do: sign\n    signed_on: 2008-12-03\n"
            "  - ratification: Bulgaria\n    do: deposit\n    instrument: ratification\n"
            "    deposited_on: 2011-05-05\n"
        )
        with pytest.raises(service.Refused, match="nothing recorded from the file: line 5: "):
            await process_ops.run_scenario(env.client, steps, META, queue)
        assert await service.ratification_view(env.client, "CCM", "BGR") is None
        right = r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6))
        handle = await service.prepare_ratification(env.client, "CCM", "BGR", [sign, right], queue)
        await service.send(handle, sign, META)
        await service.send(handle, right, META)
        view = await service.ratification_view(env.client, "CCM", "BGR")
        assert view is not None and view.state.consented_on == date(2011, 4, 6)


class _ServerWithoutUpdateWithStart(Interceptor):
    """Answers update-with-start as a server without it does (Temporal before 1.26, or
    ``frontend.enableExecuteMultiOperation`` off): UNIMPLEMENTED. Every other call goes
    to the real server."""

    refused = 0

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        outer = self

        class Outbound(OutboundInterceptor):
            async def start_update_with_start_workflow(self, input):  # noqa: ANN001, ANN202
                outer.refused += 1
                raise RPCError(
                    "ExecuteMultiOperation is not supported", RPCStatusCode.UNIMPLEMENTED, b""
                )

        return Outbound(next)


async def test_a_server_without_update_with_start_gets_a_start_then_the_signature(
    env: WorkflowEnvironment, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands.Commands, "with_start", True)
    old = _ServerWithoutUpdateWithStart()
    client = Client(**{**env.client.config(), "interceptors": [old]})
    rows, _ = status_table.read_table(STATUS_CSV)
    # Bulgaria (signed 3 Dec 2008, ratified 6 Apr 2011) and Angola (signatory only)
    some = [row for row in rows if row.state in ("BGR", "AGO")]
    queue = f"q-{uuid.uuid4().hex}"
    async with build_worker(env.client, store, queue):
        report = await service.import_rows(client, "CCM", some, META, queue)
        assert report.refused == [] and sorted(report.changed) == ["Angola", "Bulgaria"]
        assert 1 <= old.refused <= 2  # asked until the first refusal is known
        bgr = await store.read_stream("ratification-CCM-BGR")
        assert [e.event_type for e in bgr[:2]] == ["SignatureRecorded", "InstrumentDeposited"]
        ago = await service.ratification_view(env.client, "CCM", "AGO")
        assert ago is not None and ago.state.signed_on == date(2008, 12, 3)


async def test_processes_registering_while_the_treaty_tells_the_others_are_all_kept(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    """The treaty process tells every registered process when its context changes; a
    process that registers while those signals are under way (a concurrent import's new
    processes) must neither fail the treaty's workflow task nor be lost. Before the fix,
    ``_tell`` zipped the live list with the results of the signals sent to its earlier
    members, and the task failed for good (``zip() argument 2 is shorter``)."""
    from workflows.messages import DepositNotice
    from workflows.treaty import TreatyWorkflow

    rows, _ = status_table.read_table(STATUS_CSV)
    first = sorted((row.deposited_on, row.state) for row in rows if row.deposited_on)[:30]
    queue = f"q-{uuid.uuid4().hex}"
    async with build_worker(env.client, store, queue):
        handle = await service.ensure_treaty(env.client, "CCM", queue)
        for deposited_on, state in first:  # processes that do not run: told in vain
            await handle.signal(
                TreatyWorkflow.deposit_recorded,
                DepositNotice(
                    state=state,
                    deposited_on=deposited_on,
                    workflow_id=f"ratification:CCM:{state}",
                    meta=META,
                ),
            )
        assert len(await counted_deposits(env.client, 30)) == 30
        # the statement changes the context (basis "depositary"): all 30 are told again,
        # while new processes keep registering
        told = asyncio.create_task(
            service.record_statement(env.client, "CCM", STATEMENT, META, queue)
        )
        registered: list[str] = []
        while not told.done() and len(registered) < 300:
            registered.append(f"ratification:CCM:Z{len(registered):03d}")
            await handle.signal(TreatyWorkflow.register, registered[-1])
            await asyncio.sleep(0.005)
        await asyncio.wait_for(told, 30)
        view = await service.treaty_view(env.client, "CCM")
        assert view is not None and view.state.in_force_on == date(2010, 8, 1)
        assert set(registered) <= set(view.registered)
        history = await handle.fetch_history()
        failed = [e for e in history.events if e.HasField("workflow_task_failed_event_attributes")]
        assert failed == []
