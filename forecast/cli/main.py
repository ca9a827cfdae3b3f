"""The ``forecast`` command line: thin click commands over the Python API (``forecast.api``).

Each command parses its options, calls one API method and prints the result (text through
``report.format``, or ``--json``). Heavy imports happen inside commands, so
``forecast --help`` and ``forecast show`` stay fast. ForecastError -> message and exit 1;
usage errors -> exit 2.
"""

from __future__ import annotations

import click

from forecast import __version__
from forecast.cli import data, fit, report, update, validate
from forecast.cli.options import handle_errors


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
    from forecast import api

    project = api.init(directory)
    click.echo(f"Created workspace {project.root} (data/, priors/). Next: forecast fit --workspace {directory}")


for command in (fit.fit, fit.show, update.update, update.undo, update.history, report.plot, report.brief,
                data.data, validate.backtest, validate.check):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
