"""Reporting cycles on the time-skipping test server, with a real PostgreSQL event store.

A whole cycle from 1 January to its close (31 December) for four States Parties: the
reminders of the default policy at the right dates (60 and 14 days before 30 April, the
day after, then every 30 days until the close), none once a State submitted; the figures
the cycle records equal what its children recorded; each reminder is in the outbox, in
the same transaction as its event, and delivered once (here as .eml files).
"""

from __future__ import annotations

import asyncio
import email
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.outbox import Contact, add_contact, list_outbox
from activities.reporting import read_report
from domain import reporting as rp
from eventstore.store import EventStore
from tests.support import META, eventually
from worker import build_worker
from workflows.reporting import (
    CycleInput,
    ReportingCycleWorkflow,
    StateReportWorkflow,
    SubmitRequest,
)

EIF = date(2010, 8, 1)


async def _started(handle: WorkflowHandle, ready: Callable[[Any], bool]) -> Any:
    """The cycle's view once ``ready(view)`` (its children started), 60 s at most."""

    async def check() -> Any:
        view = await handle.query(ReportingCycleWorkflow.view)
        return view if ready(view) else None

    return await eventually(check, 60, "the cycle's reports did not all start", interval=0.05)


async def _skip_to(env: WorkflowEnvironment, day: date) -> date:
    now = await env.get_current_time()
    target = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    if target > now:
        await env.sleep(target - now)
    return (await env.get_current_time()).date()


async def _submit(env: WorkflowEnvironment, treaty: str, year: int, state: str) -> date:
    today = (await env.get_current_time()).date()
    handle = env.client.get_workflow_handle(rp.report_workflow_id(treaty, year, state))
    await handle.execute_update(
        StateReportWorkflow.submit,
        SubmitRequest(command=rp.Submit(submission=rp.Submission(received_on=today)), meta=META),
    )
    return today


async def test_a_whole_cycle_reminders_figures_outbox(
    env: WorkflowEnvironment, store: EventStore, tmp_path: Path
) -> None:
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    for code in ("AUT", "BEL", "DEU", "FRA"):
        await add_contact(
            store, Contact(treaty="CCM", state=code, email=f"art7@{code}.example.org")
        )
    async with build_worker(client, store, queue, home=tmp_path, smtp=None):
        now = await env.get_current_time()
        year = now.year + 1
        await _skip_to(env, date(year, 1, 1))
        parties = [rp.Party(state=c, in_force_on=EIF) for c in ("AUT", "BEL", "DEU", "FRA")]
        # Ecuador-like: in force 1 Nov of the year before, initial report due 30 April:
        # not asked for the annual report too (CCM Art. 7(1)-(2))
        parties.append(rp.Party(state="ECU", in_force_on=date(year - 1, 11, 1)))
        handle = await client.start_workflow(
            ReportingCycleWorkflow.run,
            CycleInput(treaty="CCM", year=year, parties=parties, meta=META),
            id=rp.cycle_workflow_id("CCM", year),
            task_queue=queue,
        )
        view = await _started(handle, lambda v: v.started == 4)
        assert list(view.state.states) == ["AUT", "BEL", "DEU", "FRA"]
        assert "ECU" in view.state.not_due

        await _skip_to(env, date(year, 3, 15))
        assert await _submit(env, "CCM", year, "AUT") == date(year, 3, 15)
        await _skip_to(env, date(year, 4, 20))
        await _submit(env, "CCM", year, "FRA")
        await _skip_to(env, date(year, 5, 15))
        await _submit(env, "CCM", year, "BEL")
        # a second submission while one stands is refused, nothing recorded
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await _submit(env, "CCM", year, "BEL")
        assert "already received" in str(refused.value.cause)
        figures = await handle.result()  # skips time to the close, 31 December

    reports = {c: await read_report(store, "CCM", year, c) for c in ("AUT", "BEL", "DEU", "FRA")}
    assert rp.figures(list(reports.values())) == figures
    assert (figures.due, figures.on_time, figures.late, figures.missing) == (4, 2, 1, 1)
    assert figures.per_state["BEL"].outcome == "late"
    assert figures.per_state["DEU"].outcome == "missing"

    def reminder_dates(code: str) -> list[date]:
        events = [e for e in (store_events[code]) if e.event_type == "ReminderSent"]
        return [e.occurred_on for e in events]

    store_events = {c: await store.read_stream(f"reporting-CCM-{year}-{c}") for c in reports}
    d = lambda m, day: date(year, m, day)  # noqa: E731
    assert reminder_dates("AUT") == [d(3, 1)]  # submitted 15 March
    assert reminder_dates("FRA") == [d(3, 1), d(4, 16)]  # submitted 20 April
    assert reminder_dates("BEL") == [d(3, 1), d(4, 16), d(5, 1)]  # submitted 15 May, late
    overdue = [d(5, 1) + timedelta(days=30 * i) for i in range(9)]  # 1 May ... 27 Dec
    assert overdue[-1] == d(12, 27)
    assert reminder_dates("DEU") == [d(3, 1), d(4, 16), *overdue]
    assert await store.read_stream(f"reporting-CCM-{year}-ECU") == []

    # each reminder has its outbox row (key = the event id), delivered once as .eml
    rows = await list_outbox(store, f"reporting-CCM-{year}-")
    reminder_ids = sorted(
        str(e.event_id)
        for evs in store_events.values()
        for e in evs
        if e.event_type == "ReminderSent"
    )
    assert sorted(r.key for r in rows) == reminder_ids and len(rows) == 1 + 2 + 3 + 11
    assert all(r.delivered_via == "eml" and r.attempts == 1 for r in rows)
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == len(rows)
    deu = [
        email.message_from_bytes(f.read_bytes())
        for f in files
        if "DEU" in email.message_from_bytes(f.read_bytes())["To"].upper()
    ]
    assert len(deu) == 11
    subjects = sorted(m["Subject"] for m in deu)
    assert (
        subjects.count(f"CCM: your {year} annual transparency report is due on {year}-04-30") == 2
    )
    assert all("Germany" in m.get_payload() for m in deu)


