"""``forecast reference``: the pooled reference-class model of peaceful settlement (ICOW claims).

``fit`` learns the settlement hazard from the world's territorial, river and maritime claims and
writes the settlement prior the main model reads; ``backtest`` scores it out of sample over rolling
origins against base rates; ``show`` prints the stored settlement prior and its evidence.
"""

from __future__ import annotations

import click

from forecast import defaults as D
from forecast.cli.options import (check_jobs_scheduler, echo_json, handle_errors, jobs_option, json_option,
                                  quiet_option, sampling_options, scheduler_option)


def _progress(quiet: bool):
    return None if quiet else (lambda line: click.echo(line, err=True))


@click.group()
def reference():
    """The reference class of territorial claims (ICOW 1816-2001): fit, backtest, show.

    \b
    The main model's settlement hazard takes its base level and lens effects
    from this pooled model (priors/default.toml: entries with reference = ...).
    """


@reference.command("fit")
@sampling_options(D.REFERENCE_DRAWS, D.REFERENCE_TUNE, D.REFERENCE_CHAINS, "Posterior draws per chain.")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Folder for settlement_posterior.nc and settlement_prior.json (created if missing). "
                   "[default: the shipped data/reference/ folder, which every workspace's priors read]")
@click.option("--strict", is_flag=True, help="Exit 1 if the diagnostics fail (the files are still written).")
@json_option("Print the result as JSON; progress still goes to stderr.")
@quiet_option
@handle_errors
def ref_fit(draws, tune, chains, seed, out, strict, as_json, quiet):
    """Fit the pooled hazard model on every claim-year and write the settlement prior.

    Takes about 1-3 minutes on 2 cores. Fits made before it are then stale
    ('forecast show' says so): run 'forecast fit' again. With --out no
    workspace reads the files written, and no fit goes stale.
    """
    import sys

    from forecast.reference import service

    result = service.fit_reference_class(out, draws=draws, tune=tune, chains=chains, seed=seed,
                                         progress=_progress(quiet))
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(service.format_fit(result))
    if result.failures:  # as 'forecast fit'
        click.secho("WARNING: diagnostics failed: " + "; ".join(result.failures), fg="red", bold=True, err=True)
        if strict:
            sys.exit(1)


@reference.command("backtest")
@click.option("--origin", "origins", type=click.IntRange(1817, 2001), multiple=True,
              help="A forecast origin (repeatable): fit on the claim-years before it, score those up to the next "
                   "origin (the last: to 2001). [default: 1900 1920 1946 1960 1975]")
@sampling_options(D.REF_BACKTEST_DRAWS, D.REF_BACKTEST_TUNE, D.REFERENCE_CHAINS, "Posterior draws per chain, per origin.")
@jobs_option("Origins fitted in parallel: local worker processes (1: in this process). "
             "[default: the number of cores]")
@scheduler_option
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Folder for reference_backtest_rows.csv and reference_backtest.json (created if missing).")
@click.option("--information", type=click.Choice(D.REF_INFORMATION), default=D.REF_INFORMATION[0],
              show_default=True,
              help="What a forecast may read: 'origin', the claim-years before its origin; 'updated', the "
                   "claim-years before its own year (one-year-ahead, parameters refitted only at the origins); "
                   "'updated-level', as 'updated' with a period level learned from the test years before; "
                   "'updated-lags' and 'updated-lags-level', as those, and the forecast year's lag-window covariates "
                   "(last year's attempt, the ten-year counts), which are known at the end of the year before; "
                   "'updated-lags-recal', 'updated-lags' recalibrated on the earlier origins' test rows.")
@click.option("--fits", "fits", type=click.Path(), default=None,
              help="Keep each origin's posterior in this folder (origin-YYYY.nc, with its identity) and reuse it "
                   "when the data, origin, seed, draws, tune, chains and library versions match: another "
                   "--information, or a run resumed after a crash, then refits nothing. On a --scheduler cluster every "
                   "worker must see the folder at the same path. [default: not kept]")
@json_option("Print the full result as JSON (one row per test claim-year); progress still goes to stderr.")
@quiet_option
@handle_errors
def ref_backtest(origins, draws, tune, chains, seed, jobs, scheduler, out, information, fits, as_json, quiet):
    """Score the pooled model out of sample over rolling origins.

    Baselines, each as of the origin: the all-history base rate, the trailing
    30-year base rate and the expert settlement_base_rate prior. Scores: log
    score, Brier, AUC, calibration intercept and slope, with 90% intervals from
    a bootstrap over whole claims.

    With --information updated, each test year is forecast from every
    claim-year before it (the origin's fit, the claims' later history) and the
    two base rates are taken before that year too; updated-level also scales
    the hazard by a period level learned from the test years before. The
    updated-lags forms also read the forecast year's lag-window covariates
    (last year's attempt, the ten-year counts), known at the end of the year
    before it.
    """
    from forecast.reference.service import backtest_reference_class, format_backtest

    check_jobs_scheduler(jobs, scheduler)
    result = backtest_reference_class(tuple(origins) or None, draws=draws, tune=tune, chains=chains, seed=seed,
                                      jobs=jobs, scheduler=scheduler, out=out, progress=_progress(quiet),
                                      information=information, fits=fits)
    if as_json:
        echo_json(result)
    else:
        click.echo(format_backtest(result))


@reference.command("show")
@json_option()
@handle_errors
def ref_show(as_json):
    """Print the stored settlement prior: its terms, evidence, fit diagnostics and identity."""
    from forecast.data.settlement_prior import format_prior, load_settlement_prior

    prior = load_settlement_prior()
    if as_json:
        echo_json(prior.to_dict())
    else:
        click.echo(format_prior(prior))
