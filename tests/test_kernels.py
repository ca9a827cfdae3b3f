"""The model's maths (forecast/model/kernels.py): each kernel against SciPy or PyMC, and the
whole model's log-density written with the kernels against PyMC's ``model.compile_logp()``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats

from forecast import LENSES
from forecast.model import kernels as K
from forecast.model import pytensor_env
from forecast.model.spec import FACTORS

pytensor_env.configure()

PACKAGE = Path(K.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(20240611)


# ----------------------------------------------------------------------- elementary kernels

def test_sigmoid_logit_and_normal_logpdf_match_scipy(rng):
    x = rng.normal(0, 5, 200)
    np.testing.assert_allclose(K.sigmoid(x), special.expit(x), rtol=1e-14, atol=0)
    p = rng.uniform(1e-6, 1 - 1e-6, 200)
    np.testing.assert_allclose(K.logit(p), special.logit(p), rtol=1e-11, atol=1e-13)
    mu, sd = rng.normal(size=200), rng.gamma(2.0, 1.0, 200)
    np.testing.assert_allclose(K.normal_logpdf(x, mu, sd), stats.norm.logpdf(x, mu, sd), rtol=1e-13, atol=1e-13)


def test_softmin_is_a_smooth_minimum(rng):
    a, b = rng.normal(0, 2, 500), rng.normal(0, 2, 500)
    k = K.SOFTMIN_SHARPNESS
    expected = -special.logsumexp(np.stack([-k * a, -k * b]), axis=0) / k
    np.testing.assert_allclose(K.softmin(a, b), expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(K.softmin(a, b), K.softmin(b, a), rtol=0, atol=1e-15)
    assert np.all(K.softmin(a, b) <= np.minimum(a, b))
    assert np.all(np.minimum(a, b) - K.softmin(a, b) <= np.log(2) / k + 1e-12)
    np.testing.assert_allclose(K.softmin(a, b, k=200.0), np.minimum(a, b), atol=np.log(2) / 200)


def test_factor_lens_map_agrees_with_the_factor_names():
    assert len(K.FACTOR_LENS) == len(FACTORS)
    for name, lens in zip(FACTORS, K.FACTOR_LENS):
        assert name.startswith(LENSES[lens])
    assert K.SIDES == (2, 3) and LENSES[K.LEADERS] == "leaders"


def test_lens_from_factors_and_capacity_on_any_axis(rng):
    eta = rng.normal(size=(7, 4, 11))        # (draw, factor, year)
    lens = K.lens_from_factors(eta, axis=1)
    assert lens.shape == (7, 3, 11)
    np.testing.assert_array_equal(lens[:, 0], eta[:, 0])
    np.testing.assert_array_equal(lens[:, 1], eta[:, 1])
    np.testing.assert_allclose(lens[:, 2], eta[:, 2:4].mean(axis=1), rtol=1e-15)
    last = np.moveaxis(eta, 1, -1)           # factor last
    np.testing.assert_array_equal(K.lens_from_factors(last), np.moveaxis(lens, 1, -1))
    np.testing.assert_array_equal(K.lens_from_factors(eta, axis=-2), lens)
    np.testing.assert_array_equal(K.capacity(eta, axis=1), K.softmin(eta[:, 2], eta[:, 3]))
    np.testing.assert_array_equal(K.capacity(last), K.capacity(eta, axis=-2))


def test_shared_kernels_give_the_same_numbers_in_pytensor(rng):
    import pytensor.tensor as pt

    eta = rng.normal(size=(4, 9))
    x = pt.matrix("x")
    np.testing.assert_allclose(K.capacity(x, axis=0, backend=pt).eval({x: eta}), K.capacity(eta, axis=0), rtol=1e-14)
    # the builder's PyTensor form of the lens map
    np.testing.assert_allclose(pt.dot(K.lens_matrix(), x).eval({x: eta}), K.lens_from_factors(eta, axis=0), rtol=1e-14)
    # the builder's matrix forms of the lens map and the one-year lag
    np.testing.assert_allclose(K.lens_matrix() @ eta, K.lens_from_factors(eta, axis=0), rtol=1e-15)
    np.testing.assert_array_equal(K.lens_matrix(), [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0.5, 0.5]])
    np.testing.assert_array_equal(eta @ K.lag_matrix(9), K.lagged(eta))
    rho = rng.uniform(0.1, 0.95, 4)
    v = pt.vector("v")
    np.testing.assert_allclose(K.ar1_innovation_sd(v, backend=pt).eval({v: rho}), K.ar1_innovation_sd(rho),
                               rtol=1e-15)
    np.testing.assert_allclose(K.logit(v, backend=pt).eval({v: rho}), K.logit(rho), rtol=1e-14)


# ----------------------------------------------------------------------------- AR(1)

def test_ar1_logpdf_is_the_stationary_gaussian_process(rng):
    """A stationary unit-variance AR(1) path is multivariate normal with cov rho^|i-j|."""
    T = 8
    for rho in (0.3, 0.8, 0.97):
        eta = rng.normal(size=(5, T))
        cov = rho ** np.abs(np.subtract.outer(np.arange(T), np.arange(T)))
        expected = stats.multivariate_normal(np.zeros(T), cov).logpdf(eta)
        np.testing.assert_allclose(K.ar1_logpdf(eta, np.full(5, rho)), expected, rtol=1e-10)


def test_ar1_step_keeps_unit_variance_and_persistence(rng):
    rho = np.array([0.2, 0.9])
    state = rng.standard_normal((200_000, 2))
    nxt = K.ar1_step(state, rho, rng.standard_normal(state.shape))
    np.testing.assert_allclose(nxt.var(axis=0), 1.0, atol=0.01)
    np.testing.assert_allclose((state * nxt).mean(axis=0), rho, atol=0.01)
    z = rng.standard_normal(3)
    np.testing.assert_allclose(K.ar1_step(np.ones(3), 0.6, z), 0.6 + 0.8 * z, rtol=1e-15)


# ------------------------------------------------------------------------ measurement

def test_measurement_mean_and_log_density(rng):
    K_, F, T, S = 6, 4, 10, 3
    factor = np.array([0, 0, 1, 2, 3, 3])
    obs_k, obs_t = rng.integers(0, K_, 25), rng.integers(0, T, 25)
    a, lam, eta = rng.normal(size=(S, K_)), np.exp(rng.normal(0, 0.3, (S, K_))), rng.normal(size=(S, F, T))
    mean = K.indicator_means(a, lam, eta, factor, obs_k, obs_t)
    by_hand = np.array([[a[s, k] + lam[s, k] * eta[s, factor[k], t] for k, t in zip(obs_k, obs_t)]
                        for s in range(S)])
    np.testing.assert_allclose(mean, by_hand, rtol=1e-15)
    np.testing.assert_allclose(K.indicator_means(a[0], lam[0], eta[0], factor, obs_k, obs_t), by_hand[0], rtol=1e-15)
    # in PyTensor (the builder's graph), states of a static shape
    import pytensor.tensor as pt

    e = pt.tensor("e", shape=(F, T))
    np.testing.assert_allclose(K.indicator_means(a[0], lam[0], e, factor, obs_k, obs_t).eval({e: eta[0]}), by_hand[0],
                               rtol=1e-15)
    with pytest.raises(ValueError, match="static shape"):
        K.indicator_means(a[0], lam[0], pt.matrix("m"), factor, obs_k, obs_t)
    sigma = rng.gamma(4.0, 1 / 12.0, K_)
    x = rng.normal(size=25)
    sd = K.noise_sd(sigma)[obs_k]
    np.testing.assert_allclose(sd, K.NOISE_FLOOR + sigma[obs_k])
    np.testing.assert_allclose(K.measurement_logpdf(x, a[0, obs_k], lam[0, obs_k], eta[0, factor[obs_k], obs_t], sd),
                               stats.norm.logpdf(x, by_hand[0], sd), rtol=1e-13)


# --------------------------------------------------------------------------- outcome

def test_ordered_logistic_matches_pymc(rng):
    import pymc as pm

    eta = rng.normal(0, 2, 40)
    cut = np.array([-2.5, -0.8, 0.8, 2.5]) + rng.normal(0, 0.1, 4)
    y = rng.integers(0, 5, 40)
    p = K.ordered_logistic_probs(eta, cut)
    assert p.shape == (40, 5) and np.all(p > 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-14)
    expected = pm.logp(pm.OrderedLogistic.dist(eta=eta, cutpoints=cut), y).eval()
    np.testing.assert_allclose(K.ordered_logistic_logp(y, eta, cut), expected, rtol=1e-12, atol=1e-12)
    # P(y > j) is one minus the cdf at j; per-draw cutpoints broadcast against eta[..., None]
    np.testing.assert_allclose(K.ordered_logistic_sf(eta[:, None], cut), 1 - K.ordered_logistic_cdf(eta, cut),
                               atol=1e-15)
    # the latent form draws each category with its probability
    draws = K.ordered_logistic_draw(np.full(200_000, eta[0]), cut, rng.logistic(size=200_000))
    np.testing.assert_allclose(np.bincount(draws, minlength=5) / 200_000, p[0], atol=0.005)
    cuts = np.sort(rng.normal(0, 2, (3, 4)), axis=1)
    many = K.ordered_logistic_logp(y[:7], eta[None, :7], cuts[:, None, :])
    assert many.shape == (3, 7)
    np.testing.assert_allclose(many[1], K.ordered_logistic_logp(y[:7], eta[:7], cuts[1]), rtol=1e-15)


def test_masked_ordered_logistic_is_the_probability_of_the_category_in_numpy_and_pytensor(rng):
    """The masked form picks exactly p[y] (the masks add exact zeros), in numpy and in the builder's PyTensor
    form, whose values are PyMC's OrderedLogistic's; with its gradient."""
    import pymc as pm
    import pytensor
    import pytensor.tensor as pt

    eta = rng.normal(0, 2, 60)
    cut = np.array([-2.5, -0.8, 0.8, 2.5]) + rng.normal(0, 0.1, 4)
    y = np.resize(np.arange(5), 60)  # every category, the two open ends included
    p = K.ordered_logistic_probs(eta, cut)
    np.testing.assert_array_equal(K.ordered_logistic_logp(y, eta, cut), np.log(p[np.arange(60), y]))
    e, c = pt.vector("e"), pt.vector("c")
    mine = K.ordered_logistic_logp(pt.as_tensor(y), e, c, backend=pt, n_cutpoints=4)
    pymc = pm.logp(pm.OrderedLogistic.dist(eta=e, cutpoints=c), y)
    f = pytensor.function([e, c], [mine.sum(), *pytensor.grad(mine.sum(), [e, c]),
                                   pymc.sum(), *pytensor.grad(pymc.sum(), [e, c])])
    out = f(eta, cut)
    for a, b in zip(out[:3], out[3:]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out[0], K.ordered_logistic_logp(y, eta, cut).sum(), rtol=1e-13)
    # an underflowed probability has a finite log in numpy
    with np.errstate(over="ignore"):
        assert np.isfinite(K.ordered_logistic_logp(np.array([0]), np.array([800.0]), cut)).all()


def test_dense_ordered_transform_is_pymcs_ordered_transform(rng):
    """Same backward map (numpy kernel and PyTensor), forward map, Jacobian and value-variable name as PyMC's."""
    import pytensor.tensor as pt
    from pymc.distributions.transforms import ordered

    from forecast.model.pymc_terms import DenseOrdered

    y = rng.normal(0, 1, (5, 4))
    expected = np.cumsum(np.concatenate([y[:, :1], np.exp(y[:, 1:])], axis=1), axis=1)
    np.testing.assert_allclose(K.ordered_from_coordinates(y), expected, rtol=1e-14)
    v = pt.matrix("v")
    mine = DenseOrdered(4)
    assert mine.name == ordered.name
    np.testing.assert_allclose(mine.backward(v).eval({v: y}), ordered.backward(v).eval({v: y}), rtol=1e-14)
    np.testing.assert_allclose(mine.forward(pt.as_tensor(expected)).eval(), y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mine.log_jac_det(v).eval({v: y}), ordered.log_jac_det(v).eval({v: y}), rtol=1e-15)
    # the gradient too, for a value variable of unknown length (as PyMC makes it)
    import pytensor

    u, w = pt.vector("u"), rng.normal(size=4)
    grads = pytensor.function([u], [pytensor.grad((t.backward(u) * w).sum(), u) for t in (mine, ordered)])(y[0])
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-14)


