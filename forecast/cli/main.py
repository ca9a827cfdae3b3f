"""The ``forecast`` command line: thin click wrappers over library functions.

Heavy imports happen inside commands, so ``forecast --help`` and ``forecast show``
stay fast. ForecastError -> message and exit 1; usage errors -> exit 2.
"""

from __future__ import annotations

import functools
import json
import sys

import click

from forecast import __version__

workspace_option = click.option(
    "--workspace", "-w", default=".", show_default=True,
    type=click.Path(file_okay=False, dir_okay=True),
    help="Workspace folder holding data/ and priors/.")


def handle_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from forecast.errors import ForecastError
        try:
            return fn(*args, **kwargs)
        except ForecastError as exc:
            raise click.ClickException(str(exc)) from None
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="forecast")
def main():
    """Calibrated, updatable probabilities for Russia-Japan relations.

    Three theory lenses (power shifts, trust and interaction, two-level games)
    feed a hierarchical Bayesian model that gives P(relationship improves next
    year) and P(territorial settlement within 5 / 10 years).

    \b
    Typical use:
      forecast init ws && cd ws
      forecast fit
      forecast show
    """


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@handle_errors
def init(directory):
    """Create a workspace in DIRECTORY from the shipped Russia-Japan default."""
    from forecast.workspace import init_workspace

    ws = init_workspace(directory)
    click.echo(f"Created workspace {ws.root} (data/, priors/). Next: forecast fit --workspace {directory}")


@main.command()
@workspace_option
@click.option("--preset", default="default", show_default=True,
              help="Prior preset: a file priors/NAME.toml (default, realist, constructivist, two-level).")
@click.option("--as-of", "as_of", type=click.IntRange(1900, 2100), default=None,
              help="Fit on data through this year only, as if standing in it. [default: last coded year]")
@click.option("--draws", type=click.IntRange(10, 100_000), default=2000, show_default=True,
              help="Posterior draws per chain (2000: R-hat < 1.01 with margin on the shipped default).")
@click.option("--tune", type=click.IntRange(10, 100_000), default=1000, show_default=True)
@click.option("--chains", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=20161215, show_default=True)
@click.option("--sampler", type=click.Choice(["nutpie", "pymc"]), default="nutpie", show_default=True,
              help="NUTS implementation; PyMC's own sampler is the fallback.")
@click.option("--target-accept", type=click.FloatRange(0.5, 0.999), default=None,
              help="NUTS target acceptance rate. [default: 0.95; after divergences, one automatic "
                   "refit at 0.98 unless --no-retry]")
@click.option("--no-retry", is_flag=True, help="Do not refit at a higher target acceptance after divergences.")
@click.option("--strict", is_flag=True, help="Exit 1 if the diagnostics fail (the fit is still saved).")
@click.option("--json", "as_json", is_flag=True, help="Print the forecast as JSON (as 'show --json').")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@handle_errors
def fit(workspace, preset, as_of, draws, tune, chains, seed, sampler, target_accept, no_retry, strict, as_json,
        quiet):
    """Fit the model by MCMC and store the posterior in the workspace."""
    from forecast.defaults import RETRY_TARGET_ACCEPT, TARGET_ACCEPT
    from forecast.store.fit import fit as run_fit
    from forecast.report.summary import build_report, format_report
    from forecast.store.posterior import read_forecast
    from forecast.workspace import open_workspace

    ws = open_workspace(workspace)
    progress = not quiet and not as_json and sys.stderr.isatty()
    if not quiet and not as_json:
        click.echo(f"Fitting preset '{preset}' on {ws.root} ({chains} chains x {draws} draws, "
                   f"{tune} tuning, seed {seed}); compiling the model first...", err=True)
    kwargs = dict(preset=preset, as_of=as_of, draws=draws, tune=tune, chains=chains, seed=seed,
                  progress=progress, sampler=sampler)
    result = run_fit(ws, **kwargs, target_accept=target_accept or TARGET_ACCEPT)
    if result.diagnostics["divergences"] and target_accept is None and not no_retry:
        click.secho(f"{result.diagnostics['divergences']} divergent transition(s) at target_accept "
                    f"{TARGET_ACCEPT}: refitting once at {RETRY_TARGET_ACCEPT} (smaller steps; --no-retry to skip)",
                    fg="yellow", err=True)
        first = result.timings["total_s"]
        result = run_fit(ws, **kwargs, target_accept=RETRY_TARGET_ACCEPT)
        result.timings["total_s"] += first
    report = build_report(read_forecast(ws), stale=False)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        t = result.timings
        click.echo(f"Sampled with {result.sampler} in {t['total_s']:.1f} s "
                   f"(compile {t.get('compile_s', float('nan')):.1f} s, sampling {t['sample_s']:.1f} s); "
                   f"saved {ws.posterior_path.relative_to(ws.root)}", err=True)
        click.echo(format_report(report))
    if not result.diagnostics["ok"]:
        click.secho("WARNING: diagnostics failed: " + "; ".join(result.diagnostics["failures"]),
                    fg="red", bold=True, err=True)
        if strict:
            sys.exit(1)


