"""Padded specs: one model shape for every backtest origin, so one compile serves them all.

An as-of fit (``spec.build_spec``) has as many years, indicators and observed cells as
the data up to its as-of year hold, so each origin of a backtest is a different model
and used to cost a compile (~35 s). ``build_padded_spec`` gives every origin of a
dataset the same shape:

* years: the full range, first to last coded outcome year;
* indicators: every state indicator of ``indicators_meta.csv``, in its order;
* cells: the full indicator x year grid;
* event kinds: the whole catalogue (as before).

What the as-of fit would not see is switched off by 0/1 weights held in ``pm.Data``
(``obs_weight`` per cell, ``year_weight`` per year for the change and settlement
outcomes), and its values are replaced by neutral placeholders (0, "no change", no
settlement, no events, the as-of barrier carried forward), so no later value even
reaches the sampler. Everything per origin is taken from ``build_spec(ds, priors,
as_of)`` itself, so the standardisation (centre and scale from data up to as-of), the
observed values and the outcomes are those of the as-of fit, value for value.

Indicators the as-of fit skips (fewer than ``MIN_OBS_PER_INDICATOR`` points, or no
spread, up to as-of) keep their place with every cell masked and their log loading
fixed at 0: the per-origin ``loading_basis`` (``pm.Data``) spans only the zero-sum
directions of the origin's usable indicators, exactly the as-of fit's basis
(``builder.loading_basis``), padded with zero columns. The coordinates of the padded
columns get a N(0, 1) prior (``loading_active`` = 0) instead of N(0, tau), so they are
independent prior-only parameters without a funnel. A skipped indicator's intercept
and noise are likewise prior-only. Years after as-of enter no term of the density (every
weight masks them), so the posterior up to as-of is the as-of fit's. The fitted years keep the as-of fit's centred coordinates
(``state_basis``: level = mean over the fitted years, Helmert deviations). The deviation
coordinates left over (one per padded year, ``state_future_column``) are independent N(0, 1),
prior-only parameters that keep the shape; the padded years' states hold the state at as-of
(``state_origin``), a placeholder that every weight masks. (Until issue 12's measurement they
held the AR(1) continuation from as-of, built from those coordinates: the same density, but its
rho^h paths cost 40% of a backtest fit's sampling time, 5.8 s against 3.4 s.) The forecast must
be made from the state at ``as_of_index``, never from a padded year.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields

import numpy as np

from forecast import LENSES
from forecast.data.loaders import Dataset
from forecast.defaults import OUTCOME_FORM
from forecast.model.builder import helmert_columns, zero_sum_basis
from forecast.model.priors import PriorSet
from forecast.model.spec import FACTORS, LEADER_FACTORS, ModelSpec, build_spec

NO_CHANGE = 2  # outcome category of "no change" (change + 2), the placeholder of a masked year

# The pm.Data of a padded model: the values that differ between origins (all of the same shape).
DATA_FIELDS = ("obs_value", "obs_weight", "change", "settlement", "barrier", "year_weight", "event_counts",
               "event_log_factorial", "loading_basis", "loading_active", "state_basis", "state_future_column",
               "state_origin",
               "event_model", "event_lag")
# Per-origin values that are not model data (bookkeeping, or not read by the builder).
ORIGIN_FIELDS = ("as_of", "center", "scale", "skipped", "outcome_form")  # the form is read as event_model/lag


def _empty() -> np.ndarray:
    return np.zeros(0)


@dataclass
class PaddedSpec(ModelSpec):
    """A ``ModelSpec`` over the full year range and indicator grid, with masks (see module doc)."""

    obs_weight: np.ndarray = field(default_factory=_empty)      # (N,) 1 = cell seen by the as-of fit
    year_weight: np.ndarray = field(default_factory=_empty)     # (T,) 1 = year <= as_of
    loading_basis: np.ndarray = field(default_factory=_empty)   # (K, C) the origin's zero-sum basis, padded
    loading_active: np.ndarray = field(default_factory=_empty)  # (C,) 1 = a column of the origin's basis
    state_basis: np.ndarray = field(default_factory=_empty)     # (T, T-1) Helmert over the fitted years
    state_future_column: np.ndarray = field(default_factory=_empty)  # (T-1,) 1 = a prior-only column (padded year)
    state_origin: np.ndarray = field(default_factory=_empty)    # (T,) one-hot at as-of

    @property
    def as_of_index(self) -> int:
        """Index into ``years`` of the origin's last fitted year (the projection starts there)."""
        return int(self.as_of - self.years[0])

    def data(self) -> dict[str, np.ndarray]:
        """The model's ``pm.Data`` values for this origin (for ``fitting.draw(..., data=...)``)."""
        return {name: np.asarray(getattr(self, name)) for name in DATA_FIELDS}

    def structure_key(self) -> str:
        """A digest of everything that shapes the compiled model (all but the per-origin data):
        two padded specs with equal keys build the same graph, up to ``pm.Data`` values."""
        h = hashlib.sha256()
        for f in fields(self):
            if f.name in DATA_FIELDS or f.name in ORIGIN_FIELDS:
                continue
            value = getattr(self, f.name)
            if isinstance(value, PriorSet):  # what the graph reads: not file names or rationales
                value = sorted((n, e.distribution, repr(e.params), repr(e.elicit), repr(e.update_with))
                               for n, e in value.priors.items())
            if isinstance(value, np.ndarray):
                h.update(f"{f.name}:{value.dtype.str}:{value.shape}:".encode())
                h.update(np.ascontiguousarray(value).tobytes())
            else:
                h.update(f"{f.name}:{value!r};".encode())
        for name in DATA_FIELDS:
            value = np.asarray(getattr(self, name))
            h.update(f"{name}:{value.dtype.str}:{value.shape};".encode())
        return h.hexdigest()


