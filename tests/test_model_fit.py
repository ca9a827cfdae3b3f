"""Spec, model, projection and the session's real fit."""

from __future__ import annotations


import numpy as np
import pytest

from forecast.data.loaders import load_dataset
from forecast.errors import ForecastError, IdentityMismatchError
from forecast.model.kernels import sigmoid
from forecast.model.priors import load_preset
from forecast.model.projection import Draws, project, summarise
from forecast.model.spec import FACTORS, build_spec
from forecast.store.posterior import is_stale, load_idata, read_forecast
from forecast.workspace import atomic_write, content_hash


@pytest.fixture
def spec_inputs(workspace):
    return load_dataset(workspace.data_dir), load_preset(workspace.priors_dir, "default")


def test_spec_standardises_and_masks(spec_inputs):
    ds, pr = spec_inputs
    spec = build_spec(ds, pr)
    assert spec.years[0] == 1992 and spec.years[-1] == 2025
    for k in range(len(spec.indicators)):
        v = spec.obs_value[spec.obs_indicator == k]
        assert abs(v.mean()) < 1e-9 and abs(v.std(ddof=1) - 1) < 1e-9
    # every latent factor has data; each lens has at least 4 indicators
    assert set(spec.indicator_factor) == set(range(len(FACTORS)))
    assert np.bincount(spec.indicator_lens).min() >= 4
    # missing cells are simply absent (masked), never filled in
    n_cells = len(spec.indicators) * len(spec.years)
    assert len(spec.obs_value) < n_cells
    assert np.isfinite(spec.obs_value).all()


def test_as_of_uses_only_past_data(spec_inputs):
    ds, pr = spec_inputs
    spec = build_spec(ds, pr, as_of=2016)
    assert spec.years[-1] == 2016
    assert spec.obs_time.max() <= 2016 - 1992
    # altering values after the as-of year changes nothing, standardisation included
    later = ds.values["year"] > 2016
    ds.values.loc[later, "value"] = ds.values.loc[later, "value"] * 3.0
    spec2 = build_spec(ds, pr, as_of=2016)
    np.testing.assert_array_equal(spec.obs_value, spec2.obs_value)
    np.testing.assert_array_equal(spec.center, spec2.center)


def test_as_of_out_of_range(spec_inputs):
    ds, pr = spec_inputs
    with pytest.raises(ForecastError, match="after the last coded outcome year 2025"):
        build_spec(ds, pr, as_of=2030)
    with pytest.raises(ForecastError, match="fewer than 4 coded years"):
        build_spec(ds, pr, as_of=1994)


def test_prior_predictive_is_plausible(spec_inputs):
    from forecast.inference.fitting import _import_pymc
    from forecast.model.builder import build_model

    pm = _import_pymc()
    ds, pr = spec_inputs
    # same joint prior; the non-centred form is fully generative (the centred one uses a Potential)
    model = build_model(build_spec(ds, pr), "noncentred")
    with model:
        prior = pm.sample_prior_predictive(draws=300, random_seed=3, var_names=["change_obs", "settlement_obs"])
    change = prior.prior_predictive["change_obs"].values.ravel()
    freq = np.bincount(change, minlength=5) / change.size
    assert (freq > 0.02).all() and (freq < 0.6).all(), freq
    assert freq[2] > freq[0] and freq[2] > freq[4], "no change should be likelier than a sharp break"
    settle = prior.prior_predictive["settlement_obs"].values.mean()
    assert 0.001 < settle < 0.10, settle


def _draws(S=400, beta=0.0, base=0.02, gamma=0.0, delta=0.0, rho=0.5, eta=0.0):
    F = len(FACTORS)
    return Draws(rho=np.full((S, F), rho), eta_last=np.full((S, F), eta), beta=np.full((S, 3), beta),
                 cutpoints=np.tile([-2.0, -1.0, 1.0, 2.0], (S, 1)), base_rate=np.full(S, base),
                 gamma=np.full((S, 3), gamma), delta=np.full(S, delta))


