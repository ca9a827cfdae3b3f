"""Pareto-smoothed importance sampling in numpy (Vehtari, Simpson, Gelman, Yao & Gabry 2024).

A port of ArviZ's ``psislw`` (Apache-2.0) so that the update fast path does not
import ArviZ (2-3 s): reweighting 4,000-8,000 stored draws takes milliseconds.
"""

from __future__ import annotations

import numpy as np


def _gpdfit(ary: np.ndarray) -> tuple[float, float]:
    """Empirical-Bayes estimate of the generalized Pareto shape k and scale (Zhang & Stephens)."""
    prior_bs, prior_k = 3, 10
    n = len(ary)
    m_est = 30 + int(n ** 0.5)
    b_ary = 1 - np.sqrt(m_est / (np.arange(1, m_est + 1, dtype=float) - 0.5))
    b_ary /= prior_bs * ary[int(n / 4 + 0.5) - 1]
    b_ary += 1 / ary[-1]
    k_ary = np.log1p(-b_ary[:, None] * ary).mean(axis=1)
    len_scale = n * (np.log(-(b_ary / k_ary)) - k_ary - 1)
    weights = 1 / np.exp(len_scale - len_scale[:, None]).sum(axis=1)
    keep = weights >= 10 * np.finfo(float).eps
    weights, b_ary = weights[keep], b_ary[keep]
    weights /= weights.sum()
    b_post = np.sum(b_ary * weights)
    k_post = np.log1p(-b_post * ary).mean()
    sigma = -k_post / b_post
    k_post = (n * k_post + prior_k * 0.5) / (n + prior_k)
    return float(k_post), float(sigma)


def _gpinv(probs: np.ndarray, kappa: float, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return np.full_like(probs, np.nan)
    if abs(kappa) < np.finfo(float).eps:
        return -np.log1p(-probs) * sigma
    return np.expm1(-kappa * np.log1p(-probs)) / kappa * sigma


def psis(log_weights: np.ndarray, reff: float = 1.0) -> tuple[np.ndarray, float, float]:
    """Smooth raw log-weights. Returns (normalised weights, Pareto k, importance-sampling ESS)."""
    x = np.asarray(log_weights, dtype=float).copy()
    n = len(x)
    if np.ptp(x) == 0:
        return np.full(n, 1.0 / n), -np.inf, float(n)
    x -= x.max()
    cutoff_ind = -int(np.ceil(min(n / 5.0, 3 * (n / reff) ** 0.5))) - 1
    order = np.argsort(x)
    xcutoff = max(x[order[cutoff_ind]], np.log(np.finfo(float).tiny))
    tail = np.flatnonzero(x > xcutoff)
    k = np.inf
    if len(tail) > 4:
        tail_order = np.argsort(x[tail])
        x_tail = np.exp(x[tail]) - np.exp(xcutoff)
        k, sigma = _gpdfit(x_tail[tail_order])
        if np.isfinite(k):
            probs = np.arange(0.5, len(tail)) / len(tail)
            x[tail[tail_order]] = np.log(_gpinv(probs, k, sigma) + np.exp(xcutoff))
            x[x > 0] = 0
    w = np.exp(x - x.max())
    w /= w.sum()
    return w, float(k), float(1.0 / np.sum(w ** 2))
