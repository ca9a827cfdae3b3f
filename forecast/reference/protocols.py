"""What a reference-backtest forecast may read beyond its origin's fit: the one-year-ahead protocols
("updated", "updated-level", "updated-lags", "updated-lags-level") and the recalibration of
"updated-lags-recal", each pre-registered in ``benchmarks/reference_information.md``.
``backtest.run_origin`` and ``backtest.reference_backtest`` call them; the origin protocol needs none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

import numpy as np

from forecast import defaults as D
from forecast.reference.design import KEYS, LAG_WINDOW

if TYPE_CHECKING:
    from forecast.reference.backtest import OriginResult


@dataclass(frozen=True)
class Protocol:
    """What one ``--information`` value makes a forecast read: rows before its own year (``updated``), plus
    that year's lag window (``lags``), scaled by a learned period level (``level``), recalibrated on the
    earlier origins' test rows (``recal``)."""

    updated: bool = False
    lags: bool = False
    level: bool = False
    recal: bool = False


PROTOCOLS = {
    "origin": Protocol(),
    "updated": Protocol(updated=True),
    "updated-level": Protocol(updated=True, level=True),
    "updated-lags": Protocol(updated=True, lags=True),
    "updated-lags-level": Protocol(updated=True, lags=True, level=True),
    "updated-lags-recal": Protocol(updated=True, lags=True, recal=True),
}
assert tuple(PROTOCOLS) == D.REF_INFORMATION, "defaults.REF_INFORMATION and PROTOCOLS must name the same protocols"


def rate(settled) -> float:
    """Peaceful settlements per claim-year."""
    settled = np.asarray(settled, float)
    return float(settled.mean()) if len(settled) else float("nan")


def recalibrate_origins(results: Sequence[OriginResult]) -> list[OriginResult]:
    """Each origin's forecasts mapped by sigmoid(a + b logit p), with (a, b) the MAP logistic recalibration
    (``ref_scoring.recalibration_map``) of the forecasts and outcomes of every earlier origin's test rows
    (years before this origin); the first origin is left as it is."""
    from forecast.validate.ref_scoring import recalibrated, recalibration_map

    out, past_p, past_y = [], [], []
    for res in sorted(results, key=lambda r: r.summary.origin):
        if past_p:
            a, b = recalibration_map(np.concatenate(past_p), np.concatenate(past_y))
            res_ = replace(res, p_settle=recalibrated(res.p_settle, a, b),
                           summary=replace(res.summary, recalibration=(a, b)))
        else:
            res_ = res
        out.append(res_)
        past_p.append(res.p_settle)
        past_y.append(res.settled)
    return out


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
