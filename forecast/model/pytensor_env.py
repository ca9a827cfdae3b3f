"""Prepare PyTensor's configuration before it is first imported (by PyMC or PreliZ).

PyTensor probes for a C BLAS library at first use (seconds of compiler calls) and
warns when pip's wheels leave none to link. nutpie compiles with numba and never
uses PyTensor's C BLAS, so unless the user configured BLAS themselves we tell
PyTensor there is none. No warning filter is installed.
"""

from __future__ import annotations

import os
import sys


def configure() -> None:
    if "pytensor" in sys.modules:
        return
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "blas__ldflags" not in flags:
        os.environ["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, "blas__ldflags=") if f)
