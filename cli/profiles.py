"""``treaty profiles list`` / ``show CODE`` / ``check FILE``: the treaty profiles, each rule
with its article and the treaty's words (:mod:`domain.treaties`; the data folder's files
are read by :mod:`adapters.profiles`; the format is ``docs/profiles.md``).

``check`` refuses a wrong file whole (exit 1), naming each problem with its line and what
would be accepted; it reads only FILE, so it runs without the settings and the data
folder's profiles (which a wrong file there would refuse: the file one wants to check).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli import render
from cli.runtime import EXIT_REFUSED, JsonOpt, LazyModule, _treaty

if TYPE_CHECKING:
    import settings as settings_mod
    from domain import treaties
    from domain.treaties import DateRule, TreatyProfile
else:  # pydantic models and settings: loaded when a command runs, not for help
    treaties = LazyModule("domain.treaties")
    settings_mod = LazyModule("settings")

app = typer.Typer(
    help="Treaty profiles: each treaty's rules, as data files (docs/profiles.md).",
    no_args_is_help=True,
)


def _source(code: str) -> str:
    """``shipped`` or the data-folder file the profile was read from."""
    if code in treaties.SHIPPED:
        return "shipped"
    from adapters.profiles import profiles_folder

    return str(profiles_folder(settings_mod.load().home) / f"{code.lower()}.toml")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _day_of_year(month: int, day: int) -> str:
    return f"{day} {date(2001, month, day):%B}"


def _period(rule: DateRule) -> str:
    n = rule.amount
    match rule.kind:
        case "first_day_of_nth_month_after":
            return f"the first day of the {_ordinal(n)} month after the month of"
        case "within_years":
            first = "the first year" if n == 1 else f"the first {n} years"
            return f"by the last day of {first} after"
        case kind:
            unit = kind.removesuffix("_after").removesuffix("s")
            return f"{render.count(n, unit)} after"


def _date_rule(name: str, rule: DateRule, start: str, **more: str) -> dict[str, str]:
    return {
        "rule": name,
        "article": rule.article,
        "says": f"{_period(rule)} {start}",
        **more,
        "text": rule.text,
    }


def rules(p: TreatyProfile) -> list[dict[str, str]]:
    """Each rule of ``p``: ``rule`` (its key in the file), ``article``, ``says`` (what the
    engine applies), ``text`` (the treaty's words) and, for ``state_eif``, ``covers``."""
    ob, m, d = p.obligations, p.meetings, p.decisions
    state = p.state_eif
    after = {
        "threshold_deposit": "a State that deposits after the date of the "
        f"{_ordinal(p.eif_threshold)} instrument's deposit",
        "treaty_entry_into_force": "a State that deposits on or after the day of the treaty's "
        "entry into force",
    }[state.applies_after]
    out = [
        {
            "rule": "signature",
            "article": p.signature_article,
            "says": f"open from {p.opened_for_signature_on.isoformat()}"
            + (" until entry into force" if p.signature_closes_at_eif else ""),
            "text": p.signature_text,
        },
        {
            "rule": "instruments",
            "article": p.instruments_article,
            "says": "signatories ratify, accept or approve; others accede"
            + ("" if p.accession_before_eif else ", only once the treaty is in force"),
            "text": p.instruments_text,
        },
        _date_rule(
            "treaty_eif",
            p.treaty_eif,
            f"the deposit of the {_ordinal(p.eif_threshold)} instrument",
        ),
        _date_rule(
            "state_eif",
            state,
            f"the State's deposit, for {after} (never before the treaty's own)",
            covers=state.covers,
        ),
    ]
    if p.provisional_application is not None:
        out.append(
            {
                "rule": "provisional_application",
                "article": p.provisional_application_article or "",
                "says": f"a State may apply {p.provisional_application} provisionally",
                "text": p.provisional_application_text or "",
            }
        )
    out.append(
        {
            "rule": "reservations",
            "article": p.reservations_article,
            "says": "allowed" if p.reservations_allowed else "not allowed",
            "text": p.reservations_text,
        }
    )
    out.append(_date_rule("initial_report", ob.initial_report, "the State's entry into force"))
    out.append(
        {
            "rule": "annual_report",
            "article": ob.annual_report_article,
            "says": f"each year by {_day_of_year(ob.annual_report_month, ob.annual_report_day)}"
            ", covering the previous calendar year",
            "text": ob.annual_report_text,
        }
    )
    for name, o in (
        ("stockpile_destruction", ob.stockpile_destruction),
        ("clearance", ob.clearance),
    ):
        if o is None:
            continue
        out.append(_date_rule(name, o.due, "the State's entry into force"))
        if o.extension is not None:
            x = o.extension
            says = [f"up to {render.count(x.max_years, 'year')} each"]
            if x.further_only_exceptional:
                says.append("further ones only in exceptional circumstances")
            if x.filing_months_before_meeting is not None:
                says.append(f"filed {x.filing_months_before_meeting} months before the Meeting")
            if x.before_deadline:
                says.append("and before the deadline")
            says.append(f"decided under {x.decision_article}")
            out.append(
                {
                    "rule": f"{name}.extension",
                    "article": x.article,
                    "says": "; ".join(says),
                    "text": x.text,
                }
            )
    conflict = (
        ", not before the end of an armed conflict"
        if ob.withdrawal_waits_for_armed_conflict
        else ""
    )
    out.append(_date_rule("withdrawal", ob.withdrawal, f"the receipt of the instrument{conflict}"))
    meetings = [f"the first within {render.count(m.first_meeting_within_years, 'year')}"]
    if m.annual_until_review:
        meetings.append("then one a year until the first Review Conference")
    if m.first_review_after_years is not None:
        meetings.append(f"the first Review Conference after {m.first_review_after_years} years")
    out.append(
        {"rule": "meetings", "article": m.article, "says": "; ".join(meetings), "text": m.text}
    )
    majority = {"simple": "a simple majority", "two_thirds": "two thirds"}[d.majority]
    out.append(
        {
            "rule": "decisions",
            "article": d.article,
            "says": f"{', '.join(d.meeting_kinds)} decide by {majority} of the States Parties "
            "present and voting" + ("" if not d.observers_count else "; observers counted"),
            "text": d.text,
        }
    )
    return out


@app.command("list")
def list_profiles(as_json: JsonOpt = False) -> None:
    """The treaties known: shipped, and from the data folder (profiles/*.toml)."""
    rows = [
        {
            "code": p.code,
            "name": p.name,
            "eif_threshold": p.eif_threshold,
            "entry_into_force_article": p.treaty_eif.article,
            "source": _source(p.code),
        }
        for p in treaties.PROFILES.values()
    ]
    if as_json:
        render.print_json(rows)
        return
    for r in rows:
        render.out.print(
            f"{r['code']:<8} {r['name']} ({render.count(r['eif_threshold'], 'instrument')}, "
            f"{r['entry_into_force_article']}; {r['source']})",
            markup=False,
            highlight=False,
        )


@app.command("show")
def show(
    code: Annotated[str, typer.Argument(help="Treaty code, e.g. CCM.")],
    as_json: JsonOpt = False,
) -> None:
    """Each rule of a treaty with its article and the treaty's own words."""
    profile = treaties.get_profile(_treaty(code))
    if as_json:
        render.print_json(
            {
                "code": profile.code,
                "source": _source(profile.code),
                "rules": rules(profile),
                "profile": profile.model_dump(mode="json"),
            }
        )
        return
    lines = [
        f"{profile.code}: {profile.name} ({_source(profile.code)})",
        f"depositary: {profile.depositary}",
    ]
    for r in rules(profile):
        lines += ["", f"{r['rule']}, {r['article']}", f"  {r['says']}"]
        if "covers" in r:
            lines.append(f"  covers: {r['covers']}")
        lines.append(f"  text: {r['text']}")
    for line in lines:
        render.out.print(line, markup=False, highlight=False)


@app.command("check")
def check(
    path: Annotated[
        Path,
        typer.Argument(
            help="A profile file (TOML), e.g. docs/examples/tpnw.toml.",
            exists=True,
            dir_okay=False,
        ),
    ],
) -> None:
    """Whether the data folder would take FILE as profiles/<code>.toml: exit 0 if so, 1
    if not (each problem with its line and what would be accepted)."""
    from adapters.profiles import read_profile_file
    from domain.profile_errors import ProfileFileError

    try:
        profile = read_profile_file(path)
    except ProfileFileError as err:
        for problem in err.problems:
            where = f"{path}:{problem.line}" if problem.line is not None else str(path)
            render.err.print(f"{where}: {problem.message}", markup=False, highlight=False)
        count = render.count(len(err.problems), "problem")
        render.err.print(f"refused: {path} ({count})", markup=False, highlight=False)
        raise typer.Exit(EXIT_REFUSED) from None
    render.out.print(
        f"{path}: {profile.code} ({profile.name}) accepted: put it in the data folder as "
        f"profiles/{path.name}",
        markup=False,
        highlight=False,
    )


# `check` reads only FILE: it runs without cli.main's settings-and-profiles step (the
# marker cli.main._configured_first leaves a callback alone by; typer copies it over).
check.__dict__["_configured_first"] = True
