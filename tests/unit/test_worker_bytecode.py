"""The worker keeps the workflow modules' bytecode where ``PYTHONDONTWRITEBYTECODE`` is set
(as the Dockerfile sets it): the workflow sandbox imports a workflow's module afresh for
every run, and without cached bytecode it compiles the source each time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import worker


def test_bytecode_is_kept_under_the_home_when_the_environment_forbids_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    worker.keep_compiled_workflows(tmp_path)
    assert sys.dont_write_bytecode is False
    assert sys.pycache_prefix == str(tmp_path / "pycache")


def test_a_chosen_cache_and_the_default_behaviour_are_left_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(sys, "pycache_prefix", "/elsewhere")
    worker.keep_compiled_workflows(tmp_path)
    assert sys.pycache_prefix == "/elsewhere"
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    worker.keep_compiled_workflows(tmp_path)
    assert sys.pycache_prefix is None  # bytecode beside the sources, as Python keeps it
