"""The depositary's header against the profiles and the record (pure): which treaty a page
is the status of, its statement of entry into force, its counts of Signatories and Parties.

Truth: the UNTC status pages as at 3 Feb 2026 (``shared/data/untc``): CCM (MTDSG XXVI-6)
"Signatories: 107. Parties: 112", APMBC (XXVI-5) "Signatories: 132. Parties: 162"; the
tables taken from them (``shared/data/*_status_2026.csv``).
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from adapters.depositary import Header
from app import depositary_header as dh
from app import reads
from app.errors import Refused
from app.import_report import ImportReport
from domain import treaty as t
from domain.treaties import CCM
from tests.status_rows import (
    APMBC_2026,
    APMBC_HEADER,
    CCM_2026,
    CCM_HEADER,
    STATUS_AS_AT,
    shared_rows,
)
from tests.support import CCM_STATEMENT
from tests.unit.import_support import TODAY, imported_table


def test_a_page_names_its_treaty_by_its_mtdsg_number() -> None:
    assert dh.recognise(CCM_HEADER, None)[0] == "CCM"
    code, report = dh.recognise(APMBC_HEADER, None)
    assert code == "APMBC" and report is not None and report.recognised_by == "mtdsg_no"
    assert dh.recognise(APMBC_HEADER, "apmbc")[0] == "APMBC"


def test_or_by_its_title() -> None:
    header = Header(title="Arms Trade Treaty", status_as_at=date(2018, 1, 15))
    code, report = dh.recognise(header, None)
    assert code == "ATT" and report is not None and report.recognised_by == "title"


def test_a_treaty_with_no_profile_is_refused_pointing_to_the_profiles() -> None:
    # the Treaty on the Prohibition of Nuclear Weapons (MTDSG XXVI-9) has no profile here
    header = Header(title="Treaty on the Prohibition of Nuclear Weapons", mtdsg_no="XXVI-9")
    with pytest.raises(Refused, match="no profile") as err:
        dh.recognise(header, None)
    assert "treaty profiles list" in str(err.value) and "XXVI-9" in str(err.value)


def test_a_treaty_option_that_disagrees_with_the_page_is_refused() -> None:
    with pytest.raises(Refused, match="status of the APMBC") as err:
        dh.recognise(APMBC_HEADER, "CCM")
    assert "not the CCM" in str(err.value)


def test_a_table_without_header_goes_to_the_treaty_asked_or_the_ccm() -> None:
    assert dh.recognise(None, "att") == ("ATT", None)
    assert dh.recognise(None, None) == ("CCM", None)


def test_the_statement_of_entry_into_force_as_the_page_words_it() -> None:
    command = dh.statement_command(CCM_HEADER)
    assert command is not None and command.in_force_on == date(2010, 8, 1)
    assert "1 August 2010, in accordance with article 17(1)" in command.statement
    # CCM Art. 17(1) allows that date: the treaty process takes it
    state = t.initial_state("CCM")
    assert dh.statement_outcome(state, command) == ("record", None)
    fixed = t.fold(state, t.decide(state, command, CCM, TODAY))
    assert fixed.in_force_on == date(2010, 8, 1) and fixed.basis == "depositary"
    # the demo's statement (same date, other words) is already the record's
    demo = t.fold(state, t.decide(state, CCM_STATEMENT, CCM, TODAY))
    assert dh.statement_outcome(demo, command) == ("already on record", None)
    # another date is refused, naming both
    other = command.model_copy(update={"in_force_on": date(2010, 9, 1)})
    outcome, refusal = dh.statement_outcome(demo, other)
    assert (
        outcome == "refused" and "2010-08-01" in (refusal or "") and "2010-09-01" in (refusal or "")
    )
    assert dh.statement_command(Header(mtdsg_no="XXVI-6")) is None


@pytest.mark.parametrize(
    ("code", "path", "header"),
    [("CCM", CCM_2026, CCM_HEADER), ("APMBC", APMBC_2026, APMBC_HEADER)],
    ids=["CCM", "APMBC"],
)
async def test_the_record_counts_as_the_depositary_counts(
    code: str, path: object, header: Header
) -> None:
    """Signatories: signed, withdrawal not in effect (CCM 108 signatures less Lithuania;
    APMBC 133 less Lithuania); Parties: deposited, withdrawal not in effect."""
    imported = imported_table(code, shared_rows(path))  # type: ignore[arg-type]
    states = await reads.ratifications(await imported.recorder(), code, STATUS_AS_AT)
    checks = dh.check_counts(header, states)
    stated = {c.count: (c.stated, c.recorded) for c in checks}
    assert stated == {
        "Signatories": (header.signatories, header.signatories),
        "Parties": (header.parties, header.parties),
    }
    assert "LTU" not in dh.signatories(states, STATUS_AS_AT)
    # before Lithuania's withdrawal took effect it was a signatory of both
    earlier = await reads.ratifications(await imported.recorder(), code, date(2024, 1, 1))
    assert "LTU" in dh.signatories(earlier, date(2024, 1, 1))


async def test_a_count_that_differs_is_reported() -> None:
    imported = imported_table("CCM", shared_rows(CCM_2026))
    states = await reads.ratifications(await imported.recorder(), "CCM", STATUS_AS_AT)
    header = dataclasses.replace(CCM_HEADER, parties=113)
    report = ImportReport(treaty="CCM")
    _, report.header = dh.recognise(header, None)
    assert report.header is not None
    report.header.counts = dh.check_counts(header, states)
    assert report.header.differences == [
        "Parties: the depositary counts 113 as at 2026-02-03, the record gives 112"
    ]
    data = report.as_json()
    assert data["header"]["differences"] == report.header.differences
    assert data["header"]["status_as_at"] == "2026-02-03"
    assert dh.check_counts(dataclasses.replace(header, status_as_at=None), states) == []


def test_a_table_whose_sources_name_another_treaty_is_not_imported_into_the_default() -> None:
    """The APMBC's table (its rows' source: "UNTC status page XXVI-5 as at 2026-02-03")
    imported without --treaty would go to the CCM: refused, naming the treaty its rows
    name; into the APMBC it goes; the CCM's own table names the CCM."""
    apmbc = shared_rows(APMBC_2026)
    with pytest.raises(
        Refused,
        match=r"166 row\(s\) \(Afghanistan, Albania, Algeria, \.\.\.\) "
        r"name the APMBC's record \(MTDSG XXVI-5\)",
    ):
        dh.check_sources(apmbc, "CCM")
    dh.check_sources(apmbc, "APMBC")
    dh.check_sources(shared_rows(CCM_2026), "CCM")
