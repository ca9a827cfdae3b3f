"""The model's maths, once: the kernels every numpy copy of the model calls.

The PyMC builder (``builder.py``) states the model for the sampler; the projection, the fast
update path, ``check``, SBC and the reports evaluate the same model in numpy on stored draws.
Each piece of the model that more than one of them needs is written here, once:

* structure: ``FACTOR_LENS`` and ``lens_from_factors`` (a lens state is the mean of its
  factors: leaders is the mean of the two sides; ``lens_matrix`` is its matrix), ``capacity``
  (soft minimum of the sides);
* dynamics: the stationary AR(1) with unit marginal variance (``ar1_step``, ``ar1_logpdf``);
* measurement: ``measurement_mean`` a_k + lambda_k * eta[f(k), t], ``noise_sd`` with the
  ``NOISE_FLOOR``, and ``measurement_logpdf``;
* outcome: the ordered logistic (``ordered_logistic_cdf``/``_probs``/``_logp``/``_sf``/``_draw``) of
  ``improve_logodds``, with ``event_shift`` from coded events; increasing cutpoints from unconstrained
  coordinates (``ordered_from_coordinates``, the ordered transform's backward map);
* events as observations of the lens states (outcome forms ``joint``/``joint_lag``):
  ``event_log_rate`` (a_e + b_l(e) s_e L_l(e)[t]), ``poisson_logpmf``, ``lens_shift`` (the lens shift of
  per-kind counts), ``lagged`` (last year's value, zero before the first; ``lag_matrix`` is its matrix);
* settlement: ``hazard_logit`` (logit(base) + g_p L_power + g_t L_trust + g_c capacity
  - delta barrier) and ``bernoulli_logit_logp``.

Pure numpy (no PyMC or PyTensor import). Functions that the builder shares take
``backend`` (``numpy`` by default, ``pytensor.tensor`` in the builder). Where the builder's graph
needs another form of the same function, it is written here beside it (``lens_matrix``,
``lag_matrix``, the masked ``ordered_logistic_logp``, the flat gather of ``indicator_means``): each
removes a kind of numba kernel that a fresh machine would compile (benchmarks/results/fit.md,
thirteenth session). ``tests/test_kernels.py`` checks every
kernel against SciPy/PyMC and the whole model's numpy log-density against PyMC's.
"""

from __future__ import annotations

from functools import reduce
from operator import add

import numpy as np

from forecast import LENSES
from forecast.defaults import OUTCOME_FORMS

# --- constants of the model
SOFTMIN_SHARPNESS = 3.0
# No indicator measures its lens without error: a floor on the residual sd of the
# standardised indicators keeps the sampler out of the funnel where one near-perfect
# trend series pins a state (the divergences measured without it).
NOISE_FLOOR = 0.1
# Lens (index into LENSES) of each latent factor, in the order of ``spec.FACTORS``
# (power, trust, leaders side A, leaders side B): the leaders lens has one factor per side.
FACTOR_LENS = (0, 1, 2, 2)
LEADERS = LENSES.index("leaders")
SIDES = tuple(f for f, lens in enumerate(FACTOR_LENS) if lens == LEADERS)
LOG_2PI = float(np.log(2 * np.pi))
PROB_FLOOR = 1e-300  # a category probability that underflowed still has a finite log


def outcome_switches(form: str) -> tuple[float, float]:
    """(event_model, event_lag) of an outcome form (``defaults.OUTCOME_FORMS``): the 0/1 switches the model
    builder reads as data: event counts observe the lens states; last year's event shift enters the outcome."""
    if form not in OUTCOME_FORMS:
        raise ValueError(f"unknown outcome form '{form}': choose one of {', '.join(OUTCOME_FORMS)}")
    return float(form != "contemporaneous"), float(form == "joint_lag")


# --- elementary functions
def sigmoid(x, backend=np):
    return 1.0 / (1.0 + np.exp(-x)) if backend is np else backend.sigmoid(x)


def logit(p, backend=np):
    return backend.log(p) - backend.log1p(-p)


def normal_logpdf(x, mu, sd):
    return -0.5 * ((x - mu) / sd) ** 2 - np.log(sd) - 0.5 * LOG_2PI


