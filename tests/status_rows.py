"""The shared status tables of 2026 (``../shared/data/ccm_status_2026.csv``, 125 rows;
``apmbc_status_2026.csv``, 166 rows) as the CSV reader gives them, and the header of each
treaty's UNTC status page as at 3 Feb 2026, in the page's own words."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from adapters import status_table
from adapters.depositary import DepositaryRecord, Header
from adapters.status_table import Row
from tests import SHARED_DATA

CCM_2026 = SHARED_DATA / "ccm_status_2026.csv"
APMBC_2026 = SHARED_DATA / "apmbc_status_2026.csv"
STATUS_AS_AT = date(2026, 2, 3)

CCM_HEADER = Header(
    title="Convention on Cluster Munitions",
    mtdsg_no="XXVI-6",
    status_as_at=STATUS_AS_AT,
    entry_into_force_text="1 August 2010, in accordance with article 17(1)",
    entry_into_force_on=date(2010, 8, 1),
    entry_into_force_article="17(1)",
    signatories=107,
    parties=112,
)
"""``XXVI-6.2026-02-03.html``: "Entry into force: 1 August 2010, in accordance with article
17(1)", "Signatories: 107. Parties: 112"."""

APMBC_HEADER = Header(
    title=(
        "Convention on the Prohibition of the Use, Stockpiling, Production and Transfer of "
        "Anti-Personnel Mines and on their Destruction"
    ),
    mtdsg_no="XXVI-5",
    status_as_at=STATUS_AS_AT,
    entry_into_force_text="1 March 1999, in accordance with article 17(1)",
    entry_into_force_on=date(1999, 3, 1),
    entry_into_force_article="17(1)",
    signatories=132,
    parties=162,
)
"""``XXVI-5.2026-02-03.html``: "Entry into force: 1 March 1999, in accordance with article
17(1)", "Signatories: 132. Parties: 162"."""

POLAND_CONDITION = (
    "The withdrawal will take effect for Poland on 20 February 2026 in accordance with "
    "article 20 (3) of the Convention, subject to the condition set forth in the said "
    "paragraph."
)
"""End note 8 of the APMBC page on Poland's withdrawal (received 20 Aug 2025)."""


def shared_rows(path: Path) -> list[Row]:
    """Every row of a 2026 status table, as the CSV reader gives it (none refused)."""
    rows, errors = status_table.read_table(path)
    assert errors == [], errors
    return rows


def shared_record(path: Path, header: Header | None = None) -> DepositaryRecord:
    """The table at ``path`` as a record of the depositary (``header``: its page's)."""
    return DepositaryRecord(
        path=path, form="untc-html" if header else "csv", header=header, rows=shared_rows(path)
    )
