"""The Python API's argument checks (``forecast.api``): what a call may ask for, refused with a
UsageError before any work. The CLI calls the same checks after click has parsed its options."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from forecast.errors import UsageError, ValidationError

if TYPE_CHECKING:
    from forecast.store.ledger import Event

PLOT_KINDS = ("probabilities", "lenses", "trajectory", "drivers", "diagnostics")


@dataclass(frozen=True)
class UpdateRequest:
    """Events to record, with where they came from (for messages): 'command line' or a batch file."""

    events: list["Event"]
    file: str = "command line"
    rows: list[int] | None = None  # the batch file's line of each event


def update_request(indicator: str | None = None, value: float | None = None, event: str | None = None,
                   date: str | None = None, source: str | None = None, note: str = "",
                   file: str | os.PathLike | None = None) -> UpdateRequest:
    """One reading (``indicator`` with ``value``), one coded ``event``, or a batch ``file``
    (CSV: date,indicator|kind,value,source,note). Raises UsageError for a wrong combination."""
    from forecast.data.events import event_from_input

    if file:
        if indicator or event or value is not None or date or source:
            raise UsageError("--file cannot be combined with --indicator/--event/--value/--date/--source")
        from forecast.data.batch import read_batch

        events, rows = read_batch(os.fsdecode(file))
        return UpdateRequest(events, os.fsdecode(file), rows)
    if bool(indicator) == bool(event):
        raise UsageError("give exactly one of --indicator NAME (with --value) or --event KIND, or --file")
    if indicator and value is None:
        raise UsageError("--indicator needs --value")
    if event and value is not None:
        raise UsageError("--value applies to --indicator readings, not to --event")
    if not date:
        raise UsageError("missing option '--date'")
    if source is None:
        raise UsageError("missing option '--source'")
    problems: list = []
    e = event_from_input("indicator" if indicator else "event", date, indicator or event, source, note, value,
                         fields={"date": "--date", "name": "--indicator" if indicator else "--event",
                                 "source": "--source", "note": "--note"}, problems=problems)
    if e is None:
        raise ValidationError(problems)
    return UpdateRequest([e])


def check_plot_request(kind: str, out: str | os.PathLike | None = None, start: str | None = None,
                       end: str | None = None) -> tuple[Path, str] | None:
    """Refuse a bad plot request before any work: unknown kind, --from/--to off 'drivers', and
    (when ``out`` is given) an output path that cannot be written. Returns (path, format)."""
    from forecast.report.export import PLOT_FORMATS, check_out

    if kind not in PLOT_KINDS:
        raise UsageError(f"unknown plot kind '{kind}': use one of {', '.join(PLOT_KINDS)}")
    if (start or end) and kind != "drivers":
        raise UsageError("--from/--to apply to 'forecast plot drivers' only")
    return None if out is None else check_out(os.fspath(out), PLOT_FORMATS)


def check_brief_out(out: str | os.PathLike) -> tuple[Path, str]:
    """(path, format) of a brief's output file, or OutputPathError with the fix."""
    from forecast.report.export import BRIEF_FORMATS, check_out

    return check_out(os.fspath(out), BRIEF_FORMATS)
