"""The reference model's design: covariates, their transforms and standardisation, and eras.

Shared by the builder (``fit``), the prediction (``predict``) and the claim terms (``claim_terms``), so a
covariate is computed one way everywhere. Pure numpy/pandas (no PyMC import).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.defaults import REFERENCE_ERA_EDGES
from forecast.errors import ForecastError

# The covariates X of the hazard, in the order of ``beta``. Each is a column of the claim-years
# frame (Interface A); those in LOG1P enter as log1p(value) (counts, and duration), then every one
# is standardised with the training rows' mean and sd.
COVARIATES = ("log_cinc_ratio", "d_log_cinc_ratio10", "recyes10", "recno10", "attempt_lag", "recmid10",
              "recmidwt", "ratfail10", "icowsal", "salint", "duration")
LOG1P = frozenset({"recyes10", "recno10", "recmid10", "recmidwt", "ratfail10", "duration"})
# Covariates that ICOW computes for year t from the years t-10..t-1 (data/reference/SOURCES.md): a row's
# values of these are known at the end of the year before it (the "updated-lags" backtest protocol).
LAG_WINDOW = ("attempt_lag", "recyes10", "recno10", "recmid10", "recmidwt", "ratfail10")
KEYS = ("claim", "year")


class ReferenceDataError(ForecastError):
    """Claim-years that the reference model cannot use (no rows, no settlement, years before 1816)."""


def era_index(years, edges=REFERENCE_ERA_EDGES) -> np.ndarray:
    """Era of each year: k for edges[k] <= year < edges[k+1]; years from the last edge on are era
    len(edges) - 1 (the era after the data)."""
    years = np.asarray(years, dtype=np.int64)
    if years.size and years.min() < edges[0]:
        raise ReferenceDataError(f"year {int(years.min())} is before the first era edge {edges[0]}; "
                                 f"the reference model covers {edges[0]} on")
    return np.searchsorted(np.asarray(edges), years, side="right") - 1


def raw_covariates(frame: pd.DataFrame, duration=None) -> np.ndarray:
    """(rows, covariates) before standardisation: LOG1P columns as log1p; ``duration`` (optional,
    per row) replaces the frame's duration column. Missing values stay NaN."""
    missing = [c for c in COVARIATES if c not in frame.columns]
    if missing:
        raise ReferenceDataError(f"claim-years frame lacks the covariate column(s) {', '.join(missing)}; "
                                 f"build it with forecast.data.claims (Interface A columns)")
    cols = []
    for name in COVARIATES:
        v = np.asarray(frame[name], dtype=float) if name != "duration" or duration is None \
            else np.asarray(duration, dtype=float)
        cols.append(np.log1p(v) if name in LOG1P else v)
    return np.column_stack(cols) if cols else np.empty((len(frame), 0))


def lag_window_covariates(frame: pd.DataFrame, center: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray,
                                                                                             np.ndarray]:
    """(column positions in COVARIATES, (rows, LAG_WINDOW) standardised values) of the lag-window covariates
    of ``frame``'s rows, transformed and standardised as ``raw_covariates`` and ``standardise`` do."""
    missing = [c for c in LAG_WINDOW if c not in frame.columns]
    if missing:
        raise ReferenceDataError(f"lag-window rows lack the column(s) {', '.join(missing)}")
    pos = np.array([COVARIATES.index(c) for c in LAG_WINDOW], dtype=np.int64)
    raw = np.column_stack([np.log1p(np.asarray(frame[c], dtype=float)) if c in LOG1P
                           else np.asarray(frame[c], dtype=float) for c in LAG_WINDOW])
    return pos, standardise(raw, center[pos], scale[pos])


def standardisation(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training mean and sd (population) of each covariate, ignoring NaN; a constant covariate gets sd 1."""
    center = np.nanmean(raw, axis=0)
    scale = np.nanstd(raw, axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    return np.where(np.isfinite(center), center, 0.0), scale


def standardise(raw: np.ndarray, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(raw - center) / scale; a missing value becomes 0 (the training mean)."""
    x = (raw - center) / scale
    return np.where(np.isfinite(x), x, 0.0)


def training_rows(frame: pd.DataFrame, origin: int | None) -> pd.DataFrame:
    """The rows a fit with ``origin`` learns from: year < origin (all rows when None), sorted by key."""
    rows = frame if origin is None else frame[frame["year"] < origin]
    return rows.sort_values(list(KEYS)).reset_index(drop=True)


def levels_index(values, levels: tuple[str, ...]) -> np.ndarray:
    """Index of each value in ``levels``; -1 when it is not one of them."""
    lookup = {v: i for i, v in enumerate(levels)}
    return np.array([lookup.get(v, -1) for v in values], dtype=np.int64)
