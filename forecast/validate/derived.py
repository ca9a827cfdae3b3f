"""Candidates derived from a backtest run's own forecasts, with no MCMC of their own.

Each is pre-registered in ``benchmarks/improve_candidates.md`` (an addendum per candidate) and is
learned at every origin only from the origins of the same run scored before it, so it can be
computed once the run's rows exist:

* ``stacked``: the time-sliced stack of ``joint`` and climatology (``scoring.stacked``; addendum 1);
* ``recalibrated``: ``joint``'s P(improve) through a logistic map learned from the past origins
  (``scoring.recalibrated``; addendum 2).

``derive`` returns one ``Derived`` record per candidate; the backtest adds its forecasts to the
scored methods, its per-origin values to the rows and its record to the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.validate import scoring

STACKED = "stacked"
DERIVED_FROM = "joint"  # the outcome form whose forecasts every derived candidate starts from
RECALIBRATED = "recalibrated"
NAMES = (STACKED, RECALIBRATED)


@dataclass(frozen=True)
class Derived:
    """One derived candidate over a run: its (n, K) category forecasts, what each row records of it
    (besides its P(improve) and categories), and its block of the result (under ``key``)."""
    name: str
    probs: np.ndarray
    row_extra: tuple[dict, ...]
    key: str
    record: dict


def derive(cat: dict[str, np.ndarray], observed: np.ndarray, joint: str, years: list[int]) -> list[Derived]:
    """The derived candidates of a run: ``cat`` maps each method to its (n, K) category forecasts,
    ``observed`` holds the n observed changes (-2..2), ``joint`` names the method that is the ``joint``
    form and ``years`` lists the n origins then the year after the run."""
    probs, weights = scoring.stacked(cat[joint], cat["climatology"], observed + 2)
    stacked = Derived(
        STACKED, probs, tuple({"weight": float(w)} for w in weights[:-1]), "stacking",
        {"of": [DERIVED_FROM, "climatology"], "weights": {str(y): float(w) for y, w in zip(years, weights)},
         "rule": "weight of each origin from the origins scored before it in this run: argmax of the summed "
                 "log predictive density of the observed change plus a Beta(2, 2) penalty, grid of 0.001 "
                 "(benchmarks/improve_candidates.md, addendum); the last weight is for the origin after the run"})
    improved = (np.asarray(observed) > 0).astype(float)
    probs, maps = scoring.recalibrated(cat[joint], improved)
    a, b = (f"({m:g}, {sd:g})" for m, sd in scoring.RECAL_PRIOR)
    recal = Derived(
        RECALIBRATED, probs, tuple({"map": [float(m[0]), float(m[1])]} for m in maps[:-1]), "recalibration",
        {"of": DERIVED_FROM, "maps": {str(y): [float(m[0]), float(m[1])] for y, m in zip(years, maps)},
         "rule": f"P(improve) = sigma(a + b logit P_joint); (a, b) of each origin maximise the Bernoulli "
                 f"log-likelihood of the origins scored before it in this run plus a Normal{a} prior on a and "
                 f"Normal{b} on b (benchmarks/improve_candidates.md, addendum 2); the categories keep joint's split within "
                 "'improves' and 'does not improve'; the last map is for the origin after the run"})
    return [stacked, recal]
