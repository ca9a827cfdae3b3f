"""Output files of ``forecast plot``, ``brief`` and ``backtest``: checks of the ``--out`` path
before any work is done, and the atomic write.

The format comes from the suffix. A missing folder is created (with its parents) when the
file is written. A bad path (unknown suffix, a folder given as the file, a file where a
folder belongs, a name too long, no write permission) is refused before any work with a
message naming the path and the fix; ``write_file`` then writes through
``workspace.atomic_write`` (temporary file in the target folder, then ``os.replace``), so a
failure (read-only file system, full disk) never leaves a partial file, a temporary or a
folder it created.
"""

from __future__ import annotations

import os
from pathlib import Path

from forecast.errors import FileSystemError, ForecastError

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
    _check_name_lengths(out, p.absolute())
    if p.is_dir():
        raise OutputPathError(f"--out {out} is a folder, not a file: give a file name such as "
                              f"{p / ('figure.' + formats[0])}")
    if not suffix:
        raise OutputPathError(f"--out {out} has no suffix; the format comes from it: use {_choices(formats)}")
    if suffix not in formats:
        raise OutputPathError(f"--out {out}: unknown suffix '.{suffix}'; use {_choices(formats)}")
    _check_writable_path(out, p.absolute())
    return p, suffix


def _exists(p: Path) -> bool:
    try:
        os.lstat(p)
    except OSError:  # missing, or a name too long to look up
        return False
    return True


def _nearest_existing(p: Path) -> Path:
    return next(a for a in p.parents if _exists(a))


def _check_name_lengths(out: str, p: Path) -> None:
    """Refuse a file or folder name longer than the file system allows (usually 255 bytes)."""
    existing = _nearest_existing(p)
    try:
        name_max = os.pathconf(existing, "PC_NAME_MAX") if existing.is_dir() else 255
    except (OSError, ValueError):
        name_max = 255
    for part in p.relative_to(existing).parts:
        if len(os.fsencode(part)) > name_max:
            raise OutputPathError(f"--out {out}: the name {part[:40]}... is too long ({len(os.fsencode(part))} "
                                  f"bytes; this file system allows {name_max}); choose a shorter name")


def _check_writable_path(out: str, p: Path) -> None:
    """Refuse a path that cannot be created: a file where a folder belongs, or no permission to
    write in the nearest existing folder (the missing ones are created when the file is written)."""
    existing = _nearest_existing(p)
    if not existing.is_dir():
        raise OutputPathError(f"--out {out}: {existing} is a file, not a folder; choose another path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputPathError(f"--out {out}: no permission to write in {existing} (or it is on a read-only "
                              f"file system); choose a folder you can write to")


def write_error(out: str, exc: FileSystemError | OSError) -> OutputPathError:
    """The message for a write that failed anyway (a read-only file system, a full disk)."""
    if isinstance(exc, OSError):
        exc = FileSystemError.of(exc, Path(out).expanduser())
    return OutputPathError(f"--out {out}: {exc}")


def check_out_dir(out: str) -> Path:
    """Check an output folder before minutes of work: it is created (with its parents) when the
    results are written, and must be writable (nothing is written until the results are
    complete). Returns the path."""
    p = Path(out).expanduser()
    _check_name_lengths(out, p.absolute() / "x")
    if p.exists() and not p.is_dir():
        raise OutputPathError(f"--out {out}: exists and is not a folder; give a folder path")
    if p.exists():
        if not os.access(p, os.W_OK | os.X_OK):
            raise OutputPathError(f"--out {out}: the folder is not writable (permissions, or a read-only "
                                  f"file system); choose another --out")
    else:
        _check_writable_path(out, p.absolute() / "x")
    return p


def write_file(out: str, path: Path, write) -> int:
    """Write through ``write(tmp_path)`` atomically (temporary file beside the target, then
    os.replace); a replaced file keeps its mode, a new one gets the usual permissions.
    Returns the size in bytes."""
    from forecast.workspace import atomic_write, remove_empty_folders

    made = [a for a in reversed(path.absolute().parents) if not a.exists()]  # outermost first
    try:
        atomic_write(path, write)
    except (FileSystemError, OSError) as exc:
        remove_empty_folders(made)
        raise write_error(out, exc) from None
    return path.stat().st_size


def figure_writer(fig, fmt: str, dpi: int, metadata: dict):
    """A ``write(tmp_path)`` for ``write_file`` that saves ``fig`` in the briefing style."""
    from forecast.report import style

    def write(tmp):
        with style.context():
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)
    return write
