"""Scores of event-probability forecasts for claim-years, with intervals from a bootstrap over claims
(numpy only). Used by the reference-class backtest (``forecast.reference.backtest``).

Conventions (the Brier and log scores are ``validate.scoring``'s, shared with ``forecast backtest``):

* Brier score: mean squared error of the probability against the 0/1 outcome; lower is better.
* Log score: mean negative log-likelihood of the outcome in nats; lower is better.
* AUC: the Mann-Whitney probability that a claim-year with the event gets a higher forecast than
  one without it, ties counted half; 0.5 = no discrimination, 1 = perfect ranking, 0 = reversed.
* Calibration intercept (calibration-in-the-large): ``a`` in the logistic regression
  ``logit P(y = 1) = a + logit(p)`` (the forecast's logit as an offset); 0 when the forecasts are right
  on average, > 0 when they are too low.
* Calibration slope: ``b`` in ``logit P(y = 1) = a + b * logit(p)``; 1 when the forecasts spread as
  much as they should, < 1 when they are too extreme, > 1 when too timid. Undefined (NaN) for a
  forecast that is the same for every row.
* Skill: ``1 - score(model) / score(reference)`` for the log and Brier scores; higher is better,
  0 = no better than the reference.
* Intervals: central percentile intervals (``defaults.REF_LEVEL``, 90%) of a bootstrap that resamples
  whole claims with replacement (``defaults.REF_BOOTSTRAP`` replicates, seeded). A claim keeps all its
  claim-years, so the interval allows for the dependence between years of one claim. The bootstrap is
  paired: every forecast and every skill is scored on the same resampled claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from forecast.defaults import REF_BOOTSTRAP, REF_LEVEL, SEED
from forecast.errors import UsageError
from forecast.validate.scoring import brier, log_loss, platt_map

NEWTON_MAX_STEPS = 50   # calibration fits start at the perfectly calibrated point (a, b) = (0, 1)
NEWTON_TOL = 1e-8       # and stop when no parameter moves by more than this
NEWTON_HALVINGS = 30    # step halvings (damped Newton) before a step is taken anyway
LOGIT_CLIP = 1e-12      # forecasts of exactly 0 or 1 are moved this far inside (0, 1) for their logit
CHUNK_CELLS = 1_000_000  # replicates x rows held in memory at once by the calibration bootstrap


@dataclass(frozen=True)
class Estimate:
    """A point estimate on the full sample and its bootstrap percentile interval (NaN where undefined)."""

    value: float
    lo: float
    hi: float


@dataclass(frozen=True)
class ScoreSet:
    """Every score of one forecast on one set of claim-years. ``rate_ratio`` = mean_p / observed_rate."""

    log: Estimate
    brier: Estimate
    auc: Estimate
    cal_intercept: Estimate
    cal_slope: Estimate
    mean_p: Estimate
    observed_rate: Estimate
    rate_ratio: Estimate


SCORE_NAMES = tuple(ScoreSet.__dataclass_fields__)


@dataclass(frozen=True)
class ClaimBootstrap:
    """Scores of each forecast, and the log and Brier skill of ``model`` against each other forecast."""

    scores: dict[str, ScoreSet]
    log_skill: dict[str, Estimate]
    brier_skill: dict[str, Estimate]
    model: str
    n_rows: int
    n_events: int
    n_claims: int
    n_boot: int
    level: float
    seed: int


# --- point scores


def auc(p, y) -> float:
    """Mann-Whitney AUC with ties counted half; NaN when ``y`` has no events or no non-events."""
    p, y = np.asarray(p, float), np.asarray(y, float) > 0.5
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inverse = np.unique(p, return_inverse=True)
    pos = np.bincount(inverse, weights=y.astype(float))
    neg = np.bincount(inverse, weights=(~y).astype(float))
    below = np.cumsum(neg) - neg  # non-events with a strictly lower forecast
    return float(np.sum(pos * (below + 0.5 * neg)) / (n_pos * n_neg))


def _logit(p, clip: float = LOGIT_CLIP) -> np.ndarray:
    p = np.clip(np.asarray(p, float), clip, 1.0 - clip)
    return np.log(p) - np.log1p(-p)


def _expit(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic function


def _calibration(x: np.ndarray, y: np.ndarray, w: np.ndarray, slope: bool,
                 start: tuple[float, float] = (0.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic fits of ``y`` on ``x`` = logit(p), one per row of ``w`` (replicates x rows).

    ``slope=False``: ``logit P(y) = a + x`` (offset), Newton on ``a`` alone; ``b`` is returned as 1.
    ``slope=True``: ``logit P(y) = a + b x``, Newton on (a, b) with the exact 2x2 Hessian.
    Both start at ``start`` (the perfectly calibrated point (0, 1) unless told; the bootstrap starts at
    the full-sample fit) and take at most ``NEWTON_MAX_STEPS`` Newton steps, each halved while it would
    lower the log-likelihood (the likelihood is concave, so this converges); a replicate whose fit has not
    converged (e.g. perfect separation) or whose ``x`` does not vary (slope undefined) gets NaN."""
    R = w.shape[0]
    a0, b0 = (start[0], start[1]) if np.isfinite(start[0]) and np.isfinite(start[1]) else (0.0, 1.0)
    a, b = np.full(R, float(a0)), np.full(R, float(b0) if slope else 1.0)
    done = np.zeros(R, bool)
    wsum = w.sum(axis=1)
    if slope:
        xm = (w @ x) / np.where(wsum > 0, wsum, 1.0)
        spread = (w @ x**2) / np.where(wsum > 0, wsum, 1.0) - xm**2
        flat = ~(spread > 1e-12 * np.maximum(1.0, xm**2))
    else:
        flat = np.zeros(R, bool)

    def loglik(a, b):
        eta = a[:, None] + b[:, None] * x[None, :]
        return (w * (y[None, :] * eta - np.logaddexp(0.0, eta))).sum(axis=1), eta

    ll, eta = loglik(a, b)
    for _ in range(NEWTON_MAX_STEPS):
        mu = _expit(eta)
        v = w * (mu - mu * mu)
        r = w * (y[None, :] - mu)
        g0, h00 = r.sum(axis=1), v.sum(axis=1)
        if slope:
            g1, h01, h11 = r @ x, v @ x, v @ x**2
            det = h00 * h11 - h01**2
            ok = det > 0
            det = np.where(ok, det, 1.0)
            da = np.where(ok, (h11 * g0 - h01 * g1) / det, np.nan)
            db = np.where(ok, (h00 * g1 - h01 * g0) / det, np.nan)
        else:
            da = np.where(h00 > 0, g0 / np.where(h00 > 0, h00, 1.0), np.nan)
            db = np.zeros(R)
        step = np.where(done, 0.0, np.maximum(np.abs(da), np.abs(db)))
        # damped Newton: halve the step of any replicate whose log-likelihood would fall
        t = np.where(np.isfinite(step), 1.0, 0.0)
        for _ in range(NEWTON_HALVINGS):
            na, nb = np.where(done, a, a + t * np.nan_to_num(da)), np.where(done, b, b + t * np.nan_to_num(db))
            nll, neta = loglik(na, nb)
            worse = ~done & ~(nll >= ll - 1e-12 * (1.0 + np.abs(ll)))
            if not worse.any():
                break
            t = np.where(worse, t / 2, t)
        a, b, ll, eta = na, nb, nll, neta
        done = done | (step < NEWTON_TOL) | ~np.isfinite(step)
        if done.all():
            break
    done = done & np.isfinite(step)
    bad = ~done | ~np.isfinite(a) | ~np.isfinite(b) | flat
    return np.where(bad, np.nan, a), (np.where(bad, np.nan, b) if slope else np.ones(R))


