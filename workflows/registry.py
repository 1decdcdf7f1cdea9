"""What a worker runs and what replay replays: the workflows and the activities.

The worker (:func:`worker.build_worker`) registers :data:`WORKFLOWS` and
:func:`activities`; ``treaty audit replay`` (:mod:`audit.replay`, :mod:`cli.audit_replay`)
replays histories against :data:`WORKFLOWS`. A workflow type listed here is one the code
still has: removing one makes every history of that type unreplayable.
"""

from __future__ import annotations

from typing import Any

from workflows.decision import DecisionWorkflow
from workflows.hca import AgreementWorkflow
from workflows.ratification import RatificationWorkflow
from workflows.reporting import (
    OpenReportingCycleWorkflow,
    ReportingCycleWorkflow,
    StateReportWorkflow,
)
from workflows.treaty import TreatyWorkflow

#: The reporting workflows (CCM Art. 7): a cycle, a State's report, the yearly opening.
REPORTING_WORKFLOWS: list[type] = [
    ReportingCycleWorkflow,
    StateReportWorkflow,
    OpenReportingCycleWorkflow,
]

#: Every workflow a worker runs (Temporal workflow types ``Treaty``, ``Ratification``,
#: ``Decision``, ``HostCountryAgreement``, ``ReportingCycle``, ``StateReport``,
#: ``OpenReportingCycle``), and so every one replay knows.
WORKFLOWS: list[type] = [
    TreatyWorkflow,
    RatificationWorkflow,
    DecisionWorkflow,
    AgreementWorkflow,
    *REPORTING_WORKFLOWS,
]


def activities(store: Any, **reporting: Any) -> list[Any]:
    """Every activity a worker runs (:func:`activities.registry.all_activities`)."""
    from activities.registry import all_activities

    return all_activities(store, **reporting)


def check_environment() -> None:
    """Refuse settings the activities cannot run with, before a worker starts
    (:func:`activities.registry.check_environment`)."""
    from activities.registry import check_environment as check_activities

    check_activities()
