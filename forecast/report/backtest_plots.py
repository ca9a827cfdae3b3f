"""The two figures of ``forecast backtest --out DIR``: compute, then plot, then write.

* ``reliability_data`` / ``reliability_figure``: the CORP reliability diagram of the model's
  P(improve): the PAV (isotonic) recalibration curve against the 0/1 outcomes
  (``scoring.reliability``), the diagonal, each forecast at its outcome, the MCB / DSC / UNC
  terms, and climatology's curve for comparison.
* ``cumulative_scores`` / ``cumulative_figure``: the cumulative log score (nats) of the model,
  climatology and persistence over the backtest years (and of ``stacked`` and ``recalibrated``,
  the pre-registered candidates derived from the model's forecasts, when every row has them), and
  the cumulative gain over climatology (up = beats climatology).

The input is the result of ``validate.backtest.run`` (as stored in backtest.json); only
``years``, ``preset`` and the rows' ``year``, ``improved``, ``p_improve`` and
``baselines[name]["p_improve"]`` are read; other baselines (single-lens models, the other outcome
forms) are left out.
``write_backtest_plots`` writes both figures atomically (``report.export.write_file``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecast.defaults import PLOT_DPI
from forecast.errors import ForecastError
from forecast.report import style as S

EPS = 1e-6  # probabilities are clipped to [EPS, 1 - EPS] before logs
METHODS = ("model", "climatology", "persistence")
GAINS = ("model", "persistence")  # cumulative log score of climatology minus that of each
OPTIONAL = ("stacked", "recalibrated")  # drawn (and its gain) when every row has it
LABELS = {"model": "model", "climatology": "climatology (past frequency)",
          "persistence": "persistence (last year's direction)",
          "stacked": "stacked (model + climatology, weight from past years)",
          "recalibrated": "recalibrated (model through a map learned from past years)"}
FILES = ("backtest_reliability", "backtest_cumulative")
SCORE = "log score, nats"
RECALIBRATION = "CORP isotonic recalibration"


@dataclass(frozen=True)
class Recalibration:
    """One method's CORP reliability: the PAV table of ``scoring.reliability`` as a curve (the
    recalibrated value is constant over each block's forecasts, linear between blocks)."""
    x: tuple[float, ...]
    y: tuple[float, ...]
    table: tuple[dict, ...]
    brier: float
    miscalibration: float
    discrimination: float
    uncertainty: float


@dataclass(frozen=True)
class BacktestReliability:
    years: tuple[int, int]
    preset: str
    forecasts: tuple[float, ...]  # the model's P(improve), one per forecast year
    outcomes: tuple[int, ...]     # 1: improved
    model: Recalibration
    climatology: Recalibration


@dataclass(frozen=True)
class CumulativeScores:
    years: tuple[int, ...]                     # forecast years, ascending
    preset: str
    scores: dict[str, tuple[float, ...]]       # method -> -log P(observed outcome) per year (nats)
    cumulative: dict[str, tuple[float, ...]]   # method -> running sum of ``scores``
    gain: dict[str, tuple[float, ...]]         # method -> cumulative(climatology) - cumulative(method)


def _rows(result: dict) -> list[dict]:
    rows = sorted(result.get("rows") or [], key=lambda r: int(r["year"]))
    if not rows:
        raise ForecastError("the backtest result has no rows: nothing to plot")
    return rows


def _probs(rows: list[dict], name: str) -> np.ndarray:
    return np.array([r["p_improve"] if name == "model" else r["baselines"][name]["p_improve"] for r in rows],
                    dtype=float)


def recalibration(p, o) -> Recalibration:
    """The CORP (PAV) recalibration of forecasts ``p`` against 0/1 outcomes ``o``."""
    from forecast.validate import scoring

    rel = scoring.reliability(p, o)
    table = tuple(dict(b) for b in rel["table"])
    x = tuple(v for b in table for v in (b["p_lo"], b["p_hi"]))
    y = tuple(b["observed_frequency"] for b in table for _ in range(2))
    return Recalibration(x, y, table, rel["brier"], rel["miscalibration"], rel["discrimination"], rel["uncertainty"])


def reliability_data(result: dict) -> BacktestReliability:
    """The reliability diagram's numbers: the model's and climatology's recalibration, in year order."""
    rows = _rows(result)
    o = np.array([int(r["improved"]) for r in rows])
    p = _probs(rows, "model")
    return BacktestReliability(tuple(int(y) for y in result["years"]), str(result.get("preset", "")),
                               tuple(float(v) for v in p), tuple(int(v) for v in o),
                               recalibration(p, o), recalibration(_probs(rows, "climatology"), o))


