"""`treaty decision` / `treaty hca`: input refused before any server is contacted (the
configured servers listen nowhere, so a command that tried to reach one would exit 3):
bad usage exits 2, a refusal by a rule that needs no record exits 1, a scenario file with
a malformed line is refused naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli import main as cli
from tests.e2e import ROOT, free_port

SCENARIO = ROOT / "examples" / "ccm" / "2011-consultation.yaml"


@pytest.fixture
def nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TREATYFLOW_DEBUG", raising=False)
    monkeypatch.setenv("TREATYFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("DATABASE_URL", f"postgresql://app:x@127.0.0.1:{free_port()}/treaties")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, " ".join(captured.err.split())


@pytest.mark.usefixtures("nowhere")
def test_refused_before_any_server(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    outcome = ["decision", "outcome", "isu-hosting", "--meeting", "2MSP", "--on", "2011-09-16"]
    code, err = run(capsys, *outcome, "--adopted", "gichd", "--vote", "40,5,3", "--present", "50")
    assert code == 1
    assert "do not add up: 40 in favour + 5 against + 3 abstaining = 48, but 50" in err
    code, err = run(capsys, *outcome, "--adopted", "gichd", "--vote", "40,5")
    assert code == 2 and "three numbers" in err
    code, err = run(capsys, *outcome, "--adopted", "gichd")
    assert code == 2 and "--consensus or --vote" in err
    code, err = run(
        capsys, "decision", "position", "isu-hosting", "Norway", "--stance", "maybe",
        "--on", "2011-02-24", "--meeting", "x",
    )  # fmt: skip
    assert code == 2 and "unknown stance 'maybe'" in err
    code, err = run(
        capsys, "decision", "position", "isu-hosting", "Atlantis", "--stance", "support",
        "--on", "2011-02-24", "--meeting", "x",
    )  # fmt: skip
    assert code == 1 and "unknown State 'Atlantis'" in err
    code, err = run(
        capsys, "hca", "prepare", "2MSP", "funding_pledge", "--detail", "travel", "--donor",
        "Norway", "--amount", "1000", "--currency", "ABC", "--on", "2011-03-01",
    )  # fmt: skip
    assert code == 1 and "unknown currency 'ABC'" in err
    # a scenario file with one malformed item: refused naming the line of the field
    lines = SCENARIO.read_text(encoding="utf-8").splitlines()
    belgium = lines.index("    participant: Belgium")
    at = belgium + 2
    assert lines[at] == "    stance: undecided"
    lines[at] = "    stance: abstain"
    bad = tmp_path / "bad.yaml"
    bad.write_text("\n".join(lines), encoding="utf-8")
    code, err = run(capsys, "scenario", "run", str(bad))
    assert code == 1
    assert f"nothing recorded from {bad}: line {at + 1}: decision position: stance" in err
    # the JSON Lines form goes through the same validator (`decision import` takes it too)
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text(
        '{"decision": "isu-hosting", "do": "open", "question": "Where?", '
        '"opened_on": "2011-02-24"}\n'
        '{"ratification": "Atlantis", "do": "domestic_procedure", "completed_on": "2011-02-10"}\n',
        encoding="utf-8",
    )
    for command in (("scenario", "run"), ("decision", "import")):
        code, err = run(capsys, *command, str(jsonl))
        assert code == 1 and "line 2: unknown State 'Atlantis'" in err, err
    # decision dates and sources, refused before any server
    code, err = run(capsys, "decision", "open", "x", "--question", "Q?", "--on", "2001-01-01")
    assert code == 1 and "before the CCM was opened for signature (2008-12-03" in err, err
    code, err = run(
        capsys, "decision", "position", "isu-hosting", "Norway", "--stance", "support",
        "--on", "2011-09-14", "--meeting", "2MSP", "--document", "discussion-paper",
    )  # fmt: skip
    assert code == 1 and "not both" in err, err
    # margins: 0 to 730 days, keeping the milestones' order
    for margin, message in (
        ("signed=5000", "0 to 730 days"),
        ("signed=120", "margins out of order: signed"),
    ):
        code, err = run(capsys, "hca", "open", "3MSP", "--host", "NOR", "--margin", margin)
        assert code == 2 and message in err, err
    code, err = run(capsys, "scenario", "run", str(tmp_path / "missing.yaml"))
    assert code == 2 and "does not exist" in err
