"""Scores against hand-computed values, baselines, calibration, and the backtest's no-look-ahead rule."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.validate import backtest as B
from forecast.validate import scoring as S
from forecast.cli.main import main
from forecast.data.loaders import load_dataset
from forecast.model.priors import load_preset
from forecast.model.spec import build_spec

# --- scores, by hand


def test_brier_and_log_by_hand():
    assert S.brier([0.2, 0.7], [0, 1]) == pytest.approx((0.2**2 + 0.3**2) / 2)  # 0.065
    assert S.log_loss([0.2, 0.7], [0, 1]) == pytest.approx((-math.log(0.8) - math.log(0.7)) / 2)
    assert S.brier_skill([0.2, 0.7], [0.5, 0.5], [0, 1]) == pytest.approx(1 - 0.065 / 0.25)


def test_rps_by_hand():
    p = [[0.1, 0.2, 0.4, 0.2, 0.1]]
    # observed "no change" (category 2): F = .1 .3 .7 .9, O = 0 0 1 1
    assert S.rps(p, [2]) == pytest.approx((0.01 + 0.09 + 0.09 + 0.01) / 4)
    # observed "sharp deterioration" (category 0): O = 1 1 1 1
    assert S.rps(p, [0]) == pytest.approx((0.81 + 0.49 + 0.09 + 0.01) / 4)
    # a perfect forecast scores 0, the most wrong one 1
    assert S.rps([[0, 0, 0, 0, 1]], [4]) == 0
    assert S.rps([[1, 0, 0, 0, 0]], [4]) == 1


def test_score_all_uses_improve_and_categories():
    probs = np.array([[0.1, 0.2, 0.4, 0.2, 0.1], [0.0, 0.1, 0.2, 0.3, 0.4]])
    s = S.score_all(probs, [0, 2])  # observed changes 0 and +2
    assert s["brier"] == pytest.approx(((0.3 - 0) ** 2 + (0.7 - 1) ** 2) / 2)
    assert s["log"] == pytest.approx((-math.log(0.7) - math.log(0.7)) / 2)
    assert s["rps"] == pytest.approx((0.05 + (0.0 + 0.01 + 0.09 + 0.36) / 4) / 2)


def test_baselines_by_hand():
    # counts of -2..2 in [1, 1, 0, -1]: 0 1 1 2 0, plus 1/2 each, over 4 + 2.5
    assert S.climatology([1, 1, 0, -1]) == pytest.approx(np.array([0.5, 1.5, 1.5, 2.5, 0.5]) / 6.5)
    # last year better; the years after a better year were 0, +1, -1
    assert S.persistence([1, 0, 1, 1, -1, 1]) == pytest.approx(np.array([0.5, 1.5, 1.5, 1.5, 0.5]) / 5.5)
    # last year worse: only the year after 1992's -1 in [-1, 2, 0, -2]: +2
    assert S.persistence([-1, 2, 0, -2]) == pytest.approx(np.array([0.5, 0.5, 0.5, 0.5, 1.5]) / 3.5)
    assert S.p_improve(S.climatology([1, 1, 0, -1])) == pytest.approx(3.0 / 6.5)


def test_reliability_corp_by_hand():
    r = S.reliability([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
    # PAV of 0 1 0 1 -> 0 .5 .5 1 ; Brier .275, recalibrated .125, UNC .25
    assert r["brier"] == pytest.approx(0.275)
    assert r["miscalibration"] == pytest.approx(0.15)
    assert r["discrimination"] == pytest.approx(0.125)
    assert r["uncertainty"] == pytest.approx(0.25)
    assert [row["n"] for row in r["table"]] == [1, 2, 1]
    assert [row["observed_frequency"] for row in r["table"]] == pytest.approx([0, 0.5, 1])


def test_bootstrap_skill_interval():
    rng = np.random.default_rng(1)
    o = rng.integers(0, 2, 30).astype(float)
    p_good = np.clip(o * 0.7 + 0.15, 0, 1)
    sk = S.bootstrap_skill(p_good, np.full(30, o.mean()), o, seed=3)
    assert sk["lo"] <= sk["value"] <= sk["hi"]
    assert sk["value"] > 0.5 and sk["lo"] > 0
    assert "95% paired percentile bootstrap" in sk["interval"]
    assert S.bootstrap_skill(p_good, np.full(30, 0.5), o, seed=3) == S.bootstrap_skill(p_good, np.full(30, 0.5), o,
                                                                                     seed=3)


def test_stacking_weights_by_brute_force():
    """Each weight maximises the Beta(2, 2)-penalised log density of the origins before it (a fine grid
    search, checked against SciPy's bounded optimiser), and the first origin's is 0.5."""
    from scipy.optimize import minimize_scalar

    rng = np.random.default_rng(4)
    a, b = rng.uniform(0.02, 0.9, 12), rng.uniform(0.1, 0.4, 12)
    w = S.stacking_weights(a, b)
    assert w.shape == (13,) and w[0] == 0.5
    for i in range(13):
        def neg(x, i=i):
            return -(np.sum(np.log(x * a[:i] + (1 - x) * b[:i])) + np.log(x) + np.log1p(-x))
        assert w[i] == pytest.approx(minimize_scalar(neg, bounds=(1e-9, 1 - 1e-9), method="bounded").x, abs=1e-3)
    # a forecast that is always better earns weight near 1, one that is always worse near 0
    assert S.stacking_weights(np.full(40, 0.9), np.full(40, 0.2))[-1] > 0.95
    assert S.stacking_weights(np.full(40, 0.05), np.full(40, 0.5))[-1] < 0.05


@given(st.lists(st.floats(0.01, 0.99), min_size=2, max_size=15), st.data())
@settings(max_examples=60, deadline=None)
def test_stack_of_an_origin_ignores_that_origin_and_later(dens, data):
    """No look-ahead: changing the forecasts and outcomes of origins i and later leaves the stack weights
    and mixed forecasts of origins before i (and of i itself) unchanged."""
    n = len(dens)
    i = data.draw(st.integers(0, n - 1))
    rng = np.random.default_rng(data.draw(st.integers(0, 100)))
    pa, pb = rng.dirichlet(np.ones(5), n), rng.dirichlet(np.ones(5), n)
    obs = rng.integers(0, 5, n)
    mixed, w = S.stacked(pa, pb, obs)
    pa2, obs2 = pa.copy(), obs.copy()
    pa2[i:], obs2[i:] = rng.dirichlet(np.ones(5), n - i), rng.integers(0, 5, n - i)
    mixed2, w2 = S.stacked(pa2, pb, obs2)
    assert np.array_equal(w[: i + 1], w2[: i + 1])
    assert np.array_equal(mixed[:i], mixed2[:i])
    assert np.allclose(mixed.sum(axis=1), 1)


def test_platt_map_matches_scipy_and_starts_at_the_identity():
    """The recalibration map maximises the penalised Bernoulli log-likelihood (checked against SciPy's
    BFGS), and with no past origins it is the prior mean: a = 0, b = 1 (the forecast unchanged)."""
    from scipy.optimize import minimize

    assert np.array_equal(S.platt_map([], []), [0.0, 1.0])
    rng = np.random.default_rng(6)
    for n in (1, 3, 12, 40):
        x = rng.normal(0, 2, n)
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.3 + 0.4 * x)))).astype(float)

        def neg(t):
            eta = t[0] + t[1] * x
            return -(np.sum(y * eta - np.logaddexp(0, eta)) - 0.5 * t[0] ** 2 - 0.5 * ((t[1] - 1) / 0.5) ** 2)
        ref = minimize(neg, [0.0, 1.0], method="BFGS", options={"gtol": 1e-10}).x
        assert S.platt_map(x, y) == pytest.approx(ref, abs=1e-6)
    # separable data stay finite under the prior
    assert np.all(np.isfinite(S.platt_map([-3, -2, 2, 3], [0, 0, 1, 1])))


def test_recalibration_learns_bias_and_overconfidence():
    """Forecasts too high (or too spread) for the outcomes they met earn a map that lowers (or shrinks) them."""
    rng = np.random.default_rng(7)
    x = rng.normal(0, 2, 400)
    for a_true, b_true in ((-1.0, 1.0), (0.0, 0.4)):
        y = (rng.uniform(size=400) < 1 / (1 + np.exp(-(a_true + b_true * x)))).astype(float)
        a, b = S.platt_map(x, y)
        assert a == pytest.approx(a_true, abs=0.35) and b == pytest.approx(b_true, abs=0.2)


def test_recalibrated_keeps_the_split_within_each_side():
    """The first origin is the forecast unchanged; every origin sums to one, its P(improve) is the map's,
    and the split within "improves" and within "does not improve" is the forecast's."""
    rng = np.random.default_rng(8)
    probs = rng.dirichlet(np.ones(5), 15)
    improved = rng.integers(0, 2, 15)
    out, maps = S.recalibrated(probs, improved)
    assert maps.shape == (16, 2) and np.array_equal(maps[0], [0.0, 1.0])
    assert np.allclose(out[0], probs[0]) and np.allclose(out.sum(axis=1), 1)
    p = S.p_improve(probs)
    x = np.log(p) - np.log1p(-p)
    assert np.allclose(S.p_improve(out), 1 / (1 + np.exp(-(maps[:-1, 0] + maps[:-1, 1] * x))))
    assert np.allclose(out[:, 3:] / out[:, 3:].sum(1, keepdims=True), probs[:, 3:] / p[:, None])
    assert np.allclose(out[:, :3] / out[:, :3].sum(1, keepdims=True), probs[:, :3] / (1 - p[:, None]))
    for i in range(16):
        assert np.array_equal(maps[i], S.platt_map(x[:i], improved[:i]))


@given(st.integers(2, 15), st.data())
@settings(max_examples=60, deadline=None)
def test_recalibrated_origin_ignores_that_origin_and_later(n, data):
    """No look-ahead: changing the forecasts and outcomes of origins i and later leaves the maps of origins
    up to i and the recalibrated forecasts before i unchanged."""
    i = data.draw(st.integers(0, n - 1))
    rng = np.random.default_rng(data.draw(st.integers(0, 100)))
    probs, improved = rng.dirichlet(np.ones(5), n), rng.integers(0, 2, n)
    out, maps = S.recalibrated(probs, improved)
    probs2, improved2 = probs.copy(), improved.copy()
    probs2[i:], improved2[i:] = rng.dirichlet(np.ones(5), n - i), rng.integers(0, 2, n - i)
    out2, maps2 = S.recalibrated(probs2, improved2)
    assert np.array_equal(maps[: i + 1], maps2[: i + 1])
    assert np.array_equal(out[:i], out2[:i])



@pytest.mark.parametrize("logs, chosen", [
    ({"joint": 0.59, "joint_lag": 0.588, "stacked": 0.587, "recalibrated": 0.586}, "joint"),   # all within 0.005
    ({"joint": 0.59, "joint_lag": 0.58, "stacked": 0.578, "recalibrated": 0.576}, "joint_lag"),  # lag by 0.01
    ({"joint": 0.59, "joint_lag": 0.60, "stacked": 0.584, "recalibrated": 0.586}, "stacked"),
    ({"joint": 0.59, "joint_lag": 0.60, "stacked": 0.586, "recalibrated": 0.584}, "recalibrated"),
    ({"joint": 0.59, "joint_lag": 0.60, "stacked": 0.580, "recalibrated": 0.582}, "stacked"),  # both: the lower
    ({"joint": 0.59, "joint_lag": 0.60, "contemporaneous": 0.5, "recalibrated": 0.589}, "joint"),  # not eligible
])
def test_the_rule_fixed_in_advance(logs, chosen):
    """benchmarks/improve_candidates.md and its addenda: the lower of joint and joint_lag (joint within 0.005
    nats), replaced by stacked or recalibrated only when one beats it by at least 0.005 (the lower if both)."""
    cands = {f: {"scores": {"log": v}, "eligible": f != "contemporaneous"} for f, v in logs.items()}
    assert B.choose(cands)["form"] == chosen

probs_st = st.lists(st.floats(0.001, 0.999), min_size=1, max_size=40)


@given(probs_st, st.data())
@settings(max_examples=150, deadline=None)
def test_corp_decomposition_is_exact(p, data):
    o = data.draw(st.lists(st.integers(0, 1), min_size=len(p), max_size=len(p)))
    r = S.reliability(p, o)
    assert r["brier"] == pytest.approx(S.brier(p, o))
    assert r["miscalibration"] - r["discrimination"] + r["uncertainty"] == pytest.approx(r["brier"], abs=1e-12)
    assert r["miscalibration"] >= -1e-12 and r["discrimination"] >= -1e-12
    assert sum(row["n"] for row in r["table"]) == len(p)


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=40), st.data())
@settings(max_examples=150, deadline=None)
def test_pav_is_monotone_and_keeps_the_weighted_mean(y, data):
    w = np.array(data.draw(st.lists(st.floats(0.1, 5), min_size=len(y), max_size=len(y))))
    fit = S.pav(y, w)
    assert np.all(np.diff(fit) >= -1e-9)
    assert np.sum(w * fit) == pytest.approx(np.sum(w * np.array(y)), abs=1e-7)


