"""The brief as one A4 page: a matplotlib Figure laid out by hand (the API saves it as PDF)."""

from __future__ import annotations

import math
import textwrap

from forecast.errors import ForecastError
from forecast.report.brief import (Brief, change_note, footer_lines, fresh_cells, lens_items, no_change_text,
                                   pdf_freshness_note, questions, title)
from forecast.report.brief_figure import draw_key_figure

KEY_FIGURE_HEIGHT = 2.05   # inches on the page; shrunk (down to MIN_KEY_FIGURE_HEIGHT) when warnings need room
MIN_KEY_FIGURE_HEIGHT = 1.2
FRESH_FONT_SIZE = 7.5        # points, legible in print; only names or units far longer than the shipped ones
MIN_FRESH_FONT_SIZE = 6.5    # shrink the freshness table (to fit its half page), never below the minimum
FRESH_COLUMN_GAP = 0.1       # inches between the freshness table's columns
FRESH_HEADER = ["indicator", "latest", "value"]   # no age and flag columns: a stale row's year is bold (note)


def render_pdf_figure(b: Brief):
    """One A4 page as a matplotlib Figure (the CLI saves it as PDF). When warnings or long texts
    would run into the footer, the key figure is laid out again, shorter; if even that does not
    fit, ForecastError (never a second page or overlapping text)."""
    fig, end, footer_top = _page(b, KEY_FIGURE_HEIGHT)
    over = footer_top + 0.1 - end
    if over > 0:
        fh = KEY_FIGURE_HEIGHT - over
        if fh < MIN_KEY_FIGURE_HEIGHT:
            raise ForecastError("the brief does not fit on one page (too many warnings or indicators)")
        fig, end, footer_top = _page(b, fh)
    return fig


