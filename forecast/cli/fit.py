"""``forecast fit`` and ``forecast show``."""

from __future__ import annotations

import sys

import click

from forecast import api
from forecast import defaults as D
from forecast.cli.options import (as_of_option, echo_json, emit, handle_errors, json_option, preset_option,
                                  quiet_option, sampling_options, workspace_option)
from forecast.inference.progress import PhaseEvent


class PhasePrinter:
    """Prints a fit's phases on stderr. On a terminal a phase's start and its elapsed time share a
    line (the sampling progress bar gets lines of its own); elsewhere plain lines: one when each
    phase ends, and one when a long phase (compile, sample) starts, so a log is never silent.
    ``tty``: lines may be shared (a terminal, without --verbose); ``bar``: nutpie's bar is shown."""

    LONG = ("compile", "sample")

    def __init__(self, tty: bool, bar: bool):
        self.tty, self.bar, self.open = tty, bar, None

    def __call__(self, event: PhaseEvent) -> None:
        from forecast.report import format as F

        if event.seconds is None:
            if self.tty and not (event.phase == "sample" and self.bar):
                click.echo(F.phase_started(event.phase, event.detail) + " ", err=True, nl=False)
                self.open = event.phase
            elif self.tty or event.phase in self.LONG:
                click.echo(F.phase_started(event.phase, event.detail), err=True)
        elif self.open == event.phase:
            click.echo(f"{event.seconds:.1f} s" + (f" ({event.detail})" if event.detail else ""), err=True)
        else:  # nutpie leaves the cursor at the end of its finished bar
            after_bar = "\n" if self.bar and event.phase == "sample" else ""
            click.echo(after_bar + F.phase_finished(event.phase, event.seconds, event.detail), err=True)
        if event.seconds is not None:
            self.open = None


@click.command()
@workspace_option
@preset_option("Prior preset: a file priors/NAME.toml (default, realist, constructivist, two-level).")
@as_of_option("Fit on data through this year only, as if standing in it. [default: last coded year]")
@sampling_options(D.DRAWS, D.TUNE, D.CHAINS,
                  f"Posterior draws per chain ({D.DRAWS}: R-hat < {D.THRESHOLDS['rhat_max']:g} with margin on the "
                  f"shipped default).")
@click.option("--sampler", type=click.Choice(D.SAMPLERS), default=D.SAMPLER, show_default=True,
              help="NUTS implementation; PyMC's own sampler is the fallback.")
@click.option("--target-accept", type=click.FloatRange(*D.TARGET_ACCEPT_RANGE), default=None,
              help=f"NUTS target acceptance rate. [default: {D.TARGET_ACCEPT}; after divergences, one automatic "
                   f"refit at {D.RETRY_TARGET_ACCEPT} unless --no-retry]")
@click.option("--no-retry", is_flag=True, help="Do not refit at a higher target acceptance after divergences.")
@click.option("--strict", is_flag=True, help="Exit 1 if the diagnostics fail (the fit is still saved).")
@json_option("Print the forecast as JSON (as 'show --json'); the phases still go to stderr.")
@quiet_option
@click.option("--verbose", is_flag=True,
              help="Also show third-party warnings (ArviZ, numba) that are hidden by default.")
@handle_errors
def fit(workspace, preset, as_of, draws, tune, chains, seed, sampler, target_accept, no_retry, strict, as_json,
        quiet, verbose):
    """Fit the model by MCMC and store the posterior in the workspace."""
    from forecast.report import format as F

    project = api.open(workspace)
    project.workspace.check_writable()  # before minutes of sampling, not at the save
    tty = sys.stderr.isatty()
    if not quiet:
        click.echo(F.fit_started(preset, project.root, chains, draws, tune, seed), err=True)
    result = project.fit(preset=preset, as_of=as_of, draws=draws, tune=tune, chains=chains, seed=seed,
                         sampler=sampler, target_accept=target_accept, retry=not no_retry,
                         progress=not quiet and tty,
                         on_retry=lambda note: click.secho(F.retry_notice(note), fg="yellow", err=True),
                         on_phase=None if quiet else PhasePrinter(tty and not verbose, bar=tty), verbose=verbose)
    report = project.forecast()
    if not quiet:
        saved = project.workspace.posterior_path.relative_to(project.root)
        click.echo(F.fit_finished(result, str(saved)), err=True)
    if as_json:
        echo_json(report)
    else:
        click.echo(F.format_report(report))
    warning = F.diagnostics_warning(result.diagnostics)
    if warning:
        click.secho(warning, fg="red", bold=True, err=True)
        if strict:
            sys.exit(1)


@click.command()
@workspace_option
@json_option()
@handle_errors
def show(workspace, as_json):
    """Show the stored forecast: probabilities, lens contributions, diagnostics."""
    from forecast.report import format as F

    report = api.open(workspace).forecast()
    if "ledger_mismatch" in report and not as_json:
        click.secho(f"** LEDGER MISMATCH: {report['ledger_mismatch']} **", fg="red", err=True)
    emit(report, as_json, F.format_report)
