"""Covariates beyond the forecast origin: how far a claim's last known state carries.

A forecast made at an origin may only use what is known before it, so a claim's covariates are those
of its last history row. Carried unchanged for up to 26 years they overstate what is known: the
negotiation history (agreements in the last ten years, last year's attempt) and the dispute history
change from year to year. Each standardised covariate is therefore projected as a stationary AR(1)
towards its training mean (0 after standardisation):

    E[x_{t+h} | x_t] = rho^h x_t,

with rho the covariate's lag-1 autocorrelation within claims, estimated on the TRAINING rows only
(consecutive years of the same claim). Duration is not projected: it advances exactly. Slow covariates
(salience, the CINC ratio) have rho near 1 and keep their value; windowed counts fade within a decade.
Plugging E[x] into the hazard ignores the spread of x around it (a first-order approximation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EXACT = frozenset({"duration"})  # covariates that advance deterministically, never projected


def persistence(rows: pd.DataFrame, x: np.ndarray, covariates: tuple[str, ...]) -> np.ndarray:
    """Lag-1 autocorrelation of each standardised covariate column of ``x`` within claims, over pairs
    of consecutive years of one claim in ``rows`` (sorted by claim, year, as ``x``); clipped to [0, 1];
    1 for EXACT covariates and for a covariate without variation."""
    claim = np.asarray(rows["claim"], dtype=np.int64)
    year = np.asarray(rows["year"], dtype=np.int64)
    pair = (claim[1:] == claim[:-1]) & (year[1:] == year[:-1] + 1)
    rho = np.ones(len(covariates))
    for j, name in enumerate(covariates):
        if name in EXACT or not pair.any():
            continue
        a, b = x[:-1, j][pair], x[1:, j][pair]
        sa, sb = a.std(), b.std()
        if sa > 0 and sb > 0:
            rho[j] = float(np.clip(np.corrcoef(a, b)[0, 1], 0.0, 1.0))
    return rho


def project(x_last: np.ndarray, rho: np.ndarray, steps) -> np.ndarray:
    """(rows, covariates) standardised covariates ``steps`` years after the last known row: rho^steps x."""
    steps = np.asarray(steps, dtype=float)[:, None]
    return x_last * np.power(rho[None, :], steps)
