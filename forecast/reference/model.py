"""The PyMC builder of the pooled hierarchical hazard model of peaceful settlement.

Discrete-time hazard: one Bernoulli per claim-year at risk, y = 1 when the claim ended in a peaceful
settlement that year. Competing endings (dropped, conquest, other) are censoring: the claim leaves the
risk set, and its last row has y = 0, as every ongoing row does.

    logit h[i,t] = alpha + a_issue[issue_i] + a_region[region_i] + e_era[era(t)] + X[i,t] @ beta + sigma_u u_i

(``kernels.reference_hazard_logit``), non-centred throughout:
a_issue = sigma_issue z_issue, a_region = sigma_region z_region, u_i ~ N(0, 1) the claim frailty;
era levels a Gaussian random walk e_0 = 0, e_k = e_{k-1} + tau z_k over the fixed eras of
``defaults.REFERENCE_ERA_EDGES``. X is standardised with the training rows' mean and sd.

Priors (weakly informative, fixed before any test year was seen):
alpha ~ N(logit 0.02, 1.5); beta ~ N(0, 0.5) per training sd; sigma_issue, sigma_region ~ HalfNormal(0.5);
sigma_u ~ HalfNormal(1); tau ~ HalfNormal(0.5); z_issue, z_region, z_era, u ~ N(0, 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.model import kernels

PRIOR_ALPHA_MU = float(kernels.logit(0.02))
PRIOR_ALPHA_SD = 1.5
PRIOR_BETA_SD = 0.5
PRIOR_SIGMA_ISSUE = 0.5
PRIOR_SIGMA_REGION = 0.5
PRIOR_SIGMA_U = 1.0
PRIOR_TAU = 0.5

# What prediction needs from the posterior (and what a stored fit keeps).
STORED_VARIABLES = ("alpha", "beta", "sigma_issue", "sigma_region", "sigma_u", "tau", "a_issue", "a_region",
                    "era_level", "u")


@dataclass(frozen=True, eq=False)
class DesignData:
    """The arrays the model is built on: outcome ``y`` (rows,), standardised ``x`` (rows, covariates), and
    row indices into ``issues``, ``regions``, eras 0..n_eras-1 and ``claims``."""

    y: np.ndarray
    x: np.ndarray
    issue: np.ndarray
    region: np.ndarray
    era: np.ndarray
    claim: np.ndarray
    covariates: tuple[str, ...]
    issues: tuple[str, ...]
    regions: tuple[str, ...]
    n_eras: int
    claims: tuple[int, ...]


def build_reference_model(d: DesignData):
    """The PyMC model of ``d`` (see the module docstring)."""
    import pymc as pm
    import pytensor.tensor as pt

    coords = {"covariate": list(d.covariates), "issue": list(d.issues), "region": list(d.regions),
              "era": list(range(d.n_eras)), "era_step": list(range(1, d.n_eras)), "claim": list(d.claims)}
    with pm.Model(coords=coords) as model:
        # the data enter as pm.Data, so the compiled model (and its disk-cached native code) serves any
        # data set of the same structure: another origin or simulation compiles in seconds
        x = pm.Data("x", d.x)
        y = pm.Data("y", d.y)
        issue, region = pm.Data("issue_index", d.issue), pm.Data("region_index", d.region)
        era, claim = pm.Data("era_index", d.era), pm.Data("claim_index", d.claim)
        alpha = pm.Normal("alpha", PRIOR_ALPHA_MU, PRIOR_ALPHA_SD)
        beta = pm.Normal("beta", 0.0, PRIOR_BETA_SD, dims="covariate")
        sigma_issue = pm.HalfNormal("sigma_issue", PRIOR_SIGMA_ISSUE)
        sigma_region = pm.HalfNormal("sigma_region", PRIOR_SIGMA_REGION)
        sigma_u = pm.HalfNormal("sigma_u", PRIOR_SIGMA_U)
        tau = pm.HalfNormal("tau", PRIOR_TAU)
        z_issue = pm.Normal("z_issue", 0.0, 1.0, dims="issue")
        z_region = pm.Normal("z_region", 0.0, 1.0, dims="region")
        u = pm.Normal("u", 0.0, 1.0, dims="claim")
        a_issue = pm.Deterministic("a_issue", sigma_issue * z_issue, dims="issue")
        a_region = pm.Deterministic("a_region", sigma_region * z_region, dims="region")
        if d.n_eras > 1:
            z_era = pm.Normal("z_era", 0.0, 1.0, dims="era_step")
            levels = pt.concatenate([pt.zeros(1), pt.cumsum(tau * z_era)])
        else:
            levels = pt.zeros(1)
        era_level = pm.Deterministic("era_level", levels, dims="era")
        logit_h = kernels.reference_hazard_logit(alpha, a_issue[issue], a_region[region], era_level[era], x, beta,
                                                 sigma_u, u[claim], backend=pt)
        pm.Bernoulli("settled", logit_p=logit_h, observed=y)
    return model
