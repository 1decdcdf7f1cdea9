"""The depositary's header (:class:`adapters.depositary.Header`) against the profiles and
the record: which treaty a page is the status of, its entry-into-force statement as the
treaty process records it, and its counts of Signatories and Parties. Pure.

The depositary's counts, as the UN Treaty Collection writes them ("Signatories: 107.
Parties: 112", CCM, status as at 3 Feb 2026), are read here as follows, worked out from
its pages and the tables taken from them (``shared/data``):

- **Parties**: every State whose instrument (ratification, acceptance, approval,
  accession, or notification of succession) was deposited by the date, whether or not
  the treaty is in force for it yet, less those whose withdrawal has taken effect by then
  (CCM: 113 deposits less Lithuania, withdrawn 6 Mar 2025 = 112, Vanuatu's accession of 5
  Sep 2025 counted though in force only from 1 Mar 2026; APMBC: 166 less Estonia, Latvia,
  Lithuania and Finland = 162, Poland still counted until its withdrawal takes effect);
- **Signatories**: every State that signed, whether or not it has since consented to be
  bound, less those whose withdrawal has taken effect by the date (CCM: 108 signatures
  less Lithuania = 107; APMBC: 133 less Lithuania = 132, Estonia, Latvia and Finland having
  acceded, never signed; in the 2018 XML, before any withdrawal, 108 and 133). A signature
  whose date the record does not give counts: it is known to have happened.
"""

from __future__ import annotations

import re
from datetime import date

from adapters.depositary import Header, Row
from app.errors import Refused
from app.import_report import CountCheck, HeaderReport
from app.reads import parties_as_of
from domain import ratification as r
from domain import treaty as t
from domain.treaties import PROFILES, TreatyProfile

DEFAULT_TREATY = "CCM"
"""The treaty of a record with no header (a CSV or Excel table) imported without
``--treaty``."""


def _norm(text: str) -> str:
    return re.sub(r"[\s\u2010-\u2015-]+", " ", text).strip().casefold()


def _by_mtdsg(mtdsg_no: str) -> TreatyProfile | None:
    wanted = _norm(mtdsg_no)
    return next((p for p in PROFILES.values() if p.mtdsg_no and _norm(p.mtdsg_no) == wanted), None)


def _by_title(title: str) -> TreatyProfile | None:
    wanted = _norm(title)
    return next((p for p in PROFILES.values() if _norm(p.name) == wanted), None)


def check_sources(rows: list[Row], code: str) -> None:
    """A table without a header names no treaty, but its rows' sources may ("UNTC status
    page XXVI-5 as at 2026-02-03"): :class:`Refused` when they name another treaty's MTDSG
    number than ``code``'s, so that a table of one treaty is not recorded into another
    (nothing is imported)."""
    named: dict[str, list[str]] = {}
    for profile in PROFILES.values():
        if not profile.mtdsg_no:
            continue
        pattern = re.compile(rf"(?<![\w-]){re.escape(profile.mtdsg_no)}(?![\w-])", re.I)
        hits = [row.name for row in rows if pattern.search(row.source)]
        if hits:
            named[profile.code] = hits
    others = {c: hits for c, hits in named.items() if c != code}
    if others:
        said = "; ".join(
            f"{len(hits)} row(s) ({', '.join(hits[:3])}{', ...' if len(hits) > 3 else ''}) "
            f"name the {c}'s record (MTDSG {PROFILES[c].mtdsg_no}) as their source"
            for c, hits in sorted(others.items())
        )
        raise Refused(
            f"the table is imported into the {code}, but {said}: nothing imported; import it "
            f"with --treaty {sorted(others)[0]}, or correct the rows' source"
        )


