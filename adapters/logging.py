"""structlog, configured once: key=value on a terminal, JSON otherwise (DESIGN "Logs").

One handler on the root logger renders both structlog's events and the standard library's
records (the Temporal SDK's, ``activity.logger``'s, ``workflow.logger``'s) the same way:

- a line logged in an activity or a workflow carries ``workflow_id``, ``run_id`` and
  ``process_key`` (the process's event-store stream, ``ratification-CCM-BGR``), and the
  activity's type and attempt or the workflow's type;
- secrets never appear: the passwords and keys of the settings (``DATABASE_URL``'s
  password, ``TREATYFLOW_SMTP_PASSWORD``, ``TEMPORAL_API_KEY``) are replaced by ``***``
  wherever they occur in a line, and so is the password of any ``scheme://user:pw@host``
  URL.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

import structlog

from settings import Settings

#: What a masked secret reads as.
MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*:)[^@\s/]+@")
_HANDLER_NAME = "treatyflow"


def _process_key(workflow_id: str) -> str:
    from domain.ids import stream_id

    return stream_id(workflow_id)


def add_temporal_context(
    logger: Any, method_name: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """structlog processor: the workflow id, run id and process key of the activity or
    workflow a line is logged in (from the SDK's ``temporal_activity`` /
    ``temporal_workflow`` record extras, or, for structlog calls made inside an activity,
    from ``activity.info()``)."""
    record = event_dict.get("_record")
    act: Mapping[str, Any] | None = getattr(record, "temporal_activity", None)
    wf: Mapping[str, Any] | None = getattr(record, "temporal_workflow", None)
    if act is None and wf is None:
        activity_mod = sys.modules.get("temporalio.activity")
        if activity_mod is not None and activity_mod.in_activity():
            info = activity_mod.info()
            act = {
                "workflow_id": info.workflow_id,
                "workflow_run_id": info.workflow_run_id,
                "workflow_type": info.workflow_type,
                "activity_type": info.activity_type,
                "attempt": info.attempt,
            }
    if act is not None:
        if act.get("workflow_id"):
            event_dict.setdefault("workflow_id", act["workflow_id"])
            event_dict.setdefault("run_id", act.get("workflow_run_id"))
        event_dict.setdefault("activity", act.get("activity_type"))
        event_dict.setdefault("attempt", act.get("attempt"))
    elif wf is not None:
        event_dict.setdefault("workflow_id", wf.get("workflow_id"))
        event_dict.setdefault("run_id", wf.get("run_id"))
        event_dict.setdefault("workflow_type", wf.get("workflow_type"))
        if wf.get("update_name"):
            event_dict.setdefault("update", wf["update_name"])
    workflow_id = event_dict.get("workflow_id")
    if isinstance(workflow_id, str) and workflow_id:
        event_dict.setdefault("process_key", _process_key(workflow_id))
    return event_dict


class SecretMasker:
    """structlog processor: every occurrence of a secret value, and the password of any
    ``scheme://user:password@host`` URL, in the line's values (keys and nested lists and
    dicts included) becomes ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # longest first, so that a secret containing another is masked whole
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        """``text`` with the secrets and URL passwords masked."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + "@", text)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, dict):
            return {k: self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set):
            return [self._clean(v) for v in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.mask(str(value))

    def __call__(
        self, logger: Any, method_name: str, event_dict: structlog.typing.EventDict
    ) -> structlog.typing.EventDict:
        return {
            key: value if key.startswith("_") else self._clean(value)
            for key, value in event_dict.items()
        }


def log_format(settings: Settings, stream: TextIO | None = None) -> str:
    """``console`` or ``json``: ``TREATYFLOW_LOG_FORMAT``, else console when ``stream``
    (stderr) is a terminal and JSON otherwise."""
    stream = stream or sys.stderr
    if settings.log_format:
        return settings.log_format
    return "console" if stream.isatty() else "json"


def configure_logging(
    settings: Settings, default_level: str = "INFO", *, stream: TextIO | None = None
) -> None:
    """Configure structlog and the standard logging it renders for (again on a second call:
    the handler is replaced, never added twice).

    ``TREATYFLOW_LOG_FORMAT`` = ``console`` | ``json`` (default console when stderr is a
    terminal, JSON otherwise). ``TREATYFLOW_LOG_LEVEL`` (e.g. ``INFO``) overrides
    ``default_level`` (the CLI uses WARNING, the worker INFO). Logs go to ``stream``
    (default stderr).
    """
    stream = stream or sys.stderr
    name = (settings.log_level or default_level).upper()
    level = logging.getLevelNamesMapping().get(name, logging.INFO)
    fmt = log_format(settings, stream)
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=stream.isatty(), sort_keys=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        add_temporal_context,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        SecretMasker(settings.secret_values()),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet_temporal_messages()


def quiet_temporal_messages() -> None:
    """The SDK's activity and workflow loggers put the workflow / activity details in the
    record's extras, which :func:`add_temporal_context` turns into fields: not also in the
    message text. (Done only where the SDK is loaded already: the CLI's start stays light.)"""
    activity_mod = sys.modules.get("temporalio.activity")
    if activity_mod is not None:
        activity_mod.logger.activity_info_on_message = False
    workflow_mod = sys.modules.get("temporalio.workflow")
    if workflow_mod is not None:
        workflow_mod.logger.workflow_info_on_message = False
