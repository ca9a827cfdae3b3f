"""Benchmark: `forecast backtest` with origins in parallel (--jobs N, default: the cores) against
one origin at a time (--jobs 1), side by side in one run, on the same forecast years.
Also: the cost of the three single-lens baselines, which reuse each origin's compiled
model (`lens_mask` data, no recompile), against the model alone (--no-single-lens).

    python benchmarks/bench_backtest.py [--years 2] [--repeats 3] [--draws 1000]

Each command runs in a fresh subprocess on a fresh copy of the shipped default. This
machine is shared and noisy: quote the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from _common import FORECAST, timed  # benchmarks/ is on sys.path when a script here is run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=int, default=2, help="forecast years (origins), ending at the last coded year")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--draws", type=int, default=1000)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        timed([*FORECAST, "init", str(ws)])
        base = [*FORECAST, "backtest", "-w", str(ws), "--from", str(2026 - args.years), "--to", "2025",
                "--draws", str(args.draws), "--tune", str(args.draws), "-q"]
        runs = {"parallel (--jobs %d)" % cores: [*base, "--jobs", str(cores)],
                "serial (--jobs 1)": [*base, "--jobs", "1"],
                "parallel, model only (--no-single-lens)": [*base, "--jobs", str(cores), "--no-single-lens"]}
        times: dict[str, list[float]] = {k: [] for k in runs}
        for i in range(args.repeats):
            for name, cmd in runs.items():  # interleaved, so drift in machine load hits all alike
                dt, _ = timed(cmd)
                times[name].append(dt)
                print(f"run {i + 1}: {name:42} {dt:6.1f} s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{args.years} origins x {args.draws} draws, {cores} cores; medians of {args.repeats}:")
    for k, v in med.items():
        print(f"  {k:42} {v:6.1f} s")
    par, ser, solo = med[f"parallel (--jobs {cores})"], med["serial (--jobs 1)"], \
        med["parallel, model only (--no-single-lens)"]
    print(f"  speed-up of parallel origins: {ser / par:.2f}x")
    print(f"  three single-lens baselines add {100 * (par / solo - 1):.0f}% to the model-only time")


if __name__ == "__main__":
    main()
