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
from typing import Annotated

from pydantic import BaseModel, Field

from domain import decision as d
from domain import hca as h
from domain import ratification as r
from domain import reporting as rp
from domain import treaty as t

#: History length (events) past which a process continues as new (tests set it low).
CONTINUE_AS_NEW_AFTER = 2000

# --- every process ------------------------------------------------------------------------


class CommandMeta(BaseModel):
    """Who sends a command and on what authority.

    ``actor``: the authenticated principal recording the fact (the operating-system user
    for the CLI); ``on_behalf_of``: whom it is recorded for (e.g. the depositary);
    ``source``: the meeting, document or record the fact comes from; ``correlation_id``:
    groups the commands of one batch (e.g. one import run).
    """

    actor: str | None = None
    on_behalf_of: str | None = None
    source: str | None = None
    correlation_id: str | None = None


class Recorded(BaseModel):
    """Result of a command: the event types recorded and the stream version after them."""

    events: list[str]
    version: int


# --- treaty:<CODE> ------------------------------------------------------------------------


class TreatyInput(BaseModel):
    """Start input: the treaty code (a key of :data:`domain.treaties.PROFILES`).

    ``continue_as_new_after``: history length (events) past which the run continues as
    new; ``carried`` / ``registered``: the state and the registered ratification processes
    handed over by the previous run (None at the start of the process).
    """

    treaty: str
    continue_as_new_after: int = CONTINUE_AS_NEW_AFTER
    carried: t.TreatyState | None = None
    registered: list[str] = []


class DepositNotice(BaseModel):
    """A ratification process reports a deposit."""

    state: str
    deposited_on: date
    workflow_id: str
    meta: CommandMeta = CommandMeta()


class CountDepositsRequest(BaseModel):
    """An import tells the treaty process of its deposits and processes in one Update.

    ``processes``: the ratification workflow ids to register (each is told the treaty's
    context if it is fixed and differs from ``known_context``, the context the caller
    started them with; None: not known, told whenever fixed); ``deposits``: the deposits
    of the status table imported (the depositary's record), counted in the order given
    (date order: CCM Art. 17(1)); ``meta``: who imports, from what.
    """

    processes: list[str] = []
    deposits: list[t.CountDeposit] = []
    known_context: r.TreatyContext | None = None
    meta: CommandMeta = CommandMeta()


class RefusedCount(BaseModel):
    """A deposit the treaty process did not count, and why."""

    state: str
    reason: str


class CountDepositsResult(BaseModel):
    """What :class:`CountDepositsRequest` recorded, the deposits it refused, and the
    treaty's context after it (what a process started now must know)."""

    recorded: Recorded
    refused: list[RefusedCount] = []
    context: r.TreatyContext = r.TreatyContext()


class StatementRequest(BaseModel):
    command: t.RecordDepositaryStatement
    meta: CommandMeta = CommandMeta()


class MeetingsRequest(BaseModel):
    command: t.RecordMeetings
    meta: CommandMeta = CommandMeta()


class TreatyView(BaseModel):
    """Query result: the treaty process state and the registered ratification processes."""

    state: t.TreatyState
    registered: list[str]


# --- ratification:<CODE>:<ISO3> -----------------------------------------------------------


class RatificationInput(BaseModel):
    """Start input: the treaty code, the State (ISO3) and what is known of the treaty.

    ``continue_as_new_after``: history length (events) past which the run continues as new;
    ``carried``: the state handed over by the previous run (continue-as-new), None at the
    start of the process; ``register_with_treaty``: the process registers itself with the
    treaty process when it starts (False: its starter registers it, as an import does in
    its :class:`CountDepositsRequest`).
    """

    treaty: str
    state: str
    context: r.TreatyContext = r.TreatyContext()
    continue_as_new_after: int = CONTINUE_AS_NEW_AFTER
    carried: r.RatificationState | None = None
    register_with_treaty: bool = True


class SignRequest(BaseModel):
    command: r.Sign
    meta: CommandMeta = CommandMeta()


class DomesticProcedureRequest(BaseModel):
    command: r.CompleteDomesticProcedure
    meta: CommandMeta = CommandMeta()


class DepositRequest(BaseModel):
    command: r.Deposit
    meta: CommandMeta = CommandMeta()


