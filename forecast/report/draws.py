"""The stored fit behind a forecast, read for the briefing analyses (h5py only, no ArviZ).

Shared by ``probabilities.py``, ``lenses.py`` and ``history.py``: the posterior file of a stored
forecast, its variables flattened to draws, its importance weights and weighted quantiles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from forecast.errors import ForecastError
from forecast.model.projection import weighted_quantile
from forecast.store.headline import weights
from forecast.store.posterior import StoredForecast, fit_path, read_posterior_arrays
from forecast.workspace import Workspace


def fit_file(ws: Workspace, stored: StoredForecast) -> Path:
    """The posterior file behind a stored forecast (the base fit, or a refit for a ledger head)."""
    return fit_path(ws, stored)


def posterior_vars(path: Path, names) -> dict[str, np.ndarray]:
    """Posterior variables flattened to (draw, ...) via h5py (no ArviZ), checked against the file's
    checksum (``store.posterior.read_posterior_arrays``)."""
    return {v: a.reshape(a.shape[0] * a.shape[1], *a.shape[2:])
            for v, a in read_posterior_arrays(path, tuple(names)).items()}


def weights_of(stored: StoredForecast) -> np.ndarray:
    return weights(stored)


def check_as_of(stored: StoredForecast, as_of: int | None) -> None:
    """``--as-of YEAR``: refuse to draw a fit made as of another year."""
    if as_of is not None and int(stored.record.as_of) != as_of:
        raise ForecastError(f"the stored fit is as of {stored.record.as_of}, not {as_of}: fit as of {as_of} "
                            f"first ('forecast fit --as-of {as_of}', in a copy of the workspace if you want to "
                            f"keep this fit) or omit --as-of")


def draw_quantiles(x: np.ndarray, q, w) -> np.ndarray:
    """Weighted quantiles along axis 0 of x (S, ...) -> (len(q), ...)."""
    flat = x.reshape(x.shape[0], -1)
    out = np.stack([weighted_quantile(flat[:, j], q, w) for j in range(flat.shape[1])], axis=1)
    return out.reshape((len(q),) + x.shape[1:])
