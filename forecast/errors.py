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
        n = len(self.problems)
        lines = [str(p) for p in self.problems[:defaults.MAX_PROBLEMS_SHOWN]]
        if n > len(lines):
            lines.append(f"... and {n - len(lines)} more problem(s)")
        head = f"{n} problem(s) found:" if n > 1 else "invalid input:"
        super().__init__(head + "\n  " + "\n  ".join(lines))


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


class WorkspaceError(ForecastError):
    """The workspace folder is missing or malformed."""


class UnknownStateError(ForecastError):
    """A state code or abbreviation that the bundled reference table does not hold."""


class UsageError(ForecastError):
    """Arguments that do not fit together (the CLI exits 2 with usage help, as click does)."""
