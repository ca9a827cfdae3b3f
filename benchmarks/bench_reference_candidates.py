"""Every candidate of the reference-class settlement model in one rolling-origin run (issue 11).

The pooled model is fitted once per origin (the same seed and draws as `forecast reference backtest`)
and each candidate predicts the same test claim-years from that fit, so the candidates differ only in
how they carry a claim's last known state past the origin:

* ``frozen``: covariates frozen at the claim's last history row (duration advancing);
* ``projected`` (the shipped default): every covariate but duration projected towards its training mean
  as an AR(1) with its within-claim persistence estimated on the training rows (`forecast/reference/horizon.py`).

    python benchmarks/bench_reference_candidates.py --out benchmarks/results/reference

writes one `forecast reference backtest --json`-style file per candidate and prints their tables
(benchmarks/reference_table.py). Progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_table import tables  # noqa: E402

from forecast import defaults as D  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--draws", type=int, default=D.REF_BACKTEST_DRAWS)
    ap.add_argument("--tune", type=int, default=D.REF_BACKTEST_TUNE)
    ap.add_argument("--chains", type=int, default=D.REFERENCE_CHAINS)
    ap.add_argument("--seed", type=int, default=D.SEED)
    a = ap.parse_args()

    from forecast.data.claims import load_claim_years
    from forecast.reference import fit_reference, predict_settlement
    from forecast.reference.backtest import reference_backtest, to_json

    fits = {}

    def fit_once(claims, origin, **kw):
        if origin not in fits:
            fits[origin] = fit_reference(claims, origin, **kw)
        return fits[origin]

    def frozen(fit, history, targets, seed):
        return predict_settlement(replace(fit, persistence=np.ones_like(fit.persistence)), history, targets, seed)

    claims = load_claim_years()
    a.out.mkdir(parents=True, exist_ok=True)
    for name, predict in (("projected", predict_settlement), ("frozen", frozen)):
        t0 = time.perf_counter()
        bt = reference_backtest(claims, fit_fn=fit_once, predict_fn=predict, draws=a.draws, tune=a.tune,
                                chains=a.chains, seed=a.seed, jobs=1,
                                progress=lambda line, n=name: print(f"[{n}] {line}", file=sys.stderr, flush=True))
        result = to_json(bt)
        result["candidate"] = name
        (a.out / f"reference_backtest_{name}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        print(f"\n## candidate: {name} ({time.perf_counter() - t0:.0f} s)\n\n{tables(result)}", flush=True)


if __name__ == "__main__":
    main()
