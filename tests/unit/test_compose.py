"""docker-compose.yml and the Dockerfile, checked without a container engine.

The Compose file is validated against the Compose Specification's JSON schema
(``schema/compose-spec.json`` of github.com/compose-spec/compose-spec, as vendored — with
its Apache-2.0 licence and a SHA-256 — by the pip package ``check-jsonschema`` 0.39.0, a
pinned test dependency: ``check_jsonschema/builtin_schemas/vendor/compose-spec.json``).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import re
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

import settings as settings_mod
import worker
from tests import ROOT

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
#: Variables the Compose file interpolates that are not treatyflow settings: the
#: passwords of PostgreSQL's superuser and of the event store's login (its header says so).
COMPOSE_ONLY_VARIABLES = {"POSTGRES_PASSWORD", "EVENTSTORE_PASSWORD"}
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


def _schema() -> dict[str, Any]:
    vendor = resources.files("check_jsonschema").joinpath("builtin_schemas/vendor")
    text = vendor.joinpath("compose-spec.json").read_text(encoding="utf-8")
    recorded = vendor.joinpath("sha256/compose-spec.sha256").read_text().strip()
    assert hashlib.sha256(text.encode()).hexdigest() == recorded  # the vendored copy, intact
    return json.loads(text)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _ours(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services built from our Dockerfile."""
    return {name: s for name, s in compose["services"].items() if "build" in s}


def _default(value: str) -> str:
    """``value`` as Compose would interpolate it with nothing set: each ``${X:-d}`` → d."""
    return _INTERPOLATION.sub(lambda m: m.group(3) or "", value)


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = _schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_catches_a_broken_file(compose: dict[str, Any]) -> None:
    """The validation is not vacuous: a misspelt key and a wrong type are refused."""
    schema = _schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    broken = json.loads(json.dumps(compose))
    broken["services"]["worker"]["deploy"]["replicaz"] = 2
    broken["services"]["postgres"]["ports"] = {"5432": "5432"}  # must be a list
    assert len(list(validator.iter_errors(broken))) >= 2


