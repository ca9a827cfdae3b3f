"""Turn a stored forecast into the ``show`` report (a plain dict) and its text form.
No PyMC, ArviZ or xarray here: ``show`` must answer in well under two seconds."""

from __future__ import annotations

import numpy as np

from forecast import LENSES
from forecast.defaults import RECENT_SHIFT_YEARS
from forecast.model.projection import INTERVAL_TYPE, weighted_quantile
from forecast.store.headline import probabilities
from forecast.store.posterior import StoredForecast
from forecast.workspace import HASHED_INPUTS

def probability_label(key: str, y: int) -> str:
    if key.startswith("settle_within_"):
        h = int(key.removeprefix("settle_within_").removesuffix("y"))
        return f"P(territorial settlement {y}-{y + h - 1})"
    return f"P(relationship improves in {y})"


def headline_keys(stored: StoredForecast) -> list[str]:
    return stored.record.headline_keys


def build_report(stored: StoredForecast, stale: bool) -> dict:
    a, d = stored.record, stored.draws
    w = d.get("weight")
    if w is None:
        w = np.full(len(d["improve_next_year"]), 1.0 / len(d["improve_next_year"]))

    def mean(x):
        return float(np.tensordot(w, x, axes=1)) if x.ndim == 1 else np.tensordot(w, x, axes=1)

    probs = {k: v.to_dict() for k, v in probabilities(stored).items()}
    lenses = {}
    for i, lens in enumerate(LENSES):
        c = d["contribution_improve"][:, i]
        q = weighted_quantile(c, [0.10, 0.90], w)
        lenses[lens] = {"contribution": mean(c), "contribution_lo80": float(q[0]),
                        "contribution_hi80": float(q[1]), "settle_contribution": mean(d["contribution_settle"][:, i]),
                        "state": mean(d["lens_state_next"][:, i])}
    sides = d["leaders_sides_next"]
    lenses["leaders"]["sides"] = {"side_a": mean(sides[:, 0]), "side_b": mean(sides[:, 1])}
    return {
        "dyad": a.dyad.to_dict(),
        "as_of": a.as_of, "forecast_year": a.forecast_year, "preset": a.preset,
        "content_hash": a.content_hash, "stale": stale, "seed": a.seed,
        "interval": INTERVAL_TYPE,
        "probabilities": probs,
        "change_distribution": {str(c): float(p) for c, p in zip((-2, -1, 0, 1, 2), mean(d["change_probs"]))},
        "lenses": lenses,
        "barrier_settle_contribution": mean(d["barrier_settle"]),
        "event_shift": event_shift_report(a, d, mean),
        "settlement_evidence": a.settlement_evidence,
        "ledger": {"events_in_force": len(a.events)},
        "diagnostics": a.diagnostics.to_dict(),
        "fit": {"sampler": a.sampler, "chains": a.chains, "draws": a.draws, "tune": a.tune,
                "created_utc": a.created_utc, "timings": a.timings, "parameterisation": a.parameterisation,
                "libraries": a.libraries},
    }


def event_shift_report(a, d, mean) -> dict:
    """The forecast year's event shift per lens (simulated in the joint forms, coded events only in the
    contemporaneous one) beside the mean yearly shift of the last fitted years (posterior means)."""
    recent = mean(d["event_shift_recent"])
    return {"outcome_form": a.spec.outcome_form,
            "forecast_year": {lens: float(x) for lens, x in zip(LENSES, mean(d["event_shift_next"]))},
            "recent_fitted_mean": {lens: float(x) for lens, x in zip(LENSES, recent)},
            "recent_years": [a.as_of - RECENT_SHIFT_YEARS + 1, a.as_of],
            "note": "posterior mean lens shift of coded events (catalogue effect x count): the forecast year's "
                    + ("simulated from the event model given the projected lens states"
                       if a.spec.outcome_form != "contemporaneous" else "coded events only (none simulated)")
                    + "; the recent mean over the fitted years"}


def pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def format_report(r: dict) -> str:
    y = r["forecast_year"]
    lines = []
    if not r["diagnostics"]["ok"]:
        lines += ["!" * 78,
                  "!! DIAGNOSTICS FAILED: do not use these numbers. " + "; ".join(r["diagnostics"]["failures"]),
                  "!! Refit with more draws/tuning (forecast fit --draws N --tune N).",
                  "!" * 78]
    if r["stale"]:
        lines += [f"** STALE FIT: {HASHED_INPUTS} changed since this fit (hash "
                  f"{r['content_hash'][:12]}); run 'forecast fit' to refresh. **"]
    dyad = r["dyad"]
    lines.append(f"{dyad['name']} forecast  (data through {r['as_of']}, preset '{r['preset']}')")
    q = dyad["questions"]
    lines.append(f"Questions: {q['improve']} {q['settlement']}")
    lines.append("")
    lines.append(f"{'':38}{'mean':>7}   {'80% interval':>15}   {'95% interval':>15}")
    for k, v in r["probabilities"].items():
        lines.append(f"{probability_label(k, y):38}{pct(v['mean']):>7}   {pct(v['lo80'])} -{pct(v['hi80'])}"
                     f"   {pct(v['lo95'])} -{pct(v['hi95'])}")
    lines.append(f"Intervals: {r['interval']}s of the per-draw probability.")
    lines.append("")
    lines.append(f"Lens contributions to the log-odds of improvement in {y} (posterior mean, 80% interval):")
    for lens, v in r["lenses"].items():
        lines.append(f"  {lens:8} state {v['state']:+.2f}   contribution {v['contribution']:+.2f}"
                     f"  [{v['contribution_lo80']:+.2f}, {v['contribution_hi80']:+.2f}]"
                     f"   settlement log-odds {v['settle_contribution']:+.2f}")
    sides = r["lenses"]["leaders"]["sides"]
    lines.append(f"  (leaders by side: {dyad['side_a']['name']} {sides['side_a']:+.2f}, {dyad['side_b']['name']} "
                 f"{sides['side_b']:+.2f}; states are in standard deviations of {dyad['first_year']}-{r['as_of']})")
    lines.append(f"  legal barrier: settlement log-odds {r['barrier_settle_contribution']:+.2f}")
    es = r["event_shift"]
    y0, y1 = es["recent_years"]
    lines.append(f"Event shift in {y} ({es['outcome_form']} form) vs mean {y0}-{y1}: " + ", ".join(
        f"{lens} {es['forecast_year'][lens]:+.2f} vs {es['recent_fitted_mean'][lens]:+.2f}" for lens in LENSES))
    ev = r.get("settlement_evidence")
    lines.append(f"Settlement hazard: {ev['sentence']} (ICOW claim {ev['claim']}; reference posterior "
                 f"{ev['reference_posterior_sha256'][:12]})" if ev else
                 "Settlement hazard: expert priors only (no prior entry takes the reference class; see priors/)")
    d = r["diagnostics"]
    lines.append("")
    badge = "OK" if d["ok"] else "FAILED"
    lines.append(f"Diagnostics {badge}: R-hat max {d['rhat_max']:.3f}, bulk ESS min {d['ess_bulk_min']:.0f}, "
                 f"tail ESS min {d['ess_tail_min']:.0f}, divergences {d['divergences']}, "
                 f"E-BFMI min {d['bfmi_min']:.2f}  ({d['chains']} chains x {d['draws']} draws)")
    f = r["fit"]
    lines.append(f"Fit: {f['sampler']}, seed {r['seed']}, created {f['created_utc']}, hash {r['content_hash'][:12]}")
    return "\n".join(lines)