@given(st.lists(st.lists(st.floats(0, 1), min_size=5, max_size=5), min_size=1, max_size=10), st.data())
@settings(max_examples=100, deadline=None)
def test_rps_is_in_unit_interval(rows, data):
    p = np.array(rows) + 1e-9
    p = p / p.sum(axis=1, keepdims=True)
    obs = data.draw(st.lists(st.integers(0, 4), min_size=len(rows), max_size=len(rows)))
    assert 0 <= S.rps(p, obs) <= 1 + 1e-12


# --- the backtest: range checks and no look-ahead


def test_backtest_rejects_years_out_of_range(workspace):
    r = CliRunner().invoke(main, ["backtest", "-w", str(workspace.root), "--from", "1995", "-q"])
    assert r.exit_code == 1
    assert r.output.strip() == ("Error: backtest years must lie in 1996-2025 (outcomes.csv codes 1992-2025; "
                                "each origin needs 4 coded years before it): got 1995-2025")
    r = CliRunner().invoke(main, ["backtest", "-w", str(workspace.root), "--from", "2010", "--to", "2005"])
    assert r.exit_code == 1 and "--from 2010 is after --to 2005" in r.output
    r = CliRunner().invoke(main, ["backtest", "-w", str(workspace.root), "--preset", "realistt"])
    assert r.exit_code == 1 and "realistt" in r.output


