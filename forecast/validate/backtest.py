"""Rolling-origin backtest: for each year Y, fit on data through Y-1 only and predict Y.

No look-ahead: every origin builds its spec with ``as_of = Y - 1``, so indicator
values, coded events, ledger entries, outcomes and the standardisation (centre and
scale of each indicator) all come from years up to Y - 1. The model's forecast and
every baseline are scored on the same years in the same run:

* ``climatology``: category frequencies of the outcomes through Y-1 (Dirichlet(1/2)-smoothed);
* ``persistence``: last year's direction carried forward (see ``scoring.persistence``);
* ``power_only``, ``trust_only``, ``leaders_only``: the model refitted with the other
  lenses switched out of the outcome equation (the ``lens_mask`` data, no recompile).

One compilation: every origin's spec is padded to the workspace's full years and indicators
with masks (``model.padded``), so a worker process compiles the model for its first origin
and refits it for every later origin and variant with new ``pm.Data`` values. The forecast
starts from the state at the origin's as-of year; padded later years never enter it.

Origins are independent, so they run in parallel as Dask tasks (``validate.cluster``): local
worker processes by default, or an existing cluster (``--scheduler``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from forecast import LENSES

from forecast.validate import derived, scoring
from forecast.defaults import (BACKTEST_CHAINS, BACKTEST_DRAWS, BACKTEST_TUNE, MIN_FITTED_YEARS, OUTCOME_FORM,
                               OUTCOME_FORMS, PRESET, SAMPLER, SEED)
from forecast.errors import ForecastError
from forecast.model.projection import INTERVAL_TYPE

# The candidate specifications of P(improve) (benchmarks/improve_candidates.md): the outcome forms, each a
# refit of the same compiled model with other switches (pm.Data); the default form is the "model".
CANDIDATES = OUTCOME_FORMS
ELIGIBLE = ("joint", "joint_lag")  # forecast-time consistent: the rule picks the default among these
TIE_NATS = 0.005                   # ...and the simpler joint when the mean log scores differ by less
# The addenda's candidates (validate.derived), learned from the origins scored before each one. One is
# chosen only if it beats the form the rule above picks by at least TIE_NATS.
# single-lens models: the default form with the other lenses switched out of the outcome (lens_mask)
SINGLE_LENS: dict[str, tuple[float, float, float]] = {
    "power_only": (1.0, 0.0, 0.0),
    "trust_only": (0.0, 1.0, 0.0),
    "leaders_only": (0.0, 0.0, 1.0),
}
BASELINES = ("climatology", "persistence")
POSTERIOR_NEEDED = ("state_persistence", "factor_state", "cutpoints", "settlement_base_rate", "gamma_power",
                    "gamma_trust", "gamma_capacity", "delta_barrier", "event_effect", "event_rate_intercept",
                    "event_rate_slope", "event_lag_weight", "event_shift", *(f"beta_{lens}" for lens in LENSES))


@dataclass(frozen=True)
class Settings:
    preset: str = PRESET
    draws: int = BACKTEST_DRAWS
    tune: int = BACKTEST_TUNE
    chains: int = BACKTEST_CHAINS
    seed: int = SEED
    sampler: str = SAMPLER
    single_lens: bool = True
    candidates: bool = True        # score every outcome form (CANDIDATES), not only the default's
    outcome_form: str = OUTCOME_FORM  # the default form: the "model" row, and the single-lens models' form
    recode: tuple = ()             # (year, change) pairs replacing the coded outcome (validate.recode)


def check_range(first_outcome: int, last_outcome: int, start: int, end: int) -> None:
    lo = first_outcome + MIN_FITTED_YEARS  # an origin needs MIN_FITTED_YEARS coded years (build_spec's rule)
    if start > end:
        raise ForecastError(f"--from {start} is after --to {end}; give a range such as --from {lo} --to {last_outcome}")
    if start < lo or end > last_outcome:
        raise ForecastError(f"backtest years must lie in {lo}-{last_outcome} (outcomes.csv codes {first_outcome}-"
                            f"{last_outcome}; each origin needs {MIN_FITTED_YEARS} coded years before it): got {start}-{end}")


# One compiled model per process, reused by every origin of the same padded shape (a worker that
# runs several origins compiles once): structure key -> (compiled, sampler used).
_COMPILED: dict[tuple[str, str], tuple[object, str]] = {}


def origin_spec(data_dir: str, priors_dir: str, year: int, settings: Settings, events: list, padded: bool = True):
    """The spec of origin ``year``: data through ``year - 1`` (ledger entries known by then), padded
    to the workspace's full shape (``model.padded``) unless ``padded`` is False (the as-of fit)."""
    from pathlib import Path

    from forecast.data.loaders import load_dataset
    from forecast.model.evidence import merge_events
    from forecast.model.padded import build_padded_spec
    from forecast.model.priors import load_preset
    from forecast.model.spec import build_spec
    from forecast.validate.recode import recoded

    as_of = year - 1
    ds = recoded(load_dataset(Path(data_dir)), settings.recode)
    priors = load_preset(Path(priors_dir), settings.preset)
    past_events = [e for e in events if e.year <= as_of]  # ledger entries known by then
    merged = merge_events(ds, past_events, as_of)
    form = settings.outcome_form
    return build_padded_spec(merged, priors, as_of, form) if padded else build_spec(merged, priors, as_of, form)


