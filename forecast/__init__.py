"""forecast: theory-driven, calibrated, updatable probabilities for bilateral relations.

Importing this package is cheap on purpose: heavy libraries (PyMC, ArviZ, nutpie)
are imported only inside the functions that need them, so that ``forecast --help``
and ``forecast show`` answer quickly.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forecast.api import Project

__version__ = "0.1.0"

LENSES = ("power", "trust", "leaders")
"""Lens identifiers, used everywhere: files, CLI and JSON."""


def open(path=".") -> "Project":  # noqa: A001 - the notebook entry point: forecast.open("ws")
    """Open the workspace at ``path``: a ``forecast.api.Project`` (see ``forecast.api``)."""
    from forecast import api

    return api.open(path)


def init(dest) -> "Project":
    """Create a workspace at ``dest`` from the shipped default and open it (see ``forecast.api``)."""
    from forecast import api

    return api.init(dest)
