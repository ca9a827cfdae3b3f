"""``forecast fit`` and ``forecast show``."""

from __future__ import annotations

import sys

import click

from forecast import api
from forecast import defaults as D
from forecast.cli.options import (as_of_option, echo_json, emit, handle_errors, json_option, preset_option,
                                  quiet_option, sampling_options, workspace_option)


@click.command()
@workspace_option
@preset_option("Prior preset: a file priors/NAME.toml (default, realist, constructivist, two-level).")
@as_of_option("Fit on data through this year only, as if standing in it. [default: last coded year]")
@sampling_options(D.DRAWS, D.TUNE, D.CHAINS,
                  "Posterior draws per chain (2000: R-hat < 1.01 with margin on the shipped default).")
@click.option("--sampler", type=click.Choice(["nutpie", "pymc"]), default=D.SAMPLER, show_default=True,
              help="NUTS implementation; PyMC's own sampler is the fallback.")
@click.option("--target-accept", type=click.FloatRange(0.5, 0.999), default=None,
              help=f"NUTS target acceptance rate. [default: {D.TARGET_ACCEPT}; after divergences, one automatic "
                   f"refit at {D.RETRY_TARGET_ACCEPT} unless --no-retry]")
@click.option("--no-retry", is_flag=True, help="Do not refit at a higher target acceptance after divergences.")
@click.option("--strict", is_flag=True, help="Exit 1 if the diagnostics fail (the fit is still saved).")
@json_option("Print the forecast as JSON (as 'show --json').")
@quiet_option
@handle_errors
def fit(workspace, preset, as_of, draws, tune, chains, seed, sampler, target_accept, no_retry, strict, as_json,
        quiet):
    """Fit the model by MCMC and store the posterior in the workspace."""
    from forecast.report import format as F

    project = api.open(workspace)
    talk = not quiet and not as_json
    if talk:
        click.echo(F.fit_started(preset, project.root, chains, draws, tune, seed), err=True)
    result = project.fit(preset=preset, as_of=as_of, draws=draws, tune=tune, chains=chains, seed=seed,
                         sampler=sampler, target_accept=target_accept, retry=not no_retry,
                         progress=talk and sys.stderr.isatty(),
                         on_retry=lambda note: click.secho(F.retry_notice(note), fg="yellow", err=True))
    report = project.forecast()
    if as_json:
        echo_json(report)
    else:
        saved = project.workspace.posterior_path.relative_to(project.root)
        click.echo(F.fit_finished(result, str(saved)), err=True)
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
