"""The fast path of ``treaty status STATE --json`` (:mod:`cli.fast`, :mod:`app.status_server`):
the stack's worker answers on its Unix socket, and the answer is byte for byte what the
normal path prints; wherever it could differ (worker down, stale socket, another
database, bad settings, unknown or unrecorded State, a changed source file) the normal
path answers, with its own output and exit code.

Truth values from CCM Art. 17 and the rows of the public status table
(``examples/ccm/status.csv``, the same file as ``../shared/data/ccm_status.csv``):
Afghanistan deposited on 8 Sep 2011, after the 30th instrument (16 Feb 2010), so the CCM
is in force for it from 1 Mar 2012, the first day of the sixth month after its deposit
(Art. 17(2)), whichever deposit of the table is the 30th; Albania deposited on 16 Jun 2009,
before the 30th, so the CCM is in force for it from the CCM's own entry into force
(Art. 17(1); the table lacks some of the first 30, so the date is not the record's).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli import fast
from tests.e2e import ROOT, STATUS_CSV, TREATY, Stack, embedded_stack

# --- the command line the fast path recognises (no server) ---------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["status", "AFG", "--json"], ("AFG", "CCM")),
        (["status", "--json", "Afghanistan"], ("Afghanistan", "CCM")),
        (["status", "AFG", "--json", "--treaty", "APMBC"], ("AFG", "APMBC")),
        (["status", "-t", "ATT", "AFG", "--json"], ("AFG", "ATT")),
        (["status", "--treaty=ccm", "--json", "AFG"], ("AFG", "ccm")),
        (["status", "-tCCM", "AFG", "--json"], ("AFG", "CCM")),
        (["status", "Lao PDR", "--json", "--json"], ("Lao PDR", "CCM")),
    ],
)
def test_status_state_json_is_recognised_in_any_order(
    argv: list[str], expected: tuple[str, str]
) -> None:
    assert fast.parse(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["status"],
        ["status", "--json"],  # every State: the normal path
        ["status", "AFG"],  # a table, not JSON
        ["status", "AFG", "--json", "--help"],
        ["status", "AFG", "BEL", "--json"],
        ["status", "", "--json"],
        ["status", "AFG", "--json", "--treaty"],
        ["status", "AFG", "--json", "-t", "CCM", "-t", "ATT"],
        ["status", "AFG", "--json", "--treaty", "--json"],
        ["status", "--", "AFG", "--json"],
        ["status", "AFG", "--json=1"],
        ["--version"],
        ["parties", "--json"],
        ["audit", "state", "AFG", "--json"],
    ],
)
def test_anything_else_goes_to_the_normal_path(argv: list[str]) -> None:
    assert fast.parse(argv) is None


def test_turned_off_by_the_variable() -> None:
    for value in ("0", "false", "No", " off ", "maybe"):
        assert not fast.enabled({"TREATYFLOW_FAST_READS": value}), value
    for value in ("", "1", "true", "YES", "on"):
        assert fast.enabled({"TREATYFLOW_FAST_READS": value}), value
    assert fast.enabled({})


def test_no_socket_no_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TREATYFLOW_HOME", str(tmp_path))
    assert fast.ask("AFG", "CCM") is None
    run = tmp_path / "run"
    run.mkdir()
    (run / "worker.sock").write_text("not a socket")
    assert fast.ask("AFG", "CCM") is None


# --- against the embedded stack's worker -------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with embedded_stack() as s:
        result = s.treaty("import", str(STATUS_CSV), "--json", timeout=900)
        assert result.returncode == 0, result.stderr
        # the import returns once the treaty process has counted every deposit and told
        # each State its entry into force: what is read next is the settled record
        assert json.loads(result.stdout)["settled"] is True
        yield s


def test_an_import_with_nothing_new_still_says_whether_the_record_is_settled(
    stack: Stack,
) -> None:
    # every row is on record already; the States' dates are fixed: settled, not "not
    # waited for" (null, which only --no-wait means)
    result = stack.treaty("import", str(STATUS_CSV), "--json", timeout=900)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["changed"], len(report["unchanged"]), report["settled"]) == ([], 79, True)


#: The fast path's own answer (None: the normal path must answer), in a process of its
#: own with ``env``; the modules it loaded.
ASK = """
import json, sys
from cli import fast
text = fast.ask(sys.argv[1], sys.argv[2])
sys.stdout.write(json.dumps({"text": text, "loaded": sorted(sys.modules)}))
"""


def ask(env: dict[str, str], state: str, treaty: str = "CCM") -> tuple[str | None, set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", ASK, state, treaty],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    return report["text"], set(report["loaded"])


def both(
    stack: Stack, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """``treaty ARGS`` as users run it (the console script), and with the fast path off."""
    run_env = {**stack.env, **env}

    def run(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(TREATY), *args],
            env={**run_env, **extra},
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )

    return run({}), run({"TREATYFLOW_FAST_READS": "0"})


def same(
    fast_run: subprocess.CompletedProcess[str], normal: subprocess.CompletedProcess[str]
) -> None:
    assert (fast_run.returncode, fast_run.stdout, fast_run.stderr) == (
        normal.returncode,
        normal.stdout,
        normal.stderr,
    )


@pytest.mark.e2e
def test_the_worker_answers_what_the_normal_path_prints(stack: Stack) -> None:
    text, _ = ask(stack.env, "Afghanistan")
    assert text is not None, "the worker did not answer"
    row = json.loads(text)
    assert row == [
        {
            "state": "AFG",
            "name": "Afghanistan",
            "signed": True,
            "signed_on": "2008-12-03",
            "domestic_procedure_completed_on": None,
            "instrument": "ratification",
            "consented_on": "2011-09-08",
            "succession_on": None,
            "succession_date_unknown": False,
            "in_force_on": "2012-03-01",  # CCM Art. 17(2)
            "eif_article": "CCM Art. 17(2)",
            "provisional_application": False,
            "provisional_application_on": None,
            "withdrawal_received_on": None,
            "withdrawn_on": None,
            "notes": [],
            "status": "in force",
        }
    ]
    for args in (
        ("status", "Afghanistan", "--json"),
        ("status", "AFG", "--json"),
        ("status", "--json", "afg", "-t", "CCM"),
        ("status", "--treaty=CCM", "Albania", "--json"),
    ):
        fast_run, normal = both(stack, *args)
        same(fast_run, normal)
        assert fast_run.returncode == 0 and fast_run.stderr == ""
    assert ask(stack.env, "AFG")[0] == text  # a name or the ISO code: one answer
    albania = json.loads(both(stack, "status", "ALB", "--json")[0].stdout)
    assert albania[0]["consented_on"] == "2009-06-16"
    assert albania[0]["eif_article"] == "CCM Art. 17(1)"


@pytest.mark.e2e
def test_the_fast_path_imports_no_typer_pydantic_asyncpg_or_temporal(stack: Stack) -> None:
    text, loaded = ask(stack.env, "AFG")
    assert text is not None
    heavy = {"typer", "click", "rich", "pydantic", "pydantic_core", "asyncpg", "temporalio"}
    heavy |= {"settings", "structlog", "psutil", "domain", "eventstore", "workflows", "audit"}
    assert {m.split(".")[0] for m in loaded} & heavy == set()
    # and the console script as installed goes there first
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(TREATY), "status", "AFG", "--json"],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0 and json.loads(result.stdout)[0]["state"] == "AFG"
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    assert "cli.fast" in imported
    assert {m.split(".")[0] for m in imported} & heavy == set()


@pytest.mark.e2e
def test_unknown_or_unrecorded_states_get_the_normal_answer(stack: Stack) -> None:
    for state, code in (("Atlantis", 1), ("USA", 1)):  # unknown; no ratification recorded
        assert ask(stack.env, state)[0] is None
        fast_run, normal = both(stack, "status", state, "--json")
        same(fast_run, normal)
        assert fast_run.returncode == code
        assert json.loads(fast_run.stdout)["exit_code"] == code
    unrecorded = both(stack, "status", "USA", "--json")[0]
    assert "nothing recorded for USA under the CCM" in unrecorded.stderr
    # an unknown treaty: a usage error (exit 2)
    assert ask(stack.env, "AFG", "XYZ")[0] is None
    fast_run, normal = both(stack, "status", "AFG", "--json", "--treaty", "XYZ")
    same(fast_run, normal)
    assert fast_run.returncode == 2


@pytest.mark.e2e
def test_another_database_or_bad_settings_get_the_normal_answer(stack: Stack) -> None:
    # the same store named explicitly: the worker answers
    url = stack.database_url
    assert ask({**stack.env, "DATABASE_URL": url}, "AFG")[0] is not None
    # another database (nothing listens there): the normal path's error, exit 3
    other = {"DATABASE_URL": "postgresql://treatyflow@127.0.0.1:9/elsewhere"}
    assert ask({**stack.env, **other}, "AFG")[0] is None
    fast_run, normal = both(stack, "status", "AFG", "--json", **other)
    same(fast_run, normal)
    assert fast_run.returncode == 3
    # libpq's variables differ from the worker's: they could name another server or user
    assert ask({**stack.env, "PGUSER": "someone_else"}, "AFG")[0] is None
    # a setting the CLI refuses: exit 2 with its message, as before
    bad = {"TREATYFLOW_SMTP_PORT": "smtp"}
    assert ask({**stack.env, **bad}, "AFG")[0] is None
    fast_run, normal = both(stack, "status", "AFG", "--json", **bad)
    same(fast_run, normal)
    assert fast_run.returncode == 2 and "TREATYFLOW_SMTP_PORT" in fast_run.stderr
    # the CLI would log at INFO on stderr: left to it
    assert ask({**stack.env, "TREATYFLOW_LOG_LEVEL": "INFO"}, "AFG")[0] is None
    # turned off
    assert ask({**stack.env, "TREATYFLOW_FAST_READS": "0"}, "AFG")[0] is None


@pytest.mark.e2e
def test_a_changed_source_file_is_not_answered_by_the_old_code(stack: Stack) -> None:
    render = ROOT / "cli" / "render.py"
    before = render.stat()
    try:
        os.utime(render, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
        assert ask(stack.env, "AFG")[0] is None
        same(*both(stack, "status", "AFG", "--json"))
    finally:
        os.utime(render, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert ask(stack.env, "AFG")[0] is not None


@pytest.mark.e2e
def test_unwritable_output_gets_the_normal_answer(stack: Stack) -> None:
    """stdout on a full device, or stderr closed: the normal path's own exit code and
    error, not a traceback of the fast path (and no answer printed with stderr closed)."""
    assert ask(stack.env, "AFG")[0] is not None, "the worker must be answering"
    for redirect in (">/dev/full", "2>&-"):
        runs = []
        for fast_reads in ("1", "0"):
            runs.append(
                subprocess.run(
                    f"{TREATY} status AFG --json {redirect}",
                    shell=True,
                    env={**stack.env, "TREATYFLOW_FAST_READS": fast_reads},
                    capture_output=True,
                    text=True,
                    timeout=300,
                    cwd=ROOT,
                )
            )
        fast_run, normal = runs
        assert fast_run.returncode == normal.returncode != 0, redirect
        assert fast_run.stdout == normal.stdout, redirect
        assert fast_run.stderr == normal.stderr, redirect


@pytest.mark.e2e
def test_worker_down_or_stale_socket_get_the_normal_answer(stack: Stack) -> None:
    """Last in this module: it kills the stack's worker and starts it again."""
    sock = stack.home / "run" / "worker.sock"
    assert sock.is_socket() and sock.stat().st_mode & 0o777 == 0o600
    pid = stack.worker_pid()
    os.kill(pid, signal.SIGKILL)  # the worker this module's stack started
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.1)
    assert sock.is_socket(), "a killed worker leaves its socket behind"
    assert ask(stack.env, "AFG")[0] is None  # refused: stale
    fast_run, normal = both(stack, "status", "AFG", "--json")
    same(fast_run, normal)
    assert json.loads(fast_run.stdout)[0]["in_force_on"] == "2012-03-01"
    # a new worker replaces the stale socket and answers again
    up = stack.treaty("up")
    assert up.returncode == 0, up.stderr
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and ask(stack.env, "AFG")[0] is None:
        time.sleep(0.5)
    assert ask(stack.env, "AFG")[0] is not None
    # a stopped worker removes its socket
    down = stack.treaty("down")
    assert down.returncode == 0, down.stderr
    assert not sock.exists()
    assert ask(stack.env, "AFG")[0] is None
