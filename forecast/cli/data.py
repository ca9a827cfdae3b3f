"""``forecast data check``, ``forecast data list`` and ``forecast data prefill``."""

from __future__ import annotations

import click

from forecast import api
from forecast import defaults as D
from forecast.cli.options import emit, handle_errors, json_option, workspace_option


@click.group()
def data():
    """Inspect and validate the workspace's data and priors."""


@data.command("check")
@workspace_option
@click.option("--all", "show_all", is_flag=True,
              help=f"List every problem (without it: the first {D.MAX_PROBLEMS_SHOWN}, then how many more).")
@handle_errors
def data_check(workspace, show_all):
    """Validate data/ and priors/; report each problem with file, row and field."""
    from forecast.errors import ValidationError
    from forecast.report import format as F

    try:
        checked = api.open(workspace).data_check()
    except ValidationError as exc:
        listing = exc.listing(None if show_all else D.MAX_PROBLEMS_SHOWN, more="--all lists them all")
        raise click.ClickException(listing) from None
    click.echo(F.format_data_check(checked))


@data.command("list")
@workspace_option
@json_option()
@handle_errors
def data_list(workspace, as_json):
    """List indicators with lens, unit, coverage and latest value."""
    from forecast.report import format as F

    emit(api.open(workspace).data_list(), as_json, F.format_data_list)


@data.command("prefill")
@click.argument("lens", type=click.Choice(["power"]))
@workspace_option
@handle_errors
def data_prefill(lens, workspace):
    """Fill LENS from bundled reference data (power: the ratio of the two sides' COW NMC 7.0 CINC,
    from [dyad] first_year, with the sides' cow_code from workspace.toml)."""
    from forecast.report import format as F

    click.echo(F.prefilled(api.open(workspace).prefill(lens)) + " Run 'forecast data check' for what is still missing.")