def compiled_for(spec, sampler: str) -> tuple[object, str, float, bool]:
    """(compiled, sampler used, compile seconds, compiled now?) for a padded ``spec``: compiled on
    the first origin of its shape in this process, then reused with new ``pm.Data`` values."""
    from forecast.inference.fitting import compile_model

    key = (sampler, spec.structure_key())
    if key in _COMPILED:
        return (*_COMPILED[key], 0.0, False)
    compiled, used, seconds = compile_model(spec, sampler)
    _COMPILED.clear()  # keep one model per process
    _COMPILED[key] = (compiled, used)
    return compiled, used, seconds, True


def origin_forecast(data_dir: str, priors_dir: str, year: int, settings: Settings, events: list) -> dict:
    """Fit on data through ``year - 1`` and predict ``year`` (runs in a worker process). Every origin
    is padded to one shape, so a process compiles the model once and refits it per origin."""
    t0 = time.perf_counter()
    spec = origin_spec(data_dir, priors_dir, year, settings, events)
    compiled, used, compile_s, fresh = compiled_for(spec, settings.sampler)
    out = {"year": year, "as_of": spec.as_of, "compile_s": round(compile_s, 2), "compiled": fresh,
           "variants": variant_forecasts(spec, compiled, used, settings)}
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def variants(settings: Settings) -> dict[str, tuple[str, tuple[float, float, float]]]:
    """name -> (outcome form, lens mask) of every fit an origin makes: "model" (the default form), the
    other candidate forms, then the single-lens models (default form)."""
    out = {"model": (settings.outcome_form, (1.0, 1.0, 1.0))}
    if settings.candidates:
        out |= {form: (form, (1.0, 1.0, 1.0)) for form in CANDIDATES if form != settings.outcome_form}
    if settings.single_lens:
        out |= {name: (settings.outcome_form, mask) for name, mask in SINGLE_LENS.items()}
    return out


