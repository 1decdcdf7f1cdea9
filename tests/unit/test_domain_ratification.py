"""The ratification and treaty processes' rules (pure domain, no servers)."""

from __future__ import annotations

from datetime import date

import pytest

from domain import ratification as r
from domain import treaty as t
from domain.errors import DomainError
from domain.events import EnteredIntoForce, EntryIntoForceFixed, InstrumentDeposited
from domain.treaties import ATT, CCM

TODAY = date(2026, 11, 29)
CCM_CTX = r.TreatyContext(
    in_force_on=date(2010, 8, 1), threshold_deposited_on=date(2010, 2, 16), basis="depositary"
)


def run(s: r.RatificationState, *commands: r.Command, ctx: r.TreatyContext = CCM_CTX):
    for c in commands:
        s = r.fold(s, r.decide(s, c, CCM, ctx, TODAY))
    return s


def signed(state: str = "BGR", on: date | None = date(2008, 12, 3)) -> r.RatificationState:
    return run(r.initial_state("CCM", state), r.Sign(signed_on=on))


def test_bulgaria_from_the_record_of_24_february_2011() -> None:
    # domestic procedure finalised on 10 Feb 2011, deposit 6 Apr 2011 (seed record; UNTC)
    s = run(
        signed(),
        r.CompleteDomesticProcedure(completed_on=date(2011, 2, 10)),
        r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6)),
        r.MarkEnteredIntoForce(),
    )
    assert s.consented_on == date(2011, 4, 6)
    assert s.in_force_on == date(2011, 10, 1)
    assert s.eif_article == "CCM Art. 17(2)"
    assert s.entered_into_force
    assert s.status() == "in force"
    assert s.status(as_of=date(2011, 9, 30)) == "consented"
    assert s.version == 5


def test_deposit_fixes_entry_into_force_in_the_same_decision() -> None:
    events = r.decide(
        signed(),
        r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6)),
        CCM,
        CCM_CTX,
        TODAY,
    )
    assert [type(e) for e in events] == [InstrumentDeposited, EntryIntoForceFixed]


def test_deposit_before_threshold_waits_for_the_treaty() -> None:
    s = run(
        signed("NOR"),
        r.Deposit(instrument="ratification", deposited_on=date(2008, 12, 3)),
        ctx=r.TreatyContext(),
    )
    assert s.consented_on == date(2008, 12, 3) and s.in_force_on is None
    events = r.decide(s, r.ApplyTreatyContext(context=CCM_CTX), CCM, CCM_CTX, TODAY)
    assert events == [
        EntryIntoForceFixed(
            occurred_on=date(2010, 2, 16),
            state="NOR",
            in_force_on=date(2010, 8, 1),
            article="CCM Art. 17(1)",
            treaty_in_force_on=date(2010, 8, 1),
            basis="depositary",
        )
    ]
    # the same context again changes nothing
    s = r.fold(s, events)
    assert r.decide(s, r.ApplyTreatyContext(context=CCM_CTX), CCM, CCM_CTX, TODAY) == []


def test_entry_into_force_today_is_not_historical_and_future_waits() -> None:
    s = run(signed(), r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6)))
    assert r.decide(s, r.MarkEnteredIntoForce(), CCM, CCM_CTX, date(2011, 9, 30)) == []
    assert r.decide(s, r.MarkEnteredIntoForce(), CCM, CCM_CTX, date(2011, 10, 1)) == [
        EnteredIntoForce(occurred_on=date(2011, 10, 1), state="BGR", historical=False)
    ]


