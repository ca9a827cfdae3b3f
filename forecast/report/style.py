"""The one style module for every briefing figure: palette, line styles, hatches, fonts, sizes.

Colours are Okabe & Ito's colour-blind-safe palette. Series that must be told apart are
chosen to differ in lightness too, and always also differ in line style, marker or hatch,
so a figure printed in grey still reads. Styling is applied through ``context()``, a
matplotlib ``rc_context``: nothing is changed globally at import, and plot functions hold
no colours, fonts or sizes of their own.
"""

from __future__ import annotations

from contextlib import contextmanager

# Okabe & Ito (2008), "Color Universal Design"
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#777777"
LIGHT_GREY = "#D9D9D9"

# lenses: dark / light / mid in grey (luminance 0.34 / 0.64 / 0.47), and solid / dashed / dash-dot
# lines, o / s / ^ markers
LENS = {
    "power": {"color": BLUE, "linestyle": "-", "marker": "o", "hatch": ""},
    "trust": {"color": ORANGE, "linestyle": "--", "marker": "s", "hatch": "//"},
    "leaders": {"color": VERMILLION, "linestyle": "-.", "marker": "^", "hatch": ".."},
}
SIDES = {"side_a": {"color": BLACK, "linestyle": ":"}, "side_b": {"color": SKY_BLUE, "linestyle": (0, (5, 1.5))}}

POSTERIOR = {"color": BLUE, "alpha_band": 0.30, "alpha_inner": 0.55, "linestyle": "-"}
PRIOR = {"color": ORANGE, "alpha": 0.35, "hatch": "xx", "linestyle": "--"}
OUTSIDE = {"color": BLACK, "linestyle": ":", "linewidth": 1.6}
BASE_RATE = {"color": "#7f7f7f", "linestyle": "-.", "linewidth": 1.4}
UP = {"color": GREEN, "hatch": "//"}
DOWN = {"color": VERMILLION, "hatch": "\\\\"}
TOTAL = {"color": GREY, "hatch": ""}
EVENT_UP = {"color": GREEN, "marker": "^"}
EVENT_DOWN = {"color": VERMILLION, "marker": "v"}
# backtest figures: the model and the two baselines it must beat (colour, line style and marker differ)
METHODS = {
    "model": {"color": BLUE, "linestyle": "-", "marker": "o"},
    "climatology": {"color": GREY, "linestyle": "--", "marker": "s"},
    "persistence": {"color": ORANGE, "linestyle": "-.", "marker": "^"},
    "stacked": {"color": PURPLE, "linestyle": ":", "marker": "D"},
    "recalibrated": {"color": GREEN, "linestyle": (0, (5, 1.5)), "marker": "v"},
}
DIAGONAL = {"color": BLACK, "linestyle": ":", "linewidth": 1.0}
FAIL = VERMILLION
OK = GREEN

# sizes (inches): A4 text width is about 6.3 in; the same figures scale up cleanly on a slide
WIDTH = 6.5
A4 = (8.27, 11.69)
HEIGHTS = {"probabilities": 5.6, "lenses": 7.6, "trajectory": 5.2, "drivers": 4.4, "diagnostics": 9.4,
           "backtest_reliability": 4.6, "backtest_cumulative": 6.4}
DEFAULT_DPI = 200

BAND_80 = "80% equal-tailed interval"
BAND_95 = "95% equal-tailed interval"

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.0,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "figure.titlesize": 11.5,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "lines.linewidth": 1.6,
    "hatch.linewidth": 0.6,
    "figure.dpi": 100,
    "savefig.dpi": DEFAULT_DPI,
    "savefig.bbox": "standard",  # exact figure sizes (PreliZ sets 'tight' globally when imported)
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
    "pdf.fonttype": 42,        # embed TrueType: text stays text (searchable, copyable)
    "ps.fonttype": 42,
    "svg.fonttype": "none",    # text as text in SVG
    "svg.hashsalt": "forecast",  # reproducible SVG ids
}

SMALL = 7.0   # footnotes, event labels
TINY = 6.5    # dense tables


@contextmanager
def context():
    """Apply the briefing style for the duration of a ``with`` block (figure creation and saving)."""
    import matplotlib

    with matplotlib.rc_context(RC):
        yield


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"
