"""Predictions of the reference model from its posterior draws, in numpy.

The model's frailty w_i ~ Gamma(1/theta, 1/theta) is integrated out, so a prediction conditions on it
through its conjugate posterior: after a claim's history rows with cumulative hazard H = sum exp(eta)
and d settlements, w | history ~ Gamma(1/theta + d, 1/theta + H), and the probability of settling in a
later row with exp(eta) = h, at risk after cumulative hazard H' (history plus the years between), is
1 - ((1/theta + H') / (1/theta + H' + h))^(1/theta + d)  (``kernels.gamma_frailty_hazard``), per draw.

* ``predict_settlement``: P(peaceful settlement in target year t | at risk through t-1) of target
  claim-years after the origin, reading only their keys (claim, year), averaged over draws. A claim in
  the history (rows with year < origin) accumulates H over its own history rows, then over every year
  after its last history row up to t-1 with the covariates of that row projected forward (duration
  advancing by the year gap, the others towards their training mean: ``horizon.py``). A claim absent from history ("new claim") gets the "new claim" profile (the training mean of
  the standardised covariates of rows with duration < 5), the prior frailty (H = 0, d = 0) at its
  earliest target year, H accumulating from that year on with the profile: so a new claim's rows are
  predicted from the earliest of its target rows passed in the same call. Issue/region effects of a
  level the fit has not seen are drawn from their hierarchical distributions per draw. An era after the
  training data is drawn per draw as the random walk continued: e_last + tau z (and so on for later eras).
* ``claim_survival``: posterior predictive P(no settlement over a claim's fitted rows) with the marginal
  (prior) frailty: mean over draws of S(n) = (1 + theta H(n))^(-1/theta), not conditioned on the claim's
  own outcome.

Random draws come from generators seeded by (seed, claim) and (seed, era), so a row's prediction does
not depend on which other rows are predicted with it (beyond a new claim's earliest target year).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.model import kernels
from forecast.reference.horizon import project
from forecast.reference.design import (KEYS, ReferenceDataError, era_index, lag_window_covariates, levels_index,
                                       raw_covariates, standardise)

ERA_STREAM = 0
CLAIM_STREAM = 1


@dataclass(frozen=True, eq=False)
class PosteriorDraws:
    """The stored posterior flattened to S draws (chain-major): scalars (S,), vectors (levels, S)."""

    alpha: np.ndarray
    beta: np.ndarray        # (covariates, S)
    sigma_issue: np.ndarray
    sigma_region: np.ndarray
    theta: np.ndarray       # variance of the gamma frailty
    tau: np.ndarray
    a_issue: np.ndarray     # (issues, S)
    a_region: np.ndarray    # (regions, S)
    era_level: np.ndarray   # (eras, S)

    @classmethod
    def of(cls, fit) -> "PosteriorDraws":
        post = fit.idata.posterior

        def flat(name):
            v = np.asarray(post[name].values, dtype=float)
            v = v.reshape((v.shape[0] * v.shape[1],) + v.shape[2:])
            return np.moveaxis(v, 0, -1)

        return cls(**{name: flat(name) for name in cls.__dataclass_fields__})

    @property
    def size(self) -> int:
        return self.alpha.shape[0]


def era_levels(d: PosteriorDraws, eras: np.ndarray, seed: int) -> np.ndarray:
    """(rows, S) era level of each row's era: the posterior level for a fitted era, the random walk
    continued per draw beyond the last fitted era."""
    eras = np.asarray(eras, dtype=np.int64)
    n_fit = d.era_level.shape[0]
    top = int(eras.max()) if eras.size else 0
    levels = d.era_level
    if top >= n_fit:
        z = np.random.default_rng([seed, ERA_STREAM]).standard_normal((top + 1 - n_fit, d.size))
        levels = np.concatenate([levels, levels[-1] + np.cumsum(d.tau * z, axis=0)], axis=0)
    return levels[eras]


def claim_rng(seed: int, claim: int) -> np.random.Generator:
    return np.random.default_rng([seed, CLAIM_STREAM, int(claim)])


def claim_effects(fit, d: PosteriorDraws, claim: int, issue, region, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(S,) issue and region effect of ``claim``: the fitted level's effect, else a per-claim draw from the
    hierarchy (sigma * z); ``issue``/``region`` None means unknown (a new claim)."""
    z = claim_rng(seed, claim).standard_normal((2, d.size))
    i = levels_index([issue], fit.issues)[0] if issue is not None else -1
    r = levels_index([region], fit.regions)[0] if region is not None else -1
    return (d.a_issue[i] if i >= 0 else d.sigma_issue * z[0],
            d.a_region[r] if r >= 0 else d.sigma_region * z[1])


