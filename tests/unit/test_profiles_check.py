"""A profile file is refused whole, each problem named with its line and what would be
accepted (``parse_profile``, ``treaty profiles check``): a TOML syntax error, an unknown
key, a missing key, a value not accepted. The files changed here are the shipped worked
example, ``docs/examples/tpnw.toml``, with one thing wrong; each expected line is found
by reading the changed text, not from the parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.profile_errors import ProfileFileError
from domain.toml_lines import key_lines
from domain.treaties import parse_profile
from tests import ROOT

TPNW = ROOT / "docs" / "examples" / "tpnw.toml"
TEXT = TPNW.read_text(encoding="utf-8")


def _line(text: str, starts: str, after: str = "") -> int:
    """The 1-based line of ``text`` that starts with ``starts`` (the first after the line
    ``after``, when given)."""
    lines = text.splitlines()
    begin = lines.index(after) if after else 0
    return next(i for i, ln in enumerate(lines[begin:], begin + 1) if ln.startswith(starts))


def _problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(ProfileFileError) as err:
        parse_profile(text, "tpnw.toml")
    assert str(err.value).startswith("tpnw.toml: ")
    return [(p.line, p.message) for p in err.value.problems]


def test_the_worked_example_is_accepted() -> None:
    profile = parse_profile(TEXT, "tpnw.toml")
    assert (profile.code, profile.eif_threshold) == ("TPNW", 50)


def test_toml_syntax_error_names_its_line() -> None:
    text = TEXT.replace("eif_threshold = 50", "eif_threshold = = 50")
    [(line, message)] = _problems(text)
    assert line == _line(text, "eif_threshold")
    assert message.startswith("not TOML")


def test_unknown_key_names_its_line_and_the_keys_accepted() -> None:
    text = TEXT.replace("amount = 90\n", "weeks = 13\n", 1)
    problems = _problems(text)
    # "weeks" is not a key, and "amount" is then missing from [treaty_eif]: both said
    assert (
        _line(text, "weeks"),
        "unknown key 'weeks' in [treaty_eif]; accepted keys: kind, amount, article, text",
    ) in problems
    assert (_line(text, "[treaty_eif]"), "missing key 'amount' in [treaty_eif]") in problems


def test_missing_key_names_the_table_that_lacks_it() -> None:
    text = TEXT.replace('applies_after = "threshold_deposit"\n', "")
    assert _problems(text) == [
        (_line(text, "[state_eif]"), "missing key 'applies_after' in [state_eif]")
    ]


def test_missing_top_level_key_has_no_line() -> None:
    text = TEXT.replace('weapons = "nuclear weapons"\n', "")
    assert _problems(text) == [(None, "missing key 'weapons' in the top level")]


def test_wrong_kind_names_its_line_and_the_kinds_accepted() -> None:
    text = TEXT.replace('kind = "days_after"', 'kind = "weeks_after"', 1)
    [(line, message)] = _problems(text)
    assert line == _line(text, 'kind = "weeks_after"')
    assert message.startswith("treaty_eif.kind = 'weeks_after' is not accepted: expected ")
    for kind in ("first_day_of_nth_month_after", "days_after", "months_after", "years_after"):
        assert kind in message


def test_wrong_applies_after_names_the_two_accepted() -> None:
    text = TEXT.replace('applies_after = "threshold_deposit"', 'applies_after = "signature"')
    [(line, message)] = _problems(text)
    assert line == _line(text, "applies_after")
    assert "'threshold_deposit' or 'treaty_entry_into_force'" in message


def test_text_not_marked_as_quotation_or_paraphrase_is_refused() -> None:
    # a rule's words without quotation marks could pass for the treaty's own
    text = TEXT.replace('text = "paraphrase: for a State', 'text = "for a State')
    [(line, message)] = _problems(text)
    assert line == _line(text, 'text = "for a State')
    assert "state_eif.text = " in message and '"paraphrase: "' in message


def test_every_problem_of_the_file_is_given_at_once() -> None:
    text = (
        TEXT.replace("eif_threshold = 50", "eif_threshold = 0")
        .replace("annual_report_day = 1 ", "annual_report_day = 1\nannual_report_days = 2 ")
        .replace('code = "TPNW"', 'code = "tpnw"')
    )
    lines = [line for line, _ in _problems(text)]
    assert lines == sorted(
        [_line(text, "code"), _line(text, "eif_threshold"), _line(text, "annual_report_days")]
    )


def test_key_lines_of_tables_dotted_keys_inline_tables_and_strings() -> None:
    text = "\n".join(
        [
            'a = "x"  # a comment',  # 1
            "b.c = 1",  # 2
            'd = """',  # 3
            "e = not a key, inside a string",  # 4
            '"""',  # 5
            "[t]",  # 6
            "u = { v = 1, w = { x = 2 } }",  # 7
            "y = [",  # 8
            '  "z",',  # 9
            "]",  # 10
            "[t.s]",  # 11
            "'q r' = 3",  # 12
        ]
    )
    lines = key_lines(text)
    assert lines[("a",)] == 1
    assert lines[("b",)] == lines[("b", "c")] == 2
    assert lines[("d",)] == 3 and ("e",) not in lines
    assert lines[("t",)] == 6
    assert lines[("t", "u")] == lines[("t", "u", "v")] == lines[("t", "u", "w", "x")] == 7
    assert lines[("t", "y")] == 8
    assert lines[("t", "s")] == 11 and lines[("t", "s", "q r")] == 12


# --- treaty profiles check FILE ----------------------------------------------------------


def test_check_accepts_the_worked_example(capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    assert main(["profiles", "check", str(TPNW)]) == 0
    assert "TPNW" in capsys.readouterr().out


def test_check_refuses_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    bad = tmp_path / "tpnw.toml"
    text = TEXT.replace('kind = "days_after"', 'kind = "weeks_after"', 1)
    bad.write_text(text, encoding="utf-8")
    assert main(["profiles", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    line = _line(text, 'kind = "weeks_after"')
    assert f"{bad}:{line}: treaty_eif.kind" in err
    assert "refused" in err


def test_check_refuses_a_file_not_named_after_its_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    misnamed = tmp_path / "nuclear.toml"
    misnamed.write_text(TEXT, encoding="utf-8")
    assert main(["profiles", "check", str(misnamed)]) == 1
    assert "named tpnw.toml, not nuclear.toml" in capsys.readouterr().err


def test_check_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    from cli.main import main

    assert main(["profiles", "check", str(tmp_path / "none.toml")]) == 2


def test_a_period_beyond_a_century_is_refused_before_it_reaches_the_calendar() -> None:
    """Ninety days (TPNW Art. 15) typed as 100000: refused by ``check``, not left to fail
    when a date is computed ("year 102018 is out of range")."""
    text = TEXT.replace("amount = 90", "amount = 100000", 1)
    [(line, message)] = _problems(text)
    assert line == _line(text, "[treaty_eif]")
    assert "amount 100000 is more than a hundred years: at most 36525" in message
