"""Output files of ``forecast plot``, ``brief`` and ``backtest``: checks of the ``--out`` path
before any work is done, and the atomic write.

The format comes from the suffix. A bad path (unknown suffix, missing folder, a folder
given as the file, no write permission) is refused with a message naming the path and
the fix; ``write_file`` then writes through ``workspace.atomic_write`` (temporary file in
the target folder, then ``os.replace``), so a failure never leaves a partial file.
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


def check_out_dir(out: str) -> Path:
    """Check an output folder before minutes of work: it may be created if its parent exists, and
    must be writable (nothing is written until the results are complete). Returns the path."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise OutputPathError(f"--out {out}: exists and is not a folder; give a folder path")
    if not p.exists():
        if not p.parent.is_dir():
            raise OutputPathError(f"--out {out}: the parent folder {p.parent} does not exist; create it first")
        if not os.access(p.parent, os.W_OK):
            raise OutputPathError(f"--out {out}: no permission to create a folder in {p.parent}")
    elif not os.access(p, os.W_OK):
        raise OutputPathError(f"--out {out}: the folder is not writable; choose another --out")
    return p


def write_file(out: str, path: Path, write) -> int:
    """Write through ``write(tmp_path)`` atomically (temporary file beside the target, then
    os.replace); a replaced file keeps its mode, a new one gets the usual permissions.
    Returns the size in bytes."""
    from forecast.workspace import atomic_write

    try:
        atomic_write(path, write)
    except OSError as exc:
        raise write_error(out, exc) from None
    return path.stat().st_size


def figure_writer(fig, fmt: str, dpi: int, metadata: dict):
    """A ``write(tmp_path)`` for ``write_file`` that saves ``fig`` in the briefing style."""
    from forecast.report import style

    def write(tmp):
        with style.context():
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)
    return write
