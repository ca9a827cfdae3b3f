"""The PyMC builder of the pooled hierarchical hazard model of peaceful settlement.

Discrete-time hazard: one outcome per claim-year at risk, y = 1 when the claim ended in a peaceful
settlement that year. Competing endings (dropped, conquest, other) are censoring: the claim leaves the
risk set, and its last row has y = 0, as every ongoing row does. Complementary log-log link with a
multiplicative gamma frailty per claim:

    h[i,t] = 1 - exp(-w_i exp(eta[i,t])),  w_i ~ Gamma(1/theta, rate 1/theta)  (mean 1, variance theta)
    eta[i,t] = alpha + a_issue[issue_i] + a_region[region_i] + e_era[era(t)] + X[i,t] @ beta

(``kernels.reference_eta``). The frailty is integrated out analytically, so the sampler has no
per-claim latent variable: with H_i(t) = sum of exp(eta) over the claim's rows up to t, the marginal
survival is S_i(t) = (1 + theta H_i(t))^(-1/theta), and a claim contributes once, S(n) when censored
after its last row n, S(n-1) - S(n) when settled in it (``kernels.gamma_frailty_loglik``, a
pm.Potential over the claims; the rows must be sorted by claim, year, and y = 1 only in a claim's last
row). Issue and region effects are non-centred: a_issue = sigma_issue z_issue, a_region = sigma_region
z_region; era levels a Gaussian random walk e_0 = 0, e_k = e_{k-1} + tau z_k over the fixed eras of
``defaults.REFERENCE_ERA_EDGES``. X is standardised with the training rows' mean and sd.

Priors (weakly informative, fixed before any test year was seen):
alpha ~ N(logit 0.02, 1.5); beta ~ N(0, 0.5) per training sd; sigma_issue, sigma_region ~ HalfNormal(0.5);
theta ~ HalfNormal(1); tau ~ HalfNormal(0.5); z_issue, z_region, z_era ~ N(0, 1). (alpha and beta keep
the priors of the former logit model: for yearly hazards of a few percent cloglog(h) equals logit(h) to
within a few percent.)
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
PRIOR_THETA = 1.0
PRIOR_TAU = 0.5

# What prediction needs from the posterior (and what a stored fit keeps).
STORED_VARIABLES = ("alpha", "beta", "sigma_issue", "sigma_region", "theta", "tau", "a_issue", "a_region",
                    "era_level")


@dataclass(frozen=True, eq=False)
class DesignData:
    """The arrays the model is built on: outcome ``y`` (rows,), standardised ``x`` (rows, covariates), and
    row indices into ``issues``, ``regions``, eras 0..n_eras-1 and ``claims``; rows sorted by claim, year."""

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

    def claim_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(first, last) row index of each claim (rows sorted by claim)."""
        ids = np.arange(len(self.claims))
        return (np.searchsorted(self.claim, ids, side="left"),
                np.searchsorted(self.claim, ids, side="right") - 1)


def build_reference_model(d: DesignData):
    """The PyMC model of ``d`` (see the module docstring)."""
    import pymc as pm
    import pytensor.tensor as pt

    coords = {"covariate": list(d.covariates), "issue": list(d.issues), "region": list(d.regions),
              "era": list(range(d.n_eras)), "era_step": list(range(1, d.n_eras))}
    with pm.Model(coords=coords) as model:
        # the data enter as pm.Data, so the compiled model (and its disk-cached native code) serves any
        # data set of the same structure: another origin or simulation compiles in seconds. Every row-indexed
        # container is tied to x's row count (and the last rows to the first rows' count): with several
        # unknown lengths that are equal, which one PyTensor's shape checks read followed the order of its
        # rewrites, which differs between processes, and so did the graph and its compile-cache key
        # (benchmarks/results/fit.md, eleventh session)
        x = pm.Data("x", d.x, shape=(None, d.x.shape[1]))
        rows = x.shape[0]
        y = pt.specify_shape(pm.Data("y", d.y), (rows,))
        issue = pt.specify_shape(pm.Data("issue_index", d.issue), (rows,))
        region = pt.specify_shape(pm.Data("region_index", d.region), (rows,))
        first_row, last_row = d.claim_bounds()
        era = pt.specify_shape(pm.Data("era_index", d.era), (rows,))
        first = pm.Data("claim_first_row", first_row)
        last = pt.specify_shape(pm.Data("claim_last_row", last_row), (first.shape[0],))
        alpha = pm.Normal("alpha", PRIOR_ALPHA_MU, PRIOR_ALPHA_SD)
        beta = pm.Normal("beta", 0.0, PRIOR_BETA_SD, dims="covariate")
        sigma_issue = pm.HalfNormal("sigma_issue", PRIOR_SIGMA_ISSUE)
        sigma_region = pm.HalfNormal("sigma_region", PRIOR_SIGMA_REGION)
        theta = pm.HalfNormal("theta", PRIOR_THETA)
        tau = pm.HalfNormal("tau", PRIOR_TAU)
        z_issue = pm.Normal("z_issue", 0.0, 1.0, dims="issue")
        z_region = pm.Normal("z_region", 0.0, 1.0, dims="region")
        a_issue = pm.Deterministic("a_issue", sigma_issue * z_issue, dims="issue")
        a_region = pm.Deterministic("a_region", sigma_region * z_region, dims="region")
        if d.n_eras > 1:
            z_era = pm.Normal("z_era", 0.0, 1.0, dims="era_step")
            levels = pt.concatenate([pt.zeros(1), pt.cumsum(tau * z_era)])
        else:
            levels = pt.zeros(1)
        era_level = pm.Deterministic("era_level", levels, dims="era")
        eta = kernels.reference_eta(alpha, a_issue[issue], a_region[region], era_level[era], x, beta, backend=pt)
        pm.Potential("settled", kernels.gamma_frailty_loglik(eta, first, last, y[last], theta, backend=pt).sum())
    return model
