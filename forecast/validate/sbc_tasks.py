"""The SBC runner's unit of work (``benchmarks/sbc.py``): one simulation is a pure function of the
spec, the resolved priors, the settings and its index (its seed comes from ``(seed, index)``), so
it gives the same record in whichever process, chunk or order it runs.

``fit_chunk`` runs a chunk of simulations as one task (``validate.cluster``): the worker compiles
the model once per chunk and swaps each simulation's data into it (``sbc.SBCFitter``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from forecast.validate import sbc


@dataclass(frozen=True)
class SBCSettings:
    draws: int
    tune: int
    chains: int
    seed: int
    rank_draws: int
    target_accept: float


def sim_seed(seed: int, i: int) -> int:
    """The seed of simulation ``i`` of a run seeded ``seed``."""
    return int(np.random.SeedSequence([seed, i]).generate_state(1)[0])


def simulate_and_fit(spec, priors: dict, fitter: "sbc.SBCFitter", i: int, settings: SBCSettings) -> dict:
    """Simulation ``i``: a prior draw, data simulated from it, a fit, and the ranks of the truth."""
    s = sim_seed(settings.seed, i)
    rng = np.random.default_rng(s)
    truth, data = sbc.simulate_prior(spec, rng, priors)
    t0 = time.perf_counter()
    idata = fitter.fit(data, settings.draws, settings.tune, settings.chains, seed=s % (2**31),
                       target_accept=settings.target_accept)
    fit_s = time.perf_counter() - t0
    rec = sbc.evaluate(spec, idata, truth, data, settings.rank_draws, rng)
    rec.update({"sim": i, "seed": s, "sample_s": round(fit_s, 2),
                "data_summary": {"change_counts": np.bincount(data["change"], minlength=5).tolist(),
                                 "settlements": int(data["settlement"].sum())}})
    return rec


def fit_chunk(spec, priors: dict, sims: tuple[int, ...], settings: SBCSettings) -> list[dict]:
    """The records of simulations ``sims``, with one compile of the model (a task on a worker)."""
    fitter = sbc.SBCFitter(spec)
    return [simulate_and_fit(spec, priors, fitter, i, settings) for i in sims]
