"""The ``forecast`` command line: thin click commands over the Python API (``forecast.api``).

Each command parses its options, calls one API method and prints the result (text through
``report.format``, or ``--json``). Heavy imports happen inside commands, so
``forecast --help`` and ``forecast show`` stay fast. ForecastError -> message and exit 1;
usage errors -> exit 2.
"""

from __future__ import annotations

import gc

import click

from forecast import __version__
from forecast import defaults as D
from forecast.cli import data, fit, reference, report, update, validate
from forecast.cli.options import handle_errors


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="forecast")
def main():
    """Calibrated, updatable probabilities for the relations between two countries.

    The dyad (its two sides, claim, first year and questions) is named in the
    workspace's workspace.toml; the shipped default workspace is one example.

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
@click.option("--dyad", help='With --blank: the two sides, e.g. "China-India".')
@click.option("--blank", is_flag=True, help="A blank workspace for --dyad: workspace.toml, empty data files "
              "with a commented example row, the shipped prior presets.")
@click.option("--first-year", type=click.IntRange(*D.YEAR_RANGE), help="With --blank: first year of coded outcomes.")
@click.option("--cow-codes", metavar="A,B", help="With --blank: the sides' Correlates of War state codes.")
@click.option("--prefill", type=click.Choice(["power"]), multiple=True,
              help="With --blank: fill this lens from bundled data (power: COW NMC 7.0 CINC ratio; needs "
                   "--first-year and --cow-codes).")
@handle_errors
def init(directory, dyad, blank, first_year, cow_codes, prefill):
    """Create a workspace in DIRECTORY from the shipped default, or a blank one for another dyad."""
    from forecast import api
    from forecast.report import format as F

    if not blank:
        if dyad or first_year or cow_codes or prefill:
            raise click.UsageError("--dyad, --first-year, --cow-codes and --prefill need --blank (the shipped "
                                   "data are for the default dyad)")
        project = api.init(directory)
        click.echo(f"Created workspace {project.root} (workspace.toml, data/, priors/). "
                   f"Next: forecast fit --workspace {directory}")
        return
    if not dyad:
        raise click.UsageError('--blank needs --dyad, e.g. --dyad "China-India"')
    project, done = api.init_blank(directory, dyad, first_year, cow_codes, prefill)
    click.echo(F.blank_created(dyad, project.root, directory, done))


for command in (fit.fit, fit.show, update.update, update.undo, update.history, report.plot, report.brief,
                data.data, validate.backtest, validate.check, reference.reference):
    main.add_command(command)


def run() -> None:
    """The ``forecast`` executable: ``main`` in a process tuned for one short-lived command.

    * The collector's thresholds are raised (``defaults.GC_THRESHOLDS``, as mypy does for its runs):
      a fit builds and rewrites large PyTensor graphs, and with Python's defaults (700, 10, 10) it
      spent ~2.0 s in ten full collections; with the raised ones ~0.9 s.
    * Every object alive at the end is frozen (``gc.freeze``) before the interpreter exits, so its final
      collections do not walk them: the exit after a fit took ~1.9 s, and 0.15 s frozen. ``atexit``
      handlers and thread joins run as usual.

    Measured in benchmarks/results/fit.md ("Ninth session"). The Python API (``forecast.open`` in a
    notebook) leaves the user's interpreter as it is."""
    gc.set_threshold(*D.GC_THRESHOLDS)
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    run()