def test_backtest_bad_out(workspace, tmp_path):
    f = tmp_path / "a_file"
    f.write_text("x")
    r = CliRunner().invoke(main, ["backtest", "-w", str(workspace.root), "--out", str(f)])
    assert r.exit_code == 1 and "exists and is not a folder" in r.output
    r = CliRunner().invoke(main, ["backtest", "-w", str(workspace.root), "--out", str(f / "no" / "dir")])
    assert r.exit_code == 1 and "is a file, not a folder" in r.output  # a missing folder is created, not this
    assert f.read_text() == "x"


def _alter_after(ws, year: int, outcome_too: bool) -> None:
    """Rewrite data after ``year``: reverse each indicator's later values, drop later events,
    flip later outcomes (and the next year's outcome when ``outcome_too``)."""
    d = ws.data_dir

    def rewrite(name, fn):
        with open(d / name, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
            fields = list(rows[0])
        rows = fn(rows)
        with open(d / name, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)

    def indicators(rows):
        by = {}
        for r in rows:
            if int(r["year"]) > year:
                by.setdefault(r["indicator"], []).append(r)
        for group in by.values():
            values = [r["value"] for r in group][::-1]
            for r, v in zip(group, values):
                r["value"] = v
        return rows

    def outcomes(rows):
        for r in rows:
            if int(r["year"]) > year + (0 if outcome_too else 1):
                r["change"] = str(-int(r["change"]))
        return rows

    rewrite("indicators.csv", indicators)
    rewrite("events.csv", lambda rows: [r for r in rows if int(r["date"][:4]) <= year])
    rewrite("outcomes.csv", outcomes)


def test_spec_for_an_origin_ignores_everything_later(workspace):
    before = build_spec(load_dataset(workspace.data_dir), load_preset(workspace.priors_dir), as_of=2009)
    _alter_after(workspace, 2009, outcome_too=True)
    after = build_spec(load_dataset(workspace.data_dir), load_preset(workspace.priors_dir), as_of=2009)
    for field in ("years", "obs_indicator", "obs_time", "obs_value", "center", "scale", "change", "settlement",
                  "barrier", "event_counts"):
        np.testing.assert_array_equal(getattr(before, field), getattr(after, field), err_msg=field)
    assert before.indicators == after.indicators


def test_backtest_row_does_not_change_when_later_data_change(workspace, tmp_path):
    """The real thing: a backtest row for Y=2010 (tiny seeded fits) is identical after every
    value, event and outcome after 2009 is altered; only the observed outcome may differ."""
    import shutil

    from forecast.workspace import Workspace

    altered = Workspace(shutil.copytree(workspace.root, tmp_path / "altered"))
    _alter_after(altered, 2009, outcome_too=True)
    settings_ = B.Settings(draws=40, tune=60, chains=2, seed=11, single_lens=False)
    a = B.run(workspace, [2010], settings_, jobs=1)
    b = B.run(altered, [2010], settings_, jobs=1)
    ra, rb = a["rows"][0], b["rows"][0]
    assert ra["observed_change"] == -2 and rb["observed_change"] == 2  # the alteration is real
    for key in ("p_improve", "p_improve_lo80", "p_improve_hi80", "p_change", "as_of", "event_shift_next"):
        assert ra[key] == rb[key], key
    assert ra["baselines"] == rb["baselines"]  # every candidate form too (joint is the model; the others here)
    # and the JSON contract
    json.dumps(a)
    assert set(a["scores"]) == {"model", "climatology", "persistence", "contemporaneous", "joint_lag", "stacked",
                                "recalibrated"}
    assert a["settings"]["outcome_form"] == "joint" and a["choice"]["form"] in ("joint", "joint_lag", "stacked",
                                                                                "recalibrated")
    assert set(a["candidates"]) == {"contemporaneous", "joint", "joint_lag", "stacked", "recalibrated"}
    # one origin, nothing scored before it: the stack is half joint, half climatology
    assert a["stacking"]["weights"]["2010"] == 0.5 and ra["baselines"]["stacked"]["weight"] == 0.5
    assert ra["baselines"]["stacked"]["p_improve"] == pytest.approx(
        S.p_improve(np.array(list(ra["p_change"].values()))) / 2 + ra["baselines"]["climatology"]["p_improve"] / 2)
    # ...and the recalibration map is the identity, so the recalibrated forecast is joint's
    assert a["recalibration"]["maps"]["2010"] == [0.0, 1.0] == ra["baselines"]["recalibrated"]["map"]
    assert ra["baselines"]["recalibrated"]["p_change"] == pytest.approx(ra["p_change"])
    assert set(a["reliability_by_method"]) == set(a["scores"])
    assert not a["candidates"]["contemporaneous"]["eligible"] and a["candidates"]["joint"]["method"] == "model"
    for name, sk in a["skill_vs_climatology"].items():  # one year: every bootstrap resample is that year
        for k in ("brier", "log", "rps"):
            assert sk[k]["lo80"] == pytest.approx(sk[k]["value"]) == pytest.approx(sk[k]["hi95"]), (name, k)
    assert set(a["scores"]["model"]) == {"brier", "log", "rps"}
    assert 0 < ra["p_improve"] < 1 and sum(ra["p_change"].values()) == pytest.approx(1)
    assert set(ra["scored_quantity"]) == {"rhat", "ess_bulk", "ok"} and ra["scored_quantity"]["ess_bulk"] > 0
