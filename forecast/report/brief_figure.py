"""The brief's key figure: each headline probability's posterior against the prior-only forecast
and the outside view. Returns a matplotlib Figure (or draws into given axes, for the PDF page)."""

from __future__ import annotations

import io

from forecast.report.brief import Brief


def key_figure(b: Brief, width: float = 7.0, height: float = 2.2):
    """The brief's key figure: each headline probability's posterior (80% and 95% intervals, mean)
    against the prior-only forecast and the outside view, one small panel per probability."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from forecast.report import style as S

    with S.context():
        fig = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(fig)
        draw_key_figure(fig.subplots(1, len(b.figure.panels), squeeze=False)[0], b.figure)
        handles = [Line2D([], [], color=S.POSTERIOR["color"], linewidth=5, label="posterior 80% interval"),
                   Line2D([], [], color=S.POSTERIOR["color"], linewidth=1.5, label="posterior 95% interval"),
                   Line2D([], [], color=S.PRIOR["color"], linewidth=3, linestyle="--", label="prior only, 80%"),
                   Line2D([], [], color=S.OUTSIDE["color"], marker="|", markersize=12, markeredgewidth=2,
                          linestyle="none", label="outside view")]
        fig.legend(handles=handles, loc="outside lower center", ncols=4)
    return fig


def draw_key_figure(axes, res) -> None:
    """Draw the key figure's panels into ``axes`` (one per headline probability)."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    from forecast.report import style as S

    for ax, p in zip(axes, res.panels):
        s, q = p.summary, p.prior_summary
        ax.plot([q.lo80, q.hi80], [1, 1], color=S.PRIOR["color"], linewidth=3, linestyle="--",
                solid_capstyle="butt")
        ax.plot([q.mean], [1], marker="o", color=S.PRIOR["color"], markerfacecolor="white")
        ax.plot([s.lo95, s.hi95], [2, 2], color=S.POSTERIOR["color"], linewidth=1.5)
        ax.plot([s.lo80, s.hi80], [2, 2], color=S.POSTERIOR["color"], linewidth=5, solid_capstyle="butt")
        ax.plot([s.mean], [2], marker="o", color="white", markeredgecolor=S.BLACK, markersize=5)
        ax.annotate(S.pct(s.mean), (s.mean, 2), xytext=(0, 6), textcoords="offset points", ha="center",
                    va="bottom", fontsize=S.SMALL + 0.5, fontweight="bold")
        if p.outside_mean is not None:
            ax.plot([p.outside_mean], [0], marker="|", color=S.OUTSIDE["color"], markersize=12, markeredgewidth=2)
        top = max(s.hi95, q.hi80, p.outside_mean or 0)
        ax.set_xlim(0, min(1.0, top * 1.15 + 0.01))
        ax.set_ylim(-0.6, 2.75)
        ax.set_yticks([0, 1, 2], ["outside view", "prior only", "posterior"])
        ax.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.set_title(short_label(p.key, res.forecast_year), fontsize=S.SMALL + 1.5, loc="left")
        ax.grid(axis="y", visible=False)
    for ax in axes[1:]:
        ax.tick_params(labelleft=False)


def short_label(key: str, y: int) -> str:
    if key.startswith("settle_within_"):
        h = int(key.removeprefix("settle_within_").removesuffix("y"))
        return f"P(settled by {y + h - 1})"
    return f"P(improves in {y})"


def figure_bytes(fig, fmt: str) -> bytes:
    from forecast.report import style as S

    buf = io.BytesIO()
    with S.context():
        fig.savefig(buf, format=fmt, dpi=150)
    return buf.getvalue()
