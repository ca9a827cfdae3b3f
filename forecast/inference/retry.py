"""The divergence-retry policy, used by every path that samples the model.

NUTS at ``TARGET_ACCEPT`` (0.95) occasionally diverges on as-of fits; a divergence means
the sampler missed part of the posterior. The policy: when the caller did not choose a
target acceptance rate, a sampling run that diverged is repeated once at
``RETRY_TARGET_ACCEPT`` (0.98, smaller steps) and the repeat is kept, whatever its
diagnostics (they are stored and shown). An explicit ``target_accept`` is the caller's
choice and is never overridden. ``fit``, ``update``'s refit, ``check --refit`` and each
backtest origin all go through ``with_retry`` (workspace fits through ``store.fit.fit_with_retry``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from forecast.defaults import RETRY_TARGET_ACCEPT, TARGET_ACCEPT

T = TypeVar("T")


@dataclass(frozen=True)
class RetryNote:
    """Why a sampling run was repeated, and which run was kept (always the repeat)."""

    divergences: int            # divergent transitions of the first run
    first_target_accept: float  # the first run's target acceptance rate
    kept_target_accept: float   # the repeat's (the run that was kept)
    first_seconds: float        # wall time of the discarded first run

    @property
    def reason(self) -> str:
        return f"{self.divergences} divergent transition(s) at target_accept {self.first_target_accept}"


def with_retry(attempt: Callable[[float], T], divergences: Callable[[T], int], target_accept: float | None = None,
               retry: bool = True, on_retry: Callable[[RetryNote], None] | None = None) -> tuple[T, RetryNote | None]:
    """Run ``attempt(target_accept)``; after divergences, once more at ``RETRY_TARGET_ACCEPT``
    (only when ``target_accept`` is None and ``retry``). ``on_retry`` hears the decision before
    the repeat starts. Returns (the kept result, the note or None when the first run was kept)."""
    first_ta = TARGET_ACCEPT if target_accept is None else target_accept
    t0 = time.perf_counter()
    result = attempt(first_ta)
    n = int(divergences(result))
    if n == 0 or target_accept is not None or not retry:
        return result, None
    note = RetryNote(divergences=n, first_target_accept=first_ta, kept_target_accept=RETRY_TARGET_ACCEPT,
                     first_seconds=time.perf_counter() - t0)
    if on_retry is not None:
        on_retry(note)
    return attempt(RETRY_TARGET_ACCEPT), note


def resume_target_accept(stored: float | None) -> float | None:
    """The ``target_accept`` that repeats a stored fit's setting: None (the default policy, with
    its retry) if the stored fit ran at the default, else the stored value (used as given)."""
    return None if stored is None or stored == TARGET_ACCEPT else float(stored)
