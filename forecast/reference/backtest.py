"""Out-of-sample validation of the pooled reference-class settlement model over rolling origins.

For each origin ``o`` (``defaults.DEFAULT_REF_ORIGINS``: 1900, 1920, 1946, 1960, 1975):

* train: the claim-years with ``year < o``. The model is fitted on these rows only (the fit function
  is handed a ``ClaimYears`` whose frame holds nothing else, and ``origin = o``);
* test: the claim-years with ``o <= year < next origin`` (the last origin: ``year <= defaults.REF_END``,
  2001). ``predict_settlement`` sees the training rows as history and only the keys (claim, year) of
  the test rows, so no covariate or outcome at or after ``o`` reaches a forecast;
* baselines as of ``o``, from the training rows only: ``p_base_all`` = peaceful settlements /
  claim-years over all training rows; ``p_base_30y`` = the same over training rows with
  ``year >= o - defaults.REF_BASE_WINDOW``; and ``p_prior`` = the mean alpha / (alpha + beta) of the
  ``settlement_base_rate`` prior of the default preset (after its ``update_with``), the same at every origin.

With ``information="updated"`` (pre-registered in ``benchmarks/reference_information.md``) the fits are
the same, but each test year ``y`` is forecast from every row with ``year < y`` (the training rows and the
earlier test years, outcomes included) through ``predict_fn(..., through=y)``, and the two base rates are
taken over the rows before ``y`` too: one-year-ahead forecasts, parameters refitted only at the origins.
``information="updated-level"`` also multiplies each forecast's hazard by a Gamma period multiplier
learned from the origin's test years before ``y`` (``updated_forecasts``). ``"updated-lags"`` and
``"updated-lags-level"`` also hand the forecast of year ``y`` the lag-window covariates of the test rows of
year ``y`` (``design.LAG_WINDOW``: ICOW computes them from the ten years before ``y``, so they are known at
the end of ``y - 1``) through ``predict_fn(..., through=y, lags=...)``; nothing else of year ``y``.
``"updated-lags-recal"`` recalibrates each origin's "updated-lags" forecasts on the test rows of the origins
before it (``recalibrate_origins``).

Each origin's fit uses the same ``seed`` (so an origin's result is what ``fit_reference(claims, o,
seed=seed)`` gives alone), and origins are independent tasks (``validate.cluster.run_tasks``): in
this process (``jobs=1``), on local worker processes or on a Dask cluster, with identical results.

The scores, pooled over all origins' test rows, go through ``validate.ref_scoring`` (whose Brier
and log scores are those of ``forecast backtest``), with paired claim-bootstrap intervals.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, is_dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from forecast import defaults as D
from forecast.errors import ForecastError, UsageError
from forecast.reference.protocols import PROTOCOLS, rate, recalibrate_origins, updated_forecasts
from forecast.validate.ref_scoring import ClaimBootstrap, Estimate, ScoreSet, claim_bootstrap

if TYPE_CHECKING:
    from forecast.data.claims import ClaimYears

FORECASTS = ("pooled", "base_all", "base_30y", "prior")
BASELINES = FORECASTS[1:]
ROW_KEYS = ("origin", "claim", "year", "p_settle", "p_base_all", "p_base_30y", "p_prior", "settled")
PRIOR_NAME = "settlement_base_rate"


@dataclass(frozen=True)
class ReferenceRow:
    """One test claim-year: the pooled model's P(peaceful settlement) and the baselines as of ``origin``."""

    origin: int
    claim: int
    year: int
    p_settle: float
    p_base_all: float
    p_base_30y: float
    p_prior: float
    settled: int


@dataclass(frozen=True)
class OriginSummary:
    """One origin: its training rows (years < origin), test rows (origin..end) and fit."""

    origin: int
    end: int
    n_train: int
    events_train: int
    n_test: int
    events_test: int
    p_base_all: float
    p_base_30y: float
    diagnostics: Any      # the fit's diagnostics record, as fit_fn returned it
    seconds: float
    fit_source: str = "fitted"  # or "loaded from PATH" / "refitted: REASON" (--fits, ``store.load_or_fit``)
    recalibration: tuple[float, float] | None = None  # (a, b) of "updated-lags-recal" (``recalibrate_origins``)


@dataclass(frozen=True)
class Target:
    """One acceptance target of issue 11, pooled over the origins."""

    value: float
    lo: float
    hi: float
    rule: str
    met: bool