def recognise(header: Header | None, requested: str | None) -> tuple[str, HeaderReport | None]:
    """The treaty code a record is imported into, and the header's report (None: no
    header).

    A header names its treaty by its MTDSG number ("XXVI-6", the profile's ``mtdsg_no``)
    or else its title (the profile's name); ``requested`` (``--treaty``) must agree. A
    record with no header goes to ``requested``, else :data:`DEFAULT_TREATY`. Raises
    :class:`Refused` for a header naming a treaty with no profile (nothing is imported) or
    another treaty than ``requested``.
    """
    if header is None or not (header.mtdsg_no or header.title):
        return (requested or DEFAULT_TREATY).upper(), None
    found, by = None, "mtdsg_no"
    if header.mtdsg_no:
        found = _by_mtdsg(header.mtdsg_no)
    if found is None and header.title:
        found, by = _by_title(header.title), "title"
    mtdsg = f"MTDSG {header.mtdsg_no}" if header.mtdsg_no else None
    named = ", ".join(x for x in (mtdsg, header.title) if x)
    if found is None:
        raise Refused(
            f"the record is the status of {named}, a treaty with no profile here: nothing "
            "imported (the treaties with a profile: treaty profiles list)"
        )
    if requested and requested.upper() != found.code:
        raise Refused(
            f"the record is the status of the {found.code} ({named}), not the "
            f"{requested.upper()}: import it with --treaty {found.code}, or without --treaty"
        )
    report = HeaderReport(
        treaty=found.code,
        mtdsg_no=header.mtdsg_no,
        title=header.title,
        recognised_by=by,
        status_as_at=header.status_as_at,
        statement=header.entry_into_force_text,
        statement_in_force_on=header.entry_into_force_on,
    )
    return found.code, report


def statement_command(header: Header) -> t.RecordDepositaryStatement | None:
    """The depositary's statement of the treaty's entry into force as the header gives it
    ("1 August 2010, in accordance with article 17(1)"), or None when it gives no date."""
    if header.entry_into_force_on is None:
        return None
    text = header.entry_into_force_text or header.entry_into_force_on.isoformat()
    return t.RecordDepositaryStatement(
        in_force_on=header.entry_into_force_on, statement=f"Entry into force: {text}"
    )


def statement_outcome(
    treaty: t.TreatyState, command: t.RecordDepositaryStatement
) -> tuple[str, str | None]:
    """``(outcome, refusal)`` of the header's statement on the treaty process as it is:
    ``record`` when no statement is on record, ``already on record`` when one gives the
    same date, ``refused`` (with the reason naming both dates) when one gives another."""
    if treaty.declared_on is None:
        return "record", None
    if treaty.declared_on == command.in_force_on:
        return "already on record", None
    return "refused", (
        f"the record has the depositary's statement of entry into force on "
        f"{treaty.declared_on.isoformat()} ({treaty.statement}), the page says "
        f"{command.in_force_on.isoformat()}: a statement on record is replaced only by a "
        "correction (treaty depositary-statement --correct)"
    )


def signatories(states: list[r.RatificationState], as_of: date) -> list[str]:
    """ISO3 of the States the depositary counts as Signatories on ``as_of`` (module
    docstring): signed by then (an unknown date counts), withdrawal not in effect by then.
    ``states`` folded as of ``as_of``."""
    return sorted(
        s.state
        for s in states
        if s.signed
        and (s.signed_on is None or s.signed_on <= as_of)
        and (s.withdrawn_on is None or s.withdrawn_on > as_of)
    )


def latest_action(rows: list[Row]) -> date | None:
    """The latest date a record's rows give (a signature, provisional application, deposit
    or withdrawal): a file that states no status date (the MTDSG XML) is at least as
    recent as its latest action. None if it gives no date at all."""
    days = [
        d
        for row in rows
        for d in (
            row.signed_on,
            row.provisional_application_on,
            row.deposited_on,
            row.withdrawal_received_on,
        )
        if d is not None
    ]
    return max(days, default=None)


def check_counts(
    header: Header, states: list[r.RatificationState], as_of: date | None = None
) -> list[CountCheck]:
    """The header's counts against ``states`` (folded as of ``as_of``, by default
    ``header.status_as_at``): Signatories (:func:`signatories`) and Parties (consented by
    then and not withdrawn, :func:`app.reads.parties_as_of`). Empty when there is no date
    or no count."""
    as_of = as_of or header.status_as_at
    if as_of is None:
        return []
    checks = []
    if header.signatories is not None:
        checks.append(
            CountCheck("Signatories", header.signatories, len(signatories(states, as_of)), as_of)
        )
    if header.parties is not None:
        consented = parties_as_of(states, as_of).consented
        checks.append(CountCheck("Parties", header.parties, len(consented), as_of))
    return checks
