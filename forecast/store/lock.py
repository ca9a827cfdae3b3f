"""The workspace's write lock (``state/.lock``), shared by fit, update and undo.

Taking it is the first write a command makes; an operating-system error there (a read-only
workspace, a full disk, no permission) becomes a ``FileSystemError`` naming the lock file and
saying that nothing was written, for the CLI and the Python API alike.
"""

from __future__ import annotations

from contextlib import contextmanager

from forecast.errors import FileSystemError
from forecast.workspace import Workspace

LOCK_FILE = ".lock"


@contextmanager
def write_lock(ws: Workspace):
    """Hold the workspace's write lock; OS errors while taking it are named errors."""
    from filelock import FileLock

    path = ws.state_dir / LOCK_FILE
    try:
        ws.state_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path))
        lock.acquire()
    except OSError as exc:
        raise FileSystemError.of(exc, path, unchanged=True) from None
    try:
        yield
    finally:
        lock.release()
