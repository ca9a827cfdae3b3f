"""``forecast backtest`` and ``forecast check``: judging the forecaster."""

from __future__ import annotations

import sys

import click

from forecast import api
from forecast import defaults as D
from forecast.cli.options import (YEAR, check_jobs_scheduler, echo_json, handle_errors, jobs_option, json_option,
                                  preset_option, quiet_option, sampling_options, scheduler_option,
                                  workspace_option)
from forecast.report.export import PLOT_FORMATS


class Progress:
    """Progress of a run of ``total`` steps on stderr: a rich bar on a terminal, one plain line
    per step in logs and pipes, nothing when quiet. ``start(total)`` then ``tick(description)``."""

    def __init__(self, label: str, quiet: bool):
        self.label, self.quiet = label, quiet
        self.total, self.done, self.bar, self.task = 0, 0, None, None

    def start(self, total: int) -> None:
        self.total = total
        if self.quiet or not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn

        self.bar = Bar(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       TextColumn("{task.description}"), console=Console(stderr=True), transient=False)
        self.bar.start()
        self.task = self.bar.add_task("", total=total)

    def tick(self, desc: str = "") -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=desc)
            return
        self.done += 1
        click.echo(f"{self.label}: {self.done}/{self.total} {desc}", err=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def section_line(event) -> None:
    """A line on stderr as each section of 'forecast check' starts, and as it ends with its time."""
    from forecast.validate.check import SECTIONS

    name = SECTIONS[event.section]
    click.echo(f"{name}..." if event.seconds is None else f"{name}: done in {event.seconds:.1f} s", err=True)


@click.command()
@workspace_option
@click.option("--from", "start", type=YEAR, default=None,
              help="First forecast year (fitted on data through the year before). [default: "
                   f"{D.MIN_FITTED_YEARS} years after the first coded year]")
@click.option("--to", "end", type=YEAR, default=None,
              help="Last forecast year. [default: last coded year]")
@preset_option("Prior preset (priors/NAME.toml).")
@sampling_options(D.BACKTEST_DRAWS, D.BACKTEST_TUNE, D.BACKTEST_CHAINS,
                  "Posterior draws per chain, per origin and variant.")
@jobs_option("Origins fitted in parallel: local worker processes (1: in this process). "
             "[default: the number of cores]")
@scheduler_option
@click.option("--no-single-lens", is_flag=True, help="Skip the single-lens baselines (3 fewer fits per origin).")
@click.option("--no-candidates", is_flag=True,
              help="Fit only the default outcome form, not every candidate (2 fewer fits per origin; no "
                   "'stacked' or 'recalibrated' candidate either).")
@click.option("--recode", type=click.Path(dir_okay=False), default=None,
              help="CSV of perturbations (year,change,reason): rerun the backtest once per row with that year's "
                   "coded change recoded by one step, and report the skill under each (validate.recode).")
@click.option("--out", "out", type=click.Path(), default=None,
              help="Folder for backtest_rows.csv, backtest.json and the figures backtest_reliability.FMT and "
                   "backtest_cumulative.FMT (created, with its parents, if missing).")
@click.option("--plot-format", type=click.Choice(PLOT_FORMATS), default="png", show_default=True,
              help=f"Format FMT of the two figures written with --out (PNG at {D.PLOT_DPI} dpi, as 'forecast plot').")
@json_option("Print the full result as JSON; the progress lines still go to stderr.")
@quiet_option
@handle_errors
def backtest(workspace, start, end, preset, draws, tune, chains, seed, jobs, scheduler, no_single_lens, no_candidates,
             recode, out, plot_format, as_json, quiet):
    """Rolling-origin backtest: fit through Y-1, predict Y, score against baselines.

    Scores the model (the default outcome form), the other candidate forms
    (benchmarks/improve_candidates.md), the 'stacked' candidate (joint mixed
    with climatology, each origin's weight learned from the origins before it),
    the 'recalibrated' candidate (joint's P(improve) through a logistic map
    learned from the origins before it),
    climatology, persistence and each single-lens model on the same years
    (Brier, log and ranked probability scores), each skill against climatology
    with paired bootstrap intervals, the default chosen by the rule fixed in
    advance, and a CORP reliability table (and the CORP terms of every method).

    \b
    With --out DIR, also two figures (at the resolution of 'forecast plot'):
      backtest_reliability.FMT  CORP reliability diagram of the model's P(improve)
                                (isotonic recalibration curve, MCB/DSC/UNC), climatology's curve lighter
      backtest_cumulative.FMT   cumulative log score (nats) of model, climatology and persistence,
                                and the cumulative gain over climatology
    """
    from pathlib import Path

    from forecast.report.backtest_plots import write_backtest_plots
    from forecast.validate.backtest import format_summary

    check_jobs_scheduler(jobs, scheduler)
    with Progress("backtest origins", quiet) as progress:
        result = api.open(workspace).backtest(
            start, end, preset=preset, draws=draws, tune=tune, chains=chains, seed=seed, jobs=jobs,
            single_lens=not no_single_lens, candidates=not no_candidates, recode=recode, out=out,
            on_start=progress.start, scheduler=scheduler,
            on_done=lambda o: progress.tick(f"{o['year']} done ({o['seconds']:.0f} s)"))
    figures = write_backtest_plots(Path(out), result, plot_format) if out is not None else ()
    if as_json:
        echo_json(result)
    else:
        click.echo(format_summary(result))
        if result.get("recoding"):
            from forecast.validate.recode import format_recoding

            click.echo(format_recoding(result["recoding"]))
        if out is not None:
            click.echo(f"Wrote {Path(out) / 'backtest_rows.csv'}, {Path(out) / 'backtest.json'}, {figures[0]} and "
                       f"{figures[1]}")


@click.command()
@workspace_option
@click.option("--preset", "presets", multiple=True,
              help="Presets for the sensitivity table (repeatable). [default: every priors/*.toml]")
@click.option("--refit", is_flag=True,
              help="Fit the presets whose reweighting is unreliable (Pareto k > 0.7); about a minute each.")
@jobs_option("Refits run in parallel: local worker processes (1: in this process). "
             "[default: the number of cores]")
@scheduler_option
@json_option("Print the full result as JSON; the progress lines still go to stderr.")
@quiet_option
@handle_errors
def check(workspace, presets, refit, jobs, scheduler, as_json, quiet):
    """Check the stored fit: MCMC diagnostics, predictive checks, PSIS-LOO,
    prior sensitivity, lens ablation and the outside view."""
    from forecast.validate.check import format_check

    check_jobs_scheduler(jobs, scheduler)
    with Progress("check refits", quiet) as progress:
        result = api.open(workspace).check(
            list(presets) or None, refit=refit, on_section=None if quiet else section_line, jobs=jobs,
            scheduler=scheduler, on_refit_start=progress.start,
            on_refit_done=lambda r: progress.tick(f"{r['preset']} done ({r['seconds']:.0f} s)"))
    if as_json:
        echo_json(result, default=float)  # numpy scalars
    else:
        click.echo(format_check(result))
