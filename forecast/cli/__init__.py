"""Command-line interface: thin click commands over the library."""

import os

# One BLAS thread per process, as Dask gives its workers (OMP_NUM_THREADS=1 and its MKL/OpenBLAS
# siblings): a fit run by the CLI in this process then draws the same numbers as the same fit on a
# cluster worker (BLAS rounding differs with the thread count, and MCMC carries it into the draws).
# Set before numpy loads; a value the user set wins. The library itself (forecast.api) sets nothing.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from forecast.cli.main import main  # noqa: E402 - after the thread settings

__all__ = ["main"]
