"""Briefing figures: each function takes computed results (``analysis.py``) and returns a
matplotlib ``Figure``. No model, no sampling, no files: the CLI saves the figures.

Figures are built on ``matplotlib.figure.Figure`` directly (no pyplot, so no global figure
registry and no GUI backend; the Agg canvas is attached explicitly); every figure is created inside ``style.context()``, the single
source of colours, fonts and sizes.
"""

from __future__ import annotations

import textwrap

import numpy as np

from forecast import LENSES
from forecast.defaults import THRESHOLDS, THRESHOLDS_TEXT
from forecast.report import style as S

PLOT_DESCRIPTIONS = {
    "probabilities": "posterior of each headline probability, with the prior-only forecast and the outside view",
    "lenses": "latent state of each lens over time (fan chart) and its projection, key events marked",
    "trajectory": "headline probabilities across the update history (or in-sample since the first year)",
    "drivers": "waterfall of the log-odds of improvement, lens by lens, between two states",
    "diagnostics": "rank plots and summary table of the main parameters (methods annex)",
}


EVENT_STRIP = 0.2  # height of the coded-event strip below each lens panel, as a fraction of the panel's


def _figure(kind: str, height: float | None = None, width: float = S.WIDTH):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height or S.HEIGHTS[kind]), layout="constrained")
    FigureCanvasAgg(fig)  # the Agg canvas, explicitly: no pyplot, no GUI backend
    return fig


def _percent_axis(axis, decimals=None, nice=False):
    """Probabilities shown as percentages; ``nice``: ticks at 1, 2 or 5 times a power of ten, so
    whole-percent labels are exact."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    if nice:
        axis.set_major_locator(MaxNLocator(6, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=decimals))


# ---------------------------------------------------------------------- probabilities
def draw_probability_panel(ax, panel, text_ax=None):
    """One headline probability: posterior density with its 80% interval shaded, the prior-only
    density (dashed, hatched) and the outside view (dotted line)."""
    g = panel.grid
    s = panel.summary
    ax.fill_between(g, panel.posterior_density, color=S.POSTERIOR["color"], alpha=S.POSTERIOR["alpha_band"],
                    linewidth=0, label="posterior")
    inner = (g >= s.lo80) & (g <= s.hi80)
    ax.fill_between(g, panel.posterior_density, where=inner, color=S.POSTERIOR["color"],
                    alpha=S.POSTERIOR["alpha_inner"], linewidth=0, label=S.BAND_80)
    ax.plot(g, panel.posterior_density, color=S.POSTERIOR["color"], linestyle=S.POSTERIOR["linestyle"])
    ax.fill_between(g, panel.prior_density, facecolor="none", edgecolor=S.PRIOR["color"], hatch=S.PRIOR["hatch"],
                    linewidth=0, alpha=0.8)
    ax.plot(g, panel.prior_density, color=S.PRIOR["color"], linestyle=S.PRIOR["linestyle"], label="prior only")
    if panel.outside_mean is not None:
        ax.axvline(panel.outside_mean, color=S.OUTSIDE["color"], linestyle=S.OUTSIDE["linestyle"],
                   linewidth=S.OUTSIDE["linewidth"], label="outside view")
    if panel.base_mean is not None:
        ax.axvline(panel.base_mean, color=S.BASE_RATE["color"], linestyle=S.BASE_RATE["linestyle"],
                   linewidth=S.BASE_RATE["linewidth"], label="plain base rate")
    ax.axvline(s.mean, color=S.POSTERIOR["color"], linewidth=1.0, label="posterior mean")
    ax.set_xlim(0.0, g[-1])  # g ends at a round number above the posterior's 99th percentile
    ax.set_ylim(bottom=0)
    _percent_axis(ax.xaxis, decimals=0, nice=True)
    ax.set_ylabel("density")
    ax.set_title(panel.label, loc="left")
    if text_ax is not None:
        p = panel.prior_summary
        lines = [("posterior (data + prior)", S.POSTERIOR["color"]),
                 (f"  mean {S.pct(s.mean)}", None),
                 (f"  80%: {S.pct(s.lo80)} to {S.pct(s.hi80)}", None),
                 (f"  95%: {S.pct(s.lo95)} to {S.pct(s.hi95)}", None),
                 ("prior only (no data)", S.PRIOR["color"]),
                 (f"  mean {S.pct(p.mean)}, 80%: {S.pct(p.lo80)} to {S.pct(p.hi80)}", None)]
        if panel.outside_mean is not None:
            lines += [("outside view", S.OUTSIDE["color"]),
                      (f"  {S.pct(panel.outside_mean)}: " + panel.outside_label, None)]
        if panel.base_mean is not None:
            lines += [("plain base rate", S.BASE_RATE["color"]), (f"  {S.pct(panel.base_mean)}: " + panel.base_label, None)]
        text_ax.axis("off")
        y = 1.0
        for text, colour in lines:
            for j, part in enumerate(textwrap.wrap(text, 38, subsequent_indent="    ") or [""]):
                text_ax.text(0.0, y, part, transform=text_ax.transAxes, va="top", ha="left",
                             fontsize=S.SMALL + 0.5, color=colour or S.BLACK,
                             fontweight="bold" if colour and j == 0 else "normal")
                y -= 0.115


def plot_probabilities(res):
    """``probabilities.ProbabilityResults`` -> Figure: one row per headline probability."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    with S.context():
        fig = _figure("probabilities")
        n = len(res.panels)
        gs = fig.add_gridspec(n, 2, width_ratios=[0.64, 0.36])
        for i, panel in enumerate(res.panels):
            ax = fig.add_subplot(gs[i, 0])
            draw_probability_panel(ax, panel, fig.add_subplot(gs[i, 1]))
            if i == n - 1:
                ax.set_xlabel("probability")
        handles = [Line2D([], [], color=S.POSTERIOR["color"], linewidth=1.0, label="posterior mean"),
                   Patch(color=S.POSTERIOR["color"], alpha=S.POSTERIOR["alpha_band"], label="posterior"),
                   Patch(color=S.POSTERIOR["color"], alpha=S.POSTERIOR["alpha_inner"],
                         label=f"posterior {S.BAND_80}"),
                   Patch(facecolor="none", edgecolor=S.PRIOR["color"], hatch=S.PRIOR["hatch"], linestyle="--",
                         label="prior only (preset '" + res.preset + "', no data)"),
                   Line2D([], [], color=S.OUTSIDE["color"], linestyle=S.OUTSIDE["linestyle"],
                          label="outside view")]
        if any(p.base_mean is not None for p in res.panels):
            handles.append(Line2D([], [], color=S.BASE_RATE["color"], linestyle=S.BASE_RATE["linestyle"],
                                  label="plain base rate of the reference class"))
        fig.legend(handles=handles, loc="outside lower center", ncols=2)
        fig.suptitle(f"Headline probabilities for {res.forecast_year}:\nhow far the data moved the forecast "
                     f"(data through {res.as_of})")
    return fig


