"""Phases of a fit, reported to a caller's callback as they start and end.

The library never prints: ``store.fit.fit`` and ``inference.fitting`` call ``on_phase`` with
a ``PhaseEvent`` when a phase starts (``seconds`` None) and when it ends (its wall time);
the CLI renders them (``cli/fit.py``). A phase that raises reports no end.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

# In the order a fit runs them (a divergence retry runs build..project again).
PHASES = ("load", "build", "compile", "sample", "project", "save")


@dataclass(frozen=True)
class PhaseEvent:
    phase: str                # one of PHASES
    seconds: float | None     # None when the phase starts; its elapsed wall time when it ends
    detail: str = ""          # a phase may say more: at its start (compile: "cold:FOLDER" on a fresh
                              # machine) and at its end (compile: whether the cache served it)


OnPhase = Callable[[PhaseEvent], None]


@contextmanager
def phase(on_phase: OnPhase | None, name: str, detail: Callable[[], str] | None = None,
          start_detail: str = "") -> Iterator[None]:
    """Report the start and the end (with elapsed seconds) of the phase ``name`` to ``on_phase``;
    ``start_detail`` goes with the start event, and ``detail``, called at the end, with the end event."""
    if name not in PHASES:
        raise ValueError(f"unknown fit phase {name!r}")
    if on_phase is not None:
        on_phase(PhaseEvent(name, None, start_detail))
    t0 = time.perf_counter()
    yield
    if on_phase is not None:
        on_phase(PhaseEvent(name, time.perf_counter() - t0, detail() if detail else ""))
