"""Provenance built in one place, the registry of process kinds and the vocabulary of
report channels (no server)."""

from __future__ import annotations

import getpass
from datetime import date

import pytest
from typer.testing import CliRunner

from app import commands, provenance
from app.commands import KINDS, CountDeposits, ProcessRef, RecordRows, route
from app.errors import Refused
from cli.runtime import Failure
from domain import decision as d
from domain import hca as h
from domain import ratification as r
from domain import reporting as rp
from domain import treaty as t
from domain.errors import DomainError
from domain.processes import PROCESS_TYPES
from domain.reporting_types import CHANNELS, parse_channel
from workflows.common import CommandMeta


def _words(text: str) -> str:
    """``text`` without the boxes rich draws round an error, on one line."""
    return " ".join(text.replace("│", " ").split())


DEPOSIT = r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6))


# --- who, for whom, from where ------------------------------------------------------------------


def test_the_actor_is_the_user_running_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(provenance.ACTOR_ENV, raising=False)
    meta = provenance.command_meta(on_behalf_of="Depositary (UN OLA)", source="C.N.123.2011")
    assert meta.actor == getpass.getuser()
    assert meta.on_behalf_of == "Depositary (UN OLA)"
    assert meta.source == "C.N.123.2011"
    assert meta.correlation_id


def test_a_service_account_names_its_principal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(provenance.ACTOR_ENV, "svc-nightly-import")
    assert provenance.command_meta().actor == "svc-nightly-import"


def test_a_blank_service_account_is_no_principal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(provenance.ACTOR_ENV, "   ")
    assert provenance.command_meta().actor == getpass.getuser()


def test_blank_on_behalf_of_and_source_are_none() -> None:
    meta = provenance.command_meta(on_behalf_of="  ", source="")
    assert (meta.on_behalf_of, meta.source) == (None, None)


def test_on_behalf_of_travels_in_the_command_metadata() -> None:
    meta = CommandMeta.model_validate({"actor": "ana", "on_behalf_of": "ISU", "source": "x"})
    assert meta.model_dump()["on_behalf_of"] == "ISU"
    assert CommandMeta.model_validate({"actor": "ana"}).on_behalf_of is None  # old payloads


@pytest.mark.parametrize(
    "command",
    [
        r.Sign(signed_on=date(2008, 12, 3)),
        DEPOSIT,
        r.Withdraw(received_on=date(2020, 1, 1)),
        r.RecordReport(key="initial-report", received_on=date(2011, 1, 20), channel="email"),
        t.RecordDepositaryStatement(in_force_on=date(2010, 8, 1), statement="UNTC"),
        rp.Submit(submission=rp.Submission(received_on=date(2011, 4, 30))),
        RecordRows([r.Sign(signed_on=None), DEPOSIT]),
    ],
)
def test_a_fact_from_a_document_is_refused_without_its_source(command: object) -> None:
    with pytest.raises(Refused, match=r"give its source \(--source"):
        provenance.check_provenance(command, provenance.command_meta())
    provenance.check_provenance(command, provenance.command_meta(source="UNTC XXVI-6"))


@pytest.mark.parametrize(
    "command",
    [
        r.CompleteDomesticProcedure(completed_on=date(2011, 2, 24)),
        d.OpenRound(round="1", title="Written comments", opened_on=date(2011, 2, 24)),
        RecordRows([r.Sign(signed_on=None)][:0]),
        CountDeposits(),
    ],
)
def test_staff_acts_need_no_source(command: object) -> None:
    provenance.check_provenance(command, provenance.command_meta())


def test_a_command_type_is_asked_like_a_command() -> None:
    assert provenance.document_fact(r.RequestExtension) == "an extension request"
    assert provenance.document_fact(r.EndArmedConflict) is None


# --- the registry -------------------------------------------------------------------------------


def test_every_kind_names_its_workflow_ids_as_the_process_types_do() -> None:
    refs = [
        ProcessRef("treaty", "CCM"),
        ProcessRef("ratification", "CCM", "BGR"),
        ProcessRef("decision", "CCM", "isu-hosting"),
        ProcessRef("hca", "CCM", "2MSP"),
        ProcessRef("reporting", "CCM", "2011"),
        ProcessRef("report", "CCM", "2011:BGR"),
    ]
    assert [ref.workflow_id for ref in refs] == [
        "treaty:CCM",
        "ratification:CCM:BGR",
        "decision:CCM:isu-hosting",
        "hca:CCM:2MSP",
        "reporting:CCM:2011",
        "reporting:CCM:2011:BGR",
    ]
    assert {ref.workflow_id.split(":")[0] for ref in refs} == set(PROCESS_TYPES)
    assert set(KINDS) == {"treaty", "ratification", "decision", "hca", "reporting", "report"}


