"""``plot diagnostics``: rank histograms and an R-hat/ESS table for the scalar model parameters
(the methods annex; ArviZ is imported only here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.inference.diagnostics import Diagnostics
from forecast.store.posterior import StoredForecast
from forecast.workspace import Workspace


DIAG_VARS = ("beta_power", "beta_trust", "beta_leaders", "cutpoints", "state_persistence", "settlement_base_rate",
             "gamma_power", "gamma_trust", "gamma_capacity", "delta_barrier")


@dataclass
class RankPanel:
    name: str
    counts: np.ndarray   # (chains, bins) rank counts
    rhat: float
    ess_bulk: float


@dataclass
class DiagnosticsResults:
    ranks: list[RankPanel]
    table: list[dict]        # rows: name, mean, sd, lo80, hi80, ess_bulk, ess_tail, r_hat
    summary: Diagnostics     # the stored diagnostics (as in 'show')
    chains: int
    draws: int
    bins: int


def rank_counts(x: np.ndarray, bins: int) -> np.ndarray:
    """Per-chain histogram of the pooled ranks of a (chain, draw) array (Vehtari et al. 2021)."""
    from scipy.stats import rankdata

    r = rankdata(x.ravel()).reshape(x.shape)
    edges = np.linspace(0.5, x.size + 0.5, bins + 1)
    return np.stack([np.histogram(r[c], edges)[0] for c in range(x.shape[0])])


def diagnostics_results(ws: Workspace, stored: StoredForecast, bins: int = 20, idata=None) -> DiagnosticsResults:
    """Rank histograms and a summary table (R-hat, bulk/tail ESS: ArviZ's estimators, ``mcmc_stats``)
    for the scalar model parameters."""
    from forecast.inference.mcmc_stats import diagnose_variables

    if idata is None:
        from forecast.store.posterior import load_idata

        idata = load_idata(ws, expect_hash=False)
    post = idata.posterior
    names = [v for v in DIAG_VARS if v in post.data_vars]
    per = diagnose_variables(post, names)
    ranks, table = [], []
    for v in names:
        arr = post[v].values   # (chain, draw, ...)
        extra = arr.shape[2:]
        dims = post[v].dims[2:]
        for idx in np.ndindex(*extra):
            labels = [str(post[v].coords[d].values[i]) if d in post[v].coords else str(i) for d, i in zip(dims, idx)]
            name = v + (f"[{', '.join(labels)}]" if idx else "")
            x = arr[(slice(None), slice(None)) + idx]
            r, eb, et = (float(np.asarray(a)[idx]) for a in (per[v].rhat, per[v].ess_bulk, per[v].ess_tail))
            ranks.append(RankPanel(name, rank_counts(x, bins), r, eb))
            lo, hi = np.quantile(x, [0.10, 0.90])
            table.append({"name": name, "mean": float(x.mean()), "sd": float(x.std(ddof=1)), "lo80": float(lo),
                          "hi80": float(hi), "ess_bulk": eb, "ess_tail": et, "r_hat": r})
    return DiagnosticsResults(ranks=ranks, table=table, summary=stored.record.diagnostics,
                              chains=int(post.sizes["chain"]), draws=int(post.sizes["draw"]), bins=bins)
