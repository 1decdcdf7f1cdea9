"""Value types of the reporting process that its events carry (CCM Art. 7).

Kept apart from :mod:`domain.reporting` so that :mod:`domain.events` can use them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["on_time", "late", "missing"]


class ReminderPolicy(BaseModel):
    """When reminders go out, and when a cycle closes.

    ``before_days``: friendly reminders this many days before the deadline (default 60
    and 14); ``overdue_after_days``: the overdue notice this many days after it (default
    1: the day after); ``overdue_every_days``: then again every this many days (default
    30) until the cycle closes; ``close_after_days``: the cycle closes this many days after
    the deadline (default 245: 30 April + 245 days = 31 December).
    """

    model_config = ConfigDict(frozen=True)

    before_days: tuple[int, ...] = (60, 14)
    overdue_after_days: int = Field(default=1, ge=1)
    overdue_every_days: int = Field(default=30, ge=1)
    close_after_days: int = Field(default=245, ge=1)

    def closes_on(self, due_on: date) -> date:
        """The date the cycle closes (``close_after_days`` after ``due_on``)."""
        return due_on + timedelta(days=self.close_after_days)


Channel = Literal["email", "online", "post", "hand", "other"]


class Submission(BaseModel):
    """A report as received.

    ``received_on``: date received; ``period_from`` / ``period_to``: the period it covers
    (default: the previous calendar year); ``channel``; ``reference``: the document symbol
    or file name; ``sha256``: of the file, if one was given (64 hex digits);
    ``nothing_new``: the State reports no change since its previous report (valid, CCM
    practice); ``stockpiles``: cluster munitions stockpiled, by type, as declared under
    CCM Art. 7(1)(b) (None: not given); ``explanation``: why figures changed.
    """

    model_config = ConfigDict(frozen=True)

    received_on: date
    period_from: date | None = None
    period_to: date | None = None
    channel: Channel = "email"
    reference: str | None = None
    sha256: str | None = None
    nothing_new: bool = False
    stockpiles: dict[str, int] | None = None
    explanation: str | None = None


class StateOutcome(BaseModel):
    """One State's line in the figures: ``outcome`` and the date received (if any)."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    received_on: date | None = None
