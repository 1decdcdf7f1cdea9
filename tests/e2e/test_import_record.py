"""End to end: the depositary's complete record of the CCM and the APMBC imported into the
embedded stack (Temporal dev server, PostgreSQL, the stack's worker), read back with the
`treaty` CLI.

The records are the depositary's own files: the UNTC status pages of the CCM and the APMBC
as at 3 Feb 2026 (``../shared/data/untc``), read by ``adapters.depositary.read_record`` and
imported through the application layer (``app.record_import.import_record``, what
``treaty import FILE`` runs); the tables taken from them (``*_status_2026.csv``) and the
ATT's MTDSG XML of 2018 through the `treaty` CLI itself.

Truth (the UNTC pages as at 3 Feb 2026; CCM Arts. 17, 20(3); APMBC Arts. 17, 20(3)): CCM
112 Parties, in force for 111 (Lithuania withdrew: received 6 Sep 2024, effective 6 Mar
2025; Vanuatu acceded 5 Sep 2025, bound from 1 Mar 2026), the Convention in force from 1
Aug 2010, the 30th instrument deposited 16 Feb 2010; APMBC 162 Parties (Estonia, Latvia
and Lithuania out from 27 Dec 2025, Finland from 10 Jan 2026, Poland's withdrawal of 20
Aug 2025 in effect only from 20 Feb 2026), Montenegro and South Sudan by succession,
"Signatories: 132. Parties: 162", in force from 1 March 1999.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from adapters.depositary import DepositaryRecord, read_record
from app import record_import
from app.import_report import ImportReport
from eventstore.store import EventStore
from tests import SHARED_DATA
from tests.e2e import Stack, embedded_stack, snapshot
from tests.status_rows import APMBC_2026, CCM_2026, POLAND_CONDITION
from tests.support import META

pytestmark = pytest.mark.e2e

TASK_QUEUE = "treatyflow"  # the stack's worker's (TREATYFLOW_TASK_QUEUE unset)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with embedded_stack() as s:
        yield s


@pytest.fixture(scope="module")
async def servers(stack: Stack) -> AsyncIterator[tuple[Client, EventStore]]:
    ps = stack.json("ps")
    client = await Client.connect(
        ps["temporal_address"], namespace="default", data_converter=pydantic_data_converter
    )
    store = await EventStore.connect(ps["database_url"])
    try:
        yield client, store
    finally:
        await store.close()


async def run_import(servers: tuple[Client, EventStore], record: DepositaryRecord) -> ImportReport:
    client, store = servers
    meta = META.model_copy(update={"source": record.path.name})
    return await record_import.import_record(client, store, record, None, meta, TASK_QUEUE)


UNTC = SHARED_DATA / "untc"
CCM_PAGE = UNTC / "XXVI-6.2026-02-03.html"
APMBC_PAGE = UNTC / "XXVI-5.2026-02-03.html"
ATT_XML = UNTC / "XXVI-8.en.2018.xml"


def apmbc_record() -> DepositaryRecord:
    return read_record(APMBC_PAGE)


@pytest.fixture(scope="module")
async def ccm(servers: tuple[Client, EventStore]) -> ImportReport:
    return await run_import(servers, read_record(CCM_PAGE))


@pytest.fixture(scope="module")
async def apmbc(servers: tuple[Client, EventStore]) -> ImportReport:
    return await run_import(servers, apmbc_record())


def events(stack: Stack, stream: str) -> list[dict[str, Any]]:
    return list(stack.json("events", stream))


def test_the_ccm_record_counts_as_the_depositary(stack: Stack, ccm: ImportReport) -> None:
    assert ccm.refused == [] and ccm.settled is True
    assert len(ccm.changed) == 125 and ccm.treaty == "CCM"
    [withdrawal] = ccm.withdrawals
    assert (withdrawal.state, withdrawal.received_on.isoformat()) == ("LTU", "2024-09-06")
    assert withdrawal.takes_effect_on.isoformat() == "2025-03-06"
    assert withdrawal.disagreement is None and withdrawal.recorded
    parties = stack.json("parties", "--as-of", "2026-02-03")
    assert (parties["consented"], parties["in_force"]) == (112, 111)
    assert "LTU" not in parties["consented_states"]
    assert "VUT" in parties["consented_states"] and "VUT" not in parties["in_force_states"]
    # CCM Art. 17(1): the 30th instrument on 16 Feb 2010, in force 1 Aug 2010, as the
    # depositary's statement on the page says: counted from the record, no discrepancy
    treaty = events(stack, "treaty-CCM")
    [thirtieth] = [
        e for e in treaty if e["event_type"] == "DepositCounted" and e["data"]["count"] == 30
    ]
    assert thirtieth["occurred_on"] == "2010-02-16"
    [fixed] = [e for e in treaty if e["event_type"] == "TreatyEntryIntoForceFixed"]
    assert fixed["data"]["in_force_on"] == "2010-08-01"
    assert not [e for e in treaty if e["event_type"] == "EntryIntoForceDiscrepancyNoted"]
    # Lithuania's row in one append: signature, deposit with its provisional application,
    # entry into force, obligations, withdrawal and its effect, the end notes
    ltu = events(stack, "ratification-CCM-LTU")
    kinds = [e["event_type"] for e in ltu]
    assert kinds[:4] == [
        "SignatureRecorded",
        "InstrumentDeposited",
        "EntryIntoForceFixed",
        "EnteredIntoForce",
    ]
    taken = kinds.index("WithdrawalDeposited")
    assert kinds[taken : taken + 2] == ["WithdrawalDeposited", "WithdrawalTookEffect"]
    assert kinds[-1] == "DepositaryNoteRecorded"  # the end note giving its dates
    assert len({e["metadata"]["causation_id"] for e in ltu}) == 1
    assert ltu[1]["data"]["provisional_application_on"] == "2011-03-24"
    assert ltu[taken + 1]["occurred_on"] == "2025-03-06"
    [status] = stack.json("status", "LTU")
    assert (status["signed_on"], status["withdrawn_on"], status["status"]) == (
        "2008-12-03",
        "2025-03-06",
        "withdrawn",
    )
    # the state folded from the store is the one the workflow holds
    verify = stack.treaty("audit", "verify", "ratification-CCM-LTU")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_the_apmbc_record_with_its_header(stack: Stack, apmbc: ImportReport) -> None:
    assert apmbc.refused == [] and apmbc.treaty == "APMBC" and apmbc.settled is True
    header = apmbc.header
    assert header is not None and header.statement_outcome == "recorded"
    assert [(c.count, c.stated, c.recorded) for c in header.counts] == [
        ("Signatories", 132, 132),
        ("Parties", 162, 162),
    ]
    assert apmbc.succession_date_unknown == ["Montenegro", "South Sudan"]
    on = {w.state: w.takes_effect_on.isoformat() for w in apmbc.withdrawals}
    assert on == {
        "EST": "2025-12-27",
        "FIN": "2026-01-10",
        "LVA": "2025-12-27",
        "LTU": "2025-12-27",
        "POL": "2026-02-20",
    }
    parties = stack.json("parties", "--treaty", "APMBC", "--as-of", "2026-02-03")
    assert parties["consented"] == 162
    assert {"MNE", "SSD", "POL"} <= set(parties["consented_states"])
    assert not {"EST", "LVA", "LTU", "FIN"} & set(parties["consented_states"])
    assert parties["succession_date_unknown"] == ["MNE", "SSD"]
    before = stack.json("parties", "--treaty", "APMBC", "--as-of", "2025-12-26")
    assert {"EST", "LVA", "LTU", "FIN"} <= set(before["consented_states"])
    finland = stack.json("parties", "--treaty", "APMBC", "--as-of", "2026-01-09")
    assert "FIN" in finland["consented_states"] and "EST" not in finland["consented_states"]
    for state, notified in (("MNE", "2006-10-23"), ("SSD", "2011-11-11")):
        [row] = stack.json("status", state, "--treaty", "APMBC")
        assert (row["instrument"], row["signed"], row["consented_on"]) == (
            "succession",
            False,
            notified,
        )
        assert row["succession_date_unknown"] is True and row["in_force_on"] == notified
    verify = stack.treaty("audit", "verify", "ratification-APMBC-MNE")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    pol = [
        e
        for e in events(stack, "ratification-APMBC-POL")
        if e["event_type"] == "WithdrawalDeposited"
    ]
    # the condition as end note 8 writes it; the note itself, naming "article 20 (3)" that
    # "the said paragraph" refers to, recorded whole
    assert pol[0]["data"]["condition"] == "subject to the condition set forth in the said paragraph"
    notes = [
        e["data"]["text"]
        for e in events(stack, "ratification-APMBC-POL")
        if e["event_type"] == "DepositaryNoteRecorded"
    ]
    assert any(POLAND_CONDITION in text for text in notes), notes
    treaty = events(stack, "treaty-APMBC")
    [statement] = [e for e in treaty if e["event_type"] == "DepositaryStatementRecorded"]
    assert statement["data"]["in_force_on"] == "1999-03-01"
    assert "1 March 1999, in accordance with article 17(1)" in statement["data"]["statement"]
    assert not [e for e in treaty if e["event_type"] == "EntryIntoForceDiscrepancyNoted"]


async def test_importing_either_again_records_nothing(
    stack: Stack,
    servers: tuple[Client, EventStore],
    ccm: ImportReport,
    apmbc: ImportReport,
) -> None:
    before = await snapshot(stack.database_url)
    again = await run_import(servers, apmbc_record())
    assert (again.changed, len(again.unchanged), again.events, again.refused) == ([], 166, 0, [])
    assert again.header is not None and again.header.statement_outcome == "already on record"
    assert not any(w.recorded for w in again.withdrawals)
    ccm_again = await run_import(servers, read_record(CCM_PAGE))
    assert (ccm_again.changed, ccm_again.events, ccm_again.refused) == ([], 0, [])
    # the CLI reads the tables taken from the same pages: nothing changed either
    for table, treaty in ((CCM_2026, "CCM"), (APMBC_2026, "APMBC")):
        result = stack.treaty("import", str(table), "--treaty", treaty)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "nothing changed" in result.stdout
    assert await snapshot(stack.database_url) == before


def test_the_att_xml_through_the_cli(stack: Stack) -> None:
    """The MTDSG XML of 2018 (ISO-8859-1) is recognised as the ATT's by its number; its
    counts ("Signatories: 130", "Parties: 94") agree with the record as at its latest
    action; ATT Art. 22(1): the 50th instrument on 25 Sep 2014, in force 24 Dec 2014, and
    a State depositing before that date (South Africa, 22 Dec 2014) is bound from it."""
    report = stack.json("import", str(ATT_XML))
    assert (report["treaty"], report["form"], report["refused"]) == ("ATT", "untc-xml", [])
    counts = {c["count"]: (c["stated"], c["recorded"]) for c in report["header"]["counts"]}
    assert counts == {"Signatories": (130, 130), "Parties": (94, 94)}
    [zaf] = stack.json("status", "ZAF", "--treaty", "ATT")
    assert (zaf["consented_on"], zaf["in_force_on"]) == ("2014-12-22", "2014-12-24")


def test_import_help_names_the_forms_it_reads(stack: Stack) -> None:
    result = stack.treaty("import", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for form in ("status page", "XML", "CSV", "xlsx"):
        assert form in text, form
