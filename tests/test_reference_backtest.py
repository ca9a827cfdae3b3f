"""The reference-class backtest and its scores, with a numpy stand-in for the pooled model and a
synthetic claim-year table with Interface A's columns (no sampling, no shipped data)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast import defaults as D
from forecast.errors import UsageError
from forecast.reference.backtest import ROW_KEYS, prior_settlement_rate, reference_backtest, to_json
from forecast.validate import ref_scoring as R
from forecast.validate.scoring import brier, log_loss

# Interface A (forecast/data/claims.py), restated so this test does not depend on the data branch
CLAIM_COLUMNS = ("claim", "year", "issue", "region", "chal", "tgt", "start_year", "duration", "icowsal", "salint",
                 "attempt_lag", "recyes10", "recno10", "recmid10", "recmidwt", "ratfail10", "cinc_chal", "cinc_tgt",
                 "log_cinc_ratio", "d_log_cinc_ratio10", "ending", "settled", "source")
KEYS = ("claim", "year")
COVARIATES = ("recyes10", "attempt_lag", "log_cinc_ratio", "icowsal")
ORIGINS = (1900, 1920, 1946, 1960, 1975)
N_BOOT = 200


@dataclass(frozen=True, eq=False)
class FakeClaimYears:
    frame: pd.DataFrame
    path: Path
    sha256: str


def synthetic_claims(seed: int = 0, n_claims: int = 150) -> FakeClaimYears:
    """Claims starting 1816-1990, each running until a peaceful end (hazard rising with recyes10),
    another ending, or 2001."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_claims):
        start = int(rng.integers(1816, 1990))
        sal, lcr = int(rng.integers(1, 13)), float(rng.normal())
        yes = 0
        for year in range(start, 2002):
            lag = int(rng.random() < 0.2)
            eta = -4.0 + 0.5 * yes + 0.8 * lag - 0.1 * sal
            settled = int(rng.random() < 1 / (1 + np.exp(-eta)))
            other = (not settled) and rng.random() < 0.01
            ending = "peaceful" if settled else ("dropped" if other else "ongoing")
            rows.append({"claim": 1000 + c, "year": year, "issue": "territorial", "region": "europe",
                         "chal": 2, "tgt": 20, "start_year": start, "duration": year - start, "icowsal": sal,
                         "salint": sal // 2, "attempt_lag": lag, "recyes10": yes, "recno10": 0, "recmid10": 0,
                         "recmidwt": 0.0, "ratfail10": 0, "cinc_chal": 0.1, "cinc_tgt": 0.05,
                         "log_cinc_ratio": lcr, "d_log_cinc_ratio10": 0.0, "ending": ending, "settled": settled,
                         "source": "synthetic"})
            yes += lag and rng.random() < 0.5
            if ending != "ongoing":
                break
    frame = pd.DataFrame(rows, columns=list(CLAIM_COLUMNS)).sort_values(list(KEYS)).reset_index(drop=True)
    return FakeClaimYears(frame, Path("synthetic.csv"), f"synthetic-{seed}")


@dataclass(frozen=True)
class StandInFit:
    beta: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    origin: int
    last_year_seen: int
    diagnostics: dict


def stand_in_fit(claims, origin, *, draws, tune, chains, seed):
    """A ridge-penalised logistic regression by Newton steps on rows before ``origin``."""
    f = claims.frame[claims.frame["year"] < origin]
    X = f[list(COVARIATES)].to_numpy(float)
    center, scale = X.mean(axis=0), X.std(axis=0) + 1e-9
    Z = np.column_stack([np.ones(len(X)), (X - center) / scale])
    y = f["settled"].to_numpy(float)
    beta = np.zeros(Z.shape[1])
    for _ in range(30):
        p = 1 / (1 + np.exp(-Z @ beta))
        H = Z.T @ (Z * (p * (1 - p))[:, None]) + 0.1 * np.eye(len(beta))
        beta += np.linalg.solve(H, Z.T @ (y - p) - 0.1 * beta)
    return StandInFit(beta, center, scale, origin, int(claims.frame["year"].max()),
                      {"draws": draws, "seed": seed})


