"""Covariates carried past the origin (forecast/reference/horizon.py): the persistence is each
covariate's within-claim lag-1 autocorrelation on the training rows, duration is never projected, and a
projection decays towards the training mean as rho^steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.reference.horizon import persistence, project


def panel(rho: float, n_claims: int = 300, years: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows, xs = [], []
    for c in range(n_claims):
        v = rng.standard_normal()
        for t in range(years):
            v = rho * v + np.sqrt(1 - rho**2) * rng.standard_normal()
            rows.append((c, 1900 + t))
            xs.append((v, rng.standard_normal(), float(t)))
    return pd.DataFrame(rows, columns=["claim", "year"]), np.array(xs)


def test_persistence_recovers_an_ar1_and_ignores_duration():
    rows, x = panel(0.8)
    rho = persistence(rows, x, ("slow", "noise", "duration"))
    assert rho[0] == pytest.approx(0.8, abs=0.03)
    assert rho[1] == pytest.approx(0.0, abs=0.05)
    assert rho[2] == 1.0


def test_pairs_never_cross_claims_or_gaps():
    rows = pd.DataFrame({"claim": [1, 1, 2, 2, 3, 3], "year": [1900, 1901, 1900, 1901, 1900, 1905]})
    x = np.array([[1.0], [1.0], [-1.0], [-1.0], [5.0], [-5.0]])
    # within-claim consecutive pairs are (1, 1) and (-1, -1): perfectly persistent; the cross-claim
    # jump 1 -> -1 and the 1900 -> 1905 gap of claim 3 must not count
    assert persistence(rows, x, ("v",))[0] == pytest.approx(1.0)


def test_projection_decays_to_the_training_mean():
    x = np.array([[2.0, 10.0], [-1.0, 3.0]])
    rho = np.array([0.5, 1.0])
    out = project(x, rho, [1, 3])
    assert out[0] == pytest.approx([1.0, 10.0])
    assert out[1] == pytest.approx([-0.125, 3.0])
    assert project(x, rho, [0, 0]) == pytest.approx(x)
