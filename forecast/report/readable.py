"""Names and numbers for people: what the brief and the plots show instead of raw ids and
scientific notation.

* ``display_names``: indicator id -> its ``display_name`` from ``indicators_meta.csv``.
* ``human_number``: thousands separators, about three significant digits below 1,000, whole
  numbers from 1,000 and words from a million (``22,341``, ``55.3``, ``0.0412``, ``1.2 million``);
  never ``2.23e+04``.
* ``units``: indicator id -> its ``Unit`` (unit, transform, min, max of ``indicators_meta.csv``).
* ``value_text``: a value in the words of its unit (``55.3%``, ``22,341 persons``, ``US$ 2.1 bn``,
  ``yes``, ``82.2%`` for a share 0-1, ``2 months``); the rules are in its docstring.
* ``event_label``: a ledger event in those words (``Cabinet approval = 45%, dated 2026-03``);
  ``event_text`` without the date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SIGNIFICANT = 3          # significant digits of a number below 1,000
MAX_UNIT_CHARS = 12      # a longer unit text is a description, not a unit: left off a value
UNITLESS = ("ratio", "count", "index", "share", "binary", "number", "score")
PERCENT_WORDS = ("percent", "per cent", "percentage")
SHARE_WORDS = ("share", "proportion", "fraction")
CURRENCY_SIGNS = "$€£¥₽₹"
CURRENCY_CODES = ("USD", "EUR", "JPY", "CNY", "RUB", "GBP", "INR", "KRW", "CHF")
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


@dataclass(frozen=True)
class Unit:
    """An indicator's unit as its metadata states it: ``unit``, ``transform``, ``min`` and ``max``
    of ``indicators_meta.csv`` (``low``/``high`` None when not known)."""

    text: str = ""
    transform: str = "none"
    low: float | None = None
    high: float | None = None


def units(meta) -> dict[str, Unit]:
    """Indicator id -> its ``Unit``, from a loaded ``indicators_meta.csv`` (``Dataset.meta``)."""
    def num(r, col):
        v = r.get(col)
        try:
            v = float(v)
        except (TypeError, ValueError):
            return None
        return v if math.isfinite(v) else None

    return {str(name): Unit(" ".join(str(r.get("unit", "") or "").split()), str(r.get("transform", "") or "none"),
                            num(r, "min"), num(r, "max")) for name, r in meta.iterrows()}


def unit_suffix(unit: str) -> str:
    """What follows a number of this unit: '%' for a percentage, ' unit' for a short unit,
    ' A/B' for a unit 'A per B', '' for a ratio, a count or a unit that is a description."""
    u = " ".join(str(unit).split())
    low = u.lower()
    if u.startswith("%") or low in PERCENT_WORDS:
        return "%"
    if " per " in low and len(u.split()) == 3:
        return " " + "/".join(u.split(" per "))
    if not u or len(u) > MAX_UNIT_CHARS or low.startswith(UNITLESS):
        return ""
    return " " + u


def value_text(v: float, unit: Unit | str = "") -> str:
    """A value in the words of its unit, decided by the metadata alone (never by an indicator's name):

    * binary (the unit starts with 'binary'): 1 -> 'yes', 0 -> 'no' (the display name asks the
      question; the unit's parenthesis says what 1 means); any other value as a number;
    * a share on 0-1 (min 0 and max 1, with a unit starting with 'share', 'proportion' or 'fraction'
      or the 'logit' transform) -> a percentage: 0.822 -> '82.2%';
    * a percentage (the unit starts with '%' or is 'percent') -> '55.3%';
    * a currency amount (the unit's first word carries a currency sign, or is an ISO code such as
      'USD'): the currency before the number, a scale word after it: 'US$ bn' -> 'US$ 19.9 bn';
    * years: below one year in whole months ('2 months', 'under 1 month'), else two significant
      digits ('3.4 years', '1 year');
    * 'A per B' -> 'A/B' ('0 meetings/year');
    * a ratio, a count, an index, a score or a number: the number alone (the display name says what
      it counts or compares), as is a unit longer than MAX_UNIT_CHARS (a description, not a unit);
    * any other unit follows the number: '22,341 persons'.
    """
    u = unit if isinstance(unit, Unit) else Unit(" ".join(str(unit).split()))
    low = u.text.lower()
    v = float(v)
    if not math.isfinite(v):
        return human_number(v)
    if low.startswith("binary"):
        return {0.0: "no", 1.0: "yes"}.get(v, human_number(v))
    if (u.low, u.high) == (0, 1) and (low.startswith(SHARE_WORDS) or u.transform == "logit"):
        return human_number(100 * v) + "%"
    words = u.text.split()
    if words and (any(c in words[0] for c in CURRENCY_SIGNS) or words[0] in CURRENCY_CODES):
        return " ".join([words[0], human_number(v), *words[1:]])
    if low in ("year", "years"):
        return years_text(v)
    return human_number(v) + unit_suffix(u.text)


def years_text(v: float) -> str:
    """A duration in years for people: months below a year, else two significant digits."""
    if v == 0:
        return "0 years"
    if abs(v) < 1:
        months = round(12 * v)
        return "under 1 month" if months == 0 else f"{months} month{'s' if abs(months) != 1 else ''}"
    text = human_number(v, 2)
    return f"{text} year{'s' if text != '1' else ''}"


def display_names(meta) -> dict[str, str]:
    """Indicator id -> display name, from a loaded ``indicators_meta.csv`` (``Dataset.meta``)."""
    if "display_name" not in getattr(meta, "columns", ()):
        return {}
    return {str(name): str(text) for name, text in meta["display_name"].items()}


def humanise(kind: str) -> str:
    """An event kind for people: 'summit_held' -> 'summit held'."""
    return kind.replace("_", " ").replace("legal constitutional barrier", "legal barrier")


def event_text(e, names: dict[str, str], unit_of: dict[str, Unit] | None = None) -> str:
    """A ledger event (``data.events.Event``) in people's words, without its date: an indicator
    reading by its display name and its value in the words of its unit (``value_text``), a coded
    event by its kind in words."""
    if e.type == "indicator":
        return f"{names.get(e.name, e.name)} = {value_text(e.value, (unit_of or {}).get(e.name, Unit()))}"
    return humanise(e.name)


def event_label(e, names: dict[str, str], unit_of: dict[str, Unit] | None = None) -> str:
    """``event_text`` with the date the event carries ('dated', not 'since': it is not where a change
    starts): ``summit held, dated 2026-01-20``."""
    return f"{event_text(e, names, unit_of)}, dated {e.date}"
