"""Errors raised by the pure domain.

Every refusal of a command is a :class:`DomainError` whose message says what is wrong
and what would be accepted; the CLI prints it as is and exits non-zero.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command refused by a rule of the domain (nothing is recorded)."""


class UnknownStateError(DomainError):
    """A State name or code that matches no ISO 3166 country nor a known alias.

    ``suggestions`` holds the closest known names (possibly empty).
    """

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(
            f"unknown State {name!r}{hint} (give an ISO 3166 name or alpha-3 code, e.g. 'BGR')"
        )


def nul_line(text: str) -> int | None:
    """The 1-based line of ``text``'s first U+0000 (NUL) character, or None.

    No event can hold that character (PostgreSQL ``jsonb`` refuses it), so a file that
    contains one is refused as a whole, naming the line, before anything is recorded.
    """
    at = text.find("\x00")
    return None if at < 0 else text.count("\n", 0, at) + 1