def test_projection_matches_hand_computation():
    out = project(_draws(), barrier_last=0.0, horizons=(5, 10))
    # beta = 0: P(change >= +1) = 1 - sigmoid(c_2 - 0) = sigmoid(-1)
    np.testing.assert_allclose(out["improve_next_year"], sigmoid(-1.0))
    # gamma = delta = 0: constant hazard 0.02
    np.testing.assert_allclose(out["settle_within_5y"], 1 - 0.98 ** 5)
    np.testing.assert_allclose(out["settle_within_10y"], 1 - 0.98 ** 10)
    np.testing.assert_allclose(out["change_probs"].sum(1), 1.0)


def test_projection_directions():
    base = project(_draws(beta=0.5, gamma=0.5, eta=0.0), 0.0)
    up = project(_draws(beta=0.5, gamma=0.5, eta=1.0), 0.0)
    barred = project(_draws(beta=0.5, gamma=0.5, delta=2.0, eta=1.0), 1.0)
    assert up["improve_next_year"].mean() > base["improve_next_year"].mean()
    assert up["settle_within_10y"].mean() > base["settle_within_10y"].mean()
    assert barred["settle_within_10y"].mean() < up["settle_within_10y"].mean()


def test_summarise_interval_order():
    s = summarise(np.random.default_rng(0).beta(2, 5, 4000))
    assert s.lo95 < s.lo80 < s.mean < s.hi80 < s.hi95


def test_summarise_is_typed_and_its_json_form_is_unchanged():
    """summarise returns an IntervalSummary; to_dict is the form of every JSON output (show --json,
    check --json, ...): these keys in this order, plain floats; headline() what the ledger records."""
    import json

    from forecast.model.projection import IntervalSummary

    x, w = np.random.default_rng(1).beta(2, 5, 500), np.full(500, 1 / 500)
    s = summarise(x, w)
    assert isinstance(s, IntervalSummary)
    d = s.to_dict()
    assert list(d) == ["mean", "lo80", "hi80", "lo95", "hi95"] and all(type(v) is float for v in d.values())
    assert d["mean"] == float(np.sum(w * x))
    assert json.loads(json.dumps(d)) == d
    assert s.headline() == {"mean": d["mean"], "lo80": d["lo80"], "hi80": d["hi80"]}


def test_session_fit_probabilities_and_diagnostics(session_fit):
    ws, report = session_fit
    for key in ("improve_next_year", "settle_within_5y", "settle_within_10y"):
        p = report["probabilities"][key]
        assert 0 < p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"] < 1
    assert report["probabilities"]["settle_within_5y"]["mean"] < report["probabilities"]["settle_within_10y"]["mean"]
    d = report["diagnostics"]
    for key in ("rhat_max", "ess_bulk_min", "ess_tail_min", "divergences", "bfmi_min", "ok"):
        assert key in d
    assert np.isfinite(d["rhat_max"]) and d["chains"] == 2 and d["draws"] == 60
    # 60 draws cannot give 400 effective draws: the verdict must say so
    assert d["ok"] is False and any("ESS" in f for f in d["failures"])


def test_posterior_file_carries_identity(fitted_workspace):
    stored = read_forecast(fitted_workspace)
    a = stored.attrs
    assert a["content_hash"] == content_hash(fitted_workspace)
    assert a["seed"] == 7 and a["preset"] == "default" and a["as_of"] == 2025
    assert a["libraries"]["pymc"] != "not installed" and "arviz" in a["libraries"]
    idata = load_idata(fitted_workspace)
    assert "posterior" in idata.groups() and "forecast" in idata.groups()
    assert idata.posterior.attrs["content_hash"] == a["content_hash"]


