"""``forecast update``: validate an event, reweight the stored posterior (PSIS) or
refit, record it in the ledger, and report before -> after with attribution.

Fast path (numpy + h5py only): the stored draws are reweighted by the change in
log-likelihood the new evidence brings; evidence dated in the forecast year
conditions the simulated futures directly (see projection.py). When the Pareto k
exceeds 0.7 or the importance-sampling ESS collapses, the model is refitted on
the data plus the ledger.
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from forecast import LENSES
from forecast.data.loaders import Dataset, load_dataset, parse_date, suggest, transform_ok
from forecast.defaults import MIN_IS_ESS, PARETO_K_THRESHOLD
from forecast.errors import ForecastError, IdentityMismatchError, Problem, ValidationError
from forecast.inference.progress import OnPhase
from forecast.inference.psis import psis
from forecast.model.evidence import (BarrierState, NeedsRefit, barrier_changes, cells, event_counts, flat,
                                     forecast_year_evidence, merge_events, not_in_fit)
from forecast.model.kernels import (event_log_rate, indicator_means, lagged, lens_from_factors, lens_shift, noise_sd,
                                    normal_logpdf, ordered_logistic_logp, outcome_switches, poisson_logpmf)
from forecast.model.projection import Draws, project, recent_event_shift
from forecast.store import ledger as L
from forecast.store.headline import contributions, headline, probabilities
from forecast.store.lock import write_lock
from forecast.store.posterior import (StoredForecast, current, fit_path, head_path, is_stale, read_forecast_file,
                                      read_posterior_arrays, remove_stale_temporaries, write_forecast_file)
from forecast.store.record import FitRecord
from forecast.workspace import HASHED_INPUTS, Workspace


# --------------------------------------------------------------------------- validation
def validate_events(ws: Workspace, ds: Dataset, events: list[L.Event], forecast_year: int,
                    file: str = "command line", rows: list[int] | None = None) -> None:
    """Every problem, with the field (and the batch row) named. Raises ValidationError."""
    problems: list[Problem] = []
    first = int(ds.outcomes["year"].min())
    seen: dict[str, int] = {}
    for i, e in enumerate(events):
        row = rows[i] if rows else None
        fld = (lambda f: f) if rows else (lambda f: f"--{f}")
        if not e.source.strip():
            problems.append(Problem(file, "missing source", row, fld("source"), hint="cite where this comes from"))
        date = parse_date(e.date, file, row, fld("date"), problems, first)
        if date is not None and date.year > forecast_year:
            problems.append(Problem(file, f"date {e.date} is after the forecast year {forecast_year} of the "
                                    f"stored fit", row, fld("date"),
                                    hint=f"refit with a later --as-of to use evidence from {date.year}"))
        if e.type == "indicator":
            if e.name not in ds.meta.index:
                problems.append(Problem(file, f"unknown indicator '{e.name}'", row, fld("indicator"),
                                        hint=suggest(e.name, ds.meta.index) or "see 'forecast data list'"))
            else:
                m = ds.meta.loc[e.name]
                if e.value is None:
                    problems.append(Problem(file, "missing value", row, fld("value")))
                elif not (m["min"] <= e.value <= m["max"]) or not transform_ok(m["transform"], e.value):
                    problems.append(Problem(file, f"value {e.value:g} for '{e.name}' is outside its valid range "
                                            f"{m['min']:g} to {m['max']:g} ({m['unit']})", row, fld("value")))
        else:
            if e.name not in ds.event_kinds.index:
                problems.append(Problem(file, f"unknown event kind '{e.name}'", row, fld("event") if not rows else "kind",
                                        hint=suggest(e.name, ds.event_kinds.index)
                                        or f"known kinds: {', '.join(ds.event_kinds.index)}"))
            if e.value is not None:
                problems.append(Problem(file, "a coded event takes no value", row, fld("value")))
        if e.id in seen:
            problems.append(Problem(file, f"duplicate event (same as row {seen[e.id]})", row, fld("date"),
                                    hint="remove one of the two identical rows"))
        seen.setdefault(e.id, row)
    if problems:
        raise ValidationError(problems)


# ------------------------------------------------------------------ computing a forecast
@dataclass
class Computed:
    forecast: dict
    weights: np.ndarray
    pareto_k: float
    ess: float
    reweighted: bool = True   # the draws' weights are not uniform: PSIS reweighting took place
    shifted: bool = False     # coded events dated in the forecast year shift the simulated futures directly
    barrier: float | None = None  # the legal barrier a forecast-year barrier reading put in force (else None)


def compute(fit_file: Path, record: FitRecord, ds: Dataset, all_adds: dict[str, L.Event],
            events_now: list[L.Event]) -> Computed:
    """The forecast implied by the stored fit and the events in force now (numpy only)."""
    meta = record.spec
    as_of = meta.as_of
    post = read_posterior_arrays(fit_file)
    draws = Draws.of_fit(post, meta)
    S = draws.rho.shape[0]
    in_fit = [all_adds[i] for i in record.ledger_in_fit if i in all_adds]
    old_ds = merge_events(ds, in_fit, as_of)
    new_ds = merge_events(ds, events_now, as_of)
    logw = np.zeros(S)

    # (1) changed indicator cells up to the as-of year
    old_c, new_c = cells(meta, old_ds), cells(meta, new_ds)
    changed = [c for c in set(old_c) | set(new_c) if old_c.get(c) != new_c.get(c)]
    known = set(meta.indicators)
    barriers = BarrierState.of(new_ds, meta.first_year, as_of)
    for e in events_now:
        if e.type == "indicator" and e.year <= as_of and e.name not in known and e.name not in barriers.last:
            raise not_in_fit(e.name)
    moved = barrier_changes(meta.first_year, as_of, old_ds, new_ds)
    if moved:  # the barrier is a covariate of the fitted settlement likelihood, not an observation
        names = sorted({e.name for e in events_now + in_fit if e.type == "indicator" and e.year <= as_of
                        and e.name in barriers.last})
        what = f"{names[0]!r} is a barrier indicator" if len(names) == 1 else \
            f"{', '.join(map(repr, names))} are barrier indicators"
        raise NeedsRefit(f"{what}: the change moves the legal "
                         f"barrier in {', '.join(map(str, moved))}, which the fitted settlement hazard conditions "
                         f"on, so the stored draws cannot be reweighted")
    if changed:
        eta = flat(post["factor_state"])
        a, lam = flat(post["indicator_intercept"]), flat(post["loading"])
        sd = noise_sd(flat(post["indicator_noise"]), record.noise_floor)
        fac = meta.indicator_factor
        for k, t in changed:
            mu = indicator_means(a, lam, eta, fac, k, t)
            if (k, t) in new_c:
                logw += normal_logpdf(new_c[(k, t)], mu, sd[:, k])
            if (k, t) in old_c:
                logw -= normal_logpdf(old_c[(k, t)], mu, sd[:, k])

    # (2) changed coded events up to the as-of year: shift that year's improvement log-odds (and the next
    # year's, by kappa, in joint_lag); in the forms where events observe the lens states, also their counts
    old_n, new_n = event_counts(meta, old_ds), event_counts(meta, new_ds)
    dcount = new_n - old_n
    if np.any(dcount):
        lp = flat(post["improve_logodds"])
        lens = np.asarray(meta.event_lens)
        beta_e = draws.beta[:, lens] * draws.event_effect  # (S, E)
        shift = beta_e @ dcount  # (S, T)
        simulate, lag = outcome_switches(meta.outcome_form)
        if lag:
            shift = shift + draws.event_lag_weight[:, None] * lagged(shift)
            draws.shift_last = draws.shift_last + lens_shift(draws.event_effect, lens, dcount[:, -1])
        if simulate:
            logw += count_loglik_change(post, meta, draws, old_n, new_n)
        y = np.asarray(meta.change) + 2  # stored as the coded change -2..2; categories are 0..4
        for t in np.flatnonzero(np.any(shift != 0, axis=0)):
            logw += ordered_logistic_logp(y[t], lp[:, t] + shift[:, t], draws.cutpoints) - \
                ordered_logistic_logp(y[t], lp[:, t], draws.cutpoints)

    # (3) evidence dated in the forecast year conditions the simulated futures
    ev = forecast_year_evidence(meta, post, record.noise_floor, events_now, draws, barriers)
    out = project(draws, meta.barrier_last, tuple(record.horizons), seed=record.seed, evidence=ev)
    out["event_shift_recent"] = recent_event_shift(post["event_shift"])
    logw += out.pop("draw_logweight")
    weights, k, ess = psis(logw)
    return Computed(forecast=out, weights=weights, pareto_k=k, ess=ess, reweighted=bool(np.ptp(logw) > 0),
                    shifted=ev is not None and ev.shift is not None, barrier=None if ev is None else ev.barrier)


def count_loglik_change(post: dict, meta, draws: Draws, old_n: np.ndarray, new_n: np.ndarray) -> np.ndarray:
    """(S,) change of the event counts' Poisson log-likelihood from ``old_n`` to ``new_n`` (E, T) per draw."""
    lens_state = lens_from_factors(flat(post["factor_state"]), axis=1)  # (S, 3, T)
    e, t = np.nonzero(new_n != old_n)
    lens = np.asarray(meta.event_lens)[e]
    log_rate = event_log_rate(draws.event_rate_intercept[:, e], draws.event_rate_slope[:, lens],
                              np.asarray(meta.event_sign)[e], lens_state[:, lens, t])  # (S, cells)
    return (poisson_logpmf(new_n[e, t], log_rate) - poisson_logpmf(old_n[e, t], log_rate)).sum(axis=1)


