"""Stored state is validated when read (issue 13, item 3): a posterior or head file with non-finite
draws, a wrong shape, a missing dataset, a checksum that does not match, or an identity that does not
match the ledger head it is filed under is refused with StoredFileError, naming the file and the fix
('forecast fit'): never printed as nan%, never replaced by uniform weights, never a traceback, and
nothing in the workspace changes. Read-only commands and 'update --dry-run' need no write access."""

from __future__ import annotations

import builtins
import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from data_years import LAST_DATA_YEAR, PAST_YEAR_MONTH

from forecast.cli.main import main
from forecast.errors import StoredFileError
from forecast.store import ledger as L
from forecast.store import posterior as store
from forecast.store.integrity import CHECKSUM_ATTR

PAST_EVENT = ["--event", "talks_suspended", "--date", PAST_YEAR_MONTH, "--source", "test"]
OTHER_PAST_EVENT = ["--event", "talks_suspended", "--date", f"{LAST_DATA_YEAR - 1}-09", "--source", "test"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under the workspace (folders too), with the bytes of each file."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


def commands(ws, tmp_path) -> dict[str, list]:
    """The commands that read the current forecast, each writing (if at all) outside the workspace."""
    root = ws.root
    (tmp_path / "out").mkdir(exist_ok=True)
    return {"show": ["show", "-w", root],
            "show --json": ["show", "-w", root, "--json"],
            "update --dry-run": ["update", "-w", root, *OTHER_PAST_EVENT, "--dry-run"],
            "update": ["update", "-w", root, *OTHER_PAST_EVENT],
            "brief": ["brief", "-w", root, "--out", tmp_path / "out" / "brief.md", "--allow-failed-diagnostics"],
            "plot": ["plot", "probabilities", "-w", root, "--out", tmp_path / "out" / "p.png"],
            "check": ["check", "-w", root]}


def assert_refused(ws, tmp_path, damaged: Path, words: str, skip: tuple[str, ...] = ()) -> None:
    """Every command that reads the damaged file exits 1 with the named error (file, problem, fix),
    without a traceback or a 'nan', and leaves the workspace byte-identical; history still works."""
    snap = snapshot(ws.root)
    for name, args in commands(ws, tmp_path).items():
        if name in skip:
            continue
        r = run(*args)
        out = r.output
        assert r.exit_code == 1, f"{name}: exit {r.exit_code}\n{out}"
        assert isinstance(r.exception, SystemExit), f"{name}: {r.exception!r}"
        assert "Traceback" not in out and "nan%" not in out and "nan pp" not in out, f"{name}: {out}"
        assert str(damaged) in out, f"{name} does not name {damaged}: {out}"
        assert words in out, f"{name} does not say '{words}': {out}"
        assert "forecast fit" in out, f"{name} does not give the fix: {out}"
        assert snapshot(ws.root) == snap, f"{name} changed the workspace"
    r = run("history", "-w", ws.root)  # reads the ledger only
    assert r.exit_code == 0 and "Traceback" not in r.output and "nan%" not in r.output, r.output
    assert snapshot(ws.root) == snap


def head_file(ws) -> Path:
    """One fast-path update: the forecast for the new ledger head is stored in state/heads/."""
    r = run("update", "-w", ws.root, *PAST_EVENT, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["path"] == "psis"
    _, head = L.read(ws)
    path = store.head_path(ws, head)
    assert path.is_file()
    return path


def edit(path: Path, change, sign: bool = True) -> None:
    """Change a stored file with h5py; ``sign`` stores fresh checksums, so that only the check under
    test (not the checksum) can catch the change."""
    with h5py.File(path, "r+") as f:
        change(f)
    if sign:
        store.sign_file(path)


def set_first(group: str, name: str, value: float):
    def change(f):
        ds = f[group][name]
        flat = ds[()].reshape(-1)
        flat[0] = value
        ds[...] = flat.reshape(ds.shape)
    return change


# ------------------------------------------------------------------------------- the probes
def test_fresh_files_read_back(fitted_workspace):
    ws = fitted_workspace
    path = head_file(ws)
    stored = store.read_forecast_file(path, ws)
    assert np.isclose(stored.draws["weight"].sum(), 1.0)
    with h5py.File(path, "r") as f:
        assert len(f["forecast"].attrs[CHECKSUM_ATTR]) == 64
    post = store.read_posterior_arrays(ws.posterior_path)
    assert set(post) == set(store.POSTERIOR_VARS)
    assert run("show", "-w", ws.root).exit_code == 0


def test_nan_draws_in_a_head_file(fitted_workspace, tmp_path):
    ws = fitted_workspace
    path = head_file(ws)
    edit(path, set_first("forecast", "improve_next_year", np.nan))
    with pytest.raises(StoredFileError):
        store.read_forecast_file(path, ws)
    assert_refused(ws, tmp_path, path, "non-finite")


def test_nan_in_the_posterior_forecast(fitted_workspace, tmp_path):
    ws = fitted_workspace
    edit(ws.posterior_path, set_first("forecast", "settle_within_5y", np.nan))
    assert_refused(ws, tmp_path, ws.posterior_path, "non-finite")
    r = run("undo", "-w", ws.root)
    assert r.exit_code == 1 and str(ws.posterior_path) in r.output and "Traceback" not in r.output


def test_nan_in_the_posterior_variables_refuses_update(fitted_workspace, tmp_path):
    """The update path reads the posterior variables (read_posterior_arrays): checked there too."""
    ws = fitted_workspace
    edit(ws.posterior_path, set_first("posterior", "factor_state", np.inf))
    snap = snapshot(ws.root)
    for args in (["update", "-w", ws.root, *PAST_EVENT], ["update", "-w", ws.root, *PAST_EVENT, "--dry-run"]):
        r = run(*args)
        assert r.exit_code == 1 and "Traceback" not in r.output, r.output
        assert str(ws.posterior_path) in r.output and "'factor_state'" in r.output and "non-finite" in r.output
        assert "forecast fit" in r.output
        assert snapshot(ws.root) == snap


def test_head_file_without_its_weight_dataset(fitted_workspace, tmp_path):
    ws = fitted_workspace
    path = head_file(ws)

    def drop_weight(f):
        del f["forecast"]["weight"]
    edit(path, drop_weight)
    assert_refused(ws, tmp_path, path, "weight")


def test_older_head_file_copied_over_the_current_one(fitted_workspace, tmp_path):
    ws = fitted_workspace
    old = head_file(ws)
    r = run("undo", "-w", ws.root)
    assert r.exit_code == 0, r.output
    _, head = L.read(ws)
    current = store.head_path(ws, head)
    assert current.is_file() and current != old
    shutil.copyfile(old, current)  # a valid, correctly checksummed file, filed under the wrong head
    assert_refused(ws, tmp_path, current, "filed under ledger head")


def test_wrong_shape(fitted_workspace, tmp_path):
    ws = fitted_workspace
    path = head_file(ws)

    def shorten(f):
        w = f["forecast"]["weight"][()]
        del f["forecast"]["weight"]
        f["forecast"].create_dataset("weight", data=w[:-1] / w[:-1].sum())
    edit(path, shorten)
    assert_refused(ws, tmp_path, path, "shape")


def test_checksum_mismatch_after_a_byte_edit(fitted_workspace, tmp_path):
    """One byte of a dataset changed in the file's raw bytes (the lowest byte of a float64: the value
    stays finite and plausible, only the checksum can tell)."""
    ws = fitted_workspace
    path = head_file(ws)
    with h5py.File(path, "r") as f:
        offset = f["forecast"]["improve_next_year"].id.get_offset()
    assert offset is not None
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))
    assert np.all(np.isfinite(h5py.File(path, "r")["forecast"]["improve_next_year"][()]))
    assert_refused(ws, tmp_path, path, "checksum")


