"""Names and numbers for people: what the brief and the plots show instead of raw ids and
scientific notation.

* ``display_names``: indicator id -> its ``display_name`` from ``indicators_meta.csv``.
* ``human_number``: thousands separators, about three significant digits below 1,000, whole
  numbers from 1,000 and words from a million (``22,341``, ``55.3``, ``0.0412``, ``1.2 million``);
  never ``2.23e+04``.
* ``value_text``: a number with the unit of its metadata where the unit reads as one (``55.3%``,
  ``22,341 persons``, ``2.1 US$ bn``; a ratio, a count or a long unit description is left off).
* ``event_label``: a ledger event in those words (``Cabinet approval = 45 (2026-03)``);
  ``event_text`` without the date.
"""

from __future__ import annotations

import math

SIGNIFICANT = 3          # significant digits of a number below 1,000
MAX_UNIT_CHARS = 12      # a longer unit text is a description, not a unit: left off a value
UNITLESS = ("ratio", "count", "index", "share", "binary", "number", "score")
SCALES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def human_number(v: float, significant: int = SIGNIFICANT) -> str:
    """``v`` for people: never in scientific notation (see the module docstring)."""
    v = float(v)
    if not math.isfinite(v):
        return "n/a"
    if v == 0:
        return "0"
    a = abs(v)
    for scale, word in SCALES:
        if scale <= a < 1000 * scale:
            return f"{human_number(v / scale, significant)} {word}"
    if a >= 1000:
        return f"{v:,.0f}"
    decimals = max(0, significant - 1 - math.floor(math.log10(a)))
    text = f"{v:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def unit_suffix(unit: str) -> str:
    """What follows a number of this unit: '%' for a percentage, ' unit' for a short unit,
    '' for a ratio, a count, a share or a unit that is a description."""
    u = " ".join(str(unit).split())
    low = u.lower()
    if u.startswith("%") or low in ("percent", "per cent", "percentage"):
        return "%"
    if not u or len(u) > MAX_UNIT_CHARS or low.startswith(UNITLESS):
        return ""
    return " " + u


def value_text(v: float, unit: str = "") -> str:
    """A value with its unit where the unit reads as one (``unit_suffix``)."""
    return human_number(v) + unit_suffix(unit)


def display_names(meta) -> dict[str, str]:
    """Indicator id -> display name, from a loaded ``indicators_meta.csv`` (``Dataset.meta``)."""
    if "display_name" not in getattr(meta, "columns", ()):
        return {}
    return {str(name): str(text) for name, text in meta["display_name"].items()}


def humanise(kind: str) -> str:
    """An event kind for people: 'summit_held' -> 'summit held'."""
    return kind.replace("_", " ").replace("legal constitutional barrier", "legal barrier")


def event_text(e, names: dict[str, str]) -> str:
    """A ledger event (``data.events.Event``) in people's words, without its date: an indicator
    reading by its display name and a human number, a coded event by its kind in words."""
    if e.type == "indicator":
        return f"{names.get(e.name, e.name)} = {human_number(e.value)}"
    return humanise(e.name)


def event_label(e, names: dict[str, str]) -> str:
    """``event_text`` with the event's date: ``summit held (2026-01-20)``."""
    return f"{event_text(e, names)} ({e.date})"
