"""The robustness of backtest skill to the hand coding of the outcome (``forecast backtest --recode FILE``).

The yearly change in ``data/outcomes.csv`` is a hand coding, so a claim of skill must not hang on a
few judgement calls. A recode file lists perturbations, one per row: a year whose justification is
weakest and the change it is recoded to, one step (+-1) from its coded value, with the reason::

    year,change,reason
    2012,1,"Putin's 'hikiwake' remark opened the 2013 thaw; coded 0 because Medvedev's Kunashir visit offset it"

Each row is one perturbation: the backtest is rerun with that single year recoded, for fitting and
for scoring alike (the outcomes every origin after that year learns from, and the year's own score),
and the skill of every method against climatology is reported beside the unperturbed run's.

The file is validated at the door like every input (``data.csvtext``): header, whole numbers, a year
that is coded, a change in -2..2 exactly one step from the coded value, a reason, no year twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from forecast.data.csvtext import clean_text, parse_int, read_text_csv
from forecast.errors import Problem, ValidationError

COLUMNS = ("year", "change", "reason")


@dataclass(frozen=True)
class Recode:
    """One perturbation: ``year`` recoded from ``coded`` to ``change``, for ``reason``."""

    year: int
    coded: int
    change: int
    reason: str


def load_recodes(path: Path, coded: dict[int, int]) -> list[Recode]:
    """The perturbations of ``path`` against the coded changes ``coded`` (year -> change); a
    ``ValidationError`` naming file, row and field lists every problem."""
    problems: list[Problem] = []
    table = read_text_csv(Path(path), COLUMNS, problems)
    name = Path(path).name
    out: list[Recode] = []
    seen: dict[int, int] = {}
    if table is not None:
        if table.empty:
            problems.append(Problem(name, "no perturbation rows", hint="add rows: year,change,reason"))
        for rec in table.to_dict("records"):
            row = int(rec["_line"])
            year = parse_int(rec["year"], name, row, "year", problems)
            change = parse_int(rec["change"], name, row, "change", problems)
            reason = clean_text(rec["reason"], name, row, "reason", problems)
            if year is not None and year not in coded:
                problems.append(Problem(name, f"year {year} has no coded outcome", row=row, field="year",
                                        hint=f"use a year from {min(coded)} to {max(coded)}"))
                continue
            if year is not None and year in seen:
                problems.append(Problem(name, f"year {year} is recoded twice (first on row {seen[year]})", row=row,
                                        field="year", hint="one perturbation per year"))
                continue
            if change is not None and not -2 <= change <= 2:
                problems.append(Problem(name, f"change {change} is outside -2..2", row=row, field="change"))
                continue
            if year is not None and change is not None and abs(change - coded[year]) != 1:
                problems.append(Problem(name, f"change {change} is not one step from the coded {coded[year]:+d} of "
                                        f"{year}", row=row, field="change",
                                        hint=f"use {coded[year] - 1} or {coded[year] + 1}"))
                continue
            if reason is not None and not reason:
                problems.append(Problem(name, "empty reason", row=row, field="reason",
                                        hint="say why this year's coding is ambiguous"))
                continue
            if year is None or change is None or reason is None:
                continue
            seen[year] = row
            out.append(Recode(year=year, coded=coded[year], change=change, reason=reason))
    if problems:
        raise ValidationError(problems)
    return out


def coded_changes(data_dir: Path) -> dict[int, int]:
    """year -> coded change of the workspace's outcomes (validated)."""
    from forecast.data.loaders import load_dataset

    out = load_dataset(Path(data_dir)).outcomes
    return dict(zip(out["year"].astype(int), out["change"].astype(int)))


def recoded(ds, pairs):
    """``ds`` (a ``Dataset``) with the coded change of each (year, change) in ``pairs`` replaced."""
    from dataclasses import replace

    if not pairs:
        return ds
    out = ds.outcomes.copy()
    for year, change in pairs:
        out.loc[out["year"] == year, "change"] = change
    return replace(ds, outcomes=out)


def run_with_recodes(ws, years: list[int], settings, recodes: list[Recode], jobs=None, scheduler=None,
                     on_done=None) -> dict:
    """The backtest as coded, then once per perturbation with that one year recoded (same settings and
    seeds); the as-coded result, with a ``recoding`` list (the as-coded row first) only when there are
    perturbations (without --recode there is nothing to compare the as-coded row with)."""
    from dataclasses import replace

    from forecast.validate.backtest import run

    base = run(ws, years, settings, jobs, on_done=on_done, scheduler=scheduler)
    if not recodes:
        return base
    rows = [summary_row(None, base)]
    for r in recodes:
        rows.append(summary_row(r, run(ws, years, replace(settings, recode=((r.year, r.change),)), jobs,
                                       on_done=on_done, scheduler=scheduler)))
    base["recoding"] = rows
    return base


def summary_row(recode: Recode | None, result: dict) -> dict:
    """One line of the recoding table: the perturbation (None: as coded) and each method's skill."""
    head = ({"year": None, "coded": None, "change": None, "reason": "as coded"} if recode is None else
            {"year": recode.year, "coded": recode.coded, "change": recode.change, "reason": recode.reason})
    return head | {"scores": result["scores"], "skill_vs_climatology": result["skill_vs_climatology"],
                   "choice": result.get("choice")}


def format_recoding(rows: list[dict]) -> str:
    lines = ["", "Robustness to the coding (each row: one year recoded, the whole backtest rerun); skill of the model "
             "vs climatology [80% interval]:",
             f"  {'perturbation':>14}  {'Brier skill':>22}  {'log skill':>22}  {'RPS skill':>22}"]
    for r in rows:
        what = "as coded" if r["year"] is None else f"{r['year']} {r['coded']:+d}->{r['change']:+d}"
        sk = r["skill_vs_climatology"]["model"]
        lines.append(f"  {what:>14}  " + "  ".join(
            f"{sk[k]['value']:+.3f} [{sk[k]['lo80']:+.2f}, {sk[k]['hi80']:+.2f}]" for k in ("brier", "log", "rps")))
    return "\n".join(lines)