def test_byte_edit_of_the_posterior_variables(fitted_workspace):
    ws = fitted_workspace
    edit(ws.posterior_path, set_first("posterior", "beta_trust", 0.123), sign=False)
    snap = snapshot(ws.root)
    r = run("update", "-w", ws.root, *PAST_EVENT)
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert str(ws.posterior_path) in r.output and "checksum" in r.output and "forecast fit" in r.output
    assert snapshot(ws.root) == snap


def test_file_without_checksum_is_refused(fitted_workspace, tmp_path):
    """A file from before checksums (format version 4) has none: refused, 'forecast fit' stores one."""
    ws = fitted_workspace

    def strip(f):
        del f["forecast"].attrs[CHECKSUM_ATTR]
    edit(ws.posterior_path, strip, sign=False)
    assert_refused(ws, tmp_path, ws.posterior_path, "no checksum", skip=("check",))


# -------------------------------------------------------------------- no write access needed
class WriteGuard:
    """Counts (and refuses with PermissionError) every attempt to lock or write in the workspace."""

    def __init__(self, monkeypatch, root: Path):
        import filelock

        self.calls: list[str] = []
        self.root = str(root)
        guard = self

        def acquire(lock, *a, **k):
            guard.calls.append(f"lock {lock.lock_file}")
            raise PermissionError(13, "Permission denied (write guard)", lock.lock_file)
        monkeypatch.setattr(filelock.FileLock, "acquire", acquire)

        real_open, real_os_open, real_h5 = builtins.open, os.open, h5py.File

        def inside(p) -> bool:
            try:
                return os.path.abspath(os.fspath(p)).startswith(self.root)
            except TypeError:
                return False

        def guarded_open(file, mode="r", *a, **k):
            if inside(file) and any(c in mode for c in "wax+"):
                guard.calls.append(f"open {file} {mode}")
                raise PermissionError(13, "Permission denied (write guard)", str(file))
            return real_open(file, mode, *a, **k)

        def guarded_os_open(path, flags, *a, **k):
            if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                guard.calls.append(f"os.open {path}")
                raise PermissionError(13, "Permission denied (write guard)", str(path))
            return real_os_open(path, flags, *a, **k)

        def guarded_h5(name, mode="r", *a, **k):
            if inside(name) and mode != "r":
                guard.calls.append(f"h5py {name} {mode}")
                raise PermissionError(13, "Permission denied (write guard)", str(name))
            return real_h5(name, mode, *a, **k)

        monkeypatch.setattr(builtins, "open", guarded_open)
        monkeypatch.setattr(os, "open", guarded_os_open)
        monkeypatch.setattr(h5py, "File", guarded_h5)


