"""Reading a CSV as text and parsing its fields, each problem reported with file, line and field.

The primitives under every data file of a workspace and every batch of updates: a CSV is read
as strings (explicit dtype, nothing taken for missing, ``utf-8-sig`` so a BOM is harmless,
stray whitespace stripped, ``#`` lines after the header skipped as comments: the example
rows of a blank workspace), its header checked against the expected columns, and numbers,
years and dates parsed strictly (plain ASCII numbers, no future dates).
"""

from __future__ import annotations

import csv
import datetime as _dt
import difflib
import io
import math
import re
from pathlib import Path

import pandas as pd

from forecast.errors import Problem

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
MIN_YEAR = 1900


def suggest(name: str, choices) -> str | None:
    """A 'did you mean' hint for a misspelt name, or None."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    if close and difflib.SequenceMatcher(None, name, close[0]).ratio() >= 0.85:
        close = close[:1]  # one clear match: don't distract with runners-up
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    return None


def read_text_csv(path: Path, columns: tuple[str, ...], problems: list[Problem],
                  optional: tuple[str, ...] = ()) -> pd.DataFrame | None:
    """Read a CSV as strings (a BOM and stray whitespace are harmless) and check its header.

    The header is line 1. After it, a line whose first character (after blanks) is ``#``
    is a comment and is skipped like a blank line. No first column (a year, a date, an
    indicator or kind name) can begin with ``#``, so a comment is never a data row. The
    column ``_line`` holds each record's real line number in the file, so that problems
    point at the right line even after blank lines, comments or quoted multi-line fields.
    Returns None if the file is unusable.
    """
    name = path.name
    if not path.is_file():
        problems.append(Problem(name, f"file not found at {path}", hint="restore it from 'forecast init'"))
        return None
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, f"not valid UTF-8 text ({exc.reason} at byte {exc.start})",
                                hint="save the file as UTF-8"))
        return None
    # comment lines become blank lines before parsing: skipped, line numbers kept, and a quote
    # character in a comment cannot run into the rows that follow it
    parts = text.split("\n")
    text = "\n".join(p if i == 0 or not p.lstrip().startswith("#") else "" for i, p in enumerate(parts))
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        header = [c.strip() for c in next(reader, [])]
        records, lines = [], []
        last = reader.line_num
        for rec in reader:
            line, last = last + 1, reader.line_num
            if not rec or all(not f.strip() for f in rec):
                continue  # blank line
            if len(rec) != len(header):
                problems.append(Problem(name, f"expected {len(header)} fields, found {len(rec)}", row=line,
                                        hint="quote fields that contain commas"))
                continue
            records.append([f.strip() for f in rec])
            lines.append(line)
    except csv.Error as exc:
        problems.append(Problem(name, f"cannot be parsed as CSV: {exc}", row=reader.line_num))
        return None
    if not header:
        problems.append(Problem(name, "file is empty", hint=f"expected columns: {', '.join(columns)}"))
        return None
    unknown = [c for c in header if c not in columns and c not in optional]
    missing = [c for c in columns if c not in header]
    for c in unknown:
        problems.append(Problem(name, f"unknown column '{c}'", row=1, field=c,
                                hint=suggest(c, columns) or f"expected columns: {', '.join(columns)}"))
    for c in missing:
        problems.append(Problem(name, f"missing column '{c}'", row=1, field=c,
                                hint=f"expected columns: {', '.join(columns)}"))
    if unknown or missing:
        return None
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        problems.append(Problem(name, f"duplicate column(s) {dupes}", row=1))
        return None
    df = pd.DataFrame(records, columns=header, dtype=str)
    df["_line"] = pd.Series(lines, dtype="int64")
    return df


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_int(text: str, file: str, row: int, field: str, problems: list[Problem]) -> int | None:
    try:
        if not _NUMBER.match(text):
            raise ValueError
        f = float(text)
        if not f.is_integer():
            raise ValueError
        return int(f)
    except (ValueError, OverflowError):
        problems.append(Problem(file, f"'{text}' is not a whole number", row=row, field=field))
        return None


def parse_float(text: str, file: str, row: int, field: str, problems: list[Problem]) -> float | None:
    if text == "":
        hint = "leave the row out for a missing year; missing values are allowed" if field == "value" else None
        problems.append(Problem(file, "empty value", row=row, field=field, hint=hint))
        return None
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        problems.append(Problem(file, f"'{text}' is not a finite number", row=row, field=field))
        return None
    if not _NUMBER.match(text):  # plain ASCII numbers only: no '1_000', no full-width digits
        problems.append(Problem(file, f"'{text}' is not a number", row=row, field=field))
        return None
    v = float(text)
    if not math.isfinite(v):
        problems.append(Problem(file, f"'{text}' is not a finite number", row=row, field=field))
        return None
    return v


def check_year(year: int | None, file: str, row: int, problems: list[Problem]) -> bool:
    if year is None:
        return False
    this_year = _dt.date.today().year
    if not MIN_YEAR <= year <= this_year:
        problems.append(Problem(file, f"year {year} is outside {MIN_YEAR}-{this_year}", row=row, field="year"))
        return False
    return True


def parse_date(text: str, file: str, row: int | None, field: str, problems: list[Problem],
               first_year: int = MIN_YEAR) -> _dt.date | None:
    """YYYY, YYYY-MM or YYYY-MM-DD; not in the future, not before ``first_year``."""
    m = _DATE.match(text)
    date = None
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
        try:
            date = _dt.date(y, mo, d)
        except ValueError:
            date = None
    if date is None:
        problems.append(Problem(file, f"'{text}' is not a date", row=row, field=field,
                                hint="use YYYY, YYYY-MM or YYYY-MM-DD"))
        return None
    if date > _dt.date.today():
        problems.append(Problem(file, f"date {text} is in the future", row=row, field=field))
        return None
    if date.year < first_year:
        problems.append(Problem(file, f"date {text} is before the data begin ({first_year})", row=row, field=field))
        return None
    return date
