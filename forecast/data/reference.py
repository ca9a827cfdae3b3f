"""The bundled COW NMC 7.0 CINC table (all states, 1816-2022), validated at the door.

The table ships with the package in ``data/reference/cinc.csv`` (its citation and
build script sit beside it in ``SOURCES.md`` and ``build_cinc.py``) and is read in
place: it is never copied into a workspace. It lets the power lens of any pair of
states be prefilled with the ratio of their Composite Indexes of National Capability.

States are identified by their COW code (``ccode``). The file may also carry the
optional columns ``stateabb`` and ``statename``; the bundled extract does not,
because its source gives no names (see SOURCES.md), so ``lookup`` accepts codes only
until a sourced state list is added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.loaders import parse_float, parse_int, read_text_csv
from forecast.errors import Problem, UnknownStateError, ValidationError
from forecast.workspace import reference_dir

CINC_FILE = "cinc.csv"
CINC_COLUMNS = ("ccode", "year", "cinc")
NAME_COLUMNS = ("stateabb", "statename")  # optional; both or neither
FIRST_YEAR, LAST_YEAR = 1816, 2022        # the span of NMC 7.0
MIN_CCODE, MAX_CCODE = 1, 999             # COW state codes have at most three digits


@dataclass(frozen=True)
class State:
    """One state of the table: COW code, abbreviation and name (None when not bundled), years covered."""

    ccode: int
    abb: str | None
    name: str | None
    first_year: int
    last_year: int
    n_years: int


@dataclass(frozen=True, eq=False)
class CincTable:
    """The validated CINC table: one row per (ccode, year), sorted by ccode then year.

    ``frame`` has columns ``ccode`` (int64), ``year`` (int64), ``cinc`` (float64) and,
    when the file has them, ``stateabb`` and ``statename`` (str).
    """

    path: Path
    frame: pd.DataFrame
    _by_state: dict[int, dict[int, float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_state: dict[int, dict[int, float]] = {}
        for c, y, v in zip(self.frame["ccode"].tolist(), self.frame["year"].tolist(), self.frame["cinc"].tolist()):
            by_state.setdefault(c, {})[y] = v
        object.__setattr__(self, "_by_state", by_state)

    @property
    def has_names(self) -> bool:
        return "stateabb" in self.frame.columns

    @property
    def ccodes(self) -> np.ndarray:
        return self.frame["ccode"].to_numpy()

    @property
    def years(self) -> np.ndarray:
        return self.frame["year"].to_numpy()

    @property
    def values(self) -> np.ndarray:
        return self.frame["cinc"].to_numpy()

    def lookup(self, code_or_abb: int | str) -> int:
        """The COW code of a state given as a code (``740``, ``"740"``) or, when names are
        bundled, an abbreviation (case-insensitive). Raises UnknownStateError."""
        if isinstance(code_or_abb, (int, np.integer)) and not isinstance(code_or_abb, bool):
            code = int(code_or_abb)
        elif isinstance(code_or_abb, str) and code_or_abb.strip().isdigit():
            code = int(code_or_abb.strip())
        elif isinstance(code_or_abb, str) and self.has_names:
            wanted = code_or_abb.strip().upper()
            for s in self.states():
                if s.abb is not None and s.abb.upper() == wanted:
                    return s.ccode
            raise UnknownStateError(f"no state with abbreviation '{code_or_abb}' in {self.path.name}")
        else:
            raise UnknownStateError(
                f"'{code_or_abb}' is not a COW state code: {self.path.name} has no state abbreviations, "
                "so give the numeric COW code (listed in the COW state system membership data)")
        if code not in self._by_state:
            raise UnknownStateError(f"no state with COW code {code} in {self.path.name} "
                                    f"({len(self._by_state)} states, codes {min(self._by_state)}-{max(self._by_state)})")
        return code

    def series(self, state: int | str) -> dict[int, float]:
        """``{year: cinc}`` of one state, in year order (only the years it is in the state system)."""
        return dict(self._by_state[self.lookup(state)])

    def ratio(self, state_a: int | str, state_b: int | str) -> list[tuple[int, float]]:
        """``[(year, cinc_a / cinc_b)]`` for the years both states have a value (and cinc_b > 0), in year order."""
        a, b = self.series(state_a), self.series(state_b)
        return [(y, a[y] / b[y]) for y in sorted(a.keys() & b.keys()) if b[y] > 0]

    def states(self) -> list[State]:
        """Every state of the table, in ccode order."""
        out = []
        first = self.frame.drop_duplicates("ccode")
        for r in first.itertuples(index=False):
            years = self._by_state[r.ccode]
            out.append(State(ccode=int(r.ccode),
                             abb=getattr(r, "stateabb", None), name=getattr(r, "statename", None),
                             first_year=min(years), last_year=max(years), n_years=len(years)))
        return out


def default_cinc_path() -> Path:
    """The shipped ``cinc.csv`` (``data/reference/`` of the package's default source)."""
    return reference_dir() / CINC_FILE


def load_cinc(path: str | Path | None = None) -> CincTable:
    """Load and validate a CINC table (default: the shipped one).

    Raises ValidationError naming file, row and field for every bad record: a
    missing or non-numeric value, a year outside 1816-2022, a CINC outside [0, 1],
    a repeated (ccode, year), or (with names) a state whose abbreviation or name
    changes between rows, or two states sharing one abbreviation.
    """
    path = Path(path) if path is not None else default_cinc_path()
    problems: list[Problem] = []
    df = read_text_csv(path, CINC_COLUMNS, problems, optional=NAME_COLUMNS)
    if df is None:
        raise ValidationError(problems)
    name = path.name
    names = [c for c in NAME_COLUMNS if c in df.columns]
    if len(names) == 1:
        missing = next(c for c in NAME_COLUMNS if c not in names)
        problems.append(Problem(name, f"column '{names[0]}' needs column '{missing}' too", row=1, field=missing))
        raise ValidationError(problems)
    rows: list[tuple] = []
    seen: dict[tuple[int, int], int] = {}
    labels: dict[int, tuple[str, str, int]] = {}
    abb_owner: dict[str, int] = {}
    for r in df.to_dict("records"):
        line = r["_line"]
        ccode = parse_int(r["ccode"], name, line, "ccode", problems)
        year = parse_int(r["year"], name, line, "year", problems)
        cinc = parse_float(r["cinc"], name, line, "cinc", problems)
        if ccode is not None and not MIN_CCODE <= ccode <= MAX_CCODE:
            problems.append(Problem(name, f"COW code {ccode} is outside {MIN_CCODE}-{MAX_CCODE}", line, "ccode"))
            ccode = None
        if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
            problems.append(Problem(name, f"year {year} is outside {FIRST_YEAR}-{LAST_YEAR}", line, "year"))
            year = None
        if cinc is not None and not (math.isfinite(cinc) and 0.0 <= cinc <= 1.0):
            problems.append(Problem(name, f"CINC {r['cinc']} is outside [0, 1]", line, "cinc"))
            cinc = None
        if ccode is None or year is None or cinc is None:
            continue
        if (ccode, year) in seen:
            problems.append(Problem(name, f"(ccode {ccode}, year {year}) appears twice (first on row "
                                          f"{seen[(ccode, year)]})", line, "year", hint="keep one row per state-year"))
            continue
        seen[(ccode, year)] = line
        if names and not _check_names(r, ccode, line, name, labels, abb_owner, problems):
            continue
        rows.append((ccode, year, cinc, *(r[c] for c in names)))
    if problems:
        raise ValidationError(problems)
    frame = pd.DataFrame(rows, columns=[*CINC_COLUMNS, *names])
    frame = frame.astype({"ccode": "int64", "year": "int64", "cinc": "float64"})
    frame = frame.sort_values(["ccode", "year"], kind="stable").reset_index(drop=True)
    return CincTable(path=path, frame=frame)


def _check_names(r: dict, ccode: int, line: int, file: str, labels: dict, abb_owner: dict,
                 problems: list[Problem]) -> bool:
    """One abbreviation and one name per state, non-empty, and no abbreviation shared by two states."""
    abb, statename = r["stateabb"], r["statename"]
    for fld, text in (("stateabb", abb), ("statename", statename)):
        if not text:
            problems.append(Problem(file, "empty value", line, fld))
            return False
    if ccode in labels:
        first_abb, first_name, first_line = labels[ccode]
        if (abb, statename) != (first_abb, first_name):
            fld = "stateabb" if abb != first_abb else "statename"
            problems.append(Problem(file, f"state {ccode} is '{abb}'/'{statename}' here but "
                                          f"'{first_abb}'/'{first_name}' on row {first_line}", line, fld))
            return False
        return True
    owner = abb_owner.get(abb.upper())
    if owner is not None and owner != ccode:
        problems.append(Problem(file, f"abbreviation '{abb}' is already used by state {owner}", line, "stateabb"))
        return False
    labels[ccode] = (abb, statename, line)
    abb_owner[abb.upper()] = ccode
    return True