def eta_draws(d: PosteriorDraws, x: np.ndarray, issue_effect, region_effect, era) -> np.ndarray:
    """(rows, S) linear predictor (cloglog scale, no frailty) through the model's kernel."""
    return kernels.reference_eta(d.alpha, issue_effect, region_effect, era, x, d.beta)


@dataclass(frozen=True, eq=False)
class ClaimHistory:
    """A claim's history rows summarised per draw: cumulative hazard ``H`` (S,), settlements ``events``,
    its effects, and its last row (standardised covariates ``x_last``, ``year``, ``duration``)."""

    H: np.ndarray
    events: int
    issue_effect: np.ndarray
    region_effect: np.ndarray
    x_last: np.ndarray
    year: int
    duration: int
    last_row: pd.DataFrame


def claim_history(fit, d: PosteriorDraws, rows: pd.DataFrame, seed: int) -> ClaimHistory:
    """Summary of one claim's history ``rows`` (sorted by year) under each draw."""
    last = rows.iloc[[-1]]
    claim = int(last["claim"].iloc[0])
    ie, re = claim_effects(fit, d, claim, str(last["issue"].iloc[0]), str(last["region"].iloc[0]), seed)
    x = standardise(raw_covariates(rows), fit.center, fit.scale)
    era = era_levels(d, era_index(rows["year"]), seed)
    H = np.exp(eta_draws(d, x, ie, re, era)).sum(axis=0)
    return ClaimHistory(H=H, events=int(np.asarray(rows["settled"]).sum()), issue_effect=ie, region_effect=re,
                        x_last=x[-1], year=int(last["year"].iloc[0]), duration=int(last["duration"].iloc[0]),
                        last_row=last)


def history_rows(fit, history: pd.DataFrame, through: int | None = None) -> pd.DataFrame:
    """The rows of ``history`` a forecast may read: year < ``through``, by default the fit's origin."""
    origin = fit.identity.origin
    if through is not None and origin is not None and through < origin:
        raise ReferenceDataError(f"a forecast through {through} reads less than the fit (origin {origin}) "
                                 "already saw; pass through >= the fit's origin")
    cut = through if through is not None else origin
    rows = history if cut is None else history[history["year"] < cut]
    return rows.sort_values(list(KEYS))


def path_covariates(fit, hist: ClaimHistory | None, years: np.ndarray) -> np.ndarray:
    """(years, covariates) standardised covariates of the years after a claim's history: its last history
    row with duration advanced, each other covariate projected towards its training mean as an AR(1)
    with the fit's ``persistence`` (``horizon.project``) (``hist``), or the new-claim profile (``hist`` None)."""
    if hist is None:
        return np.tile(np.asarray(fit.new_profile, dtype=float), (len(years), 1))
    rows = hist.last_row.iloc[np.zeros(len(years), dtype=np.int64)]
    raw = raw_covariates(rows, duration=hist.duration + (years - hist.year))
    return project(standardise(raw, fit.center, fit.scale), fit.persistence, years - hist.year)


def known_lags(fit, lags: pd.DataFrame | None, through: int | None) -> tuple[np.ndarray, dict]:
    """(positions of ``design.LAG_WINDOW`` in the covariates, {(claim, year): their standardised values}) of
    ``lags`` (columns KEYS + LAG_WINDOW), whose years must be before or at ``through`` (default the fit's
    origin): computed from the ten years before their own, they are known at the end of the year before it."""
    if lags is None or len(lags) == 0:
        return np.zeros(0, dtype=np.int64), {}
    cut = through if through is not None else fit.identity.origin
    years = np.asarray(lags["year"], dtype=np.int64)
    if cut is not None and years.max() > cut:
        raise ReferenceDataError(f"lag-window rows of year {int(years.max())} are not known at the end of "
                                 f"{cut - 1}; pass rows of years up to {cut} only")
    keys = list(zip(np.asarray(lags["claim"], dtype=np.int64).tolist(), years.tolist()))
    if len(set(keys)) != len(keys):
        raise ReferenceDataError("lag-window rows repeat a (claim, year)")
    pos, x = lag_window_covariates(lags, fit.center, fit.scale)
    return pos, dict(zip(keys, x))


