"""Run one Python script in two fresh processes at once (for properties that must not depend on the process,
such as the compiled graph's cache key)."""

from __future__ import annotations

import json
import subprocess
import sys


def json_from_two_processes(script: str, timeout: float = 600) -> list:
    """The JSON that ``script`` prints last, from each of two processes started together."""
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=timeout) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outs]
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
