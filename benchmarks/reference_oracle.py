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
from scipy.optimize import minimize


def log_score(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-(y * np.log(p) + (1 - y) * np.log1p(-p)).mean())


def recalibrated(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """The maximum-likelihood logistic recalibration of ``p`` against ``y``: (p', (a, b))."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    z = np.log(p / (1 - p))

    def nll(ab):
        q = 1.0 / (1.0 + np.exp(-(ab[0] + ab[1] * z)))
        return log_score(y, q) * len(y)

    fit = minimize(nll, np.array([0.0, 1.0]), method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10,
                                                                              "maxiter": 4000})
    a, b = fit.x
    return 1.0 / (1.0 + np.exp(-(a + b * z))), (float(a), float(b))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rows", help="a reference_backtest_rows.csv")
    ap.add_argument("--baseline", default="p_prior", help="the baseline's column [default: p_prior]")
    args = ap.parse_args(argv)
    rows = pd.read_csv(args.rows, encoding="utf-8-sig", keep_default_na=False,
                       dtype={"origin": "int64", "settled": "int64"})
    y, p = rows["settled"].to_numpy(float), rows["p_settle"].to_numpy(float)
    base = log_score(y, rows[args.baseline].to_numpy(float))
    print(f"{len(rows):,} test claim-years, {int(y.sum())} settlements; {args.baseline} log score {base:.5f}")
    print(f"| forecast | log score | log skill vs {args.baseline} | (a, b) |")
    print("|---|---:|---:|---|")
    print(f"| as forecast | {log_score(y, p):.5f} | {1 - log_score(y, p) / base:+.3f} | |")
    q, ab = recalibrated(y, p)
    print(f"| pooled oracle | {log_score(y, q):.5f} | {1 - log_score(y, q) / base:+.3f} | "
          f"({ab[0]:.2f}, {ab[1]:.2f}) |")
    q_origin = np.empty_like(p)
    per = []
    for origin, idx in rows.groupby("origin").indices.items():
        q_origin[idx], ab = recalibrated(y[idx], p[idx])
        per.append(f"{origin}: ({ab[0]:.2f}, {ab[1]:.2f})")
    print(f"| per-origin oracle | {log_score(y, q_origin):.5f} | {1 - log_score(y, q_origin) / base:+.3f} | "
          f"{'; '.join(per)} |")


if __name__ == "__main__":
    main()
