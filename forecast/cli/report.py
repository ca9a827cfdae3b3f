"""``forecast plot`` and ``forecast brief``: the briefing exports."""

from __future__ import annotations

import click

from forecast import defaults as D
from forecast import api
from forecast.cli.options import Date, as_of_option, emit_written, handle_errors, json_option, workspace_option


@click.command()
@click.argument("kind", type=click.Choice(api.PLOT_KINDS))
@click.option("--out", "-o", required=True, help="Output file; the format comes from the suffix: .png, .svg or .pdf.")
@click.option("--dpi", type=click.IntRange(*D.DPI_RANGE), default=D.PLOT_DPI, show_default=True,
              help="Resolution of PNG output (and of raster parts in SVG/PDF).")
@as_of_option("Draw only if the stored fit was made as of this year (guards a briefing against another fit).")
@click.option("--from", "start", default=None,
              help="drivers only: start state: 'fit', 'now', a fitted year YYYY (in-sample) or a date YYYY-MM-DD "
                   "(the forecast as it stood then). [default: before the latest update]")
@click.option("--to", "end", default=None, help="drivers only: end state, as --from. [default: now]")
@workspace_option
@json_option("Print what was written as JSON.")
@handle_errors
def plot(kind, out, dpi, as_of, start, end, workspace, as_json):
    """Write a briefing figure of KIND to --out (PNG, SVG or PDF).

    \b
    Kinds:
      probabilities  posterior of each headline probability vs the prior-only forecast and the outside view
      lenses         each lens's latent state over time (fan chart) and its projection, key events marked
      trajectory     the probabilities across the update history (in-sample since the first year without updates)
      drivers        waterfall of the log-odds of improvement, lens by lens (latest update, or --from/--to)
      diagnostics    rank plots and summary table of the main parameters (methods annex)

    \b
    Examples:
      forecast plot probabilities --out figures/probabilities.png
      forecast plot drivers --from 2016 --to 2025 --out drivers.pdf
    """
    from forecast.report import format as F

    api.check_plot_request(kind, out, start, end, cli=True)  # before the workspace is read
    written = api.open(workspace).write_plot(kind, out, dpi=dpi, as_of=as_of, start=start, end=end)
    emit_written(written, as_json, F.plot_written)


@click.command()
@click.option("--out", "-o", required=True, help="Output file: .pdf (one A4 page), .md or .html.")
@click.option("--allow-failed-diagnostics", is_flag=True,
              help="Produce the brief even though the fit failed its diagnostics (marked so on its face).")
@click.option("--since", type=Date(), default=None,
              help="Show the change since this date, YYYY-MM-DD (e.g. the previous brief). "
                   "[default: the effect of the latest update]")
@as_of_option("Brief only if the stored fit was made as of this year.")
@workspace_option
@json_option("Print what was written, and the headline numbers, as JSON.")
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
    from forecast.report import format as F

    api.check_brief_out(out)  # before the workspace is read
    written = api.open(workspace).write_brief(out, since=since, as_of=as_of,
                                              allow_failed_diagnostics=allow_failed_diagnostics)
    emit_written(written, as_json, F.brief_written)
