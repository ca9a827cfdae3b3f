"""forecast: theory-driven, calibrated, updatable probabilities for bilateral relations.

Importing this package is cheap on purpose: heavy libraries (PyMC, ArviZ, nutpie)
are imported only inside the functions that need them, so that ``forecast --help``
and ``forecast show`` answer quickly.
"""

__version__ = "0.1.0"

LENSES = ("power", "trust", "leaders")
"""Lens identifiers, used everywhere: files, CLI and JSON."""
