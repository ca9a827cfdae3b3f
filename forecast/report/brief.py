"""``forecast brief``: a one-page briefing for decision makers, as PDF, Markdown or HTML.

``build_brief`` computes every item of the page (a ``Brief``) from the stored forecast with
the same ``report.build_report`` that ``forecast show`` uses, so the numbers are identical;
``brief_render.render_markdown``, ``brief_render.render_html`` and ``brief_pdf.render_pdf_figure``
only lay the items out (``brief_figure`` draws the key figure); the texts they share (title, footer,
freshness cells) are here. Nothing writes a file: the API writes the rendered output.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
from dataclasses import dataclass, field

from forecast import LENSES, __version__
from forecast.data.loaders import load_dataset
from forecast.store import ledger as L
from forecast.errors import ForecastError
from forecast.inference.diagnostics import Diagnostics
from forecast.defaults import STALE_AFTER_YEARS, THRESHOLDS
from forecast.report.lenses import Freshness, LensStaleness, freshness, lens_staleness
from forecast.report.readable import Unit, display_names, event_label, units, value_text
from forecast.report.summary import pct, probability_label
from forecast.store.posterior import is_stale
from forecast.workspace import HASHED_INPUTS, Workspace

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
class Brief:
    """The one-page brief's content: what ``Project.brief()`` returns and ``write_brief`` renders.

    report: exactly what 'show --json' prints; every number on the page comes from it.
    generated_utc: when the brief was built (ISO 8601, UTC).
    headlines: one ``Headline`` per headline probability: label, mean and 80% interval as text, and
        the change since ``since`` (None with nothing to compare with).
    since: what the change column compares with, in words (the previous update, a date, or why none).
    drivers: the top three drivers of the forecast, in plain words.
    what_changed: a sentence on the latest update and the lens it moved most, or None.
    lens_lines: each lens's reading, one line per lens.
    freshness: per indicator, its latest value, age and whether it is stale (``report.lenses.Freshness``).
    diagnostics_ok: whether the fit passed its MCMC diagnostics.
    diagnostics_text: the diagnostics badge: R-hat, ESS, divergences, E-BFMI against their thresholds.
    warnings: shown on the face of the page (failed diagnostics, stale fit, ledger mismatch).
    footer: for reproducibility: data, priors and fit hashes, ledger head, version, seed, preset,
        sampler, chains, draws, tune.
    figure: the key figure's data (``report.probabilities.ProbabilityResults``).
    interval_note: what the intervals are, one sentence.
    extra: not used by the renderers; free for a caller's own additions.
    staleness: one plain sentence per lens on how current its data are.
    units: per indicator, its unit as the metadata states it (``report.readable.Unit``), so that each
        value reads in the words of its unit.
    """

    report: dict                  # exactly what 'show --json' prints (build_report)
    generated_utc: str
    headlines: list[Headline]
    since: str                    # what the change column shows ('the effect of the latest update (...)'),
                                  # or why there is none ('no update since the fit of ..., so ...')
    drivers: list[str]            # the top three, in plain words
    what_changed: str | None
    lens_lines: list[str]
    freshness: list[Freshness]
    diagnostics_ok: bool
    diagnostics_text: str
    warnings: list[str]           # shown on the face of the page (failed diagnostics, stale fit, ...)
    footer: dict
    figure: object = None         # probabilities.ProbabilityResults for the key figure
    interval_note: str = ""
    extra: dict = field(default_factory=dict)
    staleness: list[str] = field(default_factory=list)   # one plain sentence per lens (LENSES order)
    units: dict[str, Unit] = field(default_factory=dict)  # indicator id -> its unit (the metadata's)

    @property
    def has_change(self) -> bool:
        """Whether there is an earlier forecast to compare with (else the change column is left out)."""
        return any(h.change is not None for h in self.headlines)


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


def staleness_sentence(x: LensStaleness) -> str:
    """One plain sentence: how old a lens's inputs are and what that means for the forecast."""
    n, k = x.indicators, x.stale
    if n == 0:
        return "No indicator of this lens has enough data for the fit: its contribution rests on the priors."
    many = f"{n} indicators" if n > 1 else "1 indicator"
    if k == 0:
        return (f"{'All ' + many if n > 1 else 'Its 1 indicator'} observed in {x.as_of - STALE_AFTER_YEARS} or "
                f"later: this reading rests on recent data.")
    if k < n:  # short: the PDF page has no line to spare (the model carries a stale state forward)
        return f"{k} of {many} last observed in {x.stale_through} or earlier: this reading is less certain."
    return (f"{'All ' + many if n > 1 else 'Its 1 indicator'} last observed in {x.stale_through} or earlier: this "
            f"reading is much less certain.")


