"""The ``forecast`` command line: thin click wrappers over library functions.

Heavy imports happen inside commands, so ``forecast --help`` and ``forecast show``
stay fast. ForecastError -> message and exit 1; usage errors -> exit 2.
"""

from __future__ import annotations

import functools
import json
import sys

import click

from . import __version__

workspace_option = click.option(
    "--workspace", "-w", default=".", show_default=True,
    type=click.Path(file_okay=False, dir_okay=True),
    help="Workspace folder holding data/ and priors/.")


def handle_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .errors import ForecastError
        try:
            return fn(*args, **kwargs)
        except ForecastError as exc:
            raise click.ClickException(str(exc)) from None
    return wrapper


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
    from .workspace import init_workspace

    ws = init_workspace(directory)
    click.echo(f"Created workspace {ws.root} (data/, priors/). Next: forecast fit --workspace {directory}")


@main.command()
@workspace_option
@click.option("--preset", default="default", show_default=True,
              help="Prior preset: a file priors/NAME.toml (default, realist, constructivist, two-level).")
@click.option("--as-of", "as_of", type=click.IntRange(1900, 2100), default=None,
              help="Fit on data through this year only, as if standing in it. [default: last coded year]")
@click.option("--draws", type=click.IntRange(10, 100_000), default=2000, show_default=True,
              help="Posterior draws per chain (2000: R-hat < 1.01 with margin on the shipped default).")
@click.option("--tune", type=click.IntRange(10, 100_000), default=1000, show_default=True)
@click.option("--chains", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=20161215, show_default=True)
@click.option("--sampler", type=click.Choice(["nutpie", "pymc"]), default="nutpie", show_default=True,
              help="NUTS implementation; PyMC's own sampler is the fallback.")
@click.option("--strict", is_flag=True, help="Exit 1 if the diagnostics fail (the fit is still saved).")
@click.option("--json", "as_json", is_flag=True, help="Print the forecast as JSON (as 'show --json').")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@handle_errors
def fit(workspace, preset, as_of, draws, tune, chains, seed, sampler, strict, as_json, quiet):
    """Fit the model by MCMC and store the posterior in the workspace."""
    from .fitting import fit as run_fit
    from .report import build_report, format_report
    from .store import read_forecast
    from .workspace import open_workspace

    ws = open_workspace(workspace)
    progress = not quiet and not as_json and sys.stderr.isatty()
    if not quiet and not as_json:
        click.echo(f"Fitting preset '{preset}' on {ws.root} ({chains} chains x {draws} draws, "
                   f"{tune} tuning, seed {seed}); compiling the model first...", err=True)
    result = run_fit(ws, preset=preset, as_of=as_of, draws=draws, tune=tune, chains=chains, seed=seed,
                     progress=progress, sampler=sampler)
    report = build_report(read_forecast(ws), stale=False)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        t = result.timings
        click.echo(f"Sampled with {result.identity['sampler']} in {t['total_s']:.1f} s "
                   f"(compile {t.get('compile_s', float('nan')):.1f} s, sampling {t['sample_s']:.1f} s); "
                   f"saved {ws.posterior_path.relative_to(ws.root)}", err=True)
        click.echo(format_report(report))
    if not result.diagnostics["ok"]:
        click.secho("WARNING: diagnostics failed: " + "; ".join(result.diagnostics["failures"]),
                    fg="red", bold=True, err=True)
        if strict:
            sys.exit(1)


@main.command()
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def show(workspace, as_json):
    """Show the stored forecast: probabilities, lens contributions, diagnostics."""
    from .report import build_report, format_report
    from .store import is_stale, read_forecast
    from .workspace import open_workspace

    ws = open_workspace(workspace)
    stored = read_forecast(ws)
    report = build_report(stored, stale=is_stale(ws, stored))
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(format_report(report))


@main.group()
def data():
    """Inspect and validate the workspace's data and priors."""


@data.command("check")
@workspace_option
@handle_errors
def data_check(workspace):
    """Validate data/ and priors/; report every problem with file, row and field."""
    from .data import load_dataset
    from .errors import ValidationError
    from .priors import check_all_presets
    from .workspace import open_workspace

    ws = open_workspace(workspace)
    problems = []
    try:
        ds = load_dataset(ws.data_dir)
    except ValidationError as exc:
        problems.extend(exc.problems)
        ds = None
    problems.extend(check_all_presets(ws.priors_dir))
    if problems:
        raise ValidationError(problems)
    n_approx = int(ds.values["approximate"].sum())
    click.echo(f"OK: {len(ds.meta)} indicators, {len(ds.values)} values ({n_approx} approximate), "
               f"{len(ds.outcomes)} coded years {ds.outcomes['year'].min()}-{ds.outcomes['year'].max()}, "
               f"presets: {', '.join(p.stem for p in sorted(ws.priors_dir.glob('*.toml')))}")


@data.command("list")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def data_list(workspace, as_json):
    """List indicators with lens, unit, coverage and latest value."""
    from .data import load_dataset
    from .workspace import open_workspace

    ds = load_dataset(open_workspace(workspace).data_dir)
    rows = []
    for name, m in ds.meta.iterrows():
        v = ds.values[ds.values["indicator"] == name]
        last = v.iloc[-1]
        rows.append({"name": name, "lens": m["lens"], "side": m["side"] or None, "role": m["role"],
                     "unit": m["unit"], "description": m["description"],
                     "first_year": int(v["year"].min()), "last_year": int(last["year"]),
                     "last_value": float(last["value"]), "last_value_approximate": bool(last["approximate"]),
                     "n_values": int(len(v))})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'indicator':38} {'lens':8} {'unit':22} {'years':>10} {'last value':>12}")
    for r in rows:
        approx = "~" if r["last_value_approximate"] else " "
        click.echo(f"{r['name']:38} {r['lens']:8} {r['unit'][:22]:22} {r['first_year']}-{r['last_year']}"
                   f" {approx}{r['last_value']:>11.4g}")
    click.echo("~ = approximate (recalled from the publisher, not read from a table)")


if __name__ == "__main__":  # pragma: no cover
    main()
