"""Turn ledger events into model inputs: merged data for fits, and the pieces the
fast update path needs (changed indicator cells, changed event counts,
forecast-year evidence). numpy/pandas only."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecast import LENSES
from forecast.data.events import Event
from forecast.data.loaders import Dataset
from forecast.model.fitspec import FitSpec
from forecast.model.kernels import noise_sd
from forecast.model.projection import Draws, NextYearEvidence
from forecast.model.spec import barrier_in_force, barrier_values, transform_values


class NeedsRefit(Exception):
    """The fast path cannot represent this evidence (e.g. an indicator the fit skipped)."""


@dataclass(frozen=True)
class BarrierState:
    """The barrier indicators (role 'barrier') and the value each has in force in the as-of year
    (0..1, carried forward as in ``spec.barrier_values``): a barrier reading dated in the forecast
    year replaces its indicator's value there, and the barrier in force is the largest."""

    last: dict[str, float]

    @classmethod
    def of(cls, ds: Dataset, first_year: int, as_of: int) -> "BarrierState":
        """From ``ds`` (with the ledger's events up to ``as_of`` merged in, as the fit saw it)."""
        series = barrier_values(ds, np.arange(first_year, as_of + 1))
        return cls(last={name: float(s[-1]) for name, s in series.items()})

    def next_year(self, readings: dict[str, list[float]]) -> float:
        """The barrier in force in the forecast year given that year's readings per barrier indicator
        (several readings of one indicator aggregate by their mean, as ``merge_events`` does)."""
        values = dict(self.last)
        for name, vals in readings.items():
            values[name] = float(np.clip(np.mean(vals), 0, 1))
        return max(values.values(), default=0.0)


def not_in_fit(name: str) -> NeedsRefit:
    return NeedsRefit(f"'{name}' was not in the fit (a state indicator with too few values or none varying)")


def barrier_changes(first_year: int, as_of: int, old: Dataset, new: Dataset) -> list[int]:
    """The fitted years whose legal barrier (as the model sees it) differs between ``old`` and ``new``."""
    years = np.arange(first_year, as_of + 1)
    a = barrier_in_force(barrier_values(old, years), len(years))
    b = barrier_in_force(barrier_values(new, years), len(years))
    return [int(y) for y in years[a != b]]


def flat(a: np.ndarray) -> np.ndarray:
    """(chain, draw, ...) -> (chain * draw, ...)."""
    return a.reshape(a.shape[0] * a.shape[1], *a.shape[2:])


def merge_events(ds: Dataset, events: list[Event], last_year: int) -> Dataset:
    """Dataset with ledger readings and events dated up to ``last_year`` folded in.

    Several readings of one indicator in one year aggregate (mean) into that year's
    value, together with the table's value for that year if it has one."""
    readings = [e for e in events if e.type == "indicator" and e.year <= last_year]
    coded = [e for e in events if e.type == "event" and e.year <= last_year]
    values = ds.values
    if readings:
        new = pd.DataFrame({"year": [e.year for e in readings], "indicator": [e.name for e in readings],
                            "value": [float(e.value) for e in readings],
                            "source": [e.source for e in readings], "approximate": False})
        both = pd.concat([values, new], ignore_index=True)
        values = (both.groupby(["indicator", "year"], as_index=False, sort=True)
                  .agg(value=("value", "mean"), source=("source", " | ".join),
                       approximate=("approximate", "any")))
        values = values[list(ds.values.columns)].astype(ds.values.dtypes.to_dict())
    evs = ds.events
    if coded:
        new = pd.DataFrame({"date": [e.date for e in coded], "year": [e.year for e in coded],
                            "kind": [e.name for e in coded], "source": [e.source for e in coded],
                            "note": [e.note for e in coded]})
        evs = pd.concat([evs, new], ignore_index=True).astype({"year": "int64"})
    return replace(ds, values=values, events=evs)


def standardise(spec: FitSpec, k: int, value: float) -> float:
    x = transform_values(np.array([value]), spec.transform[k])[0]
    return float(spec.direction[k] * (x - spec.center[k]) / spec.scale[k])


def cells(spec: FitSpec, ds: Dataset) -> dict[tuple[int, int], float]:
    """Standardised cells (indicator index, time index) -> value, for the fit's indicators and years."""
    first, as_of = spec.first_year, spec.as_of
    idx = {name: k for k, name in enumerate(spec.indicators)}
    v = ds.values[(ds.values["year"] >= first) & (ds.values["year"] <= as_of)]
    out = {}
    for name, year, value in zip(v["indicator"], v["year"], v["value"]):
        if name in idx:
            k = idx[name]
            out[(k, int(year) - first)] = standardise(spec, k, float(value))
    return out


def event_counts(spec: FitSpec, ds: Dataset) -> np.ndarray:
    first, as_of = spec.first_year, spec.as_of
    kinds = {k: i for i, k in enumerate(spec.event_kinds)}
    counts = np.zeros((len(kinds), as_of - first + 1))
    ev = ds.events[(ds.events["year"] >= first) & (ds.events["year"] <= as_of)]
    for kind, year in zip(ev["kind"], ev["year"]):
        counts[kinds[kind], year - first] += 1
    return counts


def forecast_year_evidence(spec: FitSpec, post: dict, noise_floor: float, events: list[Event], draws: Draws,
                           barriers: BarrierState | None = None):
    """Readings and coded events dated in the forecast year (as-of + 1), for the projection.
    ``noise_floor``: the indicator noise floor the fit was made with (``FitRecord.noise_floor``).
    ``barriers``: the barrier indicators in force at the as-of year; a reading of one of them sets the
    barrier in force over the projection (``NextYearEvidence.barrier``). Without it such a reading,
    like one of an indicator the fit skipped, raises ``NeedsRefit``."""
    year = spec.as_of + 1
    readings = [e for e in events if e.type == "indicator" and e.year == year]
    coded = [e for e in events if e.type == "event" and e.year == year]
    if not readings and not coded:
        return None
    ev = NextYearEvidence()
    idx = {n: k for k, n in enumerate(spec.indicators)}
    by_ind: dict[str, list[float]] = {}
    by_barrier: dict[str, list[float]] = {}
    for e in readings:
        if e.name in idx:
            by_ind.setdefault(e.name, []).append(float(e.value))
        elif barriers is not None and e.name in barriers.last:
            by_barrier.setdefault(e.name, []).append(float(e.value))
        else:
            raise not_in_fit(e.name)
    if by_barrier:
        ev.barrier = barriers.next_year(by_barrier)
    for name, vals in by_ind.items():
        k = idx[name]
        x = standardise(spec, k, float(np.mean(vals)))
        ev.readings.append((spec.indicator_factor[k], flat(post["indicator_intercept"])[:, k],
                            flat(post["loading"])[:, k],
                            noise_sd(flat(post["indicator_noise"])[:, k], noise_floor), x))
    if coded:
        kinds = {k: i for i, k in enumerate(spec.event_kinds)}
        shift = np.zeros((draws.rho.shape[0], len(LENSES)))
        counts = np.zeros(len(kinds))
        for e in coded:
            i = kinds[e.name]
            shift[:, spec.event_lens[i]] += draws.event_effect[:, i]
            counts[i] += 1
        ev.shift, ev.counts, ev.known = shift, counts, counts > 0
    return ev