def diagnostics_text(d: Diagnostics) -> str:
    head = "Diagnostics OK" if d.ok else "DIAGNOSTICS FAILED"
    t = THRESHOLDS
    text = (f"{head}: R-hat max {d.rhat_max:.3f} (< {t['rhat_max']:g}), bulk ESS min {d.ess_bulk_min:.0f}, "
            f"tail ESS min {d.ess_tail_min:.0f} (>= {t['ess_tail_min']}), divergences {d.divergences} "
            f"({t['divergences']}), E-BFMI min {d.bfmi_min:.2f} (>= {t['bfmi_min']:g}); "
            f"{d.chains} chains x {d.draws} draws")
    return text  # the failures themselves are in the warning on the face of the page


def _barrier_text(meta) -> str:
    for _, r in meta.iterrows():
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
    from forecast.report.draws import check_as_of
    from forecast.report.history import driver_results
    from forecast.report.probabilities import probability_results
    from forecast.report.summary import build_report
    from forecast.store.posterior import current, forecast_after, forecast_on_day, read_forecast

    if since is not None:  # a bad date before the workspace is read
        from forecast.report.history import DATE_RE, check_not_future

        if not DATE_RE.fullmatch(since):
            raise ForecastError(f"--since / since= {since!r} is not a date: use YYYY-MM-DD (the date of the previous brief)")
        check_not_future(since, "--since / since=")
    stored, head, warning = current(ws)
    check_as_of(stored, as_of)
    ds = load_dataset(ws.data_dir)
    names, unit_of = display_names(ds.meta), units(ds.meta)
    r = build_report(stored, stale=is_stale(ws, stored))
    if warning:
        r["ledger_mismatch"] = warning
    d = stored.record.diagnostics
    if not d.ok and not allow_failed:
        raise DiagnosticsRefused(
            "the stored fit failed its diagnostics (" + "; ".join(d.failures) + "): a brief is refused. Refit "
            "(forecast fit --draws N --tune N) or pass --allow-failed-diagnostics for a brief marked "
            "DIAGNOSTICS FAILED on its face")
    warnings = []
    if not d.ok:
        warnings.append("DIAGNOSTICS FAILED: do not use these numbers. " + "; ".join(d.failures))
    if r["stale"]:
        warnings.append(f"STALE FIT: {HASHED_INPUTS} changed since this fit (hash {r['content_hash'][:12]}); "
                        f"run 'forecast fit' to refresh.")
    if warning:
        warnings.append(f"LEDGER MISMATCH: {warning}")
    y = r["forecast_year"]

    # the change the latest update made (or the change since a date)
    data, records = L.load(ws)
    act = L.active(records)
    batch = L.last_batch(data, records)
    previous, since_text, what_changed = None, "", None
    created = read_forecast(ws).record.created_utc[:10]
    if since is not None:
        previous, _ = forecast_on_day(ws, since, data, records)
        since_text = f"since the forecast as it stood on {since}" if previous is not None else \
            (f"no forecast is stored from {since} to compare with (the earliest is that of the fit of {created}; "
             f"pass --since {created} or later)")
    elif batch is not None and forecast_after(ws, batch.start, data) is None:
        since_text = f"the fit of {created} already includes the latest update, so no earlier forecast to compare with"
    elif batch is not None:
        previous = forecast_after(ws, batch.start, data)
        labels = [event_label(e, names, unit_of) for e in batch.events]
        since_text = "the effect of the latest update (" + "; ".join(labels) + ")"
        dr = driver_results(ws, stored)
        steps = dr.steps
        main_lens, main_d = max(steps[:3], key=lambda kv: abs(kv[1]))
        total = dr.new.effective - dr.old.effective
        what_changed = (f"Latest update, {'; '.join(labels)} (applied {batch.applied_utc[:10]}): "
                        f"log-odds of improvement {total:+.2f}, mostly through the {main_lens} lens ({main_d:+.2f}).")
    else:
        since_text = f"no update since the fit of {created}, so no earlier forecast to compare with"
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
    fresh = freshness(ws, stored)
    generated = (now or _dt.datetime.now(_dt.UTC)).isoformat(timespec="seconds")
    return Brief(report=r, generated_utc=generated, headlines=headlines, since=since_text,
                 drivers=plain_drivers(r, _barrier_text(ds.meta)), what_changed=what_changed,
                 lens_lines=lens_lines(r), freshness=fresh, diagnostics_ok=d.ok,
                 diagnostics_text=diagnostics_text(d),
                 warnings=warnings, footer=footer, figure=fig,
                 interval_note=f"Intervals: 80% {r['interval']}s of the per-draw probability.",
                 staleness=[staleness_sentence(x) for x in lens_staleness(fresh, r["as_of"])],
                 units=units(ds.meta))


