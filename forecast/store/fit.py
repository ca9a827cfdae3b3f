"""Fit a workspace and store the result: its data and priors plus the ledger's events in force,
fitted by ``inference.fitting.fit_dataset``, written with its ``FitRecord`` to ``state/``."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from forecast.defaults import CHAINS, DRAWS, HORIZONS, PRESET, SAMPLER, SEED, TARGET_ACCEPT, TUNE
from typing import Callable

from forecast.inference.fitting import PARAMETERISATION, FitResult, fit_dataset
from forecast.inference.progress import OnPhase, phase
from forecast.inference.retry import RetryNote, with_retry
from forecast.model.fitspec import FitSpec
from forecast.store import ledger as L
from forecast.store.posterior import library_versions, save_fit
from forecast.store.record import FitRecord
from forecast.workspace import Workspace, content_hash


def fit(ws: Workspace, preset: str = PRESET, as_of: int | None = None, draws: int = DRAWS, tune: int = TUNE,
        chains: int = CHAINS, seed: int = SEED, progress: bool = True, horizons=HORIZONS, sampler: str = SAMPLER,
        save: bool = True, events=None, ledger_head: str | None = None, out=None,
        target_accept: float = TARGET_ACCEPT, on_phase: OnPhase | None = None, verbose: bool = False) -> FitResult:
    """Fit on the workspace's data plus ``events`` (default: the ledger's events in force, and its
    head). Saved to ``out`` (default ``state/posterior.nc``, under the workspace lock) unless not ``save``.
    ``on_phase`` hears each phase start and end (``inference.progress``); ``verbose`` shows the
    third-party warnings otherwise silenced (``inference.library_warnings``)."""
    from forecast.data.loaders import load_dataset
    from forecast.model.builder import NOISE_FLOOR
    from forecast.model.priors import load_preset

    t_start = time.perf_counter()
    with phase(on_phase, "load"):
        ds = load_dataset(ws.data_dir)
        priors = load_preset(ws.priors_dir, preset)
        if events is None:
            records, ledger_head = L.read(ws)
            events = L.active_events(records)
        chash = content_hash(ws)
    result = fit_dataset(ds, priors, as_of, events, draws=draws, tune=tune, chains=chains, seed=seed,
                         progress=progress, horizons=horizons, sampler=sampler, target_accept=target_accept,
                         on_phase=on_phase, verbose=verbose)
    result.timings["total_s"] = time.perf_counter() - t_start
    if not save:
        return result
    spec = result.spec
    out_path = Path(out) if out else ws.posterior_path
    record = FitRecord(
        content_hash=chash, seed=seed, preset=preset, as_of=spec.as_of, forecast_year=spec.as_of + 1,
        horizons=tuple(horizons), draws=draws, tune=tune, chains=chains, sampler=result.sampler,
        parameterisation=PARAMETERISATION, target_accept=target_accept,
        created_utc=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        libraries=library_versions(), diagnostics=result.diagnostics,
        indicators_used=tuple(spec.indicators), indicators_skipped=tuple(spec.skipped),
        barrier_last=float(spec.barrier[-1]), timings={k: round(v, 2) for k, v in result.timings.items()},
        spec=FitSpec.of(spec), noise_floor=NOISE_FLOOR, ledger_head=ledger_head or L.EMPTY_HEAD,
        ledger_in_fit=tuple(e.id for e in result.in_fit), pareto_k=result.pareto_k, is_ess=result.is_ess,
        update_path="fit", dyad=ds.config, fit_file=str(out_path.relative_to(ws.state_dir)),
        events_in_force=tuple(e.id for e in events),  # those dated in the forecast year too (not in ledger_in_fit)
        settlement_evidence=FitRecord.evidence_of(priors))
    with phase(on_phase, "save"):
        if out is None:  # a user's fit: serialise with updates (a refit already holds the lock)
            from forecast.store.lock import write_lock

            with write_lock(ws):
                save_fit(ws, result.idata, result.forecast, record, out_path)
        else:
            save_fit(ws, result.idata, result.forecast, record, out_path)
    return result


def fit_with_retry(ws, target_accept: float | None = None, retry: bool = True,
                   on_retry: Callable[[RetryNote], None] | None = None, **kwargs) -> FitResult:
    """``fit`` under the retry policy. The kept result's ``retry`` holds the note, and its
    ``timings['total_s']`` includes the discarded first run."""
    result, note = with_retry(lambda ta: fit(ws, target_accept=ta, **kwargs),
                              lambda r: r.diagnostics.divergences, target_accept, retry, on_retry)
    if note is not None:
        first = note.first_seconds
        result.timings["total_s"] += first
        result.retry = note
    return result
