"""The Meetings actually held, read from a table like ``examples/ccm/meetings.csv``.

Columns: ``meeting`` (its name, e.g. ``2MSP``), ``kind``, ``opens_on``, ``closes_on``
(ISO 8601), ``city``; others (``country``, ``president``, ``source``, ``note``) are kept
out of the model. Rows that cannot be read are refused with the line number.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from domain.errors import DomainError
from domain.obligations import Meeting

COLUMNS = ("meeting", "kind", "opens_on", "closes_on", "city")


def read_meetings(path: Path) -> list[Meeting]:
    """All the Meetings of the table, in order; :class:`DomainError` naming the line of the
    first bad row (missing column, bad date, closing before opening, a name twice)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise DomainError(f"cannot read {path} as UTF-8 text: {err}") from None
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
        meetings.append(
            Meeting(
                name=name,
                kind=(row["kind"] or "").strip(),
                opens_on=opens_on,
                closes_on=closes_on,
                city=(row["city"] or "").strip() or None,
            )
        )
    return meetings