RECAL_CLIP = 1e-9
RECAL_PRIOR = ((0.0, 1.0), (1.0, 0.5))  # (mean, sd) of a and b ("updated-lags-recal", benchmarks/reference_information.md)


def recalibration_map(p, y, prior=RECAL_PRIOR) -> tuple[float, float]:
    """Maximum a posteriori (a, b) of ``y ~ Bernoulli(sigmoid(a + b logit p))`` with ``a ~ N(*prior[0])`` and
    ``b ~ N(*prior[1])``, p clipped to [RECAL_CLIP, 1 - RECAL_CLIP] (``scoring.platt_map``; an infinite sd is
    a flat prior). With no rows, the prior means."""
    a, b = platt_map(_logit(p, RECAL_CLIP), y, prior)
    return float(a), float(b)


def recalibrated(p, a: float, b: float) -> np.ndarray:
    """sigmoid(a + b logit p), p clipped to [RECAL_CLIP, 1 - RECAL_CLIP]."""
    return _expit(a + b * _logit(p, RECAL_CLIP))


def calibration_intercept(p, y) -> float:
    """Calibration-in-the-large: ``a`` in ``logit P(y = 1) = a + offset(logit p)``, by Newton steps."""
    a, _ = _calibration(_logit(p), np.asarray(y, float), np.ones((1, len(y))), slope=False)
    return float(a[0])