@dataclass(frozen=True)
class ReferenceBacktest:
    rows: tuple[ReferenceRow, ...]
    origins: tuple[OriginSummary, ...]
    scores: dict[str, ScoreSet]            # by forecast name (FORECASTS), pooled over origins
    best_baseline: str                     # the baseline with the lowest pooled log score
    log_skill: Estimate                    # "pooled" against best_baseline
    brier_skill: Estimate
    pooled: ClaimBootstrap                 # all scores and skills (against every baseline), pooled
    by_origin: dict[int, ClaimBootstrap]   # the same on each origin's test rows alone
    targets: dict[str, Target]
    p_prior: float
    data_sha256: str
    settings: dict


@dataclass(frozen=True)
class OriginJob:
    """Everything one origin's task needs (picklable; ``fit_fn``/``predict_fn`` None = the pooled model)."""

    claims: Any           # ClaimYears
    origin: int
    end: int
    draws: int
    tune: int
    chains: int
    seed: int
    fit_fn: Callable | None = None
    predict_fn: Callable | None = None
    information: str = "origin"   # defaults.REF_INFORMATION
    fits_dir: str | None = None   # keep/reuse each origin's posterior there (the pooled model only)


@dataclass(frozen=True)
class OriginResult:
    summary: OriginSummary
    claim: np.ndarray
    year: np.ndarray
    settled: np.ndarray
    p_settle: np.ndarray
    base_all: np.ndarray    # per test row: the base rates a forecast of that row may know
    base_30y: np.ndarray


def run_origin(job: OriginJob) -> OriginResult:
    """Fit on the rows before ``job.origin``, predict its test rows from their keys, and the baselines."""
    fit_fn, predict_fn = job.fit_fn, job.predict_fn
    if fit_fn is None or predict_fn is None:
        from forecast.reference import fit_reference, predict_settlement

        fit_fn, predict_fn = fit_fn or fit_reference, predict_fn or predict_settlement
    t0 = time.perf_counter()
    frame = job.claims.frame
    train = frame[frame["year"] < job.origin].reset_index(drop=True)
    test = frame[(frame["year"] >= job.origin) & (frame["year"] <= job.end)].reset_index(drop=True)
    recent = train[train["year"] >= job.origin - D.REF_BASE_WINDOW]
    if job.fits_dir is None:
        fit, source = fit_fn(replace(job.claims, frame=train), job.origin, draws=job.draws, tune=job.tune,
                             chains=job.chains, seed=job.seed), "fitted"
    else:
        from forecast.reference.store import load_or_fit

        fit, source = load_or_fit(Path(job.fits_dir) / f"origin-{job.origin}.nc", fit_fn,
                                  replace(job.claims, frame=train), job.origin, draws=job.draws, tune=job.tune,
                                  chains=job.chains, seed=job.seed)
    protocol = PROTOCOLS[job.information]
    if protocol.updated:
        p, base_all, base_30y = updated_forecasts(fit, predict_fn, frame, test, job.seed, level=protocol.level,
                                                  lags=protocol.lags)
        # "updated-lags-recal": these are its base forecasts; reference_backtest recalibrates them
    else:
        p = np.asarray(predict_fn(fit, train, test[["claim", "year"]].copy(), job.seed), dtype=float)
        base_all, base_30y = np.full(len(test), rate(train["settled"])), np.full(len(test), rate(recent["settled"]))
    if p.shape != (len(test),) or not np.all((p >= 0) & (p <= 1)):
        raise ForecastError(f"origin {job.origin}: the settlement model returned {p.shape} values, not one "
                            f"probability in [0, 1] for each of the {len(test)} test claim-years")
    summary = OriginSummary(origin=job.origin, end=job.end, n_train=len(train),
                            events_train=int(train["settled"].sum()), n_test=len(test),
                            events_test=int(test["settled"].sum()), p_base_all=rate(train["settled"]),
                            p_base_30y=rate(recent["settled"]), diagnostics=getattr(fit, "diagnostics", None),
                            seconds=round(time.perf_counter() - t0, 2), fit_source=source)
    return OriginResult(summary, test["claim"].to_numpy(np.int64), test["year"].to_numpy(np.int64),
                        test["settled"].to_numpy(np.int64), p, base_all, base_30y)


