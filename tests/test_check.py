"""``forecast check`` on the session's real (tiny) fit, and the numpy prior densities it relies on."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from forecast.cli.main import main
from forecast.model.priors import DISTRIBUTIONS, PriorSpec, load_preset, logpdf


@pytest.fixture(scope="module")
def check_json(session_fit):
    ws, _ = session_fit
    r = CliRunner().invoke(main, ["check", "-w", str(ws.root), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_check_json_sections(check_json, session_fit):
    r = check_json
    assert set(r) >= {"mcmc", "predictive", "loo", "sensitivity", "ablation", "outside_view"}
    names = {p["parameter"] for p in r["mcmc"]["parameters"]}
    assert {"beta_power", "cutpoints", "state_persistence", "loading_tau"} <= names
    # predictive: every category and every fitted indicator
    assert [c["change"] for c in r["predictive"]["outcome"]["categories"]] == [-2, -1, 0, 1, 2]
    assert sum(c["observed"] for c in r["predictive"]["outcome"]["categories"]) == 34  # 1992-2025
    assert len(r["predictive"]["indicators"]) == 18
    for row in r["predictive"]["indicators"]:
        assert 0 <= row["coverage50"] <= row["coverage90"] <= 1
    assert r["loo"]["change"]["points"] == 34 and np.isfinite(r["loo"]["change"]["elpd_loo"])
    # the default outcome form observes the event counts: one LOO point per kind and year
    assert r["loo"]["events"]["points"] % 34 == 0 and r["loo"]["events"]["points"] >= 34
    assert np.isfinite(r["loo"]["events"]["elpd_loo"]) and r["loo"]["events"]["elpd_loo"] < 0
    # sensitivity: every preset plus the prior-only row
    presets = [row["preset"] for row in r["sensitivity"]["rows"] if row["method"] != "prior only (no data)"]
    assert sorted(presets) == ["constructivist", "default", "expert-hazard", "realist", "two-level"]
    assert r["sensitivity"]["rows"][-1]["method"] == "prior only (no data)"
    assert [row["switched_off"] for row in r["ablation"]["rows"]] == [None, "power", "trust", "leaders"]


def test_check_reproduces_show_exactly(check_json, session_fit):
    """The fitted row and the full-model ablation row re-project the stored draws with the
    fit's seed: they must equal 'show --json' to the last digit."""
    ws, _ = session_fit
    show = json.loads(CliRunner().invoke(main, ["show", "-w", str(ws.root), "--json"]).stdout)
    fitted = check_json["sensitivity"]["rows"][0]
    assert fitted["method"] == "fitted"
    for key, v in show["probabilities"].items():
        assert fitted["probabilities"][key] == v
        assert check_json["ablation"]["rows"][0]["probabilities"][key] == v
    assert check_json["outside_view"]["model"] == show["probabilities"]["settle_within_10y"]


def test_switching_a_lens_off_moves_it_the_way_its_contribution_says(check_json, session_fit):
    ws, _ = session_fit
    show = json.loads(CliRunner().invoke(main, ["show", "-w", str(ws.root), "--json"]).stdout)
    full = check_json["ablation"]["rows"][0]["probabilities"]["improve_next_year"]["mean"]
    for row in check_json["ablation"]["rows"][1:]:
        contribution = show["lenses"][row["switched_off"]]["contribution"]
        off = row["probabilities"]["improve_next_year"]["mean"]
        if abs(contribution) > 0.05:
            assert np.sign(full - off) == np.sign(contribution), row["switched_off"]


def test_outside_view_matches_the_beta_prior(check_json):
    from forecast.model.priors import load_preset
    from forecast.workspace import default_source

    ov = check_json["outside_view"]
    # Beta(a, b) hazard: E[1 - (1 - h)^10] = 1 - B(a, b + 10) / B(a, b); the means are a / (a + b)
    assert 0.005 < ov["reference_class"]["hazard_mean"] < 0.04
    # the default's base rate is learned from the reference class (no update_with): one outside view,
    # the pooled model's level for the claim, named as such
    p = load_preset(default_source() / "priors")["settlement_base_rate"].resolved_params()
    assert ov["reference_class"]["hazard_mean"] == pytest.approx(p["alpha"] / (p["alpha"] + p["beta"]))
    assert ov["reference_class_given_claim_years"] == ov["reference_class"]
    assert "pooled ICOW reference-class model" in ov["source"]


