"""The layers form a DAG (DESIGN.md, "Layout"): entrypoints (cli, worker) → app →
workflows / activities → domain, with app and activities using adapters. Every import of
the project's own modules counts, at module level or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP = {"tests", "bench", "scripts", "build", "dist", "deploy", "examples"}

#: What each top-level package or module may import of the project (itself included).
ALLOWED: dict[str, set[str]] = {
    "domain": {"domain"},
    "settings": {"settings", "domain"},  # checks treaty codes against the profiles
    "tasks": {"tasks"},  # the quick-start script: standard library only
    "eventstore": {"eventstore", "domain"},
    "adapters": {"adapters", "eventstore", "domain", "settings"},
    "activities": {"activities", "adapters", "eventstore", "domain", "settings"},
    "workflows": {"workflows", "activities", "domain"},
    "audit": {"audit", "workflows", "activities", "adapters", "eventstore", "domain", "settings"},
    "app": {
        "app",
        "audit",
        "workflows",
        "activities",
        "adapters",
        "eventstore",
        "domain",
        "settings",
    },
    "worker": {
        "worker",
        "app",
        "audit",
        "workflows",
        "activities",
        "adapters",
        "eventstore",
        "domain",
        "settings",
    },
}
ALLOWED["cli"] = {"cli", *ALLOWED["worker"]}  # `treaty worker` runs the worker


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in SKIP or any(p.startswith(".") for p in rel.parts):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_the_project() -> None:
    graph = _graph()
    assert {"cli.main", "app.service", "worker", "domain.ratification"} <= set(graph)
    assert any(m.startswith("app.") for m in graph["cli.main"])


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_no_module_outside_the_cli_imports_it() -> None:
    offenders = {
        name: sorted(m for m in deps if m.split(".")[0] == "cli")
        for name, deps in _graph().items()
        if name.split(".")[0] != "cli"
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_each_layer_imports_only_the_layers_below_it() -> None:
    wrong = {}
    for name, deps in _graph().items():
        top = name.split(".")[0]
        allowed = ALLOWED.get(top)
        assert allowed is not None, f"{name}: a top-level package with no layer in ALLOWED"
        bad = sorted(m for m in deps if m.split(".")[0] not in allowed)
        if bad:
            wrong[name] = bad
    assert wrong == {}


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
