"""Build the hierarchical PyMC model from a ModelSpec (the only module that does).

Structure
---------
* Four latent yearly factors (power, trust, leaders_side_a, leaders_side_b), each a
  stationary AR(1) with unit marginal variance. Positive loadings on
  direction-aligned indicators pin their sign; log loadings summing to zero within
  each factor pin their scale.
* Indicators: x[k,t] ~ Normal(a_k + lambda_k * eta[f(k), t], 0.1 + sigma_k), observed
  cells only (missing values are masked by index arrays, never imputed by hand).
  log lambda ~ ZeroSumNormal(tau) within each factor: loadings partially pooled.

Geometry (measured, see README "Sampler geometry"): the centred form samples each
state as a level plus zero-sum deviations and shears the intercepts by the level,
which removes the ridge between a persistent state's level and its indicators'
intercepts; a zero-avoiding noise prior removes a second mode in a leaders factor.
* Lens states: power, trust, and leaders = mean of the two sides.
* Events: each coded happening of kind e shifts its lens by w_e in its year,
  w_e ~ Normal(catalogue weight, catalogue sd) (data/event_kinds.csv).
* Event counts (outcome forms joint, joint_lag; the ``event_model`` switch): n[e,t] ~
  Poisson(exp(a_e + b_l(e) s_e L[l(e),t])), s_e the sign of the kind's catalogue weight, so the events
  observe the lens states and the forecast year's events can be simulated (projection.py).
* Relationship change (5 categories) ~ OrderedLogistic(sum_l m_l beta_l (L[l,t] + E[l,t]
  + g kappa E[l,t-1]), cutpoints), with the lens mask m = (1, 1, 1) except in single-lens baselines
  and the lag switch g = 1 in the joint_lag form only.
* Settlement ~ Bernoulli(logit(base) + g_p L_power + g_t L_trust
  + g_c softmin(eta_side_a, eta_side_b) - delta * barrier).
"""

from __future__ import annotations

import numpy as np

from forecast import LENSES
from forecast.model.kernels import (NOISE_FLOOR, ar1_innovation_sd, capacity, event_log_rate, hazard_logit,
                                    improve_logodds, indicator_means, lag_matrix, lens_matrix, log_factorial, logit,
                                    noise_sd, poisson_logpmf)
from forecast.model.priors import prior_logp, to_pymc
from forecast.model.spec import FACTORS, ModelSpec

PARAMETERISATIONS = ("noncentred", "centred")


def zero_sum_basis(n: int) -> np.ndarray:
    """(n, n-1) orthonormal basis of the vectors that sum to zero (Helmert)."""
    q, _ = np.linalg.qr(np.eye(n) - 1.0 / n)
    h = q[:, : n - 1]
    assert np.allclose(h.sum(0), 0) and np.allclose(h.T @ h, np.eye(n - 1))
    return h


def helmert_columns(n: int) -> np.ndarray:
    """(n, n-1): column j (1..n-1) is (1, ..., 1 [j times], -j, 0, ...) / sqrt(j (j+1)), the basis the
    centred model applies to its state deviations (``build_model``)."""
    H = np.zeros((n, n - 1))
    for j in range(1, n):
        H[:j, j - 1] = 1.0
        H[j, j - 1] = -j
        H[:, j - 1] /= np.sqrt(j * (j + 1.0))
    return H


def loading_basis(indicator_factor: np.ndarray, n_factors: int) -> np.ndarray:
    """(K, K - F) block basis: orthonormal zero-sum directions within each factor's indicators."""
    K = len(indicator_factor)
    cols = []
    for f in range(n_factors):
        idx = np.flatnonzero(indicator_factor == f)
        if len(idx) < 2:
            continue
        h = zero_sum_basis(len(idx))
        block = np.zeros((K, len(idx) - 1))
        block[idx] = h
        cols.append(block)
    return np.concatenate(cols, axis=1)