async def test_refused_commands_change_nothing(
    env: WorkflowEnvironment, store: EventStore, tmp_path: Path
) -> None:
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    async with build_worker(client, store, queue, home=tmp_path, smtp=None):
        year = (await env.get_current_time()).year
        handle = await client.start_workflow(
            ReportingCycleWorkflow.run,
            CycleInput(
                treaty="CCM",
                year=year,
                parties=[rp.Party(state="NOR", in_force_on=EIF)],
                policy=rp.ReminderPolicy(before_days=()),
                meta=META,
            ),
            id=f"{rp.cycle_workflow_id('CCM', year)}-refusals-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
        )
        await _started(handle, lambda v: v.started == 1)
        child = client.get_workflow_handle(rp.report_workflow_id("CCM", year, "NOR"))
        try:
            # no timer may fire while the refusals are compared (the report's next reminder
            # is 30 days away), and the report's first appends are waited for
            with env.auto_time_skipping_disabled():
                await _settled(store, f"reporting-CCM-{year}-NOR")
                await _refusals(env, store, child, year)
        finally:
            await handle.terminate()
            await child.terminate()


async def _settled(store: EventStore, stream: str) -> None:
    """Wait until ``stream`` has events and no new one for half a second (10 s at most)."""
    seen = -1

    async def settled() -> bool:
        nonlocal seen
        events = await store.read_stream(stream)
        done = bool(events) and len(events) == seen
        seen = len(events)
        return done

    await eventually(settled, 10, f"{stream} did not settle", interval=0.5)


async def _refusals(
    env: WorkflowEnvironment, store: EventStore, child: WorkflowHandle, year: int
) -> None:
    """A review of a report not received, a submission dated in the future: refused with
    the reason, the stream unchanged."""
    from workflows.reporting import ReviewRequest

    before = await store.read_stream(f"reporting-CCM-{year}-NOR")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await child.execute_update(
            StateReportWorkflow.review,
            ReviewRequest(command=rp.Review(action="accept", on=date(year, 1, 1))),
        )
    assert "has not been received: there is nothing to review" in str(refused.value.cause)
    future = (await env.get_current_time()).date() + timedelta(days=3)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await child.execute_update(
            StateReportWorkflow.submit,
            SubmitRequest(command=rp.Submit(submission=rp.Submission(received_on=future))),
        )
    assert "is in the future" in str(refused.value.cause)
    assert await store.read_stream(f"reporting-CCM-{year}-NOR") == before


