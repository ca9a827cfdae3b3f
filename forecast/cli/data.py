"""``forecast data check`` and ``forecast data list``."""

from __future__ import annotations

import click

from forecast import api
from forecast.cli.options import emit, handle_errors, json_option, workspace_option


@click.group()
def data():
    """Inspect and validate the workspace's data and priors."""


@data.command("check")
@workspace_option
@handle_errors
def data_check(workspace):
    """Validate data/ and priors/; report every problem with file, row and field."""
    from forecast.report import format as F

    click.echo(F.format_data_check(api.open(workspace).data_check()))


@data.command("list")
@workspace_option
@json_option()
@handle_errors
def data_list(workspace, as_json):
    """List indicators with lens, unit, coverage and latest value."""
    from forecast.report import format as F

    emit(api.open(workspace).data_list(), as_json, F.format_data_list)