def test_changed_data_makes_fit_stale(fitted_workspace):
    ws = fitted_workspace
    p = ws.data_dir / "outcomes.csv"
    p.write_text(p.read_text().replace("2025,0,0,", "2025,-1,0,"))
    stored = read_forecast(ws)
    assert is_stale(ws, stored)
    with pytest.raises(IdentityMismatchError, match="re-run 'forecast fit'"):
        load_idata(ws)


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")

    def boom(tmp):
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


@pytest.mark.slow
def test_full_size_default_fit_passes_every_diagnostic(workspace):
    """The shipped default at the CLI's defaults (4 chains x 2000 draws, 1000 tuning, the default seed),
    without the divergence retry: R-hat < 1.01, bulk and tail ESS >= 400, no divergences, E-BFMI >= 0.3,
    as the README promises; about a minute on 2 idle cores. The stored verdict is recomputed here with
    ArviZ from the posterior file, over every sampled variable."""
    import json

    import arviz as az
    from click.testing import CliRunner

    from forecast.cli.main import main
    from forecast.inference.diagnostics import SKIP

    r = CliRunner().invoke(main, ["fit", "-w", str(workspace.root), "--json", "--no-retry", "--strict"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    d = report["diagnostics"]
    assert (d["chains"], d["draws"]) == (4, 2000)
    assert d["ok"] and d["failures"] == []
    assert d["rhat_max"] < 1.01 and d["ess_bulk_min"] >= 400 and d["ess_tail_min"] >= 400
    assert d["divergences"] == 0 and d["bfmi_min"] >= 0.3

    idata = load_idata(workspace)
    sampled = [v for v in idata.posterior.data_vars if v not in SKIP]  # deterministics are checked through these
    assert {"factor_state", "cutpoints", "loading_v", "event_effect"} <= set(sampled)

    def extreme(ds, fn):
        return fn([float(fn(ds[v].values)) for v in ds.data_vars])

    rhat = extreme(az.rhat(idata, var_names=sampled), np.nanmax)
    assert rhat < 1.01 and rhat == pytest.approx(d["rhat_max"], abs=1e-4)
    ess_bulk = extreme(az.ess(idata, var_names=sampled, method="bulk"), np.nanmin)
    assert ess_bulk >= 400 and ess_bulk == pytest.approx(d["ess_bulk_min"], abs=0.1)
    assert extreme(az.ess(idata, var_names=sampled, method="tail"), np.nanmin) >= 400
    assert int(idata.sample_stats["diverging"].values.sum()) == 0
    for key in ("improve_next_year", "settle_within_5y", "settle_within_10y"):
        p = report["probabilities"][key]
        assert 0 < p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"] < 1


def test_session_compile_cache_hits_only_an_equal_spec(spec_inputs):
    """tests/conftest.py reuses a compiled model only for a spec equal in every field: a changed
    data value, as-of year or prior makes it compile afresh."""
    import dataclasses

    from conftest import CompileCache

    ds, pr = spec_inputs
    compiled = []

    def real(spec, sampler, on_phase, verbose):
        compiled.append(spec)
        return object(), "nutpie", 1.0

    cache = CompileCache(real)
    spec = build_spec(ds, pr)
    first = cache(spec, "nutpie")
    heard = []
    again = cache(build_spec(ds, pr), "nutpie", on_phase=heard.append)
    assert again[0] is first[0] and len(compiled) == 1 and cache.hits == 1
    assert [e.phase for e in heard] == ["build", "build", "compile", "compile"]  # the CLI still hears them
    bumped = spec.obs_value.copy()
    bumped[0] += 1e-12
    other_prior = dataclasses.replace(pr, priors={**pr.priors, "loading_tau": dataclasses.replace(
        pr["loading_tau"], params={k: v * 2 for k, v in pr["loading_tau"].params.items()})})
    for changed in (dataclasses.replace(spec, obs_value=bumped), build_spec(ds, pr, as_of=2016),
                    build_spec(ds, other_prior)):
        assert cache(changed, "nutpie")[0] is not first[0]
    assert cache(spec, "pymc")[0] is not first[0]
    assert len(compiled) == 5 and cache.hits == 1