def variant_forecasts(spec, compiled, used: str, settings: Settings) -> dict:
    """Sample ``compiled`` (the model of ``spec``, padded or not) once per variant and project
    the year after ``spec.as_of`` from the state at as-of."""
    from forecast.inference.diagnostics import compute_diagnostics
    from forecast.inference.fitting import draw
    from forecast.inference.retry import with_retry
    from forecast.model.kernels import outcome_switches
    from forecast.model.padded import PaddedSpec
    from forecast.model.projection import Draws, project, summarise

    padded = isinstance(spec, PaddedSpec)
    i = spec.as_of_index if padded else spec.n_years - 1
    out = {}
    for name, (form, mask) in variants(settings).items():
        model_on, lag_on = outcome_switches(form)
        data = (spec.data() if padded else {}) | {"lens_mask": np.asarray(mask), "event_model": np.asarray(model_on),
                                                    "event_lag": np.asarray(lag_on)}
        kw = dict(draws=settings.draws, tune=settings.tune, chains=settings.chains, seed=settings.seed,
                  progress=False, data=data)

        def attempt(target_accept):
            idata = draw(compiled, used, target_accept=target_accept, **kw)
            return idata, compute_diagnostics(idata)
        (idata, diag), _ = with_retry(attempt, lambda r: r[1].divergences)  # the policy of every fit
        post = {v: idata.posterior[v].values for v in POSTERIOR_NEEDED}
        post["factor_state"] = post["factor_state"][..., : i + 1]  # padded years after as-of never enter
        d = Draws.from_posterior(post, form, spec.event_lens, spec.event_sign, last=i)
        d.beta = d.beta * np.asarray(mask)[None, :]
        proj = project(d, float(spec.barrier[i]), horizons=(1,), seed=settings.seed)
        s = summarise(proj["improve_next_year"])
        out[name] = {
            "form": form, "p_improve": s.mean, "lo80": s.lo80, "hi80": s.hi80,
            "p_change": proj["change_probs"].mean(axis=0).tolist(),
            "event_shift_next": proj["event_shift_next"].mean(axis=0).tolist(),
            "diagnostics": {k: diag.to_dict()[k] for k in ("rhat_max", "ess_bulk_min", "ess_tail_min", "divergences",
                                                           "bfmi_min", "ok", "failures")},
            "scored_quantity": scored_quantity_diagnostics(proj["improve_next_year"], settings.chains),
        }
    return out


def scored_quantity_diagnostics(per_draw, chains: int) -> dict:
    """R-hat and bulk ESS of the per-draw P(improve) itself (the number the backtest scores),
    against the same thresholds as the parameters."""
    from forecast.defaults import THRESHOLDS
    from forecast.inference.mcmc_stats import ess_bulk, rhat as rank_rhat

    x = np.asarray(per_draw).reshape(chains, -1)
    rhat = float(rank_rhat(x)) if chains > 1 else float("nan")
    ess = float(ess_bulk(x))
    ok = (chains == 1 or rhat < THRESHOLDS["rhat_max"]) and ess >= THRESHOLDS["ess_bulk_min"]
    return {"rhat": round(rhat, 4), "ess_bulk": round(ess, 1), "ok": bool(ok)}


def _run_origins(ws, years, settings: Settings, events: list, jobs: int | None, scheduler: str | None = None,
                 on_done=None) -> list[dict]:
    """One task per origin (see ``cluster.run_tasks``), results in year order."""
    from forecast.validate.cluster import Task, run_tasks

    args = (str(ws.data_dir), str(ws.priors_dir))
    return run_tasks([Task(origin_forecast, (*args, y, settings, events)) for y in years], jobs, scheduler, on_done)


def origin_years(outcomes, start: int | None, end: int | None) -> list[int]:
    """The forecast years to backtest (validated against the coded outcomes)."""
    first, last = int(outcomes["year"].min()), int(outcomes["year"].max())
    start = first + MIN_FITTED_YEARS if start is None else start
    end = last if end is None else end
    check_range(first, last, start, end)
    return list(range(start, end + 1))


