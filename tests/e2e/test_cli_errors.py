"""The `treaty` command's failures need no server to be tested: every one is a single line
saying what is wrong and what is accepted, with its exit code (1 refused or bad input,
2 usage, 3 servers unavailable, 70 internal error), never a traceback.

Most run ``cli.main.main`` in-process (it is what the console script runs, minus
``os._exit``); a few run the real ``treaty`` executable. None starts a server: the
environment points at ports where nothing listens.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from temporalio.service import RPCError, RPCStatusCode

import settings as settings_mod
from adapters import stack as cli_stack
from adapters.stack import redact
from app import commands, reads, service
from cli import main as cli
from cli import render
from domain import ratification as r
from tests.e2e import ROOT, TREATY, free_port


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A private home, free ports, no configured servers, no debug."""
    values = {
        "TREATYFLOW_HOME": str(tmp_path / "home"),
        "TREATYFLOW_TEMPORAL_PORT": str(free_port()),
        "TREATYFLOW_UI_PORT": str(free_port()),
        "TREATYFLOW_ACTOR": "cli-test",
    }
    for name in ("TEMPORAL_ADDRESS", "DATABASE_URL", "TEMPORAL_NAMESPACE", "TREATYFLOW_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def nowhere(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Configured servers where nothing listens (so nothing embedded is started)."""
    extra = {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "DATABASE_URL": f"postgresql://app:s3cret@127.0.0.1:{free_port()}/treaties",
    }
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    return {**env, **extra}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``treaty ARGS`` in-process: (exit code, stdout, stderr with lines joined)."""
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(text: str) -> str:
    return " ".join(text.split())


# --- the environment ------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["TREATYFLOW_TEMPORAL_PORT", "TREATYFLOW_UI_PORT"])
@pytest.mark.parametrize("value", ["99999", "65536", "0", "-1", "abc", "7233.5"])
def test_a_port_out_of_range_is_a_usage_error_naming_the_variable(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv(variable, value)
    code, out, err = run(capsys, "up")
    assert code == 2
    assert "Traceback" not in err
    assert f"{variable}={value!r} is not a TCP port" in one_line(err)
    assert "from 1 to 65535" in err
    assert not Path(env["TREATYFLOW_HOME"]).exists()  # nothing was started


@pytest.mark.parametrize("value", ["1", "65535", " 8233 "])
def test_ports_in_range_are_accepted(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TREATYFLOW_UI_PORT", value)
    assert settings_mod.load().ui_port == int(value)


@pytest.mark.parametrize("command", [["up"], ["status"], ["down"], ["worker"]])
def test_a_home_that_is_a_file_is_said_so(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: list[str],
) -> None:
    home = tmp_path / "not-a-folder"
    home.write_text("I am a file\n")
    monkeypatch.setenv("TREATYFLOW_HOME", str(home))
    code, _, err = run(capsys, *command)
    assert code == 3, err
    assert "Traceback" not in err and "FileExistsError" not in err
    assert f"TREATYFLOW_HOME='{home}' is a file, not a folder" in one_line(err)


# --- servers that cannot be reached ------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("notaurl", "invalid DSN"),
        ("postgresql://app:s3cret@127.0.0.1:{port}/treaties", "connection refused"),
        ("postgresql://app@127.0.0.1:abc/treaties", "not a valid database URL"),
        ("postgresql://app@/treaties?host=/nonexistent-socket-folder", "no server socket"),
    ],
)
def test_an_unusable_database_url_is_said_so(
    nowhere: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    cause: str,
) -> None:
    url = url.format(port=free_port())
    monkeypatch.setenv("DATABASE_URL", url)
    for command in (["status"], ["parties"], ["events", "treaty-CCM"]):
        code, _, err = run(capsys, *command)
        assert code == 3, err
        text = one_line(err)
        assert "Traceback" not in err
        assert f"cannot reach PostgreSQL at {redact(url)}: {cause}" in text, text
        assert text.endswith("check DATABASE_URL")
        assert "s3cret" not in text


@pytest.mark.parametrize(
    ("address", "cause"),
    [("127.0.0.1:{port}", "connection refused"), ("127.0.0.1:abc", "not a valid HOST:PORT")],
)
def test_an_unreachable_temporal_is_said_so(
    nowhere: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    address: str,
    cause: str,
) -> None:
    address = address.format(port=free_port())
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    for command in (
        ["ratification", "show", "BGR"],
        ["import", str(ROOT / "examples/ccm/status.csv")],
    ):
        code, _, err = run(capsys, *command)
        assert code == 3, err
        text = one_line(err)
        assert "tonic" not in text and "Traceback" not in err
        assert f"cannot reach Temporal at {address} ({cause}" in text, text
        assert "check TEMPORAL_ADDRESS or start the server with `treaty up`" in text


def test_a_worker_gone_silent_is_a_missing_worker(
    nowhere: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Temporal's "no poller seen" (the worker was killed after the command checked for
    one) is said as "no worker", with what to run."""

    async def connected(self: cli.Runtime, *, need_worker: bool = True) -> object:
        return object()

    async def no_poller(*args: object, **kwargs: object) -> object:
        raise RPCError(
            "no poller seen for task queue recently, worker may be down",
            RPCStatusCode.FAILED_PRECONDITION,
            b"",
        )

    monkeypatch.setattr(cli.Runtime, "client", connected)
    monkeypatch.setattr(commands.Commands, "send", no_poller)
    code, _, err = run(
        capsys, "ratification", "sign", "Kenya", "--date", "2008-12-03", "--source", "UNTC"
    )
    assert code == 3
    text = one_line(err)
    assert "no worker is polling task queue 'treatyflow': the command was not sent" in text
    assert "treaty up" in text
    assert "Temporal answered with an error" not in text


# --- the backstop ---------------------------------------------------------------------------


def _explode(*args: object, **kwargs: object) -> object:
    raise ZeroDivisionError("something nobody foresaw")


def test_an_unexpected_error_is_one_line_asking_for_a_report(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_stack, "stack_status", _explode)  # `ps` imports it when run
    code, out, err = run(capsys, "ps", "--json")
    assert code == 70
    assert "Traceback" not in err
    assert one_line(err) == (
        "error: internal error: ZeroDivisionError: something nobody foresaw — please report "
        "it; set TREATYFLOW_DEBUG=1 for the traceback"
    )
    assert json.loads(out)["exit_code"] == 70


def test_debug_shows_the_traceback(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_stack, "stack_status", _explode)  # `ps` imports it when run
    monkeypatch.setenv("TREATYFLOW_DEBUG", "1")
    code, _, err = run(capsys, "ps")
    assert code == 70
    assert "Traceback (most recent call last)" in err and "_explode" in err
    assert "internal error: ZeroDivisionError: something nobody foresaw" in one_line(err)


# --- refusals that need no server ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ratification", "sign", "KEN", "--date", "2999-01-01"], "in the future"),
        (["ratification", "domestic-procedure", "KEN", "--date", "2999-01-01"], "in the future"),
        (["ratification", "deposit", "KEN", "--date", "2999-01-01"], "in the future"),
        (["ratification", "sign", "KEN", "--date", "2001-01-01"], "2001-01-01"),
        # the obligation commands likewise
        (["ratification", "withdraw", "LTU", "--date", "2999-01-01"], "in the future"),
        (["ratification", "withdraw", "LTU", "--date", "2001-01-01"], "2001-01-01"),
        (["ratification", "stockpiles", "BGR", "--date", "2999-01-01"], "in the future"),
        (["ratification", "contamination", "BGR", "--date", "2999-01-01"], "in the future"),
        (
            [
                "ratification",
                "armed-conflict",
                "LTU",
                "--since",
                "2999-01-01",
                "--description",
                "x",
            ],
            "in the future",
        ),
        (["ratification", "armed-conflict", "LTU", "--ended", "2999-01-01"], "in the future"),
        (
            [
                "ratification",
                "report",
                "BGR",
                "--obligation",
                "initial-report",
                "--date",
                "2999-01-01",
                "--channel",
                "e-mail",
            ],
            "in the future",
        ),
        (
            [
                "ratification",
                "compliance-declaration",
                "BGR",
                "--obligation",
                "clearance",
                "--date",
                "2999-01-01",
                "--channel",
                "e-mail",
            ],
            "in the future",
        ),
        (
            [
                "ratification",
                "extension-request",
                "BGR",
                "--obligation",
                "clearance",
                "--until",
                "3000-01-01",
                "--meeting",
                "9MSP",
                "--date",
                "2999-01-01",
            ],
            "in the future",
        ),
        (
            [
                "ratification",
                "extension-decision",
                "BGR",
                "--obligation",
                "clearance",
                "--meeting",
                "9MSP",
                "--granted-until",
                "3000-01-01",
                "--date",
                "2999-01-01",
            ],
            "in the future",
        ),
        (
            ["ratification", "deposit", "Angola", "--date", "2011-01-01", "--reservation", "x"],
            "admits no reservations (CCM Art. 19)",
        ),
    ],
)
def test_a_refusal_decided_without_servers_needs_none(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    """No server is configured, none runs (the embedded stack is down) and no worker
    polls: the refusal comes at once, and nothing is started."""
    monkeypatch.setenv("TREATYFLOW_TASK_QUEUE", "nobody")
    started = time.monotonic()
    code, _, err = run(capsys, *args)
    assert code == 1, err
    assert one_line(err).startswith("error: refused: ")
    assert message in one_line(err)
    assert time.monotonic() - started < 10
    assert not (Path(env["TREATYFLOW_HOME"]) / "postgres").exists()


def test_instrument_in_any_case(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    # accepted as "ratification" (then refused for its date, with no server)
    for instrument in ("Ratification", "RATIFICATION", "accession "):
        code, _, err = run(
            capsys, "ratification", "deposit", "KEN", "--date", "2999-01-01",
            "--instrument", instrument,
        )  # fmt: skip
        assert code == 1, err
        assert "in the future" in one_line(err)
    code, _, err = run(capsys, "ratification", "deposit", "KEN", "--date", "2010-01-01",
                       "--instrument", "treaty")  # fmt: skip
    assert code == 2 and "unknown instrument 'treaty'" in one_line(err)


def test_the_real_command_refuses_a_future_date_quickly_with_no_stack(tmp_path: Path) -> None:
    """The console script itself (its exit code through ``os._exit``), with the stack down
    and an unreachable Temporal: exit 1 at once; the message is on one line even though
    stderr is not a terminal (no wrapping at 80 columns)."""
    env = {
        "PATH": str(Path(sys.executable).parent),
        "TREATYFLOW_HOME": str(tmp_path / "home"),
        "TREATYFLOW_TASK_QUEUE": "nobody",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
    }
    started = time.monotonic()
    result = subprocess.run(
        [str(TREATY), "ratification", "sign", "KEN", "--date", "2999-01-01"],
        env=env, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: refused: signature date 2999-01-01 is in the future")
    assert len(result.stderr.strip().splitlines()) == 1
    assert time.monotonic() - started < 15
    assert not (tmp_path / "home" / "postgres").exists()


# --- --json --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["status", "--json"], 3, "cannot reach PostgreSQL at "),
        (["ratification", "sign", "KEN", "--date", "2999-01-01", "--json"], 1, "refused: "),
        (["ratification", "sign", "KEN", "--date", "03/12/2008", "--json"], 2, "YYYY-MM-DD"),
        (["status", "Atlantis", "--json"], 1, "unknown State 'Atlantis'"),
        (["status", "--bogus", "--json"], 2, "No such option: --bogus"),
        (["events", "BGR", "--json"], 2, "ratification-CCM-BGR"),
    ],
)
def test_json_failures_also_give_a_json_error_on_stdout(
    nowhere: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    got, out, err = run(capsys, *args)
    assert got == code, err
    error = json.loads(out)
    assert error["exit_code"] == code
    assert message in error["error"]
    assert message in one_line(err)  # the text on stderr stays


def test_without_json_stdout_stays_empty_on_failure(
    nowhere: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "status")
    assert code == 3 and out == ""


# --- events: stream ids -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stream"),
    [
        ("treaty-CCM", "treaty-CCM"),
        ("treaty-ccm", "treaty-CCM"),
        ("treaty:ccm", "treaty-CCM"),
        ("ratification-ccm-bgr", "ratification-CCM-BGR"),
        ("ratification:CCM:BGR", "ratification-CCM-BGR"),
        ("Ratification-Ccm-Bulgaria", "ratification-CCM-BGR"),
        ("ratification-apmbc-guinea-bissau", "ratification-APMBC-GNB"),
    ],
)
def test_stream_ids_in_any_case(given: str, stream: str) -> None:
    assert cli._stream(given, "CCM") == stream


@pytest.mark.parametrize(
    ("args", "suggested"),
    [
        (["BGR"], "ratification-CCM-BGR"),
        (["Bulgaria", "--treaty", "apmbc"], "ratification-APMBC-BGR"),
        (["bg"], "ratification-CCM-BGR"),
    ],
)
def test_a_state_instead_of_a_stream_gets_its_stream_suggested(
    nowhere: dict[str, str], capsys: pytest.CaptureFixture[str], args: list[str], suggested: str
) -> None:
    code, _, err = run(capsys, "events", *args)
    assert code == 2
    text = one_line(err)
    assert "is a State, not a stream" in text and f"treaty events {suggested}" in text


def test_a_stream_of_no_known_form_lists_the_forms(
    nowhere: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "events", "workflow-42")
    assert code == 2
    assert "expected ratification-<TREATY>-<ISO3>" in one_line(err)
    code, _, err = run(capsys, "events", "treaty-XYZ")
    assert code == 2 and "unknown treaty 'XYZ'" in one_line(err)


# --- small things ----------------------------------------------------------------------------


def test_version(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"treaty (treatyflow) {version('treatyflow')}"


def test_counts_are_singular_for_one(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert [render.count(n, "State") for n in (0, 1, 2)] == ["0 States", "1 State", "2 States"]
    assert render.count(1, "process", "processes") == "1 process"
    assert render.count(3, "process", "processes") == "3 processes"

    bulgaria = r.initial_state("CCM", "BGR").model_copy(
        update={"consented_on": date(2011, 4, 6), "in_force_on": date(2011, 10, 1)}
    )
    monkeypatch.setattr(cli, "_run", lambda work: reads.parties_as_of([bulgaria], date(2011, 5, 1)))
    code, out, _ = run(capsys, "parties", "--as-of", "2011-05-01")
    assert code == 0
    assert "1 State consented to be bound (deposit), in force for 0" in one_line(out)

    cli._print_import(service.ImportReport(changed=["Mali"], events=1), as_json=False)
    assert one_line(capsys.readouterr().out).startswith(
        "1 row recorded (1 event), 0 already up to date, 0 refused"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://postgres:@/treatyflow?host=/tmp/h", "postgresql://postgres:@/treatyflow?host=/tmp/h"),
        ("postgresql://app:s3cret@db:5432/t", "postgresql://app:***@db:5432/t"),
        ("postgresql://app@db/t", "postgresql://app@db/t"),
        ("notaurl", "notaurl"),
        # a password in the query or in a libpq key=value string is a password too
        ("postgresql://u@h/db?password=s3cr3t", "postgresql://u@h/db?password=***"),
        ("postgresql://u@h/db?sslmode=require&PASSWORD=s3cr3t&x=1", "postgresql://u@h/db?sslmode=require&PASSWORD=***&x=1"),
        ("host=h user=u password=s3cr3t dbname=x", "host=h user=u password=*** dbname=x"),
        ("host=h password = 'two words' dbname=x", "host=h password = *** dbname=x"),
        ("at postgresql://app:s3cret@db/t: refused", "at postgresql://app:***@db/t: refused"),
    ],
)  # fmt: skip
def test_redact_masks_only_a_password_there_is(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_demo_help_says_what_it_does_in_order(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "demo", "--help")
    assert code == 0
    text = one_line(out)
    assert text.index("record the depositary's statement") < text.index(
        "import the complete CCM record (examples/ccm/status_2026.csv"
    )
    # the partial table is not the demo's, and is not called the real one
    assert "status.csv" not in text and "real CCM status table" not in text


def test_piped_output_is_wide_on_stdout_and_stderr() -> None:
    probe = "from cli import render; print(render.out.width, render.err.width)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.stdout.split() == [str(render.PIPED_WIDTH)] * 2, result.stderr


def test_obligations_as_of_folds_only_what_was_dated_by_then(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``treaty obligations --as-of D`` is the fold ``treaty audit state --as-of D`` makes
    (:func:`domain.processes.fold` with ``as_of``): an extension granted after ``D`` does
    not move the deadline shown for ``D``."""
    import asyncio

    from cli import obligations
    from domain import processes
    from domain.obligations import Meeting
    from domain.treaties import CCM

    # Bulgaria: deposit 6 Apr 2011 -> in force 1 Oct 2011 (CCM Art. 17(2)); stockpiles
    # declared then -> destroy by 1 Oct 2019 (Art. 3(2)); an extension to 1 Oct 2021
    # requested before the 9MSP (2-4 Sep 2019) and granted there on its last day
    nine = Meeting(name="9MSP", kind="MSP", opens_on=date(2019, 9, 2), closes_on=date(2019, 9, 4))
    context = r.TreatyContext(
        in_force_on=date(2010, 8, 1), threshold_deposited_on=date(2010, 2, 16), basis="depositary"
    )
    today = date(2026, 11, 29)
    s, events = r.initial_state("CCM", "BGR"), []
    for command in (
        r.Sign(signed_on=date(2008, 12, 3)),
        r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6)),
        r.MarkEnteredIntoForce(),
        r.DeclareStockpiles(declared_on=date(2011, 10, 1)),
        r.RequestExtension(
            key="stockpile-destruction",
            requested_until=date(2021, 10, 1),
            meeting=nine,
            filed_on=date(2018, 12, 2),
        ),
        r.DecideExtension(
            key="stockpile-destruction", meeting=nine, granted_until=date(2021, 10, 1)
        ),
    ):
        new = r.decide(s, command, CCM, context, today)
        s = r.fold(s, new)
        events += new
        if isinstance(command, r.MarkEnteredIntoForce):
            opened = r.obligations_at_entry_into_force(s, CCM, today)
            s = r.fold(s, opened)
            events += opened

    async def ratifications(store: object, treaty: str, as_of: date | None = None) -> list:
        pairs = [(e, e.occurred_on) for e in events]
        return [processes.fold("ratification-CCM-BGR", pairs, as_of=as_of)]

    class Rt:
        async def store(self) -> None:
            return None

    monkeypatch.setattr(reads, "ratifications", ratifications)
    monkeypatch.setattr(obligations, "_run", lambda work: asyncio.run(work(Rt())))

    def stockpiles(as_of: str) -> dict:
        code, out, err = run(
            capsys, "obligations", "BGR", "--as-of", as_of, "--status", "all", "--json"
        )
        assert code == 0, err
        return next(x for x in json.loads(out) if x["obligation"] == "stockpile-destruction")

    # 3 Sep 2019: requested, not yet granted: the deadline is Art. 3(2)'s, still open
    before = stockpiles("2019-09-03")
    assert (before["due_on"], before["status"], len(before["deadlines"])) == (
        "2019-10-01",
        "open",
        1,
    )
    assert before["extension_request"]["requested_until"] == "2021-10-01"
    # 5 Sep 2019: the 9MSP granted it
    after = stockpiles("2019-09-05")
    assert (after["due_on"], after["status"]) == ("2021-10-01", "open")
