"""What ``treaty import`` did, row by row and for the depositary's header, as one report
(:class:`ImportReport`) that the CLI prints and gives as JSON (:meth:`ImportReport.as_json`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from adapters.status_table import RowError


@dataclass(frozen=True)
class WithdrawalItem:
    """A row's withdrawal: received on ``received_on``; ``takes_effect_on`` by the
    treaty's rule (``article``, CCM Art. 20(3)); ``stated_effective_on`` and
    ``condition`` as the record gives them; ``disagreement``: what the record says
    against the rule (None: they agree); ``recorded``: recorded by this import (False:
    already on record)."""

    state: str
    name: str
    received_on: date
    takes_effect_on: date
    article: str
    stated_effective_on: date | None
    condition: str | None
    disagreement: str | None
    recorded: bool


@dataclass(frozen=True)
class FilledFact:
    """A fact the record lacked, given by a row (``fact``: "signature date 2008-12-03")."""

    state: str
    name: str
    fact: str


@dataclass(frozen=True)
class CountCheck:
    """One of the depositary's counts (``count``: ``Signatories`` or ``Parties``) against
    the record on ``as_of``: ``stated`` by the page, ``recorded`` by the record."""

    count: str
    stated: int
    recorded: int
    as_of: date

    @property
    def agrees(self) -> bool:
        return self.stated == self.recorded


@dataclass
class HeaderReport:
    """The header's check: the ``treaty`` it names (``recognised_by``: ``mtdsg_no`` or
    ``title``), the depositary's entry-into-force ``statement`` and what became of it
    (``statement_outcome``: ``recorded``, ``already on record`` or ``refused``, with
    ``statement_refusal``), and the ``counts`` against the record on ``status_as_at``
    (``counts_note`` when they could not be checked)."""

    treaty: str
    mtdsg_no: str | None
    title: str | None
    recognised_by: str
    status_as_at: date | None = None
    statement: str | None = None
    statement_in_force_on: date | None = None
    statement_outcome: str | None = None
    statement_refusal: str | None = None
    counts: list[CountCheck] = field(default_factory=list)
    counts_note: str | None = None

    @property
    def differences(self) -> list[str]:
        """Each count the record gives otherwise than the page, in words."""
        return [
            f"{c.count}: the depositary counts {c.stated} as at {c.as_of}, the record gives "
            f"{c.recorded}"
            for c in self.counts
            if not c.agrees
        ]


@dataclass
class ImportReport:
    """Outcome of an import: per-row lists (names as the record writes them) and refusals
    with reasons; what the header said and how it compares.

    ``changed`` / ``unchanged``: rows that recorded something / nothing; ``states``: ISO3
    of every row accepted (what :func:`app.service.wait_settled` waits for);
    ``signature_unknown``: signatures recorded now with their date unknown;
    ``succession_date_unknown``: successor States whose date of succession the record
    does not give (bound no later than their notification, :mod:`domain.succession`);
    ``filled``: facts the record lacked; ``withdrawals``: every row's withdrawal;
    ``notes``: end notes recorded; ``settled``: whether the treaty process had counted
    every deposit and fixed every date when the import returned (None: not waited for).
    """

    treaty: str = ""
    form: str = ""
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    signature_unknown: list[str] = field(default_factory=list)
    succession_date_unknown: list[str] = field(default_factory=list)
    filled: list[FilledFact] = field(default_factory=list)
    withdrawals: list[WithdrawalItem] = field(default_factory=list)
    notes: int = 0
    refused: list[RowError] = field(default_factory=list)
    events: int = 0
    states: list[str] = field(default_factory=list)
    settled: bool | None = None
    header: HeaderReport | None = None

    @property
    def failed(self) -> bool:
        """A row or the header's statement was refused (the command exits 1)."""
        refused_statement = self.header is not None and self.header.statement_refusal
        return bool(self.refused or refused_statement)

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (dates as ISO 8601)."""
        header = None
        if self.header is not None:
            header = {
                **_dates(asdict(self.header)),
                "differences": self.header.differences,
            }
        return {
            "treaty": self.treaty,
            "form": self.form,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "signature_unknown": self.signature_unknown,
            "succession_date_unknown": self.succession_date_unknown,
            "filled": [asdict(f) for f in self.filled],
            "withdrawals": [_dates(asdict(w)) for w in self.withdrawals],
            "notes_recorded": self.notes,
            "header": header,
            "refused": [asdict(e) for e in self.refused],
            "events_recorded": self.events,
            "settled": self.settled,
        }


def _dates(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
