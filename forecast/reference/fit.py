"""Fit the pooled reference-class hazard model (``model.py``) with nutpie, seeded, and diagnose it.

``fit_reference(claims, origin)`` trains on the claim-years with year < origin (all of them when
origin is None). It needs only ``claims.frame`` (Interface A columns) and ``claims.sha256``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from forecast.defaults import (REFERENCE_CHAINS, REFERENCE_DRAWS, REFERENCE_LOW_RANK, REFERENCE_NEW_CLAIM_YEARS,
                               REFERENCE_TARGET_ACCEPT, REFERENCE_TUNE, SEED)
from forecast.reference.horizon import persistence
from forecast.reference.design import (COVARIATES, ReferenceDataError, era_index, raw_covariates, standardisation,
                                       standardise, training_rows)
from forecast.reference.model import DesignData, build_reference_model


@dataclass(frozen=True)
class ReferenceIdentity:
    """What a reference posterior was fitted from and with."""

    data_sha256: str
    seed: int
    origin: int | None
    draws: int
    tune: int
    chains: int
    versions: dict[str, str]  # pymc, nutpie, numpy, forecast


@dataclass(frozen=True)
class ReferenceDiagnostics:
    """Sampler diagnostics of a fit (thresholds: ``defaults.THRESHOLDS``) and its wall time."""

    rhat_max: float
    ess_bulk_min: float
    divergences: int
    bfmi_min: float
    seconds: float
    failures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        verdict = "ok" if self.ok else "NOT OK: " + "; ".join(self.failures)
        return (f"R-hat max {self.rhat_max:.3f}, bulk ESS min {self.ess_bulk_min:.0f}, "
                f"{self.divergences} divergences, E-BFMI min {self.bfmi_min:.2f}, {self.seconds:.1f} s ({verdict})")


@dataclass(frozen=True)
class TrainingSummary:
    """The training rows in counts (the evidence a fit rests on)."""

    claim_years: int
    settlements: int
    claims: int
    first_year: int
    last_year: int


@dataclass(frozen=True, eq=False)
class ReferenceFit:
    """A fitted reference model: posterior draws (``idata.posterior`` holds ``model.STORED_VARIABLES``),
    identity, the covariates with their training ``center``/``scale``, the fitted claims, diagnostics;
    ``new_profile`` the standardised covariates of a new claim; ``issues``/``regions`` the effect levels;
    ``n_eras`` the eras with training rows."""

    idata: object
    identity: ReferenceIdentity
    covariates: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray
    claims: tuple[int, ...]
    diagnostics: ReferenceDiagnostics
    new_profile: np.ndarray = field(default_factory=lambda: np.zeros(0))
    persistence: np.ndarray = field(default_factory=lambda: np.zeros(0))  # horizon.persistence of each covariate
    issues: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    n_eras: int = 0
    summary: TrainingSummary | None = None


def versions() -> dict[str, str]:
    import nutpie
    import pymc

    import forecast

    return {"pymc": pymc.__version__, "nutpie": nutpie.__version__, "numpy": np.__version__,
            "forecast": forecast.__version__}


def design(rows: pd.DataFrame) -> tuple[DesignData, np.ndarray, np.ndarray, np.ndarray]:
    """The model's arrays for training ``rows``, with the standardisation and the new-claim profile."""
    if rows.empty:
        raise ReferenceDataError("no claim-years to train on: choose a later origin")
    raw = raw_covariates(rows)
    center, scale = standardisation(raw)
    x = standardise(raw, center, scale)
    young = np.asarray(rows["duration"]) < REFERENCE_NEW_CLAIM_YEARS
    new_profile = x[young].mean(axis=0) if young.any() else np.zeros(len(COVARIATES))
    issues = tuple(sorted(set(rows["issue"].astype(str))))
    regions = tuple(sorted(set(rows["region"].astype(str))))
    claims = tuple(int(c) for c in sorted(set(rows["claim"])))
    era = era_index(rows["year"])
    lookup = {c: i for i, c in enumerate(claims)}
    d = DesignData(
        y=np.asarray(rows["settled"], dtype=np.int64), x=x,
        issue=np.searchsorted(np.array(issues), rows["issue"].astype(str).to_numpy()),
        region=np.searchsorted(np.array(regions), rows["region"].astype(str).to_numpy()),
        era=era, claim=np.array([lookup[int(c)] for c in rows["claim"]], dtype=np.int64),
        covariates=COVARIATES, issues=issues, regions=regions, n_eras=int(era.max()) + 1, claims=claims)
    if np.any(np.diff(d.claim) < 0):
        raise ReferenceDataError("training rows are not sorted by claim: sort them by claim, year")
    not_last = d.y[:-1].astype(bool) & (d.claim[1:] == d.claim[:-1])
    if not_last.any():
        bad = rows.iloc[int(np.flatnonzero(not_last)[0])]
        raise ReferenceDataError(f"claim {int(bad['claim'])} has settled = 1 in year {int(bad['year'])}, which is "
                                 f"not its last claim-year: a claim leaves the risk set when it settles; fix the "
                                 f"claim-years")
    return d, center, scale, new_profile


