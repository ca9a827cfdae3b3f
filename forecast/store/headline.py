"""The headline numbers of a stored forecast, as ``forecast show`` reports them.

The ledger records them after every update and undo, ``update`` compares them before and
after, and ``report.summary.build_report`` prints them: one computation for all three.
numpy only.
"""

from __future__ import annotations

import numpy as np

from forecast import LENSES
from forecast.errors import StoredFileError
from forecast.model.projection import IntervalSummary, summarise
from forecast.store.posterior import StoredForecast


def weights(stored: StoredForecast) -> np.ndarray:
    """The stored importance weights (every stored forecast holds them: ``store.integrity``)."""
    w = stored.draws.get("weight")
    if w is None:
        raise StoredFileError("the stored forecast has no 'weight' dataset; run 'forecast fit' to store it afresh")
    return np.asarray(w, float)


def probabilities(stored: StoredForecast) -> dict[str, IntervalSummary]:
    """Each headline probability's weighted mean and equal-tailed intervals (``projection.summarise``)."""
    w = weights(stored)
    return {k: summarise(stored.draws[k], w) for k in stored.record.headline_keys if k in stored.draws}


def headline(stored: StoredForecast) -> dict[str, dict]:
    """Mean and 80% interval of each headline probability (what the ledger records)."""
    return {k: v.headline() for k, v in probabilities(stored).items()}


def contributions(stored: StoredForecast) -> dict[str, float]:
    """Each lens's weighted-mean contribution to the log-odds of improvement in the forecast year."""
    w = weights(stored)
    c = stored.draws["contribution_improve"]
    return {lens: float(np.tensordot(w, c[:, i], axes=1)) for i, lens in enumerate(LENSES)}