def path_message(path: str, comp: Computed | None, reason: str = "") -> str:
    """What the update did, in words, for the path named by ``fast_path`` or 'refit' (``reason``: why)."""
    if path == "refit":
        return f"refit: the model was refitted on the data plus the ledger ({reason})"
    barrier = comp is not None and comp.barrier is not None
    sets = f"the forecast-year legal barrier reading puts a barrier of {comp.barrier:g} in every draw's settlement " \
        "hazard" if barrier else ""
    if path == "event_shift":
        if barrier and not comp.shifted:
            return f"fast path: direct barrier shift ({sets}; no reweighting)"
        both = f"; {sets}" if barrier else ""
        return (f"fast path: direct event shift (the forecast-year event moves every draw's simulated futures{both}; "
                "no reweighting)")
    if path == "unchanged":
        return "fast path: the evidence in force leaves the likelihood as it was (no reweighting, no shift)"
    also = "; forecast-year events shift the simulated futures directly" if comp.shifted else ""
    also += f"; {sets}" if barrier else ""
    return f"fast path: Pareto-smoothed importance reweighting (Pareto k {comp.pareto_k:.2f}, ESS {comp.ess:.0f}){also}"


def fast_path(comp: Computed) -> str:
    """The name of the fast path ``comp`` took: 'psis', 'event_shift' or 'unchanged'."""
    return "psis" if comp.reweighted else "event_shift" if comp.shifted or comp.barrier is not None else "unchanged"


