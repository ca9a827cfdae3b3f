"""Error types. Every user-facing failure is a ForecastError with a message that
names the file, row and field where that makes sense, and suggests a fix."""

from __future__ import annotations

from dataclasses import dataclass

from forecast import defaults


class ForecastError(Exception):
    """Base class: the CLI turns these into a clean message and exit code 1."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located as precisely as we can."""

    file: str
    message: str
    row: int | None = None  # 1-based line number in the file (header is line 1)
    field: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field '{self.field}'"
        text = f"{where}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ValidationError(ForecastError):
    """One or more problems found while validating workspace files."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.listing())

    def listing(self, limit: int | None = defaults.MAX_PROBLEMS_SHOWN, more: str = "") -> str:
        """The message: the first ``limit`` problems (all if None), then how many more, and ``more``."""
        n = len(self.problems)
        lines = [str(p) for p in self.problems[:limit]]
        if n > len(lines):
            lines.append(f"... and {n - len(lines)} more problem(s)" + (f" ({more})" if more else ""))
        head = f"{n} problem(s) found:" if n > 1 else "invalid input:"
        return head + "\n  " + "\n  ".join(lines)


class PriorError(ValidationError):
    """A problem in a priors/*.toml file."""


class NoFitError(ForecastError):
    """No stored posterior in the workspace."""


class IdentityMismatchError(ForecastError):
    """A stored posterior does not match the workspace it is used with."""


class StoredStateError(IdentityMismatchError):
    """A stored fit or head file lacks an attribute this version needs, or has one it does not know."""


class StoredFileError(StoredStateError):
    """A stored posterior or head file fails its checks when read: no checksum or a checksum that does
    not match its contents, a missing dataset, a wrong shape, non-finite draws, or an identity that does
    not match the ledger head it is filed under. The fix is 'forecast fit'."""


class ReferenceIdentityError(ForecastError):
    """A stored reference-class posterior that is not what its caller expects (data hash, origin),
    lacks its identity attributes, or whose draws do not match their stored checksum."""


class WorkspaceError(ForecastError):
    """The workspace folder is missing or malformed."""


class UnknownStateError(ForecastError):
    """A state code or abbreviation that the bundled reference table does not hold."""


class UsageError(ForecastError):
    """Arguments that do not fit together (the CLI exits 2 with usage help, as click does)."""


class FileSystemError(ForecastError):
    """An operating-system error (read-only file system, full disk, file name too long, permission
    denied, a folder where a file belongs) turned into one line naming the path and the fix.
    ``errno`` and ``path`` are kept for callers; build one with ``FileSystemError.of(exc, path)``."""

    def __init__(self, message: str, errno: int | None = None, path: str | None = None):
        super().__init__(message)
        self.errno, self.path = errno, path

    @classmethod
    def of(cls, exc: OSError, path=None, unchanged: bool = False) -> "FileSystemError":
        """The message for ``exc``; ``path`` (default: the file the error names) is the file the
        user knows about (not a temporary); ``unchanged``: say that nothing was written."""
        import errno as E
        import os
        import re

        code = exc.errno
        if code is None:  # h5py and others put the C errno in the text only
            m = re.search(r"errno\s*=\s*(\d+)", str(exc))
            code = int(m.group(1)) if m else None
        where = os.fspath(path) if path is not None else (exc.filename and os.fsdecode(exc.filename))
        where = where or "a file"
        kept = ", nothing was written" if unchanged else ""
        folder = os.path.dirname(os.path.abspath(where)) if where != "a file" else "its folder"
        if code == E.EROFS:
            text = (f"cannot write {where}: the file system is read-only{kept}; run the command on a "
                    f"writable copy, or remount it read-write")
        elif code in (E.ENOSPC, E.EDQUOT):
            text = f"cannot write {where}: no space left on the device{kept}; free some space and run it again"
        elif code == E.ENAMETOOLONG:
            name = os.path.basename(where)
            text = (f"cannot use {where}: the file name is too long ({len(os.fsencode(name))} bytes; file "
                    f"systems allow at most 255 per name){kept}; choose a shorter name")
        elif code in (E.EACCES, E.EPERM):
            text = (f"cannot access {where}: permission denied{kept}; check the owner and permissions of "
                    f"{folder} (ls -ld), or choose a folder you can write to")
        elif code == E.EISDIR:
            text = (f"{where} is a folder where a file is expected{kept}; move it away (mv {where} "
                    f"{where}.bak) and run the command again")
        elif code == E.ENOTDIR:
            text = (f"cannot use {where}: a part of this path is a file, not a folder{kept}; choose "
                    f"another path")
        elif code == E.EXDEV:
            text = f"cannot move a file into {where} across file systems{kept}; use a folder on the same disk"
        else:
            reason = exc.strerror or str(exc)
            text = f"cannot use {where}: {reason}{kept}; check free space and permissions of {folder}"
        return cls(text, errno=code, path=where)


class SamplingInterrupted(KeyboardInterrupt):
    """Sampling stopped before every draw was made: Ctrl-C (nutpie and PyMC catch it and hand back a
    partial trace, which is never used; ``inference.sampling``). A KeyboardInterrupt, not a
    ForecastError, so no ordinary error handler catches it; the CLI reports it as an interrupt."""


class ClusterError(ForecastError):
    """A Dask scheduler that cannot be reached, or a cluster that cannot run the work."""


class FigureWarning(UserWarning):
    """A figure drawn from a forecast that should not be used as it stands; the same words are
    stamped on the figure's face (``Project.plot`` issues it, ``write_plot`` lists it)."""


class StaleFitWarning(FigureWarning):
    """The workspace's hashed inputs changed since the stored fit: run 'forecast fit'."""


class DiagnosticsFailedWarning(FigureWarning):
    """The stored fit failed its sampler diagnostics: do not use its numbers."""


class LedgerMismatchWarning(FigureWarning):
    """The stored forecast and the ledger disagree."""
