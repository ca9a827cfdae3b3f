"""Simulation-based calibration of the centred model on the shipped default spec (issue 5, part 3).

Each simulation draws all parameters from the prior (``forecast.sbc.simulate_prior``), simulates
indicators, yearly changes and settlements at the shipped data's observed cells, refits the model
(nutpie, compiled once, data swapped per simulation) and records the rank of each true key
parameter and of the true log-likelihood among thinned posterior draws. Each record is appended to
a JSONL progress file as soon as it exists, so a crash or kill loses nothing and ``--resume``
continues. At the end (also on partial progress with ``--summarise-only``) the results file gets the
settings, the commit it ran on, library versions, per-parameter rank uniformity (ECDF difference
against a 95% simultaneous band) and 50%/90% interval coverage, and the raw ranks; a Markdown table
goes beside it.

    python benchmarks/sbc.py                       # full run: 200 simulations
    python benchmarks/sbc.py --sims 20 --draws 100 --tune 150 --chains 1 --out /tmp/sbc.json
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:  # run as a script from any directory
    sys.path.insert(0, str(REPO))

from forecast import defaults as D
from forecast.validate import sbc
from forecast.validate.cluster import Task, default_jobs, run_tasks
from forecast.validate.sbc_tasks import SBCSettings, fit_chunk, simulate_and_fit
from forecast.data.loaders import load_dataset
from forecast.errors import ForecastError
from forecast.inference.fitting import TARGET_ACCEPT
from forecast.model.priors import load_preset
from forecast.model.spec import build_spec
from forecast.store.posterior import library_versions
from forecast.workspace import Workspace, default_source

DEFAULT_OUT = HERE / "results" / "sbc.json"
SETTINGS_KEYS = ("draws", "tune", "chains", "seed", "rank_draws", "target_accept", "preset")


def git_state() -> dict:
    def run(*args):
        p = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return p.stdout.strip() if p.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    dirty = run("status", "--porcelain", "--untracked-files=no", "--", "forecast", "data", "priors",
                "benchmarks/sbc.py")
    return {"commit": commit, "dirty": bool(dirty),
            "note": ("tracked files under forecast/, data/, priors/ or benchmarks/sbc.py differed from the "
                     "commit when the run started: " + dirty.replace("\n", "; ")) if dirty else ""}


def load_spec(preset: str):
    ws = Workspace(default_source())
    return build_spec(load_dataset(ws.data_dir), load_preset(ws.priors_dir, preset))


def read_progress(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by a kill: that simulation is simply redone
            continue
    return out


def run(args, spec, progress_path: Path, header: dict) -> list[dict]:
    records = read_progress(progress_path) if args.resume else []
    if records:
        old = {k: records[0]["settings"].get(k) for k in SETTINGS_KEYS}
        if old != header["settings"]:
            sys.exit(f"--resume: {progress_path} was made with settings {old}, not {header['settings']}")
    elif progress_path.exists():
        progress_path.unlink()
    done = {r["sim"] for r in records}
    todo = [i for i in range(args.sims) if i not in done]
    print(f"SBC: {len(done)} simulations done, {len(todo)} to run -> {progress_path}", flush=True)
    if not todo:
        return records
    priors = sbc.resolved_priors(spec)
    settings = SBCSettings(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed,
                           rank_draws=args.rank_draws, target_accept=args.target_accept)
    chunks = [tuple(todo[k:k + args.chunk]) for k in range(0, len(todo), args.chunk)]
    t_start = time.perf_counter()
    n_run = 0

    def keep(rec: dict) -> None:  # each record is on disk as soon as it is back here
        nonlocal n_run
        rec.update({"settings": header["settings"], "git": header["git"], "started_utc": header["started_utc"]})
        with open(progress_path, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
        records.append(rec)
        n_run += 1
        elapsed = time.perf_counter() - t_start
        print(f"[{len(records)}/{args.sims}] sim {rec['sim']}: {rec['sample_s']:.1f} s, div {rec['divergences']}, "
              f"R-hat {rec['rhat_max']:.3f}, ESS {rec['ess_bulk_min']:.0f}, "
              f"eta {elapsed / n_run * (len(todo) - n_run) / 60:.1f} min", flush=True)

    jobs = args.jobs or default_jobs(len(chunks))
    if args.scheduler is None and (jobs == 1 or len(chunks) == 1):  # here, one compile, a line per simulation
        fitter = sbc.SBCFitter(spec)
        print(f"compiled in {fitter.compile_s:.1f} s", flush=True)
        for i in todo:
            keep(simulate_and_fit(spec, priors, fitter, i, settings))
        return records
    where = args.scheduler or f"{jobs} local worker processes"
    print(f"{len(chunks)} chunks of up to {args.chunk} simulations on {where} (one compile per chunk)", flush=True)
    run_tasks([Task(fit_chunk, (spec, priors, c, settings)) for c in chunks], jobs, args.scheduler,
              on_done=lambda recs: [keep(r) for r in recs])
    return records


TAU_SPLIT = 0.1


def mixing_by_tau(records: list[dict]) -> list[dict]:
    """Sampler trouble split by the true loading spread: the loadings are sampled centred
    (loading_v ~ N(0, tau)), a funnel when the truth puts tau near zero."""
    out = []
    for name, keep in ((f"< {TAU_SPLIT}", lambda t: t < TAU_SPLIT), (f">= {TAU_SPLIT}", lambda t: t >= TAU_SPLIT)):
        rs = [r for r in records if keep(r["truth"]["loading_tau"])]
        if rs:
            out.append({"true_loading_tau": name, "n": len(rs),
                        "with_divergences": sum(r["divergences"] > 0 for r in rs),
                        "divergences": int(sum(r["divergences"] for r in rs)),
                        "rhat_ge_1.05": sum(r["rhat_max"] >= 1.05 for r in rs),
                        "median_min_ess_bulk": float(np.median([r["ess_bulk_min"] for r in rs]))})
    return out


def results(records: list[dict], spec, header: dict) -> dict:
    records = sorted(records, key=lambda r: r["sim"])
    labels = sbc.key_parameters(spec)
    L = {r["n_rank_draws"] for r in records}
    if len(L) != 1:
        raise SystemExit(f"records disagree on the number of rank draws: {sorted(L)}")
    L = L.pop()
    summary = sbc.summarise(records, labels, L) if records else {}
    rhat_limit = 1.01
    diverged = [r["sim"] for r in records if r["divergences"] > 0]
    unconverged = [r["sim"] for r in records if r["rhat_max"] >= rhat_limit]
    rhats = np.array([r["rhat_max"] for r in records])
    T = D.THRESHOLDS
    passing = [r["sim"] for r in records if r["rhat_max"] < T["rhat_max"] and r["divergences"] == 0
               and r["ess_bulk_min"] >= T["ess_bulk_min"]]
    clean = [r for r in records if r["divergences"] == 0]
    clean_summary = sbc.summarise(clean, labels, L) if clean and len(clean) < len(records) else None
    return {
        **header,
        "n_simulations": len(records),
        "n_rank_draws": L,
        "band": "95% simultaneous ECDF band (Säilynoja, Bürkner & Vehtari 2022; arviz 'optimized'), "
                f"evaluated at the {L} rank boundaries (j+1)/(L+1)",
        "coverage_intervals": "central posterior intervals from all draws; exact (Clopper-Pearson) 95% "
                              "binomial intervals on the coverage rate",
        "parameters": summary,
        "outside_band": [lab for lab, s in summary.items() if not s["inside_band"]],
        "divergent_simulations": {"count": len(diverged), "sims": diverged,
                                  "total_divergences": int(sum(r["divergences"] for r in records))},
        "unconverged_simulations": {"rhat_limit": rhat_limit, "count": len(unconverged), "sims": unconverged},
        "passing_fits": {"rule": f"R-hat < {T['rhat_max']}, no divergences, bulk ESS >= {T['ess_bulk_min']} "
                                 "(every parameter and state)", "count": len(passing),
                         "share": len(passing) / len(records) if records else float("nan"), "target_share": 0.95},
        # the per-fit maximum is over every parameter and state (~300), from 2 chains by default
        "rhat_max": {"median": float(np.median(rhats)), "q90": float(np.quantile(rhats, 0.9)),
                     "max": float(rhats.max()), "count_ge_1.05": int((rhats >= 1.05).sum()),
                     "sims_ge_1.05": [r["sim"] for r in records if r["rhat_max"] >= 1.05]},
        "ess_bulk_min": {"min": min(r["ess_bulk_min"] for r in records),
                         "median": float(np.median([r["ess_bulk_min"] for r in records]))},
        "sample_s": {"total": round(sum(r["sample_s"] for r in records), 1),
                     "median": float(np.median([r["sample_s"] for r in records]))},
        "without_divergent_simulations": clean_summary and {
            "n": len(clean), "outside_band": [lab for lab, s in clean_summary.items() if not s["inside_band"]]},
        "by_true_loading_tau": mixing_by_tau(records),
        "ranks": {lab: [r["ranks"][lab] for r in records] for lab in labels},
        "per_simulation": {k: [r[k] for r in records] for k in ("divergences", "rhat_max", "ess_bulk_min", "sample_s")}
        | {"true_loading_tau": [r["truth"]["loading_tau"] for r in records]},
        "seeds": [r["seed"] for r in records],
        "sims": [r["sim"] for r in records],
    }


def markdown(res: dict, command: str) -> str:
    pct = lambda x: f"{100 * x:.0f}%"
    lines = [
        "# Simulation-based calibration (SBC)",
        "",
        f"Commit `{res['git']['commit']}`" + (" (working tree dirty: see sbc.json)" if res["git"]["dirty"] else "")
        + f", run {res['started_utc']} to {res['finished_utc']} ({res['run_wall_s'] / 60:.0f} min wall)"
        + (f" (summarised with commit `{res['summarised_with']['commit']}`)." if res.get("summarised_with") else "."),
        "",
        f"Reproduce: `{command}`",
        "",
        (f"{res['n_simulations']} simulations from the prior of the centred model on the shipped default spec "
        f"(preset `{res['settings']['preset']}`), each fitted with nutpie: {res['settings']['chains']} chains x "
        f"{res['settings']['draws']} draws after {res['settings']['tune']} tuning, target_accept "
        f"{res['settings']['target_accept']}; ranks among {res['n_rank_draws']} thinned draws (0..{res['n_rank_draws']}). "
        f"Rank uniformity: ECDF difference against a 95% simultaneous band (Säilynoja et al. 2022). "
        f"Coverage: central 50% and 90% posterior intervals, with exact 95% binomial intervals."),
        "",
        "| parameter | max abs ECDF diff | inside 95% band | 50% coverage | 90% coverage |",
        "|---|---:|:---:|---:|---:|",
    ]
    for lab, s in res["parameters"].items():
        c5, c9 = s["coverage50"], s["coverage90"]
        lines.append(f"| `{lab}` | {s['max_abs_ecdf_diff']:.3f} | {'yes' if s['inside_band'] else '**no**'} | "
                     f"{pct(c5['rate'])} [{pct(c5['ci95'][0])}, {pct(c5['ci95'][1])}] | "
                     f"{pct(c9['rate'])} [{pct(c9['ci95'][0])}, {pct(c9['ci95'][1])}] |")
    d, u = res["divergent_simulations"], res["unconverged_simulations"]
    lines += [
        "",
        (f"Simulations with divergent transitions: {d['count']} of {res['n_simulations']} "
        f"({d['total_divergences']} divergences in all). Simulations with R-hat >= {u['rhat_limit']}: "
        f"{u['count']} (median of the per-fit maximum over all ~300 parameters and states "
        f"{res['rhat_max']['median']:.3f}, 90th percentile {res['rhat_max']['q90']:.3f}, worst "
        f"{res['rhat_max']['max']:.3f}; {res['rhat_max']['count_ge_1.05']} at or above 1.05). Smallest bulk ESS: {res['ess_bulk_min']['min']:.0f} "
        f"(median over simulations of the per-fit minimum {res['ess_bulk_min']['median']:.0f}). "
        f"Sampling time: {res['sample_s']['total'] / 60:.1f} min in all, median {res['sample_s']['median']:.1f} s "
        "per simulation."),
        "",
        *([f"**Fits that pass the thresholds** ({res['passing_fits']['rule']}): {res['passing_fits']['count']} of "
           f"{res['n_simulations']} ({100 * res['passing_fits']['share']:.0f}%; target >= 95%)."]
          if "passing_fits" in res else []),
        "",
    ]
    lines += [("Sampler trouble by the true loading spread `loading_tau` (the log loadings are sampled centred, "
              "`loading_v ~ N(0, tau)`):"), "",
              "| true loading_tau | simulations | with divergences | divergences | R-hat >= 1.05 | median min bulk ESS |",
              "|---|---:|---:|---:|---:|---:|"]
    for g in res["by_true_loading_tau"]:
        lines.append(f"| {g['true_loading_tau']} | {g['n']} | {g['with_divergences']} | {g['divergences']} | "
                     f"{g['rhat_ge_1.05']} | {g['median_min_ess_bulk']:.0f} |")
    lines.append("")
    clean = res.get("without_divergent_simulations")
    if clean:
        lines += [f"Without the {res['n_simulations'] - clean['n']} simulations that diverged, outside the band: "
                  + (", ".join(f"`{x}`" for x in clean["outside_band"]) or "none") + ".", ""]
    if res["outside_band"]:
        lines.append("Outside the band: " + ", ".join(f"`{x}`" for x in res["outside_band"]) + ".")
    else:
        lines.append("All key parameters and the log-likelihood are inside the 95% simultaneous band.")
    lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=200)
    ap.add_argument("--draws", type=int, default=500, help="draws per chain")
    ap.add_argument("--tune", type=int, default=500)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--rank-draws", type=int, default=100, help="thinned draws the ranks are taken among")
    ap.add_argument("--seed", type=int, default=20240605)
    ap.add_argument("--target-accept", type=float, default=TARGET_ACCEPT)
    ap.add_argument("--preset", default="default")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON (Markdown table beside it)")
    ap.add_argument("--progress", type=Path, default=None, help="JSONL progress file (default: OUT with .jsonl)")
    ap.add_argument("--resume", action="store_true", help="continue from the progress file")
    ap.add_argument("--jobs", type=int, default=None,
                    help="local worker processes (1: in this process) [default: the cores, at most one per chunk]")
    ap.add_argument("--scheduler", metavar="ADDRESS", default=None,
                    help="run the chunks on an existing Dask cluster, e.g. tcp://HOST:8786 ('dask scheduler' and "
                         "'dask worker ADDRESS'; the workers need forecast installed)")
    ap.add_argument("--chunk", type=int, default=D.SBC_CHUNK,
                    help="simulations per task: a worker compiles the model once per chunk")
    ap.add_argument("--notes", type=Path, default=None, help="Markdown appended to the table (the analysis)")
    ap.add_argument("--summarise-only", action="store_true",
                    help="write the results from the progress file so far, without sampling")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    progress_path = (args.progress or out.with_suffix(".jsonl")).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)

    spec = load_spec(args.preset)
    settings = {"draws": args.draws, "tune": args.tune, "chains": args.chains, "seed": args.seed,
                "rank_draws": args.rank_draws, "target_accept": args.target_accept, "preset": args.preset}
    header = {
        "settings": settings, "sims_requested": args.sims, "git": git_state(),
        "libraries": library_versions(), "python": platform.python_version(),
        "started_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "key_parameters": sbc.key_parameters(spec),
    }
    t0 = time.perf_counter()
    if args.summarise_only:
        records = read_progress(progress_path)
        if not records:
            sys.exit(f"no records in {progress_path}")
        # the run's provenance, not this summary's (which is recorded beside it when it differs)
        summary_git = header["git"]
        header.update({k: records[0][k] for k in ("settings", "git", "started_utc")})
        header["sims_requested"] = max(r["sim"] for r in records) + 1
        if summary_git["commit"] != header["git"]["commit"]:
            header["summarised_with"] = summary_git
        last = _dt.datetime.fromtimestamp(progress_path.stat().st_mtime, _dt.UTC)
        header["finished_utc"] = last.isoformat(timespec="seconds")
        header["run_wall_s"] = round((last - _dt.datetime.fromisoformat(header["started_utc"])).total_seconds(), 1)
    else:
        try:
            records = run(args, spec, progress_path, header)
        except ForecastError as exc:  # e.g. a --scheduler that cannot be reached
            sys.exit(f"error: {exc}")
    if not args.summarise_only:
        header["finished_utc"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        header["run_wall_s"] = round(time.perf_counter() - t0, 1)
    res = results(records, spec, header)
    out.write_text(json.dumps(res, indent=1) + "\n")
    s = res["settings"]
    command = (f"python benchmarks/sbc.py --sims {res['sims_requested']} --draws {s['draws']} --tune {s['tune']} "
               f"--chains {s['chains']} --rank-draws {s['rank_draws']} --seed {s['seed']}")
    notes = args.notes.read_text() if args.notes else ""
    out.with_suffix(".md").write_text(markdown(res, command) + ("\n" + notes if notes else ""))
    print(f"wrote {out} and {out.with_suffix('.md')}: {res['n_simulations']} simulations, "
          f"outside band: {res['outside_band'] or 'none'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
