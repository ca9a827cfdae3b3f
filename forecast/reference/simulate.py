"""A simulated reference class with known parameters: the recovery benchmark's data, and the
development stand-in for the real claim-years (same columns as Interface A, ``source`` = "simulated").

Shape like the real data: ~400 claims of 10-55 years (about 25 at risk on average) starting 1816-1990, censored
at 2001, yearly settlement hazard about 2%. Covariates follow simple exogenous processes (a CINC-ratio
random walk, yearly attempts with or without agreement and ratification failures, MIDs, claim-level
salience); the outcome follows the model of ``model.py`` exactly: a gamma frailty w per claim (mean 1,
variance theta) times the cloglog hazard. Claims also end without settlement
("dropped") at their drawn natural end before 2002: censoring, as in the real data.

The generating linear predictor standardises X with the mean and sd of the whole simulated panel
before truncation (known constants). A fit standardises with its own training rows, so ``fit_truth``
re-expresses the true alpha and beta in the fit's parametrisation exactly:
beta'_k = beta_k s'_k / s_k and alpha' = alpha + sum_k beta_k (m'_k - m_k) / s_k.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecast.defaults import REFERENCE_ERA_EDGES
from forecast.model import kernels
from forecast.reference.design import COVARIATES, era_index, raw_covariates, standardisation

ISSUES = ("territorial", "river", "maritime")
REGIONS = ("americas", "europe", "africa", "middle_east", "asia")
COLUMNS = ("claim", "year", "issue", "region", "chal", "tgt", "start_year", "duration", "icowsal", "salint",
           "attempt_lag", "recyes10", "recno10", "recmid10", "recmidwt", "ratfail10", "cinc_chal", "cinc_tgt",
           "log_cinc_ratio", "d_log_cinc_ratio10", "ending", "settled", "source")
LAST_YEAR = 2001
LOOKBACK = 10


@dataclass(frozen=True, eq=False)
class SimulationTruth:
    """Parameters of the simulated hazard (beta in the order of ``design.COVARIATES``)."""

    alpha: float
    beta: np.ndarray
    sigma_issue: float
    sigma_region: float
    theta: float
    tau: float
    a_issue: np.ndarray
    a_region: np.ndarray
    era_level: np.ndarray


@dataclass(frozen=True, eq=False)
class SimulatedReference:
    """ClaimYears-compatible (``frame``, ``sha256``) with the truth: ``truth`` generated the data, and
    ``fit_truth`` is the same model in a fit's standardisation of these rows (all rows)."""

    frame: pd.DataFrame
    sha256: str
    truth: SimulationTruth
    fit_truth: SimulationTruth
    center: np.ndarray  # the generating standardisation (whole panel before truncation)
    scale: np.ndarray

    def truth_for(self, rows: pd.DataFrame) -> SimulationTruth:
        """The truth in the standardisation a fit on ``rows`` uses (e.g. the rows before an origin)."""
        return in_fit_scale(self.truth, self.center, self.scale, rows)


def in_fit_scale(truth: SimulationTruth, m: np.ndarray, s: np.ndarray, rows: pd.DataFrame) -> SimulationTruth:
    """``truth`` (generated with standardisation m, s) re-expressed in the standardisation of ``rows``."""
    m2, s2 = standardisation(raw_covariates(rows))
    return replace(truth, beta=truth.beta * s2 / s, alpha=float(truth.alpha + np.sum(truth.beta * (m2 - m) / s)))


def draw_truth(rng: np.random.Generator) -> SimulationTruth:
    """True parameters near what the real data suggest: ~2% yearly hazard, moderate effects."""
    n_eras = len(REFERENCE_ERA_EDGES) - 1
    sigma_issue, sigma_region = rng.uniform(0.1, 0.4, 2)
    tau = rng.uniform(0.1, 0.4)
    steps = tau * rng.standard_normal(n_eras - 1)
    return SimulationTruth(alpha=float(kernels.logit(0.02) + rng.normal(0, 0.2)),
                           beta=rng.normal(0.0, 0.3, len(COVARIATES)),
                           sigma_issue=float(sigma_issue), sigma_region=float(sigma_region),
                           theta=float(rng.uniform(0.3, 1.2)), tau=float(tau),
                           a_issue=sigma_issue * rng.standard_normal(len(ISSUES)),
                           a_region=sigma_region * rng.standard_normal(len(REGIONS)),
                           era_level=np.concatenate([[0.0], np.cumsum(steps)]))


def _lagged_sum(x: np.ndarray, weights=None) -> np.ndarray:
    """sum over j = 1..LOOKBACK of x[t - j] (times weights[j - 1]), for every t."""
    w = np.ones(LOOKBACK) if weights is None else np.asarray(weights)
    out = np.zeros(len(x))
    for j in range(1, LOOKBACK + 1):
        out[j:] += w[j - 1] * x[:-j]
    return out