def predict_settlement(fit, history: pd.DataFrame, targets: pd.DataFrame, seed: int,
                       through: int | None = None, lags: pd.DataFrame | None = None) -> np.ndarray:
    """P(peaceful settlement) of each row of ``targets`` (only its ``claim`` and ``year`` are read), from
    the ``history`` rows with year < ``through`` (default: the fit's origin; a later ``through`` lets a
    forecast read the claim-years known since, with the fit's parameters: the backtest's "updated"
    protocol) (see the module docstring); mean over draws.

    ``lags`` (optional; columns ``claim``, ``year`` and ``design.LAG_WINDOW``, years up to ``through``):
    the lag-window covariates of target claim-years, known at the end of the year before them. A target
    row of a claim with history that has one uses them for its own year instead of their projection
    (the "updated-lags" protocol); the other covariates stay projected."""
    claims = np.asarray(targets["claim"], dtype=np.int64)
    years = np.asarray(targets["year"], dtype=np.int64)
    if len(claims) == 0:
        return np.zeros(0)
    d = PosteriorDraws.of(fit)
    hist_rows = history_rows(fit, history, through)
    lag_pos, lag_x = known_lags(fit, lags, through)
    by_claim = {int(c): g for c, g in hist_rows.groupby("claim", sort=False)}
    first_target = pd.Series(years).groupby(claims).min().to_dict()
    table = era_levels(d, np.arange(int(era_index(years).max()) + 1), seed)  # (eras, S)
    cache: dict[int, tuple] = {}
    out = np.empty(len(claims))
    for r, (c, t) in enumerate(zip(claims.tolist(), years.tolist())):
        if c not in cache:
            if c in by_claim:
                h = claim_history(fit, d, by_claim[c], seed)
                cache[c] = (h, h.H, h.events, h.issue_effect, h.region_effect, h.year + 1)
            else:
                ie, re = claim_effects(fit, d, c, None, None, seed)
                cache[c] = (None, np.zeros(d.size), 0, ie, re, int(first_target[c]))
        h, H0, events, ie, re, start = cache[c]
        if t < start:
            raise ReferenceDataError(f"target claim {c} year {t} is not after its last history row "
                                     f"({start - 1}): predict only years after the history")
        path = np.arange(start, t + 1)
        x = path_covariates(fit, h, path)
        if h is not None and (c, t) in lag_x:
            x[-1, lag_pos] = lag_x[(c, t)]
        eta = eta_draws(d, x, ie, re, table[era_index(path)])
        hz = np.exp(eta)
        before = H0 + hz[:-1].sum(axis=0)
        out[r] = kernels.gamma_frailty_hazard(hz[-1], before, d.theta, events).mean()
    return out


def claim_survival(fit, claims_frame: pd.DataFrame, claim: int, seed: int = 0) -> float:
    """Posterior predictive P(no settlement over the claim's fitted rows) (rows with year < the fit's
    origin, their own covariates), with the marginal (prior) gamma frailty rather than its posterior given
    the claim's outcome: mean over draws of S(n) = (1 + theta H(n))^(-1/theta)."""
    rows = history_rows(fit, claims_frame)
    rows = rows[rows["claim"] == claim]
    if rows.empty:
        raise ReferenceDataError(f"claim {claim} has no rows before the fit's origin in the claim-years frame")
    d = PosteriorDraws.of(fit)
    h = claim_history(fit, d, rows, seed)
    return float(np.exp(kernels.gamma_frailty_log_survival(h.H, d.theta)).mean())


def period_shape(fit) -> float:
    """Shape k of the period multiplier's Gamma(k, k) prior: 1 / tau^2, with tau the posterior mean of
    the fit's era random-walk sd, so that var(log m) is about one era step (the backtest's
    "updated-level" protocol, benchmarks/reference_information.md)."""
    tau = float(np.mean(np.asarray(fit.idata.posterior["tau"].values, dtype=float)))
    if not tau > 0:
        raise ReferenceDataError(f"the fit's era random-walk sd has posterior mean {tau}; the period "
                                 "multiplier needs a positive one")
    return 1.0 / tau ** 2


def period_adjusted(p: np.ndarray, shape: float, observed: float, expected: float) -> np.ndarray:
    """P(settle) with the hazard multiplied by the posterior mean m = (k + D) / (k + E) of a Gamma(k, k)
    period multiplier after D observed settlements where the forecasts expected E: 1 - (1 - p)^m."""
    m = (shape + observed) / (shape + expected)
    return 1.0 - np.power(1.0 - np.asarray(p, dtype=float), m)