def run(ws, years: list[int], settings: Settings = Settings(), jobs: int | None = None, on_done=None,
        scheduler: str | None = None) -> dict:
    """The whole backtest: per-year rows, scores of the model and every baseline, Brier skill
    against climatology with a bootstrap interval, and a reliability table. The origins run on
    ``jobs`` local worker processes, or on the Dask cluster at ``scheduler``."""
    from forecast.store import ledger as L
    from forecast.data.loaders import load_dataset
    from forecast.model.priors import load_preset
    from forecast.workspace import content_hash

    from forecast.validate.recode import recoded

    ds = recoded(load_dataset(ws.data_dir), settings.recode)
    load_preset(ws.priors_dir, settings.preset)  # validate before spending minutes on fits
    origin_years(ds.outcomes, years[0], years[-1])
    outcomes = ds.outcomes.set_index("year")
    first = int(outcomes.index.min())
    start, end = years[0], years[-1]
    records, head = L.read(ws)
    events = L.active_events(records)
    t0 = time.perf_counter()
    origins = _run_origins(ws, years, settings, events, jobs, scheduler, on_done)
    elapsed = time.perf_counter() - t0

    rows = []
    for o in origins:
        y = o["year"]
        past = outcomes.loc[first:y - 1, "change"].to_numpy(int)
        probs = {name: np.asarray(v["p_change"]) for name, v in o["variants"].items()}
        probs["climatology"] = scoring.climatology(past)
        probs["persistence"] = scoring.persistence(past)
        m = o["variants"]["model"]
        rows.append({
            "year": y, "as_of": o["as_of"],
            "p_improve": m["p_improve"], "p_improve_lo80": m["lo80"], "p_improve_hi80": m["hi80"],
            "p_change": {str(c): float(p) for c, p in zip(scoring.CATEGORIES, probs["model"])},
            "observed_change": int(outcomes.loc[y, "change"]),
            "improved": int(outcomes.loc[y, "change"] > 0),
            "baselines": {name: {"p_improve": float(scoring.p_improve(p)),
                                 "p_change": {str(c): float(x) for c, x in zip(scoring.CATEGORIES, p)}}
                          for name, p in probs.items() if name != "model"},
            "diagnostics_ok": {name: v["diagnostics"]["ok"] for name, v in o["variants"].items()},
            "scored_quantity_ok": {name: v["scored_quantity"]["ok"] for name, v in o["variants"].items()},
            "scored_quantity": m["scored_quantity"],
            "diagnostics": m["diagnostics"],
            "event_shift_next": m["event_shift_next"],
            "seconds": o["seconds"],
        })
    observed = np.array([r["observed_change"] for r in rows])
    improved = (observed > 0).astype(float)
    methods = ["model", *BASELINES, *(v for v in variants(settings) if v != "model")]
    cat = {name: np.array([list((r["p_change"] if name == "model" else r["baselines"][name]["p_change"]).values())
                           for r in rows], dtype=float) for name in methods}
    extra = {}
    if settings.candidates and derived.DERIVED_FROM in CANDIDATES:
        joint = "model" if settings.outcome_form == derived.DERIVED_FROM else derived.DERIVED_FROM
        for d in derived.derive(cat, observed, joint, [*(r["year"] for r in rows), end + 1]):
            cat[d.name], extra[d.key] = d.probs, d.record
            methods.append(d.name)
            for r, probs, more in zip(rows, d.probs, d.row_extra):
                r["baselines"][d.name] = {"p_improve": float(scoring.p_improve(probs)), **more,
                                          "p_change": {str(c): float(x) for c, x in zip(scoring.CATEGORIES, probs)}}
    scores = {name: scoring.score_all(cat[name], observed) for name in methods}
    p_clim = scoring.p_improve(cat["climatology"])
    skill = {name: scoring.bootstrap_skill(scoring.p_improve(cat[name]), p_clim, improved, seed=settings.seed)
             for name in methods if name != "climatology"}
    skills = {name: scoring.bootstrap_skills(cat[name], cat["climatology"], observed + 2, seed=settings.seed)
              for name in methods if name != "climatology"}
    reliability = {name: scoring.reliability(scoring.p_improve(cat[name]), improved) for name in methods}
    candidates = candidate_table(settings, scores, skills, reliability) if settings.candidates else {}
    failed = [r["year"] for r in rows if not all(r["diagnostics_ok"].values())]
    failed_scored = [r["year"] for r in rows if not all(r["scored_quantity_ok"].values())]
    return {
        "years": [start, end], "preset": settings.preset, "content_hash": content_hash(ws), "ledger_head": head,
        "settings": asdict(settings), "elapsed_s": round(elapsed, 1),
        "interval": f"80% {INTERVAL_TYPE} of the per-draw P(improve)",
        "conventions": {
            "brier": "mean squared error of P(improve) vs 0/1 outcome, 0-1 scale, lower is better",
            "log": "mean negative log-likelihood of the 0/1 outcome (nats), lower is better",
            "rps": "ranked probability score of the 5-point change, sum of 4 squared CDF gaps / 4, "
                   "0-1 scale, lower is better",
            "brier_skill": "1 - Brier(method) / Brier(climatology), higher is better",
        },
        "rows": rows, "scores": scores, "brier_skill_vs_climatology": skill, "skill_vs_climatology": skills,
        "candidates": candidates, "choice": choose(candidates) if candidates else None,
        "reliability": reliability["model"],
        "reliability_by_method": {name: {k: rel[k] for k in ("miscalibration", "discrimination", "uncertainty")}
                                  for name, rel in reliability.items()},
        "stacking": extra.get("stacking"), "recalibration": extra.get("recalibration"),
        "origins_failing_diagnostics": failed,
        "origins_failing_scored_quantity_diagnostics": failed_scored,
    }


