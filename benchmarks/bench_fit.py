"""Benchmark: the warm `forecast fit` of the shipped default (nutpie, 4 chains x 2000 draws after
1000 tuning) against PyMC's default NUTS sampler on the same model and settings, side by side in
one run, with each fit's phases (compile, sampling, ...), plus the latency of `forecast show` and
`forecast --help`. Prints medians and the ratio.

    python benchmarks/bench_fit.py [--repeats 3] [--skip-pymc] [--pymc-draws 2000]

"Warm": the model was compiled before on this machine, so its native code is in the compile cache
(forecast/inference/compiled.py); an untimed fit first makes sure of it. Each timed fit runs in a
fresh subprocess (`forecast fit`), imports and compile included, as a user pays them. The machine
is shared and noisy: quote the medians.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import tempfile
from pathlib import Path

from _common import FORECAST, timed  # benchmarks/ is on sys.path when a script here is run

PHASE = re.compile(r"^(Loaded data and priors|Built the model|Compiled the model|Sampled|"
                   r"Checked convergence and projected|Saved the fit) in ([0-9.]+) s")
SHORT = {"Loaded data and priors": "load", "Built the model": "build", "Compiled the model": "compile",
         "Sampled": "sample", "Checked convergence and projected": "project", "Saved the fit": "save"}


def phases(stderr: str) -> dict[str, float]:
    return {SHORT[m.group(1)]: float(m.group(2)) for line in stderr.splitlines() if (m := PHASE.match(line))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-pymc", action="store_true", help="only time nutpie")
    ap.add_argument("--pymc-draws", type=int, default=2000, help="PyMC's draws per chain (default: as nutpie's)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="forecast-bench-"))
    try:
        ws = tmp / "ws"
        timed(FORECAST + ["init", str(ws)])
        timed(FORECAST + ["fit", "-w", str(ws), "--json"])  # warm-up, untimed: fills the compile cache
        configs = {"nutpie": ["--sampler", "nutpie"]}
        if not args.skip_pymc:
            configs["pymc"] = ["--sampler", "pymc", "--draws", str(args.pymc_draws)]
        fits: dict[str, list[float]] = {s: [] for s in configs}
        parts: dict[str, list[dict]] = {s: [] for s in configs}
        diag: dict[str, list[dict]] = {s: [] for s in configs}
        for r in range(args.repeats):
            for s, extra in configs.items():  # interleaved, so all see the same machine load
                dt, proc = timed(FORECAST + ["fit", "-w", str(ws), "--json", "--seed", str(100 + r), *extra])
                fits[s].append(dt)
                parts[s].append(phases(proc.stderr))
                d = json.loads(proc.stdout)["diagnostics"]
                diag[s].append({k: d[k] for k in ("rhat_max", "ess_bulk_min", "ess_tail_min", "divergences",
                                                  "bfmi_min")})
                print(f"run {r + 1}: {s:6} {dt:6.1f} s  {parts[s][-1]}  {diag[s][-1]}", flush=True)
        shows = [timed(FORECAST + ["show", "-w", str(ws)])[0] for _ in range(7)]
        helps = [timed(["forecast", "--help"])[0] if shutil.which("forecast") else
                 timed(FORECAST + ["--help"])[0] for _ in range(7)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = {s: statistics.median(v) for s, v in fits.items()}
    print()
    print(f"median of {args.repeats} warm fits of the default workspace, 4 chains, 1000 tuning, imports and "
          f"compile included:")
    for s in configs:
        ph = {k: statistics.median(p.get(k, float("nan")) for p in parts[s]) for k in SHORT.values()}
        worst = {k: (max if k == "rhat_max" else min)(d[k] for d in diag[s]) for k in ("rhat_max", "ess_bulk_min")}
        print(f"  {s:7} {med[s]:6.1f} s   (runs: {', '.join(f'{x:.1f}' for x in fits[s])})")
        print(f"          phases (median s): " + ", ".join(f"{k} {v:.1f}" for k, v in ph.items()))
        print(f"          worst R-hat {worst['rhat_max']:.4f}, min bulk ESS {worst['ess_bulk_min']:.0f}, "
              f"divergences {sum(d['divergences'] for d in diag[s])}")
    if "pymc" in med:
        print(f"  ratio pymc / nutpie: {med['pymc'] / med['nutpie']:.2f}x")
    print(f"forecast show   median of 7: {statistics.median(shows):.2f} s")
    print(f"forecast --help median of 7: {statistics.median(helps):.2f} s")


if __name__ == "__main__":
    main()
