"""``forecast check --refit``: each preset whose reweighting is unreliable gets a real fit of its own,
run as an independent task (``validate.cluster``): in this process, on local worker processes, or
on an existing Dask cluster."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class Refit:
    """One preset's refit with the stored fit's settings (everything the task needs, seed included)."""

    root: str                 # the workspace folder (as the worker sees it)
    preset: str
    as_of: int
    draws: int
    tune: int
    chains: int
    seed: int
    target_accept: float
    horizons: tuple[int, ...]
    keys: tuple[str, ...]     # the headline probabilities to report


@dataclass(frozen=True)
class Dispatch:
    """Where the refits run (``cluster.run_tasks``: ``jobs`` local workers, or the cluster at
    ``scheduler``) and who hears of them: ``on_start(n_refits)`` once, ``on_done(result)`` per
    finished refit (a dict with ``preset``, ``probabilities``, ``diagnostics_ok``, ``seconds``)."""

    jobs: int | None = None
    scheduler: str | None = None
    on_start: Callable[[int], None] | None = None
    on_done: Callable[[dict], None] | None = None


def refit_preset(job: Refit) -> dict:
    """The preset's headline probabilities from a real fit (not saved), under the retry policy."""
    import time

    from forecast.model.projection import summarise
    from forecast.store.fit import fit_with_retry
    from forecast.workspace import Workspace

    t0 = time.perf_counter()
    res = fit_with_retry(Workspace(Path(job.root)), target_accept=job.target_accept, preset=job.preset,
                         as_of=job.as_of, draws=job.draws, tune=job.tune, chains=job.chains, seed=job.seed,
                         progress=False, save=False, horizons=job.horizons)
    probs = {k: summarise(res.forecast[k], res.forecast["weight"]).to_dict() for k in job.keys}
    return {"preset": job.preset, "probabilities": probs, "diagnostics_ok": res.diagnostics.ok,
            "seconds": round(time.perf_counter() - t0, 1)}


def run_refits(jobs: list[Refit], dispatch: Dispatch = Dispatch()) -> list[dict]:
    """``refit_preset`` of each job, in the order given."""
    from forecast.validate.cluster import Task, run_tasks

    if jobs and dispatch.on_start is not None:
        dispatch.on_start(len(jobs))
    return run_tasks([Task(refit_preset, (j,)) for j in jobs], dispatch.jobs, dispatch.scheduler, dispatch.on_done)
