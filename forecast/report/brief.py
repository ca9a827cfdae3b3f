"""``forecast brief``: a one-page briefing for decision makers, as PDF, Markdown or HTML.

``build_brief`` computes every item of the page (a ``Brief``) from the stored forecast with
the same ``report.build_report`` that ``forecast show`` uses, so the numbers are identical;
``render_markdown``, ``render_html`` and ``render_pdf_figure`` only lay the items out. Nothing
here writes a file: the CLI writes the rendered output.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html
import io
import math
import textwrap
from dataclasses import dataclass, field

from forecast import LENSES, __version__
from forecast.data.loaders import load_dataset
from forecast.store import ledger as L
from forecast.errors import ForecastError
from forecast.report.summary import pct, probability_label
from forecast.store.posterior import StoredForecast, is_stale
from forecast.workspace import Workspace

STALE_AFTER_YEARS = 2   # an indicator whose latest value is more than this many years before the data year
LENS_SHORT = {"power": "Power shift", "trust": "Trust and interaction", "leaders": "Leaders (two-level games)"}


class DiagnosticsRefused(ForecastError):
    """A brief was requested for a fit whose diagnostics failed, without --allow-failed-diagnostics."""


@dataclass
class Headline:
    key: str
    label: str
    mean: str
    lo80: str
    hi80: str
    change: str | None   # e.g. "+2.3 pp" or None when there is nothing to compare with


@dataclass
class Freshness:
    indicator: str
    lens: str
    unit: str
    last_year: int
    last_value: float
    age: int
    stale: bool
    used: bool
    approximate: bool
    from_ledger: bool


@dataclass
class Brief:
    report: dict                  # exactly what 'show --json' prints (build_report)
    generated_utc: str
    headlines: list[Headline]
    since: str                    # what the change column compares with
    drivers: list[str]            # the top three, in plain words
    what_changed: str | None
    lens_lines: list[str]
    freshness: list[Freshness]
    diagnostics_ok: bool
    diagnostics_text: str
    warnings: list[str]           # shown on the face of the page (failed diagnostics, stale fit, ...)
    footer: dict
    figure: object = None         # analysis.ProbabilityResults for the key figure
    interval_note: str = ""
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------ pieces
def files_hash(files, root) -> str:
    """SHA-256 over relative names and bytes, as ``workspace.content_hash`` does for all files."""
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def freshness(ws: Workspace, stored: StoredForecast) -> list[Freshness]:
    """Latest value and its age (years before the fit's data year) for each indicator,
    ledger readings included; stale when older than STALE_AFTER_YEARS."""
    as_of = int(stored.record.as_of)
    used = set(stored.record.indicators_used)
    ds = load_dataset(ws.data_dir)
    meta = {name: r for name, r in ds.meta.iterrows()}
    latest: dict[str, tuple[int, float, bool, bool]] = {}
    for r in ds.values.itertuples():
        if r.indicator in meta and (r.indicator not in latest or r.year >= latest[r.indicator][0]):
            latest[r.indicator] = (int(r.year), float(r.value), bool(r.approximate), False)
    records, _ = L.read(ws)
    for e in L.active_events(records):
        if e.type == "indicator" and e.name in meta and (e.name not in latest or e.year >= latest[e.name][0]):
            latest[e.name] = (e.year, float(e.value), False, True)
    out = []
    for name, m in meta.items():
        if name not in latest:
            continue
        y, v, approx, led = latest[name]
        age = max(0, as_of - y)  # a ledger reading in the forecast year is as fresh as it gets
        out.append(Freshness(name, m["lens"], m["unit"], y, v, age, age > STALE_AFTER_YEARS,
                             name in used or m["role"] != "state", approx, led))
    return out


def _level(s: float) -> str:
    if abs(s) < 0.25:
        return "near its average"
    word = "above" if s > 0 else "below"
    return f"well {word} its average" if abs(s) >= 1 else f"{word} its average"


def plain_drivers(r: dict, barrier_text: str) -> list[str]:
    """The three largest effects on the log-odds (improvement or settlement), in plain words."""
    y = r["forecast_year"]
    cands = []
    for lens in LENSES:
        v = r["lenses"][lens]
        plain = r["dyad"]["lenses"][lens]["plain"]
        c = v["contribution"]
        verb = "raises" if c > 0 else "lowers"
        cands.append((abs(c), (f"{plain} is {_level(v['state'])} ({v['state']:+.2f} sd); it {verb} the "
                              f"odds of improvement in {y} (x{math.exp(c):.2f}; log-odds {c:+.2f}).")))
        s = v["settle_contribution"]
        verb = "raises" if s > 0 else "lowers"
        cands.append((abs(s), (f"{plain} {verb} the odds of a territorial settlement "
                              f"(x{math.exp(s):.2f}; log-odds {s:+.2f}).")))
    b = r["barrier_settle_contribution"]
    if b:
        cands.append((abs(b), (f"{barrier_text} cuts the odds of a territorial settlement (x{math.exp(b):.2f}; "
                              f"log-odds {b:+.2f}).")))
    return [t for _, t in sorted(cands, key=lambda kv: -kv[0])[:3]]


def lens_lines(r: dict) -> list[str]:
    out = []
    dyad = r["dyad"]
    first_year = dyad["first_year"]
    for lens in LENSES:
        v = r["lenses"][lens]
        line = (f"{LENS_SHORT[lens]}: state {v['state']:+.2f} sd, {_level(v['state'])} ({first_year}-{r['as_of']}); "
                f"contribution to the log-odds of improvement {v['contribution']:+.2f} "
                f"[80%: {v['contribution_lo80']:+.2f} to {v['contribution_hi80']:+.2f}]")
        if lens == "leaders":
            s = v["sides"]
            line += f"; {dyad['side_a']['name']} {s['side_a']:+.2f}, {dyad['side_b']['name']} {s['side_b']:+.2f}"
        out.append(line + ".")
    return out


def diagnostics_text(d: dict) -> str:
    head = "Diagnostics OK" if d["ok"] else "DIAGNOSTICS FAILED"
    text = (f"{head}: R-hat max {d['rhat_max']:.3f} (< 1.01), bulk ESS min {d['ess_bulk_min']:.0f}, tail ESS min "
            f"{d['ess_tail_min']:.0f} (>= 400), divergences {d['divergences']} (0), E-BFMI min {d['bfmi_min']:.2f} "
            f"(>= 0.3); {d['chains']} chains x {d['draws']} draws")
    if not d["ok"]:
        text += ". Failures: " + "; ".join(d["failures"])
    return text


def _barrier_text(ws: Workspace) -> str:
    for _, r in load_dataset(ws.data_dir).meta.iterrows():
        if r["role"] == "barrier":
            return f"The legal barrier in force ({r['higher_means'].strip().rstrip('.')})"
    return "The legal barrier in force"


# ------------------------------------------------------------------------------ build
def build_brief(ws: Workspace, allow_failed: bool = False, since: str | None = None, as_of: int | None = None,
                now: _dt.datetime | None = None, prior: dict | None = None, outside: dict | None = None) -> Brief:
    """Everything on the page. Raises DiagnosticsRefused when the fit failed its diagnostics
    unless ``allow_failed``; a stale fit or a ledger mismatch is flagged on the page.
    ``since``: a date YYYY-MM-DD (compare with the forecast as it stood then) or None (the
    previous update, if any)."""
    from forecast.report.analysis import check_as_of, driver_results, probability_results
    from forecast.report.summary import build_report
    from forecast.store.posterior import current, forecast_after, read_forecast

    stored, head, warning = current(ws)
    check_as_of(stored, as_of)
    r = build_report(stored, stale=is_stale(ws, stored))
    if warning:
        r["ledger_mismatch"] = warning
    d = r["diagnostics"]
    if not d["ok"] and not allow_failed:
        raise DiagnosticsRefused(
            "the stored fit failed its diagnostics (" + "; ".join(d["failures"]) + "): a brief is refused. Refit "
            "(forecast fit --draws N --tune N) or pass --allow-failed-diagnostics for a brief marked "
            "DIAGNOSTICS FAILED on its face")
    warnings = []
    if not d["ok"]:
        warnings.append("DIAGNOSTICS FAILED: do not use these numbers. " + "; ".join(d["failures"]))
    if r["stale"]:
        warnings.append(f"STALE FIT: data/ or priors/ changed since this fit (hash {r['content_hash'][:12]}); "
                        f"run 'forecast fit' to refresh.")
    if warning:
        warnings.append(f"LEDGER MISMATCH: {warning}")
    y = r["forecast_year"]

    # change since the previous update (or since a date)
    data = L.read_bytes(ws)
    records = L.parse(data)
    act = L.active(records)
    batch = L.last_batch(data)
    previous, since_text, what_changed = None, "", None
    if since is not None:
        from forecast.report.analysis import DATE_RE

        if not DATE_RE.fullmatch(since):
            raise ForecastError(f"--since {since!r} is not a date: use YYYY-MM-DD (the date of the previous brief)")
        n = sum(1 for rec in records if str(rec.get("applied_utc", ""))[:10] <= since)
        previous = forecast_after(ws, n, data)
        since_text = f"since {since}"
    elif batch is not None:
        previous = forecast_after(ws, batch.start, data)
        labels = [e.label() for e in batch.events]
        since_text = "since the previous update (" + "; ".join(labels) + ")"
        dr = driver_results(ws, stored)
        steps = dr.steps
        main_lens, main_d = max(steps[:3], key=lambda kv: abs(kv[1]))
        total = dr.new.logodds - dr.old.logodds
        what_changed = (f"Latest update, {'; '.join(labels)} (applied {batch.applied_utc[:10]}): "
                        f"log-odds of improvement {total:+.2f}, mostly through the {main_lens} lens ({main_d:+.2f}).")
    else:
        created = read_forecast(ws).record.created_utc[:10]
        since_text = f"no update since the fit of {created}"
    prev_r = build_report(previous, stale=False) if previous is not None else None
    headlines = []
    for k, v in r["probabilities"].items():
        ch = None
        if prev_r is not None and k in prev_r["probabilities"]:
            d_pp = round(100 * (v["mean"] - prev_r["probabilities"][k]["mean"]), 1)
            ch = f"{d_pp:+.1f} pp" if d_pp else "0.0 pp"
        headlines.append(Headline(k, probability_label(k, y), pct(v["mean"]).strip(), pct(v["lo80"]).strip(),
                                  pct(v["hi80"]).strip(), ch))

    fig = probability_results(ws, stored, prior=prior, outside=outside)
    files = ws.content_files()
    footer = {
        "data_hash": files_hash([f for f in files if f.parent == ws.data_dir], ws.root),
        "priors_hash": files_hash([f for f in files if f.parent == ws.priors_dir], ws.root),
        "fit_hash": r["content_hash"], "ledger_head": head, "ledger_updates": len(act),
        "version": __version__, "seed": r["seed"], "preset": r["preset"], "as_of": r["as_of"],
        "sampler": r["fit"]["sampler"], "chains": r["fit"]["chains"], "draws": r["fit"]["draws"],
        "tune": r["fit"]["tune"], "fit_created_utc": r["fit"]["created_utc"],
        "update_path": stored.record.update_path,
    }
    generated = (now or _dt.datetime.now(_dt.UTC)).isoformat(timespec="seconds")
    return Brief(report=r, generated_utc=generated, headlines=headlines, since=since_text,
                 drivers=plain_drivers(r, _barrier_text(ws)), what_changed=what_changed, lens_lines=lens_lines(r),
                 freshness=freshness(ws, stored), diagnostics_ok=bool(d["ok"]), diagnostics_text=diagnostics_text(d),
                 warnings=warnings, footer=footer, figure=fig,
                 interval_note=f"Intervals: 80% {r['interval']}s of the per-draw probability.")


def reproduce_command(f: dict) -> str:
    return (f"forecast fit --preset {f['preset']} --as-of {f['as_of']} --seed {f['seed']} --draws {f['draws']} "
            f"--tune {f['tune']} --chains {f['chains']}")


def footer_lines(b: Brief) -> list[str]:
    f = b.footer
    return [(f"Data {f['data_hash'][:12]}  priors {f['priors_hash'][:12]}  fit {f['fit_hash'][:12]}  ledger head "
            f"{f['ledger_head']} ({f['ledger_updates']} update(s) in force, path: {f['update_path']})"),
            (f"forecast {f['version']}, preset '{f['preset']}', seed {f['seed']}, {f['sampler']} {f['chains']} x "
            f"{f['draws']} draws, fit created {f['fit_created_utc']}; brief generated {b.generated_utc}"),
            f"Reproduce: {reproduce_command(f)}, then replay ledger.jsonl with 'forecast update'"]


def title(b: Brief) -> str:
    return f"{b.report['dyad']['name']} relations: forecast brief for {b.report['forecast_year']}"


def questions(b: Brief) -> str:
    q = b.report["dyad"]["questions"]
    return f"Questions: {q['improve']} {q['settlement']}"


def freshness_note() -> str:
    return (f"Age = years before the data year; STALE = more than {STALE_AFTER_YEARS} years old; "
            f"~ = approximate value; * = ledger reading; unused = too few values for the fit.")


def _fresh_cells(x: Freshness) -> tuple[str, str, str]:
    v = f"{x.last_value:.4g}" + ("~" if x.approximate else "") + ("*" if x.from_ledger else "")
    flag = ", ".join(f for f, on in (("STALE", x.stale), ("unused", not x.used)) if on)
    return v, f"{x.age} y", flag


# ----------------------------------------------------------------------------- figure
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
        ax.plot([q["lo80"], q["hi80"]], [1, 1], color=S.PRIOR["color"], linewidth=3, linestyle="--",
                solid_capstyle="butt")
        ax.plot([q["mean"]], [1], marker="o", color=S.PRIOR["color"], markerfacecolor="white")
        ax.plot([s["lo95"], s["hi95"]], [2, 2], color=S.POSTERIOR["color"], linewidth=1.5)
        ax.plot([s["lo80"], s["hi80"]], [2, 2], color=S.POSTERIOR["color"], linewidth=5, solid_capstyle="butt")
        ax.plot([s["mean"]], [2], marker="o", color="white", markeredgecolor=S.BLACK, markersize=5)
        ax.annotate(S.pct(s["mean"]), (s["mean"], 2), xytext=(0, 6), textcoords="offset points", ha="center",
                    va="bottom", fontsize=S.SMALL + 0.5, fontweight="bold")
        if p.outside_mean is not None:
            ax.plot([p.outside_mean], [0], marker="|", color=S.OUTSIDE["color"], markersize=12, markeredgewidth=2)
        top = max(s["hi95"], q["hi80"], p.outside_mean or 0)
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


# ----------------------------------------------------------------------------- markdown
def render_markdown(b: Brief) -> str:
    r = b.report
    out = [f"# {title(b)}", "", questions(b), "",
           f"Data through {r['as_of']}, preset '{r['preset']}'. Generated {b.generated_utc}.", ""]
    for w in b.warnings:
        out += [f"> **{w}**", ""]
    out += ["## Headline probabilities", "",
            "| | mean | 80% interval | change |", "|---|---:|---:|---:|"]
    for h in b.headlines:
        out.append(f"| {h.label} | **{h.mean}** | {h.lo80} to {h.hi80} | {h.change or 'n/a'} |")
    out += ["", f"Change: {b.since}. {b.interval_note}"]
    if b.what_changed:
        out += ["", b.what_changed]
    out += ["", "## Top drivers", ""] + [f"{i}. {t}" for i, t in enumerate(b.drivers, 1)]
    out += ["", "## The three lenses now", ""] + [f"- {t}" for t in b.lens_lines]
    png = base64.b64encode(figure_bytes(key_figure(b), "png")).decode()
    out += ["", "## Key figure", "",
            ("Posterior of each headline probability (80% and 95% equal-tailed intervals) against the prior-only "
            "forecast and the outside view."), "", f"![Key figure](data:image/png;base64,{png})", ""]
    out += ["## Data freshness", "", "| indicator | lens | latest | value | age | flag |", "|---|---|---:|---:|---:|---|"]
    for x in b.freshness:
        v, age, flag = _fresh_cells(x)
        out.append(f"| {x.indicator} | {x.lens} | {x.last_year} | {v} | {age} | {flag} |")
    out += ["", freshness_note(), "", "## Diagnostics", "", f"**{b.diagnostics_text}**", "", "---", ""]
    out += [f"<sub>{line}</sub>  " for line in footer_lines(b)]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------- html
def render_html(b: Brief) -> str:
    from forecast.report import style as S

    e = html.escape
    r = b.report
    svg = figure_bytes(key_figure(b), "svg").decode()
    svg = svg[svg.index("<svg"):]
    rows = "".join(f"<tr><th>{e(h.label)}</th><td class=num><b>{e(h.mean)}</b></td><td class=num>{e(h.lo80)} to "
                   f"{e(h.hi80)}</td><td class=num>{e(h.change or 'n/a')}</td></tr>" for h in b.headlines)
    fresh = ""
    for x in b.freshness:
        v, age, flag = _fresh_cells(x)
        fresh += (f"<tr{' class=stale' if x.stale else ''}><td>{e(x.indicator)}</td><td>{e(x.lens)}</td>"
                  f"<td class=num>{x.last_year}</td><td class=num>{e(v)}</td><td class=num>{e(age)}</td>"
                  f"<td>{e(flag)}</td></tr>")
    warn = "".join(f"<p class=warn>{e(w)}</p>" for w in b.warnings)
    badge = "ok" if b.diagnostics_ok else "fail"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title(b))}</title>
<style>
@page {{ size: A4; margin: 14mm; }}
body {{ font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; max-width: 182mm; margin: auto; color: #111; }}
h1 {{ font-size: 15pt; margin: 0 0 2pt; }} h2 {{ font-size: 11pt; margin: 10pt 0 3pt; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 1pt 6pt; text-align: left; }}
.num {{ text-align: right; }} .small {{ font-size: 8pt; color: #444; }}
.warn {{ border: 2px solid {S.FAIL}; color: {S.FAIL}; font-weight: bold; padding: 4pt; }}
.badge {{ padding: 3pt 6pt; font-weight: bold; border: 2px solid; }}
.badge.ok {{ color: {S.OK}; border-color: {S.OK}; }} .badge.fail {{ color: {S.FAIL}; border-color: {S.FAIL}; }}
.fresh td {{ font-size: 8pt; padding: 0 5pt; }} tr.stale td {{ font-weight: bold; }}
svg {{ width: 100%; height: auto; }}
</style></head><body>
<h1>{e(title(b))}</h1>
<p>{e(questions(b))}</p>
<p class=small>Data through {r['as_of']}, preset '{e(r['preset'])}'. Generated {e(b.generated_utc)}.</p>
{warn}
<h2>Headline probabilities</h2>
<table><tr><th></th><th class=num>mean</th><th class=num>80% interval</th><th class=num>change</th></tr>
{rows}</table>
<p class=small>Change: {e(b.since)}. {e(b.interval_note)}</p>
{f'<p>{e(b.what_changed)}</p>' if b.what_changed else ''}
<h2>Top drivers</h2><ol>{''.join(f'<li>{e(t)}</li>' for t in b.drivers)}</ol>
<h2>The three lenses now</h2><ul>{''.join(f'<li>{e(t)}</li>' for t in b.lens_lines)}</ul>
<h2>Key figure</h2>
<figure>{svg}<figcaption class=small>Posterior of each headline probability (80% and 95% equal-tailed intervals)
against the prior-only forecast and the outside view.</figcaption></figure>
<h2>Data freshness</h2>
<table class=fresh><tr><th>indicator</th><th>lens</th><th class=num>latest</th><th class=num>value</th>
<th class=num>age</th><th>flag</th></tr>{fresh}</table>
<p class=small>{e(freshness_note())}</p>
<p><span class="badge {badge}">{e(b.diagnostics_text)}</span></p>
<hr><p class=small>{'<br>'.join(e(x) for x in footer_lines(b))}</p>
</body></html>
"""


# ---------------------------------------------------------------------------------- pdf
KEY_FIGURE_HEIGHT = 2.05   # inches on the page; shrunk (down to MIN_KEY_FIGURE_HEIGHT) when warnings need room
MIN_KEY_FIGURE_HEIGHT = 1.3


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
        for x, h, ha in zip(cols, ["", "mean", "80% interval", "change"], ["left", "right", "right", "left"]):
            xx = x + (0.55 if ha == "right" and h == "mean" else 1.25 if ha == "right" else 0)
            fig.text(xx / W, y[0] / H, h, fontsize=7.5, color=S.GREY, ha=ha, va="baseline")
        for h in b.headlines:
            y[0] -= 10 * 1.45 / 72
            fig.text(cols[0] / W, y[0] / H, h.label, fontsize=9.5, ha="left", va="baseline")
            fig.text((cols[1] + 0.55) / W, y[0] / H, h.mean, fontsize=10.5, fontweight="bold", ha="right",
                     va="baseline")
            fig.text((cols[2] + 1.25) / W, y[0] / H, f"{h.lo80} to {h.hi80}", fontsize=9.5, ha="right", va="baseline")
            fig.text(cols[3] / W, y[0] / H, h.change or "n/a", fontsize=9.5, ha="left", va="baseline")
        para(f"Change: {b.since}. {b.interval_note}", 7.5, 125, color=S.GREY)
        if b.what_changed:
            para(b.what_changed, 8.5)
        space(0.08)
        text("Top drivers", 11, "bold")
        for i, t in enumerate(b.drivers, 1):
            para(f"{i}. {t}", 8.5, indent="    ")
        space(0.08)
        text("The three lenses now", 11, "bold")
        for t in b.lens_lines:
            para(f"- {t}", 8.5, indent="   ")
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
        colx = [0.0, 1.66, 2.0, 2.58, 2.88]
        for c, chunk in enumerate((b.freshness[:half], b.freshness[half:])):
            y[0] = start
            x0 = M + c * (W - 2 * M) / 2
            y[0] -= 7 * 1.4 / 72
            for dx, hdr in zip(colx, ["indicator", "latest", "value", "age", "flag"]):
                fig.text((x0 + dx) / W, y[0] / H, hdr, fontsize=6.8, color=S.GREY, ha="left", va="baseline")
            for x in chunk:
                y[0] -= 7 * 1.35 / 72
                v, age, flag = _fresh_cells(x)
                colr = S.FAIL if x.stale else S.BLACK
                for dx, cell in zip(colx, [x.indicator[:30], str(x.last_year), v, age, flag]):
                    fig.text((x0 + dx) / W, y[0] / H, cell, fontsize=6.8, ha="left", va="baseline", color=colr,
                             fontweight="bold" if x.stale and dx == colx[-1] else "normal")
        y[0] = start - 7 * 1.4 / 72 - half * 7 * 1.35 / 72
        text(freshness_note(), 6.8, color=S.GREY)
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
