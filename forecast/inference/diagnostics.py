"""MCMC diagnostics against stated thresholds (R-hat, bulk/tail ESS, divergences, E-BFMI)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from forecast.defaults import THRESHOLDS
from forecast.errors import StoredStateError

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


@dataclass(frozen=True)
class Diagnostics:
    """The diagnostics of a fit and its verdict, with the failures named (``compute_diagnostics``).
    ``to_dict`` gives them as stored (the ``diagnostics`` attribute of a fit or head file) and as in
    every JSON output: these keys, in this order, ``failures`` a list and ``ok`` last."""

    rhat_max: float
    rhat_worst: str | None          # the variable with the largest R-hat
    ess_bulk_min: float
    ess_bulk_worst: str | None
    ess_tail_min: float
    ess_tail_worst: str | None
    divergences: int
    bfmi_min: float                 # nan when the sampler reported no energy
    chains: int
    draws: int
    failures: tuple[str, ...] = ()  # the thresholds missed, as sentences (``failures``)

    @property
    def ok(self) -> bool:
        return not self.failures

    def __getitem__(self, key: str):
        """``d["ok"]``: the Python API's ``fit.diagnostics["ok"]`` (README) reads as before; code reads
        the fields."""
        return self.to_dict()[key]

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["failures"] = list(self.failures)
        out["ok"] = self.ok
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "Diagnostics":
        """From the stored attribute (``to_dict``'s form); StoredStateError names what is missing,
        unknown or inconsistent."""
        def refuse(what: str):
            return StoredStateError(f"the stored 'diagnostics' attribute {what}; it was written by another "
                                    f"version: re-run 'forecast fit'")

        if not isinstance(d, dict):
            raise refuse(f"is not a record ({type(d).__name__})")
        names = [f.name for f in fields(cls)]
        missing = [n for n in names + ["ok"] if n not in d]
        unknown = sorted(set(d) - set(names) - {"ok"})
        if missing or unknown:
            raise refuse("; ".join(([f"lacks {', '.join(missing)}"] if missing else [])
                                   + ([f"has unknown {', '.join(unknown)}"] if unknown else [])))
        out = cls(**{**{n: d[n] for n in names}, "failures": tuple(d["failures"])})
        if out.ok != d["ok"]:
            raise refuse(f"says ok = {d['ok']} with {len(out.failures)} failure(s)")
        return out


def compute_diagnostics(idata) -> Diagnostics:
    """The diagnostics and a verdict, with the failures named. R-hat (rank-normalised, split) and
    bulk/tail ESS are ArviZ's estimators, vectorised (``inference.mcmc_stats``)."""
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
    out = Diagnostics(
        rhat_max=round(rhat_max, 4), rhat_worst=rhat_var,
        ess_bulk_min=round(essb_min, 1), ess_bulk_worst=essb_var,
        ess_tail_min=round(esst_min, 1), ess_tail_worst=esst_var,
        divergences=divergences,
        bfmi_min=round(float(np.nanmin(bfmi)), 3),
        chains=int(post.sizes["chain"]), draws=int(post.sizes["draw"]),
    )
    return replace(out, failures=tuple(failures(out)))


def failures(d: Diagnostics) -> list[str]:
    t = THRESHOLDS
    f = []
    if not d.rhat_max < t["rhat_max"]:
        f.append(f"R-hat {d.rhat_max:.3f} >= {t['rhat_max']} ({d.rhat_worst})")
    if d.ess_bulk_min < t["ess_bulk_min"]:
        f.append(f"bulk ESS {d.ess_bulk_min:.0f} < {t['ess_bulk_min']} ({d.ess_bulk_worst})")
    if d.ess_tail_min < t["ess_tail_min"]:
        f.append(f"tail ESS {d.ess_tail_min:.0f} < {t['ess_tail_min']} ({d.ess_tail_worst})")
    if d.divergences > t["divergences"]:
        f.append(f"{d.divergences} divergent transitions")
    if d.bfmi_min == d.bfmi_min and d.bfmi_min < t["bfmi_min"]:
        f.append(f"E-BFMI {d.bfmi_min:.2f} < {t['bfmi_min']}")
    return f
