"""The treaty profiles read from their files decide exactly what the profiles written in
Python decided before: ``profiles_before_files.json`` is the ``model_dump`` of the CCM,
APMBC and ATT profiles as they stood in ``domain/treaties.py`` before they moved to
``domain/profiles/*.toml``. The files add only the words of each rule and which States a
State's entry-into-force paragraph covers; every value that was there is unchanged."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from domain.treaties import PROFILES
from tests import ROOT, SHARED_DATA

FROZEN = json.loads(
    (ROOT / "tests" / "unit" / "profiles_before_files.json").read_text(encoding="utf-8")
)

#: What the files added: the words of each rule, and whom the state_eif paragraph covers.
ADDED = {
    "text",
    "covers",
    "applies_after",
    "annual_report_text",
    "signature_text",
    "instruments_text",
    "provisional_application_text",
    "reservations_text",
}


def _without_added(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_added(v) for k, v in value.items() if k not in ADDED}
    return value


@pytest.mark.parametrize("code", ["CCM", "APMBC", "ATT"])
def test_profile_equals_the_one_written_in_python(code: str) -> None:
    assert _without_added(PROFILES[code].model_dump(mode="json")) == FROZEN[code]


@pytest.mark.parametrize(
    ("code", "applies_after"),
    [
        ("CCM", "threshold_deposit"),  # Art. 17(2): "after the date of the deposit of ..."
        ("APMBC", "threshold_deposit"),
        ("ATT", "treaty_entry_into_force"),  # Art. 22(2): "subsequent to the entry into force"
    ],
)
def test_state_paragraph_covers_what_the_treaty_says(code: str, applies_after: str) -> None:
    assert PROFILES[code].state_eif.applies_after == applies_after


# --- every rule in the treaty's own words ---------------------------------------------------

RULES_MD = (SHARED_DATA / "treaty_rules.md").read_text(encoding="utf-8").replace("**", "")
QUOTED = re.compile(r'"[^"]+"(?: … "[^"]+")*')
FRAGMENT = re.compile(r'"([^"]+)"')


def _words(value: Any, key: str = "") -> list[str]:
    """Every ``text``, ``covers`` and ``*_text`` a profile holds, at any depth."""
    if isinstance(value, dict):
        return [w for k, v in value.items() for w in _words(v, k)]
    if isinstance(value, str) and (key in ("text", "covers") or key.endswith("_text")):
        return [value]
    return []


def _quoted_in_rules(fragment: str) -> bool:
    """``fragment`` is in treaty_rules.md word for word; ``[word]`` stands for a word the
    file gives in brackets after the one it replaces ("thirtieth [fortieth]")."""
    pattern = re.sub(r"\\\[(\w+)\\\]", r"\\w+ \\[\1\\]", re.escape(fragment))
    return re.search(pattern, RULES_MD) is not None


@pytest.mark.parametrize("code", ["CCM", "APMBC", "ATT"])
def test_every_rule_has_words_and_every_quotation_is_the_treatys(code: str) -> None:
    words = _words(PROFILES[code].model_dump(mode="json"))
    # 6 date rules or fewer (ATT has no stockpile nor clearance rule), and the others
    assert len(words) >= 12
    for text in words:
        if text.startswith('"'):  # the treaty's own words, nothing else
            assert QUOTED.fullmatch(text), text
        else:
            assert text.startswith(("paraphrase: ", "no text: ")), text
        for fragment in FRAGMENT.findall(text):
            assert _quoted_in_rules(fragment), fragment


def test_a_fragment_not_in_the_rules_is_caught() -> None:
    assert _quoted_in_rules("after the date of the deposit of the [fortieth] instrument")
    assert not _quoted_in_rules("after the deposit of the fortieth instrument")
    assert not _quoted_in_rules("ninety days after the date of deposit of the fiftieth")
