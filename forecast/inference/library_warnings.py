"""Third-party warnings a user of the tool cannot act on, silenced where the tool calls the library.

* ArviZ's ``FutureWarning`` about its coming refactor, raised (once a day) at ``import arviz``,
  which PyMC and nutpie import.
* numba's ``NumbaPerformanceWarning`` from nutpie's compiled model (``np.dot`` on a
  non-contiguous array), raised while numba compiles it on a cold cache.

``library_warnings(verbose)`` wraps the import, compile and sample calls. It filters by category
and message (ArviZ) or by numba's own category, inside ``warnings.catch_warnings``, so the
caller's filters are restored on exit: nothing is filtered globally. ``verbose=True`` (``fit
--verbose``) leaves the warnings alone.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Iterator

ARVIZ_REFACTOR = r"\s*ArviZ is undergoing a major refactor"


def _numba_performance_warning() -> type[Warning] | None:
    try:
        from numba.core.errors import NumbaPerformanceWarning
    except ImportError:  # numba comes with nutpie; the PyMC sampler runs without it
        return None
    return NumbaPerformanceWarning


@contextmanager
def library_warnings(verbose: bool = False) -> Iterator[None]:
    """Silence the third-party warnings above for the calls inside, unless ``verbose``."""
    if verbose:
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=ARVIZ_REFACTOR, category=FutureWarning, module="arviz")
        numba_perf = _numba_performance_warning()
        if numba_perf is not None:
            warnings.filterwarnings("ignore", category=numba_perf)
        yield
