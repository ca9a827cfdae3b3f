"""Benchmark: what one evaluation of the default model's log-density and gradient costs, for this checkout
and another git revision, side by side in one run.

    python benchmarks/bench_gradient.py --against REV [--rounds 8] [--draws 1000]

Sampling time is the cost of one evaluation times the number of evaluations, and the number depends on the
draws, so two graphs are compared per evaluation: each round runs one nutpie chain (cores=1, `--draws` after
as many tuning steps, the same seed for both arms) of the shipped default model for this checkout, then for
REV (`git archive` into a temporary folder), each in a fresh subprocess with the compiled model loaded from
the compile cache (an untimed first run per arm fills it), and divides the sampling time by the leapfrog
steps taken. The arms alternate, so the machine's drift reaches both. Prints the medians and their ratio.
The machine is shared and noisy: quote the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import REPO, extract_revision  # benchmarks/ is on sys.path when a script here is run

CHILD = """
import json, sys, time
from pathlib import Path
root = Path(sys.argv[1])
from forecast.data.loaders import load_dataset
from forecast.inference.fitting import PARAMETERISATION, compile_model
from forecast.model.priors import load_preset
from forecast.model.spec import build_spec
import nutpie
spec = build_spec(load_dataset(root / "data"), load_preset(root / "priors"))
compiled, _, _ = compile_model(spec)
model = getattr(compiled, "sampler_model", compiled)
t0 = time.perf_counter()
idata = nutpie.sample(model, draws=int(sys.argv[2]), tune=int(sys.argv[2]), chains=1, seed=int(sys.argv[3]),
                      progress_bar=False, cores=1)
dt = time.perf_counter() - t0
steps = int(idata.warmup_sample_stats["n_steps"].sum() + idata.sample_stats["n_steps"].sum())
print(json.dumps({"seconds": dt, "steps": steps}))
"""


def evaluate(src: Path, draws: int, seed: int) -> dict:
    """One chain of the default model of the tree ``src`` (its package, data and priors) in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(src))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(src), str(draws), str(seed)], env=env,
                          capture_output=True, text=True, cwd=src)
    if proc.returncode != 0:
        sys.exit(f"the chain for {src} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["us"] = out["seconds"] / out["steps"] * 1e6
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", metavar="REV", required=True, help="the git revision to compare with")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--draws", type=int, default=1000, help="draws after as many tuning steps, one chain")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="forecast-gradient-") as tmp:
        other = extract_revision(args.against, Path(tmp) / "against")
        arms = {"this checkout": REPO, args.against: other}
        for src in arms.values():  # fill the compile cache, untimed
            evaluate(src, 50, 1)
        us = {label: [] for label in arms}
        for r in range(args.rounds):
            for label, src in arms.items():
                out = evaluate(src, args.draws, 100 + r)
                us[label].append(out["us"])
                print(f"round {r + 1} {label}: {out['seconds']:.2f} s, {out['steps']} leapfrog steps, "
                      f"{out['us']:.1f} us per evaluation", flush=True)
    print()
    med = {label: statistics.median(v) for label, v in us.items()}
    for label, m in med.items():
        print(f"{label:24} median {m:6.1f} us per evaluation  ({', '.join(f'{x:.1f}' for x in us[label])})")
    this, other_label = list(med)
    wins = sum(a < b for a, b in zip(us[this], us[other_label]))
    print(f"this checkout / {other_label}: {med[this] / med[other_label]:.2f}x; cheaper in {wins} of {args.rounds} rounds")


if __name__ == "__main__":
    main()
