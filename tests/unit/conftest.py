"""Fixtures of the unit layer: no server. ``ccm_recorder``: the real CCM record (statement,
status table, Lithuania's withdrawal) in an in-memory recorder, built once."""

from __future__ import annotations

import pytest

from eventstore.recorder import InMemoryRecorder
from tests import STATUS_CSV
from tests.unit.record import ccm_record


@pytest.fixture(scope="session")
async def ccm_recorder() -> InMemoryRecorder:
    """The CCM record of ``examples/ccm/status.csv`` (see :mod:`tests.unit.record`)."""
    return await ccm_record(STATUS_CSV)