def softmin(a, b, k: float = SOFTMIN_SHARPNESS, backend=np):
    """Smooth minimum: -log(exp(-k a) + exp(-k b)) / k (tends to min(a, b) as k grows)."""
    m = backend.minimum(a, b)
    return m - backend.log(backend.exp(-k * (a - m)) + backend.exp(-k * (b - m))) / k


# --- structure: factors -> lenses
def _take(x, i: int, axis: int):
    """``x`` at index ``i`` along ``axis`` (numpy or PyTensor)."""
    if axis < 0:
        return x[(Ellipsis, i) + (slice(None),) * (-axis - 1)]
    return x[(slice(None),) * axis + (i,)]


def lens_from_factors(eta, axis: int = -1):
    """Factor states -> lens states along ``axis`` (4 factors -> 3 lenses): each lens is the
    mean of its factors, so leaders is the mean of its two sides. (The builder uses its matrix,
    ``lens_matrix``.)"""
    parts = []
    for lens in range(len(LENSES)):
        members = [_take(eta, f, axis) for f, fl in enumerate(FACTOR_LENS) if fl == lens]
        parts.append(members[0] if len(members) == 1 else (1.0 / len(members)) * reduce(add, members))
    return np.stack(parts, axis=axis)


def lens_matrix() -> np.ndarray:
    """(lens, factor) matrix M with M @ factor states = ``lens_from_factors(states, axis=0)``: the builder's form
    (a product compiles to fewer numba kernels than a stack of rows, benchmarks/results/fit.md, thirteenth session)."""
    return lens_from_factors(np.eye(len(FACTOR_LENS)), axis=0)


def capacity(eta, axis: int = -1, backend=np):
    """Ratification capacity: the soft minimum of the two sides' leaders states."""
    a, b = (_take(eta, f, axis) for f in SIDES)
    return softmin(a, b, backend=backend)


# --- dynamics: stationary AR(1) with unit marginal variance
def ar1_innovation_sd(rho, backend=np):
    return backend.sqrt(1 - rho**2)


def ar1_step(state, rho, z):
    """One year ahead: rho * state + sqrt(1 - rho^2) * z, with z standard normal draws."""
    return rho * state + ar1_innovation_sd(rho) * z


def ar1_logpdf(eta, rho):
    """Log density of stationary AR(1) paths ``eta[..., t]`` (time last) with persistence
    ``rho[...]``: eta_0 ~ N(0, 1), eta_t ~ N(rho eta_{t-1}, sqrt(1 - rho^2)). Shape ``eta.shape[:-1]``."""
    eta = np.asarray(eta, float)
    rho = np.asarray(rho, float)[..., None]
    return (normal_logpdf(eta[..., 0], 0.0, 1.0)
            + normal_logpdf(eta[..., 1:], rho * eta[..., :-1], ar1_innovation_sd(rho)).sum(axis=-1))


# --- measurement
def measurement_mean(intercept, loading, state):
    """Mean of a standardised indicator reading: a_k + lambda_k * eta[f(k), t]."""
    return intercept + loading * state


def indicator_means(intercept, loading, eta, indicator_factor, obs_indicator, obs_time):
    """``measurement_mean`` at observed cells (k, t): intercept[..., k] + loading[..., k] *
    eta[..., f(k), t], for parameters with any leading (draw) axes. The states are read through one flat
    index over (factor, year): in the builder's graph a gather with one index array compiles to fewer kinds
    of numba kernel than one with two (benchmarks/results/fit.md, thirteenth session)."""
    k = obs_indicator
    shape = _static_shape(eta)
    flat = eta.reshape(tuple(shape[:-2]) + (shape[-2] * shape[-1],))
    cell = np.asarray(indicator_factor)[k] * shape[-1] + np.asarray(obs_time)
    return measurement_mean(_last(intercept, k), _last(loading, k), _last(flat, cell))


def _static_shape(x) -> tuple[int, ...]:
    """The shape of a numpy array, or the static shape of a PyTensor variable (which must be known)."""
    shape = tuple(x.type.shape) if hasattr(x, "type") else np.shape(x)
    if any(n is None for n in shape):
        raise ValueError(f"a model kernel needs a static shape, got {shape}")
    return tuple(int(n) for n in shape)


def _last(x, *idx):
    """``x[..., *idx]`` (written without the Ellipsis when there are no leading axes, which keeps
    the builder's PyTensor graph as it was)."""
    return x[idx] if x.ndim == len(idx) else x[(Ellipsis,) + idx]