# ----------------------------------------------------------------------------- lenses
def plot_lenses(res):
    """``lenses.LensResults`` -> Figure: a fan chart per lens with its projection; key events marked."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    with S.context():
        fig = _figure("lenses")
        gs = fig.add_gridspec(4, 1, height_ratios=[0.95, 1.4, 1.4, 1.4])
        strip = fig.add_subplot(gs[0])
        axes = [fig.add_subplot(gs[i + 1], sharex=strip) for i in range(3)]
        # each lens's coded events: a strip just below its panel, off the data
        marks = [ax.inset_axes([0.0, -EVENT_STRIP - 0.03, 1.0, EVENT_STRIP], sharex=strip) for ax in axes]
        x0, x1 = res.years[0] - 0.5, res.future[-1] + 0.5
        key = [e for e in res.events if e.key]
        strip.set_xlim(x0, x1)
        strip.set_ylim(0, 1)
        strip.axis("off")
        for e in key:
            st = S.EVENT_UP if e.weight > 0 else S.EVENT_DOWN
            strip.plot([e.year], [0.06], marker=st["marker"], color=st["color"], markersize=5)
            strip.text(e.year, 0.12, e.label, rotation=90, ha="center", va="bottom", fontsize=S.SMALL)
        q = list(res.q)
        i025, i10, i50, i90, i975 = (q.index(v) for v in (0.025, 0.10, 0.50, 0.90, 0.975))
        for li, (ax, mx, lens) in enumerate(zip(axes, marks, LENSES)):
            st = S.LENS[lens]
            Q, F = res.quantiles[:, li], res.future_quantiles[:, li]
            ax.fill_between(res.years, Q[i025], Q[i975], color=st["color"], alpha=0.18, linewidth=0)
            ax.fill_between(res.years, Q[i10], Q[i90], color=st["color"], alpha=0.40, linewidth=0)
            ax.plot(res.years, Q[i50], color=st["color"], linestyle="-")
            fx = np.concatenate([[res.years[-1]], res.future])
            def joined(a, idx, Q=Q):
                return np.concatenate([[Q[idx][-1]], a[idx]])
            ax.fill_between(fx, joined(F, i025), joined(F, i975), facecolor="none", edgecolor=st["color"],
                            hatch="////", linewidth=0, alpha=0.35)
            ax.fill_between(fx, joined(F, i10), joined(F, i90), facecolor=st["color"], alpha=0.15,
                            edgecolor=st["color"], hatch="////", linewidth=0)
            ax.plot(fx, joined(F, i50), color=st["color"], linestyle="--")
            ax.plot([res.as_of + 1], [res.forecast_year_state[li]], marker="D", color=S.BLACK, markersize=4.5,
                    linestyle="none")
            if lens == "leaders":
                for si, side in enumerate(("side_a", "side_b")):
                    ss = S.SIDES[side]
                    ax.plot(res.years, res.sides_mean[si], color=ss["color"], linestyle=ss["linestyle"],
                            linewidth=1.1, label=f"{res.side_names[si]} side (mean)")
                ax.legend(loc="upper left", ncols=2)
            ax.axhline(0, color=S.GREY, linewidth=0.8)
            ax.axvline(res.as_of + 0.5, color=S.GREY, linewidth=0.9, linestyle=":")
            for e in key:
                ax.axvline(e.year, color=S.LIGHT_GREY, linewidth=0.8, zorder=0)
            for up, y in ((True, 0.72), (False, 0.28)):  # raising events above lowering ones: never on top
                es = S.EVENT_UP if up else S.EVENT_DOWN
                xs = sorted({e.year for e in res.events if e.lens == lens and (e.weight > 0) == up})
                mx.plot(xs, [y] * len(xs), marker=es["marker"], color=es["color"], markersize=4, linestyle="none")
            mx.set_ylim(0, 1)
            mx.set_yticks([])
            mx.grid(False)
            mx.spines[["left", "bottom"]].set_visible(False)
            mx.tick_params(bottom=li == 2, labelbottom=li == 2)  # the year labels go below the last strip
            ax.set_title(f"{lens}: {res.lens_titles.get(lens, lens)}", loc="left")
            ax.set_ylabel("state (sd)")
            ax.tick_params(labelbottom=False)
        marks[-1].set_xlabel("year")
        marks[-1].set_xlim(x0, x1)
        handles = [Line2D([], [], color=S.GREY, label="posterior median (fitted years)"),
                   Patch(color=S.GREY, alpha=0.45, label=S.BAND_80),
                   Patch(color=S.GREY, alpha=0.2, label=S.BAND_95),
                   Line2D([], [], color=S.GREY, linestyle="--", label="projection (AR(1), hatched bands)"),
                   Line2D([], [], marker="D", color=S.BLACK, linestyle="none", markersize=4.5,
                          label="forecast-year state (as in 'show')"),
                   Line2D([], [], marker="^", color=S.EVENT_UP["color"], linestyle="none",
                          label="coded cooperative event"),
                   Line2D([], [], marker="v", color=S.EVENT_DOWN["color"], linestyle="none",
                          label="coded hostile event"),
                   Line2D([], [], color=S.GREY, linestyle=":", label=f"last data year {res.as_of}"),
                   Line2D([], [], color=S.LIGHT_GREY, label="key event (labelled at top)")]
        fig.legend(handles=handles, loc="outside lower center", ncols=3)
        fig.suptitle("Lens states over time: posterior and projection\n"
                     f"(standard deviations of the indicators over {res.years[0]}-{res.as_of}; 0 = average)")
    return fig


# ------------------------------------------------------------------------- trajectory
def plot_trajectory(res):
    """``history.TrajectoryResults`` -> Figure."""
    return _trajectory_history(res) if res.mode == "history" else _trajectory_in_sample(res)


def _trajectory_history(res):
    with S.context():
        keys = list(res.labels)
        fig = _figure("trajectory", height=2.0 + 1.45 * len(keys))
        axes = fig.subplots(len(keys), 1, sharex=True, squeeze=False)[:, 0]
        x = np.arange(len(res.points))
        styles = [S.LENS["power"], S.LENS["trust"], S.LENS["leaders"]]
        for ax, key, st in zip(axes, keys, styles):
            m = np.array([p.after[key]["mean"] for p in res.points])
            lo = np.array([p.after[key]["lo80"] for p in res.points])
            hi = np.array([p.after[key]["hi80"] for p in res.points])
            ax.errorbar(x, m, yerr=[m - lo, hi - m], color=st["color"], marker=st["marker"], linestyle=st["linestyle"],
                        capsize=3, markersize=5)
            for xi, mi in zip(x, m):
                ax.annotate(S.pct(mi), (xi, mi), xytext=(6, 4), textcoords="offset points", fontsize=S.SMALL)
            ax.set_title(res.labels[key], loc="left")
            ax.set_ylabel("probability")
            _percent_axis(ax.yaxis, decimals=0)
            ax.set_ylim(0, max(0.05, 1.25 * hi.max()))
        labels = [f"#{p.seq} " + "\n".join(textwrap.wrap(p.label, 22)) for p in res.points]
        axes[-1].set_xticks(x, labels, rotation=30, ha="right", fontsize=S.SMALL)
        axes[-1].set_xlabel("update (ledger order); 'made': when the fit was run, 'dated': when the event happened",
                            fontsize=S.SMALL + 0.5)
        axes[-1].set_xlim(-0.5, len(x) - 0.5)
        fig.suptitle(f"Headline probabilities across the update history (forecast year {res.forecast_year})\n"
                     f"(posterior mean and {S.BAND_80} after each update)")
    return fig


def _trajectory_in_sample(res):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from forecast.report.history import CHANGE_LABELS

    with S.context():
        fig = _figure("trajectory")
        ax, bx = fig.subplots(2, 1, sharex=True, height_ratios=[2.2, 1.0])
        yrs, m, lo, hi = res.years, *res.improve
        c = S.POSTERIOR["color"]
        ax.fill_between(yrs, lo, hi, color=c, alpha=0.3, linewidth=0)
        ax.plot(yrs, m, color=c)
        up = res.change >= 1
        ax.plot(yrs[up], m[up], marker="^", color=S.GREEN, linestyle="none", markersize=6,
                markeredgecolor=S.BLACK, markeredgewidth=0.5)
        ax.plot(yrs[~up], m[~up], marker="o", markerfacecolor="white", color=S.GREY, linestyle="none", markersize=4)
        f = res.forecast
        fy = res.forecast_year
        ax.errorbar([fy], [f.mean], yerr=[[f.mean - f.lo80], [f.hi80 - f.mean]], marker="D",
                    color=S.BLACK, capsize=3, markersize=5)
        ax.annotate(f"{fy} forecast\n{S.pct(f.mean)}", (fy, f.hi80), xytext=(0, 4), textcoords="offset points",
                    ha="center", va="bottom", fontsize=S.SMALL)
        _percent_axis(ax.yaxis, decimals=0)
        ax.set_ylim(0, min(1.0, max(hi.max(), f.hi80) * 1.3))
        ax.set_ylabel("P(improvement)")
        ax.set_title("P(relationship improves in year t), in-sample", loc="left")
        fig.legend(handles=[Line2D([], [], color=c, label="posterior mean"),
                            Patch(color=c, alpha=0.3, label=S.BAND_80),
                            Line2D([], [], marker="^", color=S.GREEN, markeredgecolor=S.BLACK, linestyle="none",
                                   label="year coded as improvement"),
                            Line2D([], [], marker="o", markerfacecolor="white", color=S.GREY, linestyle="none",
                                   label="year not coded as improvement"),
                            Line2D([], [], marker="D", color=S.BLACK, label="forecast (80% interval)")],
                   loc="outside lower center", ncols=3)  # below the axes: it covers no data
        colours = [S.UP if v > 0 else S.DOWN if v < 0 else S.TOTAL for v in res.change]
        bx.bar(yrs, res.change, color=[s["color"] for s in colours], hatch=None, edgecolor=S.BLACK, linewidth=0.4)
        for yi, v, s in zip(yrs, res.change, colours):
            if s["hatch"] and v:
                bx.bar([yi], [v], facecolor="none", edgecolor="white", hatch=s["hatch"], linewidth=0)
        bx.axhline(0, color=S.BLACK, linewidth=0.6)
        bx.set_yticks([-2, -1, 0, 1, 2])
        bx.set_ylim(-2.4, 2.4)
        bx.set_ylabel("coded change")
        bx.set_title("Coded outcome: " + ", ".join(f"{k:+d} {v}" for k, v in CHANGE_LABELS.items() if k),
                     loc="left", fontsize=S.SMALL + 0.5, fontweight="normal")
        bx.set_xlabel("year")
        bx.set_xlim(yrs[0] - 0.7, fy + 0.9)
        fig.suptitle(f"No updates yet: in-sample probability of improvement\nsince {yrs[0]}, "
                     "with the coded outcomes")
    return fig


# ---------------------------------------------------------------------------- drivers
STEP_NAMES = {"threshold": "threshold\n(cutpoint)", "spread": "spread\n(uncertainty)"}


def plot_drivers(res):
    """``history.DriverResults`` -> Figure: a waterfall from the old to the new log-odds."""
    from matplotlib.patches import Patch

    with S.context():
        fig = _figure("drivers")
        ax = fig.add_subplot()
        names = [f"{res.old.label}"]
        steps = res.steps
        names += [STEP_NAMES.get(n, n) for n, _ in steps]
        names.append(f"{res.new.label}")
        names = ["\n".join(textwrap.wrap(n, 16)) for n in names]
        x = np.arange(len(names))
        level = res.old.effective
        bars = [(0.0, level, S.TOTAL)]
        for _, d in steps:
            bars.append((level, level + d, S.UP if d >= 0 else S.DOWN))
            level += d
        bars.append((0.0, res.new.effective, S.TOTAL))
        span = max(max(abs(a), abs(b)) for a, b, _ in bars) or 1.0
        for xi, (a, b, st) in zip(x, bars):
            ax.bar(xi, b - a, bottom=a, color=st["color"], edgecolor=S.BLACK, linewidth=0.6, hatch=st["hatch"],
                   width=0.62)
            val = b - a if st is not S.TOTAL else b
            ax.annotate(f"{val:+.2f}", (xi, max(a, b)), xytext=(0, 3), textcoords="offset points", ha="center",
                        va="bottom", fontsize=S.SMALL + 0.5)
        for xi in range(len(bars) - 1):
            ax.plot([xi + 0.31, xi + 0.69], [bars[xi][1]] * 2, color=S.GREY, linewidth=0.8)
        ax.annotate(f"P = {S.pct(res.old.probability)}", (0, min(0, res.old.effective)), xytext=(0, -3),
                    textcoords="offset points", ha="center", va="top", fontsize=S.SMALL + 0.5, fontweight="bold")
        ax.annotate(f"P = {S.pct(res.new.probability)}", (x[-1], min(0, res.new.effective)), xytext=(0, -3),
                    textcoords="offset points", ha="center", va="top", fontsize=S.SMALL + 0.5, fontweight="bold")
        ax.axhline(0, color=S.BLACK, linewidth=0.7)
        ax.set_ylim(-1.3 * span - 0.15, 1.3 * span + 0.15)
        ax.set_xticks(x, names, fontsize=S.SMALL + 0.5)
        ax.set_ylabel("log-odds of improvement\n(logit of the mean probability)")
        ax.set_title("\n".join(textwrap.wrap(res.title, 80)), loc="left", fontsize=S.SMALL + 1.5)
        ax.legend(handles=[Patch(facecolor=S.UP["color"], hatch=S.UP["hatch"], edgecolor=S.BLACK,
                                 label="raises the odds"),
                           Patch(facecolor=S.DOWN["color"], hatch=S.DOWN["hatch"], edgecolor=S.BLACK,
                                 label="lowers the odds"),
                           Patch(facecolor=S.TOTAL["color"], edgecolor=S.BLACK, label="total")],
                  loc="upper right", ncols=3)
        fig.suptitle("What moved the log-odds of improvement, lens by lens")
        # the note is the axis label, so that the layout keeps it clear of the tick labels
        ax.set_xlabel("Ends: logit of P, the posterior mean probability. Lens steps: change in the mean of beta x "
                      "(state + coded-event shift).\nThreshold: change in the cutpoint. Spread: the rest, from averaging "
                      "P over draws and simulated futures\n(a wider spread pulls a low probability up).",
                      fontsize=S.SMALL - 0.5, color=S.GREY, loc="left", labelpad=6)
        fig.get_layout_engine().set(h_pad=0.12)
    return fig


# ------------------------------------------------------------------------ diagnostics
def plot_diagnostics(res):
    """``convergence.DiagnosticsResults`` -> Figure: rank histograms per chain and the summary table."""
    with S.context():
        n = len(res.ranks)
        ncol = 4
        nrow = int(np.ceil(n / ncol))
        fig = _figure("diagnostics")
        outer = fig.add_gridspec(2, 1, height_ratios=[1.05 * nrow, 0.24 * (len(res.table) + 2)])
        grid = outer[0].subgridspec(nrow, ncol)
        expected = res.draws / res.bins
        chain_styles = [S.BLUE, S.ORANGE, S.GREEN, S.PURPLE, S.VERMILLION, S.SKY_BLUE]
        for i, rp in enumerate(res.ranks):
            ax = fig.add_subplot(grid[i // ncol, i % ncol])
            for c in range(rp.counts.shape[0]):
                h = rp.counts[c] / expected
                ax.bar(np.arange(res.bins), 0.85 * h / 2.0, bottom=c, width=1.0, color=chain_styles[c % 6],
                       edgecolor="white", linewidth=0.3)
                ax.axhline(c + 0.85 / 2.0, color=S.BLACK, linewidth=0.5, linestyle="--")
            ax.set_yticks(np.arange(rp.counts.shape[0]) + 0.2, [str(c + 1) for c in range(rp.counts.shape[0])],
                          fontsize=S.TINY)
            ax.set_xticks([])
            ax.grid(False)
            bad = not (rp.rhat < THRESHOLDS["rhat_max"] and rp.ess_bulk >= THRESHOLDS["ess_bulk_min"])
            name = rp.name.replace("[", "\n[") if len(rp.name) > 24 else rp.name
            ax.set_title(f"{name}\nR-hat {rp.rhat:.3f}, ESS {rp.ess_bulk:.0f}", fontsize=S.TINY,
                         color=S.FAIL if bad else S.BLACK, fontweight="bold" if bad else "normal")
            if i % ncol == 0:
                ax.set_ylabel("chain", fontsize=S.TINY)
        tab = fig.add_subplot(outer[1])
        tab.axis("off")
        cols = ["parameter", "mean", "sd", "10%", "90%", "bulk ESS", "tail ESS", "R-hat"]
        rows = [[r["name"], f"{r['mean']:.3f}", f"{r['sd']:.3f}", f"{r['lo80']:.3f}", f"{r['hi80']:.3f}",
                 f"{r['ess_bulk']:.0f}", f"{r['ess_tail']:.0f}", f"{r['r_hat']:.3f}"] for r in res.table]
        t = tab.table(cellText=rows, colLabels=cols, loc="upper center", cellLoc="right", colLoc="right",
                      colWidths=[0.32] + [0.097] * 7)
        t.auto_set_font_size(False)
        t.set_fontsize(S.TINY + 0.5)
        for (r, c), cell in t.get_celld().items():
            cell.set_linewidth(0.3)
            cell.set_edgecolor(S.LIGHT_GREY)
            if r == 0:
                cell.set_text_props(fontweight="bold")
            if c == 0:
                cell.set_text_props(ha="left")
                cell._loc = "left"
            if r > 0:
                row = res.table[r - 1]
                ess = "ess_bulk" if c == 5 else "ess_tail"
                if (c == 7 and not row["r_hat"] < THRESHOLDS["rhat_max"]) or (c in (5, 6)
                                                                             and row[ess] < THRESHOLDS[ess + "_min"]):
                    cell.set_text_props(color=S.FAIL, fontweight="bold")
        d = res.summary
        verdict = "OK" if d.ok else "FAILED: " + "; ".join(d.failures)
        title = f"Summary ({res.chains} chains x {res.draws} draws; 10%-90% = {S.BAND_80}). Diagnostics {verdict}"
        tab.set_title("\n".join(textwrap.wrap(title, 90)), loc="left", fontsize=S.SMALL + 0.5,
                      color=S.BLACK if d.ok else S.FAIL)
        fig.suptitle("Sampler diagnostics: rank plots per chain (uniform = well mixed)\n"
                     f"thresholds: {THRESHOLDS_TEXT}\n"
                     f"this fit: {d.divergences} divergences, E-BFMI min {d.bfmi_min:.2f}")
    return fig


PLOTTERS = {"probabilities": plot_probabilities, "lenses": plot_lenses, "trajectory": plot_trajectory,
            "drivers": plot_drivers, "diagnostics": plot_diagnostics}


def plot(kind: str, results):
    return PLOTTERS[kind](results)