@main.command()
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def show(workspace, as_json):
    """Show the stored forecast: probabilities, lens contributions, diagnostics."""
    from forecast.report.summary import build_report, format_report
    from forecast.store.posterior import current, is_stale
    from forecast.workspace import open_workspace

    ws = open_workspace(workspace)
    stored, head, warning = current(ws)
    report = build_report(stored, stale=is_stale(ws, stored))
    if warning:
        report["ledger_mismatch"] = warning
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        if warning:
            click.secho(f"** LEDGER MISMATCH: {warning} **", fg="red", err=True)
        click.echo(format_report(report))


def format_update(r: dict) -> str:
    from forecast.report.summary import pct, probability_label

    if r.get("noop"):
        return f"No change: {r['message']}"
    lines = [("DRY RUN (nothing recorded): " if r.get("dry_run") else "Recorded: ")
             + "; ".join(f"{e['name']}" + (f" = {e['value']:g}" if e.get("value") is not None else "")
                         + f" ({e['date']}) [{e['id']}]" for e in r["events"])]
    path = r["path"]
    if path == "psis":
        path = f"fast path: Pareto-smoothed importance reweighting (Pareto k {r['pareto_k']:.2f}, ESS {r['ess']:.0f})"
    lines.append(f"Update path: {path}")
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
    return "\n".join(lines)