def _claim_panel(rng: np.random.Generator, claim: int, start: int, end: int) -> dict:
    """Covariates of one claim's potential years start..end (before any settlement)."""
    n = end - start + 1
    pre = LOOKBACK + n  # the processes run LOOKBACK years before the claim starts
    lcr = rng.normal(0.0, 1.2) + np.cumsum(rng.normal(0.0, 0.05, pre))
    attempt = (rng.random(pre) < rng.beta(2, 10)) & (np.arange(pre) >= LOOKBACK)  # no talks before the claim
    agree = attempt & (rng.random(pre) < 0.6)
    ratfail = agree & (rng.random(pre) < 0.15)
    mid = (rng.random(pre) < rng.beta(1, 8)) & (np.arange(pre) >= LOOKBACK)
    sl = slice(LOOKBACK, None)
    icowsal = int(rng.integers(0, 13))
    cinc_tgt = float(rng.uniform(0.005, 0.05))
    return {
        "claim": np.full(n, claim), "year": np.arange(start, end + 1), "start_year": np.full(n, start),
        "duration": np.arange(n), "icowsal": np.full(n, icowsal),
        "salint": np.full(n, int(rng.integers(0, min(6, icowsal) + 1))),
        "attempt_lag": np.concatenate([[False], attempt[:-1]])[sl].astype(np.int64),
        "recyes10": _lagged_sum(agree)[sl], "recno10": _lagged_sum(attempt & ~agree)[sl],
        "recmid10": _lagged_sum(mid)[sl],
        "recmidwt": np.round(_lagged_sum(mid, (LOOKBACK + 1 - np.arange(1, LOOKBACK + 1)) / LOOKBACK)[sl], 6),
        "ratfail10": _lagged_sum(ratfail)[sl], "log_cinc_ratio": lcr[sl],
        "d_log_cinc_ratio10": lcr[sl] - lcr[:n], "cinc_tgt": np.full(n, cinc_tgt),
        "cinc_chal": cinc_tgt * np.exp(lcr[sl]),
    }


def simulate_claim_years(seed: int, n_claims: int = 400, truth: SimulationTruth | None = None) -> SimulatedReference:
    """A simulated reference class (see the module docstring), seeded."""
    rng = np.random.default_rng(seed)
    truth = truth or draw_truth(rng)
    panels = []
    for c in range(n_claims):
        start = int(rng.integers(REFERENCE_ERA_EDGES[0], 1991))
        natural_end = start + int(rng.integers(10, 56)) - 1
        p = _claim_panel(rng, 10_000 + c, start, min(natural_end, LAST_YEAR))
        p["issue"] = np.full(len(p["year"]), ISSUES[rng.choice(3, p=(0.5, 0.2, 0.3))])
        p["region"] = np.full(len(p["year"]), REGIONS[int(rng.integers(0, len(REGIONS)))])
        p["w"] = np.full(len(p["year"]), rng.gamma(1.0 / truth.theta, truth.theta))  # mean 1, variance theta
        p["dropped"] = np.r_[np.zeros(len(p["year"]) - 1, bool), natural_end <= LAST_YEAR]
        panels.append(pd.DataFrame(p))
    full = pd.concat(panels, ignore_index=True)
    raw = raw_covariates(full)
    m, s = standardisation(raw)
    eta = kernels.reference_eta(
        truth.alpha, truth.a_issue[[ISSUES.index(i) for i in full["issue"]]],
        truth.a_region[[REGIONS.index(r) for r in full["region"]]], truth.era_level[era_index(full["year"])],
        (raw - m) / s, truth.beta)
    hazard = -np.expm1(-full["w"].to_numpy() * np.exp(eta))  # cloglog hazard given the claim's frailty w
    full["settled"] = (rng.random(len(full)) < hazard).astype(np.int64)
    # keep each claim's rows up to its first settlement
    before = full.groupby("claim")["settled"].cumsum() - full["settled"]
    frame = full[before == 0].copy()
    frame["ending"] = np.where(frame["settled"] == 1, "peaceful", np.where(frame["dropped"], "dropped", "ongoing"))
    frame["chal"], frame["tgt"] = 2 * frame["claim"], 2 * frame["claim"] + 1
    frame["source"] = "simulated"
    ints = ("claim", "year", "chal", "tgt", "start_year", "duration", "icowsal", "salint", "attempt_lag",
            "recyes10", "recno10", "recmid10", "ratfail10", "settled")
    frame = frame[list(COLUMNS)].astype({c: np.int64 for c in ints}).reset_index(drop=True)
    floats = [c for c in COLUMNS if c not in ints and c not in ("issue", "region", "ending", "source")]
    frame[floats] = frame[floats].astype(np.float64)
    sha = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
    return SimulatedReference(frame=frame, sha256=sha, truth=truth, fit_truth=in_fit_scale(truth, m, s, frame),
                              center=m, scale=s)


RECOVERED = ("alpha", "beta", "theta", "tau")


def coverage(fit, truth: SimulationTruth, level: float = 0.9) -> dict[str, bool]:
    """Whether each true parameter of RECOVERED (beta per covariate, ``beta[name]``) lies inside the fit's
    central ``level`` posterior interval."""
    post = fit.idata.posterior
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    out = {}
    for name in RECOVERED:
        draws = np.asarray(post[name].values, float)
        draws = draws.reshape((-1,) + draws.shape[2:])
        q = np.quantile(draws, [lo, hi], axis=0)
        true = np.atleast_1d(getattr(truth, name))
        labels = [f"beta[{c}]" for c in fit.covariates] if name == "beta" else [name]
        for k, label in enumerate(labels):
            out[label] = bool(q[0].reshape(-1)[k] <= true[k] <= q[1].reshape(-1)[k])
    return out
