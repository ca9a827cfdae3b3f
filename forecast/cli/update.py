"""``forecast update``, ``undo`` and ``history``."""

from __future__ import annotations

import sys

import click

from forecast import api
from forecast.cli.fit import PhasePrinter
from forecast.cli.options import emit, handle_errors, json_option, workspace_option


class StrictNumber(click.ParamType):
    """A number as written in a data file: ASCII digits, no control characters, blanks stripped."""

    name = "number"

    def convert(self, value, param, ctx):
        from forecast.data.csvtext import parse_float

        if isinstance(value, float):
            return value
        problems = []
        number = parse_float(str(value), "command line", None, "--value", problems)
        if number is None:
            self.fail(problems[0].message, param, ctx)
        return number


@click.command()
@workspace_option
@click.option("--indicator", help="Indicator name for a reading (see 'forecast data list').")
@click.option("--value", type=StrictNumber(), help="The reading's value, in the indicator's unit.")
@click.option("--event", "kind", help="Coded event kind from data/event_kinds.csv.")
@click.option("--date", help="YYYY, YYYY-MM or YYYY-MM-DD; readings aggregate into that year.")
@click.option("--source", help="Where the reading or event is reported (required).")
@click.option("--note", default="", help="Free text.")
@click.option("--file", "batch", type=click.Path(dir_okay=False),
              help="CSV batch, all or nothing, with the header date,indicator,kind,value,source,note; a "
                   "reading fills indicator and value (2025-04,summits_per_year,,1,foreign ministry,), an event "
                   "fills kind (2025-09-03,,summit_held,,foreign ministry,leaders meet).")
@click.option("--dry-run", is_flag=True, help="What-if: the same report, nothing recorded.")
@json_option()
@handle_errors
def update(workspace, indicator, value, kind, date, source, note, batch, dry_run, as_json):
    """Record a reading or an event and update the forecast in seconds.

    \b
    Examples:
      forecast update --indicator summits_per_year --value 1 --date 2026-10 --source "foreign ministry"
      forecast update --event summit_held --date 2026-09-03 --source "foreign ministry" --note "..."
      forecast update --file batch.csv
    """
    from forecast.report import format as F

    # the arguments first (exit 2), then the workspace
    request = api.update_request(indicator=indicator, value=value, event=kind, date=date, source=source, note=note,
                                 file=batch, cli=True)
    tty = sys.stderr.isatty()  # as in 'fit': the refit's progress goes to stderr, with or without --json
    report = api.open(workspace).update(request=request, dry_run=dry_run, progress=tty,
                                        on_refit=lambda reason: click.echo(F.refit_started(reason), err=True),
                                        on_phase=PhasePrinter(tty, bar=tty))
    emit(report, as_json, F.format_update)


@click.command()
@workspace_option
@json_option()
@handle_errors
def undo(workspace, as_json):
    """Revert the last update; the forecast returns exactly to what it was."""
    from forecast.report import format as F

    emit(api.open(workspace).undo(), as_json, F.format_undo)


@click.command()
@workspace_option
@json_option()
@handle_errors
def history(workspace, as_json):
    """List every update: id, date applied, event and the headline probabilities after it."""
    from forecast.report import format as F

    emit(api.open(workspace).history(), as_json, F.format_history)
