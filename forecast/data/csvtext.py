"""Reading a CSV as text and parsing its fields, each problem reported with file, line and field.

The primitives under every data file of a workspace and every batch of updates: a CSV is read
as strings (explicit dtype, nothing taken for missing, ``utf-8-sig`` so a BOM is harmless,
stray whitespace stripped, ``#`` lines after the header skipped as comments: the example
rows of a blank workspace), its header checked against the expected columns, and numbers,
years and dates parsed strictly (plain ASCII numbers, no future dates).

Parsing is strict (RFC 4180 with blanks allowed around fields): an unterminated quote, a
quote inside an unquoted field, text after a closing quote or a wrong number of fields is a
problem naming the file and the physical line, never a silent merge of rows. A file over
``defaults.MAX_CSV_BYTES`` is refused before it is read whole.

One canonical form per input: text taken from a file or the command line has no control
characters (a tab counts as a blank; free text may hold line breaks), is stripped of blanks
around it and NFC-normalised; numbers and dates use the ASCII digits 0-9 only, and a date is
written ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (``2026-5`` becomes ``2026-05``).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from forecast import defaults
from forecast.errors import Problem

if TYPE_CHECKING:  # pandas is imported where a frame is built: 'show' must not pay for it
    import pandas as pd

_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?", re.ASCII)
MIN_YEAR = defaults.MIN_YEAR
# blanks stripped around a field: whitespace that is not a control character (a tab is a blank)
BLANKS = " \t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"


def shown(text: str, limit: int = 40) -> str:
    """``text`` for a one-line message: control characters escaped, long text cut."""
    out = "".join(repr(c)[1:-1] if unicodedata.category(c)[0] == "C" else c for c in text)
    return out if len(out) <= limit else out[:limit] + "..."


def bad_character(text: str, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be taken as typed (a control character), or None."""
    for c in text:
        if c == "\t" or (multiline and c == "\n"):
            continue
        if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp"):
            return f"'{shown(text)}' contains the control character U+{ord(c):04X}"
    return None


def non_ascii_digits(text: str) -> str | None:
    if any(c.isdigit() and not c.isascii() for c in text):
        return f"'{shown(text)}' has non-ASCII digits"
    return None


def clean_text(text: str, file: str, row: int | None, field: str, problems: list[Problem],
               multiline: bool = False) -> str | None:
    """The canonical form of free text or a name: no control characters (a note may hold line
    breaks, written as \\n), blanks around it stripped, NFC-normalised; None (and a problem) if refused."""
    if multiline:
        text = text.replace("\r\n", "\n")
    why = bad_character(text, multiline)
    if why:
        problems.append(Problem(file, why, row=row, field=field, hint="remove it or retype the text"))
        return None
    return unicodedata.normalize("NFC", text.strip(BLANKS))


def date_text(text: str) -> str | None:
    """The canonical spelling of a valid date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, zero-padded), or None."""
    m = _DATE.fullmatch(text.strip(BLANKS))
    if not m:
        return None
    y, mo, d = m.group(1), m.group(2), m.group(3)
    try:
        _dt.date(int(y), int(mo or 1), int(d or 1))
    except ValueError:
        return None
    return y + (f"-{int(mo):02d}" if mo else "") + (f"-{int(d):02d}" if d else "")


def canonical_date(text: str, file: str, row: int | None, field: str, problems: list[Problem]) -> str | None:
    """The canonical spelling of a date as given (format only: see ``parse_date`` for its range)."""
    why = bad_character(text) or non_ascii_digits(text)
    canon = None if why else date_text(text)
    if canon is None:
        problems.append(Problem(file, why or f"'{shown(text)}' is not a date", row=row, field=field,
                                hint="use YYYY, YYYY-MM or YYYY-MM-DD"))
    return canon


