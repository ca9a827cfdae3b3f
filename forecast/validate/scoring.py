"""Proper scores, baselines and calibration for probability forecasts (numpy only).

Conventions (stated once, used everywhere):
* Brier score: mean squared error of P(improve) against the 0/1 outcome, on the
  0-1 scale; lower is better.
* Log score: mean negative log-likelihood of the 0/1 outcome in nats ("log loss");
  lower is better.
* Ranked probability score (RPS): for the 5-point change, the mean over forecasts of
  sum_{k=1..4} (F_k - O_k)^2 / 4, with F and O the forecast and observed cumulative
  distributions; 0-1 scale, lower is better.
* Brier skill score: 1 - Brier(model) / Brier(reference); higher is better, 0 = no skill.
* Reliability: CORP (Dimitriadis, Gneiting & Jordan 2021): the PAV (isotonic)
  recalibration of the forecasts gives the exact decomposition
  Brier = MCB - DSC + UNC (miscalibration, discrimination, uncertainty).
"""

from __future__ import annotations

import numpy as np

from forecast.errors import ForecastError

CATEGORIES = (-2, -1, 0, 1, 2)
SMOOTHING = 0.5  # Dirichlet(1/2) (Jeffreys) pseudo-count per category for the baselines
DIRECTIONS = ("worse", "same", "better")


def _arr(x, dtype=float) -> np.ndarray:
    return np.asarray(x, dtype=dtype)


def brier(p, o) -> float:
    p, o = _arr(p), _arr(o)
    return float(np.mean((p - o) ** 2))


def log_loss(p, o) -> float:
    p, o = _arr(p), _arr(o)
    return float(np.mean(-np.log(np.where(o > 0.5, p, 1.0 - p))))


def rps(probs, observed_category) -> float:
    """``probs`` (n, K) category probabilities; ``observed_category`` (n,) indices 0..K-1."""
    probs = _arr(probs)
    obs = _arr(observed_category, int)
    K = probs.shape[1]
    F = np.cumsum(probs, axis=1)[:, : K - 1]
    O = (np.arange(K - 1)[None, :] >= obs[:, None]).astype(float)
    return float(np.mean(((F - O) ** 2).sum(axis=1) / (K - 1)))


def brier_skill(p_model, p_ref, o) -> float:
    return 1.0 - brier(p_model, o) / brier(p_ref, o)


def bootstrap_skill(p_model, p_ref, o, n_boot: int = 4000, level: float = 0.95, seed: int = 0) -> dict:
    """Brier skill with a paired percentile bootstrap interval over forecast years."""
    p_model, p_ref, o = _arr(p_model), _arr(p_ref), _arr(o)
    rng = np.random.default_rng(seed)
    n = len(o)
    idx = rng.integers(0, n, size=(n_boot, n))
    bs_m = ((p_model[idx] - o[idx]) ** 2).mean(axis=1)
    bs_r = ((p_ref[idx] - o[idx]) ** 2).mean(axis=1)
    ok = bs_r > 0
    skill = 1.0 - bs_m[ok] / bs_r[ok]
    a = (1 - level) / 2
    lo, hi = np.quantile(skill, [a, 1 - a])
    return {"value": brier_skill(p_model, p_ref, o), "lo": float(lo), "hi": float(hi), "level": level,
            "interval": f"{round(100 * level)}% paired percentile bootstrap over years ({n_boot} resamples)"}


# --- baselines: each uses only the outcomes strictly before the forecast year


def direction(change: int) -> int:
    """0 worse, 1 same, 2 better."""
    return int(np.sign(change)) + 1


def climatology(past_changes) -> np.ndarray:
    """Category probabilities (5,) from the outcomes so far, Dirichlet(1/2)-smoothed."""
    past = _arr(past_changes, int)
    counts = np.array([(past == c).sum() for c in CATEGORIES], dtype=float)
    return (counts + SMOOTHING) / (counts.sum() + SMOOTHING * len(CATEGORIES))


def persistence(past_changes) -> np.ndarray:
    """Last year's direction carried forward, as a probability: the frequencies of each
    change category in the years that followed a year with the same direction
    (worse / unchanged / better) as the last one, Dirichlet(1/2)-smoothed."""
    past = _arr(past_changes, int)
    if len(past) < 2:
        return climatology(past)
    last = direction(past[-1])
    follows = np.array([past[i + 1] for i in range(len(past) - 1) if direction(past[i]) == last], dtype=int)
    return climatology(follows)


def p_improve(category_probs) -> np.ndarray:
    """P(change >= +1) from (..., 5) category probabilities."""
    return _arr(category_probs)[..., 3:].sum(axis=-1)


# --- calibration


def pav(y, w=None) -> np.ndarray:
    """Pool-adjacent-violators: the non-decreasing weighted least-squares fit to ``y`` (in order)."""
    y = _arr(y)
    w = np.ones(len(y)) if w is None else _arr(w)
    vals, weights, sizes = [], [], []
    for v, wt in zip(y, w):
        vals.append(float(v))
        weights.append(float(wt))
        sizes.append(1)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            tw = weights[-2] + weights[-1]
            vals[-2] = (vals[-2] * weights[-2] + vals[-1] * weights[-1]) / tw
            weights[-2] = tw
            sizes[-2] += sizes[-1]
            vals.pop()
            weights.pop()
            sizes.pop()
    return np.repeat(vals, sizes)


