"""The outcome forms of P(improve) (benchmarks/improve_candidates.md) in the numpy projection: the
forecast year's events simulated from the event model (joint), a coded event replacing its kind's
simulated count, the lag term (joint_lag), and the contemporaneous form's zero shift."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.model import kernels as K
from forecast.model.projection import Draws, NextYearEvidence, project

S, E = 400, 3
LENS = np.array([1, 1, 0])          # two trust kinds, one power kind
SIGN = np.array([1.0, -1.0, -1.0])  # cooperative, hostile, hostile
EFFECT = np.array([0.5, -1.0, -0.4])


def draws(form: str, intercept=(-1.0, -1.0, -2.0), slope=(0.5, 0.8, 0.0), kappa=0.0, shift_last=(0.0, 0.0, 0.0)):
    rng = np.random.default_rng(0)
    return Draws(rho=np.full((S, 4), 0.9), eta_last=np.tile([0.0, -1.5, 0.0, 0.0], (S, 1)),
                 beta=np.tile([0.3, 0.6, 0.2], (S, 1)), cutpoints=np.tile([-2.5, -0.8, 0.8, 2.5], (S, 1)),
                 base_rate=np.full(S, 0.01), gamma=np.zeros((S, 3)), delta=np.zeros(S),
                 event_effect=np.tile(EFFECT, (S, 1)) + 0.0 * rng.standard_normal((S, E)), outcome_form=form,
                 event_lens=LENS, event_sign=SIGN, event_rate_intercept=np.tile(intercept, (S, 1)),
                 event_rate_slope=np.tile(slope, (S, 1)), event_lag_weight=np.full(S, kappa),
                 shift_last=np.tile(shift_last, (S, 1)))


def expected_shift(d: Draws, out: dict) -> np.ndarray:
    """E[shift | lens state] by hand, at each draw's mean projected lens state (slopes are small, so the
    Poisson mean at the mean state is close; used with a loose tolerance)."""
    lens = out["lens_state_next"]
    rate = np.exp(d.event_rate_intercept + d.event_rate_slope[:, LENS] * SIGN * lens[:, LENS])
    return K.lens_shift(d.event_effect, LENS, rate).mean(axis=0)


def test_contemporaneous_form_has_no_shift_without_coded_events():
    out = project(draws("contemporaneous"), 0.0, horizons=(1,), paths=32, seed=1)
    np.testing.assert_array_equal(out["event_shift_next"], 0.0)


def test_joint_form_simulates_the_forecast_years_events_from_the_event_model():
    d = draws("joint")
    out = project(d, 0.0, horizons=(1,), paths=64, seed=1)
    got = out["event_shift_next"].mean(axis=0)
    assert got[2] == 0.0  # no leaders kinds
    np.testing.assert_allclose(got[:2], expected_shift(d, out)[:2], rtol=0.1, atol=0.01)
    # a cold trust state (-1.5) makes the hostile trust kind likelier than the cooperative one: negative shift
    assert got[1] < 0
    # and the simulated events move P(improve) against the zero-shift forecast
    zero = project(draws("contemporaneous"), 0.0, horizons=(1,), paths=64, seed=1)
    assert out["improve_next_year"].mean() < zero["improve_next_year"].mean()


def test_a_coded_event_replaces_its_kinds_simulated_count():
    d = draws("joint", intercept=(3.0, -30.0, -30.0), slope=(0.0, 0.0, 0.0))  # kind 0 ~ 20 a year, others never
    free = project(d, 0.0, horizons=(1,), paths=32, seed=2)
    assert free["event_shift_next"][:, 1].mean() == pytest.approx(0.5 * np.exp(3.0), rel=0.05)
    ev = NextYearEvidence(shift=np.tile([0.0, 0.5, 0.0], (S, 1)), counts=np.array([1.0, 0.0, 0.0]),
                          known=np.array([True, False, False]))
    coded = project(d, 0.0, horizons=(1,), paths=32, seed=2, evidence=ev)
    np.testing.assert_allclose(coded["event_shift_next"][:, 1], 0.5)  # the coded count, not 20 + 1


def test_joint_lag_adds_kappa_times_last_years_shift():
    base = project(draws("joint"), 0.0, horizons=(1,), paths=16, seed=3)
    lag = project(draws("joint_lag", kappa=0.5, shift_last=(-2.0, 1.0, 0.4)), 0.0, horizons=(1,), paths=16, seed=3)
    np.testing.assert_allclose(lag["event_shift_next"] - base["event_shift_next"], np.tile([-1.0, 0.5, 0.2], (S, 1)),
                               atol=1e-12)


@pytest.mark.parametrize("block", [1, 7, 256, S])
def test_the_simulated_events_do_not_depend_on_the_draw_block_size(monkeypatch, block):
    """forecast_year_shift draws the counts in blocks of draws (a speed setting): any block size gives the
    result of one block holding every draw, to the bit, with a coded event in force too."""
    import forecast.model.projection as projection

    ev = NextYearEvidence(shift=np.tile([0.0, 0.5, 0.0], (S, 1)), counts=np.array([1.0, 0.0, 0.0]),
                          known=np.array([True, False, False]))
    d = draws("joint_lag", kappa=0.5, shift_last=(-2.0, 1.0, 0.4))
    monkeypatch.setattr(projection, "SHIFT_BLOCK", S)
    whole = project(d, 0.0, horizons=(1, 5), paths=16, seed=4, evidence=ev)
    monkeypatch.setattr(projection, "SHIFT_BLOCK", block)
    blocked = project(d, 0.0, horizons=(1, 5), paths=16, seed=4, evidence=ev)
    assert whole.keys() == blocked.keys()
    for key in whole:
        np.testing.assert_array_equal(blocked[key], whole[key], err_msg=key)
