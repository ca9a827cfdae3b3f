"""The pooled reference-class hazard model (forecast/reference/): its log-density against PyMC's, no
look-ahead in its predictions, the stored posterior's round trip and identity checks, a tiny seeded fit
with its diagnostics, and a reduced recovery of simulated known parameters (the full one is
benchmarks/bench_reference_recovery.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ReferenceIdentityError
from forecast.model import kernels as K
from forecast.model import pytensor_env
from forecast.reference import (claim_survival, fit_reference, claim_terms, load_reference_fit, predict_settlement,
                                save_reference_fit)
from forecast.reference.design import COVARIATES, ReferenceDataError, era_index, training_rows
from forecast.reference.fit import design
from forecast.reference.simulate import COLUMNS, coverage, simulate_claim_years

pytensor_env.configure()

ORIGIN = 1950
SEED = 7


@pytest.fixture(scope="module")
def sim():
    return simulate_claim_years(11, n_claims=30)


@pytest.fixture(scope="module")
def fit(sim):
    return fit_reference(sim, ORIGIN, draws=100, tune=100, chains=2, seed=SEED)


def test_simulated_frame_has_interface_a_columns(sim):
    f = sim.frame
    assert tuple(f.columns) == COLUMNS
    assert not f.duplicated(["claim", "year"]).any()
    assert ((f["ending"] == "peaceful") == (f["settled"] == 1)).all()
    assert 100 <= len(training_rows(f, ORIGIN)) <= 900


# ------------------------------------------------------------------ log-density vs PyMC

def halfnormal_logpdf(x, sd):
    return np.log(2.0) + K.normal_logpdf(x, 0.0, sd)


def numpy_logp(d, v):
    """The model's log-density in numpy, on the sampler's unconstrained values ``v`` (log-Jacobians included)."""
    from forecast.reference import model as M

    sig = {n: np.exp(v[f"{n}_log__"]) for n in ("sigma_issue", "sigma_region", "theta", "tau")}
    lp = K.normal_logpdf(v["alpha"], M.PRIOR_ALPHA_MU, M.PRIOR_ALPHA_SD)
    lp += K.normal_logpdf(v["beta"], 0.0, M.PRIOR_BETA_SD).sum()
    for n, sd in (("sigma_issue", M.PRIOR_SIGMA_ISSUE), ("sigma_region", M.PRIOR_SIGMA_REGION),
                  ("theta", M.PRIOR_THETA), ("tau", M.PRIOR_TAU)):
        lp += halfnormal_logpdf(sig[n], sd) + v[f"{n}_log__"]  # log transform's Jacobian
    for n in ("z_issue", "z_region", "z_era"):
        lp += K.normal_logpdf(v[n], 0.0, 1.0).sum()
    era = np.concatenate([[0.0], np.cumsum(sig["tau"] * v["z_era"])])
    eta = K.reference_eta(v["alpha"], sig["sigma_issue"] * v["z_issue"][d.issue],
                          sig["sigma_region"] * v["z_region"][d.region], era[d.era], d.x, v["beta"])
    return lp + claim_loglik_by_rows(d, eta, sig["theta"]).sum()


def claim_loglik_by_rows(d, eta, theta):
    """Each claim's marginal log-likelihood written out independently of the kernel: a loop over claims with
    S(t) = (1 + theta H(t))^(-1/theta) from plain cumulative sums."""
    out = []
    for c in np.unique(d.claim):
        rows = np.flatnonzero(d.claim == c)
        H = np.cumsum(np.exp(eta[rows]))
        S = (1.0 + theta * H) ** (-1.0 / theta)
        s_before = S[-2] if len(rows) > 1 else 1.0
        out.append(np.log(s_before - S[-1]) if d.y[rows[-1]] == 1 else np.log(S[-1]))
    return np.array(out)


def test_claim_loglik_kernel_matches_direct_formula_and_theta_limit():
    """The kernel against the direct formula at a moderate theta, and against the no-frailty (cloglog
    Bernoulli) likelihood as theta -> 0."""
    from types import SimpleNamespace

    rng = np.random.default_rng(5)
    claim = np.repeat(np.arange(6), [1, 3, 5, 2, 8, 4])
    y = np.zeros(len(claim))
    last = np.r_[np.flatnonzero(np.diff(claim)), len(claim) - 1]
    first = np.r_[0, last[:-1] + 1]
    y[last[[0, 2, 4]]] = 1
    eta = rng.normal(-2.0, 1.0, len(claim))
    d = SimpleNamespace(claim=claim, y=y)
    for theta in (0.3, 1.7):
        np.testing.assert_allclose(K.gamma_frailty_loglik(eta, first, last, y[last], theta),
                                   claim_loglik_by_rows(d, eta, theta), rtol=1e-10)
    h = 1.0 - np.exp(-np.exp(eta))
    bern = np.array([np.sum(np.where(y[claim == c] == 1, np.log(h[claim == c]), np.log1p(-h[claim == c])))
                     for c in range(6)])
    np.testing.assert_allclose(K.gamma_frailty_loglik(eta, first, last, y[last], 0.0), bern, rtol=1e-7)
    np.testing.assert_allclose(K.gamma_frailty_loglik(eta, first, last, y[last], 1e-13), bern, rtol=1e-7)
    # draws last: (rows, draws) against per-draw theta
    e2 = np.stack([eta, eta + 0.5], axis=1)
    both = K.gamma_frailty_loglik(e2, first, last, y[last], np.array([0.3, 0.9]))
    np.testing.assert_allclose(both[:, 1], K.gamma_frailty_loglik(eta + 0.5, first, last, y[last], 0.9), rtol=1e-14)


def test_numpy_log_density_equals_pymc(sim):
    import pytensor

    from forecast.reference.model import build_reference_model

    d = design(training_rows(sim.frame, ORIGIN))[0]
    assert d.n_eras > 1 and d.y.sum() > 0
    with pytensor.config.change_flags(cast_policy="numpy+floatX"):
        model = build_reference_model(d)
        logp = model.compile_logp()
    rng = np.random.default_rng(3)
    start = model.initial_point()
    for _ in range(3):
        point = {k: val + rng.normal(0.0, 0.7, np.shape(val)) for k, val in start.items()}
        mine = numpy_logp(d, point)
        assert np.isfinite(mine)
        assert abs(logp(point) - mine) < 1e-8 * max(1.0, abs(mine))


def test_kernel_broadcasts_over_draws_last():
    rng = np.random.default_rng(0)
    n, k, s = 5, 3, 4
    args = dict(alpha=rng.normal(size=s), issue_effect=rng.normal(size=(n, s)), region_effect=rng.normal(size=(n, s)),
                era_level=rng.normal(size=(n, s)), x=rng.normal(size=(n, k)), beta=rng.normal(size=(k, s)))
    out = K.reference_eta(**args)
    j = 2
    one = K.reference_eta(args["alpha"][j], args["issue_effect"][:, j], args["region_effect"][:, j],
                          args["era_level"][:, j], args["x"], args["beta"][:, j])
    np.testing.assert_allclose(out[:, j], one, rtol=1e-14)


def test_era_bins():
    np.testing.assert_array_equal(era_index([1816, 1869, 1870, 1945, 1946, 2001, 2002, 2030]), [0, 0, 1, 3, 4, 6, 7, 7])


# ------------------------------------------------------------------ the fit

def test_tiny_fit_reports_diagnostics(fit):
    dg = fit.diagnostics
    assert np.isfinite(dg.rhat_max) and dg.rhat_max >= 0.99
    assert np.isfinite(dg.ess_bulk_min) and dg.ess_bulk_min > 0
    assert isinstance(dg.divergences, int) and dg.divergences >= 0
    assert np.isfinite(dg.bfmi_min) and dg.seconds > 0
    assert "R-hat max" in dg.describe()
    assert fit.identity.origin == ORIGIN and fit.identity.seed == SEED and fit.identity.draws == 100
    assert set(fit.identity.versions) == {"pymc", "nutpie", "numpy", "forecast"}
    assert fit.covariates == COVARIATES and fit.summary.last_year < ORIGIN
    assert "u" not in fit.idata.posterior and fit.idata.posterior["theta"].shape == (2, 100)


def test_predictions_are_probabilities_and_seeded(sim, fit):
    f = sim.frame
    targets = f[f["year"] >= ORIGIN][["claim", "year"]]
    p = predict_settlement(fit, f, targets, seed=1)
    assert p.shape == (len(targets),) and np.all((p > 0) & (p < 1))
    np.testing.assert_array_equal(p, predict_settlement(fit, f, targets, seed=1))
    # a row's prediction does not depend on the other rows predicted with it
    np.testing.assert_array_equal(p[:3], predict_settlement(fit, f, targets.iloc[:3], seed=1))
    s = claim_survival(fit, f, int(training_rows(f, ORIGIN)["claim"].iloc[0]))
    assert 0 < s < 1


def test_no_look_ahead(sim, fit):
    """Altering every value but the keys of rows at or after the origin (history and targets) leaves the
    predictions unchanged; altering a row before the origin changes them (so the test can fail)."""
    f = sim.frame
    later = f["year"] >= ORIGIN
    targets = f[later].copy()
    p = predict_settlement(fit, f, targets, seed=5)
    g = f.copy()
    for c in f.columns:
        if c in ("claim", "year"):
            continue
        if pd.api.types.is_numeric_dtype(f[c]):
            g.loc[later, c] = f.loc[later, c] * 3 + 1
        else:
            g[c] = g[c].astype(object)
            g.loc[later, c] = "altered"
    t2 = g[later].copy()
    np.testing.assert_array_equal(p, predict_settlement(fit, g, t2, seed=5))
    np.testing.assert_array_equal(p, predict_settlement(fit, g, t2[["claim", "year"]], seed=5))
    # the last history row of a targeted claim does matter
    claim = int(targets["claim"].iloc[0])
    h = f.copy()
    last = h.index[(h["claim"] == claim) & (h["year"] < ORIGIN)]
    if len(last):
        h.loc[last[-1], "recyes10"] += 5
        assert not np.array_equal(p, predict_settlement(fit, h, targets, seed=5))


def test_through_reads_the_rows_before_it_and_no_later(sim, fit):
    """``through=y`` (the backtest's "updated" protocol): the default equals through=origin; a later
    ``through`` reads the claim-years between origin and y (so its forecast can differ), but never a row
    at or after y; and a through before the fit's origin is refused."""
    f = sim.frame
    y = ORIGIN + 5
    targets = f[f["year"] == y][["claim", "year"]]
    assert len(targets)
    np.testing.assert_array_equal(predict_settlement(fit, f, targets, 3),
                                  predict_settlement(fit, f, targets, 3, through=ORIGIN))
    p = predict_settlement(fit, f, targets, 3, through=y)
    assert not np.array_equal(p, predict_settlement(fit, f, targets, 3))
    g = f.copy()
    late = g["year"] >= y
    g.loc[late, "recyes10"] = g.loc[late, "recyes10"] * 3 + 4
    g.loc[late, "settled"] = 1 - g.loc[late, "settled"]
    np.testing.assert_array_equal(p, predict_settlement(fit, g, targets, 3, through=y))
    h = f.copy()
    h.loc[(h["year"] == y - 1) & h["claim"].isin(targets["claim"]), "recyes10"] += 5
    assert not np.array_equal(p, predict_settlement(fit, h, targets, 3, through=y))
    with pytest.raises(ReferenceDataError, match="through"):
        predict_settlement(fit, f, targets, 3, through=ORIGIN - 1)


def test_lags_replace_the_projected_lag_window_of_their_own_year_only(sim, fit):
    """``lags`` (the "updated-lags" protocol): the lag-window covariates of a target's own year replace their
    projection for claims with history; without lags, or with lags equal to nothing new, the forecast is
    the "updated" one; another column of the lag rows is never read; a claim with no history keeps the
    new-claim profile; lag rows after ``through`` are refused (they are not known yet)."""
    from forecast.reference.design import KEYS, LAG_WINDOW

    f = sim.frame
    y = ORIGIN + 5
    rows = f[f["year"] == y]
    targets = rows[list(KEYS)].reset_index(drop=True)
    lags = rows[[*KEYS, *LAG_WINDOW]].reset_index(drop=True)
    p = predict_settlement(fit, f, targets, 3, through=y)
    np.testing.assert_array_equal(p, predict_settlement(fit, f, targets, 3, through=y, lags=lags.iloc[:0]))
    q = predict_settlement(fit, f, targets, 3, through=y, lags=lags)
    has_history = targets["claim"].isin(f.loc[f["year"] < y, "claim"]).to_numpy()
    assert has_history.any() and not np.array_equal(p[has_history], q[has_history])
    np.testing.assert_array_equal(p[~has_history], q[~has_history])
    # columns beyond the lag window are not read, even if handed over
    extra = rows.reset_index(drop=True).copy()
    extra["log_cinc_ratio"] += 3.0
    extra["settled"] = 1 - extra["settled"]
    np.testing.assert_array_equal(q, predict_settlement(fit, f, targets, 3, through=y, lags=extra))
    # one claim's lag row moves that claim's forecast only
    i = int(np.flatnonzero(has_history)[0])
    bumped = lags.copy()
    bumped.loc[i, "attempt_lag"] = 1 - bumped.loc[i, "attempt_lag"]
    r = predict_settlement(fit, f, targets, 3, through=y, lags=bumped)
    assert r[i] != q[i]
    np.testing.assert_array_equal(np.delete(r, i), np.delete(q, i))
    # the value: the projection of the row before, its lag window replaced by the row's own
    from forecast.model import kernels
    from forecast.reference.design import era_index, lag_window_covariates
    from forecast.reference.predict import (PosteriorDraws, claim_history, era_levels, eta_draws,
                                            path_covariates)

    d = PosteriorDraws.of(fit)
    c = int(targets["claim"].iloc[i])
    hist = f[(f["claim"] == c) & (f["year"] < y)].sort_values("year")
    h = claim_history(fit, d, hist, 3)
    path = np.arange(h.year + 1, y + 1)
    x = path_covariates(fit, h, path)
    pos, lx = lag_window_covariates(bumped.iloc[[i]], fit.center, fit.scale)
    x[-1, pos] = lx[0]
    hz = np.exp(eta_draws(d, x, h.issue_effect, h.region_effect, era_levels(d, era_index(path), 3)))
    want = kernels.gamma_frailty_hazard(hz[-1], h.H + hz[:-1].sum(axis=0), d.theta, h.events).mean()
    assert r[i] == pytest.approx(want, rel=1e-12)
    with pytest.raises(ReferenceDataError, match="not known"):
        predict_settlement(fit, f, targets, 3, through=y - 1, lags=lags)


# ------------------------------------------------------------------ stored posterior

def test_save_load_round_trip_and_identity_errors(tmp_path, sim, fit):
    path = save_reference_fit(fit, tmp_path / "reference.nc")
    back = load_reference_fit(path, data_sha256=sim.sha256, origin=ORIGIN)
    assert back.identity == fit.identity and back.claims == fit.claims and back.summary == fit.summary
    assert back.diagnostics == fit.diagnostics
    np.testing.assert_array_equal(back.center, fit.center)
    f = sim.frame
    targets = f[f["year"] >= ORIGIN][["claim", "year"]]
    np.testing.assert_array_equal(predict_settlement(back, f, targets, 2), predict_settlement(fit, f, targets, 2))
    with pytest.raises(ReferenceIdentityError, match="sha256"):
        load_reference_fit(path, data_sha256="0" * 64)
    with pytest.raises(ReferenceIdentityError, match="origin"):
        load_reference_fit(path, origin=1975)
    # changed draws are refused
    import arviz as az

    idata = az.from_netcdf(str(path), engine="h5netcdf")
    idata.posterior["alpha"] = idata.posterior["alpha"] + 1.0
    idata.to_netcdf(str(tmp_path / "changed.nc"), engine="h5netcdf")
    with pytest.raises(ReferenceIdentityError, match="checksum"):
        load_reference_fit(tmp_path / "changed.nc")
    # a netCDF without the identity is refused
    del idata.posterior.attrs["identity"]
    idata.to_netcdf(str(tmp_path / "bare.nc"), engine="h5netcdf")
    with pytest.raises(ReferenceIdentityError, match="identity"):
        load_reference_fit(tmp_path / "bare.nc")


def test_claim_terms_from_a_profile(sim, fit):
    """claim_terms on a claim of the simulated class standing in for 82804."""
    class Profile:  # ClaimYears-compatible (only .frame is read)
        frame = sim.frame

    claim = int(training_rows(sim.frame, ORIGIN)["claim"].iloc[-1])
    t = claim_terms(fit, Profile, ORIGIN, claim=claim)
    n = 2 * 100
    assert t.level.shape == t.gamma_power.shape == t.gamma_trust.shape == t.gamma_capacity.shape == (n,)
    beta = fit.idata.posterior["beta"].values.reshape(n, -1)
    np.testing.assert_array_equal(t.gamma_capacity, -beta[:, COVARIATES.index("ratfail10")])
    np.testing.assert_array_equal(t.gamma_trust, beta[:, COVARIATES.index("recyes10")])
    assert t.mapping[0] == ("power", "log_cinc_ratio") and np.all(np.isfinite(t.level))
    assert t.evidence.claim_years == fit.summary.claim_years and len(t.evidence.posterior_sha256) == 64


# ------------------------------------------------------------------ recovery (reduced)

def test_recovery_reduced(sim, fit):
    """The true alpha, beta, theta and tau (in the fit's standardisation) lie in their 90% intervals for
    most parameters of one small simulation (the benchmark runs 20 bigger ones)."""
    truth = sim.truth_for(training_rows(sim.frame, ORIGIN))
    inside = coverage(fit, truth)
    assert len(inside) == len(COVARIATES) + 3
    assert np.mean(list(inside.values())) >= 0.7, inside


def test_design_refuses_a_settlement_before_the_claims_last_row(sim):
    rows = training_rows(sim.frame, ORIGIN).copy()
    claim = rows.groupby("claim").size().idxmax()
    first = rows.index[rows["claim"] == claim][0]
    rows.loc[first, "settled"] = 1
    with pytest.raises(ReferenceDataError, match="not its last claim-year"):
        design(rows)
    design(training_rows(sim.frame, ORIGIN))  # the simulated rows themselves are fine


REFERENCE_KEYS_SCRIPT = """
import json
from forecast.model import pytensor_env
pytensor_env.configure()
from forecast.data.claims import load_claim_years
from forecast.inference.compiled import graph_keys
from forecast.reference.design import training_rows
from forecast.reference.fit import design
from forecast.reference.model import build_reference_model
d = design(training_rows(load_claim_years().frame, 1960))[0]
print(json.dumps(graph_keys(build_reference_model(d))))
"""


def test_two_processes_compile_one_reference_graph():
    """The compile cache serves the reference model only if two processes build the same rewritten graph
    (before the row counts were tied to one container, two processes gave two keys, and every reference fit
    rebuilt its native code: ~19 s against ~5 s)."""
    from processes import json_from_two_processes

    keys = json_from_two_processes(REFERENCE_KEYS_SCRIPT)
    assert keys[0] == keys[1] and all(keys[0].values()), keys
