"""The payloads of the workflows' starts, Updates, signals and queries (pydantic models).

They live in a module of their own that the workflow modules import through
``workflow.unsafe.imports_passed_through()``: the workflow sandbox re-imports a workflow's
module for every run it starts (and keeps it while the run is cached), and a pydantic model
costs a few hundred microseconds and a few dozen KiB to build; passed through, they are
built once per worker. The workflow modules re-export them under their old names. The
payloads themselves (their JSON) are unchanged, so recorded histories replay as before.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from domain import ratification as r
from domain import treaty as t
from workflows.common import CommandMeta

# --- treaty:<CODE> ------------------------------------------------------------------------


class TreatyInput(BaseModel):
    """Start input: the treaty code (a key of :data:`domain.treaties.PROFILES`)."""

    treaty: str


class DepositNotice(BaseModel):
    """A ratification process reports a deposit."""

    state: str
    deposited_on: date
    workflow_id: str
    meta: CommandMeta = CommandMeta()


class StatementRequest(BaseModel):
    command: t.RecordDepositaryStatement
    meta: CommandMeta = CommandMeta()


class TreatyView(BaseModel):
    """Query result: the treaty process state and the registered ratification processes."""

    state: t.TreatyState
    registered: list[str]


# --- ratification:<CODE>:<ISO3> -----------------------------------------------------------


class RatificationInput(BaseModel):
    """Start input: the treaty code, the State (ISO3) and what is known of the treaty."""

    treaty: str
    state: str
    context: r.TreatyContext = r.TreatyContext()


class SignRequest(BaseModel):
    command: r.Sign
    meta: CommandMeta = CommandMeta()


class DomesticProcedureRequest(BaseModel):
    command: r.CompleteDomesticProcedure
    meta: CommandMeta = CommandMeta()


class DepositRequest(BaseModel):
    command: r.Deposit
    meta: CommandMeta = CommandMeta()


class RatificationView(BaseModel):
    """Query result: the process state and the treaty context it knows."""

    state: r.RatificationState
    context: r.TreatyContext
