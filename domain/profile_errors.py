"""Why a profile file is refused, each reason with the line it is about.

:class:`ProfileFileError` carries every :class:`Problem` found: a TOML syntax error (its
line, from ``tomllib``), or a key the model refuses (the line of the key, found by
:func:`domain.toml_lines.key_lines`): an unknown key (with the keys accepted there), a
missing key (with the line of the table that lacks it), a wrong value (with what is
accepted). Pure: no I/O.
"""

from __future__ import annotations

import re
import tomllib
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from domain.errors import DomainError
from domain.toml_lines import Path, line_of

_TOML_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused: ``line`` (1-based; None: the file as a whole) and
    ``message`` (what is wrong and what would be accepted)."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


class ProfileFileError(DomainError):
    """A profile file refused whole: ``name`` (the file) and its ``problems``."""

    def __init__(self, name: str, problems: list[Problem]) -> None:
        self.name = name
        self.problems = tuple(problems)
        super().__init__(f"{name}: " + "; ".join(str(p) for p in self.problems))


def toml_problem(err: tomllib.TOMLDecodeError) -> Problem:
    """The syntax error ``err`` at its line (``tomllib`` puts "(at line N, column M)" at
    the end of its message)."""
    text = str(err)
    m = _TOML_LINE.search(text)
    if m is None:
        return Problem(None, f"not TOML: {text}")
    return Problem(int(m.group(1)), f"not TOML: {text[: m.start()]} (column {m.group(2)})")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _models_in(a)]
    return []


def model_at(model: type[BaseModel], path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model that reads the table at ``path`` under ``model`` (None: not a table)."""
    current = model
    for part in path:
        field = current.model_fields.get(part) if isinstance(part, str) else None
        found = _models_in(field.annotation) if field is not None else []
        if not found:
            return None
        current = found[0]
    return current


def _table(path: tuple[str | int, ...]) -> str:
    keys = [p for p in path if isinstance(p, str)]
    return f"[{'.'.join(keys)}]" if keys else "the top level"


def _key(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validation_problems(
    err: ValidationError, lines: dict[Path, int], model: type[BaseModel]
) -> list[Problem]:
    """Each error of ``err`` (validating ``model`` from a TOML document whose key lines
    are ``lines``) as a :class:`Problem` at the line of its key."""
    problems = []
    for e in err.errors(include_url=False):
        loc = tuple(e.get("loc") or ())
        kind = e.get("type", "")
        ctx = e.get("ctx") or {}
        parent, name = loc[:-1], (str(loc[-1]) if loc else "")
        if kind == "extra_forbidden":
            table = model_at(model, parent)
            accepted = ", ".join(table.model_fields) if table is not None else "none"
            message = f"unknown key {name!r} in {_table(parent)}; accepted keys: {accepted}"
            line = line_of(lines, loc)
        elif kind == "missing":
            what = "table" if model_at(model, loc) is not None else "key"
            message = f"missing {what} {name!r} in {_table(parent)}"
            line = line_of(lines, parent) if parent else None
        elif kind == "literal_error":
            shown = _show(e.get("input"))
            message = f"{_key(loc)} = {shown} is not accepted: expected {ctx['expected']}"
            line = line_of(lines, loc)
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = f"{_key(loc)} must be a table ([{_key(loc)}]), not {_show(e.get('input'))}"
            line = line_of(lines, loc)
        else:
            cause = ctx.get("error")
            text = str(cause) if cause is not None else e.get("msg", "")
            if not loc:
                message = text
            elif isinstance(e.get("input"), dict):  # a check of a table as a whole
                message = f"{_table(loc)}: {text}"
            else:
                message = f"{_key(loc)} = {_show(e.get('input'))}: {text}"
            line = line_of(lines, loc)
        problems.append(Problem(line, message))
    return sorted(problems, key=lambda p: (p.line or 0, p.message))
