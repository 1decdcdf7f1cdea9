"""The Meetings actually held, read from a table like ``examples/ccm/meetings.csv``.

Columns: ``meeting`` (its name, e.g. ``2MSP``), ``kind``, ``opens_on``, ``closes_on``
(ISO 8601), ``city``; others (``country``, ``president``, ``source``, ``note``) are kept
out of the model. Rows that cannot be read are refused with the line number.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from domain.errors import DomainError, nul_line
from domain.obligations import Meeting, check_meeting, overlapping_meeting
from domain.treaties import TreatyProfile

COLUMNS = ("meeting", "kind", "opens_on", "closes_on", "city")


def read_meetings(path: Path, profile: TreatyProfile | None = None) -> list[Meeting]:
    """All the Meetings of the table, in order; :class:`DomainError` naming the line of the
    first bad row (missing column, bad date, closing before opening, a name twice). With
    ``profile``, each row must also pass :func:`domain.obligations.check_meeting` (kind MSP
    or Review Conference agreeing with the name, not before the opening for signature, a
    city) and no two rows' dates may overlap."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise DomainError(f"cannot read {path} as UTF-8 text: {err}") from None
    nul = nul_line(text)
    if nul is not None:
        raise DomainError(
            f"{path} line {nul} contains the character U+0000 (NUL), which no record can "
            "hold: remove it"
        )
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DomainError(f"{path} lacks column(s) {', '.join(missing)}")
    meetings: list[Meeting] = []
    for row in reader:
        line = reader.line_num
        try:
            opens_on = date.fromisoformat((row["opens_on"] or "").strip())
            closes_on = date.fromisoformat((row["closes_on"] or "").strip())
        except ValueError as err:
            raise DomainError(f"{path} line {line}: {err}; expected YYYY-MM-DD") from None
        name = (row["meeting"] or "").strip()
        if not name:
            raise DomainError(f"{path} line {line}: the meeting has no name")
        if closes_on < opens_on:
            raise DomainError(f"{path} line {line}: {name} closes before it opens")
        if any(m.name.lower() == name.lower() for m in meetings):
            raise DomainError(f"{path} line {line}: {name} appears twice")
        meeting = Meeting(
            name=name,
            kind=(row["kind"] or "").strip(),
            opens_on=opens_on,
            closes_on=closes_on,
            city=(row["city"] or "").strip() or None,
        )
        if profile is not None:
            try:
                check_meeting(profile, meeting)
            except DomainError as err:
                raise DomainError(f"{path} line {line}: {err}") from None
            other = overlapping_meeting(meeting, meetings)
            if other is not None:
                raise DomainError(
                    f"{path} line {line}: {name} ({opens_on} to {closes_on}) overlaps "
                    f"{other.name} ({other.opens_on} to {other.closes_on})"
                )
        meetings.append(meeting)
    return meetings
