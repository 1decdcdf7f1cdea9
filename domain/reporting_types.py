"""Value types of the reporting process that its events carry (CCM Art. 7).

Kept apart from :mod:`domain.reporting` so that :mod:`domain.events` can use them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from domain.errors import DomainError

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


Channel = Literal["email", "online", "post", "hand", "note-verbale", "other"]
"""How a report or a declaration reached the ISU or the depositary: the one vocabulary of
``treaty reporting submit --channel`` and ``treaty ratification report|compliance-declaration
--channel`` (CCM Art. 7(1): reports go to the Secretary-General, who transmits them)."""

CHANNELS: tuple[str, ...] = get_args(Channel)

CHANNEL_ALIASES: dict[str, str] = {
    "e-mail": "email",
    "online tool": "online",
    "online-tool": "online",
    "note verbale": "note-verbale",
    "by hand": "hand",
}
"""Other spellings accepted for a channel (the words staff use), recorded as the channel."""


def parse_channel(text: str) -> Channel:
    """The channel ``text`` names (case and surrounding spaces ignored; an alias of
    :data:`CHANNEL_ALIASES` is its channel).

    Raises:
        DomainError: not a channel, naming those accepted.
    """
    key = " ".join(text.strip().lower().split())
    key = CHANNEL_ALIASES.get(key, key)
    if key not in CHANNELS:
        raise DomainError(f"{text!r} is not a channel: expected one of {', '.join(CHANNELS)}")
    return key  # type: ignore[return-value]


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
