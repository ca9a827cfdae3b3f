"""MCMC diagnostics against stated thresholds (R-hat, bulk/tail ESS, divergences, E-BFMI)."""

from __future__ import annotations

from forecast.defaults import THRESHOLDS

# Deterministics are functions of the free parameters; they are checked through them.
# ``state_deviation`` (the sampler's zero-sum coordinates of each state) is checked through
# ``factor_state``, the states themselves (level + deviations, an invertible linear map).
SKIP = ("lens_state", "improve_logodds", "capacity", "loading", "event_shift", "state_deviation")


def checked_variables(posterior) -> list[str]:
    """The variables the diagnostics cover: every posterior variable but SKIP and the sampler-space
    copies ``x_log__``/``x_logodds__``/``x_ordered__`` of constrained ones. Rank-normalised R-hat and
    bulk/tail ESS are invariant under the elementwise monotone log and logit transforms; the ordered
    cutpoints are checked as ``cutpoints``."""
    return [v for v in posterior.data_vars if v not in SKIP and not v.endswith("__")]


def compute_diagnostics(idata) -> dict:
    """Return a plain dict of diagnostics and a verdict, with the failures named. R-hat (rank-normalised,
    split) and bulk/tail ESS are ArviZ's estimators, vectorised (``inference.mcmc_stats``)."""
    import arviz as az
    import numpy as np

    from forecast.inference.mcmc_stats import diagnose_variables

    post = idata.posterior
    per = diagnose_variables(post, checked_variables(post))

    def extreme(field, fn):
        vals = {v: float(fn(getattr(d, field))) for v, d in per.items()}
        worst = (max if fn is np.nanmax else min)(vals, key=vals.get)
        return vals[worst], worst

    rhat_max, rhat_var = extreme("rhat", np.nanmax)
    essb_min, essb_var = extreme("ess_bulk", np.nanmin)
    esst_min, esst_var = extreme("ess_tail", np.nanmin)
    stats = idata.sample_stats
    divergences = int(stats["diverging"].values.sum()) if "diverging" in stats else 0
    bfmi = az.bfmi(idata) if "energy" in stats else np.array([np.nan])
    out = {
        "rhat_max": round(rhat_max, 4), "rhat_worst": rhat_var,
        "ess_bulk_min": round(essb_min, 1), "ess_bulk_worst": essb_var,
        "ess_tail_min": round(esst_min, 1), "ess_tail_worst": esst_var,
        "divergences": divergences,
        "bfmi_min": round(float(np.nanmin(bfmi)), 3),
        "chains": int(post.sizes["chain"]), "draws": int(post.sizes["draw"]),
    }
    out["failures"] = failures(out)
    out["ok"] = not out["failures"]
    return out


def failures(d: dict) -> list[str]:
    t = THRESHOLDS
    f = []
    if not d["rhat_max"] < t["rhat_max"]:
        f.append(f"R-hat {d['rhat_max']:.3f} >= {t['rhat_max']} ({d.get('rhat_worst')})")
    if d["ess_bulk_min"] < t["ess_bulk_min"]:
        f.append(f"bulk ESS {d['ess_bulk_min']:.0f} < {t['ess_bulk_min']} ({d.get('ess_bulk_worst')})")
    if d["ess_tail_min"] < t["ess_tail_min"]:
        f.append(f"tail ESS {d['ess_tail_min']:.0f} < {t['ess_tail_min']} ({d.get('ess_tail_worst')})")
    if d["divergences"] > t["divergences"]:
        f.append(f"{d['divergences']} divergent transitions")
    if d["bfmi_min"] == d["bfmi_min"] and d["bfmi_min"] < t["bfmi_min"]:
        f.append(f"E-BFMI {d['bfmi_min']:.2f} < {t['bfmi_min']}")
    return f
