"""Benchmark: the default fit (4 chains x 1000 draws after 1000 tuning) with nutpie
against PyMC's default NUTS sampler, side by side in one run, plus the latency of
`forecast show` and `forecast --help`. Prints medians and ratios.

    python benchmarks/bench_fit.py [--repeats 3] [--skip-pymc]

Each fit runs in a fresh subprocess (`forecast fit`), so compile time is included,
as a user would pay it. This machine is shared and noisy: quote the medians.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
from pathlib import Path

from _common import FORECAST, timed  # benchmarks/ is on sys.path when a script here is run



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-pymc", action="store_true", help="only time nutpie")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="forecast-bench-"))
    try:
        ws = tmp / "ws"
        timed(FORECAST + ["init", str(ws)])
        # label -> (sampler, draws): the comparison (4 x 1000 after 1000 tuning) for both
        # samplers, plus the shipped default (2000 draws) that the README quotes
        configs = {"nutpie": ("nutpie", 1000), "default": ("nutpie", 2000)}
        if not args.skip_pymc:
            configs["pymc"] = ("pymc", 1000)
        samplers = list(configs)
        fits: dict[str, list[float]] = {s: [] for s in samplers}
        diag: dict[str, list[dict]] = {s: [] for s in samplers}
        for r in range(args.repeats):
            for s in samplers:  # interleaved, so all see the same machine load
                sampler, draws = configs[s]
                dt, proc = timed(FORECAST + ["fit", "-w", str(ws), "--sampler", sampler, "--json", "--seed",
                                             str(100 + r), "--draws", str(draws), "--tune", "1000"])
                fits[s].append(dt)
                d = json.loads(proc.stdout)["diagnostics"]
                diag[s].append({k: d[k] for k in ("rhat_max", "ess_bulk_min", "ess_tail_min", "divergences")})
                print(f"run {r + 1}: {s:6} {dt:6.1f} s  {diag[s][-1]}", flush=True)
        shows = [timed(FORECAST + ["show", "-w", str(ws)])[0] for _ in range(7)]
        helps = [timed(["forecast", "--help"])[0] if shutil.which("forecast") else
                 timed(FORECAST + ["--help"])[0] for _ in range(7)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = {s: statistics.median(v) for s, v in fits.items()}
    print()
    print(f"median of {args.repeats} full fits, 4 chains, 1000 tuning, compile included "
          f"(the first nutpie run of a fresh machine pays the cold numba compile):")
    for s in samplers:
        sampler, draws = configs[s]
        print(f"  {s:8} {sampler:6} {draws} draws  {med[s]:6.1f} s   (runs: {', '.join(f'{x:.1f}' for x in fits[s])})")
    if "pymc" in med:
        print(f"  ratio pymc / nutpie: {med['pymc'] / med['nutpie']:.2f}x")
    print(f"forecast show   median of 7: {statistics.median(shows):.2f} s")
    print(f"forecast --help median of 7: {statistics.median(helps):.2f} s")


if __name__ == "__main__":
    main()
