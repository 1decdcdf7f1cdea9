"""Date arithmetic used by the treaty rules. Pure: no clock, no I/O.

All dates are :class:`datetime.date` (ISO 8601 calendar dates, no time zone).
"""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta


def first_day_of_nth_month_after(day: date, months: int) -> date:
    """The first day of the ``months``-th month after the month of ``day``.

    "on the first day of the sixth month after the month in which ..." (CCM Art. 17(1),
    APMBC Art. 17(1)); the CCM Art. 17(2) wording "after the date on which" gives the same
    day, since every day of a month has the same following months.

    >>> first_day_of_nth_month_after(date(2010, 2, 16), 6)
    datetime.date(2010, 8, 1)
    >>> first_day_of_nth_month_after(date(2010, 7, 28), 6)
    datetime.date(2011, 1, 1)
    """
    if months < 0:
        raise ValueError(f"months must be >= 0, got {months}")
    return day.replace(day=1) + relativedelta(months=months)


ONE_DAY = timedelta(days=1)


def months_after(day: date, months: int) -> date:
    """The same day ``months`` months later (clamped to the month's end: 31 Aug + 6 months
    is 28/29 Feb), as "six months after" is read (CCM Art. 20(3))."""
    if months < 0:
        raise ValueError(f"months must be >= 0, got {months}")
    return day + relativedelta(months=months)


def days_after(day: date, days: int) -> date:
    """``day`` plus ``days`` calendar days ("90 days after", ATT Art. 22)."""
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    return day + timedelta(days=days)
