"""Benchmark: `forecast backtest --from 2000 --no-candidates` (26 origins, the model plus its three
single-lens variants: issue 12's workload) on a local Dask cluster of 2 workers, against the same
backtest with 1 worker, side by side in one run; optionally on fewer origins for a quicker look,
or with the other candidate outcome forms too (`--candidates`, the backtest's default since issue 10:
two more fits per origin).

    python benchmarks/bench_backtest.py [--from 2000] [--to 2025] [--repeats 1] [--skip-serial] [--candidates]

Each command runs in a fresh subprocess on a fresh copy of the shipped default, with the backtest's
default sampling settings. The compile cache (forecast/inference/compiled.py) is warmed first by
an untimed one-origin backtest, as a second backtest on a machine finds it. This machine is shared
and noisy: quote the medians (a full run takes minutes, so the default is one repeat).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from _common import FORECAST, timed  # benchmarks/ is on sys.path when a script here is run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="start", type=int, default=2000)
    ap.add_argument("--to", dest="end", type=int, default=2025)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--skip-serial", action="store_true", help="only the 2-worker run")
    ap.add_argument("--candidates", action="store_true", help="also fit the other candidate outcome forms")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        timed([*FORECAST, "init", str(ws)])
        timed([*FORECAST, "backtest", "-w", str(ws), "--from", str(args.end), "--to", str(args.end), "-q",
               "--jobs", "1"])  # warm-up, untimed
        base = [*FORECAST, "backtest", "-w", str(ws), "--from", str(args.start), "--to", str(args.end), "--json",
                *([] if args.candidates else ["--no-candidates"])]
        runs = {"2 workers (--jobs 2)": [*base, "--jobs", "2"]}
        if not args.skip_serial:
            runs["1 worker (--jobs 1)"] = [*base, "--jobs", "1"]
        times: dict[str, list[float]] = {k: [] for k in runs}
        for i in range(args.repeats):
            for name, cmd in runs.items():  # interleaved, so drift in machine load hits all alike
                dt, proc = timed(cmd)
                times[name].append(dt)
                r = json.loads(proc.stdout)
                origins = r["rows"]
                secs = [o["seconds"] for o in origins]
                fails = sum(1 for o in origins if not all(o["diagnostics_ok"].values()))
                print(f"run {i + 1}: {name:22} {dt:7.1f} s wall, {len(origins)} origins, per origin median "
                      f"{statistics.median(secs):.1f} s (max {max(secs):.1f}), origins with a failed diagnostic "
                      f"in any variant: {fails}", flush=True)
    n = args.end - args.start + 1
    what = "model, 2 other candidate forms" if args.candidates else "model"
    print(f"\n{n} origins ({args.start}-{args.end}), {what} + 3 single-lens variants; medians of {args.repeats}:")
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"  {k:22} {v:7.1f} s  ({v / 60:.1f} min)")
    if len(med) == 2:
        print(f"  speed-up of 2 workers: {med['1 worker (--jobs 1)'] / med['2 workers (--jobs 2)']:.2f}x")


if __name__ == "__main__":
    main()
