"""Simulation-based calibration (SBC) of the centred model (Talts et al. 2018; Modrák et al. 2023).

One SBC simulation draws every parameter from the model's prior, simulates data at the
spec's observed cells, fits the model to those data and records the rank of each true
value among (thinned) posterior draws. If the sampler and the model code are right, the
ranks are uniform on 0..L. Uniformity is judged with the ECDF difference and a 95%
*simultaneous* band (Säilynoja, Bürkner & Vehtari 2022, as implemented in ArviZ).

The pieces here are plain numpy (the simulator, the log-likelihood used as a test
quantity, ranks, bands, coverage), plus ``SBCFitter``, which compiles the PyMC model once
with nutpie and refits it to each simulated data set by swapping its ``pm.Data``.

The generative simulator mirrors ``model.build_model(spec, "centred")``. The centred model
puts the AR(1) state prior and the indicator-intercept prior in ``pm.Potential`` terms on
top of flat coordinates (with unit Jacobian), so ``pm.sample_prior_predictive`` would miss
them; the joint density it defines is the one simulated here:

* rho_f ~ state_persistence; eta[f,0] ~ N(0,1), eta[f,t] ~ N(rho_f eta[f,t-1], sqrt(1-rho_f^2));
* tau ~ loading_tau; v ~ N(0, tau); loading = exp(B v) with B = model.loading_basis;
* a_k ~ indicator_intercept; sigma_k ~ indicator_noise; x ~ N(a_k + loading_k eta[f(k),t], 0.1 + sigma_k);
* event_effect ~ N(catalogue weight, catalogue sd); beta_l ~ beta_<lens>;
* event model: a_e ~ event_rate_intercept, b_l ~ event_rate_slope, kappa ~ event_lag_weight; in the
  forms where the events observe the states (``spec.event_model``), counts n[e,t] ~
  Poisson(exp(a_e + b_l(e) s_e L[l(e),t])) are simulated too (else the spec's coded counts are kept);
* cutpoints ~ the independent Normal prior restricted to the ordered region (the density of
  PyMC's ordered transform on an iid Normal), drawn by rejection;
* change ~ OrderedLogistic(sum_l beta_l (L[l,t] + E[l,t] + lag kappa E[l,t-1]), cutpoints), E from the counts;
* settlement ~ Bernoulli(logit(base) + g_p L_power + g_t L_trust + g_c softmin(eta_ru, eta_jp) - delta barrier).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from scipy.stats import binomtest

from forecast.model.builder import loading_basis
from forecast.model.kernels import (ar1_step, bernoulli_logit_logp, capacity, event_log_rate, event_shift,
                                    hazard_logit, improve_logodds, indicator_means, lagged, lens_from_factors, logit,
                                    noise_sd, normal_logpdf, ordered_logistic_logp, ordered_logistic_sf,
                                    poisson_draw, poisson_logpmf, sigmoid)
from forecast.model.priors import PriorSpec, to_numpy_draws
from forecast.model.spec import FACTORS, ModelSpec

SCALARS = ("loading_tau", "beta_power", "beta_trust", "beta_leaders", "settlement_base_rate",
           "gamma_power", "gamma_trust", "gamma_capacity", "delta_barrier")
LOGLIK = "log_lik"
MAX_CUTPOINT_TRIES = 100_000


def key_parameters(spec: ModelSpec) -> list[str]:
    """Labels of the parameters whose ranks SBC reports (plus the log-likelihood)."""
    last = int(spec.years[-1])
    return ([f"beta_{lens}" for lens in ("power", "trust", "leaders")]
            + [f"state_persistence[{f}]" for f in FACTORS]
            + [f"cutpoints[{i}]" for i in range(4)]
            + ["settlement_base_rate", "gamma_power", "gamma_trust", "gamma_capacity", "delta_barrier",
               "loading_tau"]
            + [f"factor_state[{f},{last}]" for f in FACTORS]
            + [f"event_rate_slope[{lens}]" for lens in ("power", "trust", "leaders")]
            + [LOGLIK])


def key_values(spec: ModelSpec, params: dict) -> dict[str, np.ndarray]:
    """The key parameters (not the log-likelihood) from a parameter dict; arrays may carry leading
    draw axes (posterior) or none (the truth)."""
    out = {}
    for name in ("beta_power", "beta_trust", "beta_leaders"):
        out[name] = np.asarray(params[name])
    for i, f in enumerate(FACTORS):
        out[f"state_persistence[{f}]"] = np.asarray(params["state_persistence"])[..., i]
    for i in range(4):
        out[f"cutpoints[{i}]"] = np.asarray(params["cutpoints"])[..., i]
    for name in ("settlement_base_rate", "gamma_power", "gamma_trust", "gamma_capacity", "delta_barrier",
                 "loading_tau"):
        out[name] = np.asarray(params[name])
    last = int(spec.years[-1])
    for i, f in enumerate(FACTORS):
        out[f"factor_state[{f},{last}]"] = np.asarray(params["factor_state"])[..., i, -1]
    for i, lens in enumerate(("power", "trust", "leaders")):
        out[f"event_rate_slope[{lens}]"] = np.asarray(params["event_rate_slope"])[..., i]
    return out


# ----------------------------------------------------------------------------- simulator

def _resolved(p: PriorSpec) -> PriorSpec:
    """The entry with elicitation and conjugate updates resolved once (PreliZ is slow)."""
    return dataclasses.replace(p, params=p.resolved_params(), elicit=None, update_with=None)


def resolved_priors(spec: ModelSpec) -> dict[str, PriorSpec]:
    return {name: _resolved(p) for name, p in spec.priors.priors.items()}


def _draw(p: PriorSpec, n: int, rng) -> np.ndarray:
    return np.asarray(to_numpy_draws(p, n, rng), dtype=float)


def _ordered_cutpoints(p: PriorSpec, rng) -> np.ndarray:
    for _ in range(MAX_CUTPOINT_TRIES):
        c = _draw(p, 1, rng)[0]
        if np.all(np.diff(c) > 0):
            return c
    raise RuntimeError("could not draw ordered cutpoints from the prior by rejection")


def simulate_prior(spec: ModelSpec, rng, priors: dict[str, PriorSpec] | None = None) -> tuple[dict, dict]:
    """One draw of every parameter from the centred model's prior and of data at the spec's cells.

    Returns ``(params, data)``: ``params`` uses the model's variable names (``indicator_noise``
    is the prior draw, without the 0.1 floor, as in the model); ``data`` holds ``obs_value``,
    ``change`` (categories 0..4) and ``settlement`` with the spec's shapes.
    """
    P = priors or resolved_priors(spec)
    F, T, K = len(FACTORS), spec.n_years, len(spec.indicators)
    rho = _draw(P["state_persistence"], F, rng)
    eta = np.empty((F, T))
    eta[:, 0] = rng.normal(0.0, 1.0, F)
    for t in range(1, T):
        eta[:, t] = ar1_step(eta[:, t - 1], rho, rng.standard_normal(F))
    tau = _draw(P["loading_tau"], 1, rng)[0]
    B = loading_basis(spec.indicator_factor, F)
    v = rng.normal(0.0, tau, B.shape[1])
    loading = np.exp(B @ v)
    intercept = _draw(P["indicator_intercept"], K, rng)
    noise = _draw(P["indicator_noise"], K, rng)
    effect = rng.normal(spec.event_weight, spec.event_weight_sd)
    params = {
        "state_persistence": rho, "factor_state": eta, "loading_tau": tau, "loading_v": v,
        "loading": loading, "indicator_intercept": intercept, "indicator_noise": noise,
        "event_effect": effect,
    }
    for lens in ("power", "trust", "leaders"):
        params[f"beta_{lens}"] = _draw(P[f"beta_{lens}"], 1, rng)[0]
    params["cutpoints"] = _ordered_cutpoints(P["cutpoints"], rng)
    for name in ("settlement_base_rate", "gamma_power", "gamma_trust", "gamma_capacity", "delta_barrier"):
        params[name] = _draw(P[name], 1, rng)[0]
    params["event_rate_intercept"] = _draw(P["event_rate_intercept"], len(spec.event_kinds), rng)
    params["event_rate_slope"] = _draw(P["event_rate_slope"], 3, rng)
    params["event_lag_weight"] = _draw(P["event_lag_weight"], 1, rng)[0]
    counts = np.asarray(spec.event_counts, float)
    if spec.event_model:
        counts = poisson_draw(event_log_rate_of(spec, params), rng)

    k = spec.obs_indicator
    mean = indicator_means(intercept, loading, eta, spec.indicator_factor, k, spec.obs_time)
    obs_value = mean + noise_sd(noise[k]) * rng.normal(size=len(k))
    improve, hazard = linear_predictors(spec, params, counts)
    p_gt = ordered_logistic_sf(improve[:, None], params["cutpoints"][None, :])  # P(y > j), j = 0..3
    u = rng.uniform(size=T)
    change = (u[:, None] < p_gt).sum(axis=1)                            # P(y >= j+1) = P(y > j)
    settlement = (rng.uniform(size=T) < sigmoid(hazard)).astype(int)
    data = {"obs_value": obs_value, "change": change.astype(int), "settlement": settlement, "event_counts": counts}
    return params, data


def event_log_rate_of(spec: ModelSpec, params: dict) -> np.ndarray:
    """(..., E, T) log rate of every event kind and year under ``params`` (leading draw axes allowed)."""
    lens = lens_from_factors(np.asarray(params["factor_state"]), axis=-2)  # (..., 3, T)
    slope = np.asarray(params["event_rate_slope"])[..., spec.event_lens]  # (..., E)
    return event_log_rate(np.asarray(params["event_rate_intercept"])[..., None], slope[..., None],
                          spec.event_sign[:, None], lens[..., spec.event_lens, :])


# ------------------------------------------------------------------------- log-likelihood

def linear_predictors(spec: ModelSpec, params: dict, counts=None) -> tuple[np.ndarray, np.ndarray]:
    """(improve log-odds, settlement hazard log-odds), each (..., T); ``counts`` (E, T): the event counts
    (default: the spec's coded counts)."""
    eta = np.asarray(params["factor_state"])
    lens = lens_from_factors(eta, axis=-2)                                # (..., 3, T)
    shift = event_shift(params["event_effect"], spec.event_lens, spec.event_counts if counts is None else counts)
    if spec.event_lag:
        shift = shift + np.asarray(params["event_lag_weight"])[..., None, None] * lagged(shift)
    betas = np.stack([np.asarray(params[f"beta_{lens}"]) for lens in ("power", "trust", "leaders")], axis=-1)
    improve = improve_logodds(betas[..., :, None], lens, shift, axis=-2)

    def s(name):
        return np.asarray(params[name])[..., None]

    hazard = hazard_logit(logit(s("settlement_base_rate")), s("gamma_power"), s("gamma_trust"),
                          s("gamma_capacity"), s("delta_barrier"), lens[..., 0, :], lens[..., 1, :],
                          capacity(eta, axis=-2), spec.barrier)
    return improve, hazard


def log_likelihood(spec: ModelSpec, params: dict, data: dict, by_part: bool = False):
    """log p(data | params) of the three observed nodes; params may carry leading draw axes.
    With ``by_part`` returns a dict of the indicator, change and settlement terms."""
    eta = np.asarray(params["factor_state"])
    k = spec.obs_indicator
    mean = indicator_means(np.asarray(params["indicator_intercept"]), np.asarray(params["loading"]), eta,
                           spec.indicator_factor, k, spec.obs_time)
    sd = noise_sd(np.asarray(params["indicator_noise"])[..., k])
    ll_ind = normal_logpdf(np.asarray(data["obs_value"]), mean, sd).sum(axis=-1)

    counts = np.asarray(data.get("event_counts", spec.event_counts), float)
    improve, hazard = linear_predictors(spec, params, counts)
    cut = np.asarray(params["cutpoints"])[..., None, :]                   # (..., 1, 4)
    ll_change = ordered_logistic_logp(data["change"], improve, cut).sum(axis=-1)
    ll_set = bernoulli_logit_logp(data["settlement"], hazard).sum(axis=-1)
    ll_events = spec.event_model * poisson_logpmf(counts, event_log_rate_of(spec, params)).sum(axis=(-2, -1))
    if by_part:
        return {"indicator_obs": ll_ind, "event_obs": ll_events, "change_obs": ll_change, "settlement_obs": ll_set}
    return ll_ind + ll_events + ll_change + ll_set


# ------------------------------------------------------------------- ranks, bands, coverage

def thin(x: np.ndarray, n_keep: int) -> np.ndarray:
    """Thin (chain, draw, ...) draws evenly within each chain to ``n_keep // chains`` per chain;
    returns (chains * per_chain, ...)."""
    x = np.asarray(x)
    chains, draws = x.shape[:2]
    per_chain = max(1, min(draws, n_keep // chains))
    step = draws // per_chain
    idx = np.arange(per_chain) * step + (step - 1)
    return x[:, idx].reshape((chains * per_chain,) + x.shape[2:])


def rank(true_value: float, draws: np.ndarray, rng=None) -> int:
    """Number of draws below the true value, in 0..len(draws); ties are split at random."""
    draws = np.asarray(draws).ravel()
    below = int(np.sum(draws < true_value))
    ties = int(np.sum(draws == true_value))
    if ties:
        rng = rng or np.random.default_rng(0)
        below += int(rng.integers(0, ties + 1))
    return below


def ecdf_band(n_sims: int, n_draws: int, prob: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simultaneous ``prob`` band for the ECDF of ``n_sims`` ranks uniform on 0..n_draws.

    Evaluation points are the rank boundaries z_j = (j+1)/(L+1), j = 0..L-1, where the ECDF of
    discrete uniform ranks equals that of continuous uniform fractional ranks, so the
    continuous band of Säilynoja et al. (2022) (ArviZ, "optimized") applies exactly.
    Returns (z, lower, upper) on the ECDF scale; subtract z for the ECDF-difference band.
    """
    from arviz.stats.ecdf_utils import ecdf_confidence_band

    L = int(n_draws)
    z = (np.arange(L) + 1.0) / (L + 1.0)
    lower, upper = ecdf_confidence_band(int(n_sims), z, z, prob=prob, method="optimized")
    return z, np.asarray(lower, float), np.asarray(upper, float)


def ecdf_diff(ranks: np.ndarray, n_draws: int) -> tuple[np.ndarray, np.ndarray]:
    """(z, ECDF(z) - z) of ranks in 0..n_draws at the rank boundaries z_j = (j+1)/(L+1)."""
    ranks = np.asarray(ranks)
    L = int(n_draws)
    z = (np.arange(L) + 1.0) / (L + 1.0)
    ecdf = (ranks[:, None] <= np.arange(L)[None, :]).mean(axis=0)
    return z, ecdf - z


def uniformity(ranks: np.ndarray, n_draws: int, prob: float = 0.95, band=None) -> dict:
    """ECDF-difference test of rank uniformity against the simultaneous band."""
    ranks = np.asarray(ranks)
    if np.any(ranks < 0) or np.any(ranks > n_draws):
        raise ValueError(f"ranks must lie in 0..{n_draws}")
    z, diff = ecdf_diff(ranks, n_draws)
    _, lower, upper = band if band is not None else ecdf_band(len(ranks), n_draws, prob)
    ecdf = diff + z
    eps = 1e-12
    outside = (ecdf < lower - eps) | (ecdf > upper + eps)
    j = int(np.argmax(np.abs(diff)))
    return {
        "max_abs_ecdf_diff": float(np.abs(diff).max()), "at_fractional_rank": float(z[j]),
        "inside_band": bool(not outside.any()), "points_outside": int(outside.sum()),
        "band_halfwidth_mid": float(0.5 * (upper - lower)[len(z) // 2]),
    }


def central_interval_covers(true_value: float, draws: np.ndarray, level: float) -> bool:
    lo, hi = np.quantile(np.asarray(draws).ravel(), [(1 - level) / 2, (1 + level) / 2])
    return bool(lo <= true_value <= hi)


def coverage_summary(hits: np.ndarray, level: float) -> dict:
    hits = np.asarray(hits, dtype=bool)
    n, k = len(hits), int(hits.sum())
    ci = binomtest(k, n, level).proportion_ci(confidence_level=0.95, method="exact")
    return {"level": level, "covered": k, "n": n, "rate": k / n, "ci95": [float(ci.low), float(ci.high)],
            "nominal_inside_ci": bool(ci.low <= level <= ci.high)}


def summarise(records: list[dict], labels: list[str], n_draws: int, prob: float = 0.95) -> dict:
    """Per-parameter rank uniformity and 50%/90% coverage over the simulations' records
    (each with ``ranks`` and ``covered50``/``covered90`` keyed by label)."""
    n = len(records)
    band = ecdf_band(n, n_draws, prob) if n else None
    out = {}
    for lab in labels:
        ranks = np.array([r["ranks"][lab] for r in records])
        entry = uniformity(ranks, n_draws, prob, band)
        entry["coverage50"] = coverage_summary([r["covered50"][lab] for r in records], 0.5)
        entry["coverage90"] = coverage_summary([r["covered90"][lab] for r in records], 0.9)
        out[lab] = entry
    return out


# ----------------------------------------------------------------------------- fitting

class SBCFitter:
    """Compile the shipped (centred) model once, as ``forecast fit`` does (``fitting.compile_model``:
    the free variables sampled, the deterministics computed afterwards, the native code cached on
    disk), and refit it to simulated data sets."""

    def __init__(self, spec: ModelSpec):
        from forecast.inference import fitting

        self.spec = spec
        t0 = time.perf_counter()
        self.compiled, self.sampler, _ = fitting.compile_model(spec, "nutpie")
        if self.sampler != "nutpie":
            raise RuntimeError("simulation-based calibration needs nutpie (pip install nutpie)")
        self.compile_s = time.perf_counter() - t0

    def fit(self, data: dict, draws: int, tune: int, chains: int, seed: int, target_accept: float):
        from forecast.inference import fitting

        new = dict(obs_value=np.asarray(data["obs_value"], float), change=np.asarray(data["change"]),
                   settlement=np.asarray(data["settlement"]), event_counts=np.asarray(data["event_counts"], float))
        return fitting.draw(self.compiled, self.sampler, draws, tune, chains, seed, progress=False,
                            target_accept=target_accept, data=new)


POSTERIOR_VARS = ("state_persistence", "factor_state", "loading_tau", "loading", "indicator_intercept",
                  "indicator_noise", "event_effect", "beta_power", "beta_trust", "beta_leaders", "cutpoints",
                  "settlement_base_rate", "gamma_power", "gamma_trust", "gamma_capacity", "delta_barrier",
                  "event_rate_intercept", "event_rate_slope", "event_lag_weight")


def evaluate(spec: ModelSpec, idata, truth: dict, data: dict, n_rank_draws: int, rng) -> dict:
    """Ranks (thinned draws), interval coverage (all draws) and convergence of one fit."""
    from forecast.inference.mcmc_stats import diagnose_variables

    post = {v: idata.posterior[v].values for v in POSTERIOR_VARS}
    thinned = {v: thin(x, n_rank_draws) for v, x in post.items()}
    L = len(thinned["beta_power"])
    truth_vals = key_values(spec, truth)
    thin_vals = key_values(spec, thinned)
    all_vals = key_values(spec, {v: x.reshape((-1,) + x.shape[2:]) for v, x in post.items()})
    truth_vals[LOGLIK] = float(log_likelihood(spec, truth, data))
    thin_vals[LOGLIK] = log_likelihood(spec, thinned, data)
    # coverage of the log-likelihood uses the thinned draws (it is computed per draw)
    all_vals[LOGLIK] = thin_vals[LOGLIK]
    ranks = {lab: rank(float(truth_vals[lab]), thin_vals[lab], rng) for lab in truth_vals}
    cov50 = {lab: central_interval_covers(float(truth_vals[lab]), all_vals[lab], 0.5) for lab in truth_vals}
    cov90 = {lab: central_interval_covers(float(truth_vals[lab]), all_vals[lab], 0.9) for lab in truth_vals}
    names = [v for v in idata.posterior.data_vars
             if v not in ("lens_state", "improve_logodds", "capacity", "loading", "event_shift")]
    per = diagnose_variables(idata.posterior, names)
    stats = idata.sample_stats
    return {
        "n_rank_draws": L,
        "truth": {lab: float(v) for lab, v in truth_vals.items()},
        "ranks": ranks, "covered50": cov50, "covered90": cov90,
        "divergences": int(stats["diverging"].values.sum()) if "diverging" in stats else 0,
        "rhat_max": float(max(np.nanmax(d.rhat) for d in per.values())),
        "ess_bulk_min": float(min(np.nanmin(d.ess_bulk) for d in per.values())),
    }
