"""Benchmark: the first `forecast fit` on a fresh machine against a warm one, side by side in one run.

    python benchmarks/bench_cold.py [--repeats 3] [--venv PATH]

What "fresh" means here, done by this script (your own caches are never touched):
  * a new virtual environment with this repository installed into it (`pip install .`, as the
    README's Quick start does), created once per run unless --venv names an existing one;
  * per cold run, empty folders in place of every cache the fit writes:
      - PyTensor's compile directory, with its numba kernel cache (`PYTENSOR_FLAGS=base_compiledir=...`;
        normally ~/.pytensor),
      - numba's own cache of library functions (`NUMBA_CACHE_DIR=...`; normally __pycache__ folders
        inside site-packages),
      - matplotlib's font cache (`MPLCONFIGDIR=...`; normally ~/.config/matplotlib),
      - the XDG cache folder (`XDG_CACHE_HOME=...`; normally ~/.cache);
  * a fresh `forecast init` workspace.
Then `forecast fit` runs twice in those folders: the cold run, and a warm run right after it.
The phase lines on stderr give the breakdown (compile, sampling). Quote the medians: the machine
is shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PHASE = re.compile(r"^(Loaded data and priors|Built the model|Compiled the model|Sampled|"
                   r"Checked convergence and projected|Saved the fit) in ([0-9.]+) s")


def run(cmd, env=None, cwd=None) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}")
    return dt, proc


def phases(stderr: str) -> dict[str, float]:
    return {m.group(1): float(m.group(2)) for line in stderr.splitlines() if (m := PHASE.match(line))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="cold runs, each with freshly emptied caches")
    ap.add_argument("--venv", type=Path, help="reuse this virtual environment (it must have forecast installed)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="forecast-cold-") as tmp:
        tmp = Path(tmp)
        venv = args.venv or tmp / "venv"
        if args.venv is None:
            run([sys.executable, "-m", "venv", str(venv)])
            dt, _ = run([str(venv / "bin" / "pip"), "install", "-q", str(REPO)])
            print(f"new virtual environment {venv}: `pip install .` took {dt:.0f} s", flush=True)
        forecast = str(venv / "bin" / "forecast")
        cold, warm = [], []
        for r in range(args.repeats):
            caches = tmp / f"caches-{r}"
            env = dict(os.environ)
            env.update({
                "PYTENSOR_FLAGS": f"base_compiledir={caches / 'pytensor'}",
                "NUMBA_CACHE_DIR": str(caches / "numba"),
                "MPLCONFIGDIR": str(caches / "matplotlib"),
                "XDG_CACHE_HOME": str(caches / "xdg"),
            })
            for sub in ("pytensor", "numba", "matplotlib", "xdg"):
                (caches / sub).mkdir(parents=True)
            ws = tmp / f"ws-{r}"
            run([forecast, "init", str(ws)], env=env)
            for label, into in (("cold", cold), ("warm", warm)):
                dt, proc = run([forecast, "fit", "-w", str(ws), "--json"], env=env)
                into.append((dt, phases(proc.stderr)))
                p = into[-1][1]
                print(f"run {r + 1} {label}: {dt:6.1f} s  (compile {p.get('Compiled the model', float('nan')):.1f} s, "
                      f"sampling {p.get('Sampled', float('nan')):.1f} s)", flush=True)

    def med(runs, key=None):
        return statistics.median(dt if key is None else p.get(key, float("nan")) for dt, p in runs)

    print()
    print(f"emptied per cold run: PyTensor compile dir (with its numba kernel cache), NUMBA_CACHE_DIR, "
          f"MPLCONFIGDIR, XDG_CACHE_HOME; fresh venv and workspace")
    print(f"{'':12}{'median':>9}{'compile':>10}{'sampling':>10}   runs")
    for label, runs in (("cold fit", cold), ("warm fit", warm)):
        print(f"{label:12}{med(runs):8.1f}s{med(runs, 'Compiled the model'):9.1f}s{med(runs, 'Sampled'):9.1f}s   "
              + ", ".join(f"{dt:.1f}" for dt, _ in runs))
    print(f"ratio cold / warm: {med(cold) / med(warm):.2f}x")


if __name__ == "__main__":
    main()