def cumulative_scores(result: dict) -> CumulativeScores:
    """Per-year and cumulative log scores (nats) of model, climatology and persistence, and the gains."""
    rows = _rows(result)
    o = np.array([int(r["improved"]) for r in rows])
    scores, cum = {}, {}
    extra = tuple(n for n in OPTIONAL if rows and all(n in r.get("baselines", {}) for r in rows))
    for name in METHODS + extra:
        p = np.clip(_probs(rows, name), EPS, 1 - EPS)
        s = -np.log(np.where(o == 1, p, 1 - p))
        scores[name] = tuple(float(v) for v in s)
        cum[name] = tuple(float(v) for v in np.cumsum(s))
    gain = {name: tuple(c - m for c, m in zip(cum["climatology"], cum[name])) for name in GAINS + extra}
    return CumulativeScores(tuple(int(r["year"]) for r in rows), str(result.get("preset", "")), scores, cum, gain)


# ---------------------------------------------------------------------- figures
def _figure(height: float, width: float = S.WIDTH):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # the Agg canvas, explicitly: no pyplot, no GUI backend
    return fig


def _span(years) -> str:
    return f"{years[0]}" if years[0] == years[-1] else f"{years[0]}\u2013{years[-1]}"


def reliability_figure(rec: BacktestReliability):
    """CORP reliability diagram of the model's P(improve), climatology's curve lighter; the legend
    and the MCB / DSC / UNC terms in a panel on the right."""
    from matplotlib.ticker import PercentFormatter

    with S.context():
        fig = _figure(S.HEIGHTS["backtest_reliability"])
        ax, side = fig.subplots(1, 2, width_ratios=[2.7, 1.3])
        ax.plot([0, 1], [0, 1], label="perfect reliability\n(diagonal)", **S.DIAGONAL)
        clim = S.METHODS["climatology"]
        ax.plot(rec.climatology.x, rec.climatology.y, color=clim["color"], linestyle=clim["linestyle"],
                linewidth=1.2, alpha=0.7, label="climatology,\nrecalibrated")
        m = S.METHODS["model"]
        ax.plot(rec.model.x, rec.model.y, color=m["color"], linestyle=m["linestyle"], linewidth=2.2,
                label="model, recalibrated")
        o = np.asarray(rec.outcomes)
        jitter = np.random.default_rng(0).uniform(0.008, 0.04, len(o))  # fixed: the same figure every run
        ax.scatter(rec.forecasts, np.where(o == 1, 1 - jitter, jitter), s=14, marker=m["marker"],
                   facecolor="none", edgecolor=m["color"], linewidth=0.8, alpha=0.8,
                   label="model forecast of one\nyear, at its outcome\n(top: improved; jittered)")
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("equal", adjustable="box")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.set_xlabel("forecast P(improve) (%)")
        ax.set_ylabel("observed frequency of improvement,\nrecalibrated (%)")
        ax.set_title(f"{RECALIBRATION} (PAV)", loc="left")
        fig.suptitle(f"Reliability of the model's P(improve), backtest {_span(rec.years)}")
        side.axis("off")
        side.legend(*ax.get_legend_handles_labels(), loc="upper left", fontsize=S.SMALL, borderaxespad=0)
        text = [(f"{len(o)} forecast years, {int(o.sum())} improved\npreset '{rec.preset}'", S.BLACK),
                ("Brier = MCB \u2212 DSC + UNC", S.BLACK)]
        text += [(f"{name}\n  MCB {r.miscalibration:.3f}\n  DSC {r.discrimination:.3f}\n  UNC {r.uncertainty:.3f}"
                  f"\n  Brier {r.brier:.3f}", S.METHODS[name]["color"])
                 for name, r in (("model", rec.model), ("climatology", rec.climatology))]
        text.append(("MCB: miscalibration\n(lower is better)\nDSC: discrimination\n(higher is better)\n"
                     "UNC: uncertainty\n(of the outcomes)", S.GREY))
        y = 0.58
        for line, colour in text:
            t = side.text(0.0, y, line, transform=side.transAxes, va="top", ha="left", fontsize=S.SMALL,
                          color=colour, linespacing=1.25)
            y -= 0.035 * (line.count("\n") + 1) + 0.025
    return fig