@main.command()
@workspace_option
@click.option("--indicator", help="Indicator name for a reading (see 'forecast data list').")
@click.option("--value", type=float, help="The reading's value, in the indicator's unit.")
@click.option("--event", "kind", help="Coded event kind from data/event_kinds.csv.")
@click.option("--date", help="YYYY, YYYY-MM or YYYY-MM-DD; readings aggregate into that year.")
@click.option("--source", help="Where the reading or event is reported (required).")
@click.option("--note", default="", help="Free text.")
@click.option("--file", "batch", type=click.Path(dir_okay=False), help="CSV batch (date,indicator|kind,value,source,note): all or nothing.")
@click.option("--dry-run", is_flag=True, help="What-if: the same report, nothing recorded.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def update(workspace, indicator, value, kind, date, source, note, batch, dry_run, as_json):
    """Record a reading or an event and update the forecast in seconds.

    \b
    Examples:
      forecast update --indicator japan_cabinet_approval --value 25 --date 2026-10 --source NHK
      forecast update --event summit_held --date 2026-09-03 --source MOFA --note "Vladivostok"
      forecast update --file events.csv
    """
    from forecast.data.batch import read_batch
    from forecast.store.ledger import Event
    from forecast.update.apply import apply
    from forecast.workspace import open_workspace

    if batch and (indicator or kind or value is not None or date or source):
        raise click.UsageError("--file cannot be combined with --indicator/--event/--value/--date/--source")
    rows = None
    if batch:
        events, rows = read_batch(batch)
        file = click.format_filename(batch)
    else:
        if bool(indicator) == bool(kind):
            raise click.UsageError("give exactly one of --indicator NAME (with --value) or --event KIND, or --file")
        if indicator and value is None:
            raise click.UsageError("--indicator needs --value")
        if kind and value is not None:
            raise click.UsageError("--value applies to --indicator readings, not to --event")
        if not date:
            raise click.UsageError("missing option '--date'")
        if source is None:
            raise click.UsageError("missing option '--source'")
        events = [Event(type="indicator" if indicator else "event", date=date, name=indicator or kind,
                        source=source, note=note, value=value)]
        file = "command line"
    ws = open_workspace(workspace)
    report = apply(ws, events, dry_run=dry_run, file=file, rows=rows, progress=not as_json and sys.stderr.isatty())
    click.echo(json.dumps(report, indent=2) if as_json else format_update(report))


@main.command()
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def undo(workspace, as_json):
    """Revert the last update; the forecast returns exactly to what it was."""
    from forecast.update.undo import undo_last
    from forecast.workspace import open_workspace

    r = undo_last(open_workspace(workspace))
    if as_json:
        click.echo(json.dumps(r, indent=2))
    else:
        click.echo(f"Undone: {', '.join(r['undone'])}. Forecast restored to ledger head {r['restored_head']}.")


@main.command()
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def history(workspace, as_json):
    """List every update: id, date applied, event and the headline probabilities after it."""
    from forecast.store import ledger as L
    from forecast.report.summary import pct
    from forecast.workspace import open_workspace

    ws = open_workspace(workspace)
    records, _ = L.read(ws)
    rows = []
    for i, r in enumerate(records, start=1):
        ev = r.get("event")
        rows.append({"seq": i, "op": r["op"], "id": r["id"], "applied_utc": r.get("applied_utc"),
                     "event": ev, "path": r.get("path"), "after": r.get("after")})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No updates recorded yet (ledger.jsonl is empty).")
        return
    for row in rows:
        what = (f"{row['event']['name']}" + (f" = {row['event']['value']:g}" if row['event'].get('value') is not None else "")
                + f" ({row['event']['date']})") if row["event"] else f"undo of {row['id']}"
        after = row["after"] or {}
        probs = "  ".join(f"{k.replace('_', ' ')} {pct(v['mean']).strip()}" for k, v in after.items())
        click.echo(f"{row['seq']:>3} {row['applied_utc']} {row['op']:4} {row['id']} {what:45} -> {probs}")


def _write_out(out: str, path, write) -> int:
    """Write atomically (temporary file beside the target, then os.replace); returns the size."""
    import os

    from forecast.report.export import write_error
    from forecast.workspace import atomic_write

    umask = os.umask(0)
    os.umask(umask)

    def write_readable(tmp):  # mkstemp makes 0600 files; an export gets the usual permissions
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask)

    try:
        atomic_write(path, write_readable)
    except OSError as exc:
        raise write_error(out, exc) from None
    return path.stat().st_size


def _save_figure(fig, fmt: str, dpi: int, metadata: dict):
    from forecast.report import style

    def write(tmp):
        with style.context():
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)
    return write


@main.command()
@click.argument("kind", type=click.Choice(["probabilities", "lenses", "trajectory", "drivers", "diagnostics"]))
@click.option("--out", "-o", required=True, help="Output file; the format comes from the suffix: .png, .svg or .pdf.")
@click.option("--dpi", type=click.IntRange(50, 1200), default=200, show_default=True,
              help="Resolution of PNG output (and of raster parts in SVG/PDF).")
@click.option("--as-of", "as_of", type=click.IntRange(1900, 2100), default=None,
              help="Draw only if the stored fit was made as of this year (guards a briefing against another fit).")
@click.option("--from", "start", default=None,
              help="drivers only: start state: 'fit', 'now', a fitted year YYYY (in-sample) or a date YYYY-MM-DD "
                   "(the forecast as it stood then). [default: before the latest update]")
