"""structlog, configured once: key=value on a terminal, JSON otherwise (DESIGN "Logs")."""

from __future__ import annotations

import logging
import sys

import structlog

from settings import Settings


def configure_logging(settings: Settings, default_level: str = "INFO") -> None:
    """Configure structlog and the standard logging it renders for.

    ``TREATYFLOW_LOG_FORMAT`` = ``console`` | ``json``; default console when stderr is a
    terminal, JSON otherwise. ``TREATYFLOW_LOG_LEVEL`` (e.g. ``INFO``) overrides
    ``default_level`` (the CLI uses WARNING, the worker INFO). Logs go to stderr.
    """
    name = (settings.log_level or default_level).upper()
    level = logging.getLevelNamesMapping().get(name, logging.INFO)
    fmt = settings.log_format or ("console" if sys.stderr.isatty() else "json")
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(message)s")
