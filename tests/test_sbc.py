"""Simulation-based calibration: the numpy simulator and likelihood against the PyMC model,
ranks, the simultaneous ECDF band, coverage, and a reduced end-to-end run of benchmarks/sbc.py."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from forecast.validate import sbc
from forecast.data.loaders import load_dataset
from forecast.model.builder import build_model, helmert_columns, with_derived_data
from forecast.model.kernels import NOISE_FLOOR
from forecast.model.priors import load_preset
from forecast.model.spec import FACTORS, build_spec

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "sbc.py"


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    from forecast.workspace import init_workspace

    ws = init_workspace(tmp_path_factory.mktemp("sbc") / "ws")
    return build_spec(load_dataset(ws.data_dir), load_preset(ws.priors_dir, "default"))


@pytest.fixture(scope="module")
def priors(spec):
    return sbc.resolved_priors(spec)


# ------------------------------------------------------------------------------ simulator

def test_simulated_data_have_the_spec_shapes_and_supports(spec, priors):
    rng = np.random.default_rng(0)
    for _ in range(20):
        params, data = sbc.simulate_prior(spec, rng, priors)
        assert data["obs_value"].shape == spec.obs_value.shape and np.all(np.isfinite(data["obs_value"]))
        assert data["change"].shape == spec.change.shape and data["change"].dtype.kind == "i"
        assert set(np.unique(data["change"])) <= set(range(5))
        assert set(np.unique(data["settlement"])) <= {0, 1} and data["settlement"].shape == spec.settlement.shape
        assert np.all(np.diff(params["cutpoints"]) > 0)
        # the default form simulates the event counts from the event model (issue 10)
        assert data["event_counts"].shape == spec.event_counts.shape and np.all(data["event_counts"] >= 0)
        assert params["factor_state"].shape == (len(FACTORS), spec.n_years)
        assert np.all((params["state_persistence"] > 0) & (params["state_persistence"] < 1))
        assert np.all(params["indicator_noise"] > 0) and params["loading_tau"] > 0
        # log loadings sum to zero within each factor (geometric-mean loading 1), as in the model
        for f in range(len(FACTORS)):
            assert np.isclose(np.log(params["loading"][spec.indicator_factor == f]).sum(), 0.0, atol=1e-10)


def test_simulated_states_are_stationary_with_unit_variance(spec, priors):
    rng = np.random.default_rng(1)
    eta = np.array([sbc.simulate_prior(spec, rng, priors)[0]["factor_state"] for _ in range(3000)])
    for t in (0, spec.n_years // 2, spec.n_years - 1):
        v = eta[:, :, t].var(axis=0)
        assert np.all(np.abs(v - 1.0) < 0.1), v
        assert np.all(np.abs(eta[:, :, t].mean(axis=0)) < 0.08)
    # persistence: lag-1 correlation is E[rho] = 0.8 under the Beta(8, 2) prior
    r = np.mean(eta[:, :, 1:] * eta[:, :, :-1])
    assert abs(r - 0.8) < 0.05


def test_simulated_outcome_frequencies_follow_the_ordered_logistic(spec, priors):
    """Category frequencies over many prior draws match the model's probabilities averaged over
    the same parameter draws (guards the direction of the cutpoint comparison)."""
    rng = np.random.default_rng(2)
    counts, probs = np.zeros(5), np.zeros(5)
    for _ in range(1500):
        params, data = sbc.simulate_prior(spec, rng, priors)
        improve, _ = sbc.linear_predictors(spec, params, data["event_counts"])
        p_gt = np.concatenate([np.ones((spec.n_years, 1)),
                               1 / (1 + np.exp(-(improve[:, None] - params["cutpoints"][None]))),
                               np.zeros((spec.n_years, 1))], axis=1)
        probs += (p_gt[:, :-1] - p_gt[:, 1:]).sum(axis=0)
        counts += np.bincount(data["change"], minlength=5)
    assert np.allclose(counts / counts.sum(), probs / probs.sum(), atol=0.01)
    # the rare sharp breaks are rare, the middle category is the commonest
    assert counts.argmax() == 2


def _scipy_logpdf(p, x):
    q = p.params
    d = p.distribution
    if d == "Normal":
        return stats.norm.logpdf(x, np.asarray(q["mu"]), q["sigma"])
    if d == "HalfNormal":
        return stats.halfnorm.logpdf(x, scale=q["sigma"])
    if d == "Gamma":
        return stats.gamma.logpdf(x, q["alpha"], scale=1.0 / q["beta"])
    if d == "Beta":
        return stats.beta.logpdf(x, q["alpha"], q["beta"])
    raise AssertionError(f"add {d} to the test")


def _numpy_log_prior(spec, priors, params):
    rho, eta = params["state_persistence"], params["factor_state"]
    lp = _scipy_logpdf(priors["state_persistence"], rho).sum()
    lp += stats.norm.logpdf(eta[:, 0]).sum()
    lp += stats.norm.logpdf(eta[:, 1:], rho[:, None] * eta[:, :-1], np.sqrt(1 - rho**2)[:, None]).sum()
    lp += _scipy_logpdf(priors["loading_tau"], params["loading_tau"])
    lp += stats.norm.logpdf(params["loading_v"], 0.0, params["loading_tau"]).sum()
    lp += _scipy_logpdf(priors["indicator_intercept"], params["indicator_intercept"]).sum()
    lp += _scipy_logpdf(priors["indicator_noise"], params["indicator_noise"]).sum()
    lp += stats.norm.logpdf(params["event_effect"], spec.event_weight, spec.event_weight_sd).sum()
    lp += _scipy_logpdf(priors["cutpoints"], params["cutpoints"]).sum()
    lp += _scipy_logpdf(priors["event_rate_intercept"], params["event_rate_intercept"]).sum()
    lp += _scipy_logpdf(priors["event_rate_slope"], params["event_rate_slope"]).sum()
    for name in ("beta_power", "beta_trust", "beta_leaders", "settlement_base_rate", "gamma_power",
                 "gamma_trust", "gamma_capacity", "delta_barrier", "event_lag_weight"):
        lp += _scipy_logpdf(priors[name], params[name])
    return float(lp)


def _model_point(model, spec, params):
    """The centred model's value variables at the simulator's parameters: states as level plus
    Helmert deviations, intercepts sheared by the level, constrained values transformed."""
    eta = params["factor_state"]
    H = helmert_columns(eta.shape[1])
    level = eta.mean(axis=1)
    raw = dict(params, state_level=level, state_deviation=(eta - level[:, None]) @ H,
               indicator_offset=params["indicator_intercept"] + params["loading"] * level[spec.indicator_factor])
    point = {}
    for rv in model.free_RVs:
        value_var, tr = model.rvs_to_values[rv], model.rvs_to_transforms.get(rv)
        x = np.asarray(raw[rv.name], float)
        point[value_var.name] = x if tr is None else tr.forward(x, *rv.owner.inputs).eval()
    return point


@pytest.fixture(scope="module")
def centred_logps(spec, priors):
    """The centred model and ONE compiled function of everything the next test compares: the states
    and intercepts it reconstructs, each observed node's log density and the joint log density
    (without Jacobians). The simulated data go in through the model's ``pm.Data``, so the two seeds
    share one compile (each ``compile_logp`` would be a separate compile of several seconds)."""
    model = build_model(spec, "centred")
    parts = list(sbc.log_likelihood(spec, *sbc.simulate_prior(spec, np.random.default_rng(0), priors), by_part=True))
    outputs = [*model.replace_rvs_by_values([model["factor_state"], model["indicator_intercept"]]),
               *(model.logp(vars=[model[name]], jacobian=False) for name in parts), model.logp(jacobian=False)]
    fn = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")
    return model, parts, fn


@pytest.mark.parametrize("seed", [3, 4])
def test_numpy_likelihood_and_prior_equal_the_pymc_model(spec, priors, centred_logps, seed):
    """The SBC simulator's density and its log-likelihood are the centred model's: PyMC's own
    log densities at the simulated point (observed nodes one by one, and the whole joint without
    Jacobians, potentials included) equal the numpy ones."""
    import pymc as pm

    model, names, fn = centred_logps
    params, data = sbc.simulate_prior(spec, np.random.default_rng(seed), priors)
    pm.set_data(with_derived_data({"obs_value": data["obs_value"], "change": data["change"],
                                   "settlement": data["settlement"], "event_counts": data["event_counts"]}),
                model=model)
    point = _model_point(model, spec, params)
    eta, intercept, *by_node, joint = fn(point)
    assert np.allclose(eta, params["factor_state"]) and np.allclose(intercept, params["indicator_intercept"])
    parts = sbc.log_likelihood(spec, params, data, by_part=True)
    assert list(parts) == names
    for name, pymc_value in zip(names, by_node):
        assert np.isclose(pymc_value, parts[name], rtol=1e-9, atol=1e-9), name
    assert np.isclose(sbc.log_likelihood(spec, params, data), sum(parts.values()))
    # PyTensor's and SciPy's Beta/Gamma normalising constants agree to ~1e-6; any wrong term is O(1)
    assert np.isclose(joint, _numpy_log_prior(spec, priors, params) + sum(parts.values()), rtol=0, atol=1e-4)


def test_likelihood_is_vectorised_over_draws(spec, priors):
    rng = np.random.default_rng(5)
    draws = [sbc.simulate_prior(spec, rng, priors)[0] for _ in range(3)]
    _, data = sbc.simulate_prior(spec, rng, priors)
    stacked = {k: np.stack([np.asarray(d[k]) for d in draws]) for k in draws[0]}
    one_by_one = [sbc.log_likelihood(spec, d, data) for d in draws]
    assert np.allclose(sbc.log_likelihood(spec, stacked, data), one_by_one)
    noise_floor_matters = dict(draws[0], indicator_noise=draws[0]["indicator_noise"] + NOISE_FLOOR)
    assert sbc.log_likelihood(spec, noise_floor_matters, data) != one_by_one[0]


def test_key_values_read_truth_and_draws_alike(spec, priors):
    params, _ = sbc.simulate_prior(spec, np.random.default_rng(6), priors)
    truth = sbc.key_values(spec, params)
    assert list(truth) + [sbc.LOGLIK] == sbc.key_parameters(spec)
    stacked = sbc.key_values(spec, {k: np.stack([np.asarray(v)] * 2) for k, v in params.items()})
    for lab, v in truth.items():
        assert np.ndim(v) == 0 and stacked[lab].shape == (2,) and np.all(stacked[lab] == v)
    assert truth[f"factor_state[trust,{spec.years[-1]}]"] == params["factor_state"][1, -1]


# ------------------------------------------------------------------- ranks, bands, coverage

def test_rank_counts_draws_below_the_truth():
    draws = np.array([0.1, 0.7, 0.2])
    assert sbc.rank(0.5, draws) == 2
    assert sbc.rank(-1.0, draws) == 0
    assert sbc.rank(1.0, draws) == 3
    tied = [sbc.rank(0.2, np.array([0.2, 0.2, 0.1]), np.random.default_rng(i)) for i in range(50)]
    assert set(tied) == {1, 2, 3}


def test_thin_keeps_evenly_spaced_draws_per_chain():
    x = np.arange(20).reshape(2, 10)
    assert sbc.thin(x, 4).tolist() == [4, 9, 14, 19]
    y = np.zeros((2, 1000, 3))
    assert sbc.thin(y, 100).shape == (100, 3)


def test_ecdf_difference_by_hand():
    z, diff = sbc.ecdf_diff(np.array([0, 1, 2, 3]), 3)
    assert np.allclose(z, [0.25, 0.5, 0.75]) and np.allclose(diff, 0.0)
    z, diff = sbc.ecdf_diff(np.array([0, 0, 0, 3]), 3)
    assert np.allclose(diff, [0.5, 0.25, 0.0])


def test_band_accepts_uniform_ranks_and_rejects_skewed_or_overconfident_ones():
    L, n = 100, 202
    uniform = np.tile(np.arange(L + 1), 2)                       # exactly uniform
    assert sbc.uniformity(uniform, L)["inside_band"]
    rng = np.random.default_rng(7)
    biased = np.minimum((rng.beta(1.0, 1.6, n) * (L + 1)).astype(int), L)   # truth sits low: posterior too high
    res = sbc.uniformity(biased, L)
    assert not res["inside_band"] and res["points_outside"] > 0
    u_shaped = np.where(rng.uniform(size=n) < 0.5, rng.integers(0, 15, n), rng.integers(L - 14, L + 1, n))
    assert not sbc.uniformity(u_shaped, L)["inside_band"]      # posterior too narrow
    with pytest.raises(ValueError):
        sbc.uniformity(np.array([0, L + 1]), L)


def test_band_is_simultaneous():
    """Uniform rank sets fall inside the 95% band about 95% of the time over all points at once
    (a pointwise band would hold far less often), and the band contains the uniform CDF."""
    L, n = 30, 60
    z, lo, hi = sbc.ecdf_band(n, L)
    assert np.all(lo <= z) and np.all(z <= hi)
    rng = np.random.default_rng(8)
    inside = [sbc.uniformity(rng.integers(0, L + 1, n), L, band=(z, lo, hi))["inside_band"] for _ in range(600)]
    assert 0.92 <= np.mean(inside) <= 0.985
    from arviz.stats.ecdf_utils import ecdf_confidence_band

    plo, phi = ecdf_confidence_band(n, z, z, prob=0.95, method="pointwise")
    assert np.all(hi - lo >= phi - plo - 1e-12) and np.any(hi - lo > phi - plo)


def test_coverage_summary_by_hand():
    c = sbc.coverage_summary([True, True, False, False], 0.5)
    assert (c["covered"], c["n"], c["rate"]) == (2, 4, 0.5) and c["nominal_inside_ci"]
    assert c["ci95"][0] < 0.5 < c["ci95"][1]
    c = sbc.coverage_summary([False] * 40, 0.9)
    assert c["rate"] == 0.0 and not c["nominal_inside_ci"]
    assert sbc.central_interval_covers(0.0, np.linspace(-1, 1, 101), 0.5)
    assert not sbc.central_interval_covers(0.9, np.linspace(-1, 1, 101), 0.5)
    assert sbc.central_interval_covers(0.9, np.linspace(-1, 1, 101), 0.9)


# ------------------------------------------------------------------ the script's summary step

def _load_script():
    from scripts import load_script

    return load_script(SCRIPT, "sbc_script")


def test_script_summary_from_records(spec):
    """The results and table the script writes, from synthetic records: a parameter whose ranks
    pile up at the bottom is named outside the band, uniform ones are not, and the sampler-trouble
    split by the true loading spread counts what the records say."""
    script = _load_script()
    labels = sbc.key_parameters(spec)
    L, n = 40, 82
    uniform = np.tile(np.arange(L + 1), 2)
    records = []
    for i in range(n):
        ranks = {lab: int(uniform[(i * 7 + j) % n]) for j, lab in enumerate(labels)}
        ranks["gamma_trust"] = int(i % 5)                              # all truths low: a biased posterior
        records.append({"sim": i, "seed": 100 + i, "n_rank_draws": L, "ranks": ranks,
                        "covered50": {lab: bool(i % 2) for lab in labels},
                        "covered90": {lab: i % 10 != 0 for lab in labels},
                        "truth": {"loading_tau": 0.05 if i < 10 else 0.3},
                        "divergences": 2 if i < 3 else 0, "rhat_max": 1.2 if i < 4 else 1.005,
                        "ess_bulk_min": 20.0 if i < 10 else 400.0, "sample_s": 1.0})
    header = {"settings": {"draws": 1, "tune": 1, "chains": 2, "seed": 0, "rank_draws": L, "target_accept": 0.95,
                           "preset": "default"},
              "git": {"commit": "0" * 40, "dirty": False, "note": ""}, "started_utc": "2000-01-01T00:00:00+00:00",
              "finished_utc": "2000-01-01T00:10:00+00:00", "run_wall_s": 600.0}
    res = script.results(records[::-1], spec, header)
    assert res["outside_band"] == ["gamma_trust"] and res["sims"] == list(range(n))
    assert res["parameters"]["gamma_trust"]["points_outside"] > 0
    assert res["parameters"]["beta_power"]["coverage50"]["covered"] == n // 2
    assert res["parameters"]["beta_power"]["coverage90"]["covered"] == n - len(range(0, n, 10))
    assert res["divergent_simulations"] == {"count": 3, "sims": [0, 1, 2], "total_divergences": 6}
    assert res["rhat_max"]["count_ge_1.05"] == 4 and res["unconverged_simulations"]["count"] == 4
    low, high = res["by_true_loading_tau"]
    assert (low["n"], low["with_divergences"], low["rhat_ge_1.05"], low["median_min_ess_bulk"]) == (10, 3, 4, 20.0)
    assert (high["n"], high["with_divergences"], high["median_min_ess_bulk"]) == (n - 10, 0, 400.0)
    assert res["without_divergent_simulations"]["n"] == n - 3
    assert res["per_simulation"]["divergences"][:4] == [2, 2, 2, 0]          # in simulation order
    assert len(res["per_simulation"]["true_loading_tau"]) == n
    table = script.markdown(res, "python benchmarks/sbc.py")
    assert "| `gamma_trust` |" in table and "**no**" in table and "Outside the band: `gamma_trust`." in table
    assert table.count("**no**") == 1
    json.dumps(res)  # the results file is plain JSON


# --------------------------------------------------------------------- reduced end-to-end run

def reduced(sims: int) -> list[str]:
    return ["--sims", str(sims), "--draws", "100", "--tune", "150", "--chains", "1", "--rank-draws", "50",
            "--seed", "11"]


def run_reduced(tmp_path, sims: int):
    """Run the script with few draws: the pipeline runs from any directory, writes a well-formed
    results file and table that say what the per-simulation records say, and --resume continues
    without redoing work. Returns (results, records)."""
    out = tmp_path / "res" / "sbc.json"
    args = reduced(sims)
    cmd = [sys.executable, str(SCRIPT), *args, "--out", str(out)]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = json.loads(out.read_text())
    assert res["n_simulations"] == sims and res["sims"] == list(range(sims))
    assert len(res["git"]["commit"]) == 40 and res["settings"]["draws"] == 100
    L = res["n_rank_draws"]
    assert L == 50
    assert set(res["ranks"]) == set(res["key_parameters"]) and sbc.LOGLIK in res["ranks"]
    # the summary is what the per-simulation records (the progress file) say, simulation by simulation
    records = sorted((json.loads(line) for line in out.with_suffix(".jsonl").read_text().splitlines()),
                     key=lambda r: r["sim"])
    assert [r["sim"] for r in records] == list(range(sims))
    for lab, ranks in res["ranks"].items():
        assert ranks == [r["ranks"][lab] for r in records] and all(0 <= r <= L for r in ranks), lab
        s = res["parameters"][lab]
        assert s["inside_band"] == sbc.uniformity(np.array(ranks), L)["inside_band"]
        assert s["inside_band"] == (lab not in res["outside_band"])
        for level in (50, 90):
            assert s[f"coverage{level}"] == sbc.coverage_summary([r[f"covered{level}"][lab] for r in records],
                                                                 level / 100), (lab, level)
        # central intervals are nested, so every truth inside the 50% interval is inside the 90% one
        assert all(r["covered90"][lab] for r in records if r["covered50"][lab]), lab
    diverged = [r["sim"] for r in records if r["divergences"] > 0]
    assert res["divergent_simulations"] == {"count": len(diverged), "sims": diverged,
                                            "total_divergences": sum(r["divergences"] for r in records)}
    table = out.with_suffix(".md").read_text()
    assert all(f"`{lab}`" in table for lab in res["key_parameters"])
    # a resumed run with the same settings has nothing left to do and reproduces the ranks
    again = subprocess.run(cmd + ["--resume"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert again.returncode == 0 and f"{sims} simulations done, 0 to run" in again.stdout
    assert json.loads(out.read_text())["ranks"] == res["ranks"]
    # the summary alone, from the progress file, keeps the run's provenance
    summ = subprocess.run([*cmd, "--summarise-only"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert summ.returncode == 0, summ.stderr
    again_res = json.loads(out.read_text())
    assert again_res["ranks"] == res["ranks"] and again_res["started_utc"] == res["started_utc"]
    assert again_res["git"] == res["git"] and again_res["run_wall_s"] > 0
    # a resume with other settings is refused rather than mixing ranks
    other = subprocess.run([*cmd[:2], "--sims", str(sims), "--draws", "200", *args[4:], "--out", str(out), "--resume"],
                           cwd=tmp_path, capture_output=True, text=True, check=False)
    assert other.returncode != 0 and "--resume" in other.stderr
    return res, records


def test_reduced_sbc_run_end_to_end(tmp_path):
    """The default suite's end-to-end run: 3 simulations (one nutpie compile, then seconds each)
    through the whole pipeline, resume and summary. Calibration needs more simulations: the
    20-simulation run below (pytest -m slow) and the longer one check it."""
    run_reduced(tmp_path, 3)


# Issue 5's "reduced run in CI is about 20 simulations": about 65 s of CPU, half of it the one-off
# nutpie compile; moved to -m slow by issue 13 (the default suite must finish in 5 minutes), the
# 3-simulation run above keeps the pipeline in the default suite.
@pytest.mark.slow
def test_reduced_sbc_run_is_roughly_calibrated(tmp_path):
    """About 20 simulations with few draws, the pipeline checks above plus calibration pooled over
    the 22 key quantities (440 truths): a simulator or likelihood that disagreed with the model would
    put truths outside their intervals far more often; the funnel at small loading_tau makes a
    minority of fits diverge (about 14% in the full run), not most."""
    res, records = run_reduced(tmp_path, 20)
    pooled = {key: np.mean([r[key][lab] for r in records for lab in res["key_parameters"]])
              for key in ("covered50", "covered90")}
    assert abs(pooled["covered50"] - 0.5) < 0.12 and 0.78 < pooled["covered90"] < 0.98, pooled
    assert len(res["divergent_simulations"]["sims"]) <= 6


# ------------------------------------------------------------- longer run (pytest -m slow)

# 4 chains x 1000 draws after 1000 tuning, the settings of benchmarks/results/sbc_issue10.md (89 of 100 fits
# converged there). At 2 x 400 after 400 every one of the 60 fits was unconverged (median per-fit R-hat
# 1.024, smallest bulk ESS 2.9; seventh and eighth sessions): ranks among unconverged draws test the
# short chains, not the model, so the test now also asserts that most fits converge.
LONGER = ["--sims", "60", "--draws", "1000", "--tune", "1000", "--chains", "4", "--rank-draws", "100", "--seed", "23"]


@pytest.mark.slow
def test_longer_sbc_run_is_calibrated(tmp_path, spec):
    """60 simulations at 4 chains x 1000 draws (about 13 minutes on 2 cores): the model recovers its own
    prior. With 25 separate 95% simultaneous bands about one miss is expected by chance; pooled over the
    25 key quantities (1500 truths; 22 before the event model's three) the 50% and 90% central intervals cover at their nominal rates;
    each quantity's 90% coverage is consistent with 90% for all but a few; and the known funnel at small
    loading_tau (benchmarks/results/sbc.notes.md) makes a minority of fits diverge."""
    out = tmp_path / "sbc.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), *LONGER, "--out", str(out)], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = json.loads(out.read_text())
    n, labels = res["n_simulations"], res["key_parameters"]
    assert n == 60 and labels == sbc.key_parameters(spec) and len(labels) == 25
    assert res["unconverged_simulations"]["count"] <= 0.2 * n, res["unconverged_simulations"]["count"]
    assert len(res["outside_band"]) <= 3, res["outside_band"]
    for level, tol in ((50, 0.06), (90, 0.05)):
        pooled = np.mean([res["parameters"][lab][f"coverage{level}"]["rate"] for lab in labels])
        assert abs(pooled - level / 100) < tol, (level, pooled)
    off = [lab for lab in labels if not res["parameters"][lab]["coverage90"]["nominal_inside_ci"]]
    assert len(off) <= 3, off
    assert res["divergent_simulations"]["count"] <= 0.3 * n