def prior_settlement_rate(priors_dir: Path | None = None, preset: str = D.EXPERT_HAZARD_PRESET) -> float:
    """Mean of the preset's ``settlement_base_rate`` Beta prior, alpha / (alpha + beta), after its
    elicitation and ``update_with`` (``PriorSpec.resolved_params``). Default: the shipped priors."""
    from forecast.model.priors import load_preset
    from forecast.workspace import default_source

    folder = default_source() / "priors" if priors_dir is None else priors_dir
    spec = load_preset(folder, preset)[PRIOR_NAME]
    if spec.distribution != "Beta":
        raise UsageError(f"{spec.source_file or preset}: [{PRIOR_NAME}] is a {spec.distribution} prior; the "
                         "reference backtest reads its mean as alpha / (alpha + beta) and needs a Beta prior")
    params = spec.resolved_params()
    return float(params["alpha"]) / (float(params["alpha"]) + float(params["beta"]))


def origin_ends(origins: Sequence[int], end: int = D.REF_END) -> list[int]:
    """The last test year of each origin: the year before the next origin, and ``end`` for the last."""
    return [nxt - 1 for nxt in origins[1:]] + [end]


def check_origins(frame, origins: Sequence[int], end: int) -> list[int]:
    origins = [int(o) for o in origins]
    if not origins:
        raise UsageError("the reference backtest needs at least one origin (e.g. 1900 1920 1946 1960 1975)")
    missing = [c for c in ("claim", "year", "settled") if c not in frame.columns]
    if missing:
        raise UsageError(f"the claim-year table lacks the column(s) {', '.join(missing)}; load it with "
                         "forecast.data.claims.load_claim_years")
    if any(b <= a for a, b in zip(origins, origins[1:])):
        raise UsageError(f"origins must increase strictly, got {', '.join(map(str, origins))}")
    first = int(frame["year"].min())
    if origins[0] <= first:
        raise UsageError(f"origin {origins[0]} leaves no training years (the claim-years start in {first}); "
                         f"choose origins after {first}")
    if origins[-1] > end:
        raise UsageError(f"origin {origins[-1]} is after the last test year {end}; choose origins up to {end}")
    return origins


def reference_backtest(claims: ClaimYears, origins: Sequence[int] = D.DEFAULT_REF_ORIGINS, *,
                       fit_fn: Callable | None = None, predict_fn: Callable | None = None,
                       draws: int = D.BACKTEST_DRAWS, tune: int = D.BACKTEST_TUNE, chains: int = D.BACKTEST_CHAINS,
                       seed: int = D.SEED, progress: Callable[[str], None] | None = None, jobs: int | None = 1,
                       scheduler: str | None = None, n_boot: int = D.REF_BOOTSTRAP, level: float = D.REF_LEVEL,
                       end: int = D.REF_END, priors_dir: Path | None = None,
                       information: str = D.REF_INFORMATION[0], fits_dir: str | Path | None = None
                       ) -> ReferenceBacktest:
    """The rolling-origin backtest (see the module docstring). ``fit_fn(claims, origin, *, draws, tune,
    chains, seed)`` and ``predict_fn(fit, history, targets, seed)`` default to the pooled model's
    ``forecast.reference.fit_reference`` / ``predict_settlement``. ``progress`` gets one line per
    finished origin. ``jobs``/``scheduler`` as in ``validate.cluster.run_tasks`` (``jobs=1``: in this
    process, one origin after another). ``information``: one of ``defaults.REF_INFORMATION``, ``"origin"``
    (each test row forecast from the rows before its origin) or a one-year-ahead protocol (see the module
    docstring and ``reference.protocols``).
    ``fits_dir``: keep each origin's posterior there as ``origin-YYYY.nc`` (``store.save_reference_fit``) and
    load it instead of refitting when its identity matches (another ``information``, a resumed run); the
    pooled model only, so not with a ``fit_fn``."""
    from forecast.validate.cluster import Task, run_tasks

    if information not in D.REF_INFORMATION:
        raise UsageError(f"information must be one of {', '.join(D.REF_INFORMATION)}, got {information!r}")
    origins = check_origins(claims.frame, origins, end)
    if fits_dir is not None and fit_fn is not None:
        raise UsageError("fits_dir stores the pooled model's posteriors: it cannot be used with another fit_fn")
    if fits_dir is not None:
        fits_dir = Path(fits_dir)
        if fits_dir.exists() and not fits_dir.is_dir():
            raise UsageError(f"--fits {fits_dir} is a file, not a folder: name a folder for the origins' posteriors")
    p_prior = prior_settlement_rate(priors_dir)  # validate the priors before spending minutes on fits
    if fits_dir is not None:
        fits_dir.mkdir(parents=True, exist_ok=True)
    jobs_ = [OriginJob(claims, o, e, draws, tune, chains, seed, fit_fn, predict_fn, information,
                       None if fits_dir is None else str(fits_dir))
             for o, e in zip(origins, origin_ends(origins, end))]

    def done(res: OriginResult) -> None:
        if progress is not None:
            progress(origin_line(res))

    results = run_tasks([Task(run_origin, (j,)) for j in jobs_], jobs, scheduler, done)
    if PROTOCOLS[information].recal:
        results = recalibrate_origins(results)
    return assemble(results, p_prior, claims.sha256, n_boot=n_boot, level=level, seed=seed,
                    settings={"origins": origins, "end": end, "draws": draws, "tune": tune, "chains": chains,
                              "seed": seed, "n_boot": n_boot, "level": level,
                              "base_window": D.REF_BASE_WINDOW, "information": information})