def noise_sd(indicator_noise, floor: float = NOISE_FLOOR):
    """Residual sd of an indicator: the floor plus its ``indicator_noise``."""
    return floor + indicator_noise


def measurement_logpdf(x, intercept, loading, state, sd):
    """Log density of reading ``x``: Normal(measurement_mean, sd) (``sd`` from ``noise_sd``)."""
    return normal_logpdf(x, measurement_mean(intercept, loading, state), sd)


# --- outcome: relationship change, ordered logistic
def event_shift(effect, event_lens, counts):
    """Lens shifts (..., lens, year) from coded events: effect (..., E), event_lens (E,) lens
    indices, counts (E, T) events per kind and year."""
    onehot = np.eye(len(LENSES))[np.asarray(event_lens, int)].T            # (L, E)
    return np.einsum("le,...e,et->...lt", onehot, np.asarray(effect, float), np.asarray(counts, float))


def improve_logodds(beta, lens, shift, axis: int = -1):
    """Latent log-odds of the ordered outcome: sum over lenses of beta_l (L_l + E_l); the
    arguments broadcast, the lens axis is ``axis``."""
    return (beta * (lens + shift)).sum(axis=axis)


def ordered_logistic_cdf(eta, cutpoints, backend=np):
    """P(y <= j) = sigmoid(c_j - eta), j = 0..C-2; ``cutpoints`` (..., C-1) broadcasts
    against ``eta[..., None]``."""
    return sigmoid(cutpoints - eta[..., None], backend)


def ordered_logistic_probs(eta, cutpoints):
    """P(y = j), j = 0..C-1: differences of (0, cdf, 1), as PyMC's OrderedLogistic computes them."""
    cdf = ordered_logistic_cdf(eta, cutpoints)
    edge = np.ones(cdf.shape[:-1] + (1,))
    cdf = np.concatenate([0.0 * edge, cdf, edge], axis=-1)
    return cdf[..., 1:] - cdf[..., :-1]


def ordered_logistic_logp(y, eta, cutpoints, backend=np, n_cutpoints: int | None = None):
    """log P(y | eta, cutpoints) for categories ``y`` (broadcast against ``eta``): log(F(upper) - F(lower)),
    the cdf at the category's upper and lower cutpoints (1 above the last, 0 below the first) picked out by
    masks. The values are those of ``ordered_logistic_probs`` (and PyMC's OrderedLogistic) at ``y``: a mask
    adds exact zeros. In the builder's graph this is elementwise operations and sums, with no gather or
    concatenation (fewer kinds of numba kernel, benchmarks/results/fit.md, thirteenth session). In numpy a
    probability that underflowed is floored at ``PROB_FLOOR``. ``n_cutpoints`` is the cutpoints' length when
    their PyTensor variable does not know it."""
    n = _static_shape(cutpoints)[-1] if n_cutpoints is None else n_cutpoints
    cut = np.arange(n)
    equal = np.equal if backend is np else backend.eq
    y = np.asarray(y, int) if backend is np else y
    cdf = ordered_logistic_cdf(eta, cutpoints, backend)
    upper = (equal(y[..., None], cut) * cdf).sum(axis=-1) + equal(y, n)
    lower = (equal(y[..., None], cut + 1) * cdf).sum(axis=-1)
    p = np.clip(upper - lower, PROB_FLOOR, None) if backend is np else upper - lower
    return backend.log(p)


def ordered_logistic_draw(eta, cutpoints, noise):
    """Categories drawn by the latent form: the number of cutpoints below eta + noise, with
    ``noise`` standard logistic draws shaped like ``eta``."""
    return ((eta + noise)[..., None] > cutpoints).sum(-1)


def ordered_from_coordinates(y, backend=np, n: int | None = None):
    """Increasing cutpoints from unconstrained coordinates y = (c_0, log(c_1 - c_0), ...): c_i = y_0 + sum over
    j = 1..i of exp(y_j), the backward map of PyMC's ordered transform, written as a product with a constant
    matrix instead of a cumulative sum (``pymc_terms.DenseOrdered``); ``n`` is the length when ``y``'s PyTensor
    variable does not know it."""
    n = _static_shape(y)[-1] if n is None else n
    steps = np.tril(np.ones((n, n)))
    steps[:, 0] = 0.0
    # y[..., 0][..., None], not y[..., :1]: a slice of a PyTensor vector of unknown length is not known to have
    # length one, so its gradient would not be summed over the axis it broadcasts along
    return y[..., 0][..., None] + backend.dot(backend.exp(y), steps.T)


