"""Compute what the briefing figures show: plain arrays and tables, no plotting, no files written.

Each ``*_results`` function reads the workspace's stored forecast (``store.current``) and,
where needed, the posterior draws of the fit behind it (h5py only), and returns a small
dataclass that ``plots.py`` draws. Intervals are equal-tailed and weighted by the stored
importance weights, exactly as ``forecast show`` computes them (``projection.summarise``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from forecast import LENSES
from forecast.data.loaders import load_dataset
from forecast.store import ledger as L
from forecast.errors import ForecastError
from forecast.model.kernels import ar1_step, lens_from_factors, measurement_logpdf, ordered_logistic_sf
from forecast.model.projection import (
    INTERVAL_TYPE,
    summarise,
    weighted_quantile,
)
from forecast.report.summary import build_report, headline_keys, probability_label
from forecast.store.headline import headline, weights
from forecast.store.posterior import StoredForecast, current, fit_path, forecast_after, read_forecast
from forecast.workspace import Workspace

CHANGE_LABELS = {-2: "sharp deterioration", -1: "deterioration", 0: "no change", 1: "improvement",
                 2: "major improvement"}
KEY_EVENT_MIN_WEIGHT = 0.8   # |catalogue weight| (state sd) for an event to be labelled on a time axis
KEY_EVENT_MIN_GAP = 2        # years between two labelled events, so labels never collide
MAX_KEY_EVENTS = 9


# ----------------------------------------------------------------------------- helpers
def fit_file(ws: Workspace, stored: StoredForecast) -> Path:
    """The posterior file behind a stored forecast (the base fit, or a refit for a ledger head)."""
    return fit_path(ws, stored)


def posterior_vars(path: Path, names) -> dict[str, np.ndarray]:
    """Posterior variables flattened to (draw, ...) via h5py (no ArviZ)."""
    import h5py

    out = {}
    with h5py.File(path, "r") as f:
        g = f["posterior"]
        for v in names:
            if v not in g:
                raise ForecastError(f"{path.name} has no posterior variable '{v}'; it was written by an older "
                                    f"version: re-run 'forecast fit'")
            a = np.asarray(g[v])
            out[v] = a.reshape(a.shape[0] * a.shape[1], *a.shape[2:])
    return out


def weights_of(stored: StoredForecast) -> np.ndarray:
    return weights(stored)


def check_as_of(stored: StoredForecast, as_of: int | None) -> None:
    """``--as-of YEAR``: refuse to draw a fit made as of another year."""
    if as_of is not None and int(stored.record.as_of) != as_of:
        raise ForecastError(f"the stored fit is as of {stored.record.as_of}, not {as_of}: fit as of {as_of} "
                            f"first ('forecast fit --as-of {as_of}', in a copy of the workspace if you want to "
                            f"keep this fit) or omit --as-of")


def _wq(x: np.ndarray, q, w) -> np.ndarray:
    """Weighted quantiles along axis 0 of x (S, ...) -> (len(q), ...)."""
    flat = x.reshape(x.shape[0], -1)
    out = np.stack([weighted_quantile(flat[:, j], q, w) for j in range(flat.shape[1])], axis=1)
    return out.reshape((len(q),) + x.shape[1:])


def humanise(kind: str) -> str:
    return kind.replace("_", " ").replace("legal constitutional barrier", "legal barrier")


# ------------------------------------------------------------------- probabilities
def bounded_density(x: np.ndarray, w: np.ndarray | None, grid: np.ndarray, max_points: int = 2500,
                    seed: int = 0) -> np.ndarray:
    """Weighted Gaussian KDE of probabilities on [0, 1], reflected at both bounds so that mass
    near 0 (settlement) is not lost. Large samples are resampled by weight to ``max_points``."""
    from scipy.stats import gaussian_kde

    x = np.asarray(x, float)
    if w is not None:
        w = np.asarray(w, float) / np.sum(w)
    if len(x) > max_points:
        rng = np.random.default_rng(seed)
        x = rng.choice(x, size=max_points, replace=True, p=w)
        w = None
    if np.ptp(x) <= 1e-12:
        d = np.zeros_like(grid)
        d[np.argmin(np.abs(grid - x[0]))] = 1.0 / (grid[1] - grid[0])
        return d
    k = gaussian_kde(x, weights=w)
    return k(grid) + k(-grid) + k(2.0 - grid)


def density_grid(*arrays, extra=(), n: int = 400) -> np.ndarray:
    """A grid from 0 to a little above the largest 99.5th percentile (or extra marks), capped at 1."""
    top = max([float(np.quantile(a, 0.995)) for a in arrays] + [float(e) for e in extra if e is not None])
    return np.linspace(0.0, min(1.0, 1.12 * top + 0.005), n)


@dataclass
class ProbabilityPanel:
    key: str
    label: str
    posterior: np.ndarray          # per-draw probabilities (S,)
    weights: np.ndarray            # importance weights (S,), sum 1
    summary: dict                  # mean, lo80, hi80, lo95, hi95 (as in 'show')
    prior: np.ndarray              # prior-only per-draw probabilities
    prior_summary: dict
    outside_mean: float | None     # outside-view base rate
    outside_label: str
    grid: np.ndarray | None = None            # probability grid for the densities
    posterior_density: np.ndarray | None = None
    prior_density: np.ndarray | None = None


@dataclass
class ProbabilityResults:
    forecast_year: int
    as_of: int
    preset: str
    panels: list[ProbabilityPanel]
    interval: str = INTERVAL_TYPE


def improvement_base_rate(stored: StoredForecast) -> tuple[float, str]:
    """Historical frequency of coded improvement (change >= +1) in the fitted years."""
    spec = stored.record.spec
    change = np.asarray(spec.change)
    k, n = int((change >= 1).sum()), len(change)
    first = spec.first_year
    return k / n, f"historical frequency {first}-{first + n - 1} ({k} of {n} years)"


def probability_results(ws: Workspace, stored: StoredForecast, n_prior: int = 4000,
                        prior: dict | None = None, outside: dict | None = None) -> ProbabilityResults:
    """Posterior of each headline probability with its prior-only and outside-view counterparts.
    ``prior``/``outside`` may be given precomputed (tests); otherwise computed from the preset."""
    from forecast.model.prior_only import outside_view, prior_forecast

    a = stored.record
    horizons = a.horizons
    if prior is None:
        prior = prior_forecast(ws, a.preset, a.barrier_last, n_draws=n_prior, seed=a.seed, horizons=horizons)
    if outside is None:
        from forecast.model.priors import load_preset

        outside = outside_view(load_preset(ws.priors_dir, a.preset), horizons, seed=a.seed)
    w = weights_of(stored)
    panels = []
    for key in headline_keys(stored):
        if key == "improve_next_year":
            om, ol = improvement_base_rate(stored)
        else:
            om = outside[key]["mean"]
            ol = "ICOW territorial-claims base rate"
        post, pri = np.asarray(stored.draws[key]), np.asarray(prior[key])
        grid = density_grid(post, pri, extra=(om,))
        panels.append(ProbabilityPanel(
            key=key, label=probability_label(key, a.forecast_year), posterior=post,
            weights=w, summary=summarise(post, w), prior=pri,
            prior_summary=summarise(pri), outside_mean=om, outside_label=ol, grid=grid,
            posterior_density=bounded_density(post, w, grid, seed=a.seed),
            prior_density=bounded_density(pri, None, grid, seed=a.seed)))
    return ProbabilityResults(forecast_year=a.forecast_year, as_of=a.as_of, preset=a.preset, panels=panels)


# ------------------------------------------------------------------------ lenses
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
              and e.year == stored.record.forecast_year]
    if not events:
        return []
    post = read_posterior_arrays(fit_file(ws, stored))
    try:
        ev = forecast_year_evidence(stored.record.spec, post, stored.record.noise_floor, events,
                                    Draws.from_posterior(post))
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
    quant = np.moveaxis(_wq(lens, q, w), -1, 1)     # (5, 3, T)
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
        quantiles=quant, mean=mean, future_quantiles=np.moveaxis(_wq(fut, q, wp), -1, 1),
        future_mean=np.tensordot(wp, fut, axes=1).T,
        sides_mean=np.tensordot(w, eta[..., 2:4], axes=1).T,
        forecast_year_state=np.tensordot(w, stored.draws["lens_state_next"], axes=1),
        events=event_marks(ws, int(years[-1]) + 1) if events is None else events, as_of=int(a.as_of), q=q,
        conditioned=len(readings), side_names=(dyad.side_a.name, dyad.side_b.name),
        lens_titles={lens: dyad.lens_text(lens).title for lens in LENSES})


# -------------------------------------------------------------------- trajectory
@dataclass
class UpdatePoint:
    seq: int
    label: str
    applied_utc: str
    after: dict   # key -> {mean, lo80, hi80}


@dataclass
class TrajectoryResults:
    mode: str                         # "history" or "in-sample"
    forecast_year: int
    points: list[UpdatePoint] = field(default_factory=list)              # history mode
    years: np.ndarray | None = None                                    # in-sample mode
    improve: np.ndarray | None = None                                  # (3, T): mean, lo80, hi80
    change: np.ndarray | None = None                                   # (T,) coded change -2..2
    forecast: dict | None = None                                       # the current forecast's summary
    labels: dict = field(default_factory=dict)


def trajectory_results(ws: Workspace, stored: StoredForecast, post: dict | None = None) -> TrajectoryResults:
    """History mode: the headline probabilities after the fit and after every ledger update.
    Without updates: the in-sample yearly P(improvement) since the first coded year, with outcomes."""
    a = stored.record
    fy = a.forecast_year
    labels = {k: probability_label(k, fy) for k in headline_keys(stored)}
    records, _ = L.read(ws)
    base = read_forecast(ws)
    if records:
        pts = [UpdatePoint(0, f"fit ({base.record.created_utc[:10]})", base.record.created_utc, headline(base))]
        for i, r in enumerate(records, start=1):
            if not r.get("after"):
                continue
            if r["op"] == "add":
                e = L.Event.from_dict(r["event"])
                lab = e.label()
            else:
                lab = f"undo {r['id'][:8]}"
            pts.append(UpdatePoint(i, lab, str(r.get("applied_utc", "")), r["after"]))
        return TrajectoryResults(mode="history", forecast_year=fy, points=pts, labels=labels)
    if post is None:
        post = posterior_vars(fit_file(ws, stored), ("improve_logodds", "cutpoints"))
    w = weights_of(stored)
    p = ordered_logistic_sf(post["improve_logodds"], post["cutpoints"][:, 2:3])  # (S, T): P(change >= +1 | year t)
    qs = _wq(p, [0.10, 0.90], w)
    first = a.spec.first_year
    years = np.arange(first, first + p.shape[1])
    return TrajectoryResults(mode="in-sample", forecast_year=fy, years=years,
                             improve=np.vstack([w @ p, qs]), change=np.asarray(a.spec.change),
                             forecast=summarise(stored.draws["improve_next_year"], w), labels=labels)


# ------------------------------------------------------------------------ drivers
@dataclass
class LogOddsState:
    """Posterior-mean log-odds of improvement split by lens: sum(contributions) - threshold."""

    label: str
    contributions: np.ndarray   # (3,) per lens: beta_l * (lens state + coded-event shift)
    threshold: float            # the improvement cutpoint (change >= +1)
    probability: float          # posterior mean P(improvement) in that year

    @property
    def logodds(self) -> float:
        return float(self.contributions.sum() - self.threshold)


@dataclass
class DriverResults:
    old: LogOddsState
    new: LogOddsState
    title: str
    events: list[str] = field(default_factory=list)  # what happened between old and new

    @property
    def steps(self) -> list[tuple[str, float]]:
        """(name, change in log-odds) for each lens, then the threshold."""
        d = [(lens, float(self.new.contributions[i] - self.old.contributions[i])) for i, lens in enumerate(LENSES)]
        return d + [("threshold", -(self.new.threshold - self.old.threshold))]


def forecast_state(ws: Workspace, stored: StoredForecast, label: str) -> LogOddsState:
    w = weights_of(stored)
    cut = posterior_vars(fit_file(ws, stored), ("cutpoints",))["cutpoints"]
    return LogOddsState(label=label, contributions=w @ np.asarray(stored.draws["contribution_improve"]),
                        threshold=float(w @ cut[:, 2]), probability=float(w @ stored.draws["improve_next_year"]))


def year_state(ws: Workspace, stored: StoredForecast, year: int) -> LogOddsState:
    """The in-sample reading of a fitted year (smoothed states and that year's coded events)."""
    first = stored.record.spec.first_year
    post = posterior_vars(fit_file(ws, stored), ("lens_state", "event_shift", "cutpoints", "improve_logodds",
                                                 *(f"beta_{lens}" for lens in LENSES)))
    t = year - first
    beta = np.stack([post[f"beta_{lens}"] for lens in LENSES], axis=1)             # (S, 3)
    contrib = beta * (post["lens_state"][:, :, t] + post["event_shift"][:, :, t])    # (S, 3)
    lp = post["improve_logodds"][:, t]
    if not np.allclose(contrib.sum(1), lp, atol=1e-6):
        raise ForecastError("the stored fit's log-odds do not decompose by lens; re-run 'forecast fit'")
    w = weights_of(stored)
    cut = post["cutpoints"][:, 2]
    return LogOddsState(label=f"{year} (in-sample)", contributions=w @ contrib, threshold=float(w @ cut),
                        probability=float(w @ ordered_logistic_sf(lp, cut)))


DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def resolve_state(ws: Workspace, stored: StoredForecast, ref: str, opt: str) -> tuple[LogOddsState, StoredForecast | None]:
    """``ref``: 'now' (the current forecast), 'fit' (the fit before any update), a fitted year
    (YYYY, in-sample), the forecast year (the current forecast), or a date YYYY-MM-DD (the forecast
    as it stood at the end of that day, from the ledger)."""
    a = stored.record
    fy, first = a.forecast_year, a.spec.first_year
    if ref == "now":
        return forecast_state(ws, stored, f"now: forecast for {fy}"), stored
    if ref == "fit":
        base = read_forecast(ws)
        return forecast_state(ws, base, f"fit: forecast for {fy}"), base
    if re.fullmatch(r"\d{4}", ref):
        y = int(ref)
        if y == fy:
            return forecast_state(ws, stored, f"forecast for {fy}"), stored
        if first <= y <= a.as_of:
            return year_state(ws, stored, y), None
        raise ForecastError(f"{opt} {ref}: a year must be a fitted year {first}-{a.as_of} or the forecast "
                            f"year {fy}")
    if DATE_RE.fullmatch(ref):
        data = L.read_bytes(ws)
        records = L.parse(data)
        created = read_forecast(ws).record.created_utc[:10]
        if created and ref < created and not records:
            raise ForecastError(f"{opt} {ref} is before the stored fit was made ({created})")
        n = sum(1 for r in records if str(r.get("applied_utc", ""))[:10] <= ref)
        sf = forecast_after(ws, n, data)
        return forecast_state(ws, sf, f"{ref}: forecast for {fy}" + (f" ({n} update record(s))" if n else "")), sf
    raise ForecastError(f"{opt} {ref!r} is not understood: use 'now', 'fit', a year YYYY or a date YYYY-MM-DD")


def driver_results(ws: Workspace, stored: StoredForecast, start: str | None = None,
                   end: str | None = None) -> DriverResults:
    """The waterfall from one log-odds state to another. Default: the latest update in force
    (before -> after); with no update, the last fitted year (in-sample) -> the forecast year."""
    if start is None and end is None:
        data = L.read_bytes(ws)
        batch = L.last_batch(data)
        if batch is not None:
            before = forecast_after(ws, batch.start, data)
            events = [e.label() for e in batch.events]
            old = forecast_state(ws, before, "before the latest update")
            new = forecast_state(ws, stored, "after")
            return DriverResults(old, new, "Latest update: " + "; ".join(events), events)
        y = stored.record.as_of
        old, new = year_state(ws, stored, y), forecast_state(ws, stored, f"forecast for {y + 1}")
        return DriverResults(old, new, f"From the last data year {y} to the forecast for {y + 1} (no updates yet)")
    old, _ = resolve_state(ws, stored, start or "fit", "--from")
    new, _ = resolve_state(ws, stored, end or "now", "--to")
    return DriverResults(old, new, f"From {old.label} to {new.label}")


# -------------------------------------------------------------------- diagnostics
DIAG_VARS = ("beta_power", "beta_trust", "beta_leaders", "cutpoints", "state_persistence", "settlement_base_rate",
             "gamma_power", "gamma_trust", "gamma_capacity", "delta_barrier")


@dataclass
class RankPanel:
    name: str
    counts: np.ndarray   # (chains, bins) rank counts
    rhat: float
    ess_bulk: float


@dataclass
class DiagnosticsResults:
    ranks: list[RankPanel]
    table: list[dict]        # rows: name, mean, sd, lo80, hi80, ess_bulk, ess_tail, r_hat
    summary: dict            # the stored diagnostics (as in 'show')
    chains: int
    draws: int
    bins: int


def rank_counts(x: np.ndarray, bins: int) -> np.ndarray:
    """Per-chain histogram of the pooled ranks of a (chain, draw) array (Vehtari et al. 2021)."""
    from scipy.stats import rankdata

    r = rankdata(x.ravel()).reshape(x.shape)
    edges = np.linspace(0.5, x.size + 0.5, bins + 1)
    return np.stack([np.histogram(r[c], edges)[0] for c in range(x.shape[0])])


def diagnostics_results(ws: Workspace, stored: StoredForecast, bins: int = 20, idata=None) -> DiagnosticsResults:
    """Rank histograms and a summary table (ArviZ R-hat/ESS) for the scalar model parameters."""
    import arviz as az

    if idata is None:
        from forecast.store.posterior import load_idata

        idata = load_idata(ws, expect_hash=False)
    post = idata.posterior
    names = [v for v in DIAG_VARS if v in post.data_vars]
    rhat = az.rhat(post[names])
    essb = az.ess(post[names], method="bulk")
    esst = az.ess(post[names], method="tail")
    ranks, table = [], []
    for v in names:
        arr = post[v].values   # (chain, draw, ...)
        extra = arr.shape[2:]
        dims = post[v].dims[2:]
        for idx in np.ndindex(*extra):
            labels = [str(post[v].coords[d].values[i]) if d in post[v].coords else str(i) for d, i in zip(dims, idx)]
            name = v + (f"[{', '.join(labels)}]" if idx else "")
            x = arr[(slice(None), slice(None)) + idx]
            r, eb, et = (float(np.asarray(ds[v].values)[idx]) for ds in (rhat, essb, esst))
            ranks.append(RankPanel(name, rank_counts(x, bins), r, eb))
            lo, hi = np.quantile(x, [0.10, 0.90])
            table.append({"name": name, "mean": float(x.mean()), "sd": float(x.std(ddof=1)), "lo80": float(lo),
                          "hi80": float(hi), "ess_bulk": eb, "ess_tail": et, "r_hat": r})
    return DiagnosticsResults(ranks=ranks, table=table, summary=dict(stored.record.diagnostics),
                              chains=int(post.sizes["chain"]), draws=int(post.sizes["draw"]), bins=bins)


# ------------------------------------------------------------------- entry point
KINDS = ("probabilities", "lenses", "trajectory", "drivers", "diagnostics")


def load_current(ws: Workspace, as_of: int | None = None) -> tuple[StoredForecast, str | None]:
    """The forecast for the ledger head (as 'show' reads it), checked against ``--as-of``."""
    stored, _, warning = current(ws)
    check_as_of(stored, as_of)
    return stored, warning


def compute(kind: str, ws: Workspace, stored: StoredForecast, start: str | None = None, end: str | None = None):
    if kind == "probabilities":
        return probability_results(ws, stored)
    if kind == "lenses":
        return lens_results(ws, stored)
    if kind == "trajectory":
        return trajectory_results(ws, stored)
    if kind == "drivers":
        return driver_results(ws, stored, start, end)
    if kind == "diagnostics":
        return diagnostics_results(ws, stored)
    raise ForecastError(f"unknown plot kind '{kind}': use one of {', '.join(KINDS)}")


def report_for(ws: Workspace, stored: StoredForecast) -> dict:
    """The 'show --json' report for ``stored`` (same function, same numbers)."""
    from forecast.store.posterior import is_stale

    return build_report(stored, stale=is_stale(ws, stored))
