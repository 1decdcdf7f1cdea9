"""Tests for domain.states: resolving State and observer names as treaty documents write them."""

from __future__ import annotations

import csv

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DomainError, UnknownStateError
from domain.states import (
    OBSERVER_ALIASES,
    OBSERVERS,
    STATE_ALIASES,
    NotAStateError,
    Participant,
    all_states,
    resolve_participant,
    resolve_state,
)
from tests import ROOT

REPO = ROOT
STATUS_CSV_CANDIDATES = (
    REPO / "examples" / "ccm" / "status.csv",
    REPO.parent / "shared" / "data" / "ccm_status.csv",
)
COUNTRIES = sorted(pycountry.countries, key=lambda country: country.alpha_3)


def _status_rows() -> list[dict[str, str]]:
    for path in STATUS_CSV_CANDIDATES:
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as handle:
                return list(csv.DictReader(handle))
    pytest.fail(f"CCM status CSV not found; looked in {[str(p) for p in STATUS_CSV_CANDIDATES]}")


# --------------------------------------------------------------------------------------
# The CCM status table
# --------------------------------------------------------------------------------------

TRICKY = {
    "Lao PDR": "LAO",
    "Holy See": "VAT",
    "Cote d'Ivoire": "CIV",
    "Cabo Verde": "CPV",
    "North Macedonia (then FYR Macedonia)": "MKD",
    "Palestine (State of)": "PSE",
    "Eswatini": "SWZ",
    "Czech Republic": "CZE",
    "Moldova": "MDA",
    "Congo": "COG",
    "Democratic Republic of the Congo": "COD",
    "Bolivia": "BOL",
    "Cook Islands": "COK",
    "Guinea-Bissau": "GNB",
    "Gambia": "GMB",
    "Guinea": "GIN",
    "Niger": "NER",
    "Netherlands": "NLD",
    "Bulgaria": "BGR",
    "Switzerland": "CHE",
    "Germany": "DEU",
    "Chad": "TCD",
    "Croatia": "HRV",
    "Sri Lanka": "LKA",
}


def test_every_status_row_resolves_to_a_state() -> None:
    rows = _status_rows()
    assert len(rows) == 79
    for row in rows:
        participant = resolve_state(row["state"])
        assert participant.kind == "state"
        assert len(participant.code) == 3 and participant.code.isupper()


def test_status_rows_map_to_distinct_codes() -> None:
    rows = _status_rows()
    codes = {resolve_state(row["state"]).code for row in rows}
    assert len(codes) == len(rows) == 79


def test_tricky_status_names_resolve_to_the_right_code() -> None:
    in_csv = {row["state"] for row in _status_rows()}
    for name, code in TRICKY.items():
        assert name in in_csv, name
        assert resolve_state(name).code == code, name


