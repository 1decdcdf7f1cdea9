"""``treaty import``: a depositary status table -> ratification processes.

The table is read by :mod:`adapters.status_table`; :func:`plan` turns one of its rows and
the process's current state into the commands still to send (pure), so importing the same
file twice sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.status_table import Row
from domain import ratification as r
from domain.treaties import SIGNATORY_INSTRUMENTS


@dataclass
class Plan:
    """What a row still needs: the commands to send, or why it is refused."""

    commands: list[r.Sign | r.Deposit] = field(default_factory=list)
    refused: str | None = None
    signature_unknown: bool = False


def plan(row: Row, current: r.RatificationState) -> Plan:
    """The commands that bring ``current`` to what ``row`` says (empty: nothing to do).

    A ratification/acceptance/approval with no signature date is imported with the
    signature date unknown (the source did not give it); a row that contradicts the record
    (another deposit date, another signature date) is refused.
    """
    result = Plan()
    needs_signature = row.signed_on is not None or row.instrument in SIGNATORY_INSTRUMENTS
    if needs_signature:
        if not current.signed:
            result.commands.append(r.Sign(signed_on=row.signed_on))
            result.signature_unknown = row.signed_on is None
        elif row.signed_on is not None and current.signed_on not in (None, row.signed_on):
            result.refused = (
                f"the record has {row.state}'s signature on {current.signed_on}, "
                f"the row says {row.signed_on}"
            )
            return result
    if row.instrument is not None and row.deposited_on is not None:
        if current.consented_on is None:
            result.commands.append(
                r.Deposit(
                    instrument=row.instrument,  # type: ignore[arg-type]
                    deposited_on=row.deposited_on,
                    provisional_application=row.provisional_application,
                )
            )
        elif (current.consented_on, current.instrument) != (row.deposited_on, row.instrument):
            result.refused = (
                f"the record has {row.state}'s instrument of {current.instrument} deposited "
                f"on {current.consented_on}, the row says {row.instrument} on {row.deposited_on}"
            )
            result.commands = []
    return result
