"""How much log-score skill any recalibration of a reference backtest's forecasts could add: a bound
computed on the test rows themselves (a diagnostic of the information in the forecasts, never a
candidate: it fits on the outcomes it scores).

    python benchmarks/reference_oracle.py benchmarks/results/reference/reference_backtest_rows.csv

For the pooled model's forecasts p it fits, by maximum likelihood on the test rows, the logistic
recalibration p' = 1 / (1 + exp(-(a + b logit p))): once over all rows ("pooled oracle") and once per
origin ("per-origin oracle"). It prints the log score of each against the best baseline's (the column
named by --baseline, default p_prior) as a skill, 1 - score / baseline score. A monotone rescaling
cannot change the ranking, so the pooled oracle's AUC is the forecasts' own AUC.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from forecast.validate.ref_scoring import recalibrated, recalibration_map
from forecast.validate.scoring import log_loss

FLAT = ((0.0, np.inf), (1.0, np.inf))  # no prior on (a, b): recalibration_map is then maximum likelihood


def oracle(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """The maximum-likelihood logistic recalibration of ``p`` against ``y``: (p', (a, b))."""
    a, b = recalibration_map(p, y, prior=FLAT)
    return recalibrated(p, a, b), (a, b)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rows", help="a reference_backtest_rows.csv")
    ap.add_argument("--baseline", default="p_prior", help="the baseline's column [default: p_prior]")
    args = ap.parse_args(argv)
    rows = pd.read_csv(args.rows, encoding="utf-8-sig", keep_default_na=False,
                       dtype={"origin": "int64", "settled": "int64"})
    y, p = rows["settled"].to_numpy(float), rows["p_settle"].to_numpy(float)
    base = log_loss(rows[args.baseline].to_numpy(float), y)
    print(f"{len(rows):,} test claim-years, {int(y.sum())} settlements; {args.baseline} log score {base:.5f}")
    print(f"| forecast | log score | log skill vs {args.baseline} | (a, b) |")
    print("|---|---:|---:|---|")
    print(f"| as forecast | {log_loss(p, y):.5f} | {1 - log_loss(p, y) / base:+.3f} | |")
    q, ab = oracle(y, p)
    print(f"| pooled oracle | {log_loss(q, y):.5f} | {1 - log_loss(q, y) / base:+.3f} | "
          f"({ab[0]:.2f}, {ab[1]:.2f}) |")
    q_origin = np.empty_like(p)
    per = []
    for origin, idx in rows.groupby("origin").indices.items():
        q_origin[idx], ab = oracle(y[idx], p[idx])
        per.append(f"{origin}: ({ab[0]:.2f}, {ab[1]:.2f})")
    print(f"| per-origin oracle | {log_loss(q_origin, y):.5f} | {1 - log_loss(q_origin, y) / base:+.3f} | "
          f"{'; '.join(per)} |")


if __name__ == "__main__":
    main()