def origin_line(res: OriginResult) -> str:
    s = res.summary
    return (f"origin {s.origin}: fitted on {s.n_train} claim-years before {s.origin} ({s.events_train} "
            f"settlements), scored {s.n_test} claim-years {s.origin}-{s.end} ({s.events_test} settlements), "
            f"mean P(settle) {res.p_settle.mean() if len(res.p_settle) else float('nan'):.4f} "
            f"vs {rate(res.settled):.4f} observed ({s.seconds:.0f} s)"
            + ("" if s.fit_source == "fitted" else f"; fit {s.fit_source}"))


def assemble(results: Sequence[OriginResult], p_prior: float, data_sha256: str, *, n_boot: int, level: float,
             seed: int, settings: dict) -> ReferenceBacktest:
    """Rows, pooled and per-origin scores, skills against the best baseline, and the targets."""
    rows, parts = [], []
    for res in results:
        s = res.summary
        if s.n_test == 0:
            raise UsageError(f"origin {s.origin} has no test claim-years in {s.origin}-{s.end}; drop that origin")
        cols = forecast_columns(res, p_prior)
        parts.append((s.origin, res.claim, res.settled, cols))
        for i in range(s.n_test):
            rows.append(ReferenceRow(origin=s.origin, claim=int(res.claim[i]), year=int(res.year[i]),
                                     p_settle=float(res.p_settle[i]), p_base_all=float(res.base_all[i]),
                                     p_base_30y=float(res.base_30y[i]), p_prior=p_prior,
                                     settled=int(res.settled[i])))
    claim = np.concatenate([c for _, c, _, _ in parts])
    y = np.concatenate([s for _, _, s, _ in parts])
    pooled_cols = {name: np.concatenate([cols[name] for *_, cols in parts]) for name in FORECASTS}
    pooled = claim_bootstrap(pooled_cols, y, claim, model="pooled", n_boot=n_boot, level=level, seed=seed)
    by_origin = {o: claim_bootstrap(cols, s, c, model="pooled", n_boot=n_boot, level=level, seed=seed)
                 for o, c, s, cols in parts}
    best = min(BASELINES, key=lambda b: (not np.isfinite(pooled.scores[b].log.value), pooled.scores[b].log.value))
    return ReferenceBacktest(rows=tuple(rows), origins=tuple(r.summary for r in results), scores=pooled.scores,
                             best_baseline=best, log_skill=pooled.log_skill[best],
                             brier_skill=pooled.brier_skill[best], pooled=pooled, by_origin=by_origin,
                             targets=targets(pooled, best), p_prior=p_prior, data_sha256=data_sha256,
                             settings=settings)


def forecast_columns(res: OriginResult, p_prior: float) -> dict[str, np.ndarray]:
    n = res.summary.n_test
    return {"pooled": res.p_settle, "base_all": res.base_all, "base_30y": res.base_30y,
            "prior": np.full(n, p_prior)}