def test_dry_run_takes_no_lock_and_writes_nothing(fitted_workspace, monkeypatch):
    ws = fitted_workspace
    snap = snapshot(ws.root)
    guard = WriteGuard(monkeypatch, ws.root)
    r = run("update", "-w", ws.root, *PAST_EVENT, "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["dry_run"] is True
    assert guard.calls == []
    assert snapshot(ws.root) == snap


def test_dry_run_guard_is_effective(fitted_workspace, monkeypatch):
    """The guard above can fail: a real update under it is refused by the lock."""
    ws = fitted_workspace
    guard = WriteGuard(monkeypatch, ws.root)
    r = run("update", "-w", ws.root, *PAST_EVENT)
    assert r.exit_code != 0
    assert guard.calls and guard.calls[0].startswith("lock ")


def test_dry_run_that_needs_a_refit_saves_nothing(fitted_workspace, monkeypatch):
    """A dry run that would refit fits without saving (no state/fits/ file, no lock)."""
    import forecast.store.fit as fitmod
    import forecast.update.apply as applymod

    ws = fitted_workspace
    base = store.read_forecast(ws)
    seen = {}

    class Result:
        forecast = dict(base.draws)

    def fake_fit(ws_, **kwargs):
        seen.update(kwargs)
        return Result()
    monkeypatch.setattr(applymod, "PARETO_K_THRESHOLD", -1.0)  # every update takes the refit path
    monkeypatch.setattr(fitmod, "fit_with_retry", fake_fit)
    snap = snapshot(ws.root)
    guard = WriteGuard(monkeypatch, ws.root)
    r = run("update", "-w", ws.root, *PAST_EVENT, "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["path"].startswith("refit")  # the refit's announcement is on stderr
    assert r.stderr.startswith("Refitting the model on the data plus the ledger")
    assert seen["save"] is False
    assert guard.calls == [] and snapshot(ws.root) == snap


@pytest.mark.parametrize("name", ["show", "history", "plot", "brief", "check"])
def test_read_only_commands_need_no_write_access(fitted_workspace, tmp_path, monkeypatch, name):
    ws = fitted_workspace
    head_file(ws)
    args = {**commands(ws, tmp_path), "history": ["history", "-w", ws.root]}[name]
    snap = snapshot(ws.root)
    guard = WriteGuard(monkeypatch, ws.root)
    r = run(*args)
    assert r.exit_code == 0, r.output
    assert guard.calls == [] and snapshot(ws.root) == snap


def test_read_only_workspace_on_disk(fitted_workspace, tmp_path):
    """The same with real permissions (chmod -R a-w); skipped where they are not enforced (root)."""
    ws = fitted_workspace
    paths = [ws.root, *ws.root.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    try:
        for p in paths:
            p.chmod(p.stat().st_mode & ~0o222)
        if os.access(ws.state_dir, os.W_OK):
            pytest.skip("write permissions are not enforced for this user (root)")
        snap = snapshot(ws.root)
        for args in (["update", "-w", ws.root, *PAST_EVENT, "--dry-run"], ["show", "-w", ws.root],
                     ["history", "-w", ws.root]):
            r = run(*args)
            assert r.exit_code == 0, r.output
        assert snapshot(ws.root) == snap
    finally:
        for p in reversed(paths):
            p.chmod(modes[p])

