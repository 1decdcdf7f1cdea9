"""States and the other participants in a treaty process.

Pure and deterministic: no clock, no I/O except pycountry reading its own packaged data
(once, on first use; every lookup is then cached).

A State is identified by its ISO 3166-1 alpha-3 code (``"BGR"``); the country data come
from :mod:`pycountry` (ISO 3166-1 as packaged there). Treaty documents name States in
many ways — UN depositary style ("Iran (Islamic Republic of)"), short forms ("Lao PDR",
"Holy See"), older names ("Swaziland", "FYR Macedonia"), names without accents ("Cote
d'Ivoire") — so :func:`resolve_state` accepts, besides every pycountry name and code, the
aliases in :data:`STATE_ALIASES`.

Observers (organisations that take part in meetings but are not States: CMC, ICRC,
UNMAS, UNODA, GICHD, UNDP) are :data:`OBSERVERS`; :func:`resolve_participant` accepts
them as well as States.

Matching ignores case, accents, punctuation (``. , ( ) - '``), runs of whitespace, a
leading "the", "&" for "and" and "St" for "Saint".
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pycountry

from domain.errors import DomainError, UnknownStateError

ParticipantKind = Literal["state", "observer"]


@dataclass(frozen=True)
class Participant:
    """A State or an observer taking part in a treaty process.

    ``code``: for a State its ISO 3166-1 alpha-3 code (``"BGR"``), for an observer its
    acronym (``"CMC"``). ``name``: the display name (``"Bulgaria"``,
    ``"Cluster Munition Coalition"``). ``kind``: ``"state"`` or ``"observer"``.
    """

    code: str
    name: str
    kind: ParticipantKind


class NotAStateError(UnknownStateError):
    """A name that designates an observer (e.g. the CMC) where a State is required.

    A subclass of :class:`UnknownStateError`; ``observer`` is the observer named.
    """

    def __init__(self, name: str, observer: Participant) -> None:
        self.name = name
        self.suggestions = []
        self.observer = observer
        DomainError.__init__(
            self,
            f"{name!r} is an observer ({observer.name}, {observer.code}), not a State "
            "(give an ISO 3166 name or alpha-3 code, e.g. 'BGR')",
        )


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------

STATE_DISPLAY_NAMES: Mapping[str, str] = {
    # alpha-3 -> display name, where treaty usage is clearer than pycountry's
    # ``common_name`` / ``name`` (UN depositary practice, CCM documents).
    "LAO": "Lao PDR",
    "VAT": "Holy See",
    "PSE": "State of Palestine",
    "COD": "Democratic Republic of the Congo",
    "KOR": "Republic of Korea",
    "PRK": "Democratic People's Republic of Korea",
    "VNM": "Viet Nam",
    "FSM": "Micronesia",
    "VGB": "British Virgin Islands",
    "VIR": "United States Virgin Islands",
}
"""Display names that override pycountry's ``common_name`` / ``name`` (alpha-3 -> name)."""

STATE_ALIASES: Mapping[str, str] = {
    # alias (any case/spacing/accents) -> alpha-3; pycountry's own names, official and
    # common names, alpha-2 and alpha-3 codes are accepted without being listed here.
    "Lao PDR": "LAO",
    "Lao": "LAO",
    "Holy See": "VAT",
    "Vatican": "VAT",
    "Vatican City": "VAT",
    "Vatican City State": "VAT",
    "Ivory Coast": "CIV",
    "Cape Verde": "CPV",
    "Macedonia": "MKD",
    "North Macedonia (then FYR Macedonia)": "MKD",
    "FYR Macedonia": "MKD",
    "Macedonia (FYR)": "MKD",
    "FYR of Macedonia": "MKD",
    "FYROM": "MKD",
    "Former Yugoslav Republic of Macedonia": "MKD",
    "Republic of Macedonia": "MKD",
    "Palestine": "PSE",
    "Swaziland": "SWZ",
    "Kingdom of Swaziland": "SWZ",
    "Czech Republic": "CZE",
    "DR Congo": "COD",
    "DRC": "COD",
    "Democratic Republic of Congo": "COD",
    "Congo (Democratic Republic of the)": "COD",
    "Congo, Democratic Republic of the": "COD",
    "Congo-Kinshasa": "COD",
    "Zaire": "COD",
    "Republic of Congo": "COG",
    "Congo (Republic of the)": "COG",
    "Congo-Brazzaville": "COG",
    "Korea (Republic of)": "KOR",
    "ROK": "KOR",
    "DPRK": "PRK",
    "Vietnam": "VNM",
    "UK": "GBR",
    "U.K.": "GBR",
    "Great Britain": "GBR",
    "Britain": "GBR",
    "US": "USA",
    "U.S.A.": "USA",
    "United States of America": "USA",
    "Turkey": "TUR",
    "Russia": "RUS",
    "Brunei": "BRN",
    "East Timor": "TLS",
    "Burma": "MMR",
    "UAE": "ARE",
    "Slovak Republic": "SVK",
    "Kyrgyz Republic": "KGZ",
    "Libyan Arab Jamahiriya": "LBY",
    "Micronesia": "FSM",
    "Bahamas": "BHS",
    "Tanzania": "TZA",
    "Syria": "SYR",
    "Venezuela": "VEN",
    "Bolivia": "BOL",
    "Iran": "IRN",
    "Moldova": "MDA",
}
"""Names used in treaty documents that pycountry does not know (alias -> alpha-3)."""

