"""Configuration from the environment, with embedded defaults (``pydantic-settings``).

One model, :class:`Settings`, read by the CLI and the worker alike; :func:`load` reads it.
Every variable is optional; an empty value counts as unset. With neither
``TEMPORAL_ADDRESS`` nor ``DATABASE_URL`` set, the embedded stack is used (``treaty up``).

Embedded stack
    ``TREATYFLOW_HOME``: data folder of the embedded stack (default: the platform's user
    data folder, e.g. ``~/.local/share/treatyflow``); ``TREATYFLOW_TEMPORAL_PORT`` /
    ``TREATYFLOW_UI_PORT``: ports of the embedded dev server (default 7233 / 8233).

Temporal
    ``TEMPORAL_ADDRESS`` (``host:port``) and ``TEMPORAL_NAMESPACE`` (default ``default``):
    an existing Temporal server or Temporal Cloud. Mutual TLS: ``TEMPORAL_TLS_CERT`` and
    ``TEMPORAL_TLS_KEY`` (PEM files: client certificate and its private key, both or
    neither), ``TEMPORAL_TLS_CA`` (PEM file: the server's CA; default the system's roots),
    ``TEMPORAL_TLS_SERVER_NAME`` (the name to expect in the server's certificate),
    ``TEMPORAL_TLS`` (``true``: TLS with no client certificate). ``TEMPORAL_API_KEY``:
    Temporal Cloud API key (implies TLS). These are the variables the ``temporal`` CLI
    reads too.

Event store
    ``DATABASE_URL`` (``postgresql://user:password@host:5432/db``) and
    ``TREATYFLOW_DATABASE_POOL_SIZE`` (connections per process, default 10).

Mail (notifications)
    ``TREATYFLOW_SMTP_HOST``, ``TREATYFLOW_SMTP_PORT`` (default 587),
    ``TREATYFLOW_SMTP_USERNAME``, ``TREATYFLOW_SMTP_PASSWORD``, ``TREATYFLOW_SMTP_FROM``
    (the sender address), ``TREATYFLOW_SMTP_STARTTLS`` (default true).

Workers
    ``TREATYFLOW_TASK_QUEUE``: the task queue commands are sent to (default
    ``treatyflow``); ``TREATYFLOW_WORKER_TASK_QUEUES``: comma-separated queues a worker
    polls (default: all: ``TREATYFLOW_TASK_QUEUE`` and :data:`worker.EXTRA_TASK_QUEUES`);
    ``TREATYFLOW_WORKER_PROCESSES`` (default 1); ``TREATYFLOW_MAX_CONCURRENT_ACTIVITIES``
    and ``TREATYFLOW_MAX_CONCURRENT_WORKFLOW_TASKS`` (per process, default 100 each);
    ``TREATYFLOW_GRACEFUL_SHUTDOWN_SECONDS`` (how long in-flight activities may run on
    after SIGTERM before they are handed back, default 30); ``TREATYFLOW_METRICS_PORT`` /
    ``TREATYFLOW_METRICS_HOST`` (Prometheus endpoint of the Temporal SDK's metrics, off by
    default; host default 127.0.0.1); ``TREATYFLOW_HEALTH_PORT`` /
    ``TREATYFLOW_HEALTH_HOST`` (the worker's ``/healthz`` endpoint, off by default);
    with ``N`` processes, process ``i`` (0..N-1) uses port + ``i``;
    ``TREATYFLOW_ARCHIVE_MINUTES``: minutes between the worker's archiving passes
    (default 10, 0 turns archiving off).

Logs and the CLI
    ``TREATYFLOW_LOG_FORMAT``: ``console`` or ``json`` (default: console on a terminal,
    JSON otherwise); ``TREATYFLOW_LOG_LEVEL``: e.g. ``INFO`` (default WARNING for the CLI,
    INFO for workers); ``TREATYFLOW_ACTOR``: the principal of a service account that runs
    the CLI under a shared user, recorded as the actor of each command (default the login
    name; :func:`app.provenance.principal`); ``TREATYFLOW_DEBUG``: any value shows the
    traceback of an internal error.

Secrets (:data:`SECRET_FIELDS`) are :class:`pydantic.SecretStr` or kept out of ``repr``;
:meth:`Settings.masked` gives the effective settings with them masked.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import unquote

import platformdirs
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    from temporalio.service import TLSConfig

#: Fields whose value is a secret: never logged, masked by :meth:`Settings.masked`.
SECRET_FIELDS = ("temporal_api_key", "smtp_password")


def _env(name: str, default: Any = None, **kwargs: Any) -> Any:
    """A field read from the environment variable ``name`` (also accepted by that name when
    the model is built directly)."""
    if "default_factory" not in kwargs:
        kwargs["default"] = default
    return Field(validation_alias=AliasChoices(name), alias=name, **kwargs)


class SettingsError(SystemExit):
    """A variable of the environment has a value that cannot be used; the message names
    the variable, what it holds and what is accepted.

    A :class:`SystemExit`, so that an entry point that does not catch it (``python -m
    worker``) still ends with just the message (exit 1); the ``treaty`` command catches it
    and exits 2.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("treatyflow"))


