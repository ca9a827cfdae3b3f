"""Options shared by several commands, and the error handling every command uses.

Importing this module imports click only: ``forecast --help`` stays fast.
"""

from __future__ import annotations

import functools

import click

from forecast import defaults as D

YEAR = click.IntRange(*D.YEAR_RANGE)

workspace_option = click.option(
    "--workspace", "-w", default=".", show_default=True,
    type=click.Path(file_okay=False, dir_okay=True),
    help="Workspace folder holding data/ and priors/.")

quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress display.")


scheduler_option = click.option(
    "--scheduler", metavar="ADDRESS", default=None,
    help="Run the fits on an existing Dask cluster, e.g. tcp://HOST:8786 (started with 'dask scheduler' and "
         "'dask worker ADDRESS'; the workers need forecast installed and the workspace at the same path). "
         "[default: local worker processes, see --jobs]")


def jobs_option(help: str):  # noqa: A002
    return click.option("--jobs", type=click.IntRange(*D.JOBS_RANGE), default=None, help=help)


def check_jobs_scheduler(jobs: int | None, scheduler: str | None) -> None:
    """--jobs sizes the local cluster; with --scheduler the cluster's own workers run the fits."""
    if jobs is not None and scheduler is not None:
        raise click.UsageError(f"--jobs {jobs} sets the number of local workers; with --scheduler the workers of "
                               f"the cluster at {scheduler} run the fits: drop --jobs (or start more 'dask worker's)")


def json_option(help: str = "Machine-readable output."):  # noqa: A002 - click's own name
    return click.option("--json", "as_json", is_flag=True, help=help)


def as_of_option(help: str):  # noqa: A002
    return click.option("--as-of", "as_of", type=YEAR, default=None, help=help)


def preset_option(help: str):  # noqa: A002
    return click.option("--preset", default=D.PRESET, show_default=True, help=help)


def sampling_options(draws: int, tune: int, chains: int, draws_help: str):
    """--draws, --tune, --chains and --seed, with this command's defaults."""
    def decorate(fn):
        for opt in reversed([
            click.option("--draws", type=click.IntRange(*D.DRAWS_RANGE), default=draws, show_default=True,
                         help=draws_help),
            click.option("--tune", type=click.IntRange(*D.TUNE_RANGE), default=tune, show_default=True),
            click.option("--chains", type=click.IntRange(*D.CHAINS_RANGE), default=chains, show_default=True),
            click.option("--seed", type=click.IntRange(*D.SEED_RANGE), default=D.SEED, show_default=True),
        ]):
            fn = opt(fn)
        return fn
    return decorate


class Date(click.ParamType):
    """A calendar date written YYYY-MM-DD (ASCII digits, a real day): anything else is a usage error."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        import datetime as dt
        import re

        text = str(value).strip()
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            self.fail(f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2026-03-01", param, ctx)
        try:
            dt.date.fromisoformat(text)
        except ValueError as exc:
            self.fail(f"{value!r} is not a real date ({exc}): use YYYY-MM-DD, e.g. 2026-03-01", param, ctx)
        return text


# Every write is atomic and the ledger is the commit point, so an interrupted command stored nothing.
INTERRUPTED = "Interrupted: nothing was stored; the workspace is unchanged"


def handle_errors(fn):
    """ForecastError -> its message and exit 1 (UsageError -> exit 2, as click's own usage errors).
    An OSError that got this far (a read-only file system, a full disk, a folder where a file
    belongs...) is the last line of defence: one line naming the path and the fix, exit 1.
    Ctrl-C (KeyboardInterrupt) -> INTERRUPTED, then click's "Aborted!" and exit 1, no traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from forecast.errors import FileSystemError, ForecastError, UsageError
        try:
            return fn(*args, **kwargs)
        except UsageError as exc:
            raise click.UsageError(str(exc)) from None
        except ForecastError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(str(FileSystemError.of(exc))) from None
        except KeyboardInterrupt:  # Ctrl-C, or a sampler's partial trace (errors.SamplingInterrupted)
            click.echo(INTERRUPTED, err=True)
            raise click.Abort() from None  # click: "Aborted!" and exit 1, as for Ctrl-C anywhere else
    return wrapper


def echo_json(obj, **kw) -> None:
    import json

    click.echo(json.dumps(obj, indent=2, **kw))


def emit(result, as_json: bool, render) -> None:
    """Print ``result`` as JSON, or as the text ``render(result)``."""
    if as_json:
        echo_json(result)
    else:
        click.echo(render(result))


def emit_written(written, as_json: bool, render) -> None:
    """Report a written file: JSON of ``written.to_dict()``, or its warnings (red, on stderr) and
    the text ``render(written)``."""
    if as_json:
        echo_json(written.to_dict())
        return
    for w in written.warnings:
        click.secho(f"** {w} **", fg="red", err=True)
    click.echo(render(written))
