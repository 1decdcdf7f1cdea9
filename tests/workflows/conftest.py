"""Fixtures of the workflow layer: the time-skipping test server (one per test module, or
one of its own per test) and, from ``tests/conftest.py``, the event store the workers
append to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support import start_time_skipping


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server shared by the tests of one module."""
    async with await start_time_skipping() as environment:
        yield environment


@pytest.fixture
async def fresh_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server of this test's own (a workflow id such as
    ``treaty:CCM`` is then free)."""
    async with await start_time_skipping() as environment:
        yield environment
