"""structlog, configured once: key=value on a terminal, JSON otherwise (DESIGN "Logs")."""

from __future__ import annotations

import logging
import sys

import structlog

from settings import Settings


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """Configure structlog and the standard logging it renders for.

    ``TREATYFLOW_LOG_FORMAT`` = ``console`` | ``json``; default console when stderr is a
    terminal, JSON otherwise. Logs go to stderr.
    """
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
