"""Fitting: build the spec and model, sample with nutpie (PyMC NUTS as fallback),
diagnose, project and store. The CLI's ``fit`` command is a thin wrapper over ``fit``."""

from __future__ import annotations

import datetime as _dt
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from forecast import defaults as D

from forecast.data.loaders import load_dataset
from forecast.inference.diagnostics import compute_diagnostics
from forecast.model.priors import load_preset
from forecast.model.projection import Draws, project
from forecast.model.spec import ModelSpec, build_spec
from forecast.store.posterior import NOISE_FLOOR_ATTR, library_versions, save_fit
from forecast.workspace import Workspace, content_hash

if TYPE_CHECKING:
    from forecast.inference.retry import RetryNote

DEFAULT_HORIZONS = D.HORIZONS
PARAMETERISATION = "centred"
TARGET_ACCEPT = D.TARGET_ACCEPT
RETRY_TARGET_ACCEPT = D.RETRY_TARGET_ACCEPT  # the retry policy: inference/retry.py


@dataclass
class FitResult:
    spec: ModelSpec
    idata: object
    forecast: dict
    diagnostics: dict
    identity: dict
    timings: dict
    retry: "RetryNote | None" = None  # set when the kept run is the retry's (inference/retry.py)


def _import_pymc():
    from forecast.model import pytensor_env as _pytensor_env

    _pytensor_env.configure()
    import pymc as pm

    return pm


def compile_model(spec: ModelSpec, sampler: str = "nutpie"):
    """Build the PyMC model and compile it for ``sampler``. Returns (compiled, sampler_used, seconds).
    With nutpie the compiled model is reusable with new ``pm.Data`` values (``draw(..., data=...)``)."""
    _import_pymc()
    from forecast.model.builder import build_model

    t0 = time.perf_counter()
    model = build_model(spec, PARAMETERISATION)
    if sampler == "nutpie":
        try:
            import nutpie
        except ImportError:
            sampler = "pymc"
    if sampler == "nutpie":
        return nutpie.compile_pymc_model(model), sampler, time.perf_counter() - t0
    return model, sampler, float("nan")  # PyMC compiles inside pm.sample


def draw(compiled, sampler: str, draws: int, tune: int, chains: int, seed: int, progress: bool,
         target_accept: float = TARGET_ACCEPT, data: dict | None = None):
    """Sample a compiled model, optionally with new values of its ``pm.Data`` containers."""
    cores = min(chains, os.cpu_count() or 1)
    if sampler == "nutpie":
        import nutpie

        if data:
            compiled = compiled.with_data(**data)
        return nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, seed=seed,
                             progress_bar=progress, target_accept=target_accept, cores=cores)
    pm = _import_pymc()
    with compiled:
        if data:
            pm.set_data(data)
        return pm.sample(draws=draws, tune=tune, chains=chains, random_seed=seed, progressbar=progress,
                         target_accept=target_accept, cores=cores, compute_convergence_checks=False)


def sample(spec: ModelSpec, draws: int, tune: int, chains: int, seed: int, progress: bool,
           sampler: str = "nutpie", target_accept: float = TARGET_ACCEPT):
    """Compile and sample. Returns (idata, sampler_used, timings)."""
    compiled, used, compile_s = compile_model(spec, sampler)
    t1 = time.perf_counter()
    idata = draw(compiled, used, draws, tune, chains, seed, progress, target_accept)
    return idata, used, {"compile_s": compile_s, "sample_s": time.perf_counter() - t1}


def spec_meta(spec: ModelSpec) -> dict:
    """What the update fast path needs to know about the fitted spec (stored in the file)."""
    return {
        "first_year": int(spec.years[0]), "as_of": int(spec.as_of), "indicators": spec.indicators,
        "indicator_factor": spec.indicator_factor.tolist(), "center": spec.center.tolist(),
        "scale": spec.scale.tolist(), "direction": spec.direction.tolist(),
        "transform": spec.transforms, "change": (spec.change - 2).tolist(),
        "event_kinds": spec.event_kinds, "event_lens": spec.event_lens.tolist(),
        "barrier_last": float(spec.barrier[-1]),
    }