def _observe(name: str, dist, observed, weight, dims: str, **params):
    """The likelihood of ``observed`` under ``dist(**params)``: an observed variable, or, for a
    padded spec (``weight`` given, 0/1 per element), the weighted log-density as a Potential, so
    masked elements contribute nothing (``forecast.model.padded``)."""
    import pymc as pm

    if weight is None:
        return dist(name, observed=observed, dims=dims, **params)
    return pm.Potential(name, (weight * pm.logp(dist.dist(**params), observed)).sum())


def static_data(name: str, value, dims=None):
    """``pm.Data(name, value, dims=dims)`` with the value's shape as the container's *static* shape.

    With unknown shapes PyTensor keeps run-time shape checks in the log-density (``Shape_i``, ``Assert``,
    ``MakeVector`` nodes), and which of several equal-length containers a check reads is decided by the
    order of its rewrites, which differs from process to process. The compiled graph, and with it the
    compile cache's key (``inference.compiled``), then differed between two processes compiling the same
    padded model: every backtest worker recompiled it (~50 s) instead of loading it. New values of a
    container must keep its shape (``fitting.draw`` checks)."""
    import pymc as pm

    value = np.asarray(value)
    return pm.Data(name, value, dims=dims, shape=value.shape)


def with_derived_data(data: dict) -> dict:
    """``data`` (new values of the model's ``pm.Data``) plus the containers derived from them: the
    ``event_log_factorial`` of new ``event_counts``."""
    if "event_counts" in data and "event_log_factorial" not in data:
        return {**data, "event_log_factorial": log_factorial(data["event_counts"])}
    return data