def reliability(p, o) -> dict:
    """CORP reliability table and Brier decomposition.

    Ties in the forecast are pooled before PAV so equal forecasts get one recalibrated value."""
    p, o = _arr(p), _arr(o)
    order = np.lexsort((o, p))
    ps, os_ = p[order], o[order]
    # pool exact ties in p first
    _, inverse = np.unique(ps, return_inverse=True)
    tie_mean = np.bincount(inverse, weights=os_) / np.bincount(inverse)
    tie_n = np.bincount(inverse)
    recal_groups = pav(tie_mean, tie_n)
    recal = recal_groups[inverse]
    obar = float(os_.mean())
    bs = float(np.mean((ps - os_) ** 2))
    bs_recal = float(np.mean((recal - os_) ** 2))
    unc = obar * (1 - obar)
    rows = []
    start = 0
    while start < len(ps):
        end = start
        while end + 1 < len(ps) and recal[end + 1] == recal[start]:
            end += 1
        block = slice(start, end + 1)
        rows.append({"p_lo": float(ps[block].min()), "p_hi": float(ps[block].max()), "n": end - start + 1,
                     "mean_forecast": float(ps[block].mean()), "observed_frequency": float(recal[start])})
        start = end + 1
    return {"method": "CORP: PAV (isotonic) recalibration; Brier = MCB - DSC + UNC (MCB: the reliability "
                      "term, miscalibration; DSC: the resolution term, discrimination; UNC: uncertainty)",
            "brier": bs, "miscalibration": bs - bs_recal, "discrimination": unc - bs_recal,
            "uncertainty": unc, "table": rows}


def score_all(category_probs, observed_change) -> dict:
    """Brier and log score of P(improve), RPS of the 5-point change."""
    probs = _arr(category_probs)
    obs = _arr(observed_change, int)
    o = (obs > 0).astype(float)
    return {"brier": brier(p_improve(probs), o), "log": log_loss(p_improve(probs), o),
            "rps": rps(probs, obs + 2)}


# --- skill of every score, with paired bootstrap intervals


def yearly_losses(probs, observed_category) -> dict[str, np.ndarray]:
    """Per-forecast Brier, log score (of "improves", i.e. change >= +1) and RPS (of the 5-point change),
    each (n,), from (n, 5) category probabilities and the observed categories 0..4."""
    probs, obs = _arr(probs), _arr(observed_category, int)
    p, o = p_improve(probs), (obs >= CATEGORIES.index(1)).astype(float)
    K = probs.shape[1]
    F = np.cumsum(probs, axis=1)[:, : K - 1]
    O = (np.arange(K - 1)[None, :] >= obs[:, None]).astype(float)
    return {"brier": (p - o) ** 2, "log": -np.log(np.clip(np.where(o > 0.5, p, 1.0 - p), 1e-300, None)),
            "rps": ((F - O) ** 2).sum(axis=1) / (K - 1)}


def bootstrap_skills(probs_model, probs_ref, observed_category, n_boot: int = 4000, seed: int = 0,
                     levels=(0.80, 0.95)) -> dict:
    """Skill 1 - S(model) / S(reference) of the Brier, log and ranked probability scores, each with paired
    percentile bootstrap intervals over forecast years at ``levels`` (the same resamples for every score
    and both forecasts)."""
    lm, lr = yearly_losses(probs_model, observed_category), yearly_losses(probs_ref, observed_category)
    n = len(_arr(observed_category))
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    out = {}
    for score in lm:
        m, r = lm[score][idx].mean(axis=1), lr[score][idx].mean(axis=1)
        ok = r > 0
        boot = 1.0 - m[ok] / r[ok]
        row = {"value": float(1.0 - lm[score].mean() / lr[score].mean())}
        for level in levels:
            a = (1 - level) / 2
            lo, hi = np.quantile(boot, [a, 1 - a])
            row[f"lo{round(100 * level)}"], row[f"hi{round(100 * level)}"] = float(lo), float(hi)
        out[score] = row
    out["interval"] = (f"{' and '.join(f'{round(100 * v)}%' for v in levels)} paired percentile bootstrap over "
                       f"years ({n_boot} resamples)")
    return out


# --- time-sliced stacking (benchmarks/improve_candidates.md, addendum: candidate "stacked")

STACK_GRID = np.linspace(0.0, 1.0, 1001)  # weights 0, 0.001, ..., 1


