"""The deterministics computed after sampling (``inference.deterministics``): nutpie stores the free
variables only, so every deterministic a fit stores comes from ``Deterministics``. They must be the
model's own values: checked against the PyMC model's graph evaluated draw by draw, for the shipped
model and for a padded backtest model sampled with another origin's data (``with_data``)."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.data.loaders import load_dataset
from forecast.inference.deterministics import Deterministics, stored_names
from forecast.inference.fitting import PARAMETERISATION
from forecast.model.builder import build_model
from forecast.model.padded import build_padded_spec
from forecast.model.priors import load_preset
from forecast.model.spec import build_spec
from forecast.workspace import init_workspace


def _draws(model, n_chains=2, n_draws=3, seed=0):
    """Random values of every free variable, shaped (chain, draw, ...). Positive, so that every
    transform's domain is respected; the function under test does not care what they mean."""
    rng = np.random.default_rng(seed)
    return {rv.name: np.abs(rng.normal(size=(n_chains, n_draws, *tuple(rv.shape.eval())))) + 0.05
            for rv in model.free_RVs}


def _per_draw(model, draws, data=None):
    """The model's deterministics evaluated one draw at a time through PyMC (no vectorising)."""
    import pymc as pm

    if data:
        with model:
            pm.set_data(data)
    fn = model.compile_fn(inputs=model.free_RVs, outs=list(model.deterministics), mode="FAST_COMPILE",
                          on_unused_input="ignore", point_fn=False)
    names = [rv.name for rv in model.free_RVs]
    c, d = draws[names[0]].shape[:2]
    out = {det.name: [] for det in model.deterministics}
    for i in range(c):
        for j in range(d):
            vals = fn(*[draws[n][i, j] for n in names])
            for det, v in zip(model.deterministics, vals):
                out[det.name].append(np.asarray(v))
    return {k: np.stack(v).reshape(c, d, *v[0].shape) for k, v in out.items()}


@pytest.fixture(scope="module")
def default_model(tmp_path_factory):
    ws = init_workspace(tmp_path_factory.mktemp("det") / "ws")
    spec = build_spec(load_dataset(ws.data_dir), load_preset(ws.priors_dir), None)
    return build_model(spec, PARAMETERISATION)


def test_the_sampler_stores_the_free_variables_only(default_model):
    assert stored_names(default_model) == [rv.name for rv in default_model.free_RVs]
    det = {d.name for d in default_model.deterministics}
    assert {"factor_state", "lens_state", "event_shift", "improve_logodds"} <= det
    assert not det & set(stored_names(default_model))


def test_the_shipped_models_deterministics_equal_pymcs(default_model):
    draws = _draws(default_model)
    ours = Deterministics(default_model).values(draws)
    theirs = _per_draw(default_model, draws)
    assert set(ours) == set(theirs)
    for name in theirs:
        assert ours[name].shape == theirs[name].shape, name
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-12, atol=1e-12, err_msg=name)


def test_new_data_give_that_datas_deterministics(workspace):
    """A padded model compiled for one origin and given another origin's pm.Data (the backtest)
    gets the other origin's deterministics, not the compiled ones."""
    ds, priors = load_dataset(workspace.data_dir), load_preset(workspace.priors_dir)
    early, late = build_padded_spec(ds, priors, 2005), build_padded_spec(ds, priors, 2020)
    model_early = build_model(early, PARAMETERISATION)
    draws = _draws(model_early, seed=1)
    det = Deterministics(model_early)
    with_late = det.values(draws, data=late.data())
    theirs = _per_draw(build_model(late, PARAMETERISATION), draws)
    for name in theirs:
        np.testing.assert_allclose(with_late[name], theirs[name], rtol=1e-12, atol=1e-12, err_msg=name)
    # and the data did matter: the origin's state basis moves the states
    assert not np.allclose(det.values(draws)["factor_state"], with_late["factor_state"])


def test_complete_adds_them_with_the_models_dims(default_model):
    import arviz as az

    draws = _draws(default_model)
    idata = az.from_dict(posterior=draws)
    Deterministics(default_model).complete(idata)
    for d in default_model.deterministics:
        dims = default_model.named_vars_to_dims[d.name]
        assert idata.posterior[d.name].dims == ("chain", "draw", *dims)
        for dim in dims:
            assert list(idata.posterior[d.name][dim].values) == list(default_model.coords[dim])


def test_the_reference_models_deterministics_equal_pymcs():
    """The pooled settlement model (``forecast reference``) stores its deterministics the same way."""
    from forecast.reference.design import training_rows
    from forecast.reference.fit import design
    from forecast.reference.model import build_reference_model
    from forecast.reference.simulate import simulate_claim_years

    d = design(training_rows(simulate_claim_years(11, n_claims=30).frame, 1950))[0]
    model = build_reference_model(d)
    assert model.deterministics, "the reference model has deterministics to check"
    draws = _draws(model, seed=2)
    ours, theirs = Deterministics(model).values(draws), _per_draw(model, draws)
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-12, atol=1e-12, err_msg=name)
