"""Forward projection of the lens states and the headline probabilities (numpy only).

For every posterior draw the latent factors are projected beyond the last data
year with their AR(1) dynamics; the probability of improvement next year and of
settlement within H years are averaged over ``paths`` simulated futures per
draw, so each draw yields a probability and the spread across draws is the
posterior uncertainty of that probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import LENSES

INTERVALS = (0.80, 0.95)
INTERVAL_TYPE = "equal-tailed posterior interval"


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmin_np(a, b, k=3.0):
    m = np.minimum(a, b)
    return m - np.log(np.exp(-k * (a - m)) + np.exp(-k * (b - m))) / k


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
        )


def lens_from_factors(eta):
    """(..., 4 factors) -> (..., 3 lenses): leaders is the mean of its two sides."""
    return np.stack([eta[..., 0], eta[..., 1], 0.5 * (eta[..., 2] + eta[..., 3])], axis=-1)


def project(d: Draws, barrier_last: float, horizons=(5, 10), paths: int = 64, seed: int = 0) -> dict:
    """Per-draw probabilities and lens contributions. Returns arrays of shape (S,) or (S, 3)."""
    rng = np.random.default_rng(seed)
    S, F = d.rho.shape
    H = max(horizons)
    innov_sd = np.sqrt(1 - d.rho ** 2)
    eta = np.repeat(d.eta_last[:, None, :], paths, axis=1)  # (S, P, F)
    logit_base = np.log(d.base_rate) - np.log1p(-d.base_rate)
    survive = np.ones((S, paths))
    out: dict[str, np.ndarray] = {}
    for h in range(1, H + 1):
        eta = d.rho[:, None, :] * eta + innov_sd[:, None, :] * rng.standard_normal((S, paths, F))
        lens = lens_from_factors(eta)  # (S, P, 3)
        if h == 1:
            lp = (d.beta[:, None, :] * lens).sum(-1)
            out["improve_next_year"] = sigmoid(lp - d.cutpoints[:, None, 2]).mean(1)
            # P(each change category) next year, averaged over paths
            cdf = sigmoid(d.cutpoints[:, None, :] - lp[..., None])  # P(y <= k), k = 0..3
            cdf = np.concatenate([cdf, np.ones(cdf.shape[:-1] + (1,))], axis=-1)
            out["change_probs"] = np.diff(cdf, prepend=0.0, axis=-1).mean(1)  # (S, 5)
            mean_lens = lens_from_factors(d.rho * d.eta_last)  # E[lens state next year | draw]
            out["contribution_improve"] = d.beta * mean_lens
            out["lens_state_next"] = mean_lens
            out["leaders_sides_next"] = d.rho[:, 2:4] * d.eta_last[:, 2:4]  # russia, japan
            cap_next = softmin_np(d.rho[:, 2] * d.eta_last[:, 2], d.rho[:, 3] * d.eta_last[:, 3])
            out["contribution_settle"] = np.stack(
                [d.gamma[:, 0] * mean_lens[:, 0], d.gamma[:, 1] * mean_lens[:, 1],
                 d.gamma[:, 2] * cap_next], axis=1)
            out["barrier_settle"] = -d.delta * barrier_last
        cap = softmin_np(eta[..., 2], eta[..., 3])
        hz = sigmoid(logit_base[:, None] + d.gamma[:, None, 0] * lens[..., 0] + d.gamma[:, None, 1] * lens[..., 1]
                     + d.gamma[:, None, 2] * cap - d.delta[:, None] * barrier_last)
        survive = survive * (1 - hz)
        if h in horizons:
            out[f"settle_within_{h}y"] = (1 - survive).mean(1)
    return out


def summarise(x: np.ndarray) -> dict:
    """Mean and equal-tailed 80% and 95% intervals of per-draw probabilities."""
    q = np.quantile(x, [0.025, 0.10, 0.90, 0.975])
    return {"mean": float(np.mean(x)), "lo80": float(q[1]), "hi80": float(q[2]),
            "lo95": float(q[0]), "hi95": float(q[3])}
