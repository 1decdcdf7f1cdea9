"""The settings module (pydantic-settings), `treaty config show`, and the logs: structured
and never a secret (the workflow context of their lines: tests/workflows/test_log_context.py)."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from pathlib import Path

import pytest
import structlog

import settings as settings_mod
from adapters.logging import configure_logging
from cli.main import main

PASSWORD = "pw-Z9x!q7"  # a database password that must never be printed
SMTP_PASSWORD = "smtp-K3y-77"
API_KEY = "tcld-api-key-0123456789"
KEY_PEM = (
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No treatyflow variable set but a private home."""
    for variable in settings_mod.Settings.variables():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("TREATYFLOW_HOME", str(tmp_path / "home"))
    return monkeypatch


# --- the settings ---------------------------------------------------------------------------


def test_defaults_are_the_embedded_stack(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    s = settings_mod.load()
    assert s.embedded_temporal and s.embedded_postgres
    assert s.home == (tmp_path / "home").resolve()
    assert (s.temporal_namespace, s.task_queue) == ("default", "treatyflow")
    assert (s.temporal_port, s.ui_port) == (7233, 8233)
    assert (s.database_pool_size, s.worker_processes) == (10, 1)
    assert (s.max_concurrent_activities, s.max_concurrent_workflow_tasks) == (100, 100)
    assert s.graceful_shutdown_seconds == 30.0
    assert s.metrics_port is None and s.health_port is None
    assert (s.smtp_port, s.smtp_starttls, s.smtp_password) == (587, True, None)
    assert s.temporal_connect_options() == {}


def test_every_setting_comes_from_its_variable(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key, ca = (tmp_path / n for n in ("client.pem", "client.key", "ca.pem"))
    for path in (cert, key, ca):
        path.write_text(KEY_PEM if path == key else "-----BEGIN CERTIFICATE-----\n")
    env = {
        "TEMPORAL_ADDRESS": "ns.a1b2c.tmprl.cloud:7233",
        "TEMPORAL_NAMESPACE": "ns.a1b2c",
        "TEMPORAL_TLS_CERT": str(cert),
        "TEMPORAL_TLS_KEY": str(key),
        "TEMPORAL_TLS_CA": str(ca),
        "TEMPORAL_TLS_SERVER_NAME": "ns.a1b2c.tmprl.cloud",
        "DATABASE_URL": f"postgresql://treatyflow:{PASSWORD}@db.internal:5432/treatyflow",
        "TREATYFLOW_DATABASE_POOL_SIZE": "25",
        "TREATYFLOW_SMTP_HOST": "smtp.example.org",
        "TREATYFLOW_SMTP_PORT": "465",
        "TREATYFLOW_SMTP_USERNAME": "isu",
        "TREATYFLOW_SMTP_PASSWORD": SMTP_PASSWORD,
        "TREATYFLOW_SMTP_FROM": "ISU <isu@example.org>",
        "TREATYFLOW_SMTP_STARTTLS": "false",
        "TREATYFLOW_TASK_QUEUE": "treaties",
        "TREATYFLOW_WORKER_TASK_QUEUES": "treaties, mail ,treaties",
        "TREATYFLOW_WORKER_PROCESSES": "3",
        "TREATYFLOW_MAX_CONCURRENT_ACTIVITIES": "20",
        "TREATYFLOW_MAX_CONCURRENT_WORKFLOW_TASKS": "40",
        "TREATYFLOW_GRACEFUL_SHUTDOWN_SECONDS": "12.5",
        "TREATYFLOW_METRICS_PORT": "9464",
        "TREATYFLOW_HEALTH_PORT": "8080",
        "TREATYFLOW_LOG_FORMAT": "JSON",
        "TREATYFLOW_LOG_LEVEL": "debug",
    }
    for k, v in env.items():
        clean_env.setenv(k, v)
    s = settings_mod.load()
    assert not s.embedded_temporal and not s.embedded_postgres
    assert s.temporal_address == "ns.a1b2c.tmprl.cloud:7233"
    assert (s.database_pool_size, s.smtp_port, s.smtp_starttls) == (25, 465, False)
    assert s.smtp_password is not None and s.smtp_password.get_secret_value() == SMTP_PASSWORD
    assert s.smtp_from == "ISU <isu@example.org>" and s.smtp_username == "isu"
    # what the delivery activity logs in with: the password itself, not a masked object
    from activities.outbox import SmtpSettings, smtp_settings

    assert smtp_settings() == SmtpSettings(
        host="smtp.example.org",
        port=465,
        username="isu",
        password=SMTP_PASSWORD,
        sender="ISU <isu@example.org>",
        starttls=False,
    )
    assert s.worker_task_queues == ("treaties", "mail")
    assert (s.worker_processes, s.max_concurrent_activities) == (3, 20)
    assert (s.max_concurrent_workflow_tasks, s.graceful_shutdown_seconds) == (40, 12.5)
    assert (s.metrics_port, s.health_port) == (9464, 8080)
    assert (s.log_format, s.log_level) == ("json", "DEBUG")
    tls = s.temporal_connect_options()["tls"]
    assert tls.client_private_key == KEY_PEM.encode()
    assert tls.domain == "ns.a1b2c.tmprl.cloud"
    # secrets stay out of repr
    assert PASSWORD not in repr(s) and SMTP_PASSWORD not in repr(s)


def test_api_key_means_tls(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("TEMPORAL_ADDRESS", "eu-west-1.aws.api.temporal.io:7233")
    clean_env.setenv("TEMPORAL_API_KEY", API_KEY)
    options = settings_mod.load().temporal_connect_options()
    assert options == {"tls": True, "api_key": API_KEY}


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        (
            "TREATYFLOW_UI_PORT",
            "80000",
            "is not a TCP port: expected a whole number from 1 to 65535",
        ),
        ("TREATYFLOW_METRICS_PORT", "x", "is not a TCP port"),
        ("TREATYFLOW_DATABASE_POOL_SIZE", "0", "expected a whole number from 1 to 1000"),
        ("TREATYFLOW_WORKER_PROCESSES", "many", "expected a whole number from 1 to 64"),
        ("TREATYFLOW_GRACEFUL_SHUTDOWN_SECONDS", "-5", "is not a number of seconds"),
        ("TREATYFLOW_SMTP_STARTTLS", "perhaps", "expected true or false"),
        ("TREATYFLOW_LOG_FORMAT", "xml", "expected console or json"),
        ("TREATYFLOW_LOG_LEVEL", "LOUD", "expected DEBUG, INFO, WARNING, ERROR or CRITICAL"),
        ("TREATYFLOW_SMTP_PORT", "submission", "is not a TCP port"),
        ("TREATYFLOW_REMINDER_DAYS_BEFORE", "60,-14", "e.g. 60,14 (default), or none"),
        ("TREATYFLOW_OVERDUE_EVERY_DAYS", "monthly", "from 1 to 3660 (default 30)"),
        ("TREATYFLOW_CYCLE_CLOSE_AFTER_DAYS", "0", "from 1 to 3660 (default 245)"),
        ("TREATYFLOW_REPORTING_SCHEDULES", "CCM,XYZ", "names no treaty profile (XYZ)"),
    ],
)
def test_a_bad_value_is_named_with_what_is_accepted(
    clean_env: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    clean_env.setenv(variable, value)
    with pytest.raises(settings_mod.SettingsError) as caught:
        settings_mod.load()
    message = str(caught.value)
    assert message.startswith(f"{variable}=") and says in message


def test_a_client_certificate_needs_its_key(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("TEMPORAL_TLS_CERT", str(tmp_path / "client.pem"))
    with pytest.raises(settings_mod.SettingsError, match="TEMPORAL_TLS_KEY is not"):
        settings_mod.load()


def test_an_unreadable_key_is_named_not_shown(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "client.pem").write_text("cert")
    clean_env.setenv("TEMPORAL_ADDRESS", "temporal:7233")
    clean_env.setenv("TEMPORAL_TLS_CERT", str(tmp_path / "client.pem"))
    clean_env.setenv("TEMPORAL_TLS_KEY", str(tmp_path / "missing.key"))
    with pytest.raises(settings_mod.SettingsError, match="TEMPORAL_TLS_KEY=.*missing.key"):
        settings_mod.load().temporal_connect_options()


def test_changed_copies(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``dataclasses.replace`` keeps working as when Settings was a dataclass."""
    s = settings_mod.load()
    other = dataclasses.replace(s, home=tmp_path / "other", temporal_address=None)
    assert other.home == (tmp_path / "other").resolve() and other.ui_port == s.ui_port
    assert s.model_copy(update={"task_queue": "q"}).task_queue == "q"
    with pytest.raises(Exception):  # noqa: B017 - frozen
        s.task_queue = "x"  # type: ignore[misc]


# --- treaty config show ---------------------------------------------------------------------


def test_config_show_masks_the_secrets(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "client.key"
    key.write_text(KEY_PEM)
    (tmp_path / "client.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    clean_env.setenv("DATABASE_URL", f"postgresql://treatyflow:{PASSWORD}@db:5432/treatyflow")
    clean_env.setenv("TEMPORAL_TLS_CERT", str(tmp_path / "client.pem"))
    clean_env.setenv("TEMPORAL_TLS_KEY", str(key))
    clean_env.setenv("TREATYFLOW_SMTP_PASSWORD", SMTP_PASSWORD)
    clean_env.setenv("TEMPORAL_API_KEY", API_KEY)

    assert main(["config", "show"]) == 0
    table = capsys.readouterr().out
    assert main(["config", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    for text in (table, json.dumps(shown)):
        assert PASSWORD not in text and SMTP_PASSWORD not in text and API_KEY not in text
        assert "PRIVATE KEY" not in text and "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in text
    values = shown["settings"]
    assert values["DATABASE_URL"] == "postgresql://treatyflow:***@db:5432/treatyflow"
    assert values["TEMPORAL_TLS_KEY"] == str(key)  # the path, not the contents
    assert values["TREATYFLOW_SMTP_PASSWORD"] == values["TEMPORAL_API_KEY"] == "***"
    assert shown["sources"]["DATABASE_URL"] == "environment"
    assert shown["sources"]["TEMPORAL_NAMESPACE"] == "default"
    assert "postgresql://treatyflow:***@db:5432/treatyflow" in table
    assert set(values) == set(settings_mod.Settings.variables())


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app@db/app?password=PW", "postgresql://app@db/app?password=***"),
        ("host=db user=app password=PW dbname=app", "host=db user=app password=*** dbname=app"),
    ],
)  # fmt: skip
def test_a_database_password_outside_the_user_part_is_masked_too(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, shown: str
) -> None:
    clean_env.setenv("DATABASE_URL", url.replace("PW", PASSWORD))
    assert main(["config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    assert PASSWORD not in out
    assert json.loads(out)["settings"]["DATABASE_URL"] == shown
    assert PASSWORD in settings_mod.load().secret_values()  # so logs mask it as well


def test_config_show_with_a_bad_value_exits_2(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("TREATYFLOW_SMTP_PORT", "smtp")
    assert main(["config", "show", "--json"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["exit_code"] == 2
    assert "TREATYFLOW_SMTP_PORT='smtp' is not a TCP port" in err


# --- logs -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _restore_logging(tmp_path: Path) -> object:
    """Leave logging as the CLI configures it (stderr), whatever a test configured."""
    yield None
    configure_logging(settings_mod.Settings(home=tmp_path), default_level="WARNING")


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _secret_settings(tmp_path: Path) -> settings_mod.Settings:
    return settings_mod.Settings(
        home=tmp_path,
        database_url=f"postgresql://treatyflow:{PASSWORD}@db:5432/treatyflow",
        smtp_password=SMTP_PASSWORD,
        temporal_api_key=API_KEY,
        log_format="json",
    )


def test_secrets_never_appear_in_logs(tmp_path: Path) -> None:
    config = _secret_settings(tmp_path)
    stream = io.StringIO()
    configure_logging(config, stream=stream)
    url = config.database_url
    log = structlog.get_logger("test")
    log.info("connecting", database_url=url, password=SMTP_PASSWORD, nested={"k": [API_KEY]})
    logging.getLogger("temporalio.worker").warning("could not reach %s with key %s", url, API_KEY)
    try:
        raise ConnectionError(f"connection to {url} refused (smtp {SMTP_PASSWORD})")
    except ConnectionError:
        log.exception("failed")
    other = "postgresql://someone:hunter2@elsewhere/db"  # a URL not in the settings
    log.warning("other url", url=other)
    text = stream.getvalue()
    assert len(_lines(stream)) == 4
    for secret in (PASSWORD, SMTP_PASSWORD, API_KEY, "hunter2"):
        assert secret not in text
    assert "postgresql://treatyflow:***@db:5432/treatyflow" in text
    assert "ConnectionError" in text  # the traceback is there, masked


def test_console_format_is_key_value(tmp_path: Path) -> None:
    stream = io.StringIO()
    configure_logging(settings_mod.Settings(home=tmp_path, log_format="console"), stream=stream)
    structlog.get_logger("test").info("worker started", task_queues=["treatyflow"])
    line = stream.getvalue()
    assert "worker started" in line and "task_queues=['treatyflow']" in line
    assert not line.lstrip().startswith("{")


def test_task_queues_of_a_worker(clean_env: pytest.MonkeyPatch) -> None:
    import worker

    assert worker.task_queues(settings_mod.load()) == ["treatyflow", *worker.EXTRA_TASK_QUEUES]
    clean_env.setenv("TREATYFLOW_WORKER_TASK_QUEUES", "treaties,mail")
    assert worker.task_queues(settings_mod.load()) == ["treaties", "mail"]
    assert worker.task_queues(settings_mod.load(), ["mail"]) == ["mail"]


def test_reporting_settings_give_the_reminder_policy_and_schedules(
    clean_env: pytest.MonkeyPatch,
) -> None:
    from activities.reporting import reminder_policy_from_env
    from app.reporting import schedule_treaties
    from domain.reporting import ReminderPolicy

    # the defaults are the domain's (docs/reporting.md): 60 and 14 days before, the day
    # after, every 30 days, closing 245 days after a 30 April deadline (31 December)
    assert reminder_policy_from_env() == ReminderPolicy()
    assert schedule_treaties() == ["CCM"]
    clean_env.setenv("TREATYFLOW_REMINDER_DAYS_BEFORE", "none")
    clean_env.setenv("TREATYFLOW_OVERDUE_EVERY_DAYS", "7")
    clean_env.setenv("TREATYFLOW_REPORTING_SCHEDULES", "ccm, att")
    policy = reminder_policy_from_env()
    assert (policy.before_days, policy.overdue_every_days) == ((), 7)
    assert schedule_treaties() == ["CCM", "ATT"]
    clean_env.setenv("TREATYFLOW_REPORTING_SCHEDULES", "none")
    assert schedule_treaties() == []
