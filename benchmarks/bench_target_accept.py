"""Benchmark and divergence study: nutpie's target acceptance rate for the default model, side by
side in one run, over as-of years and seeds (issue 12: the warm fit's sampling phase).

    python benchmarks/bench_target_accept.py [--targets 0.8 0.9 0.95] [--as-of 2005 2016 2025]
                                             [--seeds 1 2 3] [--json FILE]

For every as-of year the default model (shipped data and priors, the default outcome form) is
compiled once (from the compile cache when warm), then sampled as `forecast fit` samples it
(4 chains x 2000 draws after 1000 tuning steps, 2 threads) at every target and seed, in
interleaved order so that all targets see the same machine load. Reported per target: the median
sampling wall time and CPU time, the fits with divergent transitions (and how many), the worst
R-hat, bulk and tail ESS and E-BFMI. (Under the retry policy a divergent fit would be sampled
once more at RETRY_TARGET_ACCEPT, at about the 0.95 fit's cost or more.) Nothing here is a test:
it measures.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=float, nargs="+", default=[0.8, 0.9, 0.95])
    ap.add_argument("--as-of", type=int, nargs="+", default=[2005, 2016, 2025])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--json", type=Path, help="also write every fit's row here")
    args = ap.parse_args()

    from forecast.data.loaders import load_dataset
    from forecast.defaults import CHAINS, DRAWS, TUNE
    from forecast.inference.diagnostics import compute_diagnostics
    from forecast.inference.fitting import compile_model, draw
    from forecast.model.priors import load_preset
    from forecast.model.spec import build_spec

    ds = load_dataset(REPO / "data")
    priors = load_preset(REPO / "priors", "default")
    rows = []
    for as_of in args.as_of:
        spec = build_spec(ds, priors, as_of)
        compiled, used, compile_s = compile_model(spec, "nutpie")
        print(f"as of {spec.as_of}: compiled in {compile_s:.1f} s", file=sys.stderr, flush=True)
        for seed in args.seeds:
            for ta in args.targets:
                c0, t0 = cpu_seconds(), time.perf_counter()
                idata = draw(compiled, used, DRAWS, TUNE, CHAINS, seed, False, target_accept=ta)
                wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
                d = compute_diagnostics(idata).to_dict()
                row = {"as_of": spec.as_of, "seed": seed, "target_accept": ta, "wall_s": round(wall, 2),
                       "cpu_s": round(cpu, 2), **{k: d[k] for k in ("divergences", "rhat_max", "ess_bulk_min",
                                                                    "ess_tail_min", "bfmi_min", "ok")},
                       "leapfrog_steps": float(idata.sample_stats["n_steps"].values.mean())
                       if "n_steps" in idata.sample_stats else None}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")

    print(f"\n{len(args.as_of)} as-of years x {len(args.seeds)} seeds per target; "
          f"{CHAINS} chains x {DRAWS} draws after {TUNE} tuning; medians over all fits of a target\n")
    print("| target_accept | sampling wall s | CPU s | ratio to 0.95 | fits with divergences | worst R-hat | "
          "min bulk ESS | min tail ESS | min E-BFMI | fits failing a threshold |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    base = statistics.median(r["wall_s"] for r in rows if r["target_accept"] == 0.95) \
        if any(r["target_accept"] == 0.95 for r in rows) else float("nan")
    for ta in args.targets:
        sub = [r for r in rows if r["target_accept"] == ta]
        wall = statistics.median(r["wall_s"] for r in sub)
        div = [f"{r['as_of']}/s{r['seed']}: {r['divergences']}" for r in sub if r["divergences"]]
        print(f"| {ta} | {wall:.1f} | {statistics.median(r['cpu_s'] for r in sub):.1f} | {base / wall:.2f}x | "
              f"{len(div)}/{len(sub)} {'(' + ', '.join(div) + ')' if div else ''} | "
              f"{max(r['rhat_max'] for r in sub):.4f} | {min(r['ess_bulk_min'] for r in sub):.0f} | "
              f"{min(r['ess_tail_min'] for r in sub):.0f} | {min(r['bfmi_min'] for r in sub):.2f} | "
              f"{sum(not r['ok'] for r in sub)} |")


if __name__ == "__main__":
    main()
