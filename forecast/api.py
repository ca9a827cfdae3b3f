"""The Python API: the face of the toolkit for notebooks and scripts, and what the CLI is built on.

>>> import forecast
>>> ws = forecast.open("ws")              # or forecast.init("ws") for a new workspace
>>> ws.fit(draws=500, tune=500)           # MCMC; stores the posterior in ws/state/
>>> ws.forecast()["probabilities"]        # the report of 'forecast show --json'
>>> ws.update(event="summit_held", date="2026-09-03", source="MOFA")
>>> fig = ws.plot("lenses")               # a matplotlib Figure (nothing written)
>>> ws.undo()
>>> ws.posterior                          # ArviZ InferenceData

Every CLI command is a thin wrapper over one method here; the returned dicts are the
commands' ``--json`` output. Heavy libraries are imported by the methods that need them,
so ``import forecast`` stays cheap. Errors are ``forecast.errors.ForecastError``s with
a message naming the file, row and field, as in the CLI.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from forecast import __version__
from forecast import api_args as A
from forecast import defaults as D
from forecast.api_args import (PLOT_KINDS, UpdateRequest, check_brief_out,  # noqa: F401 - the API's names
                               check_plot_request, update_request)
from forecast.errors import UsageError, ValidationError
from forecast.workspace import Workspace, init_workspace, open_workspace

if TYPE_CHECKING:
    from arviz import InferenceData
    from matplotlib.figure import Figure

    from forecast.data.prefill import Prefilled
    from forecast.inference.fitting import FitResult
    from forecast.inference.progress import PhaseEvent
    from forecast.inference.retry import RetryNote
    from forecast.report.brief import Brief


# ----------------------------------------------------------------------------- records
@dataclass(frozen=True)
class DataCheck:
    """What ``data check`` found in a valid workspace (problems raise ValidationError instead)."""

    indicators: int
    values: int
    approximate: int
    coded_years: int
    first_year: int
    last_year: int
    seed_events: int
    ledger_updates: int
    presets: list[str]


@dataclass(frozen=True)
class PlotFile:
    """A figure written by ``Project.write_plot``; ``to_dict`` is 'plot --json'."""

    kind: str
    path: Path  # as given (``to_dict`` resolves it)
    format: str
    bytes: int
    dpi: int
    as_of: int
    forecast_year: int
    warnings: list[str]
    seconds: float

    def to_dict(self) -> dict:
        return {"kind": self.kind, "path": str(self.path.resolve()), "format": self.format, "bytes": self.bytes,
                "dpi": self.dpi, "as_of": self.as_of, "forecast_year": self.forecast_year,
                "warnings": self.warnings, "seconds": self.seconds}


@dataclass(frozen=True)
class BriefFile:
    """A brief written by ``Project.write_brief``; ``to_dict`` is 'brief --json'."""

    path: Path  # as given (``to_dict`` resolves it)
    format: str
    bytes: int
    pages: int | None
    forecast_year: int
    probabilities: dict
    diagnostics_ok: bool
    warnings: list[str]
    seconds: float

    def to_dict(self) -> dict:
        return {"path": str(self.path.resolve()), "format": self.format, "bytes": self.bytes, "pages": self.pages,
                "forecast_year": self.forecast_year, "probabilities": self.probabilities,
                "diagnostics_ok": self.diagnostics_ok, "warnings": self.warnings, "seconds": self.seconds}


# ---------------------------------------------------------------------------- project
class Project:
    """A workspace (``data/``, ``priors/``, and the stored fit under ``state/``)."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def __repr__(self) -> str:
        return f"forecast.open({str(self.root)!r})"

    @property
    def root(self) -> Path:
        """The workspace folder (absolute): workspace.toml, data/, priors/, the ledger and state/ (the stored fit)."""
        return self.workspace.root

    # --- fitting and the forecast
    def fit(self, preset: str = D.PRESET, as_of: int | None = None, draws: int = D.DRAWS, tune: int = D.TUNE,
            chains: int = D.CHAINS, seed: int = D.SEED, sampler: str = D.SAMPLER,
            target_accept: float | None = None, retry: bool = True, progress: bool = False,
            on_retry: Callable[["RetryNote"], None] | None = None,
            on_phase: Callable[["PhaseEvent"], None] | None = None, verbose: bool = False) -> "FitResult":
        """Fit the model by MCMC on the data plus the ledger and store the posterior.

        ``target_accept=None`` applies the divergence policy: 0.95, then once 0.98 after
        divergences (``retry=False`` skips it); ``result.retry`` says whether the repeat was
        kept and why. ``as_of`` fits on data through that year only. ``on_phase`` hears each
        phase (load, build, compile, sample, project, save) start and end, with its seconds.
        Third-party warnings a user cannot act on (ArviZ's refactor notice, numba performance
        hints) are silenced around the library calls unless ``verbose``."""
        from forecast.store.fit import fit_with_retry

        a = A.sampling(draws, tune, chains, seed, preset, as_of, sampler, target_accept)  # before any work
        return fit_with_retry(self.workspace, target_accept=a.target_accept, retry=retry, on_retry=on_retry,
                              preset=a.preset, as_of=a.as_of, draws=a.draws, tune=a.tune, chains=a.chains,
                              seed=a.seed, progress=progress, sampler=a.sampler, on_phase=on_phase, verbose=verbose)

    def forecast(self) -> dict:
        """The stored forecast for the ledger head: exactly the report of 'forecast show --json'
        (probabilities with intervals, lens contributions, diagnostics; ``ledger_mismatch`` when
        the posterior and the ledger disagree). Reads the stored file only (no PyMC)."""
        from forecast.report.summary import build_report
        from forecast.store.posterior import current, is_stale

        stored, _, warning = current(self.workspace)
        report = build_report(stored, stale=is_stale(self.workspace, stored))
        if warning:
            report["ledger_mismatch"] = warning
        return report

    @property
    def posterior(self) -> "InferenceData":
        """The stored fit as ArviZ InferenceData (IdentityMismatchError if its inputs changed since)."""
        from forecast.store.posterior import load_idata

        return load_idata(self.workspace)

    # --- updates
    def update(self, indicator: str | None = None, value: float | None = None, event: str | None = None,
               date: str | None = None, source: str | None = None, note: str = "",
               file: str | os.PathLike | None = None, *, request: UpdateRequest | None = None,
               dry_run: bool = False, progress: bool = False, on_refit: Callable[[str], None] | None = None,
               on_phase: Callable[["PhaseEvent"], None] | None = None) -> dict:
        """Record a reading (``indicator=, value=``), a coded ``event=`` or a batch ``file=`` and
        update the forecast (fast reweighting, or a refit when that is unreliable). ``date`` is
        YYYY, YYYY-MM or YYYY-MM-DD; ``source`` is required. ``dry_run``: the same report,
        nothing recorded. Returns the report of 'update --json' (before/after, attribution).
        On a refit, ``on_refit`` hears why before it starts and ``on_phase`` hears its phases (as in ``fit``)."""
        from forecast.update.apply import apply

        if request is None:
            request = update_request(indicator, value, event, date, source, note, file)
        return apply(self.workspace, request.events, dry_run=dry_run, file=request.file, rows=request.rows,
                     progress=progress, on_refit=on_refit, on_phase=on_phase)

    def undo(self) -> dict:
        """Revert the last update; the stored forecast returns exactly to what it was, or, when a later
        fit replaced its posterior, is recomputed as ``update`` would (``recomputed`` says how)."""
        from forecast.update.undo import undo_last

        return undo_last(self.workspace)

    def history(self) -> list[dict]:
        """Every ledger record: seq, op, id, applied_utc, event, path, the headline after it and the
        ledger head after it (the name 'update', 'undo', 'show --json' and the brief give that state).
        A batch's headline is on its last record only, whose seq every record's ``batch_result_at`` is."""
        from forecast.store import ledger as L

        data, records = L.load(self.workspace)
        last = L.update_ends(records)
        return [{"seq": i, "op": r["op"], "id": r["id"], "applied_utc": r.get("applied_utc"),
                 "event": r.get("event"), "path": r.get("path"), "after": r.get("after") if last[i - 1] == i else None,
                 "batch_result_at": last[i - 1], "update": r.get("update"), "ledger_head": h}
                for i, (r, h) in enumerate(zip(records, L.heads(data)), start=1)]

    # --- figures and the brief
    def plot(self, kind: str, start: str | int | None = None, end: str | int | None = None,
             as_of: int | None = None) -> "Figure":
        """A briefing figure of ``kind`` (one of PLOT_KINDS) as a matplotlib Figure; nothing is
        written. ``start``/``end`` (drivers only): 'fit', 'now', a year or a date YYYY-MM-DD.
        ``as_of`` refuses a stored fit made as of another year; years may be ints or strings. A stale fit,
        failed diagnostics or a ledger mismatch is stamped on the figure and issued as a
        ``errors.FigureWarning``."""
        from forecast.report.analysis import draw_figure

        start, end, as_of = A.state_ref("start", start), A.state_ref("end", end), A.year("as_of", as_of)
        check_plot_request(kind, None, start, end)
        drawn = draw_figure(self.workspace, kind, start, end, as_of)
        for f in drawn.flags:
            warnings.warn(f.text, f.category, stacklevel=2)
        return drawn.figure

    def write_plot(self, kind: str, out: str | os.PathLike, dpi: int = D.PLOT_DPI, as_of: int | None = None,
                   start: str | int | None = None, end: str | int | None = None) -> PlotFile:
        """Draw ``kind`` and write it to ``out`` (.png, .svg or .pdf) atomically; ``dpi`` as 'plot --dpi';
        its ``warnings`` are those stamped on it."""
        from forecast.report.analysis import draw_figure
        from forecast.report.export import figure_writer, write_file

        t0 = time.perf_counter()
        start, end, as_of = A.state_ref("start", start), A.state_ref("end", end), A.year("as_of", as_of)
        dpi = A.integer("dpi", dpi, D.DPI_RANGE)
        path, fmt = check_plot_request(kind, out, start, end)
        drawn = draw_figure(self.workspace, kind, start, end, as_of)
        meta = {"Title": f"forecast plot {kind}"} if fmt != "png" else {"Software": f"forecast {__version__}"}
        size = write_file(os.fspath(out), path, figure_writer(drawn.figure, fmt, dpi, meta))
        return PlotFile(kind=kind, path=path, format=fmt, bytes=size, dpi=dpi, as_of=drawn.as_of,
                        forecast_year=drawn.forecast_year, warnings=[f.text for f in drawn.flags],
                        seconds=round(time.perf_counter() - t0, 2))

    def brief(self, since: str | None = None, as_of: int | None = None,
              allow_failed_diagnostics: bool = False) -> "Brief":
        """The one-page brief's content (a ``report.brief.Brief``): headline numbers with the change
        the latest update made (or the change since the date ``since``), drivers, lens readings, freshness."""
        from forecast.report.brief import build_brief

        since, as_of = A.text("since", since), A.year("as_of", as_of)
        return build_brief(self.workspace, allow_failed=allow_failed_diagnostics, since=since, as_of=as_of)

    def write_brief(self, out: str | os.PathLike, since: str | None = None, as_of: int | None = None,
                    allow_failed_diagnostics: bool = False) -> BriefFile:
        """Write the brief to ``out``: .pdf (one A4 page), .md or .html, atomically."""
        from forecast.report.brief import title
        from forecast.report.brief_pdf import render_pdf_figure
        from forecast.report.brief_render import render_html, render_markdown
        from forecast.report.export import figure_writer, write_file

        t0 = time.perf_counter()
        since, as_of = A.text("since", since), A.year("as_of", as_of)
        path, fmt = check_brief_out(out)
        b = self.brief(since, as_of, allow_failed_diagnostics)
        if fmt == "pdf":
            write = figure_writer(render_pdf_figure(b), "pdf", 200,
                                  {"Title": title(b), "Creator": f"forecast {__version__}"})
        else:
            text = render_markdown(b) if fmt == "md" else render_html(b)

            def write(tmp):
                tmp.write_text(text, encoding="utf-8")
        size = write_file(os.fspath(out), path, write)
        r = b.report
        return BriefFile(path=path, format=fmt, bytes=size, pages=1 if fmt == "pdf" else None,
                         forecast_year=r["forecast_year"], probabilities=r["probabilities"],
                         diagnostics_ok=b.diagnostics_ok, warnings=b.warnings,
                         seconds=round(time.perf_counter() - t0, 2))

    # --- validation
    def check(self, presets: list[str] | None = None, refit: bool = False, on_section=None,
              jobs: int | None = None, scheduler: str | None = None, on_refit_start=None,
              on_refit_done=None) -> dict:
        """MCMC diagnostics, predictive checks, PSIS-LOO, prior sensitivity (``presets``; default
        every priors/*.toml), lens ablation and the outside view, for the stored fit. ``on_section``:
        called with a ``validate.check.SectionEvent`` as each section starts and ends. The refits
        (``refit``) run on ``jobs`` local worker processes or on the Dask cluster at ``scheduler``;
        ``on_refit_start(n)`` and ``on_refit_done(result)``: progress hooks."""
        from forecast.validate.check import run
        from forecast.validate.refit import Dispatch

        if isinstance(presets, str) or not all(isinstance(p, str) for p in presets or ()):
            raise UsageError(f"presets must be a list of preset names, e.g. ['realist']; got {A.got(presets)}")
        dispatch = Dispatch(jobs=A.jobs(jobs), scheduler=A.text("scheduler", scheduler), on_start=on_refit_start, on_done=on_refit_done)
        return run(self.workspace, list(presets) if presets else None, refit=refit, on_section=on_section,
                   dispatch=dispatch)

    def backtest_years(self, start: int | None = None, end: int | None = None) -> list[int]:
        """The forecast years a backtest from ``start`` to ``end`` covers (validated)."""
        from forecast.data.loaders import load_dataset
        from forecast.validate.backtest import origin_years

        start, end = A.year("start", start), A.year("end", end)
        return origin_years(load_dataset(self.workspace.data_dir).outcomes, start, end)

    def backtest(self, start: int | None = None, end: int | None = None, preset: str = D.PRESET,
                 draws: int = D.BACKTEST_DRAWS, tune: int = D.BACKTEST_TUNE, chains: int = D.BACKTEST_CHAINS,
                 seed: int = D.SEED, jobs: int | None = None, single_lens: bool = True, candidates: bool = True,
                 recode: str | os.PathLike | None = None,
                 out: str | os.PathLike | None = None, on_start: Callable[[int], None] | None = None,
                 on_done: Callable[[dict], None] | None = None, scheduler: str | None = None) -> dict:
        """Rolling-origin backtest (fit through Y-1, predict Y) of every candidate outcome form (``candidates``)
        scored against climatology, persistence and the single-lens models. ``out``: a folder for backtest_rows.csv and
        backtest.json (checked before any fit). The origins run on ``jobs`` local worker processes
        (default: one per core) or on the Dask cluster at ``scheduler`` (e.g. tcp://HOST:8786).
        ``on_start(n_origins)``, ``on_done(origin)``: progress hooks. Returns the result of
        'backtest --json'."""
        from forecast.report.export import check_out_dir
        from forecast.validate import backtest as B, recode as R

        a, jobs = A.sampling(draws, tune, chains, seed, preset), A.jobs(jobs)  # as 'backtest --draws ...'
        out_dir = check_out_dir(os.fspath(out)) if out is not None else None
        settings = B.Settings(preset=a.preset, draws=a.draws, tune=a.tune, chains=a.chains, seed=a.seed,
                              single_lens=single_lens, candidates=candidates)
        years = self.backtest_years(start, end)
        recodes = R.load_recodes(Path(recode), R.coded_changes(self.workspace.data_dir)) if recode is not None else []  # before any fit
        if on_start is not None:
            on_start(len(years) * (1 + len(recodes)))
        result = R.run_with_recodes(self.workspace, years, settings, recodes, jobs, scheduler, on_done)
        if out_dir is not None:
            B.write_results(out_dir, result)
        return result

    # --- data
    def data_check(self) -> DataCheck:
        """Validate data/, priors/ and the ledger; ValidationError lists every problem with file, row, field."""
        from forecast.data.loaders import load_dataset
        from forecast.errors import ForecastError, Problem
        from forecast.model.priors import check_all_presets
        from forecast.store import ledger as L

        ws = self.workspace
        problems = []
        try:
            ds = load_dataset(ws.data_dir)
        except ValidationError as exc:
            problems.extend(exc.problems)
            ds = None
        problems.extend(check_all_presets(ws.priors_dir))
        try:
            names = (set(ds.meta.index), set(ds.event_kinds.index)) if ds is not None else None
            n_updates = len(L.active(L.parse(L.read_bytes(ws), names=names)))
        except L.LedgerError as exc:
            problems.extend(exc.problems)
            n_updates = 0
        except ForecastError as exc:
            problems.append(Problem(L.LEDGER_FILE, str(exc)))
            n_updates = 0
        if problems:
            raise ValidationError(problems)
        years = ds.outcomes["year"]
        return DataCheck(indicators=len(ds.meta), values=len(ds.values),
                         approximate=int(ds.values["approximate"].sum()), coded_years=len(ds.outcomes),
                         first_year=int(years.min()), last_year=int(years.max()), seed_events=len(ds.events),
                         ledger_updates=n_updates, presets=[p.stem for p in sorted(ws.priors_dir.glob("*.toml"))])

    def prefill(self, lens: str) -> "Prefilled":
        """Fill ``lens`` from bundled reference data (power: the sides' COW NMC 7.0 CINC ratio, with
        their ``cow_code`` and ``first_year`` from workspace.toml); see ``data.prefill``."""
        from forecast.data.config import load_config
        from forecast.data.prefill import prefill

        return prefill(self.root, load_config(self.root), lens)

    def data_list(self) -> list[dict]:
        """Each indicator with lens, side, role, unit, coverage and latest value ('data list --json')."""
        from forecast.data.loaders import load_dataset

        ds = load_dataset(self.workspace.data_dir)
        rows = []
        for name, m in ds.meta.iterrows():
            v = ds.values[ds.values["indicator"] == name]
            last = v.iloc[-1]
            rows.append({"name": name, "lens": m["lens"], "side": m["side"] or None, "role": m["role"],
                         "unit": m["unit"], "description": m["description"],
                         "first_year": int(v["year"].min()), "last_year": int(last["year"]),
                         "last_value": float(last["value"]), "last_value_approximate": bool(last["approximate"]),
                         "n_values": int(len(v))})
        return rows


# ------------------------------------------------------------------------ entry points
def open(path: str | os.PathLike = ".") -> Project:  # noqa: A001 - forecast.open, as in the README
    """Open an existing workspace (a folder with data/ and priors/)."""
    return Project(open_workspace(path))


def init(dest: str | os.PathLike) -> Project:
    """Create a workspace at ``dest`` (a new or empty folder) from the shipped default, and open it."""
    return Project(init_workspace(dest))


def init_blank(dest: str | os.PathLike, dyad: str, first_year: int | None = None, cow_codes: str | None = None,
               prefill: tuple[str, ...] = ()) -> tuple[Project, list["Prefilled"]]:
    """Create a blank workspace for another dyad ('China-India') at ``dest``: workspace.toml, the data
    files with header and commented examples, the shipped presets; ``prefill`` lenses filled from
    bundled data (needs ``first_year`` and ``cow_codes`` 'A,B'). Returns the project and what was filled."""
    from forecast.data.skeleton import init_blank as blank

    ws, done = blank(dest, dyad, first_year, cow_codes, tuple(prefill))
    return Project(ws), done