RowCommand = Annotated[
    r.Sign
    | r.CompleteDomesticProcedure
    | r.Deposit
    | r.RecordSignatureDate
    | r.RecordProvisionalApplication
    | r.RecordSuccessionDate
    | r.RecordDepositaryNote
    | r.Withdraw,
    Field(discriminator="kind"),
]


class CommandsRequest(BaseModel):
    """Several commands recorded together in one append, all or none (an import's row:
    a signature, a deposit, the dates the record lacked, its end notes, a withdrawal);
    each is decided on the state the previous ones leave, and what it brings about (an
    entry into force already reached, the obligations it opens) before the next one.

    ``tell_treaty``: a deposit among them is signalled to the treaty process, as the
    ``deposit`` Update does (False: the caller counts it there itself, as an import does
    with :class:`CountDepositsRequest`).
    """

    commands: list[RowCommand]
    meta: CommandMeta = CommandMeta()
    tell_treaty: bool = True


ObligationCommand = Annotated[
    r.DeclareStockpiles
    | r.DeclareContamination
    | r.RequestExtension
    | r.DecideExtension
    | r.RecordReport
    | r.DeclareCompliance
    | r.Withdraw
    | r.RecordArmedConflict
    | r.EndArmedConflict,
    Field(discriminator="kind"),
]


class ObligationRequest(BaseModel):
    """A staff command on the State's obligations (see
    :func:`domain.ratification.decide_obligation`)."""

    command: ObligationCommand
    meta: CommandMeta = CommandMeta()


class RatificationView(BaseModel):
    """Query result: the process state and the treaty context it knows."""

    state: r.RatificationState
    context: r.TreatyContext


# --- decision:<CODE>:<slug> -----------------------------------------------------------------


class DecisionInput(BaseModel):
    """Start input: the treaty code and the decision's slug (``isu-hosting``)."""

    treaty: str
    slug: str


class DecisionRequest(BaseModel):
    """One staff command (any of :data:`domain.decision.Command` but the internal tick)."""

    command: d.Command
    meta: CommandMeta = CommandMeta()


class DecisionView(BaseModel):
    """Query result: the process state."""

    state: d.DecisionState


class DecisionSummary(BaseModel):
    """Query result of ``summary``: :func:`domain.decision.tally`, ``open_items``,
    ``due_next``."""

    tally: list[d.Tally]
    open: dict[str, list[str]]
    due_next: list[d.DueItem]


# --- hca:<CODE>:<meeting> ------------------------------------------------------------------


class AgreementInput(BaseModel):
    """Start input: the treaty code and the meeting (``2MSP``)."""

    treaty: str
    meeting: str


class AgreementRequest(BaseModel):
    """One staff command (any of :data:`domain.hca.Command` but the internal tick)."""

    command: h.Command
    meta: CommandMeta = CommandMeta()


class AgreementView(BaseModel):
    """Query result: the process state."""

    state: h.AgreementState


# --- reporting:<CODE>:<YEAR>[:<ISO3>], reporting-open ------------------------------------


class CycleInput(BaseModel):
    """Start input of a cycle: ``parties`` (None: read from the ratification processes),
    ``policy`` (None: from the worker's environment)."""

    treaty: str
    year: int
    parties: list[rp.Party] | None = None
    policy: rp.ReminderPolicy | None = None
    meta: CommandMeta = CommandMeta()


class ReportInput(BaseModel):
    """Start input of a State's report (given by its cycle)."""

    treaty: str
    year: int
    state: str
    in_force_on: date
    due_on: date
    closes_on: date
    historical: bool
    policy: rp.ReminderPolicy
    meta: CommandMeta = CommandMeta()


class CycleView(BaseModel):
    """Query result: the cycle's state and how many children it has started."""

    state: rp.CycleState
    started: int


class ReportView(BaseModel):
    """Query result: the report's state and whether its cycle has closed."""

    state: rp.ReportState
    cycle_closed: bool


class CloseRequest(BaseModel):
    meta: CommandMeta = CommandMeta()


class SubmitRequest(BaseModel):
    command: rp.Submit
    meta: CommandMeta = CommandMeta()


class WithdrawRequest(BaseModel):
    command: rp.Withdraw
    meta: CommandMeta = CommandMeta()


class ReviewRequest(BaseModel):
    command: rp.Review
    meta: CommandMeta = CommandMeta()


class OpenInput(BaseModel):
    """What the yearly schedule passes: the treaty code."""

    treaty: str