class _Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content  # type: ignore[attr-defined]
        self.messages.append(
            (list(envelope.rcpt_tos), email.message_from_bytes(content))  # type: ignore[attr-defined]
        )
        return "250 OK"


async def test_smtp_delivery_retries_while_the_server_is_down_then_delivers_each_once(
    env: WorkflowEnvironment, store: EventStore, tmp_path: Path
) -> None:

    from aiosmtpd.controller import Controller

    from activities.outbox import OutboxActivities, SmtpSettings
    from tests.e2e import free_port

    port = free_port()  # nothing listens there yet: the SMTP server is "down"
    smtp = SmtpSettings(
        host="127.0.0.1", port=port, username=None, password=None,
        sender="isu@ccm.example.org", starttls=False,
    )  # fmt: skip
    states = ("NOR", "NZL")
    for code in states:
        await add_contact(store, Contact(treaty="CCM", state=code, email=f"fp@{code}.example.org"))
    queue = f"q-{uuid.uuid4().hex}"
    inbox = _Inbox()
    controller: Controller | None = None
    try:
        async with build_worker(env.client, store, queue, home=tmp_path, smtp=smtp):
            now = (await env.get_current_time()).date()
            year = now.year if now < date(now.year, 5, 10) else now.year + 1
            # opened on 10 May: the reminders of 1 March, 16 April and 1 May are past; one
            # overdue notice goes out at once to each State
            await _skip_to(env, date(year, 5, 10))
            cycle_id = rp.cycle_workflow_id("CCM", year)
            handle = await env.client.start_workflow(
                ReportingCycleWorkflow.run,
                CycleInput(
                    treaty="CCM",
                    year=year,
                    parties=[rp.Party(state=c, in_force_on=EIF) for c in states],
                    meta=META,
                ),
                id=cycle_id,
                task_queue=queue,
            )
            prefix = f"reporting-CCM-{year}-"
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while True:  # the delivery fails and is retried (attempts counted)
                rows = await list_outbox(store, prefix)
                if len(rows) == 2 and all(r.attempts >= 2 for r in rows):
                    break
                assert loop.time() < deadline, rows
                await asyncio.sleep(0.5)
            assert all(r.delivered_at is None and r.last_error for r in rows)
            assert inbox.messages == []

            controller = Controller(inbox, hostname="127.0.0.1", port=port)
            controller.start()  # the server is back
            deadline = loop.time() + 120
            while not all(r.delivered_at for r in await list_outbox(store, prefix)):
                assert loop.time() < deadline
                await asyncio.sleep(0.5)
            await asyncio.sleep(2)  # time for a duplicate to show up, if one were sent

            # each reminder arrived exactly once, to the State's focal point
            rows = await list_outbox(store, prefix)
            assert len(inbox.messages) == len(rows) == 2
            by_key = {m["X-Treatyflow-Key"]: (to, m) for to, m in inbox.messages}
            assert sorted(by_key) == sorted(r.key for r in rows)
            for r in rows:
                to, msg = by_key[r.key]
                assert to == [f"fp@{r.state}.example.org"]
                assert msg["From"] == "isu@ccm.example.org"
                assert msg["Subject"] == (
                    f"CCM: your {year} annual transparency report is overdue (due {year}-04-30)"
                )
                assert r.delivered_via == "smtp" and r.attempts >= 3
            # delivering a key again sends nothing
            again = await OutboxActivities(store, tmp_path, smtp).deliver(rows[0].key)
            assert again.status == "already_delivered"
            assert len(inbox.messages) == 2
            await handle.terminate()
            for code in states:
                await env.client.get_workflow_handle(
                    rp.report_workflow_id("CCM", year, code)
                ).terminate()
    finally:
        if controller is not None:
            controller.stop()