def test_topology(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"postgres", "temporal", "temporal-ui", "migrations", "worker"}
    # the official server image with its schema set-up, on PostgreSQL
    assert services["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert services["temporal"]["environment"]["DB"] == "postgres12"
    assert services["temporal"]["environment"]["POSTGRES_SEEDS"] == "postgres"
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    # the worker: built here, scaled by replicas, healthy by its own check
    w = services["worker"]
    assert w["build"]["dockerfile"] == "Dockerfile"
    assert w["deploy"]["replicas"] >= 2
    assert w["depends_on"]["migrations"]["condition"] == "service_completed_successfully"
    assert w["depends_on"]["temporal"]["condition"] == "service_healthy"
    assert services["migrations"]["restart"] == "no"
    for name in ("postgres", "temporal", "worker"):
        assert services[name]["healthcheck"]["test"], name
    # the commands the containers run are commands the worker module has
    assert services["worker"]["command"] == ["python", "-m", "worker"]
    choices = next(a.choices for a in worker._parser()._actions if a.dest == "command")
    # migrations: `sh -c "python -m worker migrate && python -m app.reporting"`
    shell, flag, line = services["migrations"]["command"]
    assert (shell, flag) == ("sh", "-c")
    steps = [step.split() for step in line.split("&&")]
    assert steps[0][:3] == ["python", "-m", "worker"] and steps[0][3] in choices
    assert steps[1] == ["python", "-m", "app.reporting"]
    reporting = importlib.import_module("app.reporting")
    assert callable(reporting._main)  # what `python -m app.reporting` runs
    assert services["migrations"]["depends_on"]["temporal"]["condition"] == "service_healthy"
    assert w["healthcheck"]["test"][:3] == ["CMD", "python", "-m"]
    assert importlib.util.find_spec(w["healthcheck"]["test"][3]) is not None
    # SIGTERM leaves in-flight activities their time: the container gets more than that
    grace = settings_mod.Settings.model_fields["graceful_shutdown_seconds"].default
    assert float(_default(w["environment"]["TREATYFLOW_GRACEFUL_SHUTDOWN_SECONDS"])) == grace
    assert int(w["stop_grace_period"].removesuffix("s")) > grace


def test_named_volumes_are_declared_and_used(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = {
        v.split(":", 1)[0]
        for s in compose["services"].values()
        for v in s.get("volumes", [])
        if not v.startswith((".", "/"))
    }
    assert used == declared == {"postgres-data", "treatyflow-home"}
    # the worker's data folder (its .eml outbox) is on the volume, not in the container
    home = next(
        re.search(r"TREATYFLOW_HOME=(\S+)", line).group(1)  # type: ignore[union-attr]
        for line in DOCKERFILE.read_text().splitlines()
        if "TREATYFLOW_HOME=" in line
    )
    mounts = [v.split(":")[1] for v in compose["services"]["worker"]["volumes"]]
    assert any(home == m or home.startswith(m.rstrip("/") + "/") for m in mounts), mounts


def test_image_tags_are_pinned(compose: dict[str, Any]) -> None:
    images = [s["image"] for s in compose["services"].values()]
    images += re.findall(r"^FROM\s+(\S+)", DOCKERFILE.read_text(), flags=re.M)
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"{image}: no tag"
        # a release, not a moving tag: PostgreSQL's are MAJOR.MINOR (16.9), others X.Y.Z
        assert re.match(r"\d+\.\d+(\.\d+)?(-[a-z0-9]+)*$", tag), f"{image}: tag not pinned"
        if not name.endswith("postgres"):
            assert re.match(r"\d+\.\d+\.\d+", tag), f"{image}: tag not pinned"


def test_every_variable_of_our_services_is_a_setting(compose: dict[str, Any]) -> None:
    known = settings_mod.Settings.variables()
    ours = _ours(compose)
    assert set(ours) == {"worker", "migrations"}
    for name, service in ours.items():
        unknown = set(service["environment"]) - set(known)
        assert unknown == set(), f"{name}: {unknown}"
    # every variable the file interpolates is a setting too, or one of its own two
    interpolated = set(re.findall(_INTERPOLATION, COMPOSE.read_text()))
    names = {m[0] for m in interpolated}
    assert names - set(known) == COMPOSE_ONLY_VARIABLES
    # and with nothing set, each service's environment is settings that load (an empty
    # variable is unset for settings.py: env_ignore_empty)
    assert settings_mod.Settings.model_config.get("env_ignore_empty") is True
    for name, service in ours.items():
        env = _unset_empty(service["environment"])
        config = settings_mod.Settings(**env)
        assert config.database_url is not None, name
    worker_config = settings_mod.Settings(**_unset_empty(ours["worker"]["environment"]))
    assert worker_config.temporal_address == "temporal:7233"
    assert worker_config.metrics_port == 9464 and worker_config.health_port == 8080
    assert worker_config.log_format == "json"


def _unset_empty(environment: dict[str, Any]) -> dict[str, str]:
    """The environment with nothing set, as settings.py sees it: empty values dropped."""
    env = {k: _default(str(v)) for k, v in environment.items()}
    return {k: v for k, v in env.items() if v != ""}


#: Settings the containers do not take from the compose environment, and why.
NOT_PASSED = {
    "TREATYFLOW_HOME": "set by the image (Dockerfile), on the treatyflow-home volume",
    "TREATYFLOW_TEMPORAL_PORT": "the embedded dev server's port: not used on servers",
    "TREATYFLOW_UI_PORT": "the embedded dev server's UI port: not used on servers",
}


def test_every_setting_reaches_the_worker_and_what_migrations_need(compose: dict[str, Any]) -> None:
    """A setting left out of a service's environment never reaches its container (compose
    passes only the listed variables): the reminder policy, the reporting Schedules, TLS
    and API key of Temporal Cloud, the actor, the task queues..."""
    known = set(settings_mod.Settings.variables())
    assert known - set(compose["services"]["worker"]["environment"]) == set(NOT_PASSED)
    # the migrations service creates the reporting Schedules: it needs the connection to
    # Temporal (TLS, API key), the task queue and which treaties
    needs = {v for v in known if v.startswith("TEMPORAL_")} | {
        "DATABASE_URL", "TREATYFLOW_TASK_QUEUE", "TREATYFLOW_REPORTING_SCHEDULES",
    }  # fmt: skip
    assert needs - set(compose["services"]["migrations"]["environment"]) == set()
    # a variable set in the environment is passed through, not replaced by a constant
    env = compose["services"]["worker"]["environment"]
    for var in (
        "TREATYFLOW_REMINDER_DAYS_BEFORE",
        "TREATYFLOW_REPORTING_SCHEDULES",
        "TEMPORAL_API_KEY",
        "TEMPORAL_TLS_CERT",
        "TREATYFLOW_WORKER_TASK_QUEUES",
    ):
        assert str(env[var]).startswith("${" + var), var


def test_the_event_store_gets_its_own_database_and_login(compose: dict[str, Any]) -> None:
    """The worker's DATABASE_URL names the login and database the PostgreSQL init script
    creates, apart from Temporal's (whose user is PostgreSQL's ``POSTGRES_USER``)."""
    services = compose["services"]
    url = urlsplit(_default(services["worker"]["environment"]["DATABASE_URL"]))
    assert url.hostname == "postgres"
    login, database = url.username, url.path.lstrip("/")
    assert login != services["postgres"]["environment"]["POSTGRES_USER"]
    assert _default(services["migrations"]["environment"]["DATABASE_URL"]) == url.geturl()
    mount = next(v for v in services["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v)
    init_dir = ROOT / mount.split(":")[0]
    script = "".join(p.read_text() for p in sorted(init_dir.iterdir()))
    assert f"CREATE ROLE {login} LOGIN PASSWORD" in script
    assert f"CREATE DATABASE {database} OWNER {login}" in script
    # the roles the store switches to (migrations 001/002) are the login's to use
    assert f"GRANT treatyflow_app, treatyflow_audit TO {login}" in script


def test_dockerfile_runs_the_worker_with_a_health_check() -> None:
    text = DOCKERFILE.read_text()
    assert "HEALTHCHECK" in text and 'CMD ["python", "-m", "adapters.health"]' in text
    assert 'CMD ["python", "-m", "worker"]' in text
    env = dict(re.findall(r"(TREATYFLOW_[A-Z_]+)=(\S+)", text))
    assert set(env) <= set(settings_mod.Settings.variables())
    settings_mod.Settings(**env)  # the image's defaults are valid settings
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored and ".env" in ignored
