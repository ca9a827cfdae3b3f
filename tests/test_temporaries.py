"""Temporary files: only the tool's own are cleaned up, and a replaced file keeps its mode."""

from __future__ import annotations

import os
import stat

from forecast.store.posterior import remove_stale_temporaries
from forecast.workspace import TEMP_PREFIX, Workspace, atomic_write


def test_cleanup_removes_only_the_tools_own_temporaries(tmp_path):
    ws = Workspace(tmp_path)
    (tmp_path / "state" / "heads").mkdir(parents=True)
    users = [tmp_path / ".my-notes.tmp", tmp_path / "state" / ".draft.tmp", tmp_path / "notes.tmp"]
    ours = [tmp_path / f"{TEMP_PREFIX}ledger.jsonl.abc.tmp",
            tmp_path / "state" / "heads" / f"{TEMP_PREFIX}0123.h5.xyz.tmp"]
    for p in users + ours:
        p.write_text("x")
    remove_stale_temporaries(ws)
    assert all(p.exists() for p in users), "a user's file was deleted"
    assert not any(p.exists() for p in ours), "a stale temporary of the tool's own was left"


def test_atomic_write_keeps_the_mode_of_a_replaced_file(tmp_path):
    target = tmp_path / "brief.md"
    target.write_text("old")
    os.chmod(target, 0o600)
    atomic_write(target, lambda tmp: tmp.write_text("new"))
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_atomic_write_gives_a_new_file_the_usual_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        target = tmp_path / "new.txt"
        atomic_write(target, lambda tmp: tmp.write_text("x"))
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]
    finally:
        os.umask(umask)


def test_update_and_undo_keep_a_users_tmp_files(fitted_workspace):
    """The issue's probe end to end: a user's '.my-notes.tmp' survives update and undo (which clean up
    under the lock), while a stale temporary of the tool's own is removed."""
    from click.testing import CliRunner

    from forecast.cli.main import main

    root = fitted_workspace.root
    users = [root / ".my-notes.tmp", root / "state" / ".my-notes.tmp"]
    stale = root / "state" / f"{TEMP_PREFIX}posterior.nc.dead.tmp"
    for p in users + [stale]:
        p.write_text("mine")
    for args in (["update", "--indicator", "japan_cabinet_approval", "--value", "30", "--date", "2026-03",
                  "--source", "a poll"], ["undo"]):
        r = CliRunner().invoke(main, [*args, "-w", str(root)])
        assert r.exit_code == 0, r.output
        assert all(p.read_text() == "mine" for p in users), args
    assert not stale.exists()
