"""Command-line interface: thin click commands over the library."""

from forecast.cli.main import main, run

__all__ = ["main", "run"]