@click.option("--to", "end", default=None, help="drivers only: end state, as --from. [default: now]")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@handle_errors
def plot(kind, out, dpi, as_of, start, end, workspace, as_json):
    """Write a briefing figure of KIND to --out (PNG, SVG or PDF).

    \b
    Kinds:
      probabilities  posterior of each headline probability vs the prior-only forecast and the outside view
      lenses         each lens's latent state over time (fan chart) and its projection, key events marked
      trajectory     the probabilities across the update history (in-sample since 1992 without updates)
      drivers        waterfall of the log-odds of improvement, lens by lens (latest update, or --from/--to)
      diagnostics    rank plots and summary table of the main parameters (methods annex)

    \b
    Examples:
      forecast plot probabilities --out figures/probabilities.png
      forecast plot drivers --from 2016 --to 2025 --out drivers.pdf
    """
    import time

    from forecast.report import analysis
    from forecast.report.export import PLOT_FORMATS, check_out
    from forecast.report.plots import plot as draw
    from forecast.workspace import open_workspace

    t0 = time.perf_counter()
    if (start or end) and kind != "drivers":
        raise click.UsageError("--from/--to apply to 'forecast plot drivers' only")
    path, fmt = check_out(out, PLOT_FORMATS)
    ws = open_workspace(workspace)
    stored, warning = analysis.load_current(ws, as_of)
    report = analysis.report_for(ws, stored)
    fig = draw(kind, analysis.compute(kind, ws, stored, start, end))
    size = _write_out(out, path, _save_figure(fig, fmt, dpi, {"Title": f"forecast plot {kind}"} if fmt != "png"
                                              else {"Software": f"forecast {__version__}"}))
    flags = [m for m, on in (("DIAGNOSTICS FAILED: do not use these numbers", not report["diagnostics"]["ok"]),
                             ("STALE FIT: data/ or priors/ changed since this fit", report["stale"]),
                             (f"LEDGER MISMATCH: {warning}", bool(warning))) if on]
    info = {"kind": kind, "path": str(path.resolve()), "format": fmt, "bytes": size, "dpi": dpi,
            "as_of": report["as_of"], "forecast_year": report["forecast_year"], "warnings": flags,
            "seconds": round(time.perf_counter() - t0, 2)}
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        for f in flags:
            click.secho(f"** {f} **", fg="red", err=True)
        click.echo(f"Wrote {path} ({fmt}, {size / 1024:.0f} kB): {kind} for {report['forecast_year']}")


@main.command()
@click.option("--out", "-o", required=True, help="Output file: .pdf (one A4 page), .md or .html.")
@click.option("--allow-failed-diagnostics", is_flag=True,
              help="Produce the brief even though the fit failed its diagnostics (marked so on its face).")
@click.option("--since", default=None,
              help="Show the change since this date, YYYY-MM-DD (e.g. the previous brief). "
                   "[default: since the previous update]")
@click.option("--as-of", "as_of", type=click.IntRange(1900, 2100), default=None,
              help="Brief only if the stored fit was made as of this year.")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print what was written, and the headline numbers, as JSON.")
@handle_errors
def brief(out, allow_failed_diagnostics, since, as_of, workspace, as_json):
    """Write a one-page brief for decision makers (PDF, Markdown or HTML).

    Headline probabilities with 80% intervals and the change since the previous
    update, the top three drivers in plain words, each lens's reading, the key
    figure, data freshness, a diagnostics badge and a reproducibility footer. The
    numbers are those of 'forecast show'. Refused when the fit failed its
    diagnostics, unless --allow-failed-diagnostics.

    \b
    Example:
      forecast brief --out brief.pdf
    """
    import time

    from forecast.report import brief as B
    from forecast.report.export import BRIEF_FORMATS, check_out
    from forecast.workspace import open_workspace

    t0 = time.perf_counter()
    path, fmt = check_out(out, BRIEF_FORMATS)
    ws = open_workspace(workspace)
    b = B.build_brief(ws, allow_failed=allow_failed_diagnostics, since=since, as_of=as_of)
    if fmt == "pdf":
        write = _save_figure(B.render_pdf_figure(b), "pdf", 200,
                             {"Title": B.title(b), "Creator": f"forecast {__version__}"})
    else:
        text = B.render_markdown(b) if fmt == "md" else B.render_html(b)

        def write(tmp):
            tmp.write_text(text, encoding="utf-8")
    size = _write_out(out, path, write)
    r = b.report
    info = {"path": str(path.resolve()), "format": fmt, "bytes": size, "pages": 1 if fmt == "pdf" else None,
            "forecast_year": r["forecast_year"], "probabilities": r["probabilities"],
            "diagnostics_ok": b.diagnostics_ok, "warnings": b.warnings, "seconds": round(time.perf_counter() - t0, 2)}
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        for w in b.warnings:
            click.secho(f"** {w} **", fg="red", err=True)
        click.echo(f"Wrote {path} ({fmt}, {size / 1024:.0f} kB): brief for {r['forecast_year']}")


