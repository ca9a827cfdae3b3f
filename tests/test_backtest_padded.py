"""The backtest's one-compile path: every origin padded to one shape (``model.padded``).

* the padded spec holds the as-of fit's values, value for value, and nothing after as-of;
* every origin has the same model structure (one compile) and only ``pm.Data`` differ;
* the padded model's log-density is the as-of model's: exactly when nothing is padded, and
  independent of the masked placeholders otherwise;
* a tiny seeded backtest fit: padded and per-origin paths agree within Monte Carlo error, and
  one process compiles once for two origins.
"""

from __future__ import annotations

import numpy as np
import pytest

from forecast.data.loaders import load_dataset
from forecast.model.builder import loading_basis
from forecast.model.padded import DATA_FIELDS, NO_CHANGE, build_padded_spec
from forecast.model.priors import load_preset
from forecast.model.spec import FACTORS, build_spec
from forecast.validate import backtest as B


def _specs(ws, as_of):
    ds, priors = load_dataset(ws.data_dir), load_preset(ws.priors_dir)
    return build_spec(ds, priors, as_of), build_padded_spec(ds, priors, as_of)


@pytest.mark.parametrize("as_of", [1999, 2009, 2024])
def test_padded_spec_holds_the_as_of_fit_and_nothing_later(workspace, as_of):
    spec, pad = _specs(workspace, as_of)
    T, n, i = pad.n_years, spec.n_years, pad.as_of_index
    assert i == n - 1 and pad.years[i] == as_of and pad.years[0] == spec.years[0]
    assert set(spec.indicators) <= set(pad.indicators) and not set(spec.skipped) & set(spec.indicators)
    pos = np.array([pad.indicators.index(k) for k in spec.indicators])
    cell = pos[spec.obs_indicator] * T + spec.obs_time
    # the as-of fit's cells, values and indicator metadata, at their place on the grid
    np.testing.assert_array_equal(pad.obs_indicator[cell], pos[spec.obs_indicator])
    np.testing.assert_array_equal(pad.obs_time[cell], spec.obs_time)
    np.testing.assert_array_equal(pad.obs_value[cell], spec.obs_value)
    np.testing.assert_array_equal(pad.indicator_factor[pos], spec.indicator_factor)
    np.testing.assert_array_equal(pad.center[pos], spec.center)
    np.testing.assert_array_equal(pad.scale[pos], spec.scale)
    # ... and nothing else: every other cell is masked and holds 0
    assert pad.obs_weight.sum() == len(cell) and np.all(pad.obs_weight[cell] == 1)
    others = np.setdiff1d(np.arange(len(pad.obs_value)), cell)
    assert np.all(pad.obs_value[others] == 0) and np.all(pad.obs_weight[others] == 0)
    # outcomes, barrier and events up to as-of; neutral placeholders after it
    np.testing.assert_array_equal(pad.year_weight, np.arange(T) <= i)
    np.testing.assert_array_equal(pad.change[:n], spec.change)
    np.testing.assert_array_equal(pad.settlement[:n], spec.settlement)
    np.testing.assert_array_equal(pad.barrier[:n], spec.barrier)
    np.testing.assert_array_equal(pad.event_counts[:, :n], spec.event_counts)
    assert np.all(pad.change[n:] == NO_CHANGE) and np.all(pad.settlement[n:] == 0)
    assert np.all(pad.barrier[n:] == spec.barrier[-1]) and np.all(pad.event_counts[:, n:] == 0)
    # the state coordinates: level = mean over the fitted years, Helmert deviations over them; one
    # prior-only deviation column per padded year
    D, F = pad.state_basis, pad.state_future_column.astype(bool)
    np.testing.assert_allclose(D[:n].sum(axis=0), 0, atol=1e-12)
    assert np.all(D[n:] == 0) and F.sum() == T - n and not F[: n - 1].any() and np.all(D[:, F] == 0)
    assert np.linalg.matrix_rank(np.c_[np.ones(n), D[:n][:, ~F]]) == n  # the fitted years' coordinates span them
    assert pad.state_origin.sum() == 1 and pad.state_origin[i] == 1
    # the loading basis: the as-of fit's basis on its indicators and active columns, zero elsewhere
    active = pad.loading_active.astype(bool)
    np.testing.assert_array_equal(pad.loading_basis[np.ix_(pos, active)],
                                  loading_basis(spec.indicator_factor, len(FACTORS)))
    assert np.all(pad.loading_basis[:, ~active] == 0)
    assert np.all(np.delete(pad.loading_basis, pos, axis=0) == 0)


def test_every_origin_has_one_structure(workspace):
    ds, priors = load_dataset(workspace.data_dir), load_preset(workspace.priors_dir)
    early, late = build_padded_spec(ds, priors, 1997), build_padded_spec(ds, priors, 2024)
    assert early.skipped and not late.skipped  # early origins do skip indicators
    assert early.structure_key() == late.structure_key()
    for name in DATA_FIELDS:
        a, b = early.data()[name], late.data()[name]
        assert a.shape == b.shape and a.dtype == b.dtype, name
    assert not np.array_equal(early.obs_weight, late.obs_weight)
    # prior parameters are graph constants: another preset is another structure
    assert build_padded_spec(ds, load_preset(workspace.priors_dir, "realist"), 2024).structure_key() \
        != late.structure_key()


