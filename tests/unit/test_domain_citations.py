"""Every refusal and message cites the rule of the treaty's own profile: an ATT or APMBC
process cites the ATT or the APMBC, never the CCM. No server: decide/evolve only.

Truth values from ``shared/data/treaty_rules.md``: ATT Art. 13(3) (annual report by 31 May,
covering the preceding calendar year), ATT Art. 22 (entry into force 24 Dec 2014 after the
50th instrument of 25 Sep 2014); APMBC Art. 5 (clearance extensions decided by a majority
present and voting), Art. 7 (transparency reports, stockpiled mines in 7(1)(b)); CCM Art.
3(5), 4(7) (extension requests decided by a majority present and voting).
"""

from __future__ import annotations

from datetime import date

import pytest

from domain import ratification as r
from domain import reporting as rp
from domain.errors import DomainError
from domain.obligations import Meeting
from domain.treaties import APMBC, ATT, CCM, PROFILES, TreatyProfile

TODAY = date(2026, 11, 29)
ATT_CONTEXT = r.TreatyContext(
    in_force_on=date(2014, 12, 24), threshold_deposited_on=date(2014, 9, 25), basis="depositary"
)
APMBC_CONTEXT = r.TreatyContext(
    in_force_on=date(1999, 3, 1), threshold_deposited_on=date(1998, 9, 16), basis="depositary"
)
CCM_CONTEXT = r.TreatyContext(
    in_force_on=date(2010, 8, 1), threshold_deposited_on=date(2010, 2, 16), basis="depositary"
)


def _in_force(
    iso: str, deposited_on: date, profile: TreatyProfile, context: r.TreatyContext
) -> r.RatificationState:
    """A State that signed and ratified, in force, with its obligations opened."""
    s = r.initial_state(profile.code, iso)
    for command in (
        r.Sign(signed_on=None),
        r.Deposit(instrument="ratification", deposited_on=deposited_on),
        r.MarkEnteredIntoForce(),
    ):
        s = r.fold(s, r.decide(s, command, profile, context, TODAY))
    return r.fold(s, r.obligations_at_entry_into_force(s, profile, TODAY))


