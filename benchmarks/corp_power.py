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

Prints Markdown. Seeded; the outcomes of the backtest are read, never changed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.validate.scoring import reliability

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
