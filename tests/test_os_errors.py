"""Operating-system errors (issue 13 item 4): a read-only file system, a full disk, a file name too
long, permission denied, a folder where a file belongs. Each ends in one line naming the path and
the fix, exit 1, no traceback, no temporary left over, and the ledger byte-identical.

We run as root, so chmod does not stop a write: the failures are simulated by monkeypatching the
call that fails (os.replace, os.open of the lock, h5py.File, tempfile.mkdtemp, os.access)."""

from __future__ import annotations

import errno
import os
import stat
import tempfile

import click
import pytest
from click.testing import CliRunner

from forecast.cli.main import main
from forecast.cli.options import handle_errors
from forecast.errors import FileSystemError
from forecast.report.export import OutputPathError, check_out, check_out_dir
from forecast.store.ledger import LEDGER_FILE
from forecast.workspace import LOCK_FILE, TEMP_PREFIX, atomic_write

READING = ["--indicator", "japan_cabinet_approval", "--value", "25", "--date", "2026-10", "--source", "a poll"]
REAL_REPLACE = os.replace


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(root):
    """Every file under ``root`` with its bytes (the workspace, byte for byte)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def temporaries(root):
    return [p for p in root.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def assert_clean_failure(result, *needles):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    for needle in needles:
        assert needle in result.output, result.output


def failing_replace(code, when=lambda dst: True):
    def replace(src, dst, *a, **k):
        if os.path.basename(str(src)).startswith(TEMP_PREFIX) and when(str(dst)):
            raise OSError(code, os.strerror(code), str(src))
        return REAL_REPLACE(src, dst, *a, **k)
    return replace


# ------------------------------------------------------------------- update and undo
@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "no space left"), (errno.EROFS, "read-only"),
                                         (errno.EACCES, "permission denied")])
def test_update_write_failure_leaves_the_workspace_as_it_was(fitted_workspace, monkeypatch, code, words):
    root = fitted_workspace.root
    before = snapshot(root)
    monkeypatch.setattr(os, "replace", failing_replace(code))
    result = run("update", "-w", root, *READING)
    assert_clean_failure(result, words, "state")
    assert snapshot(root) == before
    assert not temporaries(root)


def test_update_failing_at_the_ledger_write_keeps_the_ledger(fitted_workspace, monkeypatch):
    root = fitted_workspace.root
    ledger = root / LEDGER_FILE
    old = ledger.read_bytes() if ledger.exists() else None
    monkeypatch.setattr(os, "replace", failing_replace(errno.ENOSPC, lambda dst: dst.endswith(LEDGER_FILE)))
    result = run("update", "-w", root, *READING)
    assert_clean_failure(result, "no space left", LEDGER_FILE, "nothing was written")
    assert (ledger.read_bytes() if ledger.exists() else None) == old
    assert not temporaries(root)
    monkeypatch.undo()
    assert run("show", "-w", root).exit_code == 0  # the workspace still works


def test_update_with_h5py_failing_on_a_full_disk(fitted_workspace, monkeypatch):
    """h5py reports a full disk with errno None and the C errno in its text; the temporary it
    had started is removed."""
    import h5py

    root = fitted_workspace.root
    before = snapshot(root)
    real_file = h5py.File

    def file(name, mode="r", *a, **k):
        if mode == "w":
            with open(name, "wb") as fh:
                fh.write(b"partial")
            raise OSError("Unable to synchronously create file (file write failed: errno = 28, "
                          "error message = 'No space left on device')")
        return real_file(name, mode, *a, **k)

    monkeypatch.setattr(h5py, "File", file)
    result = run("update", "-w", root, *READING)
    assert_clean_failure(result, "no space left", "heads")
    assert snapshot(root) == before
    assert not temporaries(root)


def lock_fails(code):
    real_open = os.open

    def fake_open(path, flags, *a, **k):
        if os.fspath(path).endswith(os.sep + LOCK_FILE):
            raise OSError(code, os.strerror(code), os.fspath(path))
        return real_open(path, flags, *a, **k)
    return fake_open


@pytest.mark.parametrize("command", [["update", *READING], ["undo"]])
def test_read_only_workspace_lock(fitted_workspace, monkeypatch, command):
    """filelock on a read-only file system raises OSError(EROFS) naming state/.lock."""
    root = fitted_workspace.root
    if command == ["undo"]:
        assert run("update", "-w", root, *READING).exit_code == 0
    before = snapshot(root)
    monkeypatch.setattr(os, "open", lock_fails(errno.EROFS))
    result = run(command[0], "-w", root, *command[1:])
    assert_clean_failure(result, "read-only", LOCK_FILE)
    assert snapshot(root) == before
    assert not temporaries(root)


def test_undo_with_a_full_disk_keeps_the_ledger(fitted_workspace, monkeypatch):
    root = fitted_workspace.root
    assert run("update", "-w", root, *READING).exit_code == 0
    before = snapshot(root)
    monkeypatch.setattr(os, "replace", failing_replace(errno.ENOSPC))
    result = run("undo", "-w", root)
    assert_clean_failure(result, "no space left")
    assert snapshot(root) == before
    assert not temporaries(root)


# ------------------------------------------------ a folder where a file belongs, init under a file
@pytest.mark.parametrize("name", [LEDGER_FILE, f"state/{LOCK_FILE}"])
@pytest.mark.parametrize("command", [["show"], ["history"], ["update", *READING], ["undo"]])
def test_a_folder_in_place_of_the_ledger_or_the_lock(fitted_workspace, name, command):
    root = fitted_workspace.root
    target = root / name
    if target.exists():
        target.unlink()
    target.mkdir()
    before = snapshot(root)
    result = run(command[0], "-w", root, *command[1:])
    assert_clean_failure(result, target.name, "mv ")
    assert "0 updates" not in result.output
    assert snapshot(root) == before and target.is_dir()


def test_init_under_a_regular_file(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("mine")
    for dest in (blocker / "ws", blocker / "a" / "ws"):
        result = run("init", dest)
        assert_clean_failure(result, "is a file, not a folder")
    result = run("init", blocker)  # click's own check of the argument: a usage error
    assert result.exit_code == 2 and "Traceback" not in result.output and "is a file" in result.output
    assert blocker.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@pytest.mark.parametrize("code, words", [(errno.EROFS, "read-only"), (errno.ENOSPC, "no space left")])
def test_init_failure_leaves_nothing_behind(tmp_path, monkeypatch, code, words):
    real_replace = os.replace

    def replace(src, dst, *a, **k):
        if os.path.basename(str(src)).startswith(TEMP_PREFIX):
            raise OSError(code, os.strerror(code), str(dst))
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    result = run("init", tmp_path / "new" / "deeper" / "ws")
    assert_clean_failure(result, words, "ws")
    assert list(tmp_path.iterdir()) == []  # no temporary, and not the folders it had created


def test_init_in_a_read_only_folder(tmp_path, monkeypatch):
    def mkdtemp(*a, **k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(k.get("dir")))

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    result = run("init", tmp_path / "ws")
    assert_clean_failure(result, "read-only", "ws")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------- fit
def test_fit_on_a_read_only_workspace_is_refused_before_sampling(workspace, monkeypatch):
    class ReadOnly:
        f_flag = os.ST_RDONLY

    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, *a, **k: False if mode & os.W_OK
                        else real_access(path, mode, *a, **k))
    monkeypatch.setattr(os, "statvfs", lambda *a, **k: ReadOnly())
    before = snapshot(workspace.root)
    result = run("fit", "-w", workspace.root, "--draws", "10", "--tune", "10", "--chains", "1", "-q")
    assert_clean_failure(result, "read-only", str(workspace.root))
    assert snapshot(workspace.root) == before


def test_the_fits_netcdf_write_failing_leaves_no_temporary(tmp_path):
    """save_fit writes through atomic_write: an h5netcdf error on a full disk becomes a
    FileSystemError naming state/posterior.nc, and the partial temporary is removed."""
    target = tmp_path / "state" / "posterior.nc"

    def to_netcdf(tmp):
        tmp.write_bytes(b"half a netCDF file")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))

    with pytest.raises(FileSystemError, match="no space left") as info:
        atomic_write(target, to_netcdf)
    assert str(target) in str(info.value) and info.value.errno == errno.ENOSPC
    assert not temporaries(tmp_path) and not target.exists()


# ------------------------------------------------------------------------------- --out
def test_plot_out_with_a_300_character_name(workspace):
    out = workspace.root / ("x" * 296 + ".svg")
    before = snapshot(workspace.root)
    result = run("plot", "lenses", "-w", workspace.root, "--out", out)
    assert_clean_failure(result, "too long", "shorter name")
    assert snapshot(workspace.root) == before


def test_out_checks_refuse_before_any_work(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        check_out(str(blocker / "sub" / "fig.svg"))
    with pytest.raises(OutputPathError, match="too long"):
        check_out(str(tmp_path / ("d" * 300) / "fig.svg"))
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        check_out_dir(str(blocker / "bt"))
    # a missing folder, however deep, is fine: it is created when the results are written
    assert check_out(str(tmp_path / "figs" / "a" / "fig.svg"))[1] == "svg"
    assert check_out_dir(str(tmp_path / "results" / "bt")) == tmp_path / "results" / "bt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # checks create nothing


def test_a_long_but_valid_name_is_written(tmp_path):
    target = tmp_path / ("n" * 250 + ".md")  # the temporary carries a shortened name
    atomic_write(target, lambda tmp: tmp.write_text("ok"))
    assert target.read_text() == "ok" and not temporaries(tmp_path)


def test_brief_out_on_a_full_disk_leaves_nothing(fitted_workspace, tmp_path, monkeypatch):
    root = fitted_workspace.root
    before = snapshot(root)
    monkeypatch.setattr(os, "replace", failing_replace(errno.ENOSPC))
    out = tmp_path / "reports" / "q3" / "brief.md"
    result = run("brief", "-w", root, "--out", out, "--allow-failed-diagnostics")
    assert_clean_failure(result, "--out", "no space left")
    assert not (tmp_path / "reports").exists()  # neither the file nor the folders made for it
    assert snapshot(root) == before


def test_brief_and_plot_out_create_missing_folders_and_keep_a_files_mode(fitted_workspace, tmp_path):
    root = fitted_workspace.root
    result = run("brief", "-w", root, "--out", tmp_path / "new" / "sub" / "brief.md", "--allow-failed-diagnostics")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "sub" / "brief.md").stat().st_size > 0
    figure = tmp_path / "figs" / "trajectory.svg"  # as the README's examples: figs/ does not exist yet
    result = run("plot", "trajectory", "-w", root, "--out", figure)
    assert result.exit_code == 0, result.output
    for out, args in ((tmp_path / "new" / "sub" / "brief.md", ["brief", "--allow-failed-diagnostics"]),
                      (figure, ["plot", "trajectory"])):
        os.chmod(out, 0o600)
        result = run(*args, "-w", root, "--out", out)
        assert result.exit_code == 0, result.output
        assert stat.S_IMODE(out.stat().st_mode) == 0o600, args
    assert not temporaries(tmp_path)


# ----------------------------------------------------------------------------- --since
@pytest.mark.parametrize("since", ["garbage", "2026-02-31", "2026-13-01", "２０２６-01-01", "2026-1-1"])
def test_brief_since_must_be_a_real_date(tmp_path, since):
    result = run("brief", "-w", tmp_path, "--out", tmp_path / "b.md", "--since", since)
    assert result.exit_code == 2, result.output
    assert "--since" in result.output and "YYYY-MM-DD" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "b.md").exists()


# ---------------------------------------------------- the messages, and the last line of defence
@pytest.mark.parametrize("code, words", [
    (errno.EROFS, "read-only"), (errno.ENOSPC, "no space left"), (errno.EACCES, "permission denied"),
    (errno.EPERM, "permission denied"), (errno.ENAMETOOLONG, "too long"), (errno.EISDIR, "is a folder"),
    (errno.ENOTDIR, "is a file, not a folder"), (errno.EIO, os.strerror(errno.EIO))])
def test_each_os_error_has_its_message(code, words):
    err = FileSystemError.of(OSError(code, os.strerror(code), "/ws/state/x.h5"))
    assert words in str(err) and "/ws/state/x.h5" in str(err) and "\n" not in str(err)
    assert err.errno == code


def test_an_escaped_os_error_is_one_line_exit_1():
    @click.command()
    @handle_errors
    def boom():
        raise OSError(errno.EIO, os.strerror(errno.EIO), "/ws/ledger.jsonl")

    result = CliRunner().invoke(boom, [])
    assert_clean_failure(result, "/ws/ledger.jsonl", os.strerror(errno.EIO))


def test_read_only_lock_is_a_named_error_in_the_python_api(fitted_workspace, monkeypatch):
    """The API, not only the CLI, turns the lock's OSError into FileSystemError (nothing written)."""
    import forecast
    from forecast.errors import FileSystemError

    root = fitted_workspace.root
    before = snapshot(root)
    monkeypatch.setattr(os, "open", lock_fails(errno.EROFS))
    project = forecast.open(root)
    with pytest.raises(FileSystemError, match="read-only.*nothing was written"):
        project.update(indicator=READING[1], value=float(READING[3]), date=READING[5], source="api test")
    assert snapshot(root) == before
    assert not temporaries(root)
