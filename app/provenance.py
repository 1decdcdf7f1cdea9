"""Provenance, built in one place: who records a fact (the authenticated principal), on
whose behalf, and the source it comes from, which a fact from a document must give.

Every event a command causes carries this in its metadata (:class:`CommandMeta`, through
the event-store append)."""

from __future__ import annotations

import getpass
import os
import uuid
from typing import Any

from app.errors import Refused
from domain import decision as d
from domain import ratification as r
from domain import reporting as rp
from domain import treaty as t
from workflows.common import CommandMeta

ACTOR_ENV = "TREATYFLOW_ACTOR"
"""The principal of a service account (a scheduled job, a deployment's worker host) that
runs the CLI under a shared OS user: set by whoever deploys it, not per command."""


def principal() -> str:
    """Who is recording: ``$TREATYFLOW_ACTOR`` (a service account's principal) if set and
    not blank, else the operating-system user running the entrypoint
    (:func:`getpass.getuser`)."""
    return (os.environ.get(ACTOR_ENV) or "").strip() or getpass.getuser()


def command_meta(
    *,
    on_behalf_of: str | None = None,
    source: str | None = None,
    actor: str | None = None,
    correlation_id: str | None = None,
) -> CommandMeta:
    """The metadata every event of a command carries (the one place it is built).

    ``actor``: the authenticated principal (default :func:`principal`; an entrypoint
    passes its own, e.g. ``treaty demo``, never text a user typed); ``on_behalf_of``: for
    whom the fact is recorded (``Depositary (UN OLA)``); ``source``: the document,
    meeting or file line the fact comes from; ``correlation_id``: groups the commands of
    one run (default: a new one)."""
    return CommandMeta(
        actor=actor or principal(),
        on_behalf_of=(on_behalf_of or "").strip() or None,
        source=(source or "").strip() or None,
        correlation_id=correlation_id or str(uuid.uuid4()),
    )


DOCUMENT_FACTS: dict[type, str] = {
    r.Sign: "a signature",
    r.Deposit: "the deposit of an instrument",
    r.Withdraw: "an instrument of withdrawal",
    r.RecordSignatureDate: "the date of a signature",
    r.RecordProvisionalApplication: "a declaration of provisional application",
    r.RecordSuccessionDate: "the date of a succession of States",
    r.RecordDepositaryNote: "an end note of the depositary's record",
    r.DeclareStockpiles: "a declaration of stockpiles",
    r.DeclareContamination: "a declaration of contaminated areas",
    r.RequestExtension: "an extension request",
    r.DecideExtension: "a Meeting's decision on an extension request",
    r.RecordReport: "a report received",
    r.DeclareCompliance: "a declaration of compliance",
    t.RecordDepositaryStatement: "the depositary's statement",
    t.RecordMeetings: "a table of Meetings",
    rp.Submit: "a report received",
    d.AddOption: "an option put forward",
    d.RecordDocument: "a document",
    d.StatePosition: "a delegation's position",
    d.RecordOutcome: "a decision's outcome",
}
"""The facts that come from a document (a depositary notification, an instrument, a
report, a meeting's record), which are refused without their source, and what each is.
Other commands (opening a decision, a milestone, a review step) are staff's own acts and
may go without one."""


def document_fact(command: Any) -> str | None:
    """What ``command`` records if it is a fact from a document (:data:`DOCUMENT_FACTS`),
    else None (``command`` may be a command type); a batch (:class:`app.commands.RecordRows`)
    is one if any of its commands is."""
    batch = getattr(command, "commands", None)  # a batch (app.commands.RecordRows)
    if isinstance(batch, list):
        return next((w for c in batch if (w := document_fact(c))), None)
    return DOCUMENT_FACTS.get(command if isinstance(command, type) else type(command))


def check_provenance(command: Any, meta: CommandMeta) -> None:
    """:class:`Refused` if ``command`` records a fact from a document and ``meta`` gives no
    source (the CLI's ``--source``; a scenario or an import gives its file and line)."""
    what = document_fact(command)
    if what is not None and not meta.source:
        raise Refused(
            f"{what} is recorded from a document: give its source (--source, e.g. the "
            "depositary notification, the document symbol or the meeting)"
        )