def test_padded_origin_ignores_every_value_after_its_as_of(workspace):
    """No look-ahead on the padded path: after every value, event and outcome after 2009 is
    altered, origin 2010's padded model data are identical (and so is its structure)."""
    settings = B.Settings()
    before = B.origin_spec(str(workspace.data_dir), str(workspace.priors_dir), 2010, settings, [])
    _alter_after(workspace.data_dir, 2009)
    after = B.origin_spec(str(workspace.data_dir), str(workspace.priors_dir), 2010, settings, [])
    assert load_dataset(workspace.data_dir).outcomes.set_index("year").loc[2010, "change"] == 2  # altered
    assert before.structure_key() == after.structure_key()
    for name, value in before.data().items():
        np.testing.assert_array_equal(value, after.data()[name], err_msg=name)
    for name in ("center", "scale"):
        np.testing.assert_array_equal(getattr(before, name), getattr(after, name), err_msg=name)


def _alter_after(data_dir, year: int) -> None:
    """Reverse each indicator's values after ``year``, drop later events, flip later outcomes."""
    import csv

    def rewrite(name, fn):
        with open(data_dir / name, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        fields = list(rows[0])
        with open(data_dir / name, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            w.writerows(fn(rows))

    def reverse_later(rows):
        later: dict = {}
        for r in rows:
            if int(r["year"]) > year:
                later.setdefault(r["indicator"], []).append(r)
        for group in later.values():
            for r, v in zip(group, [r["value"] for r in group][::-1]):
                r["value"] = v
        return rows

    def flip_later(rows):
        for r in rows:
            if int(r["year"]) > year:
                r["change"] = str(-int(r["change"]))
        return rows

    rewrite("indicators.csv", reverse_later)
    rewrite("events.csv", lambda rows: [r for r in rows if int(r["date"][:4]) <= year])
    rewrite("outcomes.csv", flip_later)


def _logp_fn(spec):
    """The model's log-density as a function of (point, data values)."""
    import pymc as pm

    from forecast.model.builder import build_model

    model = build_model(spec, "centred")
    fn = model.compile_logp()

    def logp(point, data=None):
        with model:
            pm.set_data(data or {})
        return float(fn(point))
    return model, logp


def test_padded_density_is_the_as_of_models(workspace):
    """At the last year nothing is padded but the grid's empty cells: the padded model (masks,
    Potentials, basis as data) has the ordinary model's free variables and log-density."""
    spec, pad = _specs(workspace, 2025)
    model, logp = _logp_fn(spec)
    pmodel, plogp = _logp_fn(pad)
    assert pad.loading_active.all() and pad.year_weight.all()
    assert [v.name for v in model.value_vars] == [v.name for v in pmodel.value_vars]
    r = np.random.default_rng(5)
    for _ in range(3):
        point = {k: v + r.normal(0, 0.5, np.shape(v)) for k, v in model.initial_point().items()}
        assert plogp(point) == pytest.approx(logp(point), rel=1e-10, abs=1e-8)


def test_masked_placeholders_do_not_enter_the_density(workspace):
    import pymc as pm

    _, pad = _specs(workspace, 2004)
    model, logp = _logp_fn(pad)
    point = model.initial_point()
    r = np.random.default_rng(6)
    base = logp(point)
    masked = pad.obs_weight == 0
    later = pad.year_weight == 0
    change = pad.change.copy()
    change[later] = r.integers(0, 5, later.sum())
    other = {"obs_value": np.where(masked, r.normal(0, 3, masked.size), pad.obs_value), "change": change,
             "settlement": np.where(later, 1, pad.settlement)}
    assert logp(point, other) == pytest.approx(base, abs=1e-9)
    # padded years hold the state at as-of, and their deviation columns are N(0, 1) that nothing else reads
    point = {k: v + r.normal(0, 0.5, np.shape(v)) for k, v in point.items()}
    with model:
        pm.set_data(pad.data())
    state = model.replace_rvs_by_values([model["factor_state"]])[0]
    eta = model.compile_fn(state, inputs=model.value_vars, on_unused_input="ignore")(point)
    n = pad.as_of_index + 1
    np.testing.assert_array_equal(eta[:, n:], np.repeat(eta[:, n - 1:n], pad.n_years - n, axis=1))
    free = pad.state_future_column.astype(bool)
    moved = point["state_deviation"].copy()
    moved[:, free] += r.normal(0, 1, (moved.shape[0], free.sum()))
    prior = lambda dev: -0.5 * (dev[:, free] ** 2).sum()  # noqa: E731
    assert logp({**point, "state_deviation": moved}) - logp(point) == pytest.approx(
        prior(moved) - prior(point["state_deviation"]), abs=1e-8)
    seen = pad.obs_value.copy()
    seen[np.flatnonzero(~masked)[0]] += 1.0
    assert logp(point, {**pad.data(), "obs_value": seen}) != pytest.approx(base, abs=1e-6)  # a seen cell counts


def test_padded_and_per_origin_paths_agree(workspace, monkeypatch):
    """Two origins, tiny seeded fits: one compile serves both padded origins, and the padded
    P(improve) agrees with the per-origin (as-of model) fit within 4 Monte Carlo standard errors
    (se from each run's 80% interval width and the bulk ESS of the scored P(improve)): the two
    models have the same posterior up to as-of but different parameters, so the same seed gives
    different draws, and only Monte Carlo agreement can be asked for."""
    from forecast.inference import fitting

    calls = []
    real = fitting.compile_model
    monkeypatch.setattr(fitting, "compile_model", lambda spec, *a, **k: calls.append(spec) or real(spec, *a, **k))
    monkeypatch.setattr(B, "_COMPILED", {})
    settings = B.Settings(draws=150, tune=200, chains=2, seed=17, single_lens=False)
    args = (str(workspace.data_dir), str(workspace.priors_dir))
    padded = [B.origin_forecast(*args, y, settings, []) for y in (2005, 2015)]
    assert len(calls) == 1 and [o["compiled"] for o in padded] == [True, False]
    assert padded[1]["compile_s"] == 0
    for o in padded[1:]:  # 2015 (at 2005 the as-of fit's loading_tau mixes badly: ESS 7 at 1000 draws)
        spec = B.origin_spec(*args, o["year"], settings, [], padded=False)
        compiled, used, _ = real(spec, settings.sampler)
        old = B.variant_forecasts(spec, compiled, used, settings)["model"]
        new = o["variants"]["model"]

        def se(v):
            return (v["hi80"] - v["lo80"]) / 2.563 / np.sqrt(v["scored_quantity"]["ess_bulk"])
        assert abs(new["p_improve"] - old["p_improve"]) < 4 * np.hypot(se(new), se(old)), (o["year"], new, old)
        assert 0 < new["p_improve"] < 1 and sum(new["p_change"]) == pytest.approx(1)


@pytest.mark.parametrize("padded", [False, True])
def test_every_model_data_container_has_a_static_shape(workspace, padded):
    """Static shapes keep run-time shape checks, and with them a process-dependent choice among equal
    lengths, out of the compiled graph (``builder.static_data``)."""
    from forecast.model.builder import build_model

    ds, priors = load_dataset(workspace.data_dir), load_preset(workspace.priors_dir)
    spec = build_padded_spec(ds, priors, 2005) if padded else build_spec(ds, priors, 2005)
    model = build_model(spec, "centred")
    assert len(model.data_vars) >= (15 if padded else 9)
    for v in model.data_vars:
        assert v.type.shape == v.get_value().shape, v.name


KEYS_SCRIPT = """
import json
from pathlib import Path
from forecast.model import pytensor_env
pytensor_env.configure()
from forecast.data.loaders import load_dataset
from forecast.inference.compiled import graph_keys
from forecast.model.builder import build_model
from forecast.model.padded import build_padded_spec
from forecast.model.priors import load_preset
from forecast.model.spec import build_spec
ws = Path({ws!r})
ds, priors = load_dataset(ws / "data"), load_preset(ws / "priors")
print(json.dumps({{"padded": graph_keys(build_model(build_padded_spec(ds, priors, 2005), "centred")),
                  "plain": graph_keys(build_model(build_spec(ds, priors, 2005), "centred"))}}))
"""


def test_two_processes_compile_one_graph(workspace):
    """The compile cache's key is the rewritten graph's: two processes building the same models must
    arrive at the same graphs, or each backtest worker compiles its padded model anew (~50 s; before
    static shapes, three processes gave three keys)."""
    from processes import json_from_two_processes

    keys = json_from_two_processes(KEYS_SCRIPT.format(ws=str(workspace.root)))
    assert keys[0] == keys[1]
    assert all(k is not None for model in keys[0].values() for k in model.values()), keys[0]


def test_new_data_must_keep_the_compiled_shapes(workspace):
    from forecast.inference.fitting import check_data_shapes, data_shapes
    from forecast.model.builder import build_model

    ds, priors = load_dataset(workspace.data_dir), load_preset(workspace.priors_dir)
    pad = build_padded_spec(ds, priors, 2005)
    shapes = data_shapes(build_model(pad, "centred"), "pymc")
    assert shapes["event_counts"] == pad.event_counts.shape and shapes["obs_value"] == pad.obs_value.shape
    check_data_shapes(shapes, pad.data())  # another origin's data: the same shapes
    with pytest.raises(ValueError, match=rf"'obs_value' have shape \(3,\).*\({len(pad.obs_value)},\)"):
        check_data_shapes(shapes, {**pad.data(), "obs_value": np.zeros(3)})
