"""``forecast check``: is the stored fit trustworthy, and what drives it?

Each function computes plain data from the stored fit (no files written here):

* ``mcmc``: R-hat, bulk and tail ESS per parameter, divergences and E-BFMI against
  the stated thresholds (``defaults.THRESHOLDS``).
* ``predictive``: posterior predictive checks of the coded outcomes (counts per change
  category) and of each indicator (coverage of the observed values by the central 50% and
  90% predictive intervals, and the predictive p-value of the series' standard deviation).
* ``loo``: PSIS-LOO (leave one year out for the coded outcome; one value out for the
  indicators) with Pareto k.
* ``sensitivity``: the headline probabilities under each theory preset, by importance
  reweighting the stored draws from the fitted preset's prior to the other preset's
  prior (PSIS, k reported; k > 0.7 means refit that preset to be sure), next to the
  prior-only forecast.
* ``ablation``: the headline probabilities with each lens's contribution switched off
  (its improvement and settlement coefficients set to zero in the projection; not a refit).
* ``outside_view``: P(settlement within 10 years) next to the territorial-claims
  reference-class rate.
"""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Iterator

import numpy as np

from forecast import LENSES
from forecast.defaults import PARETO_K_THRESHOLD as K_THRESHOLD
from forecast.defaults import PPC_DRAWS, PRIOR_DRAWS, THRESHOLDS
from forecast.inference.diagnostics import checked_variables
from forecast.model.evidence import BarrierState, flat, forecast_year_evidence, merge_events
from forecast.model.kernels import (event_log_rate, indicator_means, lens_from_factors, noise_sd, normal_logpdf,
                                    ordered_logistic_draw, ordered_logistic_logp, outcome_switches, poisson_logpmf)
from forecast.model.projection import INTERVAL_TYPE, Draws, project, summarise
from forecast.inference.psis import psis
from forecast.report.summary import headline_keys
from forecast.validate.refit import Dispatch, Refit, run_refits

class Context:
    """The stored fit and everything rebuilt from it (spec, draws, events, current weights)."""

    def __init__(self, ws):
        from forecast.store import ledger as L
        from forecast.data.loaders import load_dataset
        from forecast.model.priors import load_preset
        from forecast.model.spec import build_spec
        from forecast.store.posterior import current, load_idata

        self.ws = ws
        self.idata = load_idata(ws)  # IdentityMismatchError if workspace.toml, data/ or priors/ changed
        self.stored, self.head, _ = current(ws)
        self.record = self.stored.record
        records, _ = L.read(ws)
        self.events = L.active_events(records)
        in_fit = set(self.record.ledger_in_fit)
        as_of = self.record.as_of
        ds = load_dataset(ws.data_dir)
        self.priors = load_preset(ws.priors_dir, self.record.preset)
        merged = merge_events(ds, [e for e in self.events if e.id in in_fit], as_of)
        self.spec = build_spec(merged, self.priors, as_of)
        self.barriers = BarrierState.of(merged, int(self.spec.years[0]), as_of)
        self.post = {v: self.idata.posterior[v].values for v in self.idata.posterior.data_vars}
        w = self.stored.draws.get("weight")
        n = flat(self.post["beta_power"]).shape[0]
        self.weights = np.full(n, 1.0 / n) if w is None else np.asarray(w, float)


# --- MCMC diagnostics per parameter


def mcmc(ctx: Context) -> dict:
    from forecast.inference.mcmc_stats import diagnose_variables

    per = diagnose_variables(ctx.idata.posterior, checked_variables(ctx.idata.posterior))
    rows = []
    for v, d in per.items():
        r = {"parameter": v, "size": int(np.prod(ctx.idata.posterior[v].shape[2:], dtype=int)),
             "rhat_max": float(np.nanmax(d.rhat)), "ess_bulk_min": float(np.nanmin(d.ess_bulk)),
             "ess_tail_min": float(np.nanmin(d.ess_tail))}
        r["ok"] = bool(r["rhat_max"] < THRESHOLDS["rhat_max"] and r["ess_bulk_min"] >= THRESHOLDS["ess_bulk_min"]
                       and r["ess_tail_min"] >= THRESHOLDS["ess_tail_min"])
        rows.append(r)
    return {"thresholds": THRESHOLDS, "summary": ctx.record.diagnostics.to_dict(), "parameters": rows}