def test_check_text_and_errors(session_fit, fitted_workspace, workspace):
    ws, _ = session_fit
    r = CliRunner().invoke(main, ["check", "-w", str(ws.root), "--preset", "realist"])
    assert r.exit_code == 0, r.output
    for heading in ("1. MCMC diagnostics", "2. Posterior predictive checks", "3. PSIS-LOO",
                    "4. Prior sensitivity", "5. Lens ablation", "6. Outside view"):
        assert heading in r.output
    assert "realist" in r.output and "prior only (no data)" in r.output
    # no fit
    r = CliRunner().invoke(main, ["check", "-w", str(workspace.root)])
    assert r.exit_code == 1 and "no fit in" in r.output and "Traceback" not in r.output
    # data changed since the fit: a named identity error, not a silent reuse
    with open(fitted_workspace.data_dir / "outcomes.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")
    r = CliRunner().invoke(main, ["check", "-w", str(fitted_workspace.root)])
    assert r.exit_code == 1 and "re-run 'forecast fit'" in r.output


@pytest.mark.parametrize("dist,params,x", [
    ("Normal", {"mu": 0.5, "sigma": 0.3}, [-1.0, 0.2, 2.0]),
    ("HalfNormal", {"sigma": 0.3}, [0.01, 0.5, 1.2]),
    ("LogNormal", {"mu": -0.2, "sigma": 0.5}, [0.1, 1.0, 3.0]),
    ("Gamma", {"alpha": 4.0, "beta": 12.0}, [0.05, 0.3, 1.0]),
    ("Exponential", {"lam": 2.0}, [0.1, 1.0, 4.0]),
    ("Beta", {"alpha": 8.0, "beta": 2.0}, [0.2, 0.8, 0.99]),
    ("TruncatedNormal", {"mu": 0.0, "sigma": 1.0, "lower": -0.5, "upper": 2.0}, [-0.4, 0.0, 1.9]),
])
def test_numpy_prior_density_equals_pymc(dist, params, x):
    """The reweighting in 'check' uses scipy densities; they must be PyMC's densities."""
    import pymc as pm

    spec = PriorSpec(name="p", distribution=dist, params=params, lens="power", rationale="test")
    assert set(params) == set(DISTRIBUTIONS[dist][0])
    expected = pm.logp(getattr(pm, dist).dist(**params), np.array(x)).eval()
    np.testing.assert_allclose(logpdf(spec, x), expected, rtol=1e-5, atol=1e-6)


def test_prior_log_ratio_only_counts_changed_entries(session_fit):
    from forecast.validate.check import Context, prior_log_ratio

    ws, _ = session_fit
    ctx = Context(ws)
    same, changed = prior_log_ratio(ctx, load_preset(ws.priors_dir, "default"))
    assert changed == [] and np.all(same == 0)
    lr, changed = prior_log_ratio(ctx, load_preset(ws.priors_dir, "realist"))
    assert "beta_power" in changed and "cutpoints" not in changed
    # by hand for one draw: sum over the changed entries of log p_realist - log p_default
    other, base = load_preset(ws.priors_dir, "realist"), load_preset(ws.priors_dir, "default")
    by_hand = sum(float(np.sum(logpdf(other[n], ctx.post[n].reshape(len(lr), -1)[0])
                               - logpdf(base[n], ctx.post[n].reshape(len(lr), -1)[0]))) for n in changed)
    assert lr[0] == pytest.approx(by_hand)


def test_loo_event_counts_sum_to_pymcs_event_likelihood(session_fit):
    """The events' pointwise log-likelihood (check's LOO) summed over kinds and years equals the
    PyMC model's own ``event_obs`` term at the same posterior draw (one source for the maths)."""
    import pytensor
    import pytensor.tensor as pt

    from forecast.model.builder import build_model
    from forecast.validate.check import Context, pointwise_loglik

    ws, _ = session_fit
    ctx = Context(ws)
    events = pointwise_loglik(ctx)["events"]                      # (C, D, E*T)
    model = build_model(ctx.spec, "centred")
    inputs = {name: pt.tensor(name, shape=(None,) * ctx.post[name][0, 0].ndim)
              for name in ("factor_state", "event_rate_intercept", "event_rate_slope")}
    term = pytensor.clone_replace(model["event_obs"], {model[n]: v for n, v in inputs.items()})
    fn = pytensor.function(list(inputs.values()), term, on_unused_input="ignore")
    for c, d in ((0, 0), (0, ctx.post["factor_state"].shape[1] - 1)):
        pymc_value = fn(*(ctx.post[n][c, d] for n in inputs))
        assert events[c, d].sum() == pytest.approx(float(pymc_value), rel=1e-10)
