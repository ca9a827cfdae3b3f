"""The plain model specification: data arrays, index maps and priors.

Nothing here imports PyMC. ``build_spec`` turns a validated dataset and a prior
set into arrays the model builder (``model.py``) and the numpy projection
(``projection.py``) both read. Standardisation uses data up to ``as_of`` only,
so an as-of fit never sees the future.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from forecast import LENSES
from forecast.data.loaders import Dataset
from forecast.defaults import MIN_FITTED_YEARS, OUTCOME_FORM, OUTCOME_FORMS
from forecast.errors import ForecastError
from forecast.model.kernels import event_sign, log_factorial, outcome_switches
from forecast.model.priors import PriorSet

# Latent factors: one per lens, except that the leaders lens has one per side,
# because ratification happens at two domestic tables (Putnam). Side A and side B
# are the workspace's two countries, in the order the workspace names them.
LEADER_FACTORS = ("leaders_side_a", "leaders_side_b")
FACTORS = ("power", "trust", *LEADER_FACTORS)
MIN_OBS_PER_INDICATOR = 3


def transform_values(values: np.ndarray, transform: str) -> np.ndarray:
    if transform == "log":
        return np.log(values)
    if transform == "logit_pct":
        p = values / 100.0
        return np.log(p / (1 - p))
    if transform == "logit":
        return np.log(values / (1 - values))
    return values.astype(float)


@dataclass
class ModelSpec:
    """Everything the model needs, as plain arrays."""

    years: np.ndarray                 # (T,)
    as_of: int
    preset: str
    priors: PriorSet
    indicators: list[str]             # (K,) state indicators used
    indicator_factor: np.ndarray      # (K,) index into FACTORS
    indicator_lens: np.ndarray        # (K,) index into LENSES
    obs_indicator: np.ndarray         # (N,) index into indicators
    obs_time: np.ndarray              # (N,) index into years
    obs_value: np.ndarray             # (N,) standardised, direction-aligned values
    center: np.ndarray                # (K,) mean of transformed values (<= as_of)
    scale: np.ndarray                 # (K,) sd of transformed values (<= as_of)
    direction: np.ndarray             # (K,)
    transforms: list[str]             # (K,)
    change: np.ndarray                # (T,) outcome category 0..4 (change + 2)
    settlement: np.ndarray            # (T,)
    barrier: np.ndarray               # (T,) legal barrier in force (0..1)
    event_kinds: list[str] = field(default_factory=list)   # (E,) the catalogue
    event_lens: np.ndarray = field(default_factory=lambda: np.zeros(0, int))   # (E,) index into LENSES
    event_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))      # (E,) prior mean
    event_weight_sd: np.ndarray = field(default_factory=lambda: np.zeros(0))   # (E,) prior sd
    event_counts: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (E, T) events per year
    skipped: list[str] = field(default_factory=list)  # indicators with too few points
    outcome_form: str = OUTCOME_FORM  # how the forecast year's events enter (defaults.OUTCOME_FORMS)

    @property
    def n_years(self) -> int:
        return len(self.years)

    @property
    def event_model(self) -> float:
        """1.0 when the event counts are observations of the lens states (forms joint, joint_lag)."""
        return outcome_switches(self.outcome_form)[0]

    @property
    def event_lag(self) -> float:
        """1.0 when last year's event shift enters the outcome (form joint_lag)."""
        return outcome_switches(self.outcome_form)[1]

    @property
    def event_log_factorial(self) -> np.ndarray:
        """(E, T) log n! of the event counts (the model's ``event_log_factorial`` data)."""
        return log_factorial(self.event_counts)

    @property
    def event_sign(self) -> np.ndarray:
        """(E,) +1 for a cooperative kind, -1 for a hostile one (sign of the catalogue weight)."""
        return event_sign(self.event_weight)