# --- posterior predictive checks


def _subsample(ctx: Context, n: int, rng) -> np.ndarray:
    S = len(ctx.weights)
    return rng.choice(S, size=min(n, S), replace=False)


def predictive(ctx: Context, n_draws: int = PPC_DRAWS, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    idx = _subsample(ctx, n_draws, rng)
    lp = flat(ctx.post["improve_logodds"])[idx]                 # (n, T)
    cut = flat(ctx.post["cutpoints"])[idx]                      # (n, 4)
    y_rep = ordered_logistic_draw(lp, cut[:, None, :], rng.logistic(size=lp.shape))  # 0..4
    y = ctx.spec.change
    cats = []
    for c in range(5):
        rep = (y_rep == c).sum(1)
        obs = int((y == c).sum())
        cats.append({"change": c - 2, "observed": obs, "predicted_mean": float(rep.mean()),
                     "lo90": float(np.quantile(rep, 0.05)), "hi90": float(np.quantile(rep, 0.95)),
                     "p_value": float(np.mean(rep >= obs))})
    switches_obs = int(np.sum(np.diff(np.sign(y - 2)) != 0))
    switches_rep = (np.diff(np.sign(y_rep - 2), axis=1) != 0).sum(1)
    outcome = {"categories": cats,
               "direction_switches": {"observed": switches_obs, "predicted_mean": float(switches_rep.mean()),
                                      "p_value": float(np.mean(switches_rep >= switches_obs))}}

    s = ctx.spec
    eta = flat(ctx.post["factor_state"])[idx]                    # (n, F, T)
    a = flat(ctx.post["indicator_intercept"])[idx]
    lam = flat(ctx.post["loading"])[idx]
    sd = noise_sd(flat(ctx.post["indicator_noise"])[idx], ctx.record.noise_floor)
    k = s.obs_indicator
    mean = indicator_means(a, lam, eta, s.indicator_factor, k, s.obs_time)
    rep = mean + sd[:, k] * rng.standard_normal(mean.shape)
    rows = []
    for i, name in enumerate(s.indicators):
        m = k == i
        x, r = s.obs_value[m], rep[:, m]
        lo50, hi50 = np.quantile(r, [0.25, 0.75], axis=0)
        lo90, hi90 = np.quantile(r, [0.05, 0.95], axis=0)
        sd_rep = r.std(axis=1, ddof=1)
        rows.append({"indicator": name, "lens": LENSES[s.indicator_lens[i]], "n": int(m.sum()),
                     "coverage50": float(np.mean((x >= lo50) & (x <= hi50))),
                     "coverage90": float(np.mean((x >= lo90) & (x <= hi90))),
                     "sd_p_value": float(np.mean(sd_rep >= x.std(ddof=1)))})
    return {"draws": len(idx), "outcome": outcome, "indicators": rows,
            "note": "p-values are posterior predictive P(replicated statistic >= observed); values near 0 or 1 "
                    "flag misfit. Coverage: share of observed values inside the central predictive interval."}


# --- PSIS-LOO


def pointwise_loglik(ctx: Context) -> dict[str, np.ndarray]:
    """Pointwise log-likelihood, (chain, draw, point): coded outcome per year, indicators per value, and,
    when the fitted outcome form observes them, event counts per kind and year."""
    s, post = ctx.spec, ctx.post
    lp = post["improve_logodds"]                                   # (C, D, T)
    cut = post["cutpoints"]                                        # (C, D, 4)
    ll_change = ordered_logistic_logp(s.change, lp, cut[:, :, None, :])
    mean = indicator_means(post["indicator_intercept"], post["loading"], post["factor_state"],
                           s.indicator_factor, s.obs_indicator, s.obs_time)
    sd = noise_sd(post["indicator_noise"][..., s.obs_indicator], ctx.record.noise_floor)
    out = {"change": ll_change, "indicators": normal_logpdf(s.obs_value, mean, sd)}
    if outcome_switches(ctx.record.spec.outcome_form)[0]:
        lens = np.asarray(s.event_lens)
        state = lens_from_factors(post["factor_state"], axis=2)[:, :, lens, :]  # (C, D, E, T)
        log_rate = event_log_rate(post["event_rate_intercept"][..., None], post["event_rate_slope"][..., lens, None],
                                  np.asarray(s.event_sign)[:, None], state)
        ll = poisson_logpmf(np.asarray(s.event_counts, dtype=float), log_rate)
        out["events"] = ll.reshape(*ll.shape[:2], -1)                 # points: kind-major, then year
    return out


def _point_label(s, name: str, i: int) -> str | int:
    """What point ``i`` of the log-likelihood ``name`` is: a year, an indicator's year, a kind's year."""
    if name == "change":
        return int(s.years[i])
    if name == "events":
        return f"{s.event_kinds[i // s.n_years]} {int(s.years[i % s.n_years])}"
    return f"{s.indicators[s.obs_indicator[i]]} {int(s.years[s.obs_time[i]])}"


def loo(ctx: Context) -> dict:
    import arviz as az
    import xarray as xr

    ll = pointwise_loglik(ctx)
    out = {}
    for name, arr in ll.items():
        idata = az.InferenceData(
            posterior=xr.Dataset({"beta_power": (("chain", "draw"), ctx.post["beta_power"])}),
            log_likelihood=xr.Dataset({name: (("chain", "draw", "point"), arr)}))
        with warnings.catch_warnings():  # high Pareto k is reported below, per point
            warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto", category=UserWarning)
            res = az.loo(idata, var_name=name, pointwise=True)
        k = np.asarray(res.pareto_k)
        worst = np.argsort(k)[::-1][:3]
        labels = [_point_label(ctx.spec, name, int(i)) for i in worst]
        out[name] = {"points": int(arr.shape[-1]), "elpd_loo": float(res.elpd_loo), "se": float(res.se),
                     "p_loo": float(res.p_loo), "k_max": float(k.max()),
                     "k_over_threshold": int((k > K_THRESHOLD).sum()),
                     "worst": [{"point": lab, "k": float(k[i])} for lab, i in zip(labels, worst)]}
    out["k_threshold"] = K_THRESHOLD
    return out


# --- projections from the stored draws (prior sensitivity and ablation)


def _draws(ctx: Context) -> Draws:
    return Draws.of_fit(ctx.post, ctx.record.spec)


def _project(ctx: Context, d: Draws) -> dict:
    a = ctx.record
    evidence = forecast_year_evidence(a.spec, ctx.post, a.noise_floor, ctx.events, d, ctx.barriers)
    return project(d, float(a.barrier_last), horizons=tuple(a.horizons), seed=int(a.seed), evidence=evidence)


def _headline(ctx: Context, proj: dict, w) -> dict:
    return {k: summarise(proj[k], w).to_dict() for k in headline_keys(ctx.stored)}


def prior_log_ratio(ctx: Context, other) -> tuple[np.ndarray, list[str]]:
    """log p_other(theta) - log p_fitted(theta) per draw, over the entries whose prior differs.
    Constant normalisers (e.g. of the ordered cutpoints) cancel in self-normalised weights."""
    from forecast.model.priors import logpdf

    lr = np.zeros(len(ctx.weights))
    changed = []
    for name in ctx.priors.priors:  # each prior entry names the posterior variable it applies to
        a, b = ctx.priors[name], other[name]
        if (a.distribution, a.params, a.elicit, a.update_with) == (b.distribution, b.params, b.elicit, b.update_with):
            continue  # same entry (compared unresolved: resolving an elicited prior runs PreliZ)
        changed.append(name)
        x = flat(ctx.post[name])
        la, lb = logpdf(a, x), logpdf(b, x)
        lr += (lb - la).reshape(len(lr), -1).sum(axis=1)
    return lr, changed


def _refit_job(ctx: Context, preset: str) -> Refit:
    """The preset's refit with the stored fit's settings (see ``validate.refit``)."""
    from forecast.inference.retry import resume_target_accept

    a = ctx.record
    return Refit(root=str(ctx.ws.root), preset=preset, as_of=a.as_of, draws=a.draws, tune=a.tune, chains=a.chains,
                 seed=a.seed, target_accept=resume_target_accept(a.target_accept), horizons=tuple(a.horizons),
                 keys=tuple(headline_keys(ctx.stored)))


def sensitivity(ctx: Context, presets: list[str], n_prior: int = PRIOR_DRAWS, refit: bool = False,
                dispatch: Dispatch = Dispatch()) -> dict:
    from forecast.model.prior_only import prior_forecast
    from forecast.model.priors import load_preset

    base = _project(ctx, _draws(ctx))
    rows = [{"preset": ctx.record.preset, "method": "fitted", "pareto_k": None, "ess": None, "changed": [],
             "probabilities": _headline(ctx, base, ctx.weights)}]
    for p in presets:
        if p == ctx.record.preset:
            continue
        other = load_preset(ctx.ws.priors_dir, p)
        lr, changed = prior_log_ratio(ctx, other)
        w, k, ess = psis(np.log(ctx.weights) + lr)
        rows.append({"preset": p, "method": "PSIS reweighting of the stored draws", "pareto_k": k, "ess": ess,
                     "reliable": bool(k <= K_THRESHOLD), "changed": changed, "probabilities": _headline(ctx, base, w)})
    todo = [row for row in rows[1:] if refit and not row["reliable"]]
    refits = run_refits([_refit_job(ctx, row["preset"]) for row in todo], dispatch)
    for row, r in zip(todo, refits):
        row |= {"method": "refit (reweighting unreliable)", "reliable": True,
                "probabilities": r["probabilities"], "diagnostics_ok": r["diagnostics_ok"]}
    prior = prior_forecast(ctx.ws, ctx.record.preset, barrier_last=float(ctx.record.barrier_last),
                           n_draws=n_prior, horizons=tuple(ctx.record.horizons))
    rows.append({"preset": ctx.record.preset, "method": "prior only (no data)", "pareto_k": None, "ess": None,
                 "changed": [], "probabilities": {k: summarise(prior[k]).to_dict() for k in headline_keys(ctx.stored)}})
    return {"rows": rows, "k_threshold": K_THRESHOLD,
            "note": f"k > {K_THRESHOLD}: the reweighting is unreliable; 'forecast check --refit' fits those "
                    "presets (about a minute each)."}


def ablation(ctx: Context) -> dict:
    d = _draws(ctx)
    rows = [{"switched_off": None, "probabilities": _headline(ctx, _project(ctx, d), ctx.weights)}]
    for i, lens in enumerate(LENSES):
        beta, gamma = d.beta.copy(), d.gamma.copy()
        beta[:, i] = 0.0
        gamma[:, i] = 0.0  # power -> gamma_power, trust -> gamma_trust, leaders -> gamma_capacity
        rows.append({"switched_off": lens,
                     "probabilities": _headline(ctx, _project(ctx, replace(d, beta=beta, gamma=gamma)), ctx.weights)})
    return {"rows": rows, "note": "A lens switched off: its coefficients on improvement and on the settlement hazard "
                                  "are set to zero in the projection (the fitted states and other parameters are "
                                  "kept; not a refit). Same simulated paths as the full forecast."}


def outside_view(ctx: Context) -> dict:
    from forecast.model.prior_only import outside_view as ov

    spec = ctx.priors["settlement_base_rate"]
    reference = replace(ctx.priors, priors={**ctx.priors.priors,
                                            "settlement_base_rate": replace(spec, update_with=None)})
    model = summarise(ctx.stored.draws["settle_within_10y"], ctx.weights).to_dict() if "settle_within_10y" in \
        ctx.stored.draws else None
    ref = ov(reference, horizons=(10,))["settle_within_10y"]
    cond = ov(ctx.priors, horizons=(10,))["settle_within_10y"]
    return {"model": model,
            "reference_class": {k: ref[k] for k in ("mean", "hazard_mean") if k in ref},
            "reference_class_given_claim_years": {k: cond[k] for k in ("mean", "hazard_mean") if k in cond},
            "source": (f"pooled ICOW reference-class model: claim {ctx.priors.reference.claim}'s own level "
                       f"({ctx.priors.reference.evidence.sentence()})" if spec.reference and ctx.priors.reference
                       else "ICOW territorial claims (see priors: settlement_base_rate rationale)")}


# The sections of a check, in the order they run, with their names for progress lines.
SECTIONS = {"load": "Reading the stored fit", "mcmc": "MCMC diagnostics table",
            "predictive": "Posterior predictive checks", "loo": "PSIS-LOO", "sensitivity": "Prior sensitivity",
            "ablation": "Lens ablation", "outside_view": "Outside view"}


@dataclass(frozen=True)
class SectionEvent:
    section: str              # a key of SECTIONS
    seconds: float | None     # None when the section starts; its elapsed wall time when it ends


@contextmanager
def _section(on_section: Callable[[SectionEvent], None] | None, name: str) -> Iterator[None]:
    if on_section is not None:
        on_section(SectionEvent(name, None))
    t0 = time.perf_counter()
    yield
    if on_section is not None:
        on_section(SectionEvent(name, time.perf_counter() - t0))


def run(ws, presets: list[str] | None = None, ppc_draws: int = PPC_DRAWS, refit: bool = False,
        on_section: Callable[[SectionEvent], None] | None = None, dispatch: Dispatch = Dispatch()) -> dict:
    """Every section of the check; ``on_section`` hears each start and end (with its elapsed time);
    ``dispatch``: where the refits run, and who hears of each one."""
    from forecast.model.priors import available_presets

    with _section(on_section, "load"):
        ctx = Context(ws)
    presets = presets or available_presets(ws.priors_dir)
    out = {"as_of": ctx.record.as_of, "forecast_year": ctx.record.forecast_year, "preset": ctx.record.preset,
           "interval": INTERVAL_TYPE}
    steps = {"mcmc": lambda: mcmc(ctx), "predictive": lambda: predictive(ctx, ppc_draws), "loo": lambda: loo(ctx),
             "sensitivity": lambda: sensitivity(ctx, presets, refit=refit, dispatch=dispatch),
             "ablation": lambda: ablation(ctx), "outside_view": lambda: outside_view(ctx)}
    for name, step in steps.items():
        with _section(on_section, name):
            out[name] = step()
    return out


def _p(v: dict) -> str:
    return f"{100 * v['mean']:5.1f}% [{100 * v['lo80']:4.1f}-{100 * v['hi80']:4.1f}]"


def format_check(r: dict) -> str:
    L = []
    m = r["mcmc"]
    t, sm = m["thresholds"], m["summary"]
    L.append(f"forecast check: fit through {r['as_of']} (preset '{r['preset']}'), forecast year {r['forecast_year']}")
    L.append("")
    L.append(f"1. MCMC diagnostics ({sm['chains']} chains x {sm['draws']} draws): "
             f"{'OK' if sm['ok'] else 'FAILED: ' + '; '.join(sm['failures'])}")
    L.append(f"   thresholds: R-hat < {t['rhat_max']}, bulk and tail ESS >= {t['ess_bulk_min']}, "
             f"divergences = {t['divergences']}, E-BFMI >= {t['bfmi_min']}")
    L.append(f"   divergences {sm['divergences']}, E-BFMI min {sm['bfmi_min']:.2f}")
    L.append(f"   {'parameter':26} {'size':>4} {'R-hat max':>9} {'ESS bulk':>9} {'ESS tail':>9}")
    for p in m["parameters"]:
        flag = "" if p["ok"] else "  <-- fails"
        L.append(f"   {p['parameter']:26} {p['size']:>4} {p['rhat_max']:9.3f} {p['ess_bulk_min']:9.0f} "
                 f"{p['ess_tail_min']:9.0f}{flag}")
    pp = r["predictive"]
    L += ["", f"2. Posterior predictive checks ({pp['draws']} draws)",
          "   coded outcome: years per change category, observed vs replicated (90% interval, p-value)"]
    for c in pp["outcome"]["categories"]:
        L.append(f"     change {c['change']:+d}: observed {c['observed']:>2}   predicted {c['predicted_mean']:5.1f} "
                 f"[{c['lo90']:.0f}-{c['hi90']:.0f}]   p {c['p_value']:.2f}")
    sw = pp["outcome"]["direction_switches"]
    L.append(f"     direction switches: observed {sw['observed']}, predicted {sw['predicted_mean']:.1f}, "
             f"p {sw['p_value']:.2f}")
    L.append("   indicators: coverage of observed values by central predictive intervals, p-value of the sd")
    L.append(f"     {'indicator':38} {'lens':8} {'n':>3} {'50%':>5} {'90%':>5} {'p(sd)':>6}")
    for i in pp["indicators"]:
        flag = "  <--" if i["coverage90"] < 0.75 or not 0.025 <= i["sd_p_value"] <= 0.975 else ""
        L.append(f"     {i['indicator']:38} {i['lens']:8} {i['n']:>3} {100 * i['coverage50']:4.0f}% "
                 f"{100 * i['coverage90']:4.0f}% {i['sd_p_value']:6.2f}{flag}")
    L.append(f"   {pp['note']}")
    lo = r["loo"]
    L += ["", f"3. PSIS-LOO (Pareto k threshold {lo['k_threshold']})"]
    for name in ("change", "indicators", "events"):
        if name not in lo:  # events: only when the fitted outcome form observes the counts
            continue
        x = lo[name]
        worst = ", ".join(f"{w['point']} (k {w['k']:.2f})" for w in x["worst"])
        L.append(f"   {name:10} {x['points']:>4} points: elpd_loo {x['elpd_loo']:8.1f} (se {x['se']:.1f}), "
                 f"p_loo {x['p_loo']:.1f}, k > {lo['k_threshold']}: {x['k_over_threshold']}; highest k: {worst}")
    keys = list(r["sensitivity"]["rows"][0]["probabilities"])
    y = r["forecast_year"]
    head = {"improve_next_year": f"P(improve {y})"} | {k: f"P(settle {y}-{y + int(k[14:-1]) - 1})"
                                                       for k in keys if k.startswith("settle_within_")}
    L += ["", f"4. Prior sensitivity: mean [80% {r['interval']}]"]
    L.append(f"   {'preset':16} {'how':22} " + " ".join(f"{head[k]:>22}" for k in keys) + "   k")
    for row in r["sensitivity"]["rows"]:
        how = {"fitted": "fitted", "prior only (no data)": "prior only (no data)",
               "refit (reweighting unreliable)": "refit"}.get(row["method"], "PSIS reweighted")
        k = "" if row["pareto_k"] is None else f"   {row['pareto_k']:.2f}" + (
            "" if row["reliable"] else " unreliable") + (" (refitted)" if how == "refit" else "") + (
            " REFIT FAILED DIAGNOSTICS" if row.get("diagnostics_ok") is False else "")
        L.append(f"   {row['preset']:16} {how:22} " + " ".join(f"{_p(row['probabilities'][kk]):>22}" for kk in keys) + k)
    if any(row.get("reliable") is False for row in r["sensitivity"]["rows"]):
        L.append(f"   {r['sensitivity']['note']}")
    L += ["", "5. Lens ablation (a lens switched off in the projection)"]
    for row in r["ablation"]["rows"]:
        name = "none (full model)" if row["switched_off"] is None else f"{row['switched_off']} off"
        L.append(f"   {name:39} " + " ".join(f"{_p(row['probabilities'][kk]):>22}" for kk in keys))
    L.append("   " + r["ablation"]["note"])
    ov = r["outside_view"]
    L += ["", "6. Outside view: P(settlement within 10 years)"]
    if ov["model"]:
        L.append(f"   model:                                  {_p(ov['model'])}")
    L.append(f"   territorial-claims reference class:     {100 * ov['reference_class']['mean']:5.1f}%  "
             f"(yearly hazard {100 * ov['reference_class']['hazard_mean']:.1f}%; {ov['source']})")
    if ov["reference_class_given_claim_years"] != ov["reference_class"]:  # an expert prior's update_with
        L.append(f"   ... given the claim's quiet years:      "
                 f"{100 * ov['reference_class_given_claim_years']['mean']:5.1f}%  "
                 f"(yearly hazard {100 * ov['reference_class_given_claim_years']['hazard_mean']:.1f}%)")
    return "\n".join(L)
