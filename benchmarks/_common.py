"""Shared by the benchmark scripts: run a `forecast` command in a fresh subprocess and time it."""

from __future__ import annotations

import subprocess
import sys
import time

FORECAST = [sys.executable, "-m", "forecast.cli"]


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time of one command; exits with its output if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return dt, proc
