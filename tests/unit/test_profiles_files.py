"""The treaty profiles read from their files decide exactly what the profiles written in
Python decided before: ``profiles_before_files.json`` is the ``model_dump`` of the CCM,
APMBC and ATT profiles as they stood in ``domain/treaties.py`` before they moved to
``domain/profiles/*.toml``."""

from __future__ import annotations

import json

import pytest

from domain.treaties import PROFILES
from tests import ROOT

FROZEN = json.loads(
    (ROOT / "tests" / "unit" / "profiles_before_files.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("code", ["CCM", "APMBC", "ATT"])
def test_profile_equals_the_one_written_in_python(code: str) -> None:
    assert PROFILES[code].model_dump(mode="json") == FROZEN[code]
