"""The shared status tables of 2026 (``../shared/data/ccm_status_2026.csv``, 125 rows;
``apmbc_status_2026.csv``, 166 rows) as the depositary's rows, read here column by column
(``state, signature_date, provisional_application, instrument, deposit_date,
withdrawal_received, withdrawal_effective, source``) for the tests of the import until
:mod:`adapters.status_table` reads those columns itself; and the header of each
treaty's UNTC status page as at 3 Feb 2026, in the page's own words."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from adapters.depositary import DepositaryRecord, Header
from adapters.status_table import Row
from domain.states import resolve_state
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


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value.strip() else None


def shared_rows(path: Path) -> list[Row]:
    """Every row of a 2026 status table, as a reader of the depositary's record gives it."""
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for line, raw in enumerate(csv.DictReader(f), start=2):
            pa_on = _day(raw["provisional_application"])
            rows.append(
                Row(
                    line=line,
                    name=raw["state"],
                    state=resolve_state(raw["state"]).code,
                    signed_on=_day(raw["signature_date"]),
                    instrument=raw["instrument"] or None,
                    deposited_on=_day(raw["deposit_date"]),
                    source=raw["source"],
                    provisional_application=pa_on is not None,
                    provisional_application_on=pa_on,
                    withdrawal_received_on=_day(raw["withdrawal_received"]),
                    withdrawal_effective_on=_day(raw["withdrawal_effective"]),
                )
            )
    return rows


def shared_record(path: Path, header: Header | None = None) -> DepositaryRecord:
    """The table at ``path`` as a record of the depositary (``header``: its page's)."""
    return DepositaryRecord(
        path=path, form="untc-html" if header else "csv", header=header, rows=shared_rows(path)
    )