@main.group()
def data():
    """Inspect and validate the workspace's data and priors."""


@data.command("check")
@workspace_option
@handle_errors
def data_check(workspace):
    """Validate data/ and priors/; report every problem with file, row and field."""
    from forecast.data.loaders import load_dataset
    from forecast.errors import ValidationError
    from forecast.model.priors import check_all_presets
    from forecast.workspace import open_workspace

    ws = open_workspace(workspace)
    problems = []
    try:
        ds = load_dataset(ws.data_dir)
    except ValidationError as exc:
        problems.extend(exc.problems)
        ds = None
    problems.extend(check_all_presets(ws.priors_dir))
    from forecast.store import ledger as L
    from forecast.errors import ForecastError, Problem

    try:
        n_updates = len(L.active(L.parse(L.read_bytes(ws))))
    except ForecastError as exc:
        problems.append(Problem(L.LEDGER_FILE, str(exc).split(": ", 1)[-1]))
        n_updates = 0
    if problems:
        raise ValidationError(problems)
    n_approx = int(ds.values["approximate"].sum())
    click.echo(f"OK: {len(ds.meta)} indicators, {len(ds.values)} values ({n_approx} approximate), "
               f"{len(ds.outcomes)} coded years {ds.outcomes['year'].min()}-{ds.outcomes['year'].max()}, "
               f"{len(ds.events)} seed events, {n_updates} ledger update(s) in force, "
               f"presets: {', '.join(p.stem for p in sorted(ws.priors_dir.glob('*.toml')))}")


@data.command("list")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def data_list(workspace, as_json):
    """List indicators with lens, unit, coverage and latest value."""
    from forecast.data.loaders import load_dataset
    from forecast.workspace import open_workspace

    ds = load_dataset(open_workspace(workspace).data_dir)
    rows = []
    for name, m in ds.meta.iterrows():
        v = ds.values[ds.values["indicator"] == name]
        last = v.iloc[-1]
        rows.append({"name": name, "lens": m["lens"], "side": m["side"] or None, "role": m["role"],
                     "unit": m["unit"], "description": m["description"],
                     "first_year": int(v["year"].min()), "last_year": int(last["year"]),
                     "last_value": float(last["value"]), "last_value_approximate": bool(last["approximate"]),
                     "n_values": int(len(v))})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'indicator':38} {'lens':8} {'unit':22} {'years':>10} {'last value':>12}")
    for r in rows:
        approx = "~" if r["last_value_approximate"] else " "
        click.echo(f"{r['name']:38} {r['lens']:8} {r['unit'][:22]:22} {r['first_year']}-{r['last_year']}"
                   f" {approx}{r['last_value']:>11.4g}")
    click.echo("~ = approximate (recalled from the publisher, not read from a table)")


def _prepare_out_dir(out: str):
    """Check an output folder before minutes of work: create it if its parent exists, and
    make sure it is writable (nothing is written until the results are complete)."""
    import os
    from pathlib import Path

    p = Path(out)
    if p.exists() and not p.is_dir():
        raise click.ClickException(f"--out {out}: exists and is not a folder; give a folder path")
    if not p.exists():
        if not p.parent.is_dir():
            raise click.ClickException(f"--out {out}: the parent folder {p.parent} does not exist; create it first")
        if not os.access(p.parent, os.W_OK):
            raise click.ClickException(f"--out {out}: no permission to create a folder in {p.parent}")
    elif not os.access(p, os.W_OK):
        raise click.ClickException(f"--out {out}: the folder is not writable; choose another --out")
    return p