# Deterministics checked through the free parameters they are functions of (era_level[0] is the
# constant 0, whose R-hat is undefined).
UNCHECKED = ("a_issue", "a_region", "era_level")


def diagnose(idata, seconds: float) -> ReferenceDiagnostics:
    import arviz as az

    from forecast.inference.diagnostics import compute_diagnostics

    checked = az.InferenceData(posterior=idata.posterior.drop_vars(list(UNCHECKED)),
                               sample_stats=idata.sample_stats)
    d = compute_diagnostics(checked)
    return ReferenceDiagnostics(rhat_max=float(d.rhat_max), ess_bulk_min=float(d.ess_bulk_min),
                                divergences=int(d.divergences), bfmi_min=float(d.bfmi_min),
                                seconds=round(seconds, 1), failures=d.failures)


def fit_reference(claims, origin: int | None = None, *, draws: int = REFERENCE_DRAWS, tune: int = REFERENCE_TUNE,
                  chains: int = REFERENCE_CHAINS, seed: int = SEED, target_accept: float = REFERENCE_TARGET_ACCEPT,
                  low_rank: bool = REFERENCE_LOW_RANK, progress: Callable[[str], None] | None = None) -> ReferenceFit:
    """Fit on the rows of ``claims.frame`` with year < ``origin`` (all rows when None). ``low_rank``: nutpie's
    low-rank modified mass matrix (for the correlation of alpha, theta and the duration effect)."""
    import os

    from forecast.inference.library_warnings import library_warnings
    from forecast.model import pytensor_env

    say = progress or (lambda line: None)
    t0 = time.perf_counter()
    rows = training_rows(claims.frame, origin)
    d, center, scale, new_profile = design(rows)
    if d.y.sum() == 0:
        raise ReferenceDataError(f"no peaceful settlement in the {len(rows)} training claim-years"
                                 + (f" before {origin}" if origin is not None else "")
                                 + ": the hazard cannot be learned; choose a later origin")
    summary = TrainingSummary(claim_years=len(rows), settlements=int(d.y.sum()), claims=len(d.claims),
                              first_year=int(rows["year"].min()), last_year=int(rows["year"].max()))
    say(f"reference fit: {summary.claim_years} claim-years, {summary.settlements} settlements, "
        f"{summary.claims} claims, {summary.first_year}-{summary.last_year}")
    pytensor_env.configure()
    with library_warnings():
        from forecast.inference.compiled import compile_pymc
        from forecast.inference.deterministics import Deterministics
        from forecast.inference.sampling import nutpie_sample

        model = build_reference_model(d)
        say("reference fit: compiling")
        t1 = time.perf_counter()
        compiled, info = compile_pymc(model)
        say(f"reference fit: compiled in {time.perf_counter() - t1:.1f} s ({info.describe()})")
        say(f"reference fit: sampling {chains} chains x {draws} draws after {tune} tuning")
        idata = nutpie_sample(compiled, draws=draws, tune=tune, chains=chains, seed=seed, progress_bar=False,
                              target_accept=target_accept, cores=min(chains, os.cpu_count() or 1),
                              low_rank_modified_mass_matrix=low_rank)  # Ctrl-C: SamplingInterrupted
        idata = Deterministics(model).complete(idata)  # the sampler stores the free variables only
        diagnostics = diagnose(idata, time.perf_counter() - t0)
    say(f"reference fit: {diagnostics.describe()}")
    identity = ReferenceIdentity(data_sha256=str(claims.sha256), seed=int(seed), origin=origin, draws=int(draws),
                                 tune=int(tune), chains=int(chains), versions=versions())
    return ReferenceFit(idata=idata, identity=identity, covariates=COVARIATES, center=center, scale=scale,
                        claims=d.claims, diagnostics=diagnostics, new_profile=new_profile,
                        persistence=persistence(rows, d.x, COVARIATES), issues=d.issues,
                        regions=d.regions, n_eras=d.n_eras, summary=summary)
