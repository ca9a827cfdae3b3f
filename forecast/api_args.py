"""The Python API's argument checks (``forecast.api``): what a call may ask for, refused with a
UsageError naming the Python argument before any work. The limits are the CLI's options' (both
read them from ``defaults``); the CLI calls the request checks below after click has parsed them."""

from __future__ import annotations

import math
import numbers
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from forecast import defaults as D
from forecast.errors import UsageError, ValidationError
from forecast.report import PLOT_KINDS

if TYPE_CHECKING:
    from forecast.store.ledger import Event



def got(value) -> str:
    """A refused value as a message shows it: its repr, with its type unless None, a bool or a number."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return f"{value!r} ({type(value).__name__})"


def choice(name: str, value, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise UsageError(f"{name} must be one of {', '.join(map(repr, choices))}; got {got(value)}")
    return value


def integer(name: str, value, limits: tuple[int, int]) -> int:
    """``value`` as an int within ``limits`` (inclusive): an int (or numpy integer), never a bool or a str."""
    lo, hi = limits
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
        raise UsageError(f"{name} must be an integer from {lo} to {hi}; got {got(value)}")
    return int(value)


def real(name: str, value, limits: tuple[float, float]) -> float:
    lo, hi = limits
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
            or not lo <= value <= hi):
        raise UsageError(f"{name} must be a number from {lo} to {hi}; got {got(value)}")
    return float(value)


def text(name: str, value, optional: bool = True) -> str | None:
    if (value is None and optional) or isinstance(value, str):
        return value
    raise UsageError(f"{name} must be a string; got {got(value)}")


def year(name: str, value) -> int | None:
    """A year as an int (2025) or as the CLI reads it ('2025'), within defaults.YEAR_RANGE; None passes."""
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}", value.strip()):
        value = int(value)
    lo, hi = D.YEAR_RANGE
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
        raise UsageError(f"{name} must be a year from {lo} to {hi} (e.g. 2025 or '2025'); got {got(value)}")
    return int(value)


def state_ref(name: str, value) -> str | None:
    """A drivers plot's start/end: 'fit', 'now', a year (2016 or '2016') or a date 'YYYY-MM-DD'."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(year(name, value))
    raise UsageError(f"{name} must be 'fit', 'now', a year (e.g. 2016) or a date 'YYYY-MM-DD'; got {got(value)}")


@dataclass(frozen=True)
class Sampling:
    """Checked arguments of a fit (``Project.fit``; ``backtest`` uses draws to seed)."""

    draws: int
    tune: int
    chains: int
    seed: int
    preset: str = D.PRESET
    as_of: int | None = None
    sampler: str = D.SAMPLER
    target_accept: float | None = None


def sampling(draws, tune, chains, seed, preset=D.PRESET, as_of=None, sampler=D.SAMPLER,
             target_accept=None) -> Sampling:
    """Refuse what 'forecast fit' refuses (the same limits), naming the Python argument."""
    return Sampling(draws=integer("draws", draws, D.DRAWS_RANGE), tune=integer("tune", tune, D.TUNE_RANGE),
                    chains=integer("chains", chains, D.CHAINS_RANGE), seed=integer("seed", seed, D.SEED_RANGE),
                    preset=text("preset", preset, optional=False), as_of=year("as_of", as_of),
                    sampler=choice("sampler", sampler, D.SAMPLERS),
                    target_accept=None if target_accept is None else real("target_accept", target_accept,
                                                                           D.TARGET_ACCEPT_RANGE))


def jobs(value) -> int | None:
    return None if value is None else integer("jobs", value, D.JOBS_RANGE)


@dataclass(frozen=True)
class UpdateRequest:
    """Events to record, with where they came from (for messages): 'command line' or a batch file."""

    events: list["Event"]
    file: str = "command line"
    rows: list[int] | None = None  # the batch file's line of each event


CLI_NAMES = {k: f"--{k}" for k in ("indicator", "value", "event", "date", "source", "note", "file")}
API_NAMES = {k: f"{k}=" for k in CLI_NAMES}


