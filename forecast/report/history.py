"""How the forecast moved: ``plot trajectory`` (the headline probabilities across the update
history, or in-sample) and ``plot drivers`` (the log-odds waterfall between two states)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np

from forecast import LENSES
from forecast.errors import ForecastError, UsageError
from forecast.model.kernels import ordered_logistic_sf
from forecast.model.projection import IntervalSummary, summarise
from forecast.report.draws import draw_quantiles, fit_file, posterior_vars, weights_of
from forecast.report.readable import display_names, event_label, event_text
from forecast.report.summary import headline_keys, probability_label
from forecast.store import ledger as L
from forecast.store.headline import headline
from forecast.store.posterior import StoredForecast, forecast_after, forecast_on_day, read_forecast
from forecast.workspace import Workspace

CHANGE_LABELS = {-2: "sharp deterioration", -1: "deterioration", 0: "no change", 1: "improvement",
                 2: "major improvement"}


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
    forecast: IntervalSummary | None = None                            # the current forecast's summary
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
        from forecast.data.loaders import load_dataset

        names = display_names(load_dataset(ws.data_dir).meta)
        # dates said for what they are: when the fit was made, when an event happened
        pts = [UpdatePoint(0, f"fit made {base.record.created_utc[:10]}", base.record.created_utc, headline(base))]
        ends = L.update_ends(records)
        added: dict[str, tuple[int, str]] = {}  # add id -> (the point it is drawn at, its event in words)
        undone: list[tuple[int, str]] = []
        for i, r in enumerate(records, start=1):
            if r["op"] == "add":
                e = L.Event.from_dict(r["event"])
                added[r["id"]] = (ends[i - 1], event_text(e, names))
                lab = event_label(e, names)
            else:
                undone += [added[r["id"]]] if r["id"] in added else []
                lab = undo_label(undone)
            if ends[i - 1] != i:  # a batch's result belongs to its last record
                continue
            undone = []
            if r.get("after"):
                pts.append(UpdatePoint(i, lab, str(r.get("applied_utc", "")), r["after"]))
        return TrajectoryResults(mode="history", forecast_year=fy, points=pts, labels=labels)
    if post is None:
        post = posterior_vars(fit_file(ws, stored), ("improve_logodds", "cutpoints"))
    w = weights_of(stored)
    p = ordered_logistic_sf(post["improve_logodds"], post["cutpoints"][:, 2:3])  # (S, T): P(change >= +1 | year t)
    qs = draw_quantiles(p, [0.10, 0.90], w)
    first = a.spec.first_year
    years = np.arange(first, first + p.shape[1])
    return TrajectoryResults(mode="in-sample", forecast_year=fy, years=years,
                             improve=np.vstack([w @ p, qs]), change=np.asarray(a.spec.change),
                             forecast=summarise(stored.draws["improve_next_year"], w), labels=labels)


def undo_label(undone: list[tuple[int, str]]) -> str:
    """An undo in words: the update points it reverts and what they recorded, e.g. 'undo of #1
    (summit held)'; a batch names its point once and its events joined (at most two, then '...')."""
    seqs = sorted({seq for seq, _ in undone})
    what = list(dict.fromkeys(text for _, text in undone))
    if not seqs:
        return "undo"
    more = f" and {len(what) - 2} more" if len(what) > 2 else ""
    return f"undo of {', '.join(f'#{s}' for s in seqs)} ({'; '.join(what[:2])}{more})"


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
        """The posterior mean of the log-odds (the lens contributions minus the cutpoint)."""
        return float(self.contributions.sum() - self.threshold)

    @property
    def effective(self) -> float:
        """logit(probability): the log-odds of the mean probability. It differs from ``logodds``
        because P is averaged over posterior draws (and, for a forecast, simulated futures): a
        wider spread pulls a low probability up and a high one down."""
        p = min(max(self.probability, 1e-12), 1.0 - 1e-12)
        return float(np.log(p / (1.0 - p)))


@dataclass
class DriverResults:
    old: LogOddsState
    new: LogOddsState
    title: str
    events: list[str] = field(default_factory=list)  # what happened between old and new

    @property
    def steps(self) -> list[tuple[str, float]]:
        """(name, change in log-odds) for each lens (its mean contribution), then the threshold (the
        mean cutpoint), then 'spread': the rest of the change in logit(P), from averaging P over the
        draws and futures. They add up from ``old.effective`` to ``new.effective``, so the waterfall
        ends at the probabilities it is labelled with."""
        d = [(lens, float(self.new.contributions[i] - self.old.contributions[i])) for i, lens in enumerate(LENSES)]
        d.append(("threshold", -(self.new.threshold - self.old.threshold)))
        mean_change = self.new.logodds - self.old.logodds
        return d + [("spread", (self.new.effective - self.old.effective) - mean_change)]


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


def check_not_future(day: str, opt: str) -> None:
    """A date YYYY-MM-DD after today (local or UTC, whichever is later) is a usage error: no forecast
    has been made then."""
    today = max(dt.date.today(), dt.datetime.now(dt.timezone.utc).date()).isoformat()
    if day > today:
        raise UsageError(f"{opt} {day} is in the future (today is {today}): use a date up to today")


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
        check_not_future(ref, opt)
        data, records = L.load(ws)
        sf, n = forecast_on_day(ws, ref, data, records)
        if sf is None:
            created = read_forecast(ws).record.created_utc[:10]
            raise ForecastError(f"{opt} {ref}: no forecast is stored from before the stored fit was made "
                                f"({created}); use a date from {created} on, 'fit' or a fitted year")
        return forecast_state(ws, sf, f"{ref}: forecast for {fy}" + (f" ({n} update record(s))" if n else "")), sf
    raise ForecastError(f"{opt} {ref!r} is not understood: use 'now', 'fit', a year YYYY or a date YYYY-MM-DD")


def driver_results(ws: Workspace, stored: StoredForecast, start: str | None = None,
                   end: str | None = None) -> DriverResults:
    """The waterfall from one log-odds state to another. Default: the latest update in force
    (before -> after); with no update, or when the stored fit already includes the latest update (the
    forecast before it is no longer stored), the last fitted year (in-sample) -> the forecast year."""
    if start is None and end is None:
        data, records = L.load(ws)
        batch = L.last_batch(data, records)
        before = forecast_after(ws, batch.start, data) if batch is not None else None
        if before is not None:
            from forecast.data.loaders import load_dataset

            names = display_names(load_dataset(ws.data_dir).meta)
            events = [event_label(e, names) for e in batch.events]
            old = forecast_state(ws, before, "before the latest update")
            new = forecast_state(ws, stored, "after")
            return DriverResults(old, new, "Latest update: " + "; ".join(events), events)
        y = stored.record.as_of
        old, new = year_state(ws, stored, y), forecast_state(ws, stored, f"forecast for {y + 1}")
        why = "no updates yet" if batch is None else "the fit includes the latest update"
        return DriverResults(old, new, f"From the last data year {y} to the forecast for {y + 1} ({why})")
    old, _ = resolve_state(ws, stored, start or "fit", "--from / start=")
    new, _ = resolve_state(ws, stored, end or "now", "--to / end=")
    return DriverResults(old, new, f"From {old.label} to {new.label}")
