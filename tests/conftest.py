"""Shared fixtures: a fresh workspace per test, and one tiny seeded fit per session."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from forecast.cli.main import main
from forecast.workspace import Workspace, init_workspace

FAST_FIT_ARGS = ["--draws", "60", "--tune", "100", "--chains", "2", "--seed", "7", "--no-retry"]


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    """A fresh copy of the shipped default workspace."""
    return init_workspace(tmp_path / "ws")


@pytest.fixture(scope="session")
def session_fit(tmp_path_factory):
    """One real (tiny, seeded) nutpie fit on the shipped data, through the CLI, shared by the session.
    Returns (workspace, parsed JSON printed by 'fit --json')."""
    ws = init_workspace(tmp_path_factory.mktemp("fit") / "ws")
    result = CliRunner().invoke(main, ["fit", "-w", str(ws.root), "--json", *FAST_FIT_ARGS])
    assert result.exit_code == 0, result.output
    return ws, json.loads(result.stdout)


@pytest.fixture
def fitted_workspace(session_fit, tmp_path) -> Workspace:
    """A private copy of the session's fitted workspace (safe to modify)."""
    src, _ = session_fit
    dst = tmp_path / "fitted"
    shutil.copytree(src.root, dst)
    return Workspace(dst)
