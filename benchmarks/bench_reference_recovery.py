"""Recovery of known parameters by the pooled reference-class hazard model (issue 11).

Runs N seeded simulations of a reference class shaped like the real one (forecast/reference/simulate.py:
~400 claims, ~25 years at risk each, ~2% yearly hazard), fits each on all its rows with the default
sampler settings (or those given), and reports the share of true parameters (beta per covariate,
alpha, theta, tau; in the fit's standardisation) inside their 90% central posterior intervals
(target >= 80%), the fits' diagnostics and the median fit time.

    PYTHONPATH=. python benchmarks/bench_reference_recovery.py [--sims 20] [--claims 400] [--draws 1000]
        [--tune 1000] [--chains 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np


def main(argv=None) -> int:
    from forecast.defaults import REFERENCE_CHAINS, REFERENCE_DRAWS, REFERENCE_TUNE
    from forecast.reference import fit_reference
    from forecast.reference.simulate import coverage, simulate_claim_years

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--claims", type=int, default=400)
    ap.add_argument("--draws", type=int, default=REFERENCE_DRAWS)
    ap.add_argument("--tune", type=int, default=REFERENCE_TUNE)
    ap.add_argument("--chains", type=int, default=REFERENCE_CHAINS)
    ap.add_argument("--json", default=None, help="write the per-simulation results here")
    args = ap.parse_args(argv)

    results = []
    for i in range(args.sims):
        seed = args.first_seed + i
        sim = simulate_claim_years(seed, n_claims=args.claims)
        t0 = time.perf_counter()
        fit = fit_reference(sim, None, draws=args.draws, tune=args.tune, chains=args.chains, seed=seed)
        seconds = time.perf_counter() - t0
        inside = coverage(fit, sim.fit_truth)
        f = sim.frame
        row = {"seed": seed, "rows": len(f), "settlements": int(f["settled"].sum()),
               "claims": int(f["claim"].nunique()),
               "seconds": round(seconds, 1), "covered": int(sum(inside.values())), "checked": len(inside),
               "missed": [k for k, v in inside.items() if not v], "rhat_max": fit.diagnostics.rhat_max,
               "ess_bulk_min": fit.diagnostics.ess_bulk_min, "divergences": fit.diagnostics.divergences,
               "bfmi_min": fit.diagnostics.bfmi_min}
        results.append(row)
        print(json.dumps(row), flush=True)
    covered = sum(r["covered"] for r in results)
    checked = sum(r["checked"] for r in results)
    share = covered / checked if checked else float("nan")
    summary = {"simulations": len(results), "share_inside_90": round(share, 3), "target": 0.8,
               "met": bool(share >= 0.8), "median_fit_seconds": statistics.median(r["seconds"] for r in results),
               "median_rows": statistics.median(r["rows"] for r in results),
               "median_settlements": statistics.median(r["settlements"] for r in results),
               "divergences_total": sum(r["divergences"] for r in results),
               "rhat_max": max(r["rhat_max"] for r in results),
               "ess_bulk_min": min(r["ess_bulk_min"] for r in results),
               "draws": args.draws, "tune": args.tune, "chains": args.chains, "claims": args.claims}
    by_param: dict[str, list[int]] = {}
    for r in results:
        for name in ["alpha", "theta", "tau"] + [k for k in r["missed"] if k.startswith("beta")]:
            by_param.setdefault(name, [])
    summary["missed_count"] = {k: sum(k in r["missed"] for r in results) for k in sorted(by_param)}
    print(json.dumps(summary, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"summary": summary, "simulations": results}, fh, indent=1)
    return 0 if np.isfinite(share) else 1


if __name__ == "__main__":
    sys.exit(main())
