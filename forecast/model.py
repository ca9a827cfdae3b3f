"""Build the hierarchical PyMC model from a ModelSpec (the only module that does).

Structure
---------
* Four latent yearly factors (power, trust, leaders_russia, leaders_japan), each a
  stationary AR(1) with unit marginal variance. The unit scale pins the factors'
  scale; positive loadings on direction-aligned indicators pin their sign.
* Indicators: x[k,t] ~ Normal(a_k + lambda_k * eta[f(k), t], sigma_k), observed
  cells only (missing values are masked by index arrays, never imputed by hand).
  log lambda_k = mu[lens(k)] + tau * z_k: loadings partially pooled within a lens.
* Lens states: power, trust, and leaders = mean of the two sides.
* Relationship change (5 categories) ~ OrderedLogistic(sum_l beta_l * L[l,t], cutpoints).
* Settlement ~ Bernoulli(logit(base) + g_p L_power + g_t L_trust
  + g_c softmin(eta_russia, eta_japan) - delta * barrier).
"""

from __future__ import annotations

import numpy as np

from . import LENSES
from .priors import to_pymc
from .spec import FACTOR_LENS, FACTORS, ModelSpec

SOFTMIN_SHARPNESS = 3.0
# No indicator measures its lens without error: a floor on the residual sd of the
# standardised indicators keeps the sampler out of the funnel where one near-perfect
# trend series pins a state (the divergences measured without it).
NOISE_FLOOR = 0.1
PARAMETERISATIONS = ("noncentred", "centred")


def ar1_matrix_np(rho: np.ndarray, n: int) -> np.ndarray:
    """(F, n, n) lower-triangular maps from unit innovations to a unit-variance AR(1)."""
    t = np.arange(n)
    lag = t[:, None] - t[None, :]
    c = np.where(t == 0, 1.0, np.sqrt(1 - rho[:, None] ** 2))  # (F, n)
    return np.where(lag >= 0, rho[:, None, None] ** np.clip(lag, 0, None), 0.0) * c[:, None, :]


def softmin(a, b, k: float = SOFTMIN_SHARPNESS, backend=np):
    """Smooth minimum: -log(exp(-k a) + exp(-k b)) / k (tends to min(a, b) as k grows)."""
    m = backend.minimum(a, b)
    return m - backend.log(backend.exp(-k * (a - m)) + backend.exp(-k * (b - m))) / k


def build_model(spec: ModelSpec, parameterisation: str = "noncentred"):
    import pymc as pm
    import pytensor.tensor as pt

    if parameterisation not in PARAMETERISATIONS:
        raise ValueError(f"parameterisation must be one of {PARAMETERISATIONS}")
    T, K = spec.n_years, len(spec.indicators)
    P = spec.priors
    coords = {
        "factor": list(FACTORS), "lens": list(LENSES), "year": spec.years.tolist(),
        "indicator": spec.indicators, "obs": np.arange(len(spec.obs_value)), "cut": np.arange(4),
    }
    with pm.Model(coords=coords) as model:
        obs_value = pm.Data("obs_value", spec.obs_value, dims="obs")
        change = pm.Data("change", spec.change, dims="year")
        settlement = pm.Data("settlement", spec.settlement, dims="year")
        barrier = pm.Data("barrier", spec.barrier, dims="year")

        # --- latent dynamics
        rho = to_pymc(P["state_persistence"], dims="factor")
        if parameterisation == "noncentred":
            eps = pm.Normal("state_innovation", 0.0, 1.0, dims=("factor", "year"))
            t = np.arange(T)
            lag = t[:, None] - t[None, :]
            mask = (lag >= 0).astype(float)
            powers = rho[:, None, None] ** np.clip(lag, 0, None)[None] * mask[None]
            c = pt.concatenate([pt.ones((len(FACTORS), 1)),
                                pt.repeat(pt.sqrt(1 - rho**2)[:, None], T - 1, axis=1)], axis=1)
            eta = pm.Deterministic("factor_state", (powers * (c * eps)[:, None, :]).sum(axis=2),
                                   dims=("factor", "year"))
        else:
            eta = pm.Flat("factor_state", dims=("factor", "year"))
            innov_sd = pt.sqrt(1 - rho**2)[:, None]
            pm.Potential("state_prior", pm.logp(pm.Normal.dist(0, 1), eta[:, 0]).sum()
                         + pm.logp(pm.Normal.dist(rho[:, None] * eta[:, :-1], innov_sd), eta[:, 1:]).sum())

        lens_state = pm.Deterministic(
            "lens_state", pt.stack([eta[0], eta[1], 0.5 * (eta[2] + eta[3])]), dims=("lens", "year"))

        # --- measurement: partially pooled loadings within each lens
        # Log loadings are pooled around 0 (a typical loading of 1) with a per-lens spread:
        # fixing the lens mean pins the scale of the states, which the unit-variance AR(1)
        # alone cannot do when a state is as persistent as the power balance (rho ~ 0.98).
        loading_tau = to_pymc(P["loading_tau"])
        z = pm.Normal("loading_z", 0.0, 1.0, dims="indicator")
        loading = pm.Deterministic("loading", pt.exp(loading_tau * z), dims="indicator")
        intercept = to_pymc(P["indicator_intercept"], dims="indicator")
        noise = NOISE_FLOOR + to_pymc(P["indicator_noise"], dims="indicator")
        k, t_idx = spec.obs_indicator, spec.obs_time
        mean = intercept[k] + loading[k] * eta[spec.indicator_factor[k], t_idx]
        pm.Normal("indicator_obs", mean, noise[k], observed=obs_value, dims="obs")

        # --- relationship change: ordered logistic on lens states
        betas = pt.stack([to_pymc(P[f"beta_{lens}"]) for lens in LENSES])
        cut_spec = P["cutpoints"]
        cutpoints = to_pymc(cut_spec, dims="cut", transform=pm.distributions.transforms.ordered,
                            initval=np.asarray(cut_spec.resolved_params()["mu"]))
        improve_lp = pm.Deterministic("improve_logodds", (betas[:, None] * lens_state).sum(axis=0), dims="year")
        pm.OrderedLogistic("change_obs", eta=improve_lp, cutpoints=cutpoints, observed=change, dims="year",
                           compute_p=False)

        # --- settlement hazard
        base = to_pymc(P["settlement_base_rate"])
        g_p, g_t = to_pymc(P["gamma_power"]), to_pymc(P["gamma_trust"])
        g_c, delta = to_pymc(P["gamma_capacity"]), to_pymc(P["delta_barrier"])
        capacity = pm.Deterministic("capacity", softmin(eta[2], eta[3], backend=pt), dims="year")
        hazard_lp = (pt.log(base) - pt.log1p(-base) + g_p * lens_state[0] + g_t * lens_state[1]
                     + g_c * capacity - delta * barrier)
        pm.Bernoulli("settlement_obs", logit_p=hazard_lp, observed=settlement, dims="year")
    assert list(FACTOR_LENS) == [0, 1, 2, 2]
    return model
