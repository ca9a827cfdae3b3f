"""Rank-normalised split R-hat and bulk/tail ESS (Vehtari, Gelman, Simpson, Carpenter and Buerkner
2021, "Rank-normalization, folding, and localization"), vectorised over every scalar of a variable.

These are ArviZ's estimators (``az.rhat`` with method "rank", ``az.ess`` with methods "bulk" and
"tail", arviz 0.23), computed the same way step by step: the same split of each chain into halves, the
same average ranks and Blom back-transform, the same FFT autocovariance, Geyer's initial positive and
monotone sequences and the same floor on tau. ArviZ applies them one scalar at a time in Python, which
took 1.55 s of every default fit for its 275 checked scalars (benchmarks/results/fit.md, "Ninth
session"); nearly all of it in SciPy's ``rankdata`` and ``norm.ppf``. Here each step runs over all scalars of
a variable at once, with the draws contiguous: average ranks from one quicksort per scalar, normal
scores from ``ndtri`` (bit-identical to ``norm.ppf``), and the rank-normalised split chains shared by
R-hat and bulk ESS. ``tests/test_mcmc_stats.py`` checks every value against ArviZ, on a real
posterior and on constant, tied, two-valued and short chains.

Input: an array (chain, draw, *shape). Output: an array of ``shape``. NaN where ArviZ gives NaN (any
NaN in a scalar's draws, fewer than 4 draws, or fewer than 2 chains for R-hat).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft, special

MIN_DRAWS = 4
TAIL_PROBS = (0.05, 0.95)
BLOM_C = 3.0 / 8.0


def _flat(x) -> tuple[np.ndarray, tuple[int, ...]]:
    """(P, chain, draw) contiguous float copy of ``x`` (chain, draw, *shape), and ``shape``."""
    x = np.asarray(x, dtype=float)
    if x.ndim < 2:
        raise ValueError(f"expected an array (chain, draw, ...), got shape {x.shape}")
    shape = x.shape[2:]
    return np.ascontiguousarray(np.moveaxis(x.reshape(x.shape[0], x.shape[1], -1), 2, 0)), shape


def _split(x: np.ndarray) -> np.ndarray:
    """(P, 2 chain, draw // 2): each chain's first and last halves as chains (the middle draw dropped if odd)."""
    half = x.shape[2] // 2
    return np.concatenate([x[:, :, :half], x[:, :, x.shape[2] - half:]], axis=1)


def average_ranks(a: np.ndarray) -> np.ndarray:
    """Ranks 1..n along the last axis, ties given their average rank (``scipy.stats.rankdata``'s
    "average", to the bit); no NaN."""
    n = a.shape[-1]
    order = np.argsort(a, axis=-1)
    s = np.take_along_axis(a, order, axis=-1)
    pos = np.broadcast_to(np.arange(n), a.shape)
    first = np.ones(a.shape, dtype=bool)
    first[..., 1:] = s[..., 1:] != s[..., :-1]
    last = np.ones(a.shape, dtype=bool)
    last[..., :-1] = first[..., 1:]
    start = np.maximum.accumulate(np.where(first, pos, 0), axis=-1)
    end = np.flip(np.minimum.accumulate(np.flip(np.where(last, pos, n - 1), axis=-1), axis=-1), axis=-1)
    ranks = np.empty(a.shape)
    np.put_along_axis(ranks, order, 0.5 * (start + end + 2), axis=-1)
    return ranks


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores of the average ranks over all chains and draws of each scalar (P, chain, draw)."""
    p, m, n = x.shape
    ranks = average_ranks(x.reshape(p, m * n))
    return special.ndtri((ranks - BLOM_C) / (m * n - 2 * BLOM_C + 1)).reshape(p, m, n)


def _rhat(x: np.ndarray) -> np.ndarray:
    """Gelman-Rubin R-hat per scalar of (P, chain, draw)."""
    n = x.shape[2]
    between = n * np.var(x.mean(axis=2), axis=1, ddof=1)
    within = np.var(x, axis=2, ddof=1).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((between / within + n - 1) / n)


def _n_pairs(n: int) -> int:
    """Number of autocorrelation pairs (rho[2k], rho[2k+1]) ArviZ may compute for ``n`` draws: pair 0
    and every k >= 1 with 2k - 1 < n - 3."""
    return min(max((n - 3) // 2, 0) + 1, max(n // 2, 1))


def _ess(x: np.ndarray) -> np.ndarray:
    """Effective sample size per scalar of (P, chain, draw), Geyer's initial monotone sequence."""
    p, m, n = x.shape
    out = np.full(p, np.nan)
    constant = (x.max(axis=(1, 2)) - x.min(axis=(1, 2))) < np.finfo(float).resolution
    out[constant] = m * n
    live = ~constant
    if not live.any():
        return out
    y = x[live]
    centred = y - y.mean(axis=2, keepdims=True)
    size = fft.next_fast_len(2 * n)
    spec = np.fft.rfft(centred, n=size, axis=2)
    spec *= np.conjugate(spec)
    acov = np.fft.irfft(spec, n=size, axis=2)[:, :, :n] / n                        # (P, chain, lag)
    mean_acov = acov.mean(axis=1)                                                   # (P, lag)
    mean_var = mean_acov[:, 0] * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus = var_plus + np.var(y.mean(axis=2), axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (mean_var[:, None] - mean_acov) / var_plus[:, None]
    nan = np.isnan(rho).any(axis=1)
    rho[:, 0] = 1.0
    # ArviZ computes pair k >= 1 while pair k-1's sum is > 0 (and 2k - 1 < n - 3), keeping the last one
    # computed only if its sum is >= 0; the pairs before it enter as a running minimum (monotone). (When
    # pair 0 sums to <= 0 ArviZ computes no pair; taking K = 1 instead gives tau <= 0 all the same, so
    # both end at the floor 1 / log10(chains x draws).)
    n_pairs = _n_pairs(n)
    pair = rho[:, 0:2 * n_pairs:2] + rho[:, 1:2 * n_pairs:2]                        # (P, pairs)
    stop = pair[:, 1:] <= 0.0
    has_stop = stop.any(axis=1)
    first_stop = np.argmax(stop, axis=1) + 1 if stop.shape[1] else np.zeros(len(pair), dtype=np.int64)
    K = np.where(has_stop, first_stop, n_pairs - 1)                     # the last pair computed
    rows = np.arange(len(K))
    k = np.arange(n_pairs)[None, :]
    running = np.minimum.accumulate(np.where(k < K[:, None], pair, np.inf), axis=1)
    summed = np.where(k < K[:, None], running, 0.0).sum(axis=1)
    last_even = rho[rows, 2 * K]
    # rho[2K] enters if positive, or if pair K was kept (for K = 0 it is rho[0] = 1)
    extra = np.where((last_even > 0.0) | (pair[rows, K] >= 0.0), last_even, 0.0)
    total = m * n
    tau = np.maximum(-1.0 + 2.0 * summed + extra, 1.0 / np.log10(total))
    ess = total / tau
    ess[nan] = np.nan
    out[live] = ess
    return out


def _invalid(x: np.ndarray, min_chains: int) -> np.ndarray:
    """Scalars ArviZ refuses: any NaN, or too few draws or chains."""
    bad = np.isnan(x).any(axis=(1, 2))
    if x.shape[2] < MIN_DRAWS or x.shape[1] < min_chains:
        bad[:] = True
    return bad


def _rhat_of(split: np.ndarray, z_split: np.ndarray) -> np.ndarray:
    folded = np.abs(split - np.median(split.reshape(split.shape[0], -1), axis=1)[:, None, None])
    bulk, tail = _rhat(z_split), _rhat(_z_scale(folded))
    return np.where(tail > bulk, tail, bulk)   # Python's max(bulk, tail), as ArviZ, NaN included


def _tail_of(x: np.ndarray) -> np.ndarray:
    q = np.quantile(x.reshape(x.shape[0], -1), TAIL_PROBS, axis=1)   # type 7, as ArviZ's mquantiles
    return np.minimum(*(_ess(_split((x <= qi[:, None, None]).astype(float))) for qi in q))


def diagnose(x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R-hat, bulk ESS, tail ESS) of each scalar of ``x`` (chain, draw, *shape), each of ``shape``;
    the rank-normalised split chains are computed once for R-hat and bulk ESS."""
    y, shape = _flat(x)
    out = np.full((3, y.shape[0]), np.nan)
    ok = ~_invalid(y, min_chains=1)
    if ok.any():
        z = y[ok]
        split = _split(z)
        z_split = _z_scale(split)
        if z.shape[1] >= 2:
            out[0, ok] = _rhat_of(split, z_split)
        out[1, ok] = _ess(z_split)
        out[2, ok] = _tail_of(z)
    return tuple(o.reshape(shape) for o in out)


def _per_scalar(x, min_chains: int, stat) -> np.ndarray:
    """``stat`` of the valid scalars of ``x`` (chain, draw, *shape), given as (P, chain, draw); NaN for
    the others; an array of ``shape``."""
    y, shape = _flat(x)
    out = np.full(y.shape[0], np.nan)
    ok = ~_invalid(y, min_chains=min_chains)
    if ok.any():
        out[ok] = stat(y[ok])
    return out.reshape(shape)


def _rhat_split(y: np.ndarray) -> np.ndarray:
    split = _split(y)
    return _rhat_of(split, _z_scale(split))


def rhat(x) -> np.ndarray:
    """Rank-normalised split R-hat: the larger of the bulk and the folded (tail) R-hat."""
    return _per_scalar(x, 2, _rhat_split)


def ess_bulk(x) -> np.ndarray:
    """Bulk ESS: the ESS of the rank-normalised split chains."""
    return _per_scalar(x, 1, lambda y: _ess(_z_scale(_split(y))))


def ess_tail(x) -> np.ndarray:
    """Tail ESS: the smaller ESS of the indicators of the 5% and 95% quantiles, on split chains."""
    return _per_scalar(x, 1, _tail_of)


@dataclass(frozen=True)
class VariableDiagnostics:
    """R-hat, bulk ESS and tail ESS of each scalar of one posterior variable (arrays of its shape)."""

    rhat: np.ndarray
    ess_bulk: np.ndarray
    ess_tail: np.ndarray


def diagnose_variables(posterior, names) -> dict[str, VariableDiagnostics]:
    """``diagnose`` of each named variable of ``posterior`` (an xarray Dataset with dims chain, draw)."""
    return {v: VariableDiagnostics(*diagnose(posterior[v].values)) for v in names}