OBSERVERS: tuple[Participant, ...] = (
    Participant("CMC", "Cluster Munition Coalition", "observer"),
    Participant("ICRC", "International Committee of the Red Cross", "observer"),
    Participant("UNMAS", "United Nations Mine Action Service", "observer"),
    Participant("UNODA", "United Nations Office for Disarmament Affairs", "observer"),
    Participant("GICHD", "Geneva International Centre for Humanitarian Demining", "observer"),
    Participant("UNDP", "United Nations Development Programme", "observer"),
)
"""The observers known to the engine (not ISO 3166 States), in a fixed order."""

OBSERVER_ALIASES: Mapping[str, str] = {
    # alias -> observer code; each observer's code and name are accepted without listing.
    "International Committee of the Red Cross (ICRC)": "ICRC",
    "UN Mine Action Service": "UNMAS",
    "UN Office for Disarmament Affairs": "UNODA",
    "Office for Disarmament Affairs": "UNODA",
    "Geneva International Center for Humanitarian Demining": "GICHD",
    "UN Development Programme": "UNDP",
    "United Nations Development Program": "UNDP",
}
"""Other names of the observers (alias -> code)."""


# --------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------

_APOSTROPHES = re.compile(r"['’‘`´.]")
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_PARENTHETICAL = re.compile(r"\s*\([^()]*\)")


def _normalise(text: str) -> str:
    """The matching key of a name: no accents, casefolded, punctuation and a leading
    "the" removed, whitespace collapsed, "&" read as "and" and "St" as "Saint"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().replace("&", " and ")
    text = _APOSTROPHES.sub("", text)
    text = _PUNCTUATION.sub(" ", text)
    tokens = text.split()
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    return " ".join("saint" if token == "st" else token for token in tokens)


def _inverted(name: str) -> str | None:
    """ISO's inverted form "Korea, Republic of" read in natural order, else ``None``."""
    head, sep, tail = name.partition(", ")
    if not sep or not re.search(r"\bof( the)?$", tail, re.IGNORECASE):
        return None
    return f"{tail} {head}"