@pytest.mark.parametrize(
    ("kind", "command", "update"),
    [
        ("ratification", r.Sign(signed_on=None), "sign"),
        (
            "ratification",
            r.CompleteDomesticProcedure(completed_on=date(2011, 2, 24)),
            "complete_domestic_procedure",
        ),
        ("ratification", DEPOSIT, "deposit"),
        ("ratification", RecordRows([DEPOSIT]), "record_commands"),
        ("ratification", r.Withdraw(received_on=date(2020, 1, 1)), "record_obligation"),
        ("treaty", CountDeposits(), "count_deposits"),
        (
            "treaty",
            t.RecordDepositaryStatement(in_force_on=date(2010, 8, 1), statement="UNTC"),
            "record_depositary_statement",
        ),
        ("decision", d.OpenRound(round="1", title="T", opened_on=date(2011, 2, 24)), "command"),
        ("hca", h.ReachMilestone(milestone="draft", reached_on=date(2011, 3, 1)), "command"),
        ("reporting", commands.CloseCycle(), "close"),
        ("report", rp.Withdraw(withdrawn_on=date(2011, 5, 1)), "withdraw"),
    ],
)
def test_each_command_goes_to_the_update_it_always_went_to(
    kind: str, command: object, update: str
) -> None:
    """The Update names are the workflows' own (recorded histories replay them)."""
    the_route = route(ProcessRef(kind, "CCM", "X"), command)
    assert the_route.update.__name__ == update
    request = the_route.request(command, CommandMeta(actor="ana", source="s"))
    assert request.meta.actor == "ana"  # type: ignore[attr-defined]


def test_a_command_of_another_kind_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="not a command of a decision process"):
        route(ProcessRef("decision", "CCM", "x"), DEPOSIT)


# --- report channels ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "channel"),
    [
        ("email", "email"),
        ("E-mail", "email"),
        ("online tool", "online"),
        ("note  verbale", "note-verbale"),
        (" post ", "post"),
    ],
)
def test_a_channel_is_named_in_one_vocabulary(text: str, channel: str) -> None:
    assert parse_channel(text) == channel
    assert channel in CHANNELS


def test_another_channel_is_refused_naming_those_accepted() -> None:
    with pytest.raises(DomainError, match="'fax' is not a channel: expected one of email, online"):
        parse_channel("fax")


@pytest.mark.parametrize(
    "args",
    [
        ["reporting", "submit", "BGR", "--year", "2011", "--channel", "fax"],
        [
            "ratification",
            "report",
            "BGR",
            "--obligation",
            "initial-report",
            "--date",
            "2011-01-20",
            "--channel",
            "fax",
        ],
    ],
)
def test_both_commands_refuse_a_channel_outside_the_vocabulary(args: list[str]) -> None:
    from cli.main import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "'fax' is not a channel: expected one of email, online, post, hand" in _words(
        result.output
    )


def test_a_deposit_without_source_is_refused_before_any_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from cli.main import app

    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # nothing listens: not contacted
    result = CliRunner().invoke(
        app, ["ratification", "deposit", "BGR", "--date", "2011-04-06", "--on-behalf-of", "ISU"]
    )
    failure = result.exception
    assert isinstance(failure, Failure) and failure.code == 1  # refused, nothing sent
    assert "the deposit of an instrument is recorded from a document" in str(failure)
    assert "--source" in str(failure)


def test_an_obligation_never_starts_a_process() -> None:
    """A State with no running process owes nothing: its obligation commands go only to a
    process that runs (a closed one is not started afresh)."""
    ref = ProcessRef("ratification", "CCM", "BGR")
    assert not route(ref, r.Withdraw(received_on=date(2020, 1, 1))).starts
    assert route(ref, DEPOSIT).starts


def test_opening_a_cycle_is_the_start_of_its_process_with_the_year_asked() -> None:
    """A reporting cycle is opened by starting its process (no Update), once: the start
    input names the treaty and the year, and carries who opened it."""
    ref = ProcessRef("reporting", "ATT", "2026")
    the_route = route(ref, commands.OpenCycle())
    assert the_route.update is None and the_route.opens is not None
    meta = CommandMeta(actor="staff", on_behalf_of="ATT Secretariat")
    start = the_route.opens(ref, commands.OpenCycle(), meta)
    assert (start.treaty, start.year, start.meta) == ("ATT", 2026, meta)
    assert ref.workflow_id == rp.cycle_workflow_id("ATT", 2026)


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (
            ["option", "isu-hosting", "gichd2", "--title", "X", "--proposed-by", "Germany"]
            + ["--on", "2011-09-13"],
            "an option put forward",
        ),
        (["document", "isu-hosting", "paper", "--title", "A discussion paper"], "a document"),
    ],
)
def test_a_decision_fact_without_source_is_refused_like_a_deposit(
    monkeypatch: pytest.MonkeyPatch, args: list[str], what: str
) -> None:
    """Every fact from a document missing its source gets the same refusal (exit 1, the
    option named), not a usage error of some commands only."""
    from cli.main import app

    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # nothing listens: not contacted
    result = CliRunner().invoke(app, ["decision", *args])
    failure = result.exception
    assert isinstance(failure, Failure) and failure.code == 1
    assert f"{what} is recorded from a document: give its source (--source" in str(failure)


def test_actor_and_on_behalf_of_together_are_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cli.main import app

    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
    argv = ["ratification", "deposit", "BGR", "--date", "2011-04-06", "--source", "C.N.1"]
    argv += ["--actor", "x", "--on-behalf-of", "y"]
    monkeypatch.setattr("sys.argv", ["treaty", *argv])
    result = CliRunner().invoke(app, argv)
    failure = result.exception
    assert isinstance(failure, Failure) and failure.code == 2
    assert "give --on-behalf-of once" in str(failure)
