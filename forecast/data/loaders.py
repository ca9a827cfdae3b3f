"""Loading and validating the workspace's data files ("validate at the door").

Every CSV is read as text through ``csvtext.read_text_csv`` (``utf-8-sig`` so a BOM is
harmless, every field a string, no value taken for missing, ``#`` lines comments), then
each field is parsed here so that a problem can be reported with its file, line and field.
The ``side`` column is checked against the side ids of ``workspace.toml``. Nothing reaches
the model until the whole dataset is clean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecast import LENSES
from forecast.defaults import MAX_DISPLAY_NAME
from forecast.data import guide
from forecast.data.config import WorkspaceConfig, read_config
from forecast.data.csvtext import (
    MIN_YEAR,
    check_year,
    date_text,
    parse_date,
    parse_float,
    parse_int,
    read_text_csv,
    suggest,
)
from forecast.errors import Problem, ValidationError

META_COLUMNS = (
    "indicator", "lens", "side", "role", "unit", "transform", "direction",
    "min", "max", "higher_means", "description", "citation", "display_name",
)
INDICATOR_COLUMNS = ("year", "indicator", "value", "source", "approximate")
OUTCOME_COLUMNS = ("year", "change", "settlement", "justification", "source")
EVENT_KIND_COLUMNS = ("kind", "lens", "weight", "weight_sd", "description")
EVENT_COLUMNS = ("date", "kind", "source", "note")

TRANSFORMS = ("none", "log", "logit_pct", "logit")
ROLES = ("state", "barrier")
CHANGE_LABELS = {-2: "sharp deterioration", -1: "deterioration", 0: "no change",
                 1: "improvement", 2: "major improvement"}


@dataclass(frozen=True)
class Dataset:
    """A validated dataset: indicator metadata, long-format values, outcomes and events."""

    meta: pd.DataFrame        # index: indicator name
    values: pd.DataFrame      # columns: year, indicator, value, source, approximate
    outcomes: pd.DataFrame    # columns: year, change, settlement, justification, source
    event_kinds: pd.DataFrame  # index: kind; columns: lens, weight, weight_sd, description
    events: pd.DataFrame      # columns: date, year, kind, source, note (the seed ledger)
    config: WorkspaceConfig | None = field(default=None, compare=False)  # workspace.toml

    @property
    def sides(self) -> tuple[str, str]:
        """The side ids of side A and side B (the 'side' column of the leaders lens)."""
        return self.config.side_ids

    @property
    def first_year(self) -> int:
        return int(min(self.outcomes["year"].min(), self.values["year"].min()))

    @property
    def last_outcome_year(self) -> int:
        return int(self.outcomes["year"].max())


def load_meta(path: Path, problems: list[Problem], rejected: set[str] | None = None,
              sides: tuple[str, ...] | None = None) -> pd.DataFrame | None:
    """Load indicators_meta.csv. Names of rows with problems go into ``rejected``
    (so their data rows are not reported a second time as unknown). ``sides``: the
    workspace's side ids (None: unknown, the side of leaders rows is not checked).
    A file with no rows gives an empty table (``guide`` says what to add)."""
    df = read_text_csv(path, META_COLUMNS, problems)
    if df is None:
        return None
    if df.empty:
        return pd.DataFrame(columns=list(META_COLUMNS)).set_index("indicator")
    name = path.name
    records = []
    seen: dict[str, int] = {}
    display_seen: dict[str, int] = {}
    for r in df.to_dict("records"):
        line = r["_line"]
        ok = True
        ind = r["indicator"]
        if not ind or not ind.replace("_", "").isalnum() or ind != ind.lower():
            problems.append(Problem(name, f"indicator name '{ind}' must be lower_snake_case", line, "indicator"))
            ok = False
        elif ind in seen:
            problems.append(Problem(name, f"indicator '{ind}' is defined twice (first on row {seen[ind]})",
                                    line, "indicator", hint="keep one row per indicator"))
            ok = False
        seen.setdefault(ind, line)
        if r["lens"] not in LENSES:
            problems.append(Problem(name, f"unknown lens '{r['lens']}'", line, "lens",
                                    hint=suggest(r["lens"], LENSES) or f"use one of {', '.join(LENSES)}"))
            ok = False
        if r["role"] not in ROLES:
            problems.append(Problem(name, f"unknown role '{r['role']}'", line, "role",
                                    hint=f"use one of {', '.join(ROLES)}"))
            ok = False
        if r["lens"] == "leaders" and sides is not None and r["side"] not in sides:
            problems.append(Problem(name, f"leaders-lens indicators need side {' or '.join(sides)}, "
                                    f"got '{r['side']}'", line, "side",
                                    hint=suggest(r["side"], sides) or "the side ids are set in workspace.toml"))
            ok = False
        if r["lens"] in ("power", "trust") and r["side"] != "":
            problems.append(Problem(name, f"side must be empty for the {r['lens']} lens, got '{r['side']}'",
                                    line, "side"))
            ok = False
        if r["transform"] not in TRANSFORMS:
            problems.append(Problem(name, f"unknown transform '{r['transform']}'", line, "transform",
                                    hint=suggest(r["transform"], TRANSFORMS) or f"use one of {', '.join(TRANSFORMS)}"))
            ok = False
        direction = parse_int(r["direction"], name, line, "direction", problems)
        if direction is not None and direction not in (1, -1):
            problems.append(Problem(name, f"direction must be 1 or -1, got {direction}", line, "direction"))
            ok = False
        lo = parse_float(r["min"], name, line, "min", problems)
        hi = parse_float(r["max"], name, line, "max", problems)
        if lo is not None and hi is not None and lo >= hi:
            problems.append(Problem(name, f"min {lo:g} is not below max {hi:g}", line, "min"))
            ok = False
        for field in ("unit", "description", "citation"):
            if r[field] == "":
                problems.append(Problem(name, f"empty {field}", line, field,
                                        hint="every indicator needs a unit, a description and a publisher citation"))
                ok = False
        # a bad display name is reported, but the row is kept (its values are still checked)
        check_display_name(r["display_name"], name, line, display_seen, problems)
        if ok and None not in (direction, lo, hi):
            records.append({k: v for k, v in r.items() if k != "_line"} | {"direction": direction, "min": lo, "max": hi})
        elif rejected is not None:
            rejected.add(ind)
    if not records:
        return None
    return pd.DataFrame.from_records(records).set_index("indicator")


def check_display_name(text: str, name: str, line: int, seen: dict[str, int], problems: list[Problem]) -> bool:
    """A display name is what people read in the brief and the plots: not empty, at most
    MAX_DISPLAY_NAME characters, one per indicator (case-insensitive)."""
    if text == "":
        problems.append(Problem(name, "empty display_name", line, "display_name",
                                hint="give a short name for people, e.g. 'Cabinet approval'"))
        return False
    if len(text) > MAX_DISPLAY_NAME:
        problems.append(Problem(name, f"display_name '{text}' has {len(text)} characters, more than "
                                f"{MAX_DISPLAY_NAME}", line, "display_name", hint="shorten it"))
        return False
    key = text.casefold()
    if key in seen:
        problems.append(Problem(name, f"display_name '{text}' is used twice (first on row {seen[key]})", line,
                                "display_name", hint="give each indicator its own display name"))
        return False
    seen[key] = line
    return True


def transform_ok(transform: str, v: float) -> bool:
    if transform == "log":
        return v > 0
    if transform == "logit_pct":
        return 0 < v < 100
    if transform == "logit":
        return 0 < v < 1
    return True


def load_values(path: Path, meta: pd.DataFrame | None, problems: list[Problem],
                rejected: set[str] = frozenset()) -> pd.DataFrame | None:
    df = read_text_csv(path, INDICATOR_COLUMNS, problems)
    if df is None:
        return None
    name = path.name
    records = []
    seen: dict[tuple[int, str], int] = {}
    for r in df.to_dict("records"):
        line = r["_line"]
        year = parse_int(r["year"], name, line, "year", problems)
        year_ok = check_year(year, name, line, problems)
        value = parse_float(r["value"], name, line, "value", problems)
        ind = r["indicator"]
        ok = year_ok and value is not None
        if ind in rejected:
            ok = False  # its metadata row is already reported
        elif meta is not None and ind not in meta.index:
            problems.append(Problem(name, f"unknown indicator '{ind}'", line, "indicator",
                                    hint=suggest(ind, meta.index) or "add it to indicators_meta.csv first"))
            ok = False
        elif meta is not None and value is not None:
            m = meta.loc[ind]
            if not m["min"] <= value <= m["max"]:
                problems.append(Problem(name, f"value {value:g} for '{ind}' is outside its range "
                                        f"{m['min']:g} to {m['max']:g} ({m['unit']})", line, "value"))
                ok = False
            elif not transform_ok(m["transform"], value):
                problems.append(Problem(name, f"value {value:g} for '{ind}' cannot take the "
                                        f"'{m['transform']}' transform", line, "value"))
                ok = False
        if r["source"] == "":
            problems.append(Problem(name, "missing source", line, "source",
                                    hint="cite the publisher of every value"))
            ok = False
        if r["approximate"] not in ("0", "1"):
            problems.append(Problem(name, f"approximate must be 0 or 1, got '{r['approximate']}'",
                                    line, "approximate"))
            ok = False
        if year is not None and (year, ind) in seen:
            problems.append(Problem(name, f"duplicate value for '{ind}' in {year} (first on row {seen[(year, ind)]})",
                                    line, "year", hint="keep one row per indicator and year"))
            ok = False
        if year is not None:
            seen.setdefault((year, ind), line)
        if ok:
            records.append({"year": year, "indicator": ind, "value": value,
                            "source": r["source"], "approximate": r["approximate"] == "1"})
    if meta is not None:
        present = {r["indicator"] for r in records}
        for ind in meta.index:
            if ind not in present and ind not in set(df["indicator"]):
                problems.append(Problem("indicators_meta.csv", f"indicator '{ind}' has no values in {name}",
                                        field="indicator"))
    out = pd.DataFrame.from_records(records, columns=list(INDICATOR_COLUMNS))
    return out.astype({"year": "int64", "value": "float64", "approximate": "bool"})


def load_outcomes(path: Path, problems: list[Problem], coded: set[int] | None = None) -> pd.DataFrame | None:
    """Load outcomes.csv. ``coded`` receives the year of every row whose year is valid, also of rows
    refused for another field: such a year is coded (and reported on its row), not missing."""
    coded = set() if coded is None else coded
    df = read_text_csv(path, OUTCOME_COLUMNS, problems)
    if df is None:
        return None
    name = path.name
    records = []
    seen: dict[int, int] = {}
    for r in df.to_dict("records"):
        line = r["_line"]
        year = parse_int(r["year"], name, line, "year", problems)
        ok = check_year(year, name, line, problems)
        if ok:
            coded.add(year)
        change = parse_int(r["change"], name, line, "change", problems)
        if change is not None and change not in CHANGE_LABELS:
            problems.append(Problem(name, f"change must be an integer from -2 to 2, got {change}", line, "change"))
            ok = False
        settle = parse_int(r["settlement"], name, line, "settlement", problems)
        if settle is not None and settle not in (0, 1):
            problems.append(Problem(name, f"settlement must be 0 or 1, got {settle}", line, "settlement"))
            ok = False
        for field in ("justification", "source"):
            if r[field] == "":
                problems.append(Problem(name, f"missing {field}", line, field,
                                        hint="every coded year needs a one-line justification and a source"))
                ok = False
        if year is not None and year in seen:
            problems.append(Problem(name, f"year {year} is coded twice (first on row {seen[year]})", line, "year"))
            ok = False
        if year is not None:
            seen.setdefault(year, line)
        if ok and change is not None and settle is not None:
            records.append({"year": year, "change": change, "settlement": settle,
                            "justification": r["justification"], "source": r["source"]})
    out = pd.DataFrame.from_records(records, columns=list(OUTCOME_COLUMNS))
    out = out.astype({"year": "int64", "change": "int64", "settlement": "int64"}).sort_values("year")
    if coded:
        gaps = sorted(set(range(min(coded), max(coded) + 1)) - coded)
        if gaps:
            problems.append(Problem(name, f"coded outcomes have gaps: missing year(s) {gaps}", field="year",
                                    hint="code every year between the first and the last"))
    return out.reset_index(drop=True)


def load_event_kinds(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    df = read_text_csv(path, EVENT_KIND_COLUMNS, problems)
    if df is None:
        return None
    if df.empty:
        return pd.DataFrame(columns=list(EVENT_KIND_COLUMNS)).set_index("kind")
    name, records, seen = path.name, [], set()
    for r in df.to_dict("records"):
        line, ok = r["_line"], True
        if not r["kind"] or r["kind"] != r["kind"].lower() or not r["kind"].replace("_", "").isalnum():
            problems.append(Problem(name, f"kind '{r['kind']}' must be lower_snake_case", line, "kind"))
            ok = False
        elif r["kind"] in seen:
            problems.append(Problem(name, f"kind '{r['kind']}' is defined twice", line, "kind"))
            ok = False
        seen.add(r["kind"])
        if r["lens"] not in LENSES:
            problems.append(Problem(name, f"unknown lens '{r['lens']}'", line, "lens",
                                    hint=suggest(r["lens"], LENSES) or f"use one of {', '.join(LENSES)}"))
            ok = False
        w = parse_float(r["weight"], name, line, "weight", problems)
        sd = parse_float(r["weight_sd"], name, line, "weight_sd", problems)
        if w is not None and not -3 <= w <= 3:
            problems.append(Problem(name, f"weight {w:g} is outside -3 to 3 (state standard deviations)",
                                    line, "weight"))
            ok = False
        if sd is not None and not sd > 0:
            problems.append(Problem(name, f"weight_sd must be positive, got {sd:g}", line, "weight_sd"))
            ok = False
        if r["description"] == "":
            problems.append(Problem(name, "empty description", line, "description"))
            ok = False
        if ok and w is not None and sd is not None:
            records.append({"kind": r["kind"], "lens": r["lens"], "weight": w, "weight_sd": sd,
                            "description": r["description"]})
    if not records:
        return None
    return pd.DataFrame.from_records(records).set_index("kind")


def load_events(path: Path, kinds: pd.DataFrame | None, problems: list[Problem],
                first_year: int = MIN_YEAR) -> pd.DataFrame | None:
    df = read_text_csv(path, EVENT_COLUMNS, problems)
    if df is None:
        return None
    name, records, seen = path.name, [], {}
    for r in df.to_dict("records"):
        line, ok = r["_line"], True
        date = parse_date(r["date"], name, line, "date", problems, first_year)
        ok = date is not None
        if kinds is not None and r["kind"] not in kinds.index:
            problems.append(Problem(name, f"unknown event kind '{r['kind']}'", line, "kind",
                                    hint=suggest(r["kind"], kinds.index) or "add it to event_kinds.csv first"))
            ok = False
        if r["source"] == "":
            problems.append(Problem(name, "missing source", line, "source", hint="cite where the event is reported"))
            ok = False
        key = (date_text(r["date"]) or r["date"], r["kind"], r["note"])
        if key in seen:
            problems.append(Problem(name, f"duplicate event (first on row {seen[key]})", line, "date"))
            ok = False
        seen.setdefault(key, line)
        if ok:
            records.append({"date": date_text(r["date"]), "year": date.year, "kind": r["kind"], "source": r["source"],
                            "note": r["note"]})
    out = pd.DataFrame.from_records(records, columns=["date", "year", "kind", "source", "note"])
    return out.astype({"year": "int64"})


def load_dataset(data_dir: Path, config: WorkspaceConfig | None = None) -> Dataset:
    """Load and validate ``data_dir``; raise ValidationError listing every problem.

    ``config``: the workspace's ``workspace.toml``; when not given it is read from the
    workspace folder that holds ``data_dir``, and its problems are listed with the rest."""
    problems: list[Problem] = []
    rejected: set[str] = set()
    if config is None:
        config = read_config(Path(data_dir).parent, problems)
    sides = config.side_ids if config is not None else None
    meta = load_meta(data_dir / "indicators_meta.csv", problems, rejected, sides)
    values = load_values(data_dir / "indicators.csv", meta, problems, rejected)
    coded: set[int] = set()
    outcomes = load_outcomes(data_dir / "outcomes.csv", problems, coded)
    kinds = load_event_kinds(data_dir / "event_kinds.csv", problems)
    events = load_events(data_dir / "events.csv", kinds, problems, min(coded, default=MIN_YEAR))
    guide.validate_dataset(meta, values, outcomes, kinds, config, problems, coded)
    if problems:
        raise ValidationError(problems)
    values = values.sort_values(["indicator", "year"]).reset_index(drop=True)
    return Dataset(meta=meta, values=values, outcomes=outcomes, event_kinds=kinds, events=events, config=config)
