"""Identifiers of processes, streams and events. Pure and deterministic.

- workflow id: ``ratification:CCM:BGR``, ``treaty:CCM`` (Temporal workflow ids)
- stream id: ``ratification-CCM-BGR``, ``treaty-CCM`` (event-store streams)
- event id: UUID v5 of (workflow id, stream version), so a retried append of the same
  event carries the same id and the store can recognise it (DESIGN "Idempotency").
"""

from __future__ import annotations

import uuid

EVENT_NAMESPACE = uuid.UUID("6d0f3f8e-7a51-4c8a-9c1e-2f1f1d3c8b10")


def treaty_workflow_id(treaty: str) -> str:
    """``treaty:<CODE>``."""
    return f"treaty:{treaty}"


def ratification_workflow_id(treaty: str, state: str) -> str:
    """``ratification:<CODE>:<ISO3>``."""
    return f"ratification:{treaty}:{state}"


def decision_workflow_id(treaty: str, slug: str) -> str:
    """``decision:<CODE>:<slug>`` (the slug may hold ``-``: ``isu-hosting``)."""
    return f"decision:{treaty}:{slug}"


def hca_workflow_id(treaty: str, meeting: str) -> str:
    """``hca:<CODE>:<meeting>`` (``hca:CCM:2MSP``)."""
    return f"hca:{treaty}:{meeting}"


#: Process types whose last id part may hold ``-``: a stream id has at most this many
#: ``-`` that stand for ``:`` (``decision-CCM-isu-hosting`` is ``decision:CCM:isu-hosting``).
_LAST_PART_MAY_HOLD_DASH = {"decision": 2, "hca": 2}


def stream_id(workflow_id: str) -> str:
    """The event-store stream of a process: ``ratification:CCM:BGR`` -> ``ratification-CCM-BGR``."""
    return workflow_id.replace(":", "-")


def workflow_id_of_stream(stream: str) -> str:
    """Inverse of :func:`stream_id` (accepts either form)."""
    if ":" in stream:
        return stream
    limit = _LAST_PART_MAY_HOLD_DASH.get(stream.partition("-")[0])
    return stream.replace("-", ":", limit) if limit else stream.replace("-", ":")


def event_id(workflow_id: str, stream_version: int) -> uuid.UUID:
    """The deterministic id of the event at ``stream_version`` of ``workflow_id``'s stream."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{workflow_id}#{stream_version}")
