"""Predictions of the reference model from its posterior draws, in numpy.

* ``predict_settlement``: P(peaceful settlement) of target claim-years after the origin, reading only
  their keys (claim, year). Covariates are frozen at each claim's last history row (year < origin),
  with duration advanced to the target year; a claim absent from history gets the "new claim" profile
  (the training mean of the standardised covariates of rows with duration < 5) and issue/region
  effects drawn from their hierarchical distributions per draw. A claim without a fitted frailty draws
  it from N(0, sigma_u) per draw. An era after the training data is drawn per draw as the random walk
  continued: e_last + tau z (and so on for later eras).
* ``claim_survival``: posterior predictive P(no settlement over a claim's fitted rows).

Random draws come from generators seeded by (seed, claim) and (seed, era), so a row's prediction does
not depend on which other rows are predicted with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.model import kernels
from forecast.reference.design import KEYS, ReferenceDataError, era_index, levels_index, raw_covariates, standardise

ERA_STREAM = 0
CLAIM_STREAM = 1


@dataclass(frozen=True, eq=False)
class PosteriorDraws:
    """The stored posterior flattened to S draws (chain-major): scalars (S,), vectors (levels, S)."""

    alpha: np.ndarray
    beta: np.ndarray        # (covariates, S)
    sigma_issue: np.ndarray
    sigma_region: np.ndarray
    sigma_u: np.ndarray
    tau: np.ndarray
    a_issue: np.ndarray     # (issues, S)
    a_region: np.ndarray    # (regions, S)
    era_level: np.ndarray   # (eras, S)
    u: np.ndarray           # (claims, S)

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
    n_fit = d.era_level.shape[0]
    top = int(eras.max()) if eras.size else 0
    levels = d.era_level
    if top >= n_fit:
        z = np.random.default_rng([seed, ERA_STREAM]).standard_normal((top + 1 - n_fit, d.size))
        levels = np.concatenate([levels, levels[-1] + np.cumsum(d.tau * z, axis=0)], axis=0)
    return levels[eras]


def claim_rng(seed: int, claim: int) -> np.random.Generator:
    return np.random.default_rng([seed, CLAIM_STREAM, int(claim)])


def row_terms(fit, d: PosteriorDraws, claims: np.ndarray, issues, regions, seed: int):
    """(rows, S) issue effect, region effect and unit frailty u for rows of ``claims``: the fitted
    values where the level or claim was fitted, else per-claim draws from the hierarchy (issue/region
    effect sigma * z, u ~ N(0, 1)); ``issues``/``regions`` None means unknown (a new claim)."""
    n, s = len(claims), d.size
    out = [np.empty((n, s)) for _ in range(3)]
    issue_ix = levels_index(issues, fit.issues) if issues is not None else np.full(n, -1)
    region_ix = levels_index(regions, fit.regions) if regions is not None else np.full(n, -1)
    claim_ix = levels_index(claims.tolist(), fit.claims)
    cache: dict[int, np.ndarray] = {}
    for r, c in enumerate(claims):
        c = int(c)
        if c not in cache:
            cache[c] = claim_rng(seed, c).standard_normal((3, s))
        z = cache[c]
        out[0][r] = d.a_issue[issue_ix[r]] if issue_ix[r] >= 0 else d.sigma_issue * z[0]
        out[1][r] = d.a_region[region_ix[r]] if region_ix[r] >= 0 else d.sigma_region * z[1]
        out[2][r] = d.u[claim_ix[r]] if claim_ix[r] >= 0 else z[2]
    return out


def hazard_logit_draws(fit, d: PosteriorDraws, x: np.ndarray, issue_effect, region_effect, era, u) -> np.ndarray:
    """(rows, S) logit hazard through the model's kernel."""
    return kernels.reference_hazard_logit(d.alpha, issue_effect, region_effect, era, x, d.beta, d.sigma_u, u)


def history_rows(fit, history: pd.DataFrame) -> pd.DataFrame:
    origin = fit.identity.origin
    rows = history if origin is None else history[history["year"] < origin]
    return rows.sort_values(list(KEYS))


def predict_settlement(fit, history: pd.DataFrame, targets: pd.DataFrame, seed: int) -> np.ndarray:
    """P(peaceful settlement) of each row of ``targets`` (only its ``claim`` and ``year`` are read), from
    the ``history`` rows with year < the fit's origin; mean over draws of sigmoid(logit h)."""
    claims = np.asarray(targets["claim"], dtype=np.int64)
    years = np.asarray(targets["year"], dtype=np.int64)
    if len(claims) == 0:
        return np.zeros(0)
    d = PosteriorDraws.of(fit)
    last = history_rows(fit, history).groupby("claim", sort=False).tail(1).set_index("claim")
    known = np.isin(claims, last.index.to_numpy())
    k = len(fit.covariates)
    x = np.tile(np.asarray(fit.new_profile, dtype=float), (len(claims), 1)) if k else np.zeros((len(claims), 0))
    issues = np.array([None] * len(claims), dtype=object)
    regions = issues.copy()
    if known.any():
        rows = last.loc[claims[known]]
        gap = years[known] - rows["year"].to_numpy()
        if (gap <= 0).any():
            bad = int(np.flatnonzero(gap <= 0)[0])
            raise ReferenceDataError(f"target claim {int(claims[known][bad])} year {int(years[known][bad])} is not "
                                     f"after its last history row: predict only years after the history")
        raw = raw_covariates(rows, duration=rows["duration"].to_numpy() + gap)
        x[known] = standardise(raw, fit.center, fit.scale)
        issues[known] = rows["issue"].astype(str).to_numpy()
        regions[known] = rows["region"].astype(str).to_numpy()
    issue_e, region_e, u = row_terms(fit, d, claims, issues, regions, seed)
    era = era_levels(d, era_index(years), seed)
    logit_h = hazard_logit_draws(fit, d, x, issue_e, region_e, era, u)
    return kernels.sigmoid(logit_h).mean(axis=1)


def claim_survival(fit, claims_frame: pd.DataFrame, claim: int, seed: int = 0) -> float:
    """Posterior predictive P(no settlement over the claim's fitted rows): mean over draws of
    prod_t (1 - h[t]), with the rows' own covariates (rows with year < the fit's origin)."""
    rows = history_rows(fit, claims_frame)
    rows = rows[rows["claim"] == claim]
    if rows.empty:
        raise ReferenceDataError(f"claim {claim} has no rows before the fit's origin in the claim-years frame")
    d = PosteriorDraws.of(fit)
    x = standardise(raw_covariates(rows), fit.center, fit.scale)
    claims = rows["claim"].to_numpy()
    issue_e, region_e, u = row_terms(fit, d, claims, rows["issue"].astype(str).to_numpy(),
                                     rows["region"].astype(str).to_numpy(), seed)
    era = era_levels(d, era_index(rows["year"]), seed)
    logit_h = hazard_logit_draws(fit, d, x, issue_e, region_e, era, u)
    log_surv = -np.logaddexp(0.0, logit_h).sum(axis=0)  # log prod (1 - sigmoid)
    return float(np.exp(log_surv).mean())
