"""Fitting: build the spec and model, sample with nutpie (PyMC NUTS as fallback), diagnose
and project. ``fit_dataset`` fits a dataset and the ledger events given to it; fitting a
workspace and storing the result is ``store.fit.fit`` (the CLI's ``fit`` command)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from forecast.data.events import Event
from forecast.data.loaders import Dataset
from forecast.defaults import CHAINS, DRAWS, HORIZONS, SAMPLER, SEED, TARGET_ACCEPT, TUNE
from forecast.inference.diagnostics import Diagnostics, compute_diagnostics
from forecast.inference.library_warnings import library_warnings
from forecast.inference.progress import OnPhase, phase
from forecast.inference.sampling import check_complete, nutpie_sample
from forecast.model.fitspec import FitSpec
from forecast.model.priors import PriorSet
from forecast.model.projection import Draws, project, recent_event_shift
from forecast.model.spec import ModelSpec, build_spec

if TYPE_CHECKING:
    from forecast.inference.deterministics import Deterministics
    from forecast.inference.retry import RetryNote

PARAMETERISATION = "centred"
# Fewer files than this in PyTensor's numba cache: the first compile on this machine (the default
# model's kernels fill ~340 files), announced as such by the compile phase's start.
COLD_KERNEL_FILES = 150


@dataclass
class FitResult:
    """One MCMC fit: what ``forecast.open(...).fit()`` returns after storing it under state/.

    spec: the model's inputs (``model.spec.ModelSpec``: years, data arrays, priors, as-of year).
    idata: the posterior as ArviZ InferenceData (also ``Project.posterior``).
    forecast: per-draw arrays of the projection (``improve_next_year``, ``settle_within_5y``,
        ``settle_within_10y``, ...) and ``weight``, each draw's PSIS weight.
    diagnostics: R-hat, bulk and tail ESS, divergences, E-BFMI, and ``ok`` (all within the thresholds).
    timings: seconds: ``compile_s``, ``sample_s``, and ``total_s`` once stored (with a discarded first run).
    sampler: the sampler that ran: 'nutpie', or 'pymc' (asked for, or when nutpie is not installed).
    in_fit: the ledger events dated up to the as-of year, folded into the fitted data.
    pareto_k: Pareto k of the weights that condition the projection on the forecast year's events
        (above 0.7: unreliable; -inf when there are none).
    is_ess: effective sample size of those weights.
    retry: a ``RetryNote`` when the kept run is the divergence retry's (why, and the first run), else None.
    """

    spec: ModelSpec
    idata: object
    forecast: dict          # per-draw projection (projection.project) with PSIS ``weight``
    diagnostics: Diagnostics  # diagnostics.compute_diagnostics
    timings: dict           # seconds: compile_s, sample_s (and total_s once stored)
    sampler: str            # the sampler used
    in_fit: list[Event]     # the ledger events folded into the fitted data
    pareto_k: float         # PSIS of the forecast-year evidence's weights
    is_ess: float
    retry: "RetryNote | None" = None  # set when the kept run is the retry's (inference/retry.py)


@dataclass(frozen=True)
class CompiledModel:
    """A model compiled for nutpie, which stores the free variables only, and the evaluator of the
    model's deterministics that ``draw`` adds to every posterior (``inference.deterministics``)."""

    sampler_model: object   # nutpie's compiled model (``with_data`` gives a copy with new pm.Data)
    deterministics: "Deterministics"  # of the same PyMC model


def _import_pymc():
    from forecast.model import pytensor_env

    pytensor_env.configure()
    import pymc as pm

    return pm


def compile_model(spec: ModelSpec, sampler: str = SAMPLER, on_phase: OnPhase | None = None,
                  verbose: bool = False):
    """Build the PyMC model and compile it for ``sampler``. Returns (compiled, sampler_used, seconds).
    With nutpie the compiled model (a ``CompiledModel``) is reusable with new ``pm.Data`` values
    (``draw(..., data=...)``), and its native code is cached on disk (``inference.compiled``): the
    compile phase's end says whether it was loaded from there.
    ``on_phase`` hears the "build" and "compile" phases; ``verbose`` shows third-party warnings."""
    with library_warnings(verbose):
        with phase(on_phase, "build"):
            _import_pymc()
            from forecast.model.builder import build_model

            if sampler == "nutpie":
                try:
                    import nutpie
                except ImportError:
                    sampler = "pymc"
            t0 = time.perf_counter()
            model = build_model(spec, PARAMETERISATION)
        if sampler == "nutpie":
            from forecast.inference.compiled import compile_pymc

            from forecast.inference.compiled import kernel_cache_files

            folder, n_files = kernel_cache_files()
            cold = f"cold:{folder}" if n_files < COLD_KERNEL_FILES else ""
            with phase(on_phase, "compile", detail=lambda: info.describe(), start_detail=cold):
                from forecast.inference.deterministics import Deterministics

                compiled, info = compile_pymc(model)
                compiled = CompiledModel(compiled, Deterministics(model))
            return compiled, sampler, time.perf_counter() - t0
    return model, sampler, float("nan")  # PyMC compiles inside pm.sample (no "compile" phase)