def stacking_weights(dens_a, dens_b) -> np.ndarray:
    """Time-sliced stacking weights of forecast A against forecast B, one per origin in order.

    ``dens_a`` and ``dens_b`` (n,) are each forecast's predictive probability of the observed outcome
    at origins 0..n-1. The weight of origin i uses only origins j < i (scored before it):
    argmax over w in STACK_GRID of sum_j log(w a_j + (1 - w) b_j) + log w + log(1 - w), the last two
    terms a Beta(2, 2) penalty (so the first origin gets 0.5). Returns (n + 1,) weights: the last one
    is learned from all n origins (the weight for the origin after them)."""
    a, b = _arr(dens_a), _arr(dens_b)
    w = STACK_GRID[:, None]
    with np.errstate(divide="ignore"):
        penalty = np.log(STACK_GRID) + np.log1p(-STACK_GRID)
        per_origin = np.log(w * a[None, :] + (1.0 - w) * b[None, :])  # (grid, n)
    cum = np.concatenate([np.zeros((len(STACK_GRID), 1)), np.cumsum(per_origin, axis=1)], axis=1)
    objective = cum + penalty[:, None]  # (grid, n + 1): column i uses origins < i
    return STACK_GRID[np.argmax(objective, axis=0)]


def stacked(probs_a, probs_b, observed_category) -> tuple[np.ndarray, np.ndarray]:
    """The time-sliced stack of two (n, K) category forecasts: (n, K) mixed probabilities, with each
    origin's weight from the origins before it, and the (n + 1,) weights (see ``stacking_weights``)."""
    pa, pb, obs = _arr(probs_a), _arr(probs_b), _arr(observed_category, int)
    rows = np.arange(len(obs))
    w = stacking_weights(pa[rows, obs], pb[rows, obs])
    return w[:-1, None] * pa + (1.0 - w[:-1, None]) * pb, w


# --- time-sliced logistic recalibration (benchmarks/improve_candidates.md, addendum 2: "recalibrated")

RECAL_PRIOR = ((0.0, 1.0), (1.0, 0.5))  # (mean, sd) of the Normal priors of the intercept a and slope b
RECAL_EPS = 1e-6                        # P(improve) clipped to [RECAL_EPS, 1 - RECAL_EPS] before the logit
RECAL_TOL = 1e-10                       # Newton's method stops when the gradient's largest entry is below this


def _platt_objective(theta, X, y, mean, sd) -> float:
    eta = X @ theta
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)) - 0.5 * np.sum(((theta - mean) / sd) ** 2))


def platt_map(x, y, prior=RECAL_PRIOR) -> np.ndarray:
    """(a, b) maximising sum_j log Bernoulli(y_j | sigma(a + b x_j)) + log N(a | prior[0]) + log N(b | prior[1]),
    by Newton's method with step halving (the objective is strictly concave; an infinite sd is a flat prior);
    the prior means when x is empty. Also the reference class's map (``ref_scoring.recalibration_map``)."""
    x, y = _arr(x), _arr(y)
    mean, sd = _arr([p[0] for p in prior]), _arr([p[1] for p in prior])
    X = np.column_stack([np.ones_like(x), x])
    theta = mean.copy()
    for _ in range(200):
        p = 1.0 / (1.0 + np.exp(-(X @ theta)))
        grad = X.T @ (y - p) - (theta - mean) / sd ** 2
        if np.max(np.abs(grad)) < RECAL_TOL:
            return theta
        hess = -(X.T * (p * (1.0 - p))) @ X - np.diag(1.0 / sd ** 2)
        step = np.linalg.solve(hess, grad)
        f0, t = _platt_objective(theta, X, y, mean, sd), 1.0
        floor = f0 - 1e-12 * (1.0 + abs(f0))  # a full step that loses only rounding is taken
        while _platt_objective(theta - t * step, X, y, mean, sd) < floor and t > 1e-8:
            t /= 2
        theta = theta - t * step
    raise ForecastError(f"the recalibration of {len(x)} forecasts did not converge")  # not reached: concave


def _rescale(block: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Each row of ``block`` scaled to sum to ``total`` (spread evenly where it sums to zero)."""
    s = block.sum(axis=1, keepdims=True)
    even = np.broadcast_to(total[:, None] / block.shape[1], block.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > 0, block * (total[:, None] / s), even)


def recalibrated(category_probs, improved) -> tuple[np.ndarray, np.ndarray]:
    """The time-sliced recalibration of (n, 5) category forecasts: origin i's P(improve) goes through the
    map (a, b) = ``platt_map`` of the origins before it (logit P clipped at RECAL_EPS), and its categories
    keep their split within "improves" and within "does not improve". Returns the (n, 5) forecasts and
    the (n + 1, 2) maps; the last is learned from all n origins (the map for the origin after them)."""
    probs, y = _arr(category_probs), _arr(improved)
    p = np.clip(p_improve(probs), RECAL_EPS, 1.0 - RECAL_EPS)
    x = np.log(p) - np.log1p(-p)
    maps = np.array([platt_map(x[:i], y[:i]) for i in range(len(y) + 1)])
    q = 1.0 / (1.0 + np.exp(-(maps[:-1, 0] + maps[:-1, 1] * x)))
    return np.concatenate([_rescale(probs[:, :3], 1.0 - q), _rescale(probs[:, 3:], q)], axis=1), maps
