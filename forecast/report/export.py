"""Checks for ``--out`` paths of ``forecast plot`` and ``forecast brief``, before any work is done.

The format comes from the suffix. A bad path (unknown suffix, missing folder, a folder
given as the file, no write permission) is refused with a message naming the path and
the fix; the CLI then writes through ``workspace.atomic_write`` (temporary file in the
target folder, then ``os.replace``), so a failure never leaves a partial file.
"""

from __future__ import annotations

import os
from pathlib import Path

from forecast.errors import ForecastError

PLOT_FORMATS = ("png", "svg", "pdf")
BRIEF_FORMATS = ("pdf", "md", "html")


class OutputPathError(ForecastError):
    """An --out path that cannot be written."""


def _choices(formats) -> str:
    dotted = [f".{f}" for f in formats]
    return ", ".join(dotted[:-1]) + " or " + dotted[-1]


def check_out(out: str, formats=PLOT_FORMATS) -> tuple[Path, str]:
    """(path, format) for an --out value, or OutputPathError with the fix."""
    p = Path(out).expanduser()
    suffix = p.suffix.lower().lstrip(".")
    if p.is_dir():
        raise OutputPathError(f"--out {out} is a folder, not a file: give a file name such as "
                              f"{p / ('figure.' + formats[0])}")
    if not suffix:
        raise OutputPathError(f"--out {out} has no suffix; the format comes from it: use {_choices(formats)}")
    if suffix not in formats:
        raise OutputPathError(f"--out {out}: unknown suffix '.{suffix}'; use {_choices(formats)}")
    parent = p.parent.resolve()
    if not parent.exists():
        raise OutputPathError(f"--out {out}: the folder {parent} does not exist; create it first "
                              f"(mkdir -p {parent}) or choose another folder")
    if not parent.is_dir():
        raise OutputPathError(f"--out {out}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"--out {out}: no permission to write in {parent}; choose a folder you can write to")
    return p, suffix


def write_error(out: str, exc: OSError) -> OutputPathError:
    """The message for a write that failed anyway (e.g. a read-only file system)."""
    reason = exc.strerror or str(exc)
    return OutputPathError(f"--out {out}: cannot write in {Path(out).expanduser().parent.resolve()} ({reason}); "
                           f"choose a folder you can write to (nothing was written)")