# ----------------------------------------------------------------------- current state
def write_head(ws: Workspace, head: str, comp: Computed, base: FitRecord, fit_file: Path, path: str,
               events_now: list[L.Event]) -> None:
    record = replace(base, ledger_head=head, update_path=path, pareto_k=comp.pareto_k, is_ess=comp.ess,
                     fit_file=str(fit_file.relative_to(ws.state_dir)),
                     events_in_force=tuple(e.id for e in events_now))
    write_forecast_file(head_path(ws, head), {**comp.forecast, "weight": comp.weights}, record)


@dataclass
class Forecasted:
    """The forecast for a set of events in force, from the posterior behind ``before``: by the fast
    path, or by a refit when the reweighting is unreliable (then ``fit_file`` and ``base`` are the refit's)."""

    path: str                 # psis, event_shift, unchanged or refit
    message: str              # path_message
    comp: Computed
    after: StoredForecast
    base: StoredForecast      # the fit the forecast was computed from
    fit_file: Path


def forecast_for_events(ws: Workspace, ds: Dataset, before: StoredForecast, all_adds: dict[str, L.Event],
                        events_now: list[L.Event], progress: bool = False, dry_run: bool = False,
                        on_refit: Callable[[str], None] | None = None,
                        on_phase: OnPhase | None = None) -> Forecasted:
    """The forecast implied by ``events_now`` (``all_adds``: every event the ledger ever added, by id),
    computed from the posterior behind ``before``; a refit (saved unless ``dry_run``) when the
    reweighting is unreliable or impossible. ``on_refit`` hears why before a refit starts, ``on_phase``
    the refit's phases."""
    fit_file = fit_path(ws, before)
    base = read_forecast_file(fit_file, ws)
    try:
        comp = compute(fit_file, base.record, ds, all_adds, events_now)
        path, message = fast_path(comp), path_message(fast_path(comp), comp)
        if comp.reweighted and not (comp.pareto_k <= PARETO_K_THRESHOLD
                                    and comp.ess >= min(MIN_IS_ESS, 0.5 * len(comp.weights))):
            reason = f"the reweighting is unreliable: Pareto k {comp.pareto_k:.2f}, ESS {comp.ess:.0f}"
            path, comp, message = "refit", None, path_message("refit", None, reason)
    except NeedsRefit as exc:
        reason = str(exc)
        path, comp, message = "refit", None, path_message("refit", None, reason)
    if comp is None:
        from forecast.inference.retry import resume_target_accept
        from forecast.store.fit import fit_with_retry
        a = base.record
        # named by the events it was fitted on; the ledger head it serves is recorded in heads/
        tag = L.head_of("".join(sorted(e.id for e in events_now)).encode())
        if on_refit is not None:
            on_refit(reason)
        refit_path = ws.state_dir / "fits" / f"events-{tag}.nc"
        result = fit_with_retry(ws, target_accept=resume_target_accept(a.target_accept), preset=a.preset,
                                as_of=a.as_of, draws=a.draws, tune=a.tune, chains=a.chains, seed=a.seed,
                                progress=progress, horizons=a.horizons, events=events_now,
                                ledger_head="refit", out=refit_path, save=not dry_run, on_phase=on_phase)
        if dry_run:  # nothing saved: the refit's forecast is reported as it came
            after = StoredForecast(record=a, draws=result.forecast)
        else:
            fit_file = refit_path
            after = base = read_forecast_file(fit_file, ws)
        comp = Computed(forecast=after.draws, weights=after.draws["weight"], pareto_k=float("nan"),
                        ess=float("nan"), reweighted=False)
    else:
        after = StoredForecast(record=base.record, draws={**comp.forecast, "weight": comp.weights})
    return Forecasted(path, message, comp, after, base, fit_file)