def fit(ws: Workspace, preset: str = D.PRESET, as_of: int | None = None, draws: int = D.DRAWS,
        tune: int = D.TUNE, chains: int = D.CHAINS, seed: int = D.SEED, progress: bool = True,
        horizons=DEFAULT_HORIZONS, sampler: str = D.SAMPLER, save: bool = True,
        events=None, ledger_head: str | None = None, out=None,
        target_accept: float = TARGET_ACCEPT) -> FitResult:
    """Fit on the workspace's data plus the ledger's events in force (up to the as-of year);
    events dated in the forecast year condition the projection. One sampling run at
    ``target_accept``: callers go through ``retry.fit_with_retry`` for the divergence policy."""
    from forecast.store import ledger as L
    from forecast.update.evidence import forecast_year_evidence, merge_events
    from forecast.model.builder import NOISE_FLOOR
    from forecast.inference.psis import psis

    t_start = time.perf_counter()
    ds = load_dataset(ws.data_dir)
    priors = load_preset(ws.priors_dir, preset)
    if events is None:
        records, ledger_head = L.read(ws)
        events = L.active_events(records)
    base_spec = build_spec(ds, priors, as_of)
    in_fit = [e for e in events if e.year <= base_spec.as_of]
    spec = build_spec(merge_events(ds, in_fit, base_spec.as_of), priors, as_of)
    chash = content_hash(ws)
    idata, used, timings = sample(spec, draws, tune, chains, seed, progress, sampler, target_accept)
    diag = compute_diagnostics(idata)
    meta = spec_meta(spec)
    post = {v: idata.posterior[v].values for v in idata.posterior.data_vars}
    attrs_for_evidence = {NOISE_FLOOR_ATTR: NOISE_FLOOR}
    d = Draws.from_posterior(post)
    evidence = forecast_year_evidence(meta, post, attrs_for_evidence, events, d)
    forecast = project(d, float(spec.barrier[-1]), horizons=tuple(horizons), seed=seed, evidence=evidence)
    weights, k, ess = psis(forecast.pop("draw_logweight"))
    forecast["weight"] = weights
    timings["total_s"] = time.perf_counter() - t_start
    identity = {
        "content_hash": chash, "seed": seed, "preset": preset, "as_of": spec.as_of,
        "forecast_year": spec.as_of + 1, "horizons": list(horizons), "draws": draws, "tune": tune,
        "chains": chains, "sampler": used, "parameterisation": PARAMETERISATION,
        "target_accept": target_accept,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "libraries": library_versions(), "diagnostics": diag,
        "indicators_used": spec.indicators, "indicators_skipped": spec.skipped,
        "barrier_last": float(spec.barrier[-1]),
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "spec": meta, NOISE_FLOOR_ATTR: NOISE_FLOOR,
        "ledger_head": ledger_head or L.EMPTY_HEAD, "ledger_in_fit": [e.id for e in in_fit],
        "pareto_k": k, "is_ess": ess, "update_path": "fit",
    }
    if save:
        from pathlib import Path
        out_path = Path(out) if out else ws.posterior_path
        identity["fit_file"] = str(out_path.relative_to(ws.state_dir))
        if out is None:  # a user's fit: serialise with updates (a refit already holds the lock)
            from filelock import FileLock

            ws.state_dir.mkdir(parents=True, exist_ok=True)
            with FileLock(str(ws.state_dir / ".lock")):
                save_fit(ws, idata, forecast, identity, out_path)
        else:
            save_fit(ws, idata, forecast, identity, out_path)
    return FitResult(spec=spec, idata=idata, forecast=forecast, diagnostics=diag, identity=identity,
                     timings=timings)