def calibration_slope(p, y) -> float:
    """Calibration slope: ``b`` in ``logit P(y = 1) = a + b logit p``, by Newton steps (NaN if p is constant)."""
    _, b = _calibration(_logit(p), np.asarray(y, float), np.ones((1, len(y))), slope=True)
    return float(b[0])


def skill(score_model: float, score_ref: float) -> float:
    """``1 - score_model / score_ref`` (log or Brier score); NaN when the reference scores 0."""
    return float(1.0 - score_model / score_ref) if score_ref != 0 else float("nan")


# --- the claim-cluster bootstrap


def _per_claim(fn, p, y, idx, n_claims) -> np.ndarray:
    """Per-claim sums of a mean score ``fn`` (e.g. ``scoring.brier``): each claim's mean times its size."""
    out = np.zeros(n_claims)
    order = np.argsort(idx, kind="stable")
    bounds = np.searchsorted(idx[order], np.arange(n_claims + 1))
    for c in range(n_claims):
        rows = order[bounds[c]:bounds[c + 1]]
        out[c] = fn(p[rows], y[rows]) * len(rows)
    return out


def _auc_pairs(p, y, idx, n_claims) -> np.ndarray:
    """K[c, d] = sum over events i of claim c and non-events j of claim d of [p_i > p_j] + [p_i = p_j] / 2,
    so a replicate with claim counts ``m`` has AUC = m K m / ((m . events) (m . non-events))."""
    pos = np.flatnonzero(y > 0.5)
    neg = np.flatnonzero(y <= 0.5)
    K = np.zeros((n_claims, n_claims))
    for i in pos:
        hit = (p[i] > p[neg]) + 0.5 * (p[i] == p[neg])
        K[idx[i]] += np.bincount(idx[neg], weights=hit, minlength=n_claims)
    return K


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(values, [a, 1.0 - a])
    return float(lo), float(hi)


def _ratio(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)


