"""Turn ledger events into model inputs: merged data for fits, and the pieces the
fast update path needs (changed indicator cells, changed event counts,
forecast-year evidence). numpy/pandas only."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from forecast import LENSES
from forecast.data.events import Event
from forecast.data.loaders import Dataset
from forecast.model.fitspec import FitSpec
from forecast.model.kernels import noise_sd
from forecast.model.projection import Draws, NextYearEvidence
from forecast.model.spec import transform_values


class NeedsRefit(Exception):
    """The fast path cannot represent this evidence (e.g. an indicator the fit skipped)."""


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


def forecast_year_evidence(spec: FitSpec, post: dict, noise_floor: float, events: list[Event], draws: Draws):
    """Readings and coded events dated in the forecast year (as-of + 1), for the projection.
    ``noise_floor``: the indicator noise floor the fit was made with (``FitRecord.noise_floor``)."""
    year = spec.as_of + 1
    readings = [e for e in events if e.type == "indicator" and e.year == year]
    coded = [e for e in events if e.type == "event" and e.year == year]
    if not readings and not coded:
        return None
    ev = NextYearEvidence()
    idx = {n: k for k, n in enumerate(spec.indicators)}
    by_ind: dict[str, list[float]] = {}
    for e in readings:
        if e.name not in idx:
            raise NeedsRefit(f"'{e.name}' was not in the fit (too few values)")
        by_ind.setdefault(e.name, []).append(float(e.value))
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