@pytest.mark.parametrize(
    ("start", "command", "expected"),
    [
        pytest.param(
            lambda: signed(),
            r.Deposit(instrument="ratification", deposited_on=date(2027, 1, 1)),
            "in the future",
            id="deposit-in-future",
        ),
        pytest.param(
            lambda: signed(on=date(2009, 5, 1)),
            r.Deposit(instrument="ratification", deposited_on=date(2009, 4, 1)),
            "before BGR's signature",
            id="deposit-before-signature",
        ),
        pytest.param(
            lambda: run(
                signed(), r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6))
            ),
            r.Deposit(instrument="ratification", deposited_on=date(2011, 5, 6)),
            "already deposited",
            id="second-deposit",
        ),
        pytest.param(
            lambda: r.initial_state("CCM", "AND"),
            r.Sign(signed_on=date(2013, 4, 9)),
            "open for signature only until its entry into force on 2010-08-01",
            id="signature-after-eif",
        ),
        pytest.param(
            lambda: r.initial_state("CCM", "BGR"),
            r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6)),
            "no signature on record",
            id="ratification-without-signature",
        ),
        pytest.param(
            lambda: signed(),
            r.Deposit(instrument="accession", deposited_on=date(2011, 4, 6)),
            "is a signatory",
            id="accession-by-signatory",
        ),
        pytest.param(
            lambda: signed(),
            r.Deposit(
                instrument="ratification",
                deposited_on=date(2011, 4, 6),
                reservation="Art. 2 does not apply",
            ),
            "CCM Art. 19",
            id="reservation-forbidden",
        ),
        pytest.param(
            lambda: signed(),
            r.Sign(signed_on=date(2008, 12, 4)),
            "already signed",
            id="second-signature",
        ),
        pytest.param(
            lambda: r.initial_state("CCM", "XYZ"),
            r.Sign(signed_on=date(2008, 1, 1)),
            "before the CCM was opened for signature on 2008-12-03",
            id="signature-before-opening",
        ),
        pytest.param(
            lambda: run(
                signed(), r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6))
            ),
            r.CompleteDomesticProcedure(completed_on=date(2011, 4, 7)),
            "completion date 2011-04-07 is after BGR's deposit on 2011-04-06",
            id="domestic-procedure-after-deposit",
        ),
    ],
)
def test_refused_commands_say_why(start, command, expected: str) -> None:
    s = start()
    with pytest.raises(DomainError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        r.decide(s, command, CCM, CCM_CTX, TODAY)


def test_signature_date_unknown_is_accepted_and_allows_ratification() -> None:
    s = run(
        r.initial_state("CCM", "LTU"),
        r.Sign(signed_on=None),
        r.Deposit(instrument="ratification", deposited_on=date(2011, 3, 24)),
    )
    assert s.signed and s.signed_on is None
    assert s.in_force_on == date(2011, 9, 1)


def test_att_accession_only_after_entry_into_force_and_reservations_allowed() -> None:
    ctx = r.TreatyContext(
        in_force_on=date(2014, 12, 24), threshold_deposited_on=date(2014, 9, 25), basis="computed"
    )
    s = r.initial_state("ATT", "XYZ")
    with pytest.raises(DomainError, match="only after its entry into force"):
        r.decide(
            s, r.Deposit(instrument="accession", deposited_on=date(2014, 10, 1)), ATT, ctx, TODAY
        )
    events = r.decide(
        s,
        r.Deposit(instrument="accession", deposited_on=date(2015, 4, 2), reservation="text"),
        ATT,
        ctx,
        TODAY,
    )
    assert events[0].reservations == ("text",)
    assert events[1].in_force_on == date(2015, 7, 1)


def test_treaty_keeps_depositary_date_and_reports_discrepancy() -> None:
    s = t.initial_state("CCM")
    statement = t.RecordDepositaryStatement(
        in_force_on=date(2010, 8, 1), threshold_deposited_on=date(2010, 2, 16), statement="UNTC"
    )
    for e in t.decide(s, statement, CCM, TODAY):
        s = t.evolve(s, e)
    # 27 deposits by 16 Feb 2010 (three of the first thirty missing), then 3 later ones
    early = {f"E{i:02d}": date(2009, 1, 1 + i) for i in range(27)}
    late = {"L1": date(2010, 3, 1), "L2": date(2010, 4, 1), "L3": date(2010, 5, 10)}
    for state, day in {**early, **late}.items():
        for e in t.decide(s, t.CountDeposit(state=state, deposited_on=day), CCM, TODAY):
            s = t.evolve(s, e)
    assert s.in_force_on == date(2010, 8, 1) and s.basis == "depositary"
    assert s.discrepancy and s.discrepancy_computed_on == date(2010, 11, 1)
    # a repeated count of the same deposit is ignored
    assert t.decide(s, t.CountDeposit(state="L1", deposited_on=date(2010, 3, 1)), CCM, TODAY) == []


def test_depositary_statement_must_follow_the_rule() -> None:
    with pytest.raises(DomainError, match="gives entry into force on 2010-08-01"):
        t.decide(
            t.initial_state("CCM"),
            t.RecordDepositaryStatement(
                in_force_on=date(2010, 9, 1),
                threshold_deposited_on=date(2010, 2, 16),
                statement="x",
            ),
            CCM,
            TODAY,
        )


@pytest.mark.parametrize(
    ("start", "command", "expected"),
    [
        pytest.param(
            lambda: r.initial_state("CCM", "CYP"),
            r.CompleteDomesticProcedure(completed_on=date(1, 1, 1)),
            "before the CCM was opened for signature on 2008-12-03",
            id="domestic-procedure-before-opening",
        ),
        pytest.param(
            lambda: signed("SOM", date(2008, 12, 3)),
            r.CompleteDomesticProcedure(completed_on=date(2008, 11, 30)),
            "before the CCM was opened",
            id="domestic-procedure-before-opening-2",
        ),
        pytest.param(
            lambda: signed("CYP", date(2009, 9, 23)),
            r.CompleteDomesticProcedure(completed_on=date(2009, 1, 5)),
            "before CYP's signature on 2009-09-23",
            id="domestic-procedure-before-signature",
        ),
        pytest.param(
            lambda: run(
                signed("COD", date(2009, 3, 18)),
                r.CompleteDomesticProcedure(completed_on=date(2012, 6, 1)),
            ),
            r.Deposit(instrument="ratification", deposited_on=date(2011, 1, 1)),
            "before COD's domestic procedure was completed on 2012-06-01",
            id="deposit-before-domestic-procedure",
        ),
    ],
)
def test_domestic_procedure_dates_follow_the_record(start, command, expected: str) -> None:
    with pytest.raises(DomainError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        r.decide(start(), command, CCM, CCM_CTX, TODAY)


def test_state_free_checks_need_no_state() -> None:
    with pytest.raises(DomainError, match="in the future"):
        r.check_command(r.Sign(signed_on=date(2999, 1, 1)), CCM, TODAY)
    with pytest.raises(DomainError, match="CCM Art. 19"):
        r.check_command(
            r.Deposit(instrument="accession", deposited_on=date(2012, 1, 1), reservation="x"),
            CCM,
            TODAY,
        )
    r.check_command(r.Deposit(instrument="accession", deposited_on=date(2012, 1, 1)), CCM, TODAY)


def _statement(**kw: object) -> t.RecordDepositaryStatement:
    base: dict[str, object] = dict(
        in_force_on=date(2010, 8, 1), threshold_deposited_on=date(2010, 2, 16), statement="UNTC"
    )
    base.update(kw)
    return t.RecordDepositaryStatement(**base)  # type: ignore[arg-type]


def _apply(s: t.TreatyState, command: t.TreatyCommand) -> t.TreatyState:
    for e in t.decide(s, command, CCM, TODAY):
        s = t.evolve(s, e)
    return s


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param(
            _statement(in_force_on=date(9999, 12, 31), threshold_deposited_on=None),
            "is impossible under CCM Art. 17(1)",
            id="far-future",
        ),
        pytest.param(
            _statement(in_force_on=date(1, 1, 1), threshold_deposited_on=None),
            "is impossible under CCM Art. 17(1)",
            id="year-one",
        ),
        pytest.param(
            _statement(threshold_deposited_on=date(9999, 12, 31)),
            "must lie between the opening for signature (2008-12-03) and today",
            id="threshold-in-future",
        ),
        pytest.param(
            _statement(threshold_deposited_on=date(1, 1, 1)),
            "must lie between",
            id="threshold-before-opening",
        ),
        pytest.param(_statement(statement="  "), "needs its words and source", id="no-words"),
        pytest.param(_statement(correction=True), "no depositary's statement to correct", id="x"),
    ],
)
def test_impossible_depositary_statements_are_refused(command, expected: str) -> None:
    with pytest.raises(DomainError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        t.decide(t.initial_state("CCM"), command, CCM, TODAY)


def test_depositary_statement_is_corrected_only_explicitly() -> None:
    wrong = _statement(in_force_on=date(2010, 9, 1), threshold_deposited_on=date(2010, 3, 2))
    s = _apply(t.initial_state("CCM"), wrong)
    assert s.in_force_on == date(2010, 9, 1)
    # the same statement again records nothing
    assert t.decide(s, wrong, CCM, TODAY) == []
    with pytest.raises(DomainError, match="as a correction"):
        t.decide(s, _statement(), CCM, TODAY)
    events = t.decide(s, _statement(correction=True), CCM, TODAY)
    assert [e.type for e in events] == ["DepositaryStatementRecorded", "TreatyEntryIntoForceFixed"]
    assert events[0].corrects == date(2010, 9, 1)
    s = _apply(s, _statement(correction=True))
    assert (s.in_force_on, s.basis) == (date(2010, 8, 1), "depositary")


def test_no_discrepancy_before_the_record_reaches_the_threshold() -> None:
    s = _apply(t.initial_state("CCM"), _statement())
    for i in range(29):
        s = _apply(s, t.CountDeposit(state=f"S{i:02d}", deposited_on=date(2009, 1, 1 + i)))
    assert not s.discrepancy
    s = _apply(s, t.CountDeposit(state="LATE", deposited_on=date(2010, 6, 1)))
    assert s.discrepancy and s.discrepancy_computed_on == date(2010, 12, 1)
    # the missing early deposit arrives: the record now agrees with the depositary
    s = _apply(s, t.CountDeposit(state="EARLY", deposited_on=date(2010, 2, 16)))
    assert not s.discrepancy


def test_a_domestic_procedure_learnt_after_the_deposit_is_recorded_with_its_date() -> None:
    # Bulgaria: deposit 6 Apr 2011 (UNTC, examples/ccm/status.csv) imported first; the record
    # of 24 Feb 2011 (shared/seeds/000_78116837e85fdd53.txt) says its domestic procedure was
    # finalised on 10 Feb 2011. Business dates count, not the order of recording.
    s = run(signed(), r.Deposit(instrument="ratification", deposited_on=date(2011, 4, 6)))
    s = run(s, r.CompleteDomesticProcedure(completed_on=date(2011, 2, 10)))
    assert s.domestic_procedure_completed_on == date(2011, 2, 10)
    assert s.consented_on == date(2011, 4, 6)