def candidate_table(settings: Settings, scores: dict, skills: dict, reliability: dict) -> dict:
    """Every candidate (outcome forms, then the stack when scored) with its scores, skills and CORP terms
    (the default form's are the "model"'s)."""
    out = {}
    for form in (*CANDIDATES, *derived.NAMES):
        name = "model" if form == settings.outcome_form else form
        if name not in scores:
            continue
        rel = {k: reliability[name][k] for k in ("miscalibration", "discrimination")}
        out[form] = {"method": name, "eligible": form in (*ELIGIBLE, *derived.NAMES), "scores": scores[name],
                     "skill": skills[name], "reliability": rel}
    return out


def choose(candidates: dict) -> dict:
    """The rule of benchmarks/improve_candidates.md, fixed before the scores were seen: the eligible form with
    the lowest mean log score; the simpler joint when joint_lag is better by less than TIE_NATS; and (the
    addendum) the stack only if it beats that choice by at least TIE_NATS."""
    logs = {form: c["scores"]["log"] for form, c in candidates.items() if c["eligible"]}
    forms = {f: v for f, v in logs.items() if f not in derived.NAMES}
    best = min(forms, key=forms.get)
    if best != "joint" and "joint" in forms and forms["joint"] - forms[best] < TIE_NATS:
        best = "joint"
    beating = {d: logs[d] for d in derived.NAMES if d in logs and logs[best] - logs[d] >= TIE_NATS}
    best = min(beating, key=beating.get) if beating else best
    return {"form": best, "mean_log_scores": logs,
            "rule": f"lowest mean log score of P(improve) among {', '.join(ELIGIBLE)}; joint when within "
                    f"{TIE_NATS} nats; {' or '.join(derived.NAMES)} only if lower than that choice by at least "
                    f"{TIE_NATS} nats, the lower of them if both are (benchmarks/improve_candidates.md and its "
                    "addenda)"}


def write_results(out_dir, result: dict) -> None:
    """backtest_rows.csv and backtest.json in ``out_dir`` (created with its parents if missing), each written
    atomically."""
    import csv
    import json

    from forecast.workspace import atomic_write

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = row_table(result)

    def write_csv(tmp):
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)

    atomic_write(out_dir / "backtest_rows.csv", write_csv)
    atomic_write(out_dir / "backtest.json", lambda tmp: tmp.write_text(json.dumps(result, indent=2)))


def row_table(result: dict) -> list[dict]:
    """Flat per-year rows (for CSV)."""
    out = []
    for r in result["rows"]:
        flat = {k: r[k] for k in ("year", "as_of", "observed_change", "improved", "p_improve", "p_improve_lo80",
                                  "p_improve_hi80")}
        flat |= {f"p_change_{c}": r["p_change"][c] for c in r["p_change"]}
        flat |= {f"p_improve_{name}": b["p_improve"] for name, b in r["baselines"].items()}
        flat["diagnostics_ok"] = all(r["diagnostics_ok"].values())
        flat["scored_quantity_ok"] = all(r["scored_quantity_ok"].values())
        out.append(flat)
    return out