def ordered_logistic_sf(eta, cutpoint):
    """P(y > j) = sigmoid(eta - c_j) for the cutpoint c_j (e.g. P(improve) = P(y > 2))."""
    return sigmoid(eta - cutpoint)


# --- events as observations of the lens states (outcome forms "joint" and "joint_lag")
def event_sign(weight) -> np.ndarray:
    """+1 for a cooperative event kind, -1 for a hostile one: the sign of its catalogue weight (0 counts as +1)."""
    return np.where(np.asarray(weight, float) >= 0, 1.0, -1.0)


def event_log_rate(intercept, slope, sign, state):
    """Log of the yearly rate of an event kind: a_e + b_l(e) * s_e * L_l(e)[t], with ``slope`` the slope of
    the kind's lens, ``sign`` the sign of its catalogue weight (+1 cooperative, -1 hostile) and ``state``
    its lens state; all arguments broadcast (numpy or PyTensor)."""
    return intercept + slope * sign * state


def log_factorial(k) -> np.ndarray:
    """log k! of counts ``k`` (numpy): the Poisson term that depends on the data only."""
    from scipy.special import gammaln

    return gammaln(np.asarray(k, dtype=float) + 1.0)


def poisson_logpmf(k, log_rate, backend=np, log_k_factorial=None):
    """log P(k | Poisson(exp(log_rate))) = k log_rate - exp(log_rate) - log k!. ``log_k_factorial``, when
    given, is log k! computed once (``log_factorial``); the PyMC model passes it as data, so that a
    log-density evaluation does not recompute it (numba's lgamma over every count-year costs ~5 us)."""
    if log_k_factorial is None:
        if backend is np:
            from scipy.special import gammaln
        else:
            gammaln = backend.gammaln
        log_k_factorial = gammaln(k + 1.0)
    return k * log_rate - backend.exp(log_rate) - log_k_factorial


MAX_LOG_RATE = 20.0  # a simulated yearly event rate is capped at exp(20): a draw in the far tail stays finite


def poisson_draw(log_rate, rng) -> np.ndarray:
    """Counts drawn from Poisson(exp(log_rate)) (float, shaped like ``log_rate``), the rate capped at
    exp(MAX_LOG_RATE)."""
    return rng.poisson(np.exp(np.minimum(log_rate, MAX_LOG_RATE))).astype(float)


def lens_shift(effect, event_lens, counts):
    """Lens shifts (..., lens) of per-kind counts (..., E) with per-kind effects (..., E) (broadcast):
    sum over the kinds of each lens of effect * count (``event_shift`` for one year)."""
    onehot = np.eye(len(LENSES))[np.asarray(event_lens, int)].T  # (L, E)
    return np.einsum("le,...e->...l", onehot, np.asarray(effect, float) * np.asarray(counts, float))


def lagged(x):
    """``x`` one year later along its last (year) axis: x[..., t-1] at t, zero at the first year. (The builder
    uses its matrix, ``lag_matrix``.)"""
    return np.concatenate([np.zeros_like(x[..., :1]), x[..., :-1]], axis=-1)


def lag_matrix(n: int) -> np.ndarray:
    """(n, n) matrix S with x @ S = ``lagged(x)`` for x (..., n): the builder's form (a product compiles to
    fewer numba kernels than a concatenation and its gradient, benchmarks/results/fit.md, thirteenth session)."""
    return np.eye(n, k=1)


# --- settlement hazard
def hazard_logit(logit_base, g_power, g_trust, g_capacity, delta, power, trust, cap, barrier):
    """Yearly settlement log-odds: logit(base) + g_p L_power + g_t L_trust + g_c capacity - delta barrier."""
    return logit_base + g_power * power + g_trust * trust + g_capacity * cap - delta * barrier


def bernoulli_logit_logp(y, logit_p):
    """log P(y | logit_p) of a Bernoulli outcome y in {0, 1}, stable in both tails."""
    y = np.asarray(y, float)
    return -(y * np.logaddexp(0.0, -logit_p) + (1.0 - y) * np.logaddexp(0.0, logit_p))


