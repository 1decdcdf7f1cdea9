"""A successor State's entry into force ("d" on the depositary's page).

A State that establishes its status as a party by a notification of succession signs
nothing and deposits no instrument of consent: it is bound from the date of the succession
of States, or from the treaty's own entry into force if that is later (Vienna Convention
on Succession of States in respect of Treaties, 1978, Art. 23(1); Art. 34(1) for a
separation of States). That is general international law, not a clause of any treaty, so
its citation is :data:`SUCCESSION_RULE`, not a profile's.

When the record does not give the date of the succession of States, the record does not
know when the State became bound, only that it was bound by the time the depositary
received its notification (the succession comes first). :func:`entry_into_force` then
takes the notification's date — the latest date the treaty can have entered into force
for the State — and says so in the article it returns: the State counts among the
Parties, and as bound, from its notification (as the depositary counts it), and its
obligations run from that date, so that each deadline is the latest it can be and none is
called overdue before it surely is. Pure.
"""

from __future__ import annotations

from datetime import date

SUCCESSION_RULE = "VCSST Arts. 23(1), 34(1)"
"""Vienna Convention on Succession of States in respect of Treaties (1978): a successor
State is a party from the date of the succession of States, or the treaty's entry into
force if later."""


def entry_into_force(
    succession_on: date | None, notified_on: date, treaty_in_force_on: date
) -> tuple[date, str]:
    """``(date, article)``: when the treaty entered into force for a successor State whose
    notification of succession the depositary received on ``notified_on``.

    ``succession_on`` known: the later of it and ``treaty_in_force_on``
    (:data:`SUCCESSION_RULE`); unknown (None): the later of ``notified_on`` and
    ``treaty_in_force_on``, the article saying that the date is a bound ("no later than")
    because the date of succession is not on record.
    """
    if succession_on is not None:
        return max(succession_on, treaty_in_force_on), SUCCESSION_RULE
    return (
        max(notified_on, treaty_in_force_on),
        f"{SUCCESSION_RULE}; date of succession not on record: no later than the notification",
    )