def _method_line(ax, years, values, name: str, label: str):
    """One method's line."""
    st = S.METHODS[name]
    ax.plot(years, values, color=st["color"], linestyle=st["linestyle"], marker=st["marker"], markersize=3.5,
            label=label)


def spread_labels(ends: dict[str, float], gap: float) -> dict[str, float]:
    """Heights for the end labels of lines ending at ``ends`` (name -> last value): in the lines' order
    from the bottom, each at least ``gap`` above the one below, the group centred on the values."""
    order = sorted(ends, key=lambda n: ends[n])
    ys = [ends[order[0]]]
    for n in order[1:]:
        ys.append(max(ends[n], ys[-1] + gap))
    shift = float(np.mean([ends[n] for n in order]) - np.mean(ys))
    return {n: y + shift for n, y in zip(order, ys)}


def _end_labels(ax, years, series: dict[str, tuple[float, ...]], signed: bool = False):
    """Each line's last value written at its end, nudged apart so that no two overlap."""
    lo, hi = ax.get_ylim()
    at = spread_labels({n: v[-1] for n, v in series.items()}, 0.045 * (hi - lo))
    for name, values in series.items():
        ax.annotate(f"{values[-1]:+.1f}" if signed else f"{values[-1]:.1f}", (years[-1], values[-1]),
                    xytext=(4, at[name]), textcoords=("offset points", "data"), va="center",
                    fontsize=S.SMALL, color=S.METHODS[name]["color"])


def cumulative_figure(rec: CumulativeScores):
    """Cumulative log score of model, climatology and persistence; and the gain over climatology."""
    from matplotlib.ticker import MaxNLocator

    with S.context():
        fig = _figure(S.HEIGHTS["backtest_cumulative"])
        top, bottom = fig.subplots(2, 1, sharex=True)
        for name in rec.cumulative:
            _method_line(top, rec.years, rec.cumulative[name], name, LABELS[name])
        top.set_ylim(bottom=0)
        top.set_ylabel(f"cumulative {SCORE}")
        top.set_title("Sum over the years of \u2212log P(observed outcome); lower is better", loc="left")
        top.legend(loc="upper left")
        bottom.axhline(0.0, label="climatology (zero line)", **S.DIAGONAL)
        for name in rec.gain:
            _method_line(bottom, rec.years, rec.gain[name], name, LABELS[name].split(" (")[0])
        bottom.set_ylabel(f"cumulative gain ({SCORE})\n\u2191 better than climatology")
        bottom.set_title("Gain over climatology: its cumulative log score minus the method's", loc="left")
        bottom.legend(loc="best")
        bottom.set_xlabel("forecast year (each fitted on data through the year before)")
        bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
        lo, hi = rec.years[0], rec.years[-1]
        bottom.set_xlim(lo - 0.5, hi + 0.5 + 0.08 * max(hi - lo, 1))  # room for the end labels
        _end_labels(top, rec.years, rec.cumulative)
        _end_labels(bottom, rec.years, rec.gain, signed=True)
        fig.suptitle(f"Cumulative log score of P(improve) (nats), backtest {_span(rec.years)}")
    return fig


# ---------------------------------------------------------------------- files
def plot_paths(out_dir, fmt: str) -> tuple[Path, Path]:
    """The two figure files in ``out_dir``: backtest_reliability.FMT and backtest_cumulative.FMT."""
    return tuple(Path(out_dir) / f"{name}.{fmt}" for name in FILES)


def write_backtest_plots(out_dir, result: dict, fmt: str = "png", dpi: int = PLOT_DPI) -> tuple[Path, Path]:
    """Draw both figures of ``result`` and write them atomically into ``out_dir`` (created, with
    its parents, if missing) as FMT (png, svg or pdf). Returns the two paths."""
    from forecast import __version__
    from forecast.report.export import PLOT_FORMATS, figure_writer, write_file

    if fmt not in PLOT_FORMATS:
        raise ForecastError(f"plot format '{fmt}': use one of {', '.join(PLOT_FORMATS)}")
    figures = (reliability_figure(reliability_data(result)), cumulative_figure(cumulative_scores(result)))
    paths = plot_paths(out_dir, fmt)
    for name, fig, path in zip(FILES, figures, paths):
        meta = {"Title": f"forecast backtest: {name}"} if fmt != "png" else {"Software": f"forecast {__version__}"}
        write_file(os.fspath(out_dir), path, figure_writer(fig, fmt, dpi, meta))
    return paths
