"""Warnings on a figure's face: a stale fit, failed diagnostics or a ledger mismatch is written
in the warning colour above the figure, boxed like the brief's warnings, so an exported file
cannot be taken for a sound one. The figure grows by the stamp's height; nothing is squeezed."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from forecast.errors import DiagnosticsFailedWarning, FigureWarning, LedgerMismatchWarning, StaleFitWarning
from forecast.workspace import HASHED_INPUTS

STAMP_CHARS = 84       # characters per stamp line at 8.5 pt bold on a 6.5 in figure
STAMP_LINE_IN = 0.16   # inches per stamp line
STAMP_MARGIN_IN = 0.1  # inches of box padding above and below the lines
LAYOUT_PAD_IN = 0.04   # inches between the band, the title and the content (constrained layout's pad)


@dataclass(frozen=True)
class FigureFlag:
    """One warning about the forecast behind a figure: its words and its Python warning class."""

    text: str
    category: type[FigureWarning]


def figure_flags(report: dict, ledger_warning: str | None) -> list[FigureFlag]:
    """The warnings a figure of this forecast carries (``report``: the 'show --json' report)."""
    flags = []
    if not report["diagnostics"]["ok"]:
        flags.append(FigureFlag("DIAGNOSTICS FAILED: do not use these numbers", DiagnosticsFailedWarning))
    if report["stale"]:
        flags.append(FigureFlag(f"STALE FIT: {HASHED_INPUTS} changed since this fit; run 'forecast fit'",
                                StaleFitWarning))
    if ledger_warning:
        flags.append(FigureFlag(f"LEDGER MISMATCH: {ledger_warning}", LedgerMismatchWarning))
    return flags


def stamp(fig, flags: list[FigureFlag]) -> None:
    """Write ``flags`` in a box above the figure's content; the figure grows by the box's height."""
    from matplotlib.patches import Rectangle

    from forecast.report import style as S

    if not flags:
        return
    texts = ["\n".join(textwrap.wrap(f.text, STAMP_CHARS, subsequent_indent="  ")) for f in flags]
    band = sum(t.count("\n") + 1 for t in texts) * STAMP_LINE_IN + 2 * STAMP_MARGIN_IN
    w, h = fig.get_size_inches()
    H = h + band
    fig.set_size_inches(w, H)
    with S.context():
        top = h - LAYOUT_PAD_IN  # the content keeps its inches below the band, its title first
        if fig.get_suptitle():  # constrained layout puts the title at the figure's top: move it below the band
            title = fig.suptitle(fig.get_suptitle(), y=top / H, va="top")
            top -= title.get_window_extent(fig.canvas.get_renderer()).height / fig.dpi + LAYOUT_PAD_IN
        fig.get_layout_engine().set(rect=(0.0, 0.0, 1.0, top / H))
        fig.add_artist(Rectangle((0.04 / w, (h + 0.03) / H), 1 - 0.08 / w, (band - 0.06) / H,
                                 transform=fig.transFigure, facecolor="none", edgecolor=S.FAIL, linewidth=2))
        y = H - STAMP_MARGIN_IN
        for t in texts:
            fig.text(0.12 / w, y / H, t, ha="left", va="top", fontsize=S.SMALL + 1.5, fontweight="bold",
                     color=S.FAIL, linespacing=1.3)
            y -= (t.count("\n") + 1) * STAMP_LINE_IN
