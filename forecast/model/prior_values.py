"""Checks of single raw TOML values in ``priors/*.toml``, for ``model.priors``.

TOML hands over whatever the file holds: a bool, ``nan`` or ``inf``, an integer too large
for a float, an array nested a hundred deep, a table. Each check appends a ``Problem``
naming the file and the key, and describes a bad value briefly (never a huge repr).
"""

from __future__ import annotations

import math

from forecast.errors import Problem


def describe(value) -> str:
    """A short description of a TOML value for a message."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_number(value, file: str, key: str, problems: list[Problem]) -> bool:
    """A finite number: not a bool, a text, an array or a table; not nan or inf."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(Problem(file, f"'{key}' must be a number, got {describe(value)}", field=key))
        return False
    try:
        finite = math.isfinite(value)
    except OverflowError:  # a TOML integer too large for a float
        finite = False
    if not finite:
        problems.append(Problem(file, f"'{key}' must be a finite number, got {describe(value)}", field=key))
        return False
    return True


def check_text(value, file: str, key: str, problems: list[Problem]) -> bool:
    """A text, or absent (None)."""
    if value is not None and not isinstance(value, str):
        problems.append(Problem(file, f"'{key}' must be a text in quotes, got {describe(value)}", field=key))
        return False
    return True


def is_plain_name(name: str) -> bool:
    """A preset name is a file name without '.toml': no path, no '..', nothing absolute."""
    return bool(name) and not any(c in name for c in "/\\\0") and name not in (".", "..")


def deep_nesting_at(text: str, limit: int = 100) -> tuple[int, str | None] | None:
    """Where a TOML text first nests arrays or inline tables more than ``limit`` deep, as
    (1-based line, dotted key), or None. A rough scan (brackets inside strings count too),
    used only to locate the problem after the TOML parser gave up on the depth."""
    depth, section, key = 0, "", None
    for row, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if depth == 0 and stripped.startswith("[") and "=" not in stripped:
            section, key = stripped.strip("[]").strip(), None
        elif depth == 0 and "=" in stripped:
            name = stripped.split("=", 1)[0].strip().strip("\"'")
            key = f"{section}.{name}" if section else name
        for ch in line:
            depth += (ch in "[{") - (ch in "]}")
            if depth > limit:
                return row, key
    return None