# --- reference class: pooled hazard of peaceful settlement (forecast/reference/)
THETA_FLOOR = 1e-10  # gamma frailty variance below this is treated as this (the limit theta -> 0 is no frailty)


def reference_eta(alpha, issue_effect, region_effect, era_level, x, beta, backend=np):
    """Linear predictor of a claim-year in the pooled reference-class model (complementary log-log
    scale, no frailty term): alpha + a_issue + a_region + e_era + x @ beta. The hazard given the claim's
    frailty w is 1 - exp(-w exp(eta)).

    ``x`` is (rows, covariates); the other terms are per row (already indexed by the row's issue,
    region and era). In the builder every term is a tensor without a draw axis; in numpy the draw axis
    is last: ``beta`` (covariates, draws), per-row terms (rows, draws), ``alpha`` (draws,), giving
    (rows, draws)."""
    return alpha + issue_effect + region_effect + era_level + backend.dot(x, beta)


def gamma_frailty_log_survival(cum_hazard, theta, backend=np):
    """log S = -log1p(theta H) / theta: log P(no event over rows with cumulative hazard H = sum exp(eta))
    of a claim whose frailty w ~ Gamma(1/theta, 1/theta) (mean 1, variance theta) is integrated out;
    tends to -H as theta -> 0 (theta is floored at THETA_FLOOR)."""
    theta = backend.maximum(theta, THETA_FLOOR)
    return -backend.log1p(theta * cum_hazard) / theta


def gamma_frailty_step(h, cum_hazard_before, theta, events_before=0, backend=np):
    """a = -log P(no event in a row with exp(eta) = ``h`` | at risk after rows with cumulative hazard
    ``cum_hazard_before`` and ``events_before`` events): with the frailty's conjugate posterior
    Gamma(1/theta + d, 1/theta + H), a = (1/theta + d) log1p(h / (1/theta + H))."""
    theta = backend.maximum(theta, THETA_FLOOR)
    return (1.0 + theta * events_before) * backend.log1p(theta * h / (1.0 + theta * cum_hazard_before)) / theta


def gamma_frailty_hazard(h, cum_hazard_before, theta, events_before=0, backend=np):
    """P(event in the row | at risk, history) = 1 - exp(-a), a = ``gamma_frailty_step``; for d = 0 this is
    1 - ((1 + theta H_before) / (1 + theta (H_before + h)))^(1/theta)."""
    return -backend.expm1(-gamma_frailty_step(h, cum_hazard_before, theta, events_before, backend=backend))


def gamma_frailty_hazard_logit(h, cum_hazard_before, theta, events_before=0, backend=np):
    """logit of ``gamma_frailty_hazard``, stable for tiny hazards: log(1 - exp(-a)) + a."""
    a = gamma_frailty_step(h, cum_hazard_before, theta, events_before, backend=backend)
    return backend.log(-backend.expm1(-a)) + a


def gamma_frailty_loglik(eta, first, last, settled, theta, backend=np):
    """Log-likelihood of each claim under the gamma-frailty cloglog hazard, frailty integrated out.

    ``eta`` (rows,) or (rows, draws): the rows of all claims sorted by claim then year, every row a year
    at risk; claim i owns rows first[i]..last[i]; ``settled`` (claims,) 1 when the claim ended in a
    settlement in its last row (0: censored after it). With H_i(t) the cumulative sum of exp(eta) and
    S(t) = (1 + theta H(t))^(-1/theta): censored, log S(n); settled, log(S(n-1) - S(n)). Computed as
    log S(n-1) - a (censored) or log S(n-1) + log(1 - exp(-a)) (settled), a = -log(S(n)/S(n-1))."""
    h = backend.exp(eta)
    cum = backend.concatenate([backend.zeros_like(h[:1]), backend.cumsum(h, axis=0)], axis=0)
    before = cum[last] - cum[first]  # H(n-1): the claim's rows before its last
    a = gamma_frailty_step(h[last], before, theta, backend=backend)
    if backend is np and np.ndim(settled) < np.ndim(a):  # numpy: per-claim outcome against (claims, draws)
        settled = np.asarray(settled).reshape(np.shape(settled) + (1,) * (np.ndim(a) - np.ndim(settled)))
    tail = settled * backend.log(-backend.expm1(-a)) - (1 - settled) * a
    return gamma_frailty_log_survival(before, theta, backend=backend) + tail
