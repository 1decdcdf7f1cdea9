"""Treaty profiles from the data folder: ``<TREATYFLOW_HOME>/profiles/*.toml``.

Each file adds one treaty (format: ``docs/profiles.md``): it is read, parsed by the pure
:func:`domain.treaties.parse_profile`, and registered with
:func:`domain.treaties.register_profile`. A file is named after its code in lower case
(``tpnw.toml`` for ``TPNW``) and may not replace a profile shipped with treatyflow
(:data:`domain.treaties.SHIPPED`): the processes recorded so far were decided by those.
:func:`load_data_profiles` runs where the CLI and the worker start, before any command.
"""

from __future__ import annotations

from pathlib import Path

from domain.errors import DomainError
from domain.profile_errors import Problem, ProfileFileError
from domain.treaties import TreatyProfile, data_file_problems, parse_profile, register_profile
from settings import SettingsError


def profiles_folder(home: Path) -> Path:
    """Where the data folder's profiles are: ``<home>/profiles``."""
    return home / "profiles"


def profile_files(home: Path) -> list[Path]:
    """The profile files of the data folder ``home`` (``*.toml``), sorted by name."""
    folder = profiles_folder(home)
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def read_profile_file(path: Path) -> TreatyProfile:
    """The profile in the file ``path``, as the data folder would take it.

    Raises :class:`~domain.profile_errors.ProfileFileError` (every problem, with its
    line) if the file cannot be read, is not a valid profile, is not named after its code
    or would replace a shipped profile.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ProfileFileError(str(path), [_problem(f"not UTF-8 text ({err.reason})")]) from None
    except OSError as err:
        raise ProfileFileError(str(path), [_problem(f"cannot be read: {err.strerror}")]) from None
    profile = parse_profile(text, str(path))
    problems = data_file_problems(profile, path.name)
    if problems:
        raise ProfileFileError(str(path), [_problem(p) for p in problems])
    return profile


def _problem(message: str) -> Problem:
    return Problem(None, message)


def load_data_profiles(home: Path) -> list[TreatyProfile]:
    """Read and register every profile of the data folder ``home``; the profiles read.

    Raises :class:`settings.SettingsError` (the CLI: exit 2; the worker: exit 1) naming
    the file, its problems with their lines, and `treaty profiles check FILE`: a wrong
    file is refused whole, and the others are not registered either.
    """
    profiles = []
    for path in profile_files(home):
        try:
            profiles.append(read_profile_file(path))
        except DomainError as err:
            raise SettingsError(
                f"treaty profile refused: {err} (see `treaty profiles check {path}`)"
            ) from None
    for profile in profiles:
        register_profile(profile)
    return profiles