def _page(b: Brief, fh: float):
    """Lay out the page with a key figure ``fh`` inches tall: (figure, bottom of the content, top of
    the footer), in inches from the bottom of the page."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    from forecast.report import style as S

    W, H = S.A4
    M = 0.55  # margin, inches
    with S.context():
        fig = Figure(figsize=(W, H), layout="none")
        FigureCanvasAgg(fig)
        y = [H - M]

        def text(s, size=9.0, weight="normal", color=S.BLACK, x=M, gap=1.38, **kw):
            y[0] -= size * gap / 72
            fig.text(x / W, y[0] / H, s, fontsize=size, fontweight=weight, color=color, ha="left",
                     va="baseline", **kw)

        def para(s, size=8.5, width=112, indent="", **kw):
            for i, part in enumerate(textwrap.wrap(s, width, subsequent_indent=indent)):
                text(part, size, **kw)

        def space(inches):
            y[0] -= inches

        r = b.report
        text(title(b), 15, "bold", gap=1.0)
        para(questions(b), 8.5, 125)
        text(f"Data through {r['as_of']}, preset '{r['preset']}'. Generated {b.generated_utc}.", 8, color=S.GREY)
        for w in b.warnings:
            space(0.06)
            top = y[0]
            para(w, 9.5, 84, weight="bold", color=S.FAIL, x=M + 0.1)
            fig.add_artist(FancyBboxPatch((M / W, (y[0] - 0.08) / H), (W - 2 * M) / W, (top - y[0] + 0.05) / H,
                                          boxstyle="square,pad=0", transform=fig.transFigure, facecolor="none",
                                          edgecolor=S.FAIL, linewidth=2))
            space(0.08)
        space(0.12)
        text("Headline probabilities", 11, "bold")
        space(0.02)
        cols = [M, M + 3.05, M + 3.85, M + 5.25]
        y[0] -= 9 * 1.35 / 72
        heads = ["", "mean", "80% interval", "change"][:4 if b.has_change else 3]
        for x, h, ha in zip(cols, heads, ["left", "right", "right", "left"]):
            xx = x + (0.55 if ha == "right" and h == "mean" else 1.25 if ha == "right" else 0)
            fig.text(xx / W, y[0] / H, h, fontsize=7.5, color=S.GREY, ha=ha, va="baseline")
        table_top = y[0]
        for h in b.headlines:
            y[0] -= 10 * 1.45 / 72
            fig.text(cols[0] / W, y[0] / H, h.label, fontsize=9.5, ha="left", va="baseline")
            fig.text((cols[1] + 0.55) / W, y[0] / H, h.mean, fontsize=10.5, fontweight="bold", ha="right",
                     va="baseline")
            fig.text((cols[2] + 1.25) / W, y[0] / H, f"{h.lo80} to {h.hi80}", fontsize=9.5, ha="right", va="baseline")
            if b.has_change:
                fig.text(cols[3] / W, y[0] / H, h.change or "n/a", fontsize=9.5, ha="left", va="baseline")
        if b.has_change:
            para(change_note(b), 7.5, 125, color=S.GREY)
        else:  # the free column beside the table says why there is no change, the note below is one line
            for i, part in enumerate(textwrap.wrap(no_change_text(b), 34)):
                fig.text(cols[3] / W, (table_top - 10 * 1.45 / 72 - i * 7.5 * 1.35 / 72) / H, part, fontsize=7.5,
                         color=S.GREY, ha="left", va="baseline")
            para(b.interval_note, 7.5, 125, color=S.GREY)
        if b.what_changed:
            para(b.what_changed, 8.5)
        space(0.08)
        text("Top drivers", 11, "bold")
        for i, t in enumerate(b.drivers, 1):
            para(f"{i}. {t}", 8.5, indent="    ")
        space(0.08)
        text("The three lenses now", 11, "bold")
        for t in lens_items(b):
            para(f"- {t}", 8.2, 117, indent="   ")
        space(0.1)
        text("Key figure: how far the data moved each probability", 11, "bold")
        fig_top = y[0] - 0.05
        draw_key_figure(_key_axes(fig, len(b.figure.panels), M, fig_top - fh, W - 2 * M, fh), b.figure)
        y[0] = fig_top - fh
        text("Posterior: thick bar 80%, thin bar 95% equal-tailed interval, dot = mean. Prior only (no data): "
             "dashed, 80%. Outside view: base rate.", 7.5, color=S.GREY)
        space(0.1)
        text("Data freshness (latest value per indicator)", 11, "bold")
        half = math.ceil(len(b.freshness) / 2)
        start = y[0]
        rows = [_fresh_row(b, x) for x in b.freshness]
        colx, fs = _columns([FRESH_HEADER] + rows, (W - 2 * M) / 2 - FRESH_COLUMN_GAP)
        for c, chunk in enumerate((range(half), range(half, len(rows)))):
            y[0] = start
            x0 = M + c * (W - 2 * M) / 2
            y[0] -= fs * 1.4 / 72
            for dx, hdr in zip(colx, FRESH_HEADER):
                fig.text((x0 + dx) / W, y[0] / H, hdr, fontsize=fs, color=S.GREY, ha="left", va="baseline")
            for i in chunk:
                y[0] -= fs * 1.35 / 72
                stale = b.freshness[i].stale
                for k, (dx, cell) in enumerate(zip(colx, rows[i])):
                    fig.text((x0 + dx) / W, y[0] / H, cell, fontsize=fs, ha="left", va="baseline",
                             color=S.FAIL if stale else S.BLACK, fontweight="bold" if stale and k == 1 else "normal")
        y[0] = start - fs * 1.4 / 72 - half * fs * 1.35 / 72
        para(pdf_freshness_note(), 7.5, 138, color=S.GREY)
        space(0.12)
        top = y[0]
        colr = S.OK if b.diagnostics_ok else S.FAIL
        para(b.diagnostics_text, 8.5, 92, weight="bold", color=colr, x=M + 0.1)
        fig.add_artist(FancyBboxPatch((M / W, (y[0] - 0.07) / H), (W - 2 * M) / W, (top - y[0] + 0.04) / H,
                                      boxstyle="square,pad=0", transform=fig.transFigure, facecolor="none",
                                      edgecolor=colr, linewidth=1.5))
        end = y[0] - 0.07
        y[0] = M + 0.5
        footer_top = y[0] + 0.08
        fig.add_artist(_rule(fig, M, W, y[0] + 0.08))
        for line in footer_lines(b):
            para(line, 6.5, 150, color=S.GREY)
    return fig, end, footer_top


def _fresh_row(b: Brief, x) -> list[str]:
    """A freshness row of the page: name, latest year (with a flag other than STALE, e.g. 'unused'),
    value. The age is left out (the data year is in the header) and STALE is the year in bold."""
    v, _, flag = fresh_cells(b, x)
    other = ", ".join(f for f in flag.split(", ") if f and f != "STALE")
    return [x.display_name or x.indicator, f"{x.last_year} {other}".strip(), v]


def _columns(rows: list[list[str]], width: float) -> tuple[list[float], float]:
    """Left edges (inches) of the freshness table's columns, each as wide as its widest cell, and
    the font size: FRESH_FONT_SIZE, smaller (down to MIN_FRESH_FONT_SIZE) if the table is wider
    than ``width``. The year column (the second) is measured in bold, as a stale row draws it."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    ttp = TextToPath()
    size = FRESH_FONT_SIZE
    while True:
        cols = list(zip(*rows))
        props = [FontProperties(size=size, weight="bold" if i == 1 else "normal") for i in range(len(cols))]
        widths = [max(ttp.get_text_width_height_descent(cell, prop, ismath=False)[0] for cell in col) / 72
                  for col, prop in zip(cols, props)]
        xs = [0.0]
        for w in widths[:-1]:
            xs.append(xs[-1] + w + FRESH_COLUMN_GAP)
        if xs[-1] + widths[-1] <= width or size <= MIN_FRESH_FONT_SIZE:
            return xs, size
        size = round(size - 0.2, 1)


def _rule(fig, M, W, y):
    from matplotlib.lines import Line2D

    H = fig.get_figheight()
    return Line2D([M / W, 1 - M / W], [y / H, y / H], transform=fig.transFigure, color="#999999", linewidth=0.6)


def _key_axes(fig, n: int, x0: float, y0: float, width: float, height: float) -> list:
    """The key figure's panels placed by hand (inches) on the page: room for y labels at the left,
    titles above and tick labels below."""
    W, H = fig.get_figwidth(), fig.get_figheight()
    left, right, bottom, top, gap = 0.85, 0.05, 0.3, 0.3, 0.3
    w = (width - left - right - gap * (n - 1)) / n
    return [fig.add_axes([(x0 + left + i * (w + gap)) / W, (y0 + bottom) / H, w / W, (height - bottom - top) / H])
            for i in range(n)]
