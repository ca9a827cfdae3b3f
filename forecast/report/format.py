"""Text renderers of the API's results: what the CLI prints when ``--json`` is not given.

Each function takes a result of ``forecast.api`` (a report dict or a typed record) and
returns text; nothing here reads files or prints. ``show``'s report is rendered by
``summary.format_report``, ``check``'s by ``validate.check.format_check`` and
``backtest``'s by ``validate.backtest.format_summary``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from forecast.report.readable import human_number
from forecast.report.summary import format_report, pct, probability_label

if TYPE_CHECKING:
    from forecast.api import DataCheck, PlotFile, BriefFile
    from forecast.data.prefill import Prefilled
    from forecast.inference.diagnostics import Diagnostics
    from forecast.inference.fitting import FitResult
    from forecast.inference.retry import RetryNote

__all__ = ["format_report", "fit_started", "phase_started", "phase_finished", "retry_notice", "fit_finished",
           "diagnostics_warning", "format_update",
           "format_undo", "format_history", "format_data_check", "format_data_list", "plot_written", "brief_written",
           "prefilled", "blank_created"]


def fit_started(preset: str, root, chains: int, draws: int, tune: int, seed: int) -> str:
    return (f"Fitting preset '{preset}' on {root} ({chains} chains x {draws} draws, "
            f"{tune} tuning, seed {seed})")


# How long nutpie's numba compile takes, as measured in the README's "Speed" section (2-core machine).
COMPILE_NOTE = ("~35 s the first time a model of this shape is compiled on a 2-core machine, longer on a "
                "fresh install; ~6 s once its native code is cached")
PHASE_STARTS = {"load": "Loading data and priors", "build": "Building the model",
                "compile": f"Compiling the model ({COMPILE_NOTE})", "sample": "Sampling",
                "project": "Checking convergence and projecting", "save": "Saving the fit"}
PHASE_ENDS = {"load": "Loaded data and priors", "build": "Built the model", "compile": "Compiled the model",
              "sample": "Sampled", "project": "Checked convergence and projected", "save": "Saved the fit"}


# The first compile on a fresh machine (an empty numba kernel cache), as measured by benchmarks/bench_cold.py.
COLD_COMPILE_NOTE = ("first compile on this machine: ~1-2 min on 2 cores while numba builds the model's "
                     "kernels into {folder}; later fits compile in ~4-6 s")


def phase_started(phase: str, detail: str = "") -> str:
    """The line announcing a fit phase (``inference.progress.PHASES``); a compile on a fresh machine
    (``detail`` "cold:FOLDER") says so, and how long it takes."""
    if phase == "compile" and detail.startswith("cold:"):
        return f"Compiling the model ({COLD_COMPILE_NOTE.format(folder=detail[5:])})..."
    return PHASE_STARTS[phase] + "..."


def phase_finished(phase: str, seconds: float, detail: str = "") -> str:
    """The line closing a fit phase, with its elapsed time (and the phase's remark, if any)."""
    return f"{PHASE_ENDS[phase]} in {seconds:.1f} s" + (f" ({detail})" if detail else "")


def refit_started(reason: str) -> str:
    """The line an update prints on stderr before it refits (the refit takes as long as 'forecast fit')."""
    return f"Refitting the model on the data plus the ledger ({reason}); this takes as long as 'forecast fit'"


def retry_notice(note: "RetryNote") -> str:
    return f"{note.reason}: refitting once at {note.kept_target_accept} (smaller steps; --no-retry to skip)"


def fit_finished(result: "FitResult", saved: str) -> str:
    t = result.timings
    return (f"Sampled with {result.sampler} in {t['total_s']:.1f} s "
            f"(compile {t.get('compile_s', float('nan')):.1f} s, sampling {t['sample_s']:.1f} s); saved {saved}")


def diagnostics_warning(diagnostics: Diagnostics) -> str | None:
    """The warning for a fit that failed its diagnostics, or None."""
    return None if diagnostics.ok else "WARNING: diagnostics failed: " + "; ".join(diagnostics.failures)


def format_update(r: dict) -> str:
    if r.get("noop"):
        return f"No change: {r['message']}"
    lines = [("DRY RUN (nothing recorded): " if r.get("dry_run") else "Recorded: ")
             + "; ".join(f"{e['name']}" + (f" = {e['value']:g}" if e.get("value") is not None else "")
                         + f" ({e['date']}) [{e['id']}]" for e in r["events"])]
    lines.append(f"Update path: {r['path_message']}")
    lines.append("")
    lines.append(f"{'':38}{'before (80% interval)':>24}   {'after (80% interval)':>24}   change")
    y = r["forecast_year"]
    for k, v in r["probabilities"].items():
        b, a = v["before"], v["after"]
        lines.append(f"{probability_label(k, y):38}{pct(b['mean'])} [{pct(b['lo80'])}-{pct(b['hi80'])}]"
                     f" -> {pct(a['mean'])} [{pct(a['lo80'])}-{pct(a['hi80'])}]   {v['change_pp']:+.1f} pp")
    lines.append("Intervals: 80% equal-tailed posterior intervals; change in percentage points of the mean.")
    lines.append("")
    lines.append(f"Attribution: change in each lens's contribution to the log-odds of improvement in {y}")
    for lens, v in sorted(r["attribution"].items(), key=lambda kv: -abs(kv[1]["delta_logodds"])):
        who = ", ".join(v["events"]) if v["events"] else "(no new evidence on this lens)"
        lines.append(f"  {lens:8} {v['delta_logodds']:+.3f}   {who}")
    if r.get("ledger_head"):
        lines.append(f"Ledger head {r['ledger_head']}.")
    return "\n".join(lines)


def format_undo(r: dict) -> str:
    text = (f"Undone: {', '.join(r['undone'])}. Ledger head {r['ledger_head']}: the forecast is back to that of "
            f"ledger head {r['forecast_of_head']}, before the undone update")
    return text + (f"; {r['recomputed']}." if r.get("recomputed") else ".")


def format_history(rows: list[dict]) -> str:
    if not rows:
        return "No updates recorded yet (ledger.jsonl is empty)."
    lines = []
    for row in rows:
        ev = row["event"]
        what = (f"{ev['name']}" + (f" = {ev['value']:g}" if ev.get('value') is not None else "")
                + f" ({ev['date']})") if ev else f"undo of {row['id']}"
        after = row["after"] or {}
        probs = "  ".join(f"{k.replace('_', ' ')} {pct(v['mean']).strip()}" for k, v in after.items())
        if not after and row.get("batch_result_at", row["seq"]) != row["seq"]:
            probs = f"(part of update {row.get('update')}: its result is on record {row['batch_result_at']})"
        lines.append(f"{row['seq']:>3} {row['applied_utc']} {row['op']:4} {row['id']} {what:45} -> {probs}"
                     f"  [ledger head {row['ledger_head']}]")
    return "\n".join(lines)


def format_data_check(c: "DataCheck") -> str:
    return (f"OK: {c.indicators} indicators, {c.values} values ({c.approximate} approximate), "
            f"{c.coded_years} coded years {c.first_year}-{c.last_year}, "
            f"{c.seed_events} seed events, {c.ledger_updates} ledger event(s) in force, "
            f"presets: {', '.join(c.presets)}")


def prefilled(p: "Prefilled") -> str:
    return (f"Prefilled the {p.lens} lens: {p.indicator}, {p.n_values} values {p.first_year}-{p.last_year} "
            f"(COW NMC 7.0).")


def blank_created(dyad: str, root, directory, done: list) -> str:
    lines = [f"Created a blank workspace for {dyad} in {root}."] + [prefilled(p) for p in done]
    lines += ["The prior presets in priors/ were written for the shipped default: review their rationales.",
              f"Next: fill workspace.toml and data/, then run 'forecast data check --workspace {directory}'."]
    return "\n".join(lines)


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, ending in '…' where it was cut."""
    return text if len(text) <= width else text[:width - 1] + "…"


def format_data_list(rows: list[dict]) -> str:
    lines = [f"{'indicator':38} {'lens':8} {'unit':22} {'years':>10} {'last value':>12}"]
    for r in rows:
        approx = "~" if r["last_value_approximate"] else " "
        lines.append(f"{r['name']:38} {r['lens']:8} {cut(r['unit'], 22):22} {r['first_year']}-{r['last_year']}"
                     f" {approx}{human_number(r['last_value'], 4):>11}")
    lines.append("~ = approximate (recalled from the publisher, not read from a table); "
                 "'forecast data list --json' gives every unit in full")
    return "\n".join(lines)


def plot_written(p: "PlotFile") -> str:
    return f"Wrote {p.path} ({p.format}, {p.bytes / 1024:.0f} kB): {p.kind} for {p.forecast_year}"


def brief_written(b: "BriefFile") -> str:
    return f"Wrote {b.path} ({b.format}, {b.bytes / 1024:.0f} kB): brief for {b.forecast_year}"
