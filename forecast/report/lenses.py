"""``plot lenses``: each lens's state over the fitted years and its projected fan, with the key
events to label (plain arrays; ``plots.py`` draws them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from forecast import LENSES
from forecast.data.loaders import load_dataset
from forecast.errors import ForecastError
from forecast.model.kernels import ar1_step, lens_from_factors, measurement_logpdf
from forecast.defaults import STALE_AFTER_YEARS
from forecast.report.draws import draw_quantiles, fit_file, posterior_vars, weights_of
from forecast.report.readable import humanise
from forecast.store import ledger as L
from forecast.store.posterior import StoredForecast
from forecast.workspace import Workspace

KEY_EVENT_MIN_WEIGHT = 0.8   # |catalogue weight| (state sd) for an event to be labelled on a time axis
KEY_EVENT_MIN_GAP = 2        # years between two labelled events, so labels never collide
MAX_KEY_EVENTS = 9


@dataclass
class EventMark:
    year: int
    date: str
    kind: str
    lens: str
    weight: float
    label: str
    key: bool = False
    from_ledger: bool = False


@dataclass
class LensResults:
    years: np.ndarray                  # (T,) fitted years
    future: np.ndarray                 # (H,) projected years
    quantiles: np.ndarray              # (5, 3, T) q = 2.5, 10, 50, 90, 97.5 %
    mean: np.ndarray                   # (3, T)
    future_quantiles: np.ndarray       # (5, 3, H)
    future_mean: np.ndarray            # (3, H)
    sides_mean: np.ndarray             # (2, T) leaders by side: side a, side b
    forecast_year_state: np.ndarray    # (3,) the lens states of the stored forecast ('show')
    events: list[EventMark]
    as_of: int
    q: tuple = (0.025, 0.10, 0.50, 0.90, 0.975)
    conditioned: int = 0               # forecast-year readings that weight the projected paths
    side_names: tuple = ()             # (side A, side B) display names, from the fit's dyad (workspace.toml)
    lens_titles: dict = field(default_factory=dict)  # lens -> panel title, likewise


def select_key_events(events: list[EventMark]) -> None:
    """Mark the events to label: ledger updates first, then the largest |catalogue weight| (at least
    KEY_EVENT_MIN_WEIGHT; ties: rarer kind, then earlier), never two within KEY_EVENT_MIN_GAP years, at most MAX_KEY_EVENTS."""
    freq: dict[str, int] = {}
    for e in events:
        freq[e.kind] = freq.get(e.kind, 0) + 1
    # ties: the rarer kind first (a one-off barrier before a recurring visit), then the earlier date
    order = sorted(range(len(events)), key=lambda i: (not events[i].from_ledger, -abs(events[i].weight),
                                                      freq[events[i].kind], events[i].date))
    chosen: list[int] = []
    for i in order:
        e = events[i]
        if not e.from_ledger and abs(e.weight) < KEY_EVENT_MIN_WEIGHT:
            continue
        if any(abs(events[j].year - e.year) < KEY_EVENT_MIN_GAP for j in chosen):
            continue
        chosen.append(i)
        if len(chosen) == MAX_KEY_EVENTS:
            break
    for i in chosen:
        events[i].key = True


def event_marks(ws: Workspace, last_year: int) -> list[EventMark]:
    """Seed events (data/events.csv) and ledger events in force, up to ``last_year``."""
    ds = load_dataset(ws.data_dir)
    kinds = {k: (r["lens"], float(r["weight"])) for k, r in ds.event_kinds.iterrows()}
    out = []
    for r in ds.events.itertuples():
        if r.kind in kinds and r.year <= last_year:
            lens, w = kinds[r.kind]
            out.append(EventMark(int(r.year), r.date, r.kind, lens, w, f"{r.year} {humanise(r.kind)}"))
    records, _ = L.read(ws)
    for e in L.active_events(records):
        if e.type == "event" and e.name in kinds and e.year <= last_year:
            lens, w = kinds[e.name]
            out.append(EventMark(e.year, e.date, e.name, lens, w, f"{e.date[:4]} {humanise(e.name)} (update)",
                                 from_ledger=True))
    select_key_events(out)
    return out


def forecast_year_readings(ws: Workspace, stored: StoredForecast) -> list:
    """Indicator readings dated in the forecast year that condition the stored forecast (from the
    ledger), as ``projection.NextYearEvidence.readings``; [] when there are none."""
    from forecast.model.evidence import NeedsRefit, forecast_year_evidence
    from forecast.model.projection import Draws
    from forecast.store.posterior import read_posterior_arrays

    records, _ = L.read(ws)
    events = [e for e in L.active_events(records) if e.type == "indicator"
              and e.year == stored.record.forecast_year and e.name in stored.record.spec.indicators]
    if not events:
        return []
    post = read_posterior_arrays(fit_file(ws, stored))
    try:
        ev = forecast_year_evidence(stored.record.spec, post, stored.record.noise_floor, events,
                                    Draws.of_fit(post, stored.record.spec))
    except NeedsRefit:
        return []
    return [] if ev is None else ev.readings


def lens_results(ws: Workspace, stored: StoredForecast, horizon: int = 10, seed: int | None = None,
                 post: dict | None = None, events: list[EventMark] | None = None, paths: int = 16,
                 readings: list | None = None) -> LensResults:
    """Lens states over the fitted years (posterior) and their AR(1) projection beyond the last
    data year (``paths`` simulated futures per draw), weighted by the stored importance weights.
    Readings dated in the forecast year weight each path by their likelihood, as
    ``projection.project`` does, so the projected fan agrees with the state 'show' reports."""
    a = stored.record
    if post is None:
        post = posterior_vars(fit_file(ws, stored), ("factor_state", "state_persistence"))
    if readings is None:
        readings = forecast_year_readings(ws, stored)
    eta = np.moveaxis(post["factor_state"], 1, -1)  # (S, T, F)
    lens = lens_from_factors(eta)                   # (S, T, 3)
    w = weights_of(stored)
    if len(w) != len(lens):
        raise ForecastError("the stored weights do not match the fit's draws; re-run 'forecast fit'")
    q = (0.025, 0.10, 0.50, 0.90, 0.975)
    quant = np.moveaxis(draw_quantiles(lens, q, w), -1, 1)     # (5, 3, T)
    mean = np.tensordot(w, lens, axes=1).T          # (3, T)
    rng = np.random.default_rng(a.seed if seed is None else seed)
    rho = post["state_persistence"][:, None, :]
    S = len(w)
    state = np.repeat(eta[:, -1:, :], paths, axis=1)  # (S, P, F)
    logw = np.zeros((S, paths))
    fut = []
    for h in range(horizon):
        state = ar1_step(state, rho, rng.standard_normal(state.shape))
        if h == 0:
            for f, a_k, lam, sd, x in readings:
                logw += measurement_logpdf(x, a_k[:, None], lam[:, None], state[..., f], sd[:, None])
        fut.append(lens_from_factors(state))
    fut = np.stack(fut, axis=2).reshape(S * paths, horizon, 3)  # (S * P, H, 3)
    wp = np.exp(logw - logw.max(1, keepdims=True))
    wp = (w[:, None] * wp / wp.sum(1, keepdims=True)).ravel()
    first = a.spec.first_year
    years = np.arange(first, first + lens.shape[1])
    dyad = a.dyad
    return LensResults(
        years=years, future=np.arange(years[-1] + 1, years[-1] + 1 + horizon),
        quantiles=quant, mean=mean, future_quantiles=np.moveaxis(draw_quantiles(fut, q, wp), -1, 1),
        future_mean=np.tensordot(wp, fut, axes=1).T,
        sides_mean=np.tensordot(w, eta[..., 2:4], axes=1).T,
        forecast_year_state=np.tensordot(w, stored.draws["lens_state_next"], axes=1),
        events=event_marks(ws, int(years[-1]) + 1) if events is None else events, as_of=int(a.as_of), q=q,
        conditioned=len(readings), side_names=(dyad.side_a.name, dyad.side_b.name),
        lens_titles={lens: dyad.lens_text(lens).title for lens in LENSES})


# ------------------------------------------------------------------------ freshness of the inputs
@dataclass
class Freshness:
    indicator: str
    lens: str
    unit: str
    last_year: int
    last_value: float
    age: int
    stale: bool
    used: bool
    approximate: bool
    from_ledger: bool
    display_name: str = ""
    role: str = "state"


@dataclass(frozen=True)
class LensStaleness:
    """How old a lens's inputs are: its state indicators the fit uses, and how many of them were
    last observed more than STALE_AFTER_YEARS before the data year ``as_of``."""

    lens: str
    indicators: int
    stale: int
    stale_through: int | None   # the latest last-observed year among the stale ones
    as_of: int


def freshness(ws: Workspace, stored: StoredForecast) -> list[Freshness]:
    """Latest value and its age (years before the fit's data year) for each indicator,
    ledger readings included; stale when older than STALE_AFTER_YEARS."""
    as_of = int(stored.record.as_of)
    used = set(stored.record.indicators_used)
    ds = load_dataset(ws.data_dir)
    meta = {name: r for name, r in ds.meta.iterrows()}
    latest: dict[str, tuple[int, float, bool, bool]] = {}
    for r in ds.values.itertuples():
        if r.indicator in meta and (r.indicator not in latest or r.year >= latest[r.indicator][0]):
            latest[r.indicator] = (int(r.year), float(r.value), bool(r.approximate), False)
    records, _ = L.read(ws)
    for e in L.active_events(records):
        if e.type == "indicator" and e.name in meta and (e.name not in latest or e.year >= latest[e.name][0]):
            latest[e.name] = (e.year, float(e.value), False, True)
    out = []
    for name, m in meta.items():
        if name not in latest:
            continue
        y, v, approx, led = latest[name]
        age = max(0, as_of - y)  # a ledger reading in the forecast year is as fresh as it gets
        out.append(Freshness(name, m["lens"], m["unit"], y, v, age, age > STALE_AFTER_YEARS,
                             name in used or m["role"] != "state", approx, led,
                             display_name=str(m.get("display_name", "") or name), role=str(m["role"])))
    return out


def lens_staleness(fresh: list[Freshness], as_of: int) -> list[LensStaleness]:
    """Per lens (in LENSES order): the state indicators the fit uses and how many are stale."""
    out = []
    for lens in LENSES:
        inputs = [f for f in fresh if f.lens == lens and f.role == "state" and f.used]
        stale = [f for f in inputs if f.stale]
        out.append(LensStaleness(lens, len(inputs), len(stale),
                                 max(f.last_year for f in stale) if stale else None, int(as_of)))
    return out