def reproduce_command(f: dict) -> str:
    return (f"forecast fit --preset {f['preset']} --as-of {f['as_of']} --seed {f['seed']} --draws {f['draws']} "
            f"--tune {f['tune']} --chains {f['chains']}")


def lens_items(b: Brief) -> list[str]:
    """Each lens's line followed by its staleness sentence."""
    return [f"{line} {stale}".strip() for line, stale in zip(b.lens_lines, b.staleness or [""] * len(b.lens_lines))]


def footer_lines(b: Brief) -> list[str]:
    f = b.footer
    return [(f"Data {f['data_hash'][:12]}  priors {f['priors_hash'][:12]}  fit {f['fit_hash'][:12]}  ledger head "
            f"{f['ledger_head']} ({f['ledger_updates']} ledger event(s) in force, path: {f['update_path']})"),
            (f"forecast {f['version']}, preset '{f['preset']}', seed {f['seed']}, {f['sampler']} {f['chains']} x "
            f"{f['draws']} draws, fit created {f['fit_created_utc']}; brief generated {b.generated_utc}"),
            f"Reproduce: {reproduce_command(f)}, then replay ledger.jsonl with 'forecast update'",
            settlement_source(b.report.get("settlement_evidence"))]


def settlement_source(ev: dict | None) -> str:
    """Where the settlement hazard's coefficients come from, in one line."""
    if not ev:
        return "Settlement hazard: expert priors only (priors/), not learned from a reference class."
    return (f"Settlement hazard: coefficients and base level {ev['sentence']} (ICOW claim {ev['claim']}; "
            f"reference posterior {ev['reference_posterior_sha256'][:12]}).")


def title(b: Brief) -> str:
    return f"{b.report['dyad']['name']} relations: forecast brief for {b.report['forecast_year']}"


def questions(b: Brief) -> str:
    q = b.report["dyad"]["questions"]
    return f"Questions: {q['improve']} {q['settlement']}"


def freshness_note() -> str:
    return (f"Age = years before the data year; STALE = more than {STALE_AFTER_YEARS} years old; "
            f"~ = approximate value; * = ledger reading; unused = too few values for the fit.")


def pdf_freshness_note() -> str:
    """The PDF's note under its freshness table (no age and flag columns there: the page is narrow)."""
    return (f"Year in bold = STALE (over {STALE_AFTER_YEARS} years before the data year); ~ = approximate; "
            f"* = ledger reading; unused = too few values to fit.")


def change_note(b: Brief) -> str:
    """What the change column compares with; without an earlier forecast, why it is left out."""
    if b.has_change:
        return f"Change: {b.since}. {b.interval_note}"
    return f"{no_change_text(b)} {b.interval_note}"


def no_change_text(b: Brief) -> str:
    """Why the brief has no change column: no earlier forecast to compare with."""
    return f"No change shown: {b.since}."


def fresh_cells(b: Brief, x: Freshness) -> tuple[str, str, str]:
    """The value (in the words of its unit, ``readable.value_text``), age and flag cells of a row."""
    v = value_text(x.last_value, b.units.get(x.indicator, Unit(x.unit)))
    v += ("~" if x.approximate else "") + ("*" if x.from_ledger else "")
    flag = ", ".join(f for f, on in (("STALE", x.stale), ("unused", not x.used)) if on)
    return v, f"{x.age} y", flag