def padded_loading_basis(indicator_factor: np.ndarray, active: np.ndarray, n_factors: int):
    """(K, C) basis and (C,) column mask: per factor, a block of (indicators of the factor - 1)
    columns whose first (usable indicators - 1) hold ``zero_sum_basis`` over the usable ones, in
    order (the as-of fit's ``builder.loading_basis``), the rest zero."""
    K = len(indicator_factor)
    blocks, flags = [], []
    for f in range(n_factors):
        idx = np.flatnonzero(indicator_factor == f)
        if len(idx) < 2:
            continue
        block = np.zeros((K, len(idx) - 1))
        used = idx[active[idx]]
        if len(used) >= 2:
            block[used, : len(used) - 1] = zero_sum_basis(len(used))
        blocks.append(block)
        flags.append(np.arange(len(idx) - 1) < max(len(used) - 1, 0))
    return np.concatenate(blocks, axis=1), np.concatenate(flags).astype(float)


def padded_state_basis(n: int, T: int) -> dict[str, np.ndarray]:
    """The state coordinates of a padded model with ``n`` fitted years out of ``T`` (the
    ``state_*`` fields of ``PaddedSpec``; see the module doc)."""
    t = np.arange(T)
    basis = np.zeros((T, T - 1))
    basis[:n, : n - 1] = helmert_columns(n)
    return {"state_basis": basis, "state_future_column": (t[1:] >= n).astype(float),
            "state_origin": (t == n - 1).astype(float)}


def build_padded_spec(ds: Dataset, priors: PriorSet, as_of: int, outcome_form: str = OUTCOME_FORM) -> PaddedSpec:
    """The as-of fit's spec (``build_spec(ds, priors, as_of, outcome_form)``) laid out on the full grid of
    ``ds``: years from the first to the last coded outcome year, every state indicator."""
    spec = build_spec(ds, priors, as_of, outcome_form)
    meta = ds.meta
    names = [i for i in meta.index if meta.loc[i, "role"] == "state"]
    first, last = int(spec.years[0]), int(ds.last_outcome_year)
    years = np.arange(first, last + 1)
    T, K, n = len(years), len(names), spec.n_years
    factors, lenses = [], []
    for name in names:
        m = meta.loc[name]
        factor = m["lens"] if m["lens"] != "leaders" else LEADER_FACTORS[ds.sides.index(m["side"])]
        factors.append(FACTORS.index(factor))
        lenses.append(LENSES.index(m["lens"]))
    factors = np.array(factors, dtype=int)
    pos = np.array([names.index(i) for i in spec.indicators], dtype=int)  # as-of indicator -> full index
    active = np.zeros(K, dtype=bool)
    active[pos] = True

    obs_value, obs_weight = np.zeros(K * T), np.zeros(K * T)
    cell = pos[spec.obs_indicator] * T + spec.obs_time
    if len(np.unique(cell)) != len(cell):
        raise ValueError("two readings of one indicator in one year: the padded grid holds one per cell")
    obs_value[cell], obs_weight[cell] = spec.obs_value, 1.0
    center, scale = np.zeros(K), np.ones(K)
    center[pos], scale[pos] = spec.center, spec.scale
    year_weight = (np.arange(T) < n).astype(float)
    change = np.full(T, NO_CHANGE, dtype=spec.change.dtype)
    change[:n] = spec.change
    settlement = np.zeros(T, dtype=spec.settlement.dtype)
    settlement[:n] = spec.settlement
    barrier = np.full(T, spec.barrier[-1])
    barrier[:n] = spec.barrier
    counts = np.zeros((len(spec.event_kinds), T))
    counts[:, :n] = spec.event_counts
    basis, basis_active = padded_loading_basis(factors, active, len(FACTORS))
    return PaddedSpec(
        years=years, as_of=spec.as_of, preset=spec.preset, priors=spec.priors,
        indicators=names, indicator_factor=factors, indicator_lens=np.array(lenses, dtype=int),
        obs_indicator=np.repeat(np.arange(K), T), obs_time=np.tile(np.arange(T), K),
        obs_value=obs_value, center=center, scale=scale,
        direction=np.array([int(meta.loc[i, "direction"]) for i in names]),
        transforms=[meta.loc[i, "transform"] for i in names],
        change=change, settlement=settlement, barrier=barrier, skipped=spec.skipped,
        event_kinds=spec.event_kinds, event_lens=spec.event_lens, event_weight=spec.event_weight,
        event_weight_sd=spec.event_weight_sd, event_counts=counts, outcome_form=spec.outcome_form,
        obs_weight=obs_weight, year_weight=year_weight, loading_basis=basis, loading_active=basis_active,
        **padded_state_basis(n, T),
    )
