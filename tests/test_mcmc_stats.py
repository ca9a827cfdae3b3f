"""The vectorised R-hat and bulk/tail ESS (inference/mcmc_stats.py) against ArviZ, scalar by scalar."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
from scipy import stats

from forecast.inference import mcmc_stats as M
from forecast.inference.diagnostics import checked_variables

RTOL = 1e-9


@pytest.fixture
def arviz_numpy_path():
    """ArviZ's numpy path: with numba installed ArviZ computes variances with its own one-pass numba
    function, whose rounding turns a zero within-chain variance into a NaN R-hat (chains each constant)
    where the numpy path, and mcmc_stats, give inf."""
    was = az.Numba.numba_flag
    az.Numba.disable_numba()
    yield
    if was:
        az.Numba.enable_numba()


def arviz_values(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ArviZ's rank R-hat, bulk and tail ESS of each scalar of x (chain, draw, *shape)."""
    shape = x.shape[2:]
    flat = x.reshape(x.shape[0], x.shape[1], -1)
    out = np.full((3, flat.shape[2]), np.nan)
    for j in range(flat.shape[2]):
        a = flat[:, :, j]
        out[0, j] = az.rhat(a) if a.shape[0] > 1 else np.nan
        out[1, j] = az.ess(a, method="bulk")
        out[2, j] = az.ess(a, method="tail")
    return tuple(o.reshape(shape) for o in out)


def assert_same(mine, theirs):
    for name, a, b in zip(("rhat", "ess_bulk", "ess_tail"), mine, theirs):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, name
        assert np.array_equal(np.isnan(a), np.isnan(b)), f"{name}: NaN where ArviZ has {b}"
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=RTOL, err_msg=name)


def ar1(rng, chains, draws, phi, size=1):
    x = np.zeros((chains, draws, size))
    e = rng.standard_normal((chains, draws, size))
    x[:, 0] = e[:, 0]
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.95, 0.999, -0.7])
@pytest.mark.parametrize("chains,draws", [(4, 200), (2, 101), (1, 64)])
def test_matches_arviz_on_autocorrelated_chains(phi, chains, draws, arviz_numpy_path):
    rng = np.random.default_rng([int(abs(phi) * 1000), chains, draws])
    x = ar1(rng, chains, draws, phi, size=3)
    x[:, :, 1] += np.arange(chains)[:, None]        # chains that disagree: R-hat well above 1
    x[:, :, 2] = np.exp(x[:, :, 2])                  # skewed
    assert_same(M.diagnose(x), arviz_values(x))
    assert_same((M.rhat(x), M.ess_bulk(x), M.ess_tail(x)), arviz_values(x))


def test_matches_arviz_on_ties_constants_nans_and_short_chains(arviz_numpy_path):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 50, 6))
    x[:, :, 0] = 3.0                                           # constant
    x[:, :, 1] = rng.integers(0, 2, (4, 50))                   # two values: ties everywhere
    x[:, :, 2] = np.round(x[:, :, 2], 1)                       # some ties
    x[0, 3, 3] = np.nan                                        # ArviZ: NaN
    x[:, :, 4] = np.repeat(rng.standard_normal((4, 1)), 50, 1)  # each chain constant
    mine = M.diagnose(x)
    assert_same(mine, arviz_values(x))
    assert mine[0][4] == np.inf                                # disagreeing chains are flagged, not NaN
    for draws in (3, 4, 5, 6, 7, 9):
        y = rng.standard_normal((2, draws, 2))
        assert_same(M.diagnose(y), arviz_values(y))


def test_matches_arviz_on_alternating_chains(arviz_numpy_path):
    """Chains that flip sign every draw or every second draw: autocorrelation pairs that sum to <= 0 from
    the first (the ESS at its floor), and pair sums that alternate in sign."""
    rng = np.random.default_rng(11)
    t = np.arange(40)
    x = np.empty((2, 40, 4))
    x[:, :, 0] = (-1.0) ** t                                   # exact alternation, ties
    x[:, :, 1] = (-1.0) ** t * (1 + 0.01 * rng.standard_normal((2, 40)))
    x[:, :, 2] = ar1(rng, 2, 40, -0.999)[:, :, 0]
    x[:, :, 3] = np.where(t % 4 < 2, 1.0, -1.0)                 # period four
    assert_same(M.diagnose(x), arviz_values(x))


def test_shapes_follow_the_variable():
    x = np.random.default_rng(1).standard_normal((2, 40, 3, 5))
    for out in M.diagnose(x):
        assert out.shape == (3, 5)
    assert np.shape(M.rhat(x[:, :, 0, 0])) == ()
    with pytest.raises(ValueError, match="chain, draw"):
        M.rhat(np.zeros(10))


def test_average_ranks_are_scipys():
    rng = np.random.default_rng(3)
    a = np.round(rng.standard_normal((5, 300)), 1)
    assert np.array_equal(M.average_ranks(a), stats.rankdata(a, axis=1))


def test_matches_arviz_on_a_fitted_posterior(fitted_workspace):
    """Against ArviZ as installed (its numba path when numba is there, as the diagnostics used it)."""
    from forecast.store.posterior import load_idata

    idata = load_idata(fitted_workspace, expect_hash=False)
    names = checked_variables(idata.posterior)
    rhat = az.rhat(idata, var_names=names)
    bulk = az.ess(idata, var_names=names, method="bulk")
    tail = az.ess(idata, var_names=names, method="tail")
    for v in names:
        assert_same(M.diagnose(idata.posterior[v].values), (rhat[v].values, bulk[v].values, tail[v].values))