def suggest(name: str, choices) -> str | None:
    """A 'did you mean' hint for a misspelt name, or None."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    if close and difflib.SequenceMatcher(None, name, close[0]).ratio() >= 0.85:
        close = close[:1]  # one clear match: don't distract with runners-up
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    return None


def read_text_csv(path: Path, columns: tuple[str, ...], problems: list[Problem],
                  optional: tuple[str, ...] = (), not_found_hint: str = "restore it from 'forecast init'"
                  ) -> pd.DataFrame | None:
    """Read a CSV as strings (a BOM and stray whitespace are harmless) and check its header.

    The header is line 1. After it, a line whose first character (after blanks) is ``#``
    is a comment and is skipped like a blank line. No first column (a year, a date, an
    indicator or kind name) can begin with ``#``, so a comment is never a data row. The
    column ``_line`` holds each record's real line number in the file, so that problems
    point at the right line even after blank lines, comments or quoted multi-line fields.
    Returns None if the file is unusable. ``not_found_hint``: the fix when the file is missing
    (a workspace file comes from 'forecast init'; a user's own file, e.g. a batch, does not).
    """
    name = path.name
    if not path.is_file():
        problems.append(Problem(name, f"file not found at {path}", hint=not_found_hint))
        return None
    limit = defaults.MAX_CSV_BYTES
    with path.open("rb") as fh:
        data = fh.read(limit + 1)  # never more than the limit, whatever the file's size
    if len(data) > limit:
        problems.append(Problem(name, f"file is larger than the limit of {limit / 1e6:g} MB for a CSV file",
                                hint="split it into smaller files"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, f"not valid UTF-8 text ({exc.reason} at byte {exc.start})",
                                hint="save the file as UTF-8"))
        return None
    parts = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    first = len(problems)
    header, records, lines, widths, wrong = None, [], [], [], []
    for line, rec in split_records(parts, name, problems):
        if header is None:
            if line != 1:
                return None  # the header line itself is malformed: already a problem
            header = [c.strip(BLANKS) for c in rec]
            continue
        if all(not f.strip(BLANKS) for f in rec):
            continue  # blank line
        widths.append(len(rec))
        if len(rec) != len(header):
            wrong.append(Problem(name, f"expected {len(header)} fields, found {len(rec)}", row=line,
                                 hint="quote fields that contain commas"))
            problems.append(wrong[-1])
            continue
        records.append([f.strip(BLANKS) for f in rec])
        lines.append(line)
    if header is None:
        return None  # the header line is malformed
    short = header_lacks_names(name, header, widths, columns + optional)
    if short is not None:  # the header, not the rows, is wrong: one problem on line 1 instead of one per row
        ids = {id(p) for p in wrong}
        problems[first:] = [short] + [p for p in problems[first:] if id(p) not in ids]
        return None
    if header == [""]:
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
    import pandas as pd

    df = pd.DataFrame(records, columns=header, dtype=str)
    df["_line"] = pd.Series(lines, dtype="int64")
    return df


def header_lacks_names(name: str, header: list[str], widths: list[int], columns: tuple[str, ...]) -> Problem | None:
    """The problem of a header with fewer names than most rows have fields while some expected
    columns are not in it (a name deleted from the header line only), or None."""
    width = max(set(widths), key=widths.count) if widths else 0
    absent = [c for c in columns if c not in header]
    if width <= len(header) or 2 * widths.count(width) <= len(widths) or not absent:
        return None
    names = ", ".join(f"'{c}'" for c in absent)
    return Problem(name, f"the header has {len(header)} columns but the rows have {width}: missing column"
                         f"{'s' if len(absent) > 1 else ''} {names}?", row=1, hint=f"add the missing name(s) to line 1 in the order of the rows' "
                                              f"fields; expected columns: {', '.join(columns)}")


def split_records(lines: list[str], name: str, problems: list[Problem]):
    """Yield (physical line where the record starts, its fields) for each CSV record of ``lines``.

    Strict: a field is either unquoted (no quote character in it) or quoted from its first
    to its last character (blanks aside; ``""`` inside stands for one quote, a line break is
    kept). A line beginning with ``#`` where a record would start is a comment, skipped.
    A malformed record is a problem naming its line (for a quote that runs over
    lines, the line where it opened) and is skipped; reading carries on at the next line, so
    the rows a bad quote ran into are checked as rows, never swallowed into a field."""
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if i > 0 and line.lstrip().startswith("#"):
            # a comment (after the header, where a record starts): skipped before its quotes are
            # looked at, so they cannot run into the rows that follow; inside a quoted field a
            # line that begins with '#' is text, kept
            i += 1
            continue
        if '"' not in line:
            yield i + 1, line.split(",")
            i += 1
            continue
        start, fields, pos, error = i, [], 0, None
        while error is None:
            j = pos
            while j < len(line) and line[j] in BLANKS:
                j += 1
            if j < len(line) and line[j] == '"':
                opened, j, buf = i, j + 1, []
                while True:
                    k = line.find('"', j)
                    if k < 0:
                        buf.append(line[j:])
                        i += 1
                        if i >= n:
                            error = "unterminated quote: the quoted field opened on this line never closes"
                            break
                        buf.append("\n")
                        line, j = lines[i], 0
                        continue
                    buf.append(line[j:k])
                    if line[k + 1:k + 2] == '"':
                        buf.append('"')
                        j = k + 2
                        continue
                    j = k + 1
                    break
                if error:
                    break
                while j < len(line) and line[j] in BLANKS:
                    j += 1
                fields.append("".join(buf))
                if j == len(line):
                    break
                if line[j] != ",":
                    error = "text after a closing quote"
                    if opened != i:
                        error = (f"a quoted field opens on this line and closes on line {i + 1} followed by "
                                 "text: an unterminated quote?")
                pos = j + 1
            else:
                k = line.find(",", pos)
                field = line[pos:] if k < 0 else line[pos:k]
                if '"' in field:
                    error = "a quote inside an unquoted field"
                fields.append(field)
                if k < 0:
                    break
                pos = k + 1
        if error:
            hint = "close the quote" if "unterminated" in error else 'quote the whole field, writing a quote in it as ""'
            problems.append(Problem(name, f"cannot be parsed as CSV: {error}", row=(opened if i != start else i) + 1,
                                    hint=hint))
            i = start  # carry on with the next line: the rows a bad quote ran into are read as rows
        else:
            yield start + 1, fields
        i += 1


_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)


def parse_int(text: str, file: str, row: int, field: str, problems: list[Problem]) -> int | None:
    why = bad_character(text) or non_ascii_digits(text)
    if why:
        problems.append(Problem(file, why, row=row, field=field, hint="use the digits 0-9"))
        return None
    text = text.strip(BLANKS)
    try:
        if not _NUMBER.fullmatch(text):
            raise ValueError
        f = float(text)
        if not f.is_integer():
            raise ValueError
        return int(f)
    except (ValueError, OverflowError):
        problems.append(Problem(file, f"'{text}' is not a whole number", row=row, field=field))
        return None


def parse_float(text: str, file: str, row: int | None, field: str, problems: list[Problem]) -> float | None:
    why = bad_character(text) or non_ascii_digits(text)
    if why:
        problems.append(Problem(file, why, row=row, field=field, hint="use the digits 0-9"))
        return None
    text = text.strip(BLANKS)
    if text == "":
        hint = "leave the row out for a missing year; missing values are allowed" if field == "value" else None
        problems.append(Problem(file, "empty value", row=row, field=field, hint=hint))
        return None
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        problems.append(Problem(file, f"'{text}' is not a finite number", row=row, field=field))
        return None
    if not _NUMBER.fullmatch(text):  # plain ASCII numbers only: no '1_000', no full-width digits
        problems.append(Problem(file, f"'{text}' is not a number", row=row, field=field))
        return None
    v = float(text)
    if not math.isfinite(v):
        problems.append(Problem(file, f"'{text}' is not a finite number", row=row, field=field))
        return None
    return v if v != 0 else 0.0  # '-0' is 0: one canonical zero (and one event id)


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
    canon = canonical_date(text, file, row, field, problems)
    if canon is None:
        return None
    text = canon
    parts = [int(x) for x in canon.split("-")]
    date = _dt.date(parts[0], *(parts[1:] + [1, 1])[:2])
    if date > _dt.date.today():
        problems.append(Problem(file, f"date {text} is in the future", row=row, field=field))
        return None
    if date.year < first_year:
        problems.append(Problem(file, f"date {text} is before the data begin ({first_year})", row=row, field=field))
        return None
    return date
