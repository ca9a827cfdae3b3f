"""The profiled claim (data/reference/claim_profile.csv: ICOW 82804 in the shipped default) as a member
of the reference class: the terms the main model's settlement hazard takes from the pooled posterior.

``claim_terms(fit, profile, as_of)`` gives, per posterior draw:

* ``level``: the logit of the yearly hazard of claim 82804 as of ``as_of``, conditional on its history:
  the gamma frailty's conjugate posterior Gamma(1/theta + d, 1/theta + H) from the claim's profile rows
  the fit learned from (year <= the training data's last year and < the origin, i.e. up to 2001 for the
  full fit; H = sum of their exp(eta) with their own covariates, d their settlements), and the hazard
  1 - ((1/theta + H) / (1/theta + H + h))^(1/theta + d) of a year with exp(eta) = h (the years between
  the training data and ``as_of`` are not conditioned on: the main model observes them itself); eta
  has the claim's issue and region effects, the era of ``as_of`` (the random walk continued beyond the
  training data), log1p duration at ``as_of``, the lens-mapped covariates (log_cinc_ratio, recyes10,
  ratfail10) at their mean over profile rows 1992..as_of-1, and every other covariate at its latest
  profile value (year < as_of);
* the lens coefficients, per training sd of the (log1p-transformed) covariate:
  gamma_power = beta[log_cinc_ratio], gamma_trust = beta[recyes10], gamma_capacity = -beta[ratfail10]
  (a ratification failure is low capacity, so the sign is reversed). beta is on the complementary
  log-log scale of the model; for hazards of a few percent that equals the logit scale of ``level`` to
  within a few percent (cloglog(h) - logit(h) = log(-log(1-h)) - log(h/(1-h)), about -h/2).

Covariates without a lens counterpart (d_log_cinc_ratio10, recno10, attempt_lag, recmid10, recmidwt,
icowsal, salint, duration) enter ``level`` only, at the values above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.defaults import REFERENCE_CLAIM, REFERENCE_LENS_WINDOW_START, SEED
from forecast.reference.design import KEYS, ReferenceDataError, era_index, raw_covariates, standardise
from forecast.model import kernels
from forecast.reference.predict import PosteriorDraws, claim_effects, claim_history, era_levels, eta_draws, history_rows

MAPPING = (("power", "log_cinc_ratio"), ("trust", "recyes10"), ("leaders", "ratfail10 (sign reversed)"))
LENS_COVARIATES = ("log_cinc_ratio", "recyes10", "ratfail10")


@dataclass(frozen=True)
class SettlementEvidence:
    """What the reference posterior learned from."""

    claim_years: int
    settlements: int
    claims: int
    first_year: int
    last_year: int
    posterior_sha256: str


@dataclass(frozen=True, eq=False)
class ClaimTerms:
    """Per-draw settlement-hazard terms for the profiled claim (see the module docstring)."""

    level: np.ndarray
    gamma_power: np.ndarray
    gamma_trust: np.ndarray
    gamma_capacity: np.ndarray
    evidence: SettlementEvidence
    mapping: tuple[tuple[str, str], ...] = MAPPING


def settlement_evidence(fit) -> SettlementEvidence:
    from forecast.reference.model import STORED_VARIABLES
    from forecast.reference.store import posterior_sha256

    s = fit.summary
    if s is None:
        raise ReferenceDataError("the reference fit carries no training summary; refit it")
    return SettlementEvidence(claim_years=s.claim_years, settlements=s.settlements, claims=s.claims,
                              first_year=s.first_year, last_year=s.last_year,
                              posterior_sha256=posterior_sha256(fit.idata.posterior[list(STORED_VARIABLES)]))


def claim_terms(fit, profile, as_of: int, *, seed: int = SEED, claim: int = REFERENCE_CLAIM) -> ClaimTerms:
    """The profiled claim's hazard terms as of ``as_of`` from ``profile.frame`` (its claim-years, Interface A)."""
    frame = profile.frame
    rows = frame[(frame["claim"] == claim) & (frame["year"] < as_of)].sort_values(list(KEYS))
    if rows.empty:
        raise ReferenceDataError(f"the claim profile has no rows of claim {claim} before {as_of}")
    latest = rows.iloc[[-1]].copy()
    window = rows[rows["year"] >= REFERENCE_LENS_WINDOW_START]
    if window.empty:
        window = latest
    for name in LENS_COVARIATES:
        latest[name] = float(np.nanmean(np.asarray(window[name], dtype=float)))
    duration = np.array([as_of - int(latest["start_year"].iloc[0])], dtype=float)
    x = standardise(raw_covariates(latest, duration=duration), fit.center, fit.scale)
    d = PosteriorDraws.of(fit)
    fitted = history_rows(fit, rows)
    if fit.summary is not None:
        fitted = fitted[fitted["year"] <= fit.summary.last_year]
    if fitted.empty:  # no training-era rows: the prior frailty
        H, events = np.zeros(d.size), 0
        issue_e, region_e = claim_effects(fit, d, claim, str(latest["issue"].iloc[0]),
                                          str(latest["region"].iloc[0]), seed)
    else:
        h = claim_history(fit, d, fitted, seed)
        H, events, issue_e, region_e = h.H, h.events, h.issue_effect, h.region_effect
    era = era_levels(d, era_index([as_of]), seed)
    eta = eta_draws(d, x, issue_e, region_e, era)[0]
    level = kernels.gamma_frailty_hazard_logit(np.exp(eta), H, d.theta, events)
    ix = {name: i for i, name in enumerate(fit.covariates)}
    return ClaimTerms(level=level, gamma_power=d.beta[ix["log_cinc_ratio"]].copy(),
                      gamma_trust=d.beta[ix["recyes10"]].copy(), gamma_capacity=-d.beta[ix["ratfail10"]],
                      evidence=settlement_evidence(fit))