def build_model(spec: ModelSpec, parameterisation: str = "noncentred"):
    """The PyMC model of ``spec``; a ``padded.PaddedSpec`` adds its masks and per-origin loading
    basis as ``pm.Data`` (the model is otherwise the same)."""
    import pymc as pm
    import pytensor.tensor as pt

    from forecast.model.padded import PaddedSpec
    from forecast.model.pymc_terms import DenseOrdered, OrderedOutcome

    if parameterisation not in PARAMETERISATIONS:
        raise ValueError(f"parameterisation must be one of {PARAMETERISATIONS}")
    T = spec.n_years
    P = spec.priors
    coords = {
        "factor": list(FACTORS), "lens": list(LENSES), "year": spec.years.tolist(),
        "indicator": spec.indicators, "obs": np.arange(len(spec.obs_value)), "cut": np.arange(4),
        "kind": spec.event_kinds,
    }
    # check_bounds=False: PyMC leaves out its parameter checks (sigma > 0, p in [0, 1], ...). Every free
    # variable here is continuous and valid everywhere after its transform, so the checks cannot fire; they
    # cost ~6% of a log-density evaluation (benchmarks/results/fit.md, tenth session).
    with pm.Model(coords=coords, check_bounds=False) as model:
        obs_value = static_data("obs_value", spec.obs_value, dims="obs")
        change = static_data("change", spec.change, dims="year")
        settlement = static_data("settlement", spec.settlement, dims="year")
        barrier = static_data("barrier", spec.barrier, dims="year")
        padded = isinstance(spec, PaddedSpec)
        obs_weight = static_data("obs_weight", spec.obs_weight, dims="obs") if padded else None
        year_weight = static_data("year_weight", spec.year_weight, dims="year") if padded else None

        # --- latent dynamics
        rho = to_pymc(P["state_persistence"], dims="factor")
        if parameterisation == "noncentred":
            eps = pm.Normal("state_innovation", 0.0, 1.0, dims=("factor", "year"))
            t = np.arange(T)
            lag = t[:, None] - t[None, :]
            mask = (lag >= 0).astype(float)
            powers = rho[:, None, None] ** np.clip(lag, 0, None)[None] * mask[None]
            c = pt.concatenate([pt.ones((len(FACTORS), 1)),
                                pt.repeat(ar1_innovation_sd(rho, backend=pt)[:, None], T - 1, axis=1)], axis=1)
            eta = pm.Deterministic("factor_state", (powers * (c * eps)[:, None, :]).sum(axis=2),
                                   dims=("factor", "year"))
        else:
            # centred AR(1) in level/deviation coordinates: eta[f] = level[f] + H @ dev[f]
            # with H an orthonormal basis of the zero-sum subspace (constant Jacobian).
            level = pm.Flat("state_level", dims="factor")
            dev = pm.Flat("state_deviation", shape=(len(FACTORS), T - 1))
            # Helmert basis (helmert_columns) as a dense product: the cumulative sums it stands for cost 6-14%
            # more per gradient evaluation (benchmarks/results/fit.md, twelfth session)
            if padded:  # fitted years centred; padded years hold the state at as-of (padded.padded_state_basis)
                past = level[:, None] + pt.dot(dev, static_data("state_basis", spec.state_basis).T)
                origin = pt.dot(past, static_data("state_origin", spec.state_origin))
                state = year_weight[None, :] * past + (1.0 - year_weight[None, :]) * origin[:, None]
            else:
                state = level[:, None] + pt.dot(dev, helmert_columns(T).T)
            eta = pm.Deterministic("factor_state", state, dims=("factor", "year"))
            innov_sd = ar1_innovation_sd(rho, backend=pt)[:, None]
            transitions = pm.logp(pm.Normal.dist(rho[:, None] * eta[:, :-1], innov_sd), eta[:, 1:])
            if padded:  # AR(1) density over the fitted years; the unused deviation columns ~ N(0, 1)
                transitions = transitions * year_weight[None, 1:]
                pm.Potential("state_padding", (pm.logp(pm.Normal.dist(0, 1), dev)
                                               * static_data("state_future_column", spec.state_future_column)).sum())
            pm.Potential("state_prior", pm.logp(pm.Normal.dist(0, 1), eta[:, 0]).sum() + transitions.sum())

        # the kernels' matrix forms (lens_matrix, lag_matrix), the outcome's masked density and the dense ordered
        # transform (pymc_terms) keep concatenations, cumulative sums and two-index gathers out of the graph: the
        # compile on a fresh machine takes ~25% less time (benchmarks/results/fit.md, thirteenth session)
        lens_state = pm.Deterministic("lens_state", pt.dot(lens_matrix(), eta), dims=("lens", "year"))

        # --- measurement: partially pooled loadings within each factor
        loading_tau = to_pymc(P["loading_tau"])
        # Log loadings sum to zero within each factor (geometric-mean loading exactly 1; the
        # ZeroSumNormal(tau) of the iid pooled prior), so the common loading scale cannot trade
        # off against the scale of a persistent state. B: orthonormal zero-sum basis per factor.
        # Centred in the log loadings: the data pin them well; the non-centred form left a tau funnel.
        if padded:  # the origin's basis; coordinates outside it are prior-only N(0, 1)
            n_v = spec.loading_basis.shape[1]
            B = static_data("loading_basis", spec.loading_basis)
            active = static_data("loading_active", spec.loading_active)
            v = pm.Normal("loading_v", 0.0, pt.switch(pt.gt(active, 0), loading_tau, 1.0), shape=n_v)
        else:
            B = loading_basis(spec.indicator_factor, len(FACTORS))
            v = pm.Normal("loading_v", 0.0, loading_tau, shape=B.shape[1])
        log_loading = (B * v[None, :]).sum(1)
        loading = pm.Deterministic("loading", pt.exp(log_loading), dims="indicator")
        if parameterisation == "centred":
            # sheared intercepts: a_k = c_k - lambda_k * level[f(k)] (unit Jacobian), so that moving a
            # state's level no longer drags every intercept of its indicators along (the power ridge)
            c_int = pm.Flat("indicator_offset", dims="indicator")
            intercept = pm.Deterministic("indicator_intercept",
                                         c_int - loading * level[spec.indicator_factor], dims="indicator")
            pm.Potential("intercept_prior", prior_logp(P["indicator_intercept"], intercept).sum())
        else:
            intercept = to_pymc(P["indicator_intercept"], dims="indicator")
        noise = noise_sd(to_pymc(P["indicator_noise"], dims="indicator"), NOISE_FLOOR)
        mean = indicator_means(intercept, loading, eta, spec.indicator_factor, spec.obs_indicator, spec.obs_time)
        _observe("indicator_obs", pm.Normal, obs_value, obs_weight, "obs", mu=mean, sigma=noise[spec.obs_indicator])

        # --- coded events: each kind shifts its lens in the year it happens (catalogue prior)
        event_counts = static_data("event_counts", spec.event_counts, dims=("kind", "year"))
        effect = pm.Normal("event_effect", spec.event_weight, spec.event_weight_sd, dims="kind")
        lens_onehot = np.eye(len(LENSES))[spec.event_lens].T  # (3, E)
        event_shift = pm.Deterministic("event_shift", pt.dot(lens_onehot * effect[None, :], event_counts),
                                       dims=("lens", "year"))
        # events as observations of the lens states (switched on by the outcome form, data: no recompile)
        event_model = static_data("event_model", spec.event_model)
        event_lag = static_data("event_lag", spec.event_lag)
        rate_a = to_pymc(P["event_rate_intercept"], dims="kind")
        rate_b = to_pymc(P["event_rate_slope"], dims="lens")
        kappa = to_pymc(P["event_lag_weight"])
        log_rate = event_log_rate(rate_a[:, None], rate_b[spec.event_lens][:, None], spec.event_sign[:, None],
                                  lens_state[spec.event_lens])
        log_fact = static_data("event_log_factorial", spec.event_log_factorial, dims=("kind", "year"))
        count_lp = poisson_logpmf(event_counts, log_rate, backend=pt, log_k_factorial=log_fact)
        if padded:
            count_lp = count_lp * year_weight[None, :]
        pm.Potential("event_obs", event_model * count_lp.sum())

        # --- relationship change: ordered logistic on lens states (plus the year's events)
        betas = pt.stack([to_pymc(P[f"beta_{lens}"]) for lens in LENSES])
        cut_spec = P["cutpoints"]
        cutpoints = to_pymc(cut_spec, dims="cut", transform=DenseOrdered(len(coords["cut"])),
                            initval=np.asarray(cut_spec.resolved_params()["mu"]))
        # lens_mask switches lenses out of the outcome (single-lens baselines, ablation) without a recompile
        lens_mask = static_data("lens_mask", np.ones(len(LENSES)), dims="lens")
        improve_lp = pm.Deterministic("improve_logodds",
                                      improve_logodds((betas * lens_mask)[:, None], lens_state,
                                                      event_shift + event_lag * kappa * pt.dot(event_shift, lag_matrix(T)),
                                                      axis=0),
                                      dims="year")
        _observe("change_obs", OrderedOutcome, change, year_weight, "year", eta=improve_lp, cutpoints=cutpoints,
                 n_cutpoints=len(coords["cut"]))

        # --- settlement hazard
        base = to_pymc(P["settlement_base_rate"])
        g_p, g_t = to_pymc(P["gamma_power"]), to_pymc(P["gamma_trust"])
        g_c, delta = to_pymc(P["gamma_capacity"]), to_pymc(P["delta_barrier"])
        cap = pm.Deterministic("capacity", capacity(eta, axis=0, backend=pt), dims="year")
        hazard_lp = hazard_logit(logit(base, backend=pt), g_p, g_t, g_c, delta, lens_state[0], lens_state[1], cap,
                                 barrier)
        _observe("settlement_obs", pm.Bernoulli, settlement, year_weight, "year", logit_p=hazard_lp)
    return model
