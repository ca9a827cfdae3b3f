"""What the CORP item of issue 10 can tell apart with 30 forecasts (a reading aid, fits nothing).

    python benchmarks/corp_power.py benchmarks/results/backtest/backtest_rows.csv

Issue 10 asks that the default's CORP miscalibration (MCB) be smaller than its discrimination (DSC)
over the backtest years. With a few dozen 0/1 outcomes the PAV recalibration that CORP uses fits the
noise, so MCB is positive even for a forecaster that is calibrated. This script measures how large:
for each method's column of P(improve) in the backtest rows it takes the forecasts as they are and
draws the 0/1 outcomes from them (the hypothesis that the method is perfectly calibrated), many times,
and reports for each method

* its observed MCB and DSC (``forecast.validate.scoring.reliability``, as ``forecast backtest``);
* the median and 90% central interval of MCB under calibration, and P(MCB >= observed): a
  calibration test, small when the observed miscalibration is more than the noise explains;
* the median DSC under calibration, and P(DSC <= observed): small when the forecasts discriminate
  less than their own spread promises (over-confidence that PAV at this size does not call MCB);
* P(MCB < DSC) under calibration: how often a calibrated forecaster issuing exactly these
  forecasts would meet the item;
* the mean forecast against the observed rate, with the two-sided P of so large a gap under
  calibration (calibration in the large).

A second table does the same for issue 10's skill target (Brier skill over climatology >= +0.10 with
its 80% paired bootstrap interval above zero): the median Brier skill of each method if it were
calibrated, and how often a calibrated forecaster issuing its forecasts would meet the target. The
rolling climatology it is scored against is recomputed from each simulated record (its counts before
the first forecast year are recovered from the rows and checked against every row), as the backtest
computes it.

Prints Markdown. Seeded; the outcomes of the backtest are read, never changed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.validate.scoring import CATEGORIES, SMOOTHING, bootstrap_skill, brier_skill, reliability

TARGET_SKILL = 0.10  # issue 10: Brier skill over climatology >= +0.10 ...
TARGET_LEVEL = 0.80  # ... with the 80% paired bootstrap interval above zero

LABELS = {"p_improve": "**`joint` (the default)**", "p_improve_stacked": "`stacked`",
          "p_improve_recalibrated": "`recalibrated`", "p_improve_contemporaneous": "`contemporaneous`",
          "p_improve_joint_lag": "`joint_lag`", "p_improve_trust_only": "trust only",
          "p_improve_leaders_only": "leaders only", "p_improve_power_only": "power only",
          "p_improve_climatology": "climatology", "p_improve_persistence": "persistence"}


def under_calibration(p: np.ndarray, o: np.ndarray, sims: int, rng: np.random.Generator) -> dict:
    """Observed CORP terms of forecasts ``p`` against outcomes ``o``, and their distribution when the
    outcomes are drawn from ``p`` itself."""
    obs = reliability(p, o)
    mcb, dsc, gap = np.empty(sims), np.empty(sims), np.empty(sims)
    for i in range(sims):
        y = (rng.random(p.size) < p).astype(float)
        r = reliability(p, y)
        mcb[i], dsc[i], gap[i] = r["miscalibration"], r["discrimination"], y.mean() - p.mean()
    return {"mcb": obs["miscalibration"], "dsc": obs["discrimination"],
            "mcb_median": float(np.median(mcb)), "mcb_lo": float(np.quantile(mcb, 0.05)),
            "mcb_hi": float(np.quantile(mcb, 0.95)),
            "p_mcb_ge_observed": float(np.mean(mcb >= obs["miscalibration"] - 1e-12)),
            "dsc_median": float(np.median(dsc)),
            "p_dsc_le_observed": float(np.mean(dsc <= obs["discrimination"] + 1e-12)),
            "p_item_met": float(np.mean(mcb < dsc)),
            "mean_forecast": float(p.mean()), "observed_rate": float(o.mean()),
            "p_gap": float(np.mean(np.abs(gap) >= abs(o.mean() - p.mean()) - 1e-12))}


def rolling_climatology(o: np.ndarray, n0: int, k0: int) -> np.ndarray:
    """P(improve) of the rolling climatology before each row (``scoring.climatology``: Dirichlet(s) over the
    5 categories, P = (k + 2 s) / (n + 5 s)), with ``n0`` years and ``k0`` improvements coded before the
    first row and the 0/1 outcomes ``o`` of the rows."""
    before = np.concatenate([[0.0], np.cumsum(o)[:-1]])
    return (k0 + before + 2 * SMOOTHING) / (n0 + np.arange(o.size) + len(CATEGORIES) * SMOOTHING)


def climatology_counts(p_clim: np.ndarray, o: np.ndarray) -> tuple[int, int]:
    """(n0, k0) of ``rolling_climatology``, recovered from its P(improve) column and the outcomes; exits if
    some row does not fit, i.e. the column is not that climatology."""
    i = np.arange(p_clim.size)
    before = np.concatenate([[0.0], np.cumsum(o)[:-1]])
    # k0 - p n0 = p (i + 5 s) - before - 2 s, linear in (n0, k0)
    A = np.column_stack([-p_clim, np.ones_like(p_clim)])
    b = p_clim * (i + len(CATEGORIES) * SMOOTHING) - before - 2 * SMOOTHING
    n0, k0 = (int(round(v)) for v in np.linalg.lstsq(A, b, rcond=None)[0])
    if not np.allclose(rolling_climatology(o, n0, k0), p_clim, atol=1e-9):
        sys.exit("p_improve_climatology is not the rolling Dirichlet(1/2) climatology of the rows' outcomes")
    return n0, k0


def skill_target_under_calibration(p: np.ndarray, o: np.ndarray, p_clim: np.ndarray, sims: int,
                                   rng: np.random.Generator, n_boot: int = 1000) -> dict:
    """Brier skill over the rolling climatology when outcomes are drawn from ``p``: its median, and how
    often it reaches the target with its paired bootstrap interval above zero."""
    n0, k0 = climatology_counts(p_clim, o)
    skill, met = np.empty(sims), 0
    for j in range(sims):
        y = (rng.random(p.size) < p).astype(float)
        b = bootstrap_skill(p, rolling_climatology(y, n0, k0), y, n_boot=n_boot, level=TARGET_LEVEL, seed=j)
        skill[j] = b["value"]
        met += b["value"] >= TARGET_SKILL and b["lo"] > 0
    observed = float(brier_skill(p, p_clim, o))
    return {"observed": observed, "median": float(np.median(skill)), "lo": float(np.quantile(skill, 0.05)),
            "hi": float(np.quantile(skill, 0.95)), "p_le_observed": float(np.mean(skill <= observed + 1e-12)),
            "p_met": met / sims}


def table(rows: pd.DataFrame, sims: int, seed: int) -> str:
    o = rows["improved"].to_numpy(float)
    cols = [c for c in LABELS if c in rows.columns]
    out = [f"{len(rows)} forecasts ({rows['year'].min()}-{rows['year'].max()}), observed rate of improvement "
           f"{o.mean():.3f}; {sims:,} simulated outcome records per method, drawn from the method's own "
           f"forecasts (seed {seed}).", "",
           "| method | MCB | DSC | MCB if calibrated: median [90%] | P(MCB ≥ observed \\| calibrated) "
           "| DSC if calibrated: median | P(DSC ≤ observed \\| calibrated) | P(MCB < DSC \\| calibrated) | mean forecast / observed rate | P(gap this large \\| calibrated) |",
           "|---|---:|---:|---|---:|---:|---:|---:|---|---:|"]
    for c in cols:
        r = under_calibration(rows[c].to_numpy(float), o, sims, np.random.default_rng(seed))
        out.append(f"| {LABELS[c]} | {r['mcb']:.3f} | {r['dsc']:.3f} | {r['mcb_median']:.3f} "
                   f"[{r['mcb_lo']:.3f}, {r['mcb_hi']:.3f}] | {r['p_mcb_ge_observed']:.2f} | {r['dsc_median']:.3f} | "
                   f"{r['p_dsc_le_observed']:.2f} | {r['p_item_met']:.2f} | "
                   f"{r['mean_forecast']:.3f} / {r['observed_rate']:.3f} | {r['p_gap']:.2f} |")
    if "p_improve_climatology" in rows.columns:
        clim = rows["p_improve_climatology"].to_numpy(float)
        n_skill = max(sims // 5, 1)
        out += ["", f"Issue 10's skill target (Brier skill over climatology >= {TARGET_SKILL:+.2f}, its "
                f"{TARGET_LEVEL:.0%} paired bootstrap interval above zero) if each method were calibrated; "
                f"{n_skill:,} simulated records, the rolling climatology recomputed from each.", "",
                "| method | Brier skill | if calibrated: median [90%] | P(skill ≤ observed \\| calibrated) "
                "| P(target met \\| calibrated) |", "|---|---:|---|---:|---:|"]
        for c in cols:
            if c == "p_improve_climatology":
                continue
            r = skill_target_under_calibration(rows[c].to_numpy(float), o, clim, n_skill, np.random.default_rng(seed))
            out.append(f"| {LABELS[c]} | {r['observed']:+.3f} | {r['median']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}] | "
                       f"{r['p_le_observed']:.2f} | {r['p_met']:.2f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rows", type=Path, help="backtest_rows.csv written by 'forecast backtest --out'")
    ap.add_argument("--sims", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=20161215)
    a = ap.parse_args(argv)
    if not a.rows.is_file():
        sys.exit(f"{a.rows}: no such file (write it with 'forecast backtest --out FOLDER')")
    rows = pd.read_csv(a.rows, encoding="utf-8-sig", keep_default_na=False)
    if "improved" not in rows.columns or "p_improve" not in rows.columns:
        sys.exit(f"{a.rows}: needs the columns 'improved' and 'p_improve' of 'forecast backtest --out'")
    print(table(rows, a.sims, a.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