def update_request(indicator: str | None = None, value: float | None = None, event: str | None = None,
                   date: str | int | None = None, source: str | None = None, note: str = "",
                   file: str | os.PathLike | None = None, *, cli: bool = False) -> UpdateRequest:
    """One reading (``indicator`` with ``value``), one coded ``event``, or a batch ``file``
    (CSV: date,indicator|kind,value,source,note). Raises UsageError for a wrong combination or
    type, naming the Python arguments (the CLI's options when ``cli``). ``date``: 'YYYY', 'YYYY-MM',
    'YYYY-MM-DD', or a year as an int."""
    from forecast.data.events import event_from_input

    n = CLI_NAMES if cli else API_NAMES
    if file:
        if indicator or event or value is not None or date or source:
            raise UsageError(f"{n['file']} cannot be combined with "
                             + "/".join(n[k] for k in ("indicator", "event", "value", "date", "source")))
        from forecast.data.batch import read_batch

        events, rows = read_batch(os.fsdecode(file))
        return UpdateRequest(events, os.fsdecode(file), rows)
    note = "" if note is None else note
    for name, v in (("indicator", indicator), ("event", event), ("source", source), ("note", note)):
        text(name, v)
    if bool(indicator) == bool(event):
        sp = " " if cli else ""
        raise UsageError(f"give exactly one of {n['indicator']}{sp}NAME (with {n['value']}) or {n['event']}{sp}KIND, "
                         f"or {n['file']}")
    if indicator and value is None:
        raise UsageError(f"{n['indicator']} needs {n['value']}")
    if event and value is not None:
        raise UsageError(f"{n['value']} applies to {n['indicator']} readings, not to {n['event']}")
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                              or not math.isfinite(value)):
        raise UsageError(f"value must be a finite number (an int or a float); got {got(value)}")
    if isinstance(date, numbers.Integral) and not isinstance(date, bool):
        date = str(year("date", date))
    if not date:
        raise UsageError("missing option '--date'" if cli else "missing argument date=")
    if not isinstance(date, str):
        raise UsageError(f"date must be 'YYYY', 'YYYY-MM', 'YYYY-MM-DD' or a year as an int; got {got(date)}")
    if source is None:
        raise UsageError("missing option '--source'" if cli else "missing argument source=")
    problems: list = []
    f = {k: n[k].rstrip("=") for k in n}
    e = event_from_input("indicator" if indicator else "event", date, indicator or event, source, note,
                         None if value is None else float(value),
                         fields={"date": f["date"], "name": f["indicator"] if indicator else f["event"],
                                 "source": f["source"], "note": f["note"]}, problems=problems)
    if e is None:
        raise ValidationError(problems)
    return UpdateRequest([e])


def check_plot_request(kind: str, out: str | os.PathLike | None = None, start: str | None = None,
                       end: str | None = None, *, cli: bool = False) -> tuple[Path, str] | None:
    """Refuse a bad plot request before any work: unknown kind, start/end (--from/--to when ``cli``)
    off 'drivers', and (when ``out`` is given) an output path that cannot be written. Returns (path, format)."""
    from forecast.report.export import PLOT_FORMATS, check_out

    if kind not in PLOT_KINDS:
        raise UsageError(f"unknown plot kind '{kind}': use one of {', '.join(PLOT_KINDS)}")
    if (start or end) and kind != "drivers":
        raise UsageError("--from/--to apply to 'forecast plot drivers' only" if cli else
                         "start=/end= apply to plot('drivers') only")
    return None if out is None else check_out(os.fspath(out), PLOT_FORMATS)


def check_brief_out(out: str | os.PathLike) -> tuple[Path, str]:
    """(path, format) of a brief's output file, or OutputPathError with the fix."""
    from forecast.report.export import BRIEF_FORMATS, check_out

    return check_out(os.fspath(out), BRIEF_FORMATS)
