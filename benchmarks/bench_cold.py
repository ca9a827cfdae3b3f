"""Benchmark: the first `forecast fit` on a fresh machine against a warm one, side by side in one run.

    python benchmarks/bench_cold.py [--repeats 3] [--venv PATH] [--against REV]

--against REV installs that git revision of this repository (`git archive`) into a second new virtual
environment and times its cold and warm fits too, interleaved with this checkout's (this, REV, this,
REV, ...), so the two are compared on the same machine in one run and the script prints their ratio.

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

from _common import REPO, extract_revision  # benchmarks/ is on sys.path when a script here is run
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


def install(tmp: Path, name: str, rev: str | None) -> Path:
    """A new virtual environment under ``tmp`` with this repository (``rev`` None: the working tree as it
    is, else that git revision) installed by `pip install .`. Returns the environment's `forecast`."""
    venv = tmp / f"venv-{name}"
    src = REPO
    if rev is not None:
        src = extract_revision(rev, tmp / f"src-{name}")
    run([sys.executable, "-m", "venv", str(venv)])
    dt, _ = run([str(venv / "bin" / "pip"), "install", "-q", str(src)])
    print(f"new virtual environment {venv} ({rev or 'this checkout'}): `pip install .` took {dt:.0f} s", flush=True)
    return venv / "bin" / "forecast"


def cold_then_warm(forecast: str, caches: Path, ws: Path) -> list[tuple[float, dict]]:
    """A cold `forecast fit` (every cache folder new and empty) and a warm one right after it."""
    env = dict(os.environ)
    env.update({
        "PYTENSOR_FLAGS": f"base_compiledir={caches / 'pytensor'}",
        "NUMBA_CACHE_DIR": str(caches / "numba"),
        "MPLCONFIGDIR": str(caches / "matplotlib"),
        "XDG_CACHE_HOME": str(caches / "xdg"),
    })
    for sub in ("pytensor", "numba", "matplotlib", "xdg"):
        (caches / sub).mkdir(parents=True)
    run([forecast, "init", str(ws)], env=env)
    out = []
    for _ in ("cold", "warm"):
        dt, proc = run([forecast, "fit", "-w", str(ws), "--json"], env=env)
        out.append((dt, phases(proc.stderr)))
    return out


def med(runs, key=None):
    return statistics.median(dt if key is None else p.get(key, float("nan")) for dt, p in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="cold runs, each with freshly emptied caches")
    ap.add_argument("--venv", type=Path, help="reuse this virtual environment (it must have forecast installed)")
    ap.add_argument("--against", metavar="REV", help="also time this git revision, interleaved, and print the ratio")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="forecast-cold-") as tmp:
        tmp = Path(tmp)
        arms = {"this checkout": str(args.venv / "bin" / "forecast") if args.venv else str(install(tmp, "this", None))}
        if args.against:
            arms[args.against] = str(install(tmp, "against", args.against))
        results = {label: {"cold": [], "warm": []} for label in arms}
        for r in range(args.repeats):
            for a, (label, forecast) in enumerate(arms.items()):
                cold, warm = cold_then_warm(forecast, tmp / f"caches-{r}-{a}", tmp / f"ws-{r}-{a}")
                results[label]["cold"].append(cold)
                results[label]["warm"].append(warm)
                for kind, (dt, p) in (("cold", cold), ("warm", warm)):
                    print(f"run {r + 1} {label} {kind}: {dt:6.1f} s  (compile "
                          f"{p.get('Compiled the model', float('nan')):.1f} s, sampling "
                          f"{p.get('Sampled', float('nan')):.1f} s)", flush=True)

    print()
    print("emptied per cold run: PyTensor compile dir (with its numba kernel cache), NUMBA_CACHE_DIR, "
          "MPLCONFIGDIR, XDG_CACHE_HOME; fresh venv and workspace")
    print(f"{'':28}{'median':>9}{'compile':>10}{'sampling':>10}   runs")
    for label, res in results.items():
        for kind in ("cold", "warm"):
            runs = res[kind]
            print(f"{label[:20] + ' ' + kind:28}{med(runs):8.1f}s{med(runs, 'Compiled the model'):9.1f}s"
                  f"{med(runs, 'Sampled'):9.1f}s   " + ", ".join(f"{dt:.1f}" for dt, _ in runs))
        print(f"{label}: cold / warm {med(res['cold']) / med(res['warm']):.2f}x")
    if args.against:
        this, other = results["this checkout"], results[args.against]
        print(f"cold fit, this checkout / {args.against}: {med(this['cold']) / med(other['cold']):.2f}x; "
              f"compile {med(this['cold'], 'Compiled the model') / med(other['cold'], 'Compiled the model'):.2f}x")


if __name__ == "__main__":
    main()
