"""The line of each key of a TOML document, so that a refusal can name it.

``tomllib`` gives values, not positions. :func:`key_lines` reads the text of a document
``tomllib`` has already accepted and maps each key path (``("obligations",
"initial_report", "kind")``) and each table header path to its 1-based line: a key on its
own line, a key of an inline table (the line of the inline table), a ``[table]`` or
``[[array]]`` header. Pure: no I/O.
"""

from __future__ import annotations

import re

Path = tuple[str, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = ",]}\n#"


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: dict[Path, int] = {}
        # offsets where each line starts, to turn an offset into a line number
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_at(self, i: int) -> int:
        lo, hi = 0, len(self._starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._starts[mid] <= i:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def spaces(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in " \t":
            i += 1
        return i

    def blank(self, i: int) -> int:
        """Past spaces, newlines and comments."""
        while i < len(self.text):
            c = self.text[i]
            if c in " \t\r\n":
                i += 1
            elif c == "#":
                end = self.text.find("\n", i)
                i = len(self.text) if end < 0 else end + 1
            else:
                break
        return i

    def key(self, i: int) -> tuple[list[str], int]:
        """A dotted key starting at ``i``: its parts and the offset after it."""
        parts: list[str] = []
        while True:
            i = self.spaces(i)
            if i < len(self.text) and self.text[i] in "\"'":
                end = self.string_end(i)
                parts.append(self.text[i + 1 : end - 1])
                i = end
            else:
                m = _BARE.match(self.text, i)
                if m is None:
                    return parts, i
                parts.append(m.group())
                i = m.end()
            i = self.spaces(i)
            if i < len(self.text) and self.text[i] == ".":
                i += 1
                continue
            return parts, i

    def string_end(self, i: int) -> int:
        """The offset after the string (basic, literal or multi-line) starting at ``i``."""
        t = self.text
        quote = t[i]
        if t.startswith(quote * 3, i):
            j = i + 3
            while True:
                j = t.find(quote * 3, j)
                if j < 0:
                    return len(t)
                if quote == '"' and _escaped(t, j):
                    j += 1
                    continue
                j += 3
                while j < len(t) and t[j] == quote:  # up to two quotes may close the content
                    j += 1
                return j
        j = i + 1
        while j < len(t) and t[j] != quote:
            j += 2 if quote == '"' and t[j] == "\\" else 1
        return j + 1

    def value(self, i: int, path: Path) -> int:
        """The offset after the value starting at ``i`` (recording inline tables' keys)."""
        t = self.text
        if i >= len(t):
            return i
        c = t[i]
        if c in "\"'":
            return self.string_end(i)
        if c == "[":
            i += 1
            while True:
                i = self.blank(i)
                if i >= len(t) or t[i] == "]":
                    return i + 1
                i = self.blank(self.value(i, path))
                if i < len(t) and t[i] == ",":
                    i += 1
        if c == "{":
            i += 1
            while True:
                i = self.spaces(i)
                if i >= len(t) or t[i] == "}":
                    return i + 1
                if t[i] == ",":
                    i += 1
                    continue
                parts, j = self.key(i)
                if not parts:
                    return j + 1
                sub = path + tuple(parts)
                self.lines.setdefault(sub, self.line_at(i))
                j = self.spaces(j)
                if j < len(t) and t[j] == "=":
                    j += 1
                i = self.value(self.spaces(j), sub)
        j = i
        while j < len(t) and t[j] not in _SCALAR_END:
            j += 1
        return max(j, i + 1)


def _escaped(text: str, i: int) -> bool:
    """Whether the character at ``i`` follows an odd number of backslashes."""
    n = 0
    while i - n - 1 >= 0 and text[i - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def key_lines(text: str) -> dict[Path, int]:
    """``{key path: line}`` for every key and table header of the TOML ``text`` (a
    document ``tomllib`` accepts; on another the result is partial, never an error)."""
    s = _Scanner(text)
    table: Path = ()
    i = 0
    while True:
        i = s.blank(i)
        if i >= len(text):
            return s.lines
        start = i
        if text[i] == "[":
            i += 2 if text.startswith("[[", i) else 1
            parts, i = s.key(i)
            table = tuple(parts)
            s.lines.setdefault(table, s.line_at(start))
        else:
            parts, i = s.key(i)
            if parts:
                path = table + tuple(parts)
                for k in range(1, len(parts) + 1):  # a dotted key opens its tables here
                    s.lines.setdefault(table + tuple(parts[:k]), s.line_at(start))
                i = s.spaces(i)
                if i < len(text) and text[i] == "=":
                    i = s.value(s.spaces(i + 1), path)
        end = text.find("\n", i)
        # always move on: a line the scanner does not understand is skipped
        i = len(text) if end < 0 else max(end + 1, start + 1)


def line_of(lines: dict[Path, int], path: tuple[str | int, ...]) -> int | None:
    """The line of ``path``, or of its nearest enclosing key or table that has one
    (array indices are not keys: the array's own line is given); None if none has."""
    keys: list[str] = []
    for part in path:
        if isinstance(part, int):
            break
        keys.append(part)
    while keys:
        found = lines.get(tuple(keys))
        if found is not None:
            return found
        keys.pop()
    return None
