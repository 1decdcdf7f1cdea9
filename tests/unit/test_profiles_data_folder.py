"""A treaty added with a file and no code: ``<TREATYFLOW_HOME>/profiles/<code>.toml``, read
where the CLI and the worker start (``adapters.profiles``), accepted by the settings, shown
by ``treaty profiles``. The worked example is the Treaty on the Prohibition of Nuclear
Weapons (``docs/examples/tpnw.toml``): Art. 15(1) "ninety days after the date of deposit
of the fiftieth instrument" (the 50th, Honduras, on 24 Oct 2020: in force 22 Jan 2021,
ICAN and the UN Secretary-General's statement of 24 Oct 2020); Art. 15(2): for a State
depositing after the fiftieth, ninety days after its own deposit."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

import settings as settings_mod
from adapters.profiles import load_data_profiles
from domain import treaty as t
from domain.treaties import PROFILES, SHIPPED, get_profile
from tests import ROOT

TPNW = ROOT / "docs" / "examples" / "tpnw.toml"
HONDURAS_50TH = date(2020, 10, 24)


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A data folder with no settings but its own; the registry as it was, after."""
    for variable in settings_mod.Settings.variables():
        monkeypatch.delenv(variable, raising=False)
    folder = tmp_path / "home"
    (folder / "profiles").mkdir(parents=True)
    monkeypatch.setenv("TREATYFLOW_HOME", str(folder))
    saved = dict(PROFILES)
    yield folder
    PROFILES.clear()
    PROFILES.update(saved)


def _add_tpnw(home: Path) -> Path:
    return Path(shutil.copy(TPNW, home / "profiles" / "tpnw.toml"))


def test_a_treaty_is_added_with_a_file(home: Path) -> None:
    _add_tpnw(home)
    [loaded] = load_data_profiles(home)
    assert get_profile("tpnw") is loaded
    assert loaded.name == "Treaty on the Prohibition of Nuclear Weapons"


def test_tpnw_enters_into_force_ninety_days_after_the_fiftieth(home: Path) -> None:
    _add_tpnw(home)
    load_data_profiles(home)
    tpnw = get_profile("TPNW")
    # 49 instruments before Honduras's (dates of no consequence but their order)
    deposits = {f"S{i:02d}": date(2018, 1, 1) + timedelta(days=10 * i) for i in range(49)}
    assert t.computed_entry_into_force(deposits, tpnw) is None
    deposits["HND"] = HONDURAS_50TH
    assert t.computed_entry_into_force(deposits, tpnw) == (date(2021, 1, 22), HONDURAS_50TH)
    # a State of the first fifty: the Treaty's date, Art. 15(1)
    assert tpnw.state_entry_into_force(date(2020, 10, 23), date(2021, 1, 22), HONDURAS_50TH) == (
        date(2021, 1, 22),
        "TPNW Art. 15(1)",
    )
    # a later State: ninety days after its own deposit, Art. 15(2)
    later = date(2021, 6, 1)
    assert tpnw.state_entry_into_force(later, date(2021, 1, 22), HONDURAS_50TH) == (
        later + timedelta(days=90),
        "TPNW Art. 15(2)",
    )
    assert later + timedelta(days=90) == date(2021, 8, 30)


def test_a_shipped_treaty_is_not_replaced(home: Path) -> None:
    (home / "profiles" / "ccm.toml").write_text(
        TPNW.read_text(encoding="utf-8").replace('code = "TPNW"', 'code = "CCM"'),
        encoding="utf-8",
    )
    with pytest.raises(settings_mod.SettingsError, match="CCM is shipped with treatyflow"):
        load_data_profiles(home)
    assert get_profile("CCM").name == "Convention on Cluster Munitions"


def test_a_wrong_file_is_refused_whole_naming_file_and_line(home: Path) -> None:
    _add_tpnw(home)
    text = TPNW.read_text(encoding="utf-8").replace('code = "TPNW"', 'code = "TPNW2"')
    bad = home / "profiles" / "tpnw2.toml"
    bad.write_text(text.replace("amount = 90", "amount = ninety", 1), encoding="utf-8")
    line = text.splitlines().index("amount = 90") + 1
    with pytest.raises(settings_mod.SettingsError) as err:
        load_data_profiles(home)
    assert f"{bad}: line {line}: not TOML" in str(err.value)
    assert f"treaty profiles check {bad}" in str(err.value)
    # none of the folder's files is taken, the good one neither
    assert "TPNW" not in PROFILES and "TPNW2" not in PROFILES


def test_settings_accept_a_data_folder_treaty(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TREATYFLOW_REPORTING_SCHEDULES", "CCM,TPNW")
    with pytest.raises(settings_mod.SettingsError, match=r"names no treaty profile \(TPNW\)"):
        settings_mod.load()
    _add_tpnw(home)
    assert settings_mod.load().reporting_schedules == ("CCM", "TPNW")


def test_cli_lists_and_shows_a_data_folder_treaty(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    path = _add_tpnw(home)
    assert main(["profiles", "list", "--json"]) == 0
    rows = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(SHIPPED) | {"TPNW"}
    assert rows["TPNW"]["source"] == str(path.resolve())
    assert rows["CCM"]["source"] == "shipped"
    assert main(["profiles", "show", "TPNW"]) == 0
    out = capsys.readouterr().out
    assert "treaty_eif, TPNW Art. 15(1)" in out
    assert '"ninety days after the date of deposit of the fiftieth instrument"' in out


def test_cli_show_gives_each_rule_with_its_article_and_words(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    assert main(["profiles", "show", "CCM", "--json"]) == 0
    shown = {r["rule"]: r for r in json.loads(capsys.readouterr().out)["rules"]}
    assert shown["state_eif"]["article"] == "CCM Art. 17(2)"
    assert shown["state_eif"]["covers"] == (
        '"after the date of the deposit of the thirtieth instrument"'
    )
    assert shown["reservations"]["text"] == (
        '"The Articles of this Convention shall not be subject to reservations."'
    )
    assert main(["profiles", "show", "ATT"]) == 0
    assert 'covers: "subsequent to the entry into force of this Treaty"' in (
        capsys.readouterr().out
    )


def test_check_runs_although_the_data_folder_holds_a_wrong_file(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    (home / "profiles" / "xyz.toml").write_text("code = \n", encoding="utf-8")
    assert main(["profiles", "list"]) == 2  # every other command: the folder is wrong
    assert "xyz.toml" in capsys.readouterr().err
    assert main(["profiles", "check", str(TPNW)]) == 0


def test_the_example_gives_the_treatys_signature_and_paragraph_two(home: Path) -> None:
    _add_tpnw(home)
    [loaded] = load_data_profiles(home)
    # open for signature "as from 20 September 2017" (the depositary's note, Art. 13)
    assert (loaded.opened_for_signature_on, loaded.signature_closes_at_eif) == (
        date(2017, 9, 20),
        False,
    )
    # Art. 15(2): a State depositing after the fiftieth instrument
    assert loaded.state_eif.applies_after == "threshold_deposit"