def apply(ws: Workspace, events: list[L.Event], dry_run: bool = False, file: str = "command line",
          rows: list[int] | None = None, progress: bool = False, on_refit: Callable[[str], None] | None = None,
          on_phase: OnPhase | None = None) -> dict:
    """Validate, compute, record (unless dry_run). Returns the report dict. A dry run needs no write
    access: it takes no lock, removes no temporaries and writes no file (a refit is not saved).
    When the update refits, ``on_refit`` hears why (before the fit starts) and ``on_phase`` the fit's
    phases (``inference.progress``), as ``forecast fit`` reports them."""
    ds = load_dataset(ws.data_dir)
    # everything that can refuse the update runs before anything is written (not even a lock file)
    before, _, warning = current(ws)
    if warning:
        raise ForecastError(warning)
    if is_stale(ws, before):
        raise IdentityMismatchError(
            f"{HASHED_INPUTS} changed since the stored fit (hash {before.record.content_hash[:12]}); "
            f"run 'forecast fit' before updating")
    validate_events(ws, ds, events, before.record.forecast_year, file, rows)
    with nullcontext() if dry_run else write_lock(ws):
        if not dry_run:
            remove_stale_temporaries(ws)
        before, head, warning = current(ws)  # again: another update may have committed meanwhile
        if warning:
            raise ForecastError(warning)
        records, _ = L.read(ws)
        in_force = {r["id"] for r in L.active(records)}
        fresh = [e for e in events if e.id not in in_force]
        if not fresh:
            return {"noop": True, "message": "already recorded: " + ", ".join(f"{e.label()} [{e.id}]" for e in events),
                    "ids": [e.id for e in events]}
        all_adds = {r["id"]: L.Event.from_dict(r["event"]) for r in records if r["op"] == "add"}
        events_now = L.active_events(records) + fresh
        for e in fresh:
            all_adds[e.id] = e
        old_bytes = L.read_bytes(ws)
        stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        seq = 1 + max((r.get("update", 0) for r in records), default=0)
        new_records = [{"op": "add", "id": e.id, "update": seq, "event": dict(e.__dict__), "applied_utc": stamp}
                       for e in fresh]
        res = forecast_for_events(ws, ds, before, all_adds, events_now, progress=progress, dry_run=dry_run,
                                  on_refit=on_refit, on_phase=on_phase)
        path, message, comp, after = res.path, res.message, res.comp, res.after
        lens_of = {e.id: (ds.meta.loc[e.name, "lens"] if e.type == "indicator" else ds.event_kinds.loc[e.name, "lens"])
                   for e in fresh}
        report = transition_report(before, after, fresh, path, comp, lens_of) | {"path_message": message}
        if dry_run:
            report["dry_run"] = True
            return report
        after_summary = headline(after)
        for r in new_records:
            r["path"] = path
            r["after"] = after_summary
        new_bytes = old_bytes + L.encode(new_records)
        new_head = L.head_of(new_bytes)
        write_head(ws, new_head, comp, res.base.record, res.fit_file, path, events_now)
        L.append(ws, new_records, old_bytes)  # the commit point
        report["ledger_head"] = new_head
        return report


def transition_report(before: StoredForecast, after: StoredForecast, fresh: list[L.Event], path: str,
                      comp: Computed | None, lens_of: dict[str, str]) -> dict:
    b, a = probabilities(before), probabilities(after)
    cb, ca = contributions(before), contributions(after)
    probs = {}
    for k in b:
        pb, pa = b[k], a[k]
        probs[k] = {"before": pb.headline(), "after": pa.headline(), "change_pp": 100 * (pa.mean - pb.mean)}
    attribution = {}
    for lens in LENSES:
        attribution[lens] = {"delta_logodds": ca[lens] - cb[lens],
                             "events": [e.label() for e in fresh if lens_of[e.id] == lens]}
    return {"noop": False, "path": path, "events": [{"id": e.id, **e.__dict__} for e in fresh],
            "probabilities": probs, "attribution": attribution,
            "pareto_k": comp.pareto_k if comp is not None and comp.reweighted else None,
            "ess": comp.ess if comp is not None and comp.reweighted else None, "forecast_year": after.record.forecast_year}
