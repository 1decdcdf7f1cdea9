"""Stream names as staff write them (``treaty events``, ``treaty audit ...``): a stream or
workflow id in any case, resolved to the event store's stream id.

Raises :class:`StreamNameError` (a usage error: what was written is no stream; the
message lists the forms accepted) or :class:`domain.errors.DomainError` (an unknown
treaty or State, with the domain's message).
"""

from __future__ import annotations

from domain import ids, processes
from domain import reporting as rp
from domain.states import resolve_state
from domain.treaties import get_profile

STREAM_FORMS = (
    "ratification-<TREATY>-<ISO3> (e.g. ratification-CCM-BGR) or treaty-<TREATY> "
    "(e.g. treaty-CCM); the workflow ids ratification:CCM:BGR and treaty:CCM work too; "
    "decision-<TREATY>-<slug>, hca-<TREATY>-<meeting>, reporting-<TREATY>-<YEAR> (a cycle), "
    "reporting-<TREATY>-<YEAR>-<ISO3> (a State's report)"
)

#: Stream forms :func:`stream_id` resolves itself (names in any case, States by name);
#: another process type's streams are taken as written by :func:`resolve_stream`.
_RESOLVED = ("treaty", "ratification")


class StreamNameError(ValueError):
    """``text`` names no stream (the message says what would be accepted)."""


def _treaty(code: str) -> str:
    from domain.errors import DomainError

    try:
        return get_profile(code).code
    except DomainError as err:  # an unknown treaty code is a usage error
        raise StreamNameError(str(err)) from None


def reporting_stream_id(rest: str) -> str:
    """The stream of ``reporting-<rest>``: ``CCM-2011`` (a cycle) or ``CCM-2011-NOR`` (a
    State's report; a State name works too)."""
    code, _, tail = rest.partition("-")
    year, _, state = tail.partition("-")
    if not code or not year.isdigit():
        raise StreamNameError(
            f"'reporting-{rest}' is not a reporting stream: expected reporting-<TREATY>-<YEAR> "
            "(e.g. reporting-CCM-2011) or reporting-<TREATY>-<YEAR>-<ISO3>"
        )
    wid = (
        rp.report_workflow_id(_treaty(code), int(year), resolve_state(state).code)
        if state
        else rp.cycle_workflow_id(_treaty(code), int(year))
    )
    return wid.replace(":", "-")


def stream_id(text: str, treaty: str) -> str:
    """The stream id named by ``text``: a stream or workflow id in any case
    (``treaty-ccm`` is ``treaty-CCM``, ``ratification-ccm-bulgaria`` is
    ``ratification-CCM-BGR``). A State instead of a stream is a :class:`StreamNameError`
    that names the State's stream under ``treaty``."""
    raw = text.strip()
    kind, _, rest = raw.replace(":", "-").partition("-")
    if kind.lower() == "treaty" and rest and "-" not in rest:
        return ids.stream_id(ids.treaty_workflow_id(_treaty(rest)))
    if kind.lower() == "ratification":
        code, _, state = rest.partition("-")
        if code and state:
            return ids.stream_id(
                ids.ratification_workflow_id(_treaty(code), resolve_state(state).code)
            )
    if kind.lower() in ("decision", "hca"):  # decision-CCM-isu-hosting, hca-CCM-2MSP
        code, _, key = rest.partition("-")
        if code and key:
            return ids.stream_id(f"{kind.lower()}:{_treaty(code)}:{key}")
    if kind.lower() == "reporting":  # reporting-CCM-2011 and reporting-CCM-2011-NOR
        return reporting_stream_id(rest)
    from domain.errors import DomainError

    try:
        iso = resolve_state(raw).code
    except DomainError:
        raise StreamNameError(f"{raw!r} is not a stream: expected {STREAM_FORMS}") from None
    sid = ids.stream_id(ids.ratification_workflow_id(treaty, iso))
    raise StreamNameError(
        f"{raw!r} is a State, not a stream: its ratification events under the {treaty} are "
        f"in the stream {sid} (`treaty events {sid}`; other treaties: --treaty)"
    )


def resolve_stream(text: str, treaty: str) -> str:
    """:func:`stream_id`, and for a process type of :data:`domain.processes.PROCESS_TYPES`
    it does not know, ``<type>-<parts>`` / ``<type>:<parts>`` as written."""
    try:
        return stream_id(text, treaty)
    except StreamNameError:
        raw = text.strip()
        sep = ":" if ":" in raw else "-"
        prefix, *parts = raw.split(sep)
        kind = prefix.lower()
        if kind in processes.PROCESS_TYPES and kind not in _RESOLVED and parts:
            return ids.stream_id(":".join([kind, *parts]))
        raise