def build_spec(ds: Dataset, priors: PriorSet, as_of: int | None = None,
               outcome_form: str = OUTCOME_FORM) -> ModelSpec:
    if outcome_form not in OUTCOME_FORMS:
        raise ForecastError(f"unknown outcome form '{outcome_form}': choose one of {', '.join(OUTCOME_FORMS)}")
    first = int(ds.outcomes["year"].min())
    low = first + MIN_FITTED_YEARS - 1
    last = ds.last_outcome_year
    if as_of is None:
        as_of = last
    if as_of > last:
        raise ForecastError(f"--as-of {as_of} is after the last coded outcome year {last} "
                            f"(outcomes.csv); use a year from {low} to {last}")
    if as_of < low:
        raise ForecastError(f"--as-of {as_of} leaves fewer than {MIN_FITTED_YEARS} coded years (data begin in "
                            f"{first}); use a year from {low} to {last}")
    years = np.arange(first, as_of + 1)
    vals = ds.values[(ds.values["year"] >= first) & (ds.values["year"] <= as_of)]
    meta = ds.meta

    state_inds = [i for i in meta.index if meta.loc[i, "role"] == "state"]
    indicators, skipped = [], []
    obs_i, obs_t, obs_v, centers, scales, dirs, factors, lenses = [], [], [], [], [], [], [], []
    transforms = []
    for ind in state_inds:
        m = meta.loc[ind]
        rows = vals[vals["indicator"] == ind]
        if len(rows) < MIN_OBS_PER_INDICATOR:
            skipped.append(ind)
            continue
        x = transform_values(rows["value"].to_numpy(float), m["transform"])
        mu, sd = float(x.mean()), float(x.std(ddof=1))
        if not sd > 0:
            skipped.append(ind)
            continue
        k = len(indicators)
        indicators.append(ind)
        centers.append(mu)
        scales.append(sd)
        dirs.append(int(m["direction"]))
        transforms.append(m["transform"])
        factor = m["lens"] if m["lens"] != "leaders" else LEADER_FACTORS[ds.sides.index(m["side"])]
        factors.append(FACTORS.index(factor))
        lenses.append(LENSES.index(m["lens"]))
        obs_i.extend([k] * len(rows))
        obs_t.extend((rows["year"].to_numpy() - first).tolist())
        obs_v.extend((m["direction"] * (x - mu) / sd).tolist())
    for f, fname in enumerate(FACTORS):
        if f not in factors:
            raise ForecastError(f"no usable indicator for '{fname}' up to {as_of}: each needs at least "
                                f"{MIN_OBS_PER_INDICATOR} values; choose a later --as-of")

    barrier = barrier_in_force(barrier_values(ds, years), len(years))

    kinds = ds.event_kinds
    ev = ds.events[(ds.events["year"] >= first) & (ds.events["year"] <= as_of)]
    counts = np.zeros((len(kinds), len(years)))
    for kind, year in zip(ev["kind"], ev["year"]):
        counts[kinds.index.get_loc(kind), year - first] += 1

    out = ds.outcomes.set_index("year").reindex(years)
    return ModelSpec(
        years=years, as_of=as_of, preset=priors.preset, priors=priors,
        indicators=indicators,
        indicator_factor=np.array(factors, dtype=int), indicator_lens=np.array(lenses, dtype=int),
        obs_indicator=np.array(obs_i, dtype=int), obs_time=np.array(obs_t, dtype=int),
        obs_value=np.array(obs_v, dtype=float),
        center=np.array(centers), scale=np.array(scales), direction=np.array(dirs), transforms=transforms,
        change=(out["change"].to_numpy(int) + 2), settlement=out["settlement"].to_numpy(int),
        barrier=barrier, skipped=skipped,
        event_kinds=list(kinds.index), event_lens=np.array([LENSES.index(x) for x in kinds["lens"]], dtype=int),
        event_weight=kinds["weight"].to_numpy(float), event_weight_sd=kinds["weight_sd"].to_numpy(float),
        event_counts=counts, outcome_form=outcome_form,
    )


def barrier_values(ds: Dataset, years: np.ndarray) -> dict[str, np.ndarray]:
    """Each barrier indicator's (role 'barrier') series over ``years``: its values clipped to 0..1,
    carried forward over missing years, 0 before its first value in ``years``."""
    vals = ds.values[(ds.values["year"] >= years[0]) & (ds.values["year"] <= years[-1])]
    out = {}
    for ind in ds.meta.index[ds.meta["role"] == "barrier"]:
        rows = vals[vals["indicator"] == ind].set_index("year")["value"]
        out[ind] = np.clip(rows.reindex(years).ffill().fillna(0.0).to_numpy(float), 0, 1)
    return out


def barrier_in_force(by_indicator: dict[str, np.ndarray], n: int) -> np.ndarray:
    """(n,) the legal barrier the model sees: the largest of the barrier indicators (0 without any)."""
    barrier = np.zeros(n)
    for series in by_indicator.values():
        barrier = np.maximum(barrier, series)
    return barrier
