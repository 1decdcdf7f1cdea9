"""Read models for the CLI, folded from the event store with the domain's own ``evolve``.

Nothing here asks Temporal: staff tables and counts are rebuilt from the record, read
through a :class:`eventstore.recorder.Recorder` (PostgreSQL, or in memory in unit tests). Every
fold is :func:`domain.processes.fold` (through :func:`eventstore.folding.fold_stored`), the
same one ``treaty audit state`` uses, so a count "as of" a date is the count of the
states as of that date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from domain import ids
from domain import ratification as r
from domain import treaty as t
from eventstore.folding import fold_stored, fold_streams
from eventstore.recorder import Recorder
from eventstore.store import StoredEvent


def ratification_stream(treaty: str, state: str) -> str:
    """The stream of a State's ratification process: ``ratification-CCM-BGR``."""
    return ids.stream_id(ids.ratification_workflow_id(treaty, state))


def fold_ratification(
    treaty: str, state: str, events: list[StoredEvent], as_of: date | None = None
) -> r.RatificationState:
    """The ratification state folded from its stored events (in stream order); with
    ``as_of``, from those whose business date is on or before it (or unknown)."""
    stream = ids.stream_id(ids.ratification_workflow_id(treaty, state))
    return cast(r.RatificationState, fold_stored(stream, events, as_of=as_of))


def fold_treaty(treaty: str, events: list[StoredEvent], as_of: date | None = None) -> t.TreatyState:
    """The treaty process state folded from its stored events (``as_of`` as above)."""
    stream = ids.stream_id(ids.treaty_workflow_id(treaty))
    return cast(t.TreatyState, fold_stored(stream, events, as_of=as_of))


async def state_status(store: Recorder, treaty: str, state: str) -> list[r.RatificationState]:
    """The rows of ``treaty status STATE``: the ratification process of ``state`` (ISO3)
    under ``treaty`` folded from its stream alone (not every stream of the treaty), as a
    one-element list; empty when nothing is recorded for it. The CLI and the worker's fast
    path (:mod:`app.status_server`) both answer with this."""
    stored = await store.read_stream(ratification_stream(treaty, state))
    folded = [fold_ratification(treaty, state, stored)] if stored else []
    return [s for s in folded if s.state == state]


async def ratifications(
    store: Recorder, treaty: str, as_of: date | None = None
) -> list[r.RatificationState]:
    """Every ratification process of ``treaty`` recorded in the store, sorted by ISO3;
    with ``as_of``, each as it stood on that date (:func:`fold_ratification`)."""
    prefix = ids.stream_id(ids.ratification_workflow_id(treaty, ""))
    states = cast(list[r.RatificationState], await fold_streams(store, prefix, as_of=as_of))
    return sorted(states, key=lambda s: s.state)


async def treaty_state(store: Recorder, treaty: str, as_of: date | None = None) -> t.TreatyState:
    """The treaty process state of ``treaty`` from the store (``as_of`` as above)."""
    stream = ids.stream_id(ids.treaty_workflow_id(treaty))
    return fold_treaty(treaty, await store.read_stream(stream), as_of)


@dataclass(frozen=True)
class Parties:
    """Who is bound on ``as_of``: ``consented`` (deposit on or before the date, the CMC's
    and the Monitor's count of "States Parties") and ``in_force`` (the treaty in force for
    the State on that date, the legal sense). A State whose withdrawal has taken effect
    on or before ``as_of`` (CCM Art. 20(3): six months after the depositary received the
    instrument) is in neither: it is no longer a State Party. ``succession_date_unknown``:
    the successor States among them whose date of succession the record does not give,
    counted (in both lists) from their notification (:mod:`domain.succession`)."""

    as_of: date
    consented: list[str]
    in_force: list[str]
    succession_date_unknown: list[str] = field(default_factory=list)


def parties_as_of(states: list[r.RatificationState], as_of: date) -> Parties:
    """Count consented vs. in force on ``as_of`` (both sorted ISO3 lists): consented if
    the deposit is dated on or before it, in force if the entry-into-force date is.

    ``states`` should be folded as of ``as_of`` (:func:`parties` does that), so that an
    entry-into-force date fixed or corrected by a later fact does not count yet; states
    folded from the whole record give the count by today's knowledge of each date.

    A State whose withdrawal took effect on or before ``as_of`` (``withdrawn_on``) counts
    in neither list from that day on (CCM Art. 20(3)); until then it counts in both."""
    bound = [s for s in states if s.withdrawn_on is None or s.withdrawn_on > as_of]
    consented = [s.state for s in bound if s.consented_on is not None and s.consented_on <= as_of]
    in_force = [s.state for s in bound if s.in_force_on is not None and s.in_force_on <= as_of]
    unknown = [s.state for s in bound if s.succession_date_unknown and s.state in consented]
    return Parties(
        as_of=as_of,
        consented=sorted(consented),
        in_force=sorted(in_force),
        succession_date_unknown=sorted(unknown),
    )


async def parties(store: Recorder, treaty: str, as_of: date) -> Parties:
    """:func:`parties_as_of` on every ratification process folded as of ``as_of``."""
    return parties_as_of(await ratifications(store, treaty, as_of), as_of)


def state_name(code: str) -> str:
    """Display name of an ISO3 code (the code itself if unknown)."""
    from domain.states import resolve_state

    try:
        return resolve_state(code).name
    except Exception:  # noqa: BLE001 - display only
        return code


def status_row(s: r.RatificationState) -> dict[str, Any]:
    """One State's status as a JSON-ready dict. ``succession_date_unknown``: a successor
    State whose date of succession the record does not give (``in_force_on`` is then the
    notification's date, the latest it can be: :mod:`domain.succession`); ``notes``: the
    depositary's end notes on it (kind, text, mark)."""
    return {
        "state": s.state,
        "name": state_name(s.state),
        "signed": s.signed,
        "signed_on": s.signed_on,
        "domestic_procedure_completed_on": s.domestic_procedure_completed_on,
        "instrument": s.instrument,
        "consented_on": s.consented_on,
        "succession_on": s.succession_on,
        "succession_date_unknown": s.succession_date_unknown,
        "in_force_on": s.in_force_on,
        "eif_article": s.eif_article,
        "provisional_application": s.provisional_application,
        "provisional_application_on": s.provisional_application_on,
        "withdrawal_received_on": s.withdrawal_received_on,
        "withdrawn_on": s.withdrawn_on,
        "notes": [n.model_dump() for n in s.notes],
        "status": s.status(),
    }
