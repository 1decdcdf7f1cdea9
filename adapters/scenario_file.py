"""Scenario files in YAML (``treaty scenario run FILE.yaml``). Pure: parsing only.

The file is a mapping with a list of ``facts`` (or the list alone)::

    treaty: CCM                      # optional, default CCM (or --treaty)
    about: what the file is          # optional, free text, not recorded
    anchors: {...}                   # optional, a place for YAML anchors (&name), not recorded
    facts:
      - decision: isu-hosting        # the process: decision / hca / ratification
        do: position                 # the command (see domain.scenario._COMMANDS)
        participant: Belgium
        stance: undecided
        stated_on: 2011-02-24
      - ratification: Bulgaria
        do: domestic_procedure
        completed_on: 2011-02-10

Each item is checked by :func:`domain.scenario.parse_item` (the validator the JSON Lines
format uses too). Errors name the line: of the field at fault, or of the item.

The YAML is read with the safe loader, with two changes so that values reach the
validator as written: dates stay text (the validator parses ``YYYY-MM-DD`` and says what
is wrong with ``2011-02-30``), and only ``true``/``false`` are booleans (YAML 1.1 would
read Norway's code ``NO``, or ``yes``/``on``, as booleans). A key given twice in an item is
an error (YAML would keep the last silently). Merge keys (``<<: *anchor``) work.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from domain.errors import DomainError
from domain.scenario import ScenarioError, Step, parse_item
from domain.treaties import get_profile

TOP_LEVEL = ("treaty", "about", "anchors", "facts")

_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.SafeLoader):
    """SafeLoader without timestamps and with YAML 1.2 booleans only."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"the value {node.value!r}"


def _compose(text: str) -> Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        what = " ".join(x for x in (err.context, err.problem) if x)
        raise ScenarioError(line, f"not valid YAML: {what}") from None
    except yaml.YAMLError as err:
        raise ScenarioError(1, f"not valid YAML: {err}") from None


def _construct(loader: _Loader, node: Node) -> Any:
    try:
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise ScenarioError(
            mark.line + 1 if mark else _line(node), f"not valid YAML: {err.problem}"
        ) from None


def _field_lines(node: MappingNode) -> dict[str, int]:
    """The line of each key written in the item (merged keys: not listed); a key written
    twice is an error."""
    lines: dict[str, int] = {}
    for key, _ in node.value:
        if not isinstance(key, ScalarNode) or key.value == "<<":
            continue
        if key.value in lines:
            raise ScenarioError(
                _line(key),
                f"field {key.value!r} given twice in this item (first on line "
                f"{lines[key.value]}): give each field once",
            )
        lines[key.value] = _line(key)
    return lines


def parse(text: str, treaty: str = "CCM") -> list[Step]:
    """Every step of a YAML scenario file's ``text``, in order; :class:`ScenarioError`
    naming the line of the first item (or field) that is not a well-formed command, or
    what is wrong with the file as a whole."""
    root = _compose(text)
    shape = (
        "a mapping with a list of items under 'facts' (and optionally 'treaty', 'about', "
        "'anchors'), or a list of items"
    )
    if root is None:
        raise ScenarioError(1, f"the file holds no YAML: expected {shape}")
    loader = _Loader("")
    facts: Node | None = root
    if isinstance(root, MappingNode):
        facts = None
        for key, value in root.value:
            name = key.value if isinstance(key, ScalarNode) else None
            if name not in TOP_LEVEL:
                raise ScenarioError(
                    _line(key),
                    f"unknown top-level key {name!r}: expected {', '.join(TOP_LEVEL)}",
                )
            if name == "treaty":
                code = _construct(loader, value)
                if not isinstance(code, str):
                    raise ScenarioError(_line(value), "treaty: expected a treaty code, e.g. CCM")
                try:
                    treaty = get_profile(code).code
                except DomainError as err:
                    raise ScenarioError(_line(value), str(err)) from None
            elif name == "facts":
                facts = value
        if facts is None:
            raise ScenarioError(_line(root), f"no 'facts': expected {shape}")
    if not isinstance(facts, SequenceNode):
        raise ScenarioError(_line(facts), f"found {_kind(facts)}: expected {shape}")
    steps = []
    for item in facts.value:
        if not isinstance(item, MappingNode):
            raise ScenarioError(
                _line(item),
                f"an item is {_kind(item)}: expected a mapping of fields "
                "(decision/hca/ratification, do, and the command's fields)",
            )
        lines = _field_lines(item)
        obj = _construct(loader, item)
        steps.append(parse_item(obj, _line(item), treaty, lines))
    if not steps:
        raise ScenarioError(_line(facts), "the file holds no fact")
    return steps
