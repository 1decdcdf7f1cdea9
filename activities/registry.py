"""The activities a worker runs, bound to one event store (:func:`all_activities`), and the
check of the environment they need (:func:`check_environment`). Read by
:mod:`workflows.registry`."""

from __future__ import annotations

from typing import Any

import settings as settings_mod
from activities.eventstore import EventStoreActivities
from activities.outbox import OutboxActivities, smtp_settings
from activities.reporting import ReportingActivities, reminder_policy_from_env

_FROM_ENV = object()


def reporting_activities(store: Any, home: Any = None, smtp: Any = _FROM_ENV) -> list[Any]:
    """The activities the reporting workflows run, bound to ``store``: the reads
    (:mod:`activities.reporting`) and the delivery (:mod:`activities.outbox`) with
    ``home`` (default: ``$TREATYFLOW_HOME``) and ``smtp`` (default: from the environment;
    None: ``.eml`` files)."""
    reads = ReportingActivities(store)
    outbox = OutboxActivities(
        store,
        home if home is not None else settings_mod.load().home,
        smtp_settings() if smtp is _FROM_ENV else smtp,
    )
    return [
        reads.reporting_parties,
        reads.reporting_reports,
        reads.previous_stockpiles,
        reads.reporting_policy,
        outbox.deliver_outbox,
    ]


def check_reporting_environment() -> None:
    """Refuse bad SMTP settings or reminder policy in the environment
    (:class:`settings.SettingsError`) before a worker starts."""
    smtp_settings()
    reminder_policy_from_env()


def all_activities(store: Any, **reporting: Any) -> list[Any]:
    """Every activity a worker runs, bound to the event store ``store``: ``append_events``
    (:class:`activities.eventstore.EventStoreActivities`) and the reporting activities
    (:func:`reporting_activities`; ``reporting``: its ``home`` / ``smtp``)."""
    return [EventStoreActivities(store).append_events, *reporting_activities(store, **reporting)]


def check_environment() -> None:
    """Refuse settings of the environment the activities cannot run with (bad SMTP
    settings, reminder policy: :class:`settings.SettingsError`) before a worker starts."""
    check_reporting_environment()