def claim_bootstrap(forecasts: Mapping[str, np.ndarray], y, claims, *, model: str, n_boot: int = REF_BOOTSTRAP,
                    level: float = REF_LEVEL, seed: int = SEED) -> ClaimBootstrap:
    """Every score of every forecast (rows aligned with ``y`` and ``claims``), and the log and Brier
    skill of ``forecasts[model]`` against each other forecast, each with a paired claim-bootstrap
    percentile interval: replicate r draws len(unique claims) claims with replacement (seeded), and
    all forecasts and skills of replicate r are scored on those claims' rows."""
    y = np.asarray(y, float)
    claims = np.asarray(claims)
    if model not in forecasts:
        raise UsageError(f"claim_bootstrap: model {model!r} is not one of the forecasts ({', '.join(forecasts)})")
    if len(y) == 0:
        raise UsageError("claim_bootstrap: no rows to score (the test years hold no claim-years)")
    probs = {name: np.asarray(p, float) for name, p in forecasts.items()}
    for name, p in probs.items():
        if p.shape != y.shape or claims.shape != y.shape:
            raise UsageError(f"claim_bootstrap: forecast {name!r} has {p.shape[0]} rows, the outcomes {len(y)} "
                             f"and the claim ids {len(claims)}; give one value per claim-year")
    ids, idx = np.unique(claims, return_inverse=True)
    n_claims = len(ids)
    rng = np.random.default_rng(seed)
    M = rng.multinomial(n_claims, np.full(n_claims, 1.0 / n_claims), size=n_boot).astype(float)  # claim counts
    size = np.bincount(idx, minlength=n_claims).astype(float)
    events = np.bincount(idx, weights=y, minlength=n_claims)
    rows_b, events_b = M @ size, M @ events
    obs_b = _ratio(events_b, rows_b)

    point: dict[str, dict[str, float]] = {}
    boot: dict[str, dict[str, np.ndarray]] = {}
    for name, p in probs.items():
        mean_p = float(p.mean())
        point[name] = {"log": log_loss(p, y), "brier": brier(p, y), "auc": auc(p, y),
                       "cal_intercept": calibration_intercept(p, y), "cal_slope": calibration_slope(p, y),
                       "mean_p": mean_p, "observed_rate": float(y.mean()),
                       "rate_ratio": float(_ratio(mean_p, y.mean()))}
        K = _auc_pairs(p, y, idx, n_claims)
        # rows of one claim with the same forecast and outcome enter the fits once, with their count
        keys, gcount = np.unique(np.column_stack([idx, _logit(p), y]), axis=0, return_counts=True)
        g_claim, gx, gy = keys[:, 0].astype(int), keys[:, 1], keys[:, 2]
        full_a, _ = _calibration(gx, gy, gcount[None, :].astype(float), slope=False)
        full_ab = _calibration(gx, gy, gcount[None, :].astype(float), slope=True)
        chunk = max(1, CHUNK_CELLS // len(gx))
        ci, cs = np.empty(n_boot), np.empty(n_boot)
        for s in range(0, n_boot, chunk):
            w = M[s:s + chunk][:, g_claim] * gcount[None, :]
            ci[s:s + chunk] = _calibration(gx, gy, w, slope=False, start=(full_a[0], 1.0))[0]
            cs[s:s + chunk] = _calibration(gx, gy, w, slope=True, start=(full_ab[0][0], full_ab[1][0]))[1]
        mp = _ratio(M @ np.bincount(idx, weights=p, minlength=n_claims), rows_b)
        boot[name] = {"log": _ratio(M @ _per_claim(log_loss, p, y, idx, n_claims), rows_b),
                      "brier": _ratio(M @ _per_claim(brier, p, y, idx, n_claims), rows_b),
                      "auc": _ratio(((M @ K) * M).sum(axis=1), events_b * (rows_b - events_b)),
                      "cal_intercept": ci, "cal_slope": cs, "mean_p": mp, "observed_rate": obs_b,
                      "rate_ratio": _ratio(mp, obs_b)}

    def estimate(value: float, reps: np.ndarray) -> Estimate:
        return Estimate(float(value), *_interval(reps, level))

    scores = {name: ScoreSet(**{k: estimate(point[name][k], boot[name][k]) for k in SCORE_NAMES}) for name in probs}
    log_sk, brier_sk = {}, {}
    for ref in probs:
        if ref == model:
            continue
        log_sk[ref] = estimate(skill(point[model]["log"], point[ref]["log"]),
                               1.0 - _ratio(boot[model]["log"], boot[ref]["log"]))
        brier_sk[ref] = estimate(skill(point[model]["brier"], point[ref]["brier"]),
                                 1.0 - _ratio(boot[model]["brier"], boot[ref]["brier"]))
    return ClaimBootstrap(scores=scores, log_skill=log_sk, brier_skill=brier_sk, model=model, n_rows=len(y),
                          n_events=int(y.sum()), n_claims=n_claims, n_boot=n_boot, level=level, seed=seed)