def _build_index(entries: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Normalised name -> code, from (name, code) pairs. A name that would match two
    codes, or that reads as an ISO code of another State, is a data error
    (``ValueError``)."""
    index: dict[str, str] = {}
    for name, code in entries:
        key = _normalise(name)
        if not key:
            continue
        if index.setdefault(key, code) != code:
            raise ValueError(f"name {name!r} matches both {index[key]} and {code}")
        iso = _state_codes().get(key.upper())
        if iso is not None and iso != code:
            raise ValueError(f"name {name!r} ({code}) reads as the ISO code of {iso}")
    return index


def _display_name(country: Any) -> str:
    """``STATE_DISPLAY_NAMES`` if listed, else pycountry's ``common_name`` or ``name``."""
    if country.alpha_3 in STATE_DISPLAY_NAMES:
        return STATE_DISPLAY_NAMES[country.alpha_3]
    return getattr(country, "common_name", None) or country.name


@functools.cache
def _states() -> dict[str, Participant]:
    """Every ISO 3166-1 country as a State participant, by alpha-3 code."""
    return {
        country.alpha_3: Participant(country.alpha_3, _display_name(country), "state")
        for country in pycountry.countries
    }


@functools.cache
def _state_names() -> dict[str, str]:
    """Normalised names (not codes) of States -> alpha-3."""

    def entries() -> Iterable[tuple[str, str]]:
        for code, state in _states().items():
            yield state.name, code
        for country in pycountry.countries:
            code = country.alpha_3
            for attribute in ("name", "official_name", "common_name"):
                name = getattr(country, attribute, None)
                if name:
                    yield name, code
                    inverted = _inverted(name)
                    if inverted:
                        yield inverted, code
        yield from STATE_ALIASES.items()

    return _build_index(entries())


@functools.cache
def _state_codes() -> Mapping[str, str]:
    """ISO alpha-2 and alpha-3 codes (upper case) -> alpha-3."""
    codes: dict[str, str] = {}
    for country in pycountry.countries:
        codes[country.alpha_2] = country.alpha_3
        codes[country.alpha_3] = country.alpha_3
    return codes


@functools.cache
def _observer_names() -> dict[str, str]:
    """Names and acronyms of observers; none may also name a State."""

    def entries() -> Iterable[tuple[str, str]]:
        for observer in OBSERVERS:
            yield observer.name, observer.code
            yield observer.code, observer.code
        yield from OBSERVER_ALIASES.items()

    index = _build_index(entries())
    clashes = sorted(key for key in index if key in _state_names() or key.upper() in _state_codes())
    if clashes:
        raise ValueError(f"observer names also name a State: {clashes}")
    return index


def _observers() -> dict[str, Participant]:
    """The observers by code."""
    return {observer.code: observer for observer in OBSERVERS}


def _find_state(text: str) -> Participant | None:
    """The State ``text`` names, or ``None``."""
    code = _state_codes().get(text.upper())
    if code is None:
        names = _state_names()
        code = names.get(_normalise(text))
        if code is None:
            # Annotations such as "North Macedonia (then FYR Macedonia)".
            code = names.get(_normalise(_PARENTHETICAL.sub("", text)))
    if code is None:
        # pycountry's own lookup also knows numeric codes ("100") and flags.
        try:
            code = pycountry.countries.lookup(text).alpha_3
        except LookupError:
            return None
    return _states()[code]


def _find_observer(text: str) -> Participant | None:
    names = _observer_names()
    code = names.get(_normalise(text)) or names.get(_normalise(_PARENTHETICAL.sub("", text)))
    return _observers()[code] if code else None


def _suggestions(text: str, *, observers: bool, limit: int = 3) -> list[str]:
    """Display names of up to ``limit`` participants with a known name closest to
    ``text`` (difflib ratio >= 0.6), best first; observers only if ``observers``."""
    codes = dict(_state_names())
    participants = dict(_states())
    if observers:
        codes.update(_observer_names())
        participants.update(_observers())
    matches = difflib.get_close_matches(_normalise(text), list(codes), n=4 * limit, cutoff=0.6)
    result: list[str] = []
    for key in matches:
        name = participants[codes[key]].name
        if name not in result:
            result.append(name)
    return result[:limit]


def _clean(name_or_code: str) -> str:
    """``name_or_code`` with whitespace collapsed; blank -> ``UnknownStateError``."""
    if not isinstance(name_or_code, str):
        raise TypeError(f"a State name or code must be a str, got {type(name_or_code).__name__}")
    text = " ".join(name_or_code.split())
    if not text:
        raise UnknownStateError(name_or_code, [])
    return text


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def resolve_state(name_or_code: str) -> Participant:
    """The State named by ``name_or_code``.

    Accepts an ISO 3166-1 alpha-3 (``"BGR"``) or alpha-2 (``"BG"``) code, any pycountry
    name, official name or common name, and the aliases of treaty documents
    (:data:`STATE_ALIASES`: ``"Lao PDR"``, ``"Holy See"``, ``"Swaziland"``, ...); case,
    accents, punctuation, extra whitespace and a leading "the" do not matter, and a
    trailing parenthetical note is ignored if the full text matches nothing. Whatever
    else :func:`pycountry.countries.lookup` accepts (numeric code ``"100"``) also works.

    Returns a :class:`Participant` with ``kind == "state"``, ``code`` the alpha-3 code.

    Raises :class:`NotAStateError` (an :class:`UnknownStateError`) if the text names an
    observer, :class:`UnknownStateError` (``suggestions``: up to 3 close known names) if
    it names nothing known or is blank, ``TypeError`` if it is not a ``str``.
    """
    text = _clean(name_or_code)
    state = _find_state(text)
    if state is not None:
        return state
    observer = _find_observer(text)
    if observer is not None:
        raise NotAStateError(name_or_code, observer)
    raise UnknownStateError(name_or_code, _suggestions(text, observers=False))


@functools.lru_cache(maxsize=4096)
def resolve_participant(name_or_code: str) -> Participant:
    """The State or observer named by ``name_or_code``.

    Accepts everything :func:`resolve_state` accepts, and the observers of
    :data:`OBSERVERS` by acronym or name (``"ICRC"``, ``"the CMC"``,
    ``"Cluster Munition Coalition"``). Returns a :class:`Participant` (``kind`` is
    ``"state"`` or ``"observer"``).

    Raises :class:`UnknownStateError` (``suggestions``: up to 3 close known names of
    States or observers) if it names nothing known or is blank, ``TypeError`` if it is
    not a ``str``.
    """
    text = _clean(name_or_code)
    observer = _find_observer(text)
    if observer is not None:
        return observer
    state = _find_state(text)
    if state is not None:
        return state
    raise UnknownStateError(name_or_code, _suggestions(text, observers=True))


def all_states() -> tuple[Participant, ...]:
    """Every ISO 3166-1 country as a State :class:`Participant`, ordered by alpha-3 code."""
    return tuple(state for _, state in sorted(_states().items()))
