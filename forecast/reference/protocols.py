"""What a reference-backtest forecast may read beyond its origin's fit: the one-year-ahead protocols
("updated", "updated-level", "updated-lags", "updated-lags-level"), each pre-registered in
``benchmarks/reference_information.md``. ``backtest.run_origin`` calls them; the origin protocol needs none.
"""

from __future__ import annotations

import numpy as np

from forecast import defaults as D
from forecast.reference.design import KEYS, LAG_WINDOW


def rate(settled) -> float:
    """Peaceful settlements per claim-year."""
    settled = np.asarray(settled, float)
    return float(settled.mean()) if len(settled) else float("nan")


def updated_forecasts(fit, predict_fn, frame, test, seed: int, level: bool = False,
                      lags: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The "updated" protocol: each test year ``y`` forecast from the rows with ``year < y``, with the
    fit's parameters; the base rates over those rows. ``level`` ("updated-level"): each forecast's hazard
    is also multiplied by the period multiplier learned from the test years before ``y``
    (``predict.period_adjusted``: settlements observed there against the sum of their "updated"
    forecasts). ``lags`` ("updated-lags"): the forecasts of year ``y`` also read the lag-window covariates
    (``design.LAG_WINDOW``) of the rows of year ``y``, and nothing else of them. Returns (p_settle,
    p_base_all, p_base_30y) per test row."""
    from forecast.reference.predict import period_adjusted, period_shape

    years = test["year"].to_numpy(np.int64)
    settled = test["settled"].to_numpy(float)
    p, base_all, base_30y = (np.empty(len(test)) for _ in range(3))
    shape = period_shape(fit) if level else 0.0
    observed = expected = 0.0
    for y in np.unique(years).tolist():
        at = years == y
        known = frame[frame["year"] < y]
        extra = {"lags": frame.loc[frame["year"] == y, [*KEYS, *LAG_WINDOW]].reset_index(drop=True)} if lags else {}
        p_y = np.asarray(predict_fn(fit, known, test.loc[at, ["claim", "year"]].reset_index(drop=True), seed,
                                    through=y, **extra), dtype=float)
        p[at] = period_adjusted(p_y, shape, observed, expected) if level else p_y
        observed, expected = observed + settled[at].sum(), expected + p_y.sum()
        base_all[at] = rate(known["settled"])
        base_30y[at] = rate(known.loc[known["year"] >= y - D.REF_BASE_WINDOW, "settled"])
    return p, base_all, base_30y