async def _record_ccm_status(store: EventStore, today: date) -> None:
    """The real CCM status table as ratification processes in the store: each row's
    deposit decided by the domain with the treaty in force on 1 Aug 2010 (depositary)."""
    import csv

    from domain import ids
    from domain import ratification as r
    from domain.events import event_data
    from domain.states import resolve_state
    from domain.treaties import CCM
    from eventstore.store import NewEvent
    from tests.e2e import STATUS_CSV

    context = r.TreatyContext(
        in_force_on=EIF, threshold_deposited_on=date(2010, 2, 16), basis="depositary"
    )
    with STATUS_CSV.open(encoding="utf-8") as f:
        rows = [row for row in csv.DictReader(f) if row["deposit_date"]]
    for row in rows:
        code = resolve_state(row["state"]).code
        wid = ids.ratification_workflow_id("CCM", code)
        s = r.initial_state("CCM", code)
        events = []
        if row["signature_date"] or row["instrument"] != "accession":
            signed = row["signature_date"]  # a ratification without a date: date unknown
            sign = r.Sign(signed_on=date.fromisoformat(signed) if signed else None)
            events = r.decide(s, sign, CCM, context, today)
            s = r.fold(s, events)
        deposit = r.Deposit(
            instrument=row["instrument"], deposited_on=date.fromisoformat(row["deposit_date"])
        )
        events += r.decide(s, deposit, CCM, context, today)
        await store.append(
            ids.stream_id(wid),
            0,
            [
                NewEvent(
                    event_id=ids.event_id(wid, i + 1),
                    event_type=e.type,  # type: ignore[attr-defined]
                    data=event_data(e),
                    metadata={"actor": "test", "source": row["source"]},
                    occurred_on=e.occurred_on,
                )
                for i, e in enumerate(events)
            ],
        )


async def test_2011_cycle_from_the_real_status_table_and_its_figures(
    env: WorkflowEnvironment, store: EventStore, tmp_path: Path
) -> None:
    """Who owes the 2011 report comes from the record (CCM Art. 7(1)-(2) and the EIF
    dates; derivation in tests/unit/test_domain_reporting.py: the 27 States that deposited by
    16 Feb 2010). The submissions below are recorded by the test; the figures the cycle
    records at its close are counted from them."""
    from tests.unit.test_domain_reporting import OWE_2011
    from workflows.reporting import CloseRequest

    today = (await env.get_current_time()).date()
    await _record_ccm_status(store, today)
    queue = f"q-{uuid.uuid4().hex}"
    client = env.client
    async with build_worker(client, store, queue, home=tmp_path, smtp=None):
        handle = await client.start_workflow(
            ReportingCycleWorkflow.run,
            CycleInput(treaty="CCM", year=2011, meta=META),  # parties read from the record
            id=rp.cycle_workflow_id("CCM", 2011),
            task_queue=queue,
        )
        view = await _started(handle, lambda v: v.state.opened and v.started == len(v.state.states))
        assert list(view.state.states) == OWE_2011
        assert view.state.historical  # closed 31 Dec 2011, before it was opened: no reminders
        assert "ECU" in view.state.not_due and "FJI" in view.state.not_due
        late = {"FRA": date(2011, 5, 2), "JPN": date(2011, 6, 30), "ZMB": date(2011, 9, 1)}
        missing = {"BDI", "NER", "SLE", "MWI"}
        for code in OWE_2011:
            if code in missing:
                continue
            received = late.get(code, date(2011, 4, 29))
            child = client.get_workflow_handle(rp.report_workflow_id("CCM", 2011, code))
            await child.execute_update(
                StateReportWorkflow.submit,
                SubmitRequest(
                    command=rp.Submit(submission=rp.Submission(received_on=received)), meta=META
                ),
            )
        figures = await handle.execute_update(ReportingCycleWorkflow.close, CloseRequest(meta=META))
        await handle.result()
    assert (figures.due, figures.on_time, figures.late, figures.missing) == (27, 20, 3, 4)
    assert {k for k, v in figures.per_state.items() if v.outcome == "late"} == set(late)
    assert {k for k, v in figures.per_state.items() if v.outcome == "missing"} == missing
    assert figures.per_state["JPN"].received_on == date(2011, 6, 30)
    # no reminder for a historical cycle, none in the outbox
    assert await list_outbox(store, "reporting-CCM-2011-") == []
    from activities.reporting import read_cycle

    cycle = await read_cycle(store, "CCM", 2011)
    assert cycle.closed and cycle.figures == figures


