"""The territorial-claims reference class (ICOW 1.1 + the default dyad's claim), validated at the door.

Two shipped tables in ``data/reference/`` (read in place, never copied into a workspace):

- ``claims.csv``: one row per claim-year at risk, ICOW 1.1 (territorial, river and
  maritime claims, 1816-2001) plus the default dyad's claim 82804 (1952-2001) from the ICOW
  provisional global file, with COW NMC 7.0 CINC of both sides;
- ``claim_profile.csv``: that claim's profile 1952-2025 in the same columns.

Their citations, the build script (``build_claims.py``) and what they leave out are in
``data/reference/SOURCES.md``. The shipped files are UTF-8; the raw ICOW claim file they
are built from is latin-1, which concerns only the build script.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast import defaults
from forecast.data.loaders import parse_float, parse_int, read_text_csv
from forecast.errors import Problem, ValidationError
from forecast.workspace import reference_dir

CLAIMS_FILE = "claims.csv"
PROFILE_FILE = "claim_profile.csv"
CLAIM_COLUMNS = ("claim", "year", "issue", "region", "chal", "tgt", "start_year", "duration", "icowsal", "salint",
                 "attempt_lag", "recyes10", "recno10", "recmid10", "recmidwt", "ratfail10", "cinc_chal", "cinc_tgt",
                 "log_cinc_ratio", "d_log_cinc_ratio10", "ending", "settled", "source")
ISSUES = ("territorial", "river", "maritime")
REGIONS = ("americas", "europe", "africa", "middle_east", "asia")
ENDINGS = ("ongoing", "peaceful", "dropped", "conquest", "other")
PROFILE_CLAIM = defaults.REFERENCE_CLAIM
PROFILE_FIRST_YEAR, PROFILE_LAST_YEAR = 1952, 2025

FIRST_YEAR, LAST_YEAR = 1816, 2025
MIN_CCODE, MAX_CCODE = 1, 999
# (column, low, high) for whole numbers; None = unbounded
INT_RANGES = (("claim", 1, None), ("year", FIRST_YEAR, LAST_YEAR), ("chal", MIN_CCODE, MAX_CCODE),
              ("tgt", MIN_CCODE, MAX_CCODE), ("start_year", FIRST_YEAR, LAST_YEAR), ("duration", 0, None),
              ("salint", 0, 6), ("attempt_lag", 0, 1), ("recyes10", 0, None), ("recno10", 0, None),
              ("recmid10", 0, None), ("ratfail10", 0, None), ("settled", 0, 1))
FLOAT_RANGES = (("icowsal", 0.0, 12.0), ("recmidwt", 0.0, None), ("cinc_chal", 0.0, 1.0), ("cinc_tgt", 0.0, 1.0),
                ("log_cinc_ratio", None, None), ("d_log_cinc_ratio10", None, None))
CHOICES = (("issue", ISSUES), ("region", REGIONS), ("ending", ENDINGS))
LOG_RATIO_TOLERANCE = 1e-5  # the file writes log ratios with 6 decimals
CONSTANT_PER_CLAIM = ("issue", "region", "chal", "tgt", "start_year")
INT_COLUMNS = tuple(c for c, _, _ in INT_RANGES)
FLOAT_COLUMNS = tuple(c for c, _, _ in FLOAT_RANGES)


@dataclass(frozen=True, eq=False)
class ClaimYears:
    """A validated claim-year table.

    ``frame`` has exactly CLAIM_COLUMNS (ints int64, floats float64, issue/region/ending/source
    str), sorted by claim then year, with (claim, year) unique and settled == (ending == "peaceful").
    """

    frame: pd.DataFrame
    path: Path
    sha256: str

    @property
    def n_claims(self) -> int:
        return int(self.frame["claim"].nunique())

    @property
    def n_settled(self) -> int:
        return int(self.frame["settled"].sum())


def load_claim_years(path: str | Path | None = None) -> ClaimYears:
    """Load and validate ``claims.csv`` (default: the shipped one in reference_dir()).

    Raises ValidationError naming file, row and field for every bad record (see check_rows)."""
    return _strip(_load(Path(path) if path is not None else reference_dir() / CLAIMS_FILE))


def load_claim_profile(path: str | Path | None = None) -> ClaimYears:
    """Load and validate ``claim_profile.csv``: the rules of load_claim_years, and only claim 82804 in
    every year 1952-2025."""
    path = Path(path) if path is not None else reference_dir() / PROFILE_FILE
    table = _load(path)
    df, problems = table.frame, []
    others = df[df["claim"] != PROFILE_CLAIM]
    if len(others):
        problems.append(Problem(path.name, f"claim {int(others['claim'].iloc[0])} is not the profiled claim",
                                int(others["_line"].iloc[0]), "claim", hint=f"the profile holds claim {PROFILE_CLAIM} only"))
    missing = sorted(set(range(PROFILE_FIRST_YEAR, PROFILE_LAST_YEAR + 1)) - set(df["year"].tolist()))
    if missing:
        problems.append(Problem(path.name, f"years {_span(missing)} are missing", field="year",
                                hint=f"the profile has one row per year {PROFILE_FIRST_YEAR}-{PROFILE_LAST_YEAR}"))
    if problems:
        raise ValidationError(problems)
    return _strip(table)


def _span(years: list[int]) -> str:
    return ", ".join(str(y) for y in years[:5]) + (f" ... ({len(years)} in all)" if len(years) > 5 else "")


def _load(path: Path) -> ClaimYears:
    problems: list[Problem] = []
    df = read_text_csv(path, CLAIM_COLUMNS, problems)
    _name_quote_fields(path, problems)
    if df is None:
        raise ValidationError(problems)
    frame = check_rows(df, path.name, problems)
    if problems:
        raise ValidationError(problems)
    check_claims(frame, path.name, problems)
    if problems:
        raise ValidationError(problems)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ClaimYears(frame=frame, path=path, sha256=digest)


def _name_quote_fields(path: Path, problems: list[Problem]) -> None:
    """Name the field of a quote problem (the CSV reader gives only its line): the field,
    counted in the header's order, in which the line's first quote opens."""
    todo = [i for i, p in enumerate(problems) if p.file == path.name and p.row and p.field is None and "quote" in p.message]
    if not todo:
        return
    lines = path.read_bytes().decode("utf-8-sig", errors="replace").split("\n")
    header = [c.strip() for c in lines[0].split(",")]
    for i in todo:
        p = problems[i]
        text = lines[p.row - 1] if p.row <= len(lines) else ""
        at = text.find('"')
        k = text[:at].count(",") if at >= 0 else -1
        if 0 <= k < len(header):
            problems[i] = Problem(p.file, p.message, p.row, header[k], p.hint)


def _strip(table: ClaimYears) -> ClaimYears:
    """Drop the helper column ``_line`` once every check is done."""
    frame = table.frame.drop(columns="_line").reset_index(drop=True)
    return ClaimYears(frame=frame, path=table.path, sha256=table.sha256)


def check_rows(df: pd.DataFrame, name: str, problems: list[Problem]) -> pd.DataFrame:
    """Parse and check every row on its own: numbers, ranges, choices, and the identities
    duration == year - start_year, log_cinc_ratio == log(cinc_chal / cinc_tgt) and
    settled == (ending == "peaceful"). Returns the clean rows (with ``_line``), sorted by claim, year."""
    rows: list[dict] = []
    seen: dict[tuple[int, int], int] = {}
    for r in df.to_dict("records"):
        line, ok, out = r["_line"], True, {"_line": r["_line"]}
        for col, lo, hi in INT_RANGES:
            v = parse_int(r[col], name, line, col, problems)
            ok &= v is not None and _in_range(v, lo, hi, r[col], name, line, col, problems)
            out[col] = v
        for col, lo, hi in FLOAT_RANGES:
            v = parse_float(r[col], name, line, col, problems)
            ok &= v is not None and _in_range(v, lo, hi, r[col], name, line, col, problems)
            out[col] = v
        for col, allowed in CHOICES:
            if r[col] not in allowed:
                problems.append(Problem(name, f"'{r[col]}' is not a known {col}", line, col,
                                        hint=f"use one of {', '.join(allowed)}"))
                ok = False
            out[col] = r[col]
        if not r["source"]:
            problems.append(Problem(name, "empty value", line, "source", hint="say where the row's values come from"))
            ok = False
        out["source"] = r["source"]
        if not ok:
            continue
        ok = _identities(out, name, line, problems)
        key = (out["claim"], out["year"])
        if key in seen:
            problems.append(Problem(name, f"(claim {key[0]}, year {key[1]}) appears twice (first on row {seen[key]})",
                                    line, "year", hint="keep one row per claim-year"))
            continue
        seen[key] = line
        if ok:
            rows.append(out)
    frame = pd.DataFrame(rows, columns=[*CLAIM_COLUMNS, "_line"])
    frame = frame.astype({**{c: "int64" for c in INT_COLUMNS}, **{c: "float64" for c in FLOAT_COLUMNS},
                          **{c: str for c in ("issue", "region", "ending", "source")}, "_line": "int64"})
    return frame.sort_values(["claim", "year"], kind="stable").reset_index(drop=True)


def _in_range(v: float, lo, hi, text: str, name: str, line: int, col: str, problems: list[Problem]) -> bool:
    if col.startswith("cinc_") and not 0.0 < v <= 1.0:
        problems.append(Problem(name, f"CINC {text} is outside (0, 1]", line, col,
                                hint="CINC is a share of the system's capabilities; leave a claim-year without one out"))
        return False
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        bounds = f"{lo if lo is not None else '-inf'}-{hi if hi is not None else 'inf'}"
        problems.append(Problem(name, f"{text} is outside {bounds}", line, col,
                                hint="see SOURCES.md for the column's ICOW range"))
        return False
    return True


def _identities(r: dict, name: str, line: int, problems: list[Problem]) -> bool:
    ok = True
    if r["start_year"] > r["year"]:
        problems.append(Problem(name, f"start_year {r['start_year']} is after year {r['year']}", line, "start_year"))
        ok = False
    elif r["duration"] != r["year"] - r["start_year"]:
        problems.append(Problem(name, f"duration {r['duration']} is not year - start_year = "
                                      f"{r['year'] - r['start_year']}", line, "duration",
                                hint="duration counts years since the claim began"))
        ok = False
    if r["chal"] == r["tgt"]:
        problems.append(Problem(name, f"challenger and target are both state {r['chal']}", line, "tgt"))
        ok = False
    want = math.log(r["cinc_chal"] / r["cinc_tgt"])
    if abs(r["log_cinc_ratio"] - want) > LOG_RATIO_TOLERANCE:
        problems.append(Problem(name, f"log_cinc_ratio {r['log_cinc_ratio']:g} is not log(cinc_chal / cinc_tgt) "
                                      f"= {want:.6f}", line, "log_cinc_ratio"))
        ok = False
    if r["settled"] != int(r["ending"] == "peaceful"):
        problems.append(Problem(name, f"settled {r['settled']} does not match ending '{r['ending']}'", line, "settled",
                                hint="settled is 1 exactly in the row of a peaceful ending"))
        ok = False
    return ok


def check_claims(frame: pd.DataFrame, name: str, problems: list[Problem]) -> None:
    """Per claim: issue, region, states and start year are constant, and at most one row
    carries a non-ongoing ending, which is the claim's last row."""
    by_claim = frame.groupby("claim", sort=True)
    first = by_claim[[*CONSTANT_PER_CLAIM, "_line"]].transform("first")
    for col in CONSTANT_PER_CLAIM:
        bad = frame[frame[col] != first[col]].drop_duplicates("claim")
        for i, r in bad.iterrows():
            problems.append(Problem(name, f"claim {r['claim']} has {col} '{r[col]}' here but '{first.at[i, col]}' "
                                          f"on row {first.at[i, '_line']}", int(r["_line"]), col,
                                    hint=f"{col} is fixed for a claim"))
    last_year = by_claim["year"].transform("max")
    ended = frame[frame["ending"] != "ongoing"]
    twice = ended[ended.duplicated("claim", keep="first")].drop_duplicates("claim")
    for r in twice.to_dict("records"):
        problems.append(Problem(name, f"claim {r['claim']} ends twice", int(r["_line"]), "ending",
                                hint="only the claim's last row carries how it ended"))
    early = ended[(ended["year"] != last_year[ended.index]) & ~ended["claim"].isin(twice["claim"])]
    for r in early.to_dict("records"):
        problems.append(Problem(name, f"claim {r['claim']} ends in {r['year']} but has later rows", int(r["_line"]),
                                "ending", hint="the ending belongs in the claim's last row"))