def targets(bs: ClaimBootstrap, best: str) -> dict[str, Target]:
    """Issue 11's targets for the pooled model, pooled over origins (``defaults.REF_TARGETS``)."""
    T = D.REF_TARGETS
    ls, bsk, auc, ratio = bs.log_skill[best], bs.brier_skill[best], bs.scores["pooled"].auc, \
        bs.scores["pooled"].rate_ratio
    tol = T["rate_tolerance"]
    return {
        "log_skill": Target(ls.value, ls.lo, ls.hi, f"log-score skill over the best baseline ({best}) >= "
                            f"{T['log_skill']} with its {round(100 * bs.level)}% interval above 0",
                            bool(ls.value >= T["log_skill"] and ls.lo > 0)),
        "brier_skill": Target(bsk.value, bsk.lo, bsk.hi, f"Brier skill over the best baseline ({best}) >= "
                              f"{T['brier_skill']}", bool(bsk.value >= T["brier_skill"])),
        "auc": Target(auc.value, auc.lo, auc.hi, f"AUC >= {T['auc']}", bool(auc.value >= T["auc"])),
        "mean_rate": Target(ratio.value, ratio.lo, ratio.hi, f"mean predicted settlement rate / observed rate "
                            f"within {1 - tol:g}-{1 + tol:g} (+-{round(100 * tol)}%)",
                            bool(abs(ratio.value - 1.0) <= tol)),
    }


# --- JSON


def _num(x):
    """A JSON-safe number: NaN and infinities become null."""
    x = float(x)
    return x if np.isfinite(x) else None


def _plain(obj):
    if is_dataclass(obj) and not isinstance(obj, type):
        return _plain(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _num(obj)
    return obj


def _scores(bs: ClaimBootstrap) -> dict:
    return {"claim_years": bs.n_rows, "events": bs.n_events, "claims": bs.n_claims,
            "scores": _plain(bs.scores),
            "skill": {ref: {"log": _plain(bs.log_skill[ref]), "brier": _plain(bs.brier_skill[ref])}
                      for ref in bs.log_skill}}


def to_json(bt: ReferenceBacktest) -> dict:
    """The backtest as plain JSON types (NaN as null). ``rows`` has one entry per test claim-year
    (``ROW_KEYS``), so anyone can recompute every score."""
    level = round(100 * bt.pooled.level)
    return {
        "data_sha256": bt.data_sha256,
        "settings": _plain(bt.settings),
        "interval": f"{level}% percentile interval of a claim-cluster bootstrap ({bt.pooled.n_boot} replicates, "
                    f"seed {bt.pooled.seed}): whole claims resampled with replacement, the same resample for "
                    "the model and every baseline",
        "conventions": {
            "log": "mean negative log-likelihood of the 0/1 settlement outcome (nats), lower is better",
            "brier": "mean squared error of P(settle) vs the 0/1 outcome, lower is better",
            "auc": "Mann-Whitney P(a settled claim-year is ranked above an unsettled one), ties half",
            "cal_intercept": "a in logit P(settle) = a + logit(p) (calibration-in-the-large), 0 is ideal",
            "cal_slope": "b in logit P(settle) = a + b logit(p), 1 is ideal, null for a constant forecast",
            "rate_ratio": "mean predicted rate / observed rate",
            "skill": "1 - score(pooled) / score(baseline), higher is better",
            "baselines": f"base_all: settlements / claim-years before the origin; base_30y: the same over the "
                         f"{D.REF_BASE_WINDOW} years before it; prior: mean of the {PRIOR_NAME} prior",
            "information": "origin: every test row forecast from the claim-years before its origin (the fit's "
                           "training rows); updated: each test year forecast from the claim-years before that "
                           "year, with the origin's fit, and base_all/base_30y taken before that year too; "
                           "updated-level: as updated, the hazard times a Gamma period multiplier learned from "
                           "the test years before; updated-lags(-level): as updated(-level), and the forecast of "
                           "year y also reads the lag-window covariates of year y (computed by ICOW from y-10..y-1); "
                           "updated-lags-recal: updated-lags, each origin recalibrated by sigmoid(a + b logit p) "
                           "fitted on the earlier origins' test rows",
        },
        "p_prior": _num(bt.p_prior),
        "origins": [dict(_plain(s), **_scores(bt.by_origin[s.origin])) for s in bt.origins],
        "test": {"claim_years": bt.pooled.n_rows, "events": bt.pooled.n_events, "claims": bt.pooled.n_claims},
        "scores": _plain(bt.scores),
        "best_baseline": bt.best_baseline,
        "skill": {"vs": bt.best_baseline, "log": _plain(bt.log_skill), "brier": _plain(bt.brier_skill),
                  "by_baseline": _scores(bt.pooled)["skill"]},
        "targets": {name: {"value": _num(t.value), "lo": _num(t.lo), "hi": _num(t.hi), "target": t.rule,
                           "met": t.met} for name, t in bt.targets.items()},
        "rows": [{k: _plain(getattr(r, k)) for k in ROW_KEYS} for r in bt.rows],
    }
