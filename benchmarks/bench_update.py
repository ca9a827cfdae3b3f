"""Benchmark: `forecast update` (one indicator reading, end to end through the CLI)
against `forecast fit` on the shipped default, side by side in one run. Prints medians
and the ratio, plus the refit path (a reading that forces it) for reference.

    python benchmarks/bench_update.py [--repeats 5] [--fit-repeats 3]

Each command runs in a fresh subprocess, as a forecaster would run it. Every timed
update is followed by an untimed `forecast undo`, so each run applies the same change
to the same state. This machine is shared and noisy: quote the medians.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
from pathlib import Path

from _common import FORECAST, timed  # benchmarks/ is on sys.path when a script here is run

READING = ["--indicator", "japan_cabinet_approval", "--value", "25", "--date", "2026-10", "--source", "bench"]
# A past-year reading far from the fitted state: expected to exceed the Pareto k threshold and refit.
SHOCK = ["--indicator", "icews_coop_share_jpn_rus", "--value", "0.2", "--date", "2013", "--source", "bench"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5, help="timed fast-path updates")
    ap.add_argument("--fit-repeats", type=int, default=3, help="timed full fits")
    ap.add_argument("--skip-refit", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="forecast-bench-"))
    try:
        ws = str(tmp / "ws")
        timed(FORECAST + ["init", ws])
        fits, updates, paths = [], [], []
        for r in range(max(args.fit_repeats, args.repeats)):
            if r < args.fit_repeats:
                dt, _ = timed(FORECAST + ["fit", "-w", ws, "--json"])
                fits.append(dt)
                print(f"fit     {dt:6.2f} s", flush=True)
            if r < args.repeats:
                dt, proc = timed(FORECAST + ["update", "-w", ws, *READING, "--json"])
                updates.append(dt)
                paths.append(json.loads(proc.stdout)["path"])
                print(f"update  {dt:6.2f} s  path={paths[-1]}", flush=True)
                timed(FORECAST + ["undo", "-w", ws])
        refit = None
        if not args.skip_refit:
            refit, proc = timed(FORECAST + ["update", "-w", ws, *SHOCK, "--json"])
            refit_path = json.loads(proc.stdout)["path"]
            print(f"update (shock) {refit:6.2f} s  path={refit_path}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mf, mu = statistics.median(fits), statistics.median(updates)
    print()
    print(f"forecast fit    (shipped default) median of {len(fits)}: {mf:6.2f} s")
    print(f"forecast update (one reading)     median of {len(updates)}: {mu:6.2f} s  paths: {sorted(set(paths))}")
    print(f"update / fit: {mu / mf:.3f}  ({100 * mu / mf:.1f}% of a full fit)")
    if refit is not None:
        print(f"update forcing the refit path: {refit:6.2f} s (path: {refit_path})")


if __name__ == "__main__":
    main()