def _progress(total: int, label: str, quiet: bool):
    """A rich progress bar on stderr (none when quiet or not a terminal)."""
    import contextlib

    if quiet:
        return contextlib.nullcontext(lambda *_: None)
    if not sys.stderr.isatty():  # logs and pipes: one plain line per step
        done = [0]

        def line(desc=""):
            done[0] += 1
            click.echo(f"{label}: {done[0]}/{total} {desc}", err=True)
        return contextlib.nullcontext(line)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    @contextlib.contextmanager
    def bar():
        with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}"), console=Console(stderr=True), transient=False) as prog:
            task = prog.add_task("", total=total)
            yield lambda desc="": prog.update(task, advance=1, description=desc)
    return bar()


@main.command()
@workspace_option
@click.option("--from", "start", type=click.IntRange(1900, 2100), default=None,
              help="First forecast year (fitted on data through the year before). [default: 6 years after the "
                   "first coded year]")
@click.option("--to", "end", type=click.IntRange(1900, 2100), default=None,
              help="Last forecast year. [default: last coded year]")
@click.option("--preset", default="default", show_default=True, help="Prior preset (priors/NAME.toml).")
@click.option("--draws", type=click.IntRange(10, 100_000), default=1000, show_default=True,
              help="Posterior draws per chain, per origin and variant.")
@click.option("--tune", type=click.IntRange(10, 100_000), default=1000, show_default=True)
@click.option("--chains", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=20161215, show_default=True)
@click.option("--jobs", type=click.IntRange(1, 64), default=None,
              help="Origins fitted in parallel. [default: the number of cores]")
@click.option("--no-single-lens", is_flag=True, help="Skip the single-lens baselines (4x fewer samplings).")
@click.option("--out", "out", type=click.Path(), default=None,
              help="Folder for backtest_rows.csv and backtest.json (created if its parent exists).")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@handle_errors
def backtest(workspace, start, end, preset, draws, tune, chains, seed, jobs, no_single_lens, out, as_json, quiet):
    """Rolling-origin backtest: fit through Y-1, predict Y, score against baselines.

    Scores the model, climatology, persistence and each single-lens model on the
    same years (Brier, log and ranked probability scores), with the Brier skill
    against climatology and a bootstrap interval, and a CORP reliability table.
    """
    from forecast.validate import backtest as B
    from forecast.workspace import open_workspace

    ws = open_workspace(workspace)
    out_dir = _prepare_out_dir(out) if out else None
    settings = B.Settings(preset=preset, draws=draws, tune=tune, chains=chains, seed=seed,
                          single_lens=not no_single_lens)
    from forecast.data.loaders import load_dataset

    years = B.origin_years(load_dataset(ws.data_dir).outcomes, start, end)
    with _progress(len(years), "backtest origins", quiet or as_json) as tick:
        result = B.run(ws, years, settings, jobs, on_done=lambda o: tick(f"{o['year']} done ({o['seconds']:.0f} s)"))
    if out_dir is not None:
        _write_backtest(out_dir, result)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(B.format_summary(result))
        if out_dir is not None:
            click.echo(f"Wrote {out_dir / 'backtest_rows.csv'} and {out_dir / 'backtest.json'}")


def _write_backtest(out_dir, result: dict) -> None:
    import csv

    from forecast.validate.backtest import row_table
    from forecast.workspace import atomic_write

    out_dir.mkdir(exist_ok=True)
    rows = row_table(result)

    def write_csv(tmp):
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)

    atomic_write(out_dir / "backtest_rows.csv", write_csv)
    atomic_write(out_dir / "backtest.json", lambda tmp: tmp.write_text(json.dumps(result, indent=2)))


@main.command()
@workspace_option
@click.option("--preset", "presets", multiple=True,
              help="Presets for the sensitivity table (repeatable). [default: every priors/*.toml]")
@click.option("--refit", is_flag=True,
              help="Fit the presets whose reweighting is unreliable (Pareto k > 0.7); about a minute each.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def check(workspace, presets, refit, as_json):
    """Check the stored fit: MCMC diagnostics, predictive checks, PSIS-LOO,
    prior sensitivity, lens ablation and the outside view."""
    from forecast.validate.check import format_check, run
    from forecast.workspace import open_workspace

    result = run(open_workspace(workspace), list(presets) or None, refit=refit)
    if as_json:
        click.echo(json.dumps(result, indent=2, default=float))
    else:
        click.echo(format_check(result))


if __name__ == "__main__":  # pragma: no cover
    main()