def draw(compiled, sampler: str, draws: int, tune: int, chains: int, seed: int, progress: bool,
         target_accept: float = TARGET_ACCEPT, data: dict | None = None, verbose: bool = False):
    """Sample a compiled model, optionally with new values of its ``pm.Data`` containers. With nutpie
    the deterministics are computed from the draws afterwards, with the same data. Ctrl-C, or any
    trace short of its draws, raises SamplingInterrupted (``inference.sampling``)."""
    cores = min(chains, os.cpu_count() or 1)
    if data:
        from forecast.model.builder import with_derived_data

        data = with_derived_data(data)
        check_data_shapes(data_shapes(compiled, sampler), data)
    with library_warnings(verbose):
        if sampler == "nutpie":
            model = compiled.sampler_model.with_data(**data) if data else compiled.sampler_model
            idata = nutpie_sample(model, draws=draws, tune=tune, chains=chains, seed=seed,
                                  progress_bar=progress, target_accept=target_accept, cores=cores)
            return compiled.deterministics.complete(idata, data)
        pm = _import_pymc()
        with compiled:
            if data:
                pm.set_data(data)
            idata = pm.sample(draws=draws, tune=tune, chains=chains, random_seed=seed, progressbar=progress,
                              target_accept=target_accept, cores=cores, compute_convergence_checks=False)
        check_complete(idata, draws, chains)  # PyMC returns the draws made so far on Ctrl-C
        return idata


def data_shapes(compiled, sampler: str) -> dict[str, tuple]:
    """name -> shape of every ``pm.Data`` container the compiled model reads."""
    if sampler == "nutpie":
        return {name: np.shape(value) for name, value in compiled.sampler_model.shared_data.items()}
    from pytensor.compile.sharedvalue import SharedVariable

    return {v.name: v.get_value().shape for v in compiled.data_vars if isinstance(v, SharedVariable)}


def check_data_shapes(shapes: dict[str, tuple], data: dict) -> None:
    """New ``pm.Data`` values must keep the compiled model's shapes: its containers have static shapes
    (``builder.static_data``), so the compiled code checks none and would read past a shorter array."""
    for name, value in data.items():
        want, got = shapes.get(name), np.shape(value)
        if want is not None and tuple(want) != tuple(got):
            raise ValueError(f"new values of the model's data '{name}' have shape {got}, but the compiled model's "
                             f"are {tuple(want)}: build and compile the model again for data of another shape")


def sample(spec: ModelSpec, draws: int, tune: int, chains: int, seed: int, progress: bool,
           sampler: str = SAMPLER, target_accept: float = TARGET_ACCEPT, on_phase: OnPhase | None = None,
           verbose: bool = False):
    """Compile and sample. Returns (idata, sampler_used, timings)."""
    compiled, used, compile_s = compile_model(spec, sampler, on_phase, verbose)
    with phase(on_phase, "sample"):
        t1 = time.perf_counter()
        idata = draw(compiled, used, draws, tune, chains, seed, progress, target_accept, verbose=verbose)
        sample_s = time.perf_counter() - t1
    return idata, used, {"compile_s": compile_s, "sample_s": sample_s}


def spec_meta(spec: ModelSpec) -> dict:
    """The stored ``spec`` attribute of a fit of ``spec`` (``FitSpec.of(spec).to_dict()``)."""
    return FitSpec.of(spec).to_dict()


def fit_dataset(ds: Dataset, priors: PriorSet, as_of: int | None, events: list[Event], draws: int = DRAWS,
                tune: int = TUNE, chains: int = CHAINS, seed: int = SEED, progress: bool = True,
                horizons=HORIZONS, sampler: str = SAMPLER, target_accept: float = TARGET_ACCEPT,
                on_phase: OnPhase | None = None, verbose: bool = False) -> FitResult:
    """Fit on ``ds`` plus the ``events`` dated up to the as-of year; events dated in the forecast
    year condition the projection. ``on_phase`` hears the phases from "build" to "project"
    (``inference.progress``); ``verbose`` shows third-party warnings (``library_warnings``)."""
    from forecast.inference.psis import psis
    from forecast.model.builder import NOISE_FLOOR
    from forecast.model.evidence import BarrierState, forecast_year_evidence, merge_events

    base_spec = build_spec(ds, priors, as_of)
    in_fit = [e for e in events if e.year <= base_spec.as_of]
    merged = merge_events(ds, in_fit, base_spec.as_of)
    spec = build_spec(merged, priors, as_of)
    idata, used, timings = sample(spec, draws, tune, chains, seed, progress, sampler, target_accept, on_phase,
                                  verbose)
    with phase(on_phase, "project"), library_warnings(verbose):
        diag = compute_diagnostics(idata)
        post = {v: idata.posterior[v].values for v in idata.posterior.data_vars}
        d = Draws.of_fit(post, spec)
        evidence = forecast_year_evidence(FitSpec.of(spec), post, NOISE_FLOOR, events, d,
                                          BarrierState.of(merged, int(spec.years[0]), spec.as_of))
        forecast = project(d, float(spec.barrier[-1]), horizons=tuple(horizons), seed=seed, evidence=evidence)
        forecast["event_shift_recent"] = recent_event_shift(post["event_shift"])
        weights, k, ess = psis(forecast.pop("draw_logweight"))
    forecast["weight"] = weights
    return FitResult(spec=spec, idata=idata, forecast=forecast, diagnostics=diag, timings=timings, sampler=used,
                     in_fit=in_fit, pareto_k=k, is_ess=ess)