def _strings(value: object) -> list[str]:
    """Every string a profile holds, at any depth."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=list(PROFILES))
def test_every_article_of_a_profile_cites_its_own_treaty(profile: TreatyProfile) -> None:
    # ``provisional_application`` names the articles applied ("Art. 1"), not a citation
    rules = profile.model_dump(exclude={"provisional_application"})
    cited = [s for s in _strings(rules) if "Art." in s]
    assert cited
    for text in cited:
        assert profile.code in text, text
        for other in PROFILES:
            if other != profile.code:
                assert f"{other} Art" not in text, text


def _att_request(year: int) -> rp.ReportState:
    s = rp.initial_report_state("ATT", year, "ISL")
    req = rp.Request(
        in_force_on=ATT_CONTEXT.in_force_on,
        due_on=rp.annual_due_on(ATT, year),
        closes_on=date(year, 12, 31),
        requested_on=date(year, 1, 1),
    )
    return rp.fold_report(s, rp.decide_report(s, req, ATT, TODAY))


def test_att_review_findings_cite_att_article_13() -> None:
    s = _att_request(2016)
    assert s.due_on == date(2016, 5, 31)
    late = rp.Submission(
        received_on=date(2016, 6, 10), period_from=date(2015, 3, 1), period_to=date(2015, 12, 31)
    )
    events = rp.decide_report(s, rp.Submit(submission=late), ATT, TODAY)
    texts = [getattr(e, "text", "") for e in events[1:]]
    assert [getattr(e, "check", None) for e in events[1:]] == ["late", "period"]
    assert all("(ATT Art. 13(3))" in t for t in texts), texts
    assert not any("CCM" in t for t in texts), texts


def test_apmbc_stockpile_finding_cites_apmbc_and_names_its_weapons() -> None:
    s = rp.initial_report_state("APMBC", 2001, "BEL")
    req = rp.Request(
        in_force_on=APMBC_CONTEXT.in_force_on,
        due_on=date(2001, 4, 30),
        closes_on=date(2001, 12, 31),
        requested_on=date(2001, 1, 1),
    )
    s = rp.fold_report(s, rp.decide_report(s, req, APMBC, TODAY))
    grew = rp.Submission(received_on=date(2001, 4, 20), stockpiles={"M14": 50})
    events = rp.decide_report(s, rp.Submit(submission=grew), APMBC, TODAY, {"M14": 10})
    (finding,) = events[1:]
    text = getattr(finding, "text", "")
    assert "stockpiled anti-personnel mines grew" in text
    assert text.endswith("(M14: 10 -> 50; APMBC Art. 7(1)(b))")
    assert "CCM" not in text and "cluster munitions" not in text


def test_ccm_stockpile_finding_keeps_its_text() -> None:
    s = rp.initial_report_state("CCM", 2011, "BEL")
    req = rp.Request(
        in_force_on=CCM_CONTEXT.in_force_on,
        due_on=date(2011, 4, 30),
        closes_on=date(2011, 12, 31),
        requested_on=date(2011, 1, 1),
    )
    s = rp.fold_report(s, rp.decide_report(s, req, CCM, TODAY))
    grew = rp.Submission(received_on=date(2011, 4, 20), stockpiles={"M26": 120})
    (finding,) = rp.decide_report(s, rp.Submit(submission=grew), CCM, TODAY, {"M26": 100})[1:]
    assert getattr(finding, "text", "") == (
        "stockpiled cluster munitions grew since the previous report without explanation "
        "(M26: 100 -> 120; CCM Art. 7(1)(b))"
    )


def test_att_report_received_before_its_period_ended_cites_att() -> None:
    s = _in_force("ISL", date(2014, 4, 2), ATT, ATT_CONTEXT)
    with pytest.raises(DomainError) as refused:
        r.decide(
            s,
            r.RecordReport(key="annual-report-2016", received_on=date(2015, 12, 31), channel="x"),
            ATT,
            ATT_CONTEXT,
            TODAY,
        )
    message = str(refused.value)
    assert "not after the end of the period" in message and "ATT Art. 13(3)" in message
    assert "CCM" not in message


def _refused_vote(
    profile: TreatyProfile, context: r.TreatyContext, s: r.RatificationState, meeting: Meeting
) -> str:
    with pytest.raises(DomainError) as refused:
        r.decide(
            s,
            r.DecideExtension(
                key="clearance",
                meeting=meeting,
                granted_until=s.obligations["clearance"].request.requested_until,  # type: ignore[union-attr]
                votes_for=10,
                votes_against=10,
            ),
            profile,
            context,
            TODAY,
        )
    return str(refused.value)


def test_apmbc_extension_vote_refusal_cites_apmbc_article_5() -> None:
    # in force 1 Mar 1999 (APMBC Art. 17(1)); clearance within ten years (Art. 5(1))
    s = _in_force("MOZ", date(1998, 8, 25), APMBC, APMBC_CONTEXT)
    s = r.fold(
        s,
        r.decide(
            s, r.DeclareContamination(declared_on=date(1999, 3, 1)), APMBC, APMBC_CONTEXT, TODAY
        ),
    )
    assert s.obligations["clearance"].due_on == date(2009, 3, 1)
    msp = Meeting(
        name="9MSP", kind="MSP", opens_on=date(2008, 11, 24), closes_on=date(2008, 11, 28)
    )
    request = r.RequestExtension(
        key="clearance", requested_until=date(2014, 3, 1), meeting=msp, filed_on=date(2008, 3, 1)
    )
    s = r.fold(s, r.decide(s, request, APMBC, APMBC_CONTEXT, TODAY))
    message = _refused_vote(APMBC, APMBC_CONTEXT, s, msp)
    assert "no majority of the States Parties present and voting (APMBC Art. 5(6))" in message
    assert "CCM" not in message


def test_ccm_extension_vote_refusal_cites_the_clearance_rule() -> None:
    # deposit 6 Apr 2011 -> in force 1 Oct 2011 (CCM Art. 17(2)); clearance by 1 Oct 2021
    s = _in_force("BGR", date(2011, 4, 6), CCM, CCM_CONTEXT)
    s = r.fold(
        s,
        r.decide(s, r.DeclareContamination(declared_on=date(2011, 10, 1)), CCM, CCM_CONTEXT, TODAY),
    )
    msp = Meeting(name="9MSP", kind="MSP", opens_on=date(2019, 9, 2), closes_on=date(2019, 9, 4))
    request = r.RequestExtension(
        key="clearance", requested_until=date(2024, 10, 1), meeting=msp, filed_on=date(2018, 11, 1)
    )
    s = r.fold(s, r.decide(s, request, CCM, CCM_CONTEXT, TODAY))
    message = _refused_vote(CCM, CCM_CONTEXT, s, msp)
    assert "no majority of the States Parties present and voting (CCM Art. 4(7))" in message
