"""Compute what the briefing figures show: plain arrays and tables, no plotting, no files written.

Each ``*_results`` function reads the workspace's stored forecast (``store.current``) and,
where needed, the posterior draws of the fit behind it (h5py only), and returns a small
dataclass that ``plots.py`` draws. Intervals are equal-tailed and weighted by the stored
importance weights, exactly as ``forecast show`` computes them (``projection.summarise``).

Entry point of the briefing figures: ``compute(kind)`` dispatches to the module of each kind
(``probabilities.py``, ``lenses.py``, ``history.py`` for trajectory and drivers, ``convergence.py``
for diagnostics); ``draws.py`` reads the stored fit for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from forecast.errors import ForecastError
from forecast.report import PLOT_KINDS
from forecast.report.convergence import diagnostics_results
from forecast.report.draws import check_as_of
from forecast.report.history import driver_results, trajectory_results
from forecast.report.lenses import lens_results
from forecast.report.plots import plot
from forecast.report.probabilities import probability_results
from forecast.report.stamp import FigureFlag, figure_flags, stamp
from forecast.report.summary import build_report
from forecast.store.posterior import StoredForecast, current
from forecast.workspace import Workspace

if TYPE_CHECKING:
    from matplotlib.figure import Figure



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
    raise ForecastError(f"unknown plot kind '{kind}': use one of {', '.join(PLOT_KINDS)}")


def report_for(ws: Workspace, stored: StoredForecast) -> dict:
    """The 'show --json' report for ``stored`` (same function, same numbers)."""
    from forecast.store.posterior import is_stale

    return build_report(stored, stale=is_stale(ws, stored))


@dataclass(frozen=True)
class DrawnFigure:
    """A briefing figure with the warnings stamped on it (``stamp.figure_flags``)."""

    figure: "Figure"
    flags: list[FigureFlag]
    as_of: int
    forecast_year: int


def draw_figure(ws: Workspace, kind: str, start: str | None = None, end: str | None = None,
                as_of: int | None = None) -> DrawnFigure:
    """Compute and draw ``kind`` for the ledger head; a stale fit, failed diagnostics or a ledger
    mismatch is stamped on the figure's face."""
    stored, warning = load_current(ws, as_of)
    report = report_for(ws, stored)
    fig = plot(kind, compute(kind, ws, stored, start, end))
    flags = figure_flags(report, warning)
    stamp(fig, flags)
    return DrawnFigure(fig, flags, report["as_of"], report["forecast_year"])