# --------------------------------------------------------------------------------------
# Aliases and normalisation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Côte d'Ivoire", "CIV"),
        ("Cote d’Ivoire", "CIV"),
        ("Ivory Coast", "CIV"),
        ("Cape Verde", "CPV"),
        ("Macedonia", "MKD"),
        ("FYR Macedonia", "MKD"),
        ("the former Yugoslav Republic of Macedonia", "MKD"),
        ("North Macedonia", "MKD"),
        ("State of Palestine", "PSE"),
        ("Palestine", "PSE"),
        ("Swaziland", "SWZ"),
        ("Czechia", "CZE"),
        ("Republic of Moldova", "MDA"),
        ("DR Congo", "COD"),
        ("Congo, The Democratic Republic of the", "COD"),
        ("Republic of the Congo", "COG"),
        ("Bolivia (Plurinational State of)", "BOL"),
        ("Iran", "IRN"),
        ("Iran (Islamic Republic of)", "IRN"),
        ("Republic of Korea", "KOR"),
        ("South Korea", "KOR"),
        ("Korea, Republic of", "KOR"),
        ("Democratic People's Republic of Korea", "PRK"),
        ("Viet Nam", "VNM"),
        ("Vietnam", "VNM"),
        ("United Kingdom", "GBR"),
        ("UK", "GBR"),
        ("United Kingdom of Great Britain and Northern Ireland", "GBR"),
        ("United States", "USA"),
        ("USA", "USA"),
        ("U.S.", "USA"),
        ("United States of America", "USA"),
        ("the Netherlands", "NLD"),
        ("The Gambia", "GMB"),
        ("Türkiye", "TUR"),
        ("Turkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Russia", "RUS"),
        ("Russian Federation", "RUS"),
        ("Laos", "LAO"),
        ("Lao People's Democratic Republic", "LAO"),
        ("Holy See (Vatican City State)", "VAT"),
        ("Micronesia (Federated States of)", "FSM"),
        ("United Republic of Tanzania", "TZA"),
        ("St Kitts & Nevis", "KNA"),
        ("St. Lucia", "LCA"),
        ("Sao Tome and Principe", "STP"),
        ("Timor-Leste", "TLS"),
        ("Guinea Bissau", "GNB"),
        ("BGR", "BGR"),
        ("BG", "BGR"),
        ("bgr", "BGR"),
        ("100", "BGR"),
    ],
)
def test_alias_resolves(name: str, code: str) -> None:
    assert resolve_state(name).code == code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("  lao   pdr ", "LAO"),
        ("HOLY SEE", "VAT"),
        ("cote D'IVOIRE", "CIV"),
        ("\tthe  Netherlands\n", "NLD"),
        ("THE GAMBIA", "GMB"),
        ("palestine ( state of )", "PSE"),
        ("north  macedonia (THEN fyr macedonia)", "MKD"),
        ("czech  republic", "CZE"),
        ("democratic republic of the CONGO", "COD"),
        (" gbr ", "GBR"),
    ],
)
def test_alias_with_odd_case_and_spacing_resolves(name: str, code: str) -> None:
    assert resolve_state(name).code == code


def test_every_listed_alias_resolves_to_its_code() -> None:
    for alias, code in STATE_ALIASES.items():
        assert resolve_state(alias).code == code, alias
    for alias, code in OBSERVER_ALIASES.items():
        assert resolve_participant(alias).code == code, alias


def test_display_names_follow_treaty_usage() -> None:
    expected = {
        "BOL": "Bolivia",
        "MDA": "Moldova",
        "LAO": "Lao PDR",
        "VAT": "Holy See",
        "CIV": "Côte d'Ivoire",
        "MKD": "North Macedonia",
        "PSE": "State of Palestine",
        "COD": "Democratic Republic of the Congo",
        "COG": "Congo",
        "BGR": "Bulgaria",
    }
    for code, name in expected.items():
        assert resolve_state(code) == Participant(code, name, "state")


def test_resolved_participant_is_frozen_and_hashable() -> None:
    bulgaria = resolve_state("Bulgaria")
    with pytest.raises(AttributeError):
        bulgaria.code = "XXX"  # type: ignore[misc]
    assert {bulgaria, resolve_state("BGR")} == {bulgaria}


def test_all_states_lists_every_iso_country_once() -> None:
    states = all_states()
    assert [s.code for s in states] == [c.alpha_3 for c in COUNTRIES]
    assert all(s.kind == "state" for s in states)


# --------------------------------------------------------------------------------------
# Unknown names
# --------------------------------------------------------------------------------------


def test_misspelt_name_suggests_the_closest_names() -> None:
    with pytest.raises(UnknownStateError) as caught:
        resolve_state("Bulgria")
    assert "Bulgaria" in caught.value.suggestions
    assert caught.value.suggestions[0] == "Bulgaria"
    assert len(caught.value.suggestions) <= 3
    assert caught.value.name == "Bulgria"
    assert "Bulgaria" in str(caught.value)


def test_suggestions_are_display_names_of_distinct_states() -> None:
    with pytest.raises(UnknownStateError) as caught:
        resolve_state("Korea")
    suggestions = caught.value.suggestions
    assert len(suggestions) == len(set(suggestions)) <= 3
    assert {"Republic of Korea", "Democratic People's Republic of Korea"} <= set(suggestions)


@pytest.mark.parametrize("name", ["Atlantis", "Narnia", "XYZ", "Q", "the"])
def test_unknown_name_raises(name: str) -> None:
    with pytest.raises(UnknownStateError) as caught:
        resolve_state(name)
    assert isinstance(caught.value, DomainError)
    assert not isinstance(caught.value, NotAStateError)
    assert caught.value.name == name
    with pytest.raises(UnknownStateError):
        resolve_participant(name)


