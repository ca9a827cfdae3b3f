"""Workspace layout, creation from the shipped default, content hashing and atomic writes."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from forecast.data.config import CONFIG_FILE
from forecast.errors import FileSystemError, WorkspaceError

STATE_DIR = "state"
POSTERIOR_FILE = "posterior.nc"
SETTLEMENT_PRIOR_FILE = "settlement_prior.json"  # data/reference/: the settlement prior learned from claims
REFERENCE_DIR = "reference"  # data/reference/: shipped tables read in place, never copied into a workspace
TEMP_PREFIX = ".forecast-tmp."  # every temporary file this tool writes starts with this; nothing else is cleaned up
LOCK_FILE = ".lock"  # state/.lock: the write lock of update, undo and fit
TEMP_NAME_CHARS = 64  # a temporary carries at most this much of its target's name (long names stay writable)


@dataclass(frozen=True)
class Workspace:
    """A folder holding ``workspace.toml``, ``data/`` and ``priors/``; fits are stored under ``state/``."""

    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def priors_dir(self) -> Path:
        return self.root / "priors"

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def posterior_path(self) -> Path:
        return self.state_dir / POSTERIOR_FILE

    def require(self) -> "Workspace":
        """Raise a WorkspaceError unless this looks like a workspace."""
        missing = [d.name for d in (self.data_dir, self.priors_dir) if not d.is_dir()]
        if missing:
            raise WorkspaceError(
                f"{self.root} is not a forecast workspace: missing folder(s) "
                f"{', '.join(m + '/' for m in missing)} "
                f"(create one with 'forecast init DIR' or pass --workspace DIR)"
            )
        from forecast.store.ledger import LEDGER_FILE

        for path, want_file in ((self.root / LEDGER_FILE, True), (self.state_dir, False),
                                (self.state_dir / LOCK_FILE, True)):
            if path.exists() and path.is_dir() == want_file:
                what = "a file" if want_file else "a folder"
                raise WorkspaceError(f"{path} should be {what} but is not; move it away (mv {path} {path}.bak) "
                                     f"and restore the workspace's own {path.name}")
        return self

    def check_writable(self) -> None:
        """Before minutes of work (a fit): FileSystemError unless ``state/`` (or, before the first
        fit, the workspace folder) can be written: a read-only file system or no permission."""
        import errno

        target = self.state_dir if self.state_dir.is_dir() else self.root
        if not os.access(target, os.W_OK | os.X_OK):
            read_only = bool(os.statvfs(target).f_flag & os.ST_RDONLY)
            code = errno.EROFS if read_only else errno.EACCES
            raise FileSystemError.of(OSError(code, os.strerror(code), str(target)))

    def content_files(self) -> list[Path]:
        """The files whose content defines a fit: workspace.toml, data CSVs and prior TOMLs."""
        files = [self.config_path] + sorted(self.data_dir.glob("*.csv")) + sorted(self.priors_dir.glob("*.toml"))
        return [f for f in files if f.is_file()]


def open_workspace(path: str | os.PathLike | None) -> Workspace:
    return Workspace(Path(path or ".").resolve()).require()


def default_source() -> Path:
    """Folder holding the shipped default ``workspace.toml``, ``data/`` and ``priors/``.

    In a wheel they are packaged as ``forecast/_default``; in a source checkout
    (editable install) they are the repository's top-level folders.
    """
    here = Path(__file__).resolve().parent
    packaged = here / "_default"
    if (packaged / "data").is_dir():
        return packaged
    repo = here.parent
    if (repo / "data").is_dir() and (repo / "priors").is_dir():
        return repo
    raise WorkspaceError("the shipped default data could not be found; reinstall the package")


def reference_dir() -> Path:
    """Folder of the shipped reference tables (``data/reference/`` of the default source)."""
    return default_source() / "data" / REFERENCE_DIR


def init_workspace(dest: str | os.PathLike, fill=None) -> Workspace:
    """Create a workspace at ``dest`` from the shipped default (workspace.toml, data/ and priors/).

    The reference tables under ``data/reference/`` stay with the package. ``fill(folder)``, if
    given, then rewrites the new workspace's files before it is moved into place (a blank
    skeleton for another dyad); a failure leaves nothing behind."""
    dest = Path(dest).expanduser().absolute()
    for p in (dest, *dest.parents):
        if p.exists():
            if not p.is_dir():
                raise WorkspaceError(f"cannot create a workspace at {dest}: {p} is a file, not a folder; "
                                     f"choose another folder")
            break
    if dest.exists() and any(dest.iterdir()):
        raise WorkspaceError(f"{dest} exists and is not empty; choose a new folder")
    src = default_source()
    made = [p for p in reversed(dest.parents) if not p.exists()]  # outermost first
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        mode = dest.stat().st_mode & 0o7777 if dest.exists() else 0o777 & ~current_umask()
        tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}init.", dir=dest.parent))
        os.chmod(tmp, mode)  # mkdtemp's 0700 would otherwise become the workspace's own mode
    except OSError as exc:
        remove_empty_folders(made)
        raise FileSystemError.of(exc, dest) from None
    try:
        for sub in ("data", "priors"):
            shutil.copytree(src / sub, tmp / sub, ignore=shutil.ignore_patterns("__pycache__", ".*", REFERENCE_DIR))
        shutil.copy2(src / CONFIG_FILE, tmp / CONFIG_FILE)
        if fill is not None:
            fill(tmp)
        if dest.exists():
            dest.rmdir()
        os.replace(tmp, dest)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        remove_empty_folders(made)
        if isinstance(exc, OSError):
            raise FileSystemError.of(exc, dest) from None
        raise
    return Workspace(dest.resolve())


def remove_empty_folders(folders: list[Path]) -> None:
    """Remove the folders a failed command created (innermost first), if they are still empty."""
    for p in reversed(folders):
        try:
            p.rmdir()
        except OSError:
            return


# What content_hash covers, in the words of the stale-fit warnings (the stored hash is one digest,
# so which of these changed is not known)
# what content_hash covers, in words (the settlement prior is the one 'forecast reference fit' learns)
HASHED_INPUTS = "workspace.toml, data/, priors/ or the settlement prior"


def content_hash(ws: Workspace) -> str:
    """SHA-256 over the relative names and bytes of workspace.toml and the data and prior files, and of
    the shipped settlement prior learned from the reference class (``reference = ...`` prior entries
    read it), so a fit made before a new ``forecast reference fit`` is known to be stale."""
    h = hashlib.sha256()
    for f in ws.content_files():
        h.update(f.relative_to(ws.root).as_posix().encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    shipped = reference_dir() / SETTLEMENT_PRIOR_FILE
    if shipped.is_file():
        h.update(f"{REFERENCE_DIR}/{SETTLEMENT_PRIOR_FILE}".encode() + b"\0" + shipped.read_bytes() + b"\0")
    return h.hexdigest()


def current_umask() -> int:
    """The process's umask (read by setting and restoring it)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _new_file_mode(path: Path) -> int:
    """The mode the written file gets: that of the file it replaces, else the usual mode of a new file."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~current_umask()


def atomic_write(path: Path, write) -> None:
    """Write through ``write(tmp_path)`` to a temporary file beside ``path``,
    fsync it, then ``os.replace`` it into place. A crash leaves either the old
    file or the new one, never a torn file. The temporary is named
    ``TEMP_PREFIX + name + '.*.tmp'`` (at most TEMP_NAME_CHARS of the name); a
    replaced file keeps its mode, a new one gets the usual permissions (0666 less
    the umask). Missing parent folders are created. An OSError (read-only file
    system, full disk, permission denied, name too long, a folder in the way)
    removes the temporary and is raised as a FileSystemError naming ``path``."""
    try:
        _atomic_write(path, write)
    except OSError as exc:
        raise FileSystemError.of(exc, path, unchanged=True) from exc


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name[:TEMP_NAME_CHARS]}.", suffix=".tmp",
                               dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, mode)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        dirfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
