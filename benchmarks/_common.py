"""Shared by the benchmark scripts: run a `forecast` command in a fresh subprocess and time it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

FORECAST = [sys.executable, "-m", "forecast.cli"]
REPO = Path(__file__).resolve().parents[1]


def extract_revision(rev: str, dest: Path) -> Path:
    """This repository's tree at git revision ``rev`` (`git archive`) written into the new folder ``dest``;
    exits with git's message if the revision is unknown."""
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", rev], capture_output=True)
    if archive.returncode != 0:
        sys.exit(f"git archive {rev} failed: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time of one command; exits with its output if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return dt, proc