@pytest.mark.parametrize("name", ["", " ", "   \t\n"])
def test_blank_name_raises(name: str) -> None:
    with pytest.raises(UnknownStateError) as caught:
        resolve_state(name)
    assert caught.value.suggestions == []
    with pytest.raises(UnknownStateError):
        resolve_participant(name)


def test_non_string_raises_type_error() -> None:
    with pytest.raises(TypeError):
        resolve_state(100)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Observers
# --------------------------------------------------------------------------------------

OBSERVER_NAMES = {
    "CMC": "CMC",
    "the CMC": "CMC",
    "Cluster Munition Coalition": "CMC",
    "the Cluster Munition Coalition": "CMC",
    "ICRC": "ICRC",
    "icrc": "ICRC",
    "International Committee of the Red Cross": "ICRC",
    "UNMAS": "UNMAS",
    "United Nations Mine Action Service": "UNMAS",
    "UNODA": "UNODA",
    "United Nations Office for Disarmament Affairs": "UNODA",
    "GICHD": "GICHD",
    "the GICHD": "GICHD",
    "Geneva International Centre for Humanitarian Demining": "GICHD",
    "UNDP": "UNDP",
    "United Nations Development Programme": "UNDP",
}


@pytest.mark.parametrize(("name", "code"), sorted(OBSERVER_NAMES.items()))
def test_observer_resolves_as_participant(name: str, code: str) -> None:
    participant = resolve_participant(name)
    assert participant.code == code
    assert participant.kind == "observer"


@pytest.mark.parametrize("name", sorted(OBSERVER_NAMES))
def test_observer_is_not_a_state(name: str) -> None:
    with pytest.raises(NotAStateError) as caught:
        resolve_state(name)
    assert isinstance(caught.value, UnknownStateError)
    assert "observer" in str(caught.value)
    assert "not a State" in str(caught.value)
    assert caught.value.observer.code == OBSERVER_NAMES[name]


def test_observers_are_the_six_known_ones() -> None:
    assert [o.code for o in OBSERVERS] == ["CMC", "ICRC", "UNMAS", "UNODA", "GICHD", "UNDP"]
    assert all(o.kind == "observer" for o in OBSERVERS)


def test_participant_also_resolves_states() -> None:
    assert resolve_participant("Lao PDR") == resolve_state("LAO")
    assert resolve_participant("Bulgaria").kind == "state"


def test_participant_suggestions_include_observers() -> None:
    with pytest.raises(UnknownStateError) as caught:
        resolve_participant("Cluster Munitions Coalition ")
    assert "Cluster Munition Coalition" in caught.value.suggestions


# --------------------------------------------------------------------------------------
# Every ISO country
# --------------------------------------------------------------------------------------


def test_every_pycountry_country_round_trips() -> None:
    for country in COUNTRIES:
        code = country.alpha_3
        for name in (code, country.alpha_2, country.name):
            assert resolve_state(name).code == code, name
        for attribute in ("official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                assert resolve_state(name).code == code, name
        display = resolve_state(code).name
        assert resolve_state(display).code == code, display


@st.composite
def _mangled(draw: st.DrawFn, text: str) -> str:
    """``text`` with random letter case and surrounding / repeated whitespace."""
    cased = "".join(ch.upper() if draw(st.booleans()) else ch.lower() for ch in text)
    pad = st.sampled_from(["", " ", "  ", "\t", "\n "])
    return draw(pad) + cased.replace(" ", " " + draw(pad)) + draw(pad)


@given(country=st.sampled_from(COUNTRIES), data=st.data())
def test_pycountry_code_and_name_resolve_back(country: object, data: st.DataObject) -> None:
    code = country.alpha_3  # type: ignore[attr-defined]
    name = country.name  # type: ignore[attr-defined]
    assert resolve_state(code).code == code
    assert resolve_state(name).code == code
    assert resolve_state(data.draw(_mangled(code))).code == code
    assert resolve_state(data.draw(_mangled(name))).code == code
    assert resolve_participant(data.draw(_mangled(name))).code == code


def test_resolution_is_deterministic_and_cached() -> None:
    first = resolve_state("Lao PDR")
    assert resolve_state("Lao PDR") is first
    assert resolve_state.cache_info().hits >= 1