def _port(value: Any, default: str) -> Any:
    if value is None:
        return None
    text = str(value).strip()
    try:
        port = int(text)
    except ValueError:
        port = None
    if port is None or not 1 <= port <= 65535:
        raise ValueError(f"is not a TCP port: expected a whole number from 1 to 65535 ({default})")
    return port


def _positive_int(value: Any, what: str, default: int, maximum: int) -> int:
    text = str(value).strip()
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or not 1 <= number <= maximum:
        raise ValueError(
            f"is not {what}: expected a whole number from 1 to {maximum} (default {default})"
        )
    return number


_BOOLS = {"1": True, "true": True, "yes": True, "on": True}
_BOOLS |= {"0": False, "false": False, "no": False, "off": False}


def _bool(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in _BOOLS:
        raise ValueError(
            f"is not a yes/no value: expected true or false (also 1/0, yes/no, on/off; "
            f"default {str(default).lower()})"
        )
    return _BOOLS[text]


#: ``scheme://user:password@``: the password of a URL's user information (non-empty).
_USERINFO_PASSWORD = re.compile(r"(?P<pre>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):(?P<pw>[^@\s/]+)@")
#: ``password=...``: a URL's query parameter or a libpq ``key=value`` connection string's
#: keyword (a quoted value may hold spaces).
_PASSWORD_PARAM = re.compile(r"(?i)(?P<pre>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^&\s]+)")


def url_passwords(url: str) -> list[str]:
    """Every password written in a connection string ``url``: in a URL's user information
    (``postgresql://app:pw@db/x``), in its query (``?password=pw``), or as the ``password``
    keyword of a libpq ``key=value`` string (``host=db password='p w'``); quotes and
    percent-encoding kept as written."""
    found = [m.group("pw") for m in _USERINFO_PASSWORD.finditer(url)]
    found += [m.group("pw").strip("'") for m in _PASSWORD_PARAM.finditer(url)]
    return [pw for pw in found if pw]


def redact_url(url: str) -> str:
    """``url`` (or a message quoting one) with every non-empty password replaced by ``***``:
    ``postgresql://app:***@db/x``, ``...?password=***``, ``host=db password=***`` (an empty
    one, as in the embedded server's ``postgres:@``, is left: there is nothing to hide). A
    single word with an ``@`` that is none of these has whatever precedes its last ``@``
    hidden."""
    masked = _USERINFO_PASSWORD.sub(lambda m: f"{m.group('pre')}:***@", url)
    masked = _PASSWORD_PARAM.sub(lambda m: f"{m.group('pre')}***", masked)
    if masked == url and "@" in url and "://" not in url and not any(c.isspace() for c in url):
        return "***@" + url.rsplit("@", 1)[-1]
    return masked


class Settings(BaseSettings):
    """The effective settings (see the module docstring for every variable).

    Immutable. ``Settings(home=..., temporal_address=...)`` takes field names (or the
    variable names); :func:`load` reads the environment. ``dataclasses.replace(settings,
    home=...)`` and ``settings.model_copy(update=...)`` both give a changed copy.
    ``embedded_temporal`` / ``embedded_postgres`` say whether the embedded servers are
    used.
    """

    model_config = SettingsConfigDict(
        frozen=True,
        extra="ignore",
        env_ignore_empty=True,
        validate_by_name=True,
        validate_by_alias=True,
        case_sensitive=True,
        env_parse_none_str=None,
    )

    # --- embedded stack
    home: Path = _env("TREATYFLOW_HOME", default_factory=_default_home)
    temporal_port: int = _env("TREATYFLOW_TEMPORAL_PORT", 7233)
    ui_port: int = _env("TREATYFLOW_UI_PORT", 8233)

    # --- Temporal
    temporal_address: str | None = _env("TEMPORAL_ADDRESS")
    temporal_namespace: str = _env("TEMPORAL_NAMESPACE", "default")
    temporal_tls: bool = _env("TEMPORAL_TLS", False)
    temporal_tls_cert: Path | None = _env("TEMPORAL_TLS_CERT")
    temporal_tls_key: Path | None = _env("TEMPORAL_TLS_KEY")
    temporal_tls_ca: Path | None = _env("TEMPORAL_TLS_CA")
    temporal_tls_server_name: str | None = _env("TEMPORAL_TLS_SERVER_NAME")
    temporal_api_key: SecretStr | None = _env("TEMPORAL_API_KEY")

    # --- event store
    database_url: str | None = _env("DATABASE_URL", repr=False)
    database_pool_size: int = _env("TREATYFLOW_DATABASE_POOL_SIZE", 10)

    # --- mail (read by the notification activities)
    smtp_host: str | None = _env("TREATYFLOW_SMTP_HOST")
    smtp_port: int = _env("TREATYFLOW_SMTP_PORT", 587)
    smtp_username: str | None = _env("TREATYFLOW_SMTP_USERNAME")
    smtp_password: SecretStr | None = _env("TREATYFLOW_SMTP_PASSWORD")
    smtp_from: str | None = _env("TREATYFLOW_SMTP_FROM")
    smtp_starttls: bool = _env("TREATYFLOW_SMTP_STARTTLS", True)

    # --- reporting cycles (read by the reporting workflows' activities and `treaty up`)
    reminder_days_before: Annotated[tuple[int, ...], NoDecode] = _env(
        "TREATYFLOW_REMINDER_DAYS_BEFORE", (60, 14)
    )
    overdue_after_days: int = _env("TREATYFLOW_OVERDUE_AFTER_DAYS", 1)
    overdue_every_days: int = _env("TREATYFLOW_OVERDUE_EVERY_DAYS", 30)
    cycle_close_after_days: int = _env("TREATYFLOW_CYCLE_CLOSE_AFTER_DAYS", 245)
    reporting_schedules: Annotated[tuple[str, ...], NoDecode] = _env(
        "TREATYFLOW_REPORTING_SCHEDULES", ("CCM",)
    )

    # --- workers
    task_queue: str = _env("TREATYFLOW_TASK_QUEUE", "treatyflow")
    worker_task_queues: Annotated[tuple[str, ...], NoDecode] = _env(
        "TREATYFLOW_WORKER_TASK_QUEUES", ()
    )
    worker_processes: int = _env("TREATYFLOW_WORKER_PROCESSES", 1)
    max_concurrent_activities: int = _env("TREATYFLOW_MAX_CONCURRENT_ACTIVITIES", 100)
    max_concurrent_workflow_tasks: int = _env("TREATYFLOW_MAX_CONCURRENT_WORKFLOW_TASKS", 100)
    graceful_shutdown_seconds: float = _env("TREATYFLOW_GRACEFUL_SHUTDOWN_SECONDS", 30.0)
    metrics_port: int | None = _env("TREATYFLOW_METRICS_PORT")
    metrics_host: str = _env("TREATYFLOW_METRICS_HOST", "127.0.0.1")
    health_port: int | None = _env("TREATYFLOW_HEALTH_PORT")
    health_host: str = _env("TREATYFLOW_HEALTH_HOST", "127.0.0.1")
    archive_minutes: float = _env("TREATYFLOW_ARCHIVE_MINUTES", 10.0)

    # --- logs and the CLI
    log_format: Literal["console", "json"] | None = _env("TREATYFLOW_LOG_FORMAT")
    log_level: str | None = _env("TREATYFLOW_LOG_LEVEL")
    actor: str | None = _env("TREATYFLOW_ACTOR")
    debug: bool = _env("TREATYFLOW_DEBUG", False)

    # ------------------------------------------------------------------ validators

    @field_validator("home", mode="after")
    @classmethod
    def _resolve_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("temporal_port", mode="before")
    @classmethod
    def _temporal_port(cls, value: Any) -> Any:
        return _port(value, "default 7233")

    @field_validator("ui_port", mode="before")
    @classmethod
    def _ui_port(cls, value: Any) -> Any:
        return _port(value, "default 8233")

    @field_validator("smtp_port", mode="before")
    @classmethod
    def _smtp_port(cls, value: Any) -> Any:
        return _port(value, "default 587; 465 for implicit TLS, 25 for a local relay")

    @field_validator("metrics_port", "health_port", mode="before")
    @classmethod
    def _optional_port(cls, value: Any) -> Any:
        return _port(value, "unset: off")

    @field_validator(
        "temporal_address",
        "temporal_namespace",
        "temporal_tls_server_name",
        "database_url",
        "smtp_host",
        "smtp_username",
        "smtp_from",
        "task_queue",
        "metrics_host",
        "health_host",
        "actor",
        mode="before",
    )
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("database_pool_size", mode="before")
    @classmethod
    def _pool_size(cls, value: Any) -> int:
        return _positive_int(value, "a pool size", 10, 1000)

    @field_validator("worker_processes", mode="before")
    @classmethod
    def _processes(cls, value: Any) -> int:
        return _positive_int(value, "a number of worker processes", 1, 64)

    @field_validator("max_concurrent_activities", "max_concurrent_workflow_tasks", mode="before")
    @classmethod
    def _concurrency(cls, value: Any) -> int:
        return _positive_int(value, "a concurrency limit", 100, 10000)

    @field_validator("temporal_tls", mode="before")
    @classmethod
    def _tls_flag(cls, value: Any) -> bool:
        return _bool(value, False)

    @field_validator("smtp_starttls", mode="before")
    @classmethod
    def _starttls(cls, value: Any) -> bool:
        return _bool(value, True)

    @field_validator("debug", mode="before")
    @classmethod
    def _debug(cls, value: Any) -> bool:
        # any non-empty value turns it on (as TREATYFLOW_DEBUG always did)
        return bool(value) if not isinstance(value, str) else bool(value.strip())

    @field_validator("graceful_shutdown_seconds", mode="before")
    @classmethod
    def _grace(cls, value: Any) -> float:
        try:
            seconds = float(str(value).strip())
        except ValueError:
            seconds = -1.0
        if not (seconds >= 0 and math.isfinite(seconds)):
            raise ValueError("is not a number of seconds: expected a number from 0 up (default 30)")
        return seconds

    @field_validator("archive_minutes", mode="before")
    @classmethod
    def _archive(cls, value: Any) -> float:
        try:
            minutes = float(str(value).strip())
        except ValueError:
            minutes = -1.0
        if not (minutes >= 0 and math.isfinite(minutes)):
            raise ValueError(
                "is not a number of minutes: expected a number from 0 (no archiving) up, "
                "e.g. 10 (default 10)"
            )
        return minutes

    @field_validator("reminder_days_before", mode="before")
    @classmethod
    def _reminder_days(cls, value: Any) -> tuple[int, ...]:
        if not isinstance(value, str):
            return tuple(value)
        if value.strip().lower() == "none":
            return ()
        try:
            days = tuple(int(x) for x in value.split(","))
        except ValueError:
            days = (-1,)
        if any(d < 1 for d in days):
            raise ValueError(
                "is not a list of days: expected whole numbers from 1 up separated by commas, "
                "e.g. 60,14 (default), or none"
            )
        return days

    @field_validator(
        "overdue_after_days", "overdue_every_days", "cycle_close_after_days", mode="before"
    )
    @classmethod
    def _days(cls, value: Any, info: ValidationInfo) -> int:
        default = cls.model_fields[str(info.field_name)].default
        return _positive_int(value, "a number of days", default, 3660)

    @field_validator("reporting_schedules", mode="before")
    @classmethod
    def _schedules(cls, value: Any, info: ValidationInfo) -> tuple[str, ...]:
        if not isinstance(value, str):
            return tuple(value)
        if value.strip().lower() == "none":
            return ()
        from domain.treaties import PROFILES

        # a treaty of the data folder is known by its file, <home>/profiles/<code>.toml
        # (adapters.profiles reads and checks it when the CLI or the worker starts)
        home = info.data.get("home")
        folder = home / "profiles" if isinstance(home, Path) else None
        codes = tuple(dict.fromkeys(c.strip().upper() for c in value.split(",") if c.strip()))
        unknown = [
            c
            for c in codes
            if c not in PROFILES
            and not (folder is not None and (folder / f"{c.lower()}.toml").is_file())
        ]
        if unknown:
            raise ValueError(
                f"names no treaty profile ({', '.join(unknown)}): expected treaty codes "
                f"separated by commas from {', '.join(sorted(PROFILES))} (default CCM) or "
                f"of a file in {folder or 'the data folder'}, or none"
            )
        return codes

    @field_validator("worker_task_queues", mode="before")
    @classmethod
    def _queues(cls, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value or ())
        queues = tuple(dict.fromkeys(q.strip() for q in items if q.strip()))
        return queues

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: Any) -> Any:
        if value is None:
            return None
        text = str(value).strip().lower()
        if text not in ("console", "json"):
            raise ValueError("is not a log format: expected console or json")
        return text

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        if value is None:
            return None
        text = str(value).strip().upper()
        if not text:
            return None
        if text not in logging.getLevelNamesMapping():
            raise ValueError("is not a log level: expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return text

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            given, missing = (
                ("TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY")
                if self.temporal_tls_key is None
                else ("TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CERT")
            )
            raise ValueError(
                f"{given} is set but {missing} is not: a client certificate needs its "
                "private key (set both PEM files, or neither)"
            )
        return self

    # ------------------------------------------------------------------ derived

    @property
    def embedded_temporal(self) -> bool:
        """True when no ``TEMPORAL_ADDRESS`` is set: the embedded dev server is used."""
        return self.temporal_address is None

    @property
    def embedded_postgres(self) -> bool:
        """True when no ``DATABASE_URL`` is set: the embedded PostgreSQL is used."""
        return self.database_url is None

    @property
    def temporal_uses_tls(self) -> bool:
        """True when connections to a configured Temporal server use TLS."""
        return bool(
            self.temporal_tls
            or self.temporal_tls_cert
            or self.temporal_tls_ca
            or self.temporal_api_key is not None
        )

    def temporal_tls_config(self) -> TLSConfig | bool:
        """The ``tls`` argument of ``temporalio.client.Client.connect``: a ``TLSConfig``
        with the PEM files' bytes read, ``True`` (TLS, system roots) or ``False``.

        Raises :class:`SettingsError` when a PEM file cannot be read (the message names the
        variable and the path, never the file's contents)."""
        if not self.temporal_uses_tls:
            return False
        if not (self.temporal_tls_cert or self.temporal_tls_ca or self.temporal_tls_server_name):
            return True
        from temporalio.service import TLSConfig

        return TLSConfig(
            client_cert=_read_pem("TEMPORAL_TLS_CERT", self.temporal_tls_cert),
            client_private_key=_read_pem("TEMPORAL_TLS_KEY", self.temporal_tls_key),
            server_root_ca_cert=_read_pem("TEMPORAL_TLS_CA", self.temporal_tls_ca),
            domain=self.temporal_tls_server_name,
        )

    def temporal_connect_options(self) -> dict[str, Any]:
        """Keyword arguments for ``Client.connect`` to the configured server: ``tls`` and
        ``api_key`` (empty for the embedded dev server, which has neither)."""
        if self.embedded_temporal:
            return {}
        options: dict[str, Any] = {"tls": self.temporal_tls_config()}
        if self.temporal_api_key is not None:
            options["api_key"] = self.temporal_api_key.get_secret_value()
        return options

    def secret_values(self) -> list[str]:
        """The secrets' plain values (passwords, API key), for log redaction; empty ones
        left out."""
        values = [
            s.get_secret_value()
            for s in (self.temporal_api_key, self.smtp_password)
            if s is not None and s.get_secret_value()
        ]
        if self.database_url:
            for password in url_passwords(self.database_url):
                values += dict.fromkeys((password, unquote(password)))
        return values

    def masked(self) -> dict[str, Any]:
        """The effective settings, by variable name, as JSON values with the secrets
        masked: ``***`` for a set password or key, the ``DATABASE_URL`` with its password
        as ``***``; the TLS files by path (their contents are never read here)."""
        shown: dict[str, Any] = {}
        for name, field in type(self).model_fields.items():
            variable = field.alias or name
            value = getattr(self, name)
            if name in SECRET_FIELDS:
                value = None if value is None else "***"
            elif name == "database_url" and value is not None:
                value = redact_url(value)
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            shown[variable] = value
        return shown

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, ("***" if name in SECRET_FIELDS and value is not None else value)

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Every environment variable the settings read, mapped to its field name."""
        return {(f.alias or name): name for name, f in cls.model_fields.items()}


# `dataclasses.replace(settings, home=...)` keeps working as it did when Settings was a
# frozen dataclass: the replacement is built with every field passed explicitly.
Settings.__dataclass_fields__ = {  # type: ignore[attr-defined]
    f.name: f
    for f in dataclasses.fields(dataclasses.make_dataclass("_Fields", Settings.model_fields))
}


def _read_pem(variable: str, path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.expanduser().read_bytes()
    except OSError as err:
        raise SettingsError(
            f"{variable}={str(path)!r} cannot be read ({err.strerror or err}): expected a "
            "readable PEM file"
        ) from None


def _message(err: ValidationError) -> str:
    """One line per wrong variable: ``NAME='value' <what is wrong and what is accepted>``."""
    lines = []
    for e in err.errors(include_url=False):
        loc = e.get("loc") or ()
        cause = (e.get("ctx") or {}).get("error")
        text = str(cause) if cause is not None else e.get("msg", "")
        if not loc:  # a model-level check (a pair of variables): its message says it all
            lines.append(text)
            continue
        name = str(loc[0])
        field = Settings.model_fields.get(name)
        variable = field.alias or name if field is not None else name
        raw = e.get("input")
        if Settings.variables().get(variable) in SECRET_FIELDS:
            raw = "***"
        elif variable == "DATABASE_URL" and isinstance(raw, str):
            raw = redact_url(raw)
        if cause is None and variable == "TREATYFLOW_LOG_FORMAT":
            text = "is not a log format: expected console or json"
        lines.append(f"{variable}={raw!r} {text}")
    return "; ".join(lines)


def load() -> Settings:
    """Read the settings from the environment (see the module docstring).

    Raises :class:`SettingsError` when a variable holds a value that cannot be used (the
    message names the variable, its value — a secret masked — and what is accepted).
    """
    try:
        return Settings()
    except ValidationError as err:
        raise SettingsError(_message(err)) from None
