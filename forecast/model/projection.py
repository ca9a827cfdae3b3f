"""Forward projection of the lens states and the headline probabilities (numpy only).

For every posterior draw the latent factors are projected beyond the last data
year with their AR(1) dynamics; the probability of improvement next year and of
settlement within H years are averaged over ``paths`` simulated futures per
draw, so each draw yields a probability and the spread across draws is the
posterior uncertainty of that probability.

Evidence about the forecast year itself enters here, exactly:
* a reading of an indicator in the forecast year weights each simulated path by
  its likelihood (importance sampling within a draw); the draw's marginal
  likelihood (mean over paths) is returned as a log-weight across draws;
* a coded event in the forecast year shifts its lens by the draw's event effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from forecast import LENSES
from forecast.defaults import HORIZONS, PROJECTION_PATHS
from forecast.model.kernels import (ar1_step, capacity, hazard_logit, improve_logodds, lens_from_factors,
                                    logit, measurement_logpdf, ordered_logistic_probs, ordered_logistic_sf, sigmoid)

INTERVAL_TYPE = "equal-tailed posterior interval"


@dataclass
class Draws:
    """Flattened posterior draws needed for the projection (S draws)."""

    rho: np.ndarray        # (S, F)
    eta_last: np.ndarray   # (S, F)
    beta: np.ndarray       # (S, 3)
    cutpoints: np.ndarray  # (S, 4)
    base_rate: np.ndarray  # (S,)
    gamma: np.ndarray      # (S, 3) power, trust, capacity
    delta: np.ndarray      # (S,)
    event_effect: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (S, E)

    @classmethod
    def from_posterior(cls, post) -> "Draws":
        """``post``: a mapping of name -> array shaped (chain, draw, ...)."""
        def flat(name):
            a = np.asarray(post[name])
            return a.reshape(a.shape[0] * a.shape[1], *a.shape[2:])

        return cls(
            rho=flat("state_persistence"),
            eta_last=flat("factor_state")[:, :, -1],
            beta=np.stack([flat(f"beta_{lens}") for lens in LENSES], axis=1),
            cutpoints=flat("cutpoints"),
            base_rate=flat("settlement_base_rate"),
            gamma=np.stack([flat("gamma_power"), flat("gamma_trust"), flat("gamma_capacity")], axis=1),
            delta=flat("delta_barrier"),
            event_effect=flat("event_effect"),
        )


@dataclass
class NextYearEvidence:
    """Evidence dated in the forecast year: indicator readings and coded events."""

    # each reading: (factor index, intercept draws (S,), loading draws (S,), sd draws (S,), standardised value)
    readings: list = field(default_factory=list)
    # lens shift per draw from coded events in the forecast year, (S, 3)
    shift: np.ndarray | None = None


def _wmean(x, w, axis=1):
    """Weighted mean over ``axis`` with weights (S, P) normalised per draw."""
    if w is None:
        return x.mean(axis)
    return (x * w.reshape(w.shape + (1,) * (x.ndim - w.ndim))).sum(axis)


def project(d: Draws, barrier_last: float, horizons=HORIZONS, paths: int = PROJECTION_PATHS, seed: int = 0,
            evidence: NextYearEvidence | None = None) -> dict:
    """Per-draw probabilities and lens contributions. Returns arrays of shape (S,) or (S, k),
    plus ``draw_logweight`` (S,): the log marginal likelihood of forecast-year readings."""
    rng = np.random.default_rng(seed)
    S, F = d.rho.shape
    H = max(horizons)
    eta = np.repeat(d.eta_last[:, None, :], paths, axis=1)  # (S, P, F)
    logit_base = logit(d.base_rate)
    survive = np.ones((S, paths))
    shift = np.zeros((S, 3)) if evidence is None or evidence.shift is None else evidence.shift
    w = None
    out: dict[str, np.ndarray] = {"draw_logweight": np.zeros(S)}
    for h in range(1, H + 1):
        eta = ar1_step(eta, d.rho[:, None, :], rng.standard_normal((S, paths, F)))
        lens = lens_from_factors(eta)  # (S, P, 3)
        if h == 1:
            if evidence is not None and evidence.readings:
                logw = np.zeros((S, paths))
                for f, a, lam, sd, x in evidence.readings:
                    logw += measurement_logpdf(x, a[:, None], lam[:, None], eta[..., f], sd[:, None])
                m = logw.max(1, keepdims=True)
                ew = np.exp(logw - m)
                out["draw_logweight"] = np.log(ew.mean(1)) + m[:, 0]
                w = ew / ew.sum(1, keepdims=True)
            lp = improve_logodds(d.beta[:, None, :], lens, shift[:, None, :])
            out["improve_next_year"] = _wmean(ordered_logistic_sf(lp, d.cutpoints[:, None, 2]), w)
            out["change_probs"] = _wmean(ordered_logistic_probs(lp, d.cutpoints[:, None, :]), w)  # (S, 5)
            mean_lens = _wmean(lens, w)  # E[lens state next year | draw, evidence]
            out["contribution_improve"] = d.beta * (mean_lens + shift)
            out["lens_state_next"] = mean_lens
            out["leaders_sides_next"] = _wmean(eta[..., 2:4], w)  # russia, japan
            cap_next = _wmean(capacity(eta), w)
            out["contribution_settle"] = np.stack(
                [d.gamma[:, 0] * mean_lens[:, 0], d.gamma[:, 1] * mean_lens[:, 1], d.gamma[:, 2] * cap_next], axis=1)
            out["barrier_settle"] = -d.delta * barrier_last
        hz = sigmoid(hazard_logit(logit_base[:, None], d.gamma[:, None, 0], d.gamma[:, None, 1], d.gamma[:, None, 2],
                                  d.delta[:, None], lens[..., 0], lens[..., 1], capacity(eta), barrier_last))
        survive = survive * (1 - hz)
        if h in horizons:
            out[f"settle_within_{h}y"] = _wmean(1 - survive, w)
    return out


def weighted_quantile(x: np.ndarray, q, weights: np.ndarray | None = None) -> np.ndarray:
    if weights is None:
        return np.quantile(x, q)
    order = np.argsort(x)
    cw = np.cumsum(weights[order])
    cw = (cw - 0.5 * weights[order]) / cw[-1]
    return np.interp(q, cw, x[order])


def summarise(x: np.ndarray, weights: np.ndarray | None = None) -> dict:
    """Mean and equal-tailed 80% and 95% intervals of per-draw probabilities
    (optionally under normalised importance weights)."""
    q = weighted_quantile(x, [0.025, 0.10, 0.90, 0.975], weights)
    mean = float(np.mean(x)) if weights is None else float(np.sum(weights * x))
    return {"mean": mean, "lo80": float(q[1]), "hi80": float(q[2]), "lo95": float(q[0]), "hi95": float(q[3])}