def stand_in_predict(fit, history, targets, seed):
    """Covariates frozen at each claim's last history row; new claims get the training mean. Naive on
    purpose: it trusts ``history`` to end before the origin, so a backtest that leaks shows."""
    assert list(targets.columns) == list(KEYS)
    last = history.groupby("claim").tail(1).set_index("claim")
    X = np.tile(fit.center, (len(targets), 1))
    known = targets["claim"].isin(last.index).to_numpy()
    X[known] = last.loc[targets["claim"][known], list(COVARIATES)].to_numpy(float)
    Z = np.column_stack([np.ones(len(X)), (X - fit.center) / fit.scale])
    return 1 / (1 + np.exp(-Z @ fit.beta))


def run(claims, **kw):
    kw.setdefault("origins", ORIGINS)
    return reference_backtest(claims, fit_fn=stand_in_fit, predict_fn=stand_in_predict, draws=10, tune=10,
                              chains=1, seed=5, n_boot=N_BOOT, **kw)


@pytest.fixture(scope="module")
def claims():
    return synthetic_claims()


@pytest.fixture(scope="module")
def bt(claims):
    return run(claims)


# --- ref_scoring: known answers


def test_auc_known_answers():
    assert R.auc([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1]) == 1.0
    assert R.auc([0.4, 0.3, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert R.auc([0.2, 0.2, 0.2], [0, 1, 0]) == 0.5
    # one event at 0.3 against non-events at 0.1, 0.3 (tie: half) and 0.5
    assert R.auc([0.1, 0.3, 0.3, 0.5], [0, 1, 0, 0]) == pytest.approx(1.5 / 3)
    assert np.isnan(R.auc([0.1, 0.2], [0, 0]))


def test_auc_matches_pairwise_count():
    rng = np.random.default_rng(3)
    p = rng.integers(0, 6, 80) / 10
    y = (rng.random(80) < 0.3).astype(float)
    pos, neg = p[y == 1], p[y == 0]
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    assert R.auc(p, y) == pytest.approx(pairs.mean())


def test_calibration_of_the_truth_on_large_n():
    rng = np.random.default_rng(11)
    p = 1 / (1 + np.exp(-rng.normal(-3, 1, 200_000)))
    y = (rng.random(len(p)) < p).astype(float)
    assert abs(R.calibration_intercept(p, y)) < 0.03
    assert R.calibration_slope(p, y) == pytest.approx(1.0, abs=0.03)


def test_calibration_detects_too_low_and_too_extreme_forecasts():
    rng = np.random.default_rng(12)
    x = rng.normal(-3, 1, 100_000)
    y = (rng.random(len(x)) < 1 / (1 + np.exp(-x))).astype(float)
    too_low = 1 / (1 + np.exp(-(x - 1.0)))     # every logit 1 too low: intercept ~ +1
    too_extreme = 1 / (1 + np.exp(-2 * x))     # logits doubled: slope ~ 1/2
    assert R.calibration_intercept(too_low, y) == pytest.approx(1.0, abs=0.05)
    assert R.calibration_slope(too_extreme, y) == pytest.approx(0.5, abs=0.03)
    assert np.isnan(R.calibration_slope(np.full(50, 0.1), y[:50]))


def test_skill():
    assert R.skill(0.09, 0.10) == pytest.approx(0.1)
    assert R.skill(0.10, 0.10) == 0.0


def test_bootstrap_is_paired_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(4)
    n = 3000
    claims = rng.integers(0, 120, n)
    p = 1 / (1 + np.exp(-rng.normal(-3, 1, n)))
    y = (rng.random(n) < p).astype(float)
    f = {"m": p, "c": np.full(n, y.mean())}
    a = R.claim_bootstrap(f, y, claims, model="m", n_boot=300, seed=9)
    b = R.claim_bootstrap(f, y, claims, model="m", n_boot=300, seed=9)
    assert repr(a) == repr(b)  # NaN slopes of the constant forecast: compare the text
    assert a.scores["m"].log.value == log_loss(p, y) and a.scores["m"].brier.value == brier(p, y)
    # paired: the observed rate is one resample for both forecasts; a forecast against itself has skill 0
    assert a.scores["m"].observed_rate == a.scores["c"].observed_rate
    same = R.claim_bootstrap({"m": p, "copy": p.copy()}, y, claims, model="m", n_boot=100, seed=1)
    assert (same.log_skill["copy"].lo, same.log_skill["copy"].hi) == (0.0, 0.0)
    for s in a.scores["m"].__dict__.values():
        assert s.lo <= s.value <= s.hi
    c = R.claim_bootstrap(f, y, claims, model="m", n_boot=300, seed=10)
    assert c.scores["m"].log.lo != a.scores["m"].log.lo


def test_bootstrap_resamples_whole_claims():
    """All rows of one claim in a single claim: every replicate is that claim, so no spread."""
    p = np.array([0.1, 0.2, 0.3, 0.4])
    y = np.array([0, 1, 0, 1.0])
    one = R.claim_bootstrap({"m": p}, y, np.zeros(4, int), model="m", n_boot=50, seed=1)
    assert one.scores["m"].brier.lo == one.scores["m"].brier.hi == pytest.approx(brier(p, y))


# --- the backtest


def test_rows_have_the_keys_and_counts_expected(bt, claims):
    f = claims.frame
    ends = [1919, 1945, 1959, 1974, D.REF_END]
    assert [s.origin for s in bt.origins] == list(ORIGINS) and [s.end for s in bt.origins] == ends
    for o, e, s in zip(ORIGINS, ends, bt.origins):
        test = f[(f["year"] >= o) & (f["year"] <= e)]
        mine = [r for r in bt.rows if r.origin == o]
        assert len(mine) == s.n_test == len(test)
        assert s.events_test == int(test["settled"].sum()) == sum(r.settled for r in mine)
        assert [(r.claim, r.year) for r in mine] == list(zip(test["claim"], test["year"]))
    assert len(bt.rows) == len(f[f["year"] >= ORIGINS[0]])
    doc = to_json(bt)
    assert len(doc["rows"]) == len(bt.rows)
    assert all(tuple(r) == ROW_KEYS for r in doc["rows"])


def test_baselines_use_training_rows_only(bt, claims):
    f = claims.frame
    for s in bt.origins:
        train = f[f["year"] < s.origin]
        recent = train[train["year"] >= s.origin - D.REF_BASE_WINDOW]
        assert s.n_train == len(train) and s.events_train == int(train["settled"].sum())
        assert s.p_base_all == pytest.approx(train["settled"].sum() / len(train))
        assert s.p_base_30y == pytest.approx(recent["settled"].sum() / len(recent))
        rows = [r for r in bt.rows if r.origin == s.origin]
        assert {r.p_base_all for r in rows} == {s.p_base_all} and {r.p_base_30y for r in rows} == {s.p_base_30y}
    # the model was handed nothing at or after its origin
    assert all(s.diagnostics["draws"] == 10 for s in bt.origins)


def test_the_fit_sees_no_row_at_or_after_its_origin(claims):
    seen = {}

    def spy_fit(c, origin, **kw):
        seen[origin] = int(c.frame["year"].max())
        return stand_in_fit(c, origin, **kw)

    reference_backtest(claims, (1920, 1960), fit_fn=spy_fit, predict_fn=stand_in_predict, draws=1, tune=1,
                       chains=1, seed=1, n_boot=20)
    assert seen == {1920: 1919, 1960: 1959}


def test_no_look_ahead(bt, claims):
    """Altering every non-key value of the rows at or after an origin, covariates and outcomes, leaves
    that origin's p_settle, p_base_all and p_base_30y unchanged (and the earlier origins')."""
    cut = 1946
    f = claims.frame.copy()
    late = f["year"] >= cut
    rng = np.random.default_rng(99)
    for col in CLAIM_COLUMNS:
        if col in KEYS:
            continue
        if not pd.api.types.is_numeric_dtype(f[col]):
            f.loc[late, col] = "altered"
        elif col == "settled":
            f.loc[late, col] = 1 - f.loc[late, col]
        else:
            f.loc[late, col] = f.loc[late, col] * 3 + rng.integers(1, 5, late.sum())
    altered = run(FakeClaimYears(f, claims.path, "altered"))

    def preds(b, origin):
        return [(r.claim, r.year, r.p_settle, r.p_base_all, r.p_base_30y) for r in b.rows if r.origin <= origin]

    assert preds(altered, cut) == preds(bt, cut)
    assert [r.settled for r in altered.rows if r.origin == cut] != [r.settled for r in bt.rows if r.origin == cut]
    later = [r.p_base_all for r in altered.rows if r.origin == 1960]
    assert later != [r.p_base_all for r in bt.rows if r.origin == 1960]  # the test can see a change


def stand_in_predict_through(fit, history, targets, seed, through=None):
    """The stand-in for the "updated" protocol: it checks it is handed no row at or after ``through``."""
    assert through is not None and int(history["year"].max()) < through
    assert set(targets["year"]) == {through}
    return stand_in_predict(fit, history, targets, seed)


def run_updated(claims, **kw):
    return reference_backtest(claims, ORIGINS, fit_fn=stand_in_fit, predict_fn=stand_in_predict_through, draws=10,
                              tune=10, chains=1, seed=5, n_boot=N_BOOT, information="updated", **kw)


@pytest.fixture(scope="module")
def bt_updated(claims):
    return run_updated(claims)


def test_updated_protocol_reads_the_years_before_each_row(bt, bt_updated, claims):
    """Same fits and rows as the origin protocol; each row's base rates are over the claim-years before its
    own year; its forecast can differ from the origin protocol's (it knows more)."""
    f = claims.frame
    assert [(r.claim, r.year, r.settled) for r in bt_updated.rows] == [(r.claim, r.year, r.settled) for r in bt.rows]
    assert bt_updated.settings["information"] == "updated" and bt.settings["information"] == "origin"
    for r in bt_updated.rows[::97]:
        known = f[f["year"] < r.year]
        recent = known[known["year"] >= r.year - D.REF_BASE_WINDOW]
        assert r.p_base_all == pytest.approx(known["settled"].mean())
        assert r.p_base_30y == pytest.approx(recent["settled"].mean())
    assert [r.p_settle for r in bt_updated.rows] != [r.p_settle for r in bt.rows]
    first = [r for r in bt_updated.rows if r.year == r.origin]
    same = {(r.claim, r.year): r for r in bt.rows if r.year == r.origin}
    assert all(r.p_settle == same[(r.claim, r.year)].p_settle for r in first)  # at the origin they agree


def test_updated_protocol_no_look_ahead(bt_updated, claims):
    """Altering every row at or after year y, outcomes included, leaves every forecast of a year <= y
    unchanged in the updated protocol, and changes a later one (so the test can fail)."""
    cut = 1950
    f = claims.frame.copy()
    late = f["year"] >= cut
    f.loc[late, "recyes10"] = f.loc[late, "recyes10"] * 3 + 2
    f.loc[late, "settled"] = 1 - f.loc[late, "settled"]
    altered = run_updated(FakeClaimYears(f, claims.path, "altered"))

    def preds(b, keep):
        return [(r.claim, r.year, r.p_settle, r.p_base_all, r.p_base_30y) for r in b.rows if keep(r.year)]

    assert preds(altered, lambda y: y <= cut) == preds(bt_updated, lambda y: y <= cut)
    assert preds(altered, lambda y: y > cut) != preds(bt_updated, lambda y: y > cut)


TAU = 0.5


def stand_in_fit_with_tau(claims, origin, **kw):
    """The stand-in fit plus an era random-walk sd, as the "updated-level" protocol reads it."""
    from types import SimpleNamespace

    fit = stand_in_fit(claims, origin, **kw)
    posterior = {"tau": SimpleNamespace(values=np.full((2, 3), TAU))}
    return SimpleNamespace(**vars(fit), idata=SimpleNamespace(posterior=posterior))


def test_period_adjusted_closed_form():
    from forecast.reference.predict import period_adjusted

    p = np.array([0.01, 0.2])
    np.testing.assert_allclose(period_adjusted(p, 4.0, 3.0, 3.0), p)       # as many as expected: m = 1
    np.testing.assert_allclose(period_adjusted(p, 4.0, 0.0, 0.0), p)       # nothing seen yet
    m = (4.0 + 6.0) / (4.0 + 2.0)
    np.testing.assert_allclose(period_adjusted(p, 4.0, 6.0, 2.0), 1 - (1 - p) ** m)
    assert np.all(period_adjusted(p, 4.0, 0.0, 5.0) < p)


def test_updated_level_is_the_updated_forecast_times_the_learned_period_multiplier(bt_updated, claims):
    """Each row = the "updated" forecast with its hazard multiplied by (k + D) / (k + E), k = 1 / tau^2,
    D and E the settlements and summed "updated" forecasts of the origin's test years before the row's."""
    from forecast.reference.predict import period_adjusted

    lvl = reference_backtest(claims, ORIGINS, fit_fn=stand_in_fit_with_tau, predict_fn=stand_in_predict_through,
                             draws=10, tune=10, chains=1, seed=5, n_boot=N_BOOT, information="updated-level")
    k = 1 / TAU ** 2
    upd = {(r.claim, r.year): r for r in bt_updated.rows}
    for o in ORIGINS:
        mine = [r for r in lvl.rows if r.origin == o]
        for y in sorted({r.year for r in mine}):
            before = [upd[(r.claim, r.year)] for r in mine if r.year < y]
            D, E = sum(r.settled for r in before), sum(r.p_settle for r in before)
            now = [r for r in mine if r.year == y]
            want = period_adjusted(np.array([upd[(r.claim, r.year)].p_settle for r in now]), k, D, E)
            np.testing.assert_allclose([r.p_settle for r in now], want, rtol=1e-12)
            assert [r.p_base_all for r in now] == [upd[(r.claim, r.year)].p_base_all for r in now]
    assert [r.p_settle for r in lvl.rows] != [r.p_settle for r in bt_updated.rows]
    assert lvl.settings["information"] == "updated-level"


def stand_in_predict_lags(fit, history, targets, seed, through=None, lags=None):
    """The stand-in for "updated-lags": it checks that it is handed the lag-window columns of the rows of
    year ``through`` and nothing else of them, and lets last year's attempt raise the forecast."""
    from forecast.reference.design import LAG_WINDOW

    p = stand_in_predict_through(fit, history, targets, seed, through=through)
    assert lags is not None and list(lags.columns) == [*KEYS, *LAG_WINDOW]
    assert set(lags["year"]) <= {through}
    attempt = targets.merge(lags, on=list(KEYS), how="left")["attempt_lag"].fillna(0).to_numpy(float)
    return np.clip(p * (1 + attempt), 0, 1)


def run_lags(claims, information="updated-lags", **kw):
    return reference_backtest(claims, ORIGINS, fit_fn=stand_in_fit, predict_fn=stand_in_predict_lags, draws=10,
                              tune=10, chains=1, seed=5, n_boot=N_BOOT, information=information, **kw)


@pytest.fixture(scope="module")
def bt_lags(claims):
    return run_lags(claims)


def test_updated_lags_adds_the_forecast_years_lag_window_only(bt_lags, bt_updated, claims):
    """Same rows and base rates as "updated"; the forecasts differ only where last year's attempt (a
    lag-window column of the forecast year's row) was 1."""
    assert [(r.claim, r.year, r.settled, r.p_base_all, r.p_base_30y) for r in bt_lags.rows] == \
        [(r.claim, r.year, r.settled, r.p_base_all, r.p_base_30y) for r in bt_updated.rows]
    attempt = claims.frame.set_index(list(KEYS))["attempt_lag"]
    moved = [a.p_settle != b.p_settle for a, b in zip(bt_lags.rows, bt_updated.rows)]
    assert any(moved)
    assert moved == [bool(attempt[(r.claim, r.year)]) and r.p_settle > 0 for r in bt_updated.rows]
    assert bt_lags.settings["information"] == "updated-lags"


def test_updated_lags_no_look_ahead(bt_lags, claims):
    """Altering the outcomes and every other column of the rows of year y and later, and the lag window of
    the rows after y, leaves every forecast of a year <= y unchanged; altering the lag window of year y
    changes a forecast of year y (so the test can fail)."""
    from forecast.reference.design import LAG_WINDOW

    cut = 1950
    f = claims.frame.copy()
    late, later = f["year"] >= cut, f["year"] > cut
    for c in COVARIATES:
        if c not in LAG_WINDOW:
            f.loc[late, c] = f.loc[late, c] * 3 + 2
    f.loc[later, "attempt_lag"] = 1 - f.loc[later, "attempt_lag"]
    f.loc[late, "settled"] = 1 - f.loc[late, "settled"]
    altered = run_lags(FakeClaimYears(f, claims.path, "altered"))

    def preds(b, keep):
        return [(r.claim, r.year, r.p_settle, r.p_base_all, r.p_base_30y) for r in b.rows if keep(r.year)]

    assert preds(altered, lambda y: y <= cut) == preds(bt_lags, lambda y: y <= cut)
    g = claims.frame.copy()
    g.loc[g["year"] == cut, "attempt_lag"] = 1 - g.loc[g["year"] == cut, "attempt_lag"]
    seen = run_lags(FakeClaimYears(g, claims.path, "lags of the cut year"))
    assert preds(seen, lambda y: y == cut) != preds(bt_lags, lambda y: y == cut)


def test_updated_lags_level_scales_the_updated_lags_forecast(bt_lags, claims):
    from forecast.reference.predict import period_adjusted

    lvl = reference_backtest(claims, ORIGINS, fit_fn=stand_in_fit_with_tau, predict_fn=stand_in_predict_lags,
                             draws=10, tune=10, chains=1, seed=5, n_boot=N_BOOT, information="updated-lags-level")
    base = {(r.claim, r.year): r for r in bt_lags.rows}
    o = ORIGINS[1]
    mine = [r for r in lvl.rows if r.origin == o]
    y = sorted({r.year for r in mine})[3]
    before = [base[(r.claim, r.year)] for r in mine if r.year < y]
    now = [r for r in mine if r.year == y]
    want = period_adjusted(np.array([base[(r.claim, r.year)].p_settle for r in now]), 1 / TAU ** 2,
                           sum(r.settled for r in before), sum(r.p_settle for r in before))
    np.testing.assert_allclose([r.p_settle for r in now], want, rtol=1e-12)
    assert lvl.settings["information"] == "updated-lags-level"


def test_a_fits_folder_is_for_the_pooled_model_only(claims, tmp_path):
    with pytest.raises(UsageError, match="fit_fn"):
        run(claims, fits_dir=tmp_path / "fits")
    assert not (tmp_path / "fits").exists()


def test_unknown_information_is_a_usage_error(claims):
    with pytest.raises(UsageError, match="information"):
        run(claims, information="psychic")


def test_json_has_the_acceptance_keys(bt):
    doc = json.loads(json.dumps(to_json(bt), allow_nan=False))
    for name in ("pooled", "base_all", "base_30y", "prior"):
        for score in ("log", "brier", "auc", "cal_intercept", "cal_slope", "mean_p", "observed_rate"):
            assert set(doc["scores"][name][score]) == {"value", "lo", "hi"}
    for o in doc["origins"]:
        assert {"origin", "end", "n_test", "events_test", "claim_years", "events", "scores"} <= set(o)
    assert set(doc["targets"]) == {"log_skill", "brier_skill", "auc", "mean_rate"}
    for t in doc["targets"].values():
        assert set(t) == {"value", "lo", "hi", "target", "met"} and isinstance(t["met"], bool)
    assert doc["best_baseline"] in ("base_all", "base_30y", "prior")
    assert doc["scores"][doc["best_baseline"]]["log"]["value"] == min(
        doc["scores"][b]["log"]["value"] for b in ("base_all", "base_30y", "prior"))
    assert doc["skill"]["vs"] == doc["best_baseline"]
    assert doc["scores"]["prior"]["cal_slope"]["value"] is None  # a constant forecast has no slope
    rows = pd.DataFrame(doc["rows"])
    assert log_loss(rows["p_settle"], rows["settled"]) == pytest.approx(doc["scores"]["pooled"]["log"]["value"])


def test_intervals_contain_the_point_estimates(bt):
    checked = 0
    for sc in bt.scores.values():
        for e in sc.__dict__.values():
            if np.isfinite(e.value) and np.isfinite(e.lo):  # tolerance: a constant forecast's interval is
                assert e.lo - 1e-12 <= e.value <= e.hi + 1e-12  # its value up to the last bit of a mean
                checked += 1
    for e in (bt.log_skill, bt.brier_skill):
        assert e.lo - 1e-12 <= e.value <= e.hi + 1e-12
    assert checked >= 25


def test_seeded_runs_are_identical(bt, claims):
    again = run(claims)

    def timeless(b):  # wall-clock seconds aside
        doc = to_json(b)
        for o in doc["origins"]:
            o.pop("seconds")
        return json.dumps(doc)

    assert again.rows == bt.rows and timeless(again) == timeless(bt)


def test_progress_line_per_origin(claims):
    lines = []
    run(claims, origins=(1946, 1975), progress=lines.append)
    assert len(lines) == 2 and lines[0].startswith("origin 1946: ") and "1975-2001" in lines[1]


def test_prior_mean_is_the_expert_hazard_beta_mean():
    from forecast.model.priors import load_preset
    from forecast.workspace import default_source

    params = load_preset(default_source() / "priors", "expert-hazard")["settlement_base_rate"].resolved_params()
    assert prior_settlement_rate() == pytest.approx(params["alpha"] / (params["alpha"] + params["beta"]))
    assert 0.001 < prior_settlement_rate() < 0.1


@pytest.mark.parametrize("origins", [(), (1946, 1920), (1800,), (2005,)])
def test_bad_origins_are_refused(claims, origins):
    with pytest.raises(UsageError):
        run(claims, origins=origins)


def test_the_readme_tables_script_reads_the_json(bt, bt_updated):
    """benchmarks/reference_table.py: one run gives its tables; several give one row per run with the
    values and the count of targets met, as the JSON says."""
    from scripts import load_script

    mod = load_script("benchmarks/reference_table.py", "reference_table_script")
    docs = [("five", json.loads(json.dumps(to_json(bt)))), ("upd", json.loads(json.dumps(to_json(bt_updated))))]
    assert "| target (pooled over origins) |" in mod.tables(docs[0][1])
    lines = mod.runs_table(docs).splitlines()
    assert len(lines) == 4
    for line, (name, d) in zip(lines[2:], docs):
        cells = [c.strip() for c in line.strip("|").split("|")]
        met = sum(d["targets"][k]["met"] for k in ("log_skill", "brier_skill", "auc", "mean_rate"))
        assert cells[0] == name and cells[1] == d["settings"]["information"] and cells[2] == str(len(ORIGINS))
        assert float(cells[5]) == pytest.approx(d["targets"]["auc"]["value"], abs=5e-4)
        assert cells[7] == f"{met} of 4"


def test_recalibration_map_recovers_a_known_miscalibration_and_defaults_to_the_prior():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.002, 0.4, 20000)
    x = np.log(p) - np.log1p(-p)
    y = (rng.uniform(size=p.size) < 1 / (1 + np.exp(-(-0.7 + 0.6 * x)))).astype(float)
    a, b = R.recalibration_map(p, y)
    assert a == pytest.approx(-0.7, abs=0.15) and b == pytest.approx(0.6, abs=0.06)
    # the optimum: the gradient of the log posterior is zero there
    eta = a + b * x
    r = 1 / (1 + np.exp(-eta)) - y
    assert abs(r.sum() + a / 1.0) < 1e-4 and abs(r @ x + (b - 1) / 0.25) < 1e-4
    assert R.recalibration_map([], []) == (0.0, 1.0)
    np.testing.assert_allclose(R.recalibrated([0.01, 0.3], 0.0, 1.0), [0.01, 0.3], rtol=1e-12)
    # few events: the prior keeps it near "no change"
    a2, b2 = R.recalibration_map(p[:200], np.r_[1.0, np.zeros(199)])
    assert abs(b2 - 1) < 1.0


def test_updated_lags_recal_recalibrates_each_origin_on_the_ones_before(bt_lags, claims):
    rec = run_lags(claims, information="updated-lags-recal")
    base = {(r.claim, r.year): r.p_settle for r in bt_lags.rows}
    assert rec.origins[0].recalibration is None
    first = [r for r in rec.rows if r.origin == ORIGINS[0]]
    assert [r.p_settle for r in first] == [base[(r.claim, r.year)] for r in first]
    for k, s in enumerate(rec.origins[1:], start=1):
        before = [r for r in bt_lags.rows if r.origin < s.origin]
        assert max(r.year for r in before) < s.origin   # learned only from years before the origin
        a, b = R.recalibration_map([r.p_settle for r in before], [r.settled for r in before])
        assert s.recalibration == (a, b)
        mine = [r for r in rec.rows if r.origin == s.origin]
        np.testing.assert_allclose([r.p_settle for r in mine],
                                   R.recalibrated([base[(r.claim, r.year)] for r in mine], a, b), rtol=1e-12)
    doc = to_json(rec)
    assert doc["settings"]["information"] == "updated-lags-recal"
    assert doc["origins"][0]["recalibration"] is None and len(doc["origins"][1]["recalibration"]) == 2


def test_the_oracle_script_fits_the_calibration_slope_by_maximum_likelihood(tmp_path, capsys):
    """benchmarks/reference_oracle.py: its recalibration with a flat prior is the calibration slope fit
    (the same b as ref_scoring.calibration_slope), never scores worse than the forecasts it rescales, and
    the script prints the three rows from a rows file."""
    from scripts import load_script

    mod = load_script("benchmarks/reference_oracle.py", "reference_oracle_script")
    rng = np.random.default_rng(5)
    p = rng.uniform(0.002, 0.3, 5000)
    x = np.log(p) - np.log1p(-p)
    y = (rng.uniform(size=p.size) < 1 / (1 + np.exp(-(-1.5 + 0.4 * x)))).astype(float)
    q, (a, b) = mod.oracle(y, p)
    assert b == pytest.approx(R.calibration_slope(p, y), abs=1e-4)
    assert mod.log_loss(q, y) < mod.log_loss(p, y)
    rows = pd.DataFrame({"origin": np.repeat([1900, 1950], 2500), "claim": 1, "year": 1,
                         "p_settle": p, "p_base_all": 0.02, "p_base_30y": 0.02, "p_prior": 0.02, "settled": y.astype(int)})
    rows.to_csv(tmp_path / "rows.csv", index=False)
    mod.main([str(tmp_path / "rows.csv")])
    out = capsys.readouterr().out
    assert "| pooled oracle |" in out and "1900: (" in out and "1950: (" in out