def format_summary(result: dict) -> str:
    lines = [f"Rolling-origin backtest {result['years'][0]}-{result['years'][1]} (preset '{result['preset']}'; "
             f"each year fitted on data through the year before)", ""]
    lines.append(f"{'year':>4} {'obs':>4} {'P(improve)':>10} {'80% interval':>15} {'clim':>6} {'pers':>6}")
    for r in result["rows"]:
        b = r["baselines"]
        flag = "" if all(r["diagnostics_ok"].values()) else "  parameter diagnostics!"
        flag += "" if all(r["scored_quantity_ok"].values()) else "  P(improve) diagnostics!"
        lines.append(f"{r['year']:>4} {r['observed_change']:>+4d} {100 * r['p_improve']:>9.1f}% "
                     f"{100 * r['p_improve_lo80']:>6.1f}-{100 * r['p_improve_hi80']:>5.1f}% "
                     f"{100 * b['climatology']['p_improve']:>5.1f}% {100 * b['persistence']['p_improve']:>5.1f}%{flag}")
    lines += ["", f"{'method':16} {'Brier':>7} {'log':>7} {'RPS':>7}   skill vs climatology [80% interval]: "
                  f"Brier / log / RPS"]
    for name, s in result["scores"].items():
        sk = result["skill_vs_climatology"].get(name)
        sk_txt = ("  ".join(f"{sk[k]['value']:+.2f} [{sk[k]['lo80']:+.2f}, {sk[k]['hi80']:+.2f}]"
                            for k in ("brier", "log", "rps")) if sk else "(reference)")
        lines.append(f"{name:16} {s['brier']:7.3f} {s['log']:7.3f} {s['rps']:7.3f}   {sk_txt}")
    lines.append("Scores: lower is better (Brier and RPS on 0-1 scales, log in nats). Skill = 1 - score / "
                 "climatology's; intervals: " + next(iter(result["skill_vs_climatology"].values()))["interval"] + ".")
    if result.get("choice"):
        c = result["choice"]
        lines.append(f"Default by the rule fixed in advance ({c['rule']}): {c['form']} "
                     f"(mean log scores: " + ", ".join(f"{k} {v:.3f}" for k, v in c["mean_log_scores"].items())
                     + f"; 'model' above is {result['settings']['outcome_form']})")
    if result.get("stacking"):
        w = result["stacking"]["weights"]
        last = list(w)[-1]
        lines.append(f"Stack weight on {result['stacking']['of'][0]} (rest climatology), learned from earlier origins: "
                     + ", ".join(f"{y} {v:.2f}" for y, v in list(w.items())[:-1]) + f"; for {last}: {w[last]:.2f}")
    if result.get("recalibration"):
        m = result["recalibration"]["maps"]
        lines.append(f"Recalibration map (a, b) of {result['recalibration']['of']}, learned from earlier origins: "
                     + ", ".join(f"{y} ({v[0]:+.2f}, {v[1]:.2f})" for y, v in m.items()))
    lines.append("CORP terms of P(improve), MCB (miscalibration) / DSC (discrimination): " + ", ".join(
        f"{name} {r['miscalibration']:.3f}/{r['discrimination']:.3f}" for name, r in result["reliability_by_method"].items()))
    rel = result["reliability"]
    lines.append(f"Reliability of P(improve), CORP (isotonic): reliability term MCB {rel['miscalibration']:.3f}, "
                 f"resolution term DSC {rel['discrimination']:.3f}, uncertainty UNC {rel['uncertainty']:.3f}")
    lines.append(f"  {'forecast range':>15} {'years':>5} {'mean forecast':>13} {'observed (recalibrated)':>24}")
    for b in rel["table"]:
        lines.append(f"  {100 * b['p_lo']:6.1f}-{100 * b['p_hi']:5.1f}%  {b['n']:>5} {100 * b['mean_forecast']:12.1f}% "
                     f"{100 * b['observed_frequency']:23.1f}%")
    if result["origins_failing_diagnostics"]:
        lines.append(f"!! {len(result['origins_failing_diagnostics'])} of {len(result['rows'])} origins fail the "
                     "parameter diagnostics in at least one variant (rows kept and flagged): "
                     + ", ".join(map(str, result["origins_failing_diagnostics"])))
    bad = result["origins_failing_scored_quantity_diagnostics"]
    lines.append(f"{'!! ' if bad else ''}R-hat and bulk ESS of the scored P(improve) itself: "
                 + (f"{len(bad)} origins fail ({', '.join(map(str, bad))})" if bad else "every origin passes"))
    return "\n".join(lines)