async def test_a_cycle_of_120_states_keeps_a_small_history(
    env: WorkflowEnvironment, store: EventStore, tmp_path: Path
) -> None:
    """120 States Parties: the cycle opens (120 children started in batches, never
    awaited), runs and closes with figures read from the children's record; its own
    history stays a few events per State, far from Temporal's limits (50,000 events)."""
    import pycountry

    from workflows.reporting import CloseRequest

    codes = sorted(c.alpha_3 for c in pycountry.countries)[:120]
    queue = f"q-{uuid.uuid4().hex}"
    async with build_worker(env.client, store, queue, home=tmp_path, smtp=None):
        year = 2012  # historical: no reminders, closed by staff
        handle = await env.client.start_workflow(
            ReportingCycleWorkflow.run,
            CycleInput(
                treaty="CCM",
                year=year,
                parties=[rp.Party(state=c, in_force_on=EIF) for c in codes],
                meta=META,
            ),
            id=rp.cycle_workflow_id("CCM", year),
            task_queue=queue,
        )
        await _started(handle, lambda v: v.state.opened and v.started == 120)
        child = env.client.get_workflow_handle(rp.report_workflow_id("CCM", year, codes[0]))
        await child.execute_update(
            StateReportWorkflow.submit,
            SubmitRequest(
                command=rp.Submit(submission=rp.Submission(received_on=date(2012, 4, 2))),
                meta=META,
            ),
        )
        figures = await handle.execute_update(ReportingCycleWorkflow.close, CloseRequest(meta=META))
        await handle.result()
        history = await handle.fetch_history()
    assert (figures.due, figures.on_time, figures.missing) == (120, 1, 119)
    events = len(history.events)
    # about 5 events per State (child start initiated + started, signal initiated +
    # signalled) and a few dozen of its own
    assert events < 120 * 6, events


def test_templates_staff_edit_take_precedence(tmp_path: Path) -> None:
    from activities.outbox import build_message

    params = {"treaty_code": "CCM", "year": 2011, "due_on": "2011-04-30", "state_name": "Norway"}
    msg = build_message("k1", "reminder_friendly", params, ["a@b.example.org"], "isu@x.org", None)
    assert msg["Subject"] == "CCM: your 2011 annual transparency report is due on 2011-04-30"
    assert msg["Message-ID"] == "<k1@treatyflow>"
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "reminder_friendly.txt").write_text(
        "Subject: Rapport $year ($state_name)\n\nBonjour $state_name.\n", encoding="utf-8"
    )
    msg = build_message(
        "k1", "reminder_friendly", params, ["a@b.example.org"], "isu@x.org", tmp_path
    )
    assert msg["Subject"] == "Rapport 2011 (Norway)"
    assert msg.get_content() == "Bonjour Norway.\n"


@pytest.mark.parametrize(
    "address",
    ["a@-.-", "a@b", "a@1.2.3.4", "a b@x.org", "Jo <a@x.org>", "a@x..org", "a@x-.org", "@x.org"],
)
def test_addresses_that_are_not_addresses_are_refused(address: str) -> None:
    from activities.outbox import ContactError, check_email

    with pytest.raises(ContactError, match="is not an e-mail address"):
        check_email(address)


async def test_contacts_are_one_per_address_whatever_its_case(store: EventStore) -> None:
    from activities.outbox import find_contact, list_contacts

    domain = f"mfa-{uuid.uuid4().hex[:8]}.example.org"
    first = Contact(treaty="CCM", state="BGR", email=f"x@{domain}", name="Focal Point")
    assert await add_contact(store, first)
    again = Contact(treaty="CCM", state="BGR", email=f"X@{domain.upper()}")
    assert not await add_contact(store, again)
    ours = [c for c in await list_contacts(store, "CCM", "BGR") if c.email.lower().endswith(domain)]
    assert [(c.email, c.name) for c in ours] == [(f"x@{domain}", "Focal Point")]
    stored = await find_contact(store, "CCM", "BGR", f"X@{domain.upper()}")
    assert stored is not None and (stored.email, stored.name) == (f"x@{domain}", "Focal Point")