def test_event_shift_and_improve_logodds_by_hand(rng):
    E, T, S = 5, 6, 2
    lens_of = np.array([0, 2, 2, 1, 0])
    counts = rng.integers(0, 3, (E, T)).astype(float)
    effect = rng.normal(size=(S, E))
    shift = K.event_shift(effect, lens_of, counts)
    assert shift.shape == (S, 3, T)
    for s in range(S):
        for lens in range(3):
            np.testing.assert_allclose(shift[s, lens], (effect[s, lens_of == lens, None] * counts[lens_of == lens]).sum(0),
                                       atol=1e-14)
    beta, lens_state = rng.normal(size=(S, 3)), rng.normal(size=(S, 3, T))
    lp = K.improve_logodds(beta[:, :, None], lens_state, shift, axis=1)
    np.testing.assert_allclose(lp, np.einsum("sl,slt->st", beta, lens_state + shift), rtol=1e-13)


# ------------------------------------------------------------------------ settlement

def test_hazard_logit_and_bernoulli_match_pymc(rng):
    import pymc as pm

    n = 30
    base = rng.beta(3, 100, n)
    g = np.abs(rng.normal(0, 0.5, (3, n)))
    delta, barrier = np.abs(rng.normal(0, 2, n)), rng.uniform(0, 1, n)
    power, trust, cap = rng.normal(size=(3, n))
    h = K.hazard_logit(K.logit(base), g[0], g[1], g[2], delta, power, trust, cap, barrier)
    np.testing.assert_allclose(h, special.logit(base) + g[0] * power + g[1] * trust + g[2] * cap - delta * barrier,
                               rtol=1e-12, atol=1e-12)
    y = rng.integers(0, 2, n)
    expected = pm.logp(pm.Bernoulli.dist(logit_p=h), y).eval()
    np.testing.assert_allclose(K.bernoulli_logit_logp(y, h), expected, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(K.bernoulli_logit_logp(y, h), stats.bernoulli.logpmf(y, special.expit(h)), rtol=1e-10)
    # stable in the tails, where 1 - expit(x) underflows
    np.testing.assert_allclose(K.bernoulli_logit_logp([0, 1], np.array([800.0, -800.0])), [-800.0, -800.0])


# ---------------------------------------------------- the whole model against PyMC


def test_helmert_columns_is_the_stated_orthonormal_zero_sum_basis():
    """The centred model's state basis: column j is (1, ..., 1 [j times], -j, 0, ...) / sqrt(j (j+1))."""
    from forecast.model.builder import helmert_columns

    s2, s6, s12 = np.sqrt(2.0), np.sqrt(6.0), np.sqrt(12.0)
    expected = np.array([[1 / s2, 1 / s6, 1 / s12],
                         [-1 / s2, 1 / s6, 1 / s12],
                         [0.0, -2 / s6, 1 / s12],
                         [0.0, 0.0, -3 / s12]])
    np.testing.assert_allclose(helmert_columns(4), expected, rtol=1e-15)
    H = helmert_columns(34)
    np.testing.assert_allclose(H.sum(axis=0), 0.0, atol=1e-13)
    np.testing.assert_allclose(H.T @ H, np.eye(33), atol=1e-13)


def _constrained(model, point):
    """Values of the free variables and the log-Jacobian of PyMC's transforms, in numpy."""
    values, log_jac = {}, 0.0
    for rv in model.free_RVs:
        y = np.asarray(point[model.rvs_to_values[rv].name], float)
        kind = type(model.rvs_to_transforms.get(rv)).__name__
        if kind == "NoneType":
            x = y
        elif kind == "LogTransform":
            x = np.exp(y)
            log_jac += y.sum()
        elif kind == "LogOddsTransform":
            x = K.sigmoid(y)
            log_jac += (-np.logaddexp(0.0, -y) - np.logaddexp(0.0, y)).sum()
        elif kind in ("Ordered", "DenseOrdered"):
            x = np.cumsum(np.concatenate([y[:1], np.exp(y[1:])]))
            log_jac += y[1:].sum()
        else:
            raise AssertionError(f"add the {kind} transform to the test")
        values[rv.name] = x
    return values, log_jac


def numpy_model_logp(spec, priors, values) -> float:
    """log p(parameters, data) of ``build_model(spec, "centred")`` written with the kernels and
    ``priors.logpdf``, at constrained values (without Jacobians)."""
    from forecast.model.builder import helmert_columns, loading_basis
    from forecast.model.priors import logpdf

    x = values
    rho, level = x["state_persistence"], x["state_level"]
    eta = level[:, None] + x["state_deviation"] @ helmert_columns(spec.n_years).T
    lp = logpdf(priors["state_persistence"], rho).sum() + K.ar1_logpdf(eta, rho).sum()
    tau, v = x["loading_tau"], x["loading_v"]
    lp += logpdf(priors["loading_tau"], tau) + K.normal_logpdf(v, 0.0, tau).sum()
    loading = np.exp(loading_basis(spec.indicator_factor, len(FACTORS)) @ v)
    intercept = x["indicator_offset"] - loading * level[spec.indicator_factor]
    lp += logpdf(priors["indicator_intercept"], intercept).sum()
    sigma = x["indicator_noise"]
    lp += logpdf(priors["indicator_noise"], sigma).sum()
    k = spec.obs_indicator
    lp += K.measurement_logpdf(spec.obs_value, intercept[k], loading[k], eta[spec.indicator_factor[k], spec.obs_time],
                               K.noise_sd(sigma)[k]).sum()
    effect = x["event_effect"]
    lp += K.normal_logpdf(effect, spec.event_weight, spec.event_weight_sd).sum()
    beta = np.array([x[f"beta_{lens}"] for lens in LENSES])
    lp += sum(logpdf(priors[f"beta_{lens}"], x[f"beta_{lens}"]) for lens in LENSES)
    cut = x["cutpoints"]
    lp += logpdf(priors["cutpoints"], cut).sum()
    lens = K.lens_from_factors(eta, axis=0)
    a, b, kappa = x["event_rate_intercept"], x["event_rate_slope"], x["event_lag_weight"]
    lp += sum(logpdf(priors[n], x[n]).sum() for n in ("event_rate_intercept", "event_rate_slope", "event_lag_weight"))
    log_rate = K.event_log_rate(a[:, None], b[spec.event_lens][:, None], spec.event_sign[:, None],
                                lens[spec.event_lens])
    lp += spec.event_model * K.poisson_logpmf(spec.event_counts, log_rate).sum()
    shift = K.event_shift(effect, spec.event_lens, spec.event_counts)
    improve = K.improve_logodds(beta[:, None], lens, shift + spec.event_lag * kappa * K.lagged(shift), axis=0)
    lp += K.ordered_logistic_logp(spec.change, improve, cut).sum()
    names = ("settlement_base_rate", "gamma_power", "gamma_trust", "gamma_capacity", "delta_barrier")
    base, g_p, g_t, g_c, delta = (x[n] for n in names)
    lp += sum(logpdf(priors[n], x[n]) for n in names)
    hazard = K.hazard_logit(K.logit(base), g_p, g_t, g_c, delta, lens[0], lens[1], K.capacity(eta, axis=0),
                            spec.barrier)
    lp += K.bernoulli_logit_logp(spec.settlement, hazard).sum()
    return float(lp)


@pytest.fixture(scope="module")
def default_spec(tmp_path_factory):
    from forecast.data.loaders import load_dataset
    from forecast.model.priors import load_preset
    from forecast.model.spec import build_spec
    from forecast.workspace import init_workspace

    ws = init_workspace(tmp_path_factory.mktemp("kernels") / "ws")
    return build_spec(load_dataset(ws.data_dir), load_preset(ws.priors_dir, "default"))


def _random_points(model, n, seed):
    """``n`` points in the unconstrained space around PyMC's initial point."""
    r = np.random.default_rng(seed)
    start = model.initial_point()
    return [{name: value + r.normal(0.0, 0.5, np.shape(value)) for name, value in start.items()} for _ in range(n)]


def _logps(spec, cast_policy):
    """The model and its log-density with and without Jacobians, the graphs ``model.compile_logp()``
    and ``model.compile_logp(jacobian=False)`` compile, here compiled once together (a compile of
    this model takes seconds)."""
    import pytensor

    from forecast.model.builder import build_model

    with pytensor.config.change_flags(cast_policy=cast_policy):
        model = build_model(spec, "centred")
        both = model.compile_fn([model.logp(), model.logp(jacobian=False)], inputs=model.value_vars,
                                on_unused_input="ignore")
    return model, lambda point: both(point)[0], lambda point: both(point)[1]


@pytest.mark.parametrize("form", ["contemporaneous", "joint", "joint_lag"])
def test_whole_model_log_density_equals_pymc(default_spec, form):
    """The acceptance test of the kernels: at 6 random points of the unconstrained space, the
    numpy log-density of the whole shipped default model (priors, AR(1) state prior, intercept
    prior, measurement, ordered outcome, settlement hazard; plus the log-Jacobians of PyMC's
    log, log-odds and ordered transforms) equals ``model.compile_logp()`` to 1e-8.

    The model is built with PyTensor's ``numpy+floatX`` cast policy: under its default policy
    PyTensor makes every Python float that float32 represents exactly (0.5, 2.0, 12.0, ...) a
    float32 constant, so the compiled prior constants carry float32 rounding (see the next test)."""
    from dataclasses import replace

    from forecast.validate.sbc import resolved_priors

    spec = replace(default_spec, outcome_form=form)  # each outcome form: its switches as data
    priors = resolved_priors(spec)  # elicited entries resolved once (as the builder resolves them)
    model, logp, logp_nojac = _logps(spec, "numpy+floatX")
    for point in _random_points(model, 6, seed=1):
        values, log_jac = _constrained(model, point)
        mine = numpy_model_logp(spec, priors, values)
        assert np.isfinite(mine)
        assert abs(logp_nojac(point) - mine) < 1e-8
        assert abs(logp(point) - (mine + log_jac)) < 1e-8


def test_whole_model_gradient_matches_finite_differences(default_spec):
    """The log-density tests above compare values; the sampler also needs the gradient. At a random point of the
    unconstrained space, ``model.compile_dlogp()`` equals central differences of ``model.compile_logp()`` in every
    coordinate (a graph whose gradient mishandles a broadcast, as a slice of unknown length did, fails here)."""
    from forecast.model.builder import build_model

    model = build_model(default_spec, "centred")
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    point = _random_points(model, 1, seed=3)[0]
    names = [v.name for v in model.value_vars]
    grad = dlogp(point)
    i, h = 0, 1e-5
    for name in names:
        for j in np.ndindex(np.shape(point[name])):
            up, down = dict(point), dict(point)
            up[name], down[name] = np.array(point[name], float), np.array(point[name], float)
            up[name][j] += h
            down[name][j] -= h
            fd = (logp(up) - logp(down)) / (2 * h)
            assert abs(grad[i] - fd) <= 1e-4 * max(1.0, abs(fd)), (name, j, grad[i], fd)
            i += 1
    assert i == len(grad)


def test_whole_model_log_density_equals_the_sampled_pymc_model(default_spec):
    """The same comparison on the model exactly as nutpie samples it (PyTensor's default cast
    policy): float32 rounding of prior constants (e.g. a Gamma rate of 12 compiled as
    11.99999964) moves its log-density by about 3e-6 against about -2000, so here the numpy
    log-density agrees to 1e-8 relative (and 1e-5 absolute)."""
    from forecast.validate.sbc import resolved_priors

    spec = default_spec
    priors = resolved_priors(spec)
    model, logp, _ = _logps(spec, "custom")
    for point in _random_points(model, 5, seed=2):
        values, log_jac = _constrained(model, point)
        mine = numpy_model_logp(spec, priors, values) + log_jac
        assert abs(logp(point) - mine) <= min(1e-8 * abs(mine), 1e-5)


# ------------------------------------------------------------------- events as observations of the states


def test_poisson_logpmf_matches_scipy_and_pymc(rng):
    import pymc as pm
    import pytensor.tensor as pt

    k = rng.integers(0, 6, size=30).astype(float)
    log_rate = rng.normal(-1.0, 1.5, size=30)
    np.testing.assert_allclose(K.poisson_logpmf(k, log_rate), stats.poisson.logpmf(k, np.exp(log_rate)), rtol=1e-12)
    expected = pm.logp(pm.Poisson.dist(mu=np.exp(log_rate)), k).eval()
    np.testing.assert_allclose(K.poisson_logpmf(k, log_rate), expected, rtol=1e-10)
    np.testing.assert_allclose(K.poisson_logpmf(k, pt.as_tensor(log_rate), backend=pt).eval(), expected, rtol=1e-10)
    # log k! given once (the model's event_log_factorial data) gives the same density
    np.testing.assert_allclose(K.log_factorial(k), special.gammaln(k + 1), rtol=1e-14)
    np.testing.assert_allclose(K.poisson_logpmf(k, pt.as_tensor(log_rate), backend=pt,
                                                log_k_factorial=pt.as_tensor(K.log_factorial(k))).eval(),
                               expected, rtol=1e-10)


def test_new_event_counts_bring_their_log_factorial(default_spec):
    """The model's ``event_log_factorial`` data is log n! of its event counts, and every new ``event_counts``
    given to a compiled model (``fitting.draw(..., data=...)``) brings its own, so the two cannot part."""
    from forecast.model.builder import build_model, with_derived_data

    model = build_model(default_spec, "centred")
    assert np.array_equal(model["event_log_factorial"].get_value(), K.log_factorial(default_spec.event_counts))
    counts = np.array([[0.0, 2.0], [5.0, 1.0]])
    out = with_derived_data({"event_counts": counts, "change": np.zeros(2)})
    np.testing.assert_allclose(out["event_log_factorial"], np.log([[1, 2], [120, 1]]), rtol=1e-14)
    assert "event_log_factorial" not in with_derived_data({"change": np.zeros(2)})


def test_event_log_rate_tilts_cooperative_and_hostile_kinds_opposite_ways():
    a, b = np.array([-2.0, -2.0]), 0.5
    sign = np.array([1.0, -1.0])
    warm, cold = K.event_log_rate(a, b, sign, 1.0), K.event_log_rate(a, b, sign, -1.0)
    np.testing.assert_allclose(warm, [-1.5, -2.5])
    np.testing.assert_allclose(cold, [-2.5, -1.5])


def test_lens_shift_is_event_shift_of_one_year_and_lagged_moves_one_year(rng):
    E, T = 6, 5
    lens = np.array([0, 1, 1, 2, 2, 1])
    effect = rng.normal(size=(3, E))
    counts = rng.integers(0, 3, size=(E, T)).astype(float)
    by_year = K.event_shift(effect, lens, counts)  # (3 draws, 3 lenses, T)
    for t in range(T):
        np.testing.assert_allclose(K.lens_shift(effect, lens, counts[:, t]), by_year[..., t], rtol=1e-13)
    np.testing.assert_array_equal(K.lagged(np.arange(1.0, 5.0)), [0.0, 1.0, 2.0, 3.0])
    assert K.outcome_switches("joint_lag") == (1.0, 1.0) and K.outcome_switches("contemporaneous") == (0.0, 0.0)
    with pytest.raises(ValueError, match="unknown outcome form"):
        K.outcome_switches("lagged")


# ------------------------------------------------------------------- one source only

DEFINITIONS = re.compile(r"^\s*def (\w*softmin\w*|sigmoid|normal_logpdf|lens_from_factors|\w*ordered\w*logp\w*|"
                         r"\w*measurement\w*|indicator_means|ar1_\w+|hazard_logit)\(", re.M)
COPIES = re.compile(r"0\.5 \* \(eta|sqrt\(1(\.0)? - [^)]*rho|(loading|lam)\w*\[[^\]]*\] \* |"
                    r"NOISE_FLOOR = |SOFTMIN_SHARPNESS = |cutpoints?\w*\[[^\]]*\] - \w*(lp|eta)")


def test_no_second_definition_of_the_model_maths():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "kernels.py":
            continue
        src = path.read_text(encoding="utf-8")
        assert not DEFINITIONS.findall(src), (path, DEFINITIONS.findall(src))
        assert not COPIES.findall(src), (path, COPIES.findall(src))
