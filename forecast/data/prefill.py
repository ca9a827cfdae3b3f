"""Prefill a lens of a new workspace from bundled reference data.

``power``: the ratio of the two sides' COW Composite Index of National Capability
(NMC 7.0, the bundled all-states table of ``forecast.data.reference``), one value a
year from the workspace's first year, as one state indicator of the power lens. The
rows cite COW NMC 7.0. The sides' COW codes come from ``workspace.toml``.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from forecast.data.config import CONFIG_FILE, PLACEHOLDER_YEAR, WorkspaceConfig
from forecast.data.csvtext import BLANKS
from forecast.errors import ForecastError, Problem, ValidationError

PREFILL_LENSES = ("power",)
CINC_CITATION = ("Correlates of War Project, National Material Capabilities v7.0 (Singer, Bremer & Stuckey 1972; "
                 "Singer 1987), CINC; bundled all-states table data/reference/cinc.csv")
CINC_SOURCE = "COW NMC 7.0, CINC (bundled all-states table)"


@dataclass(frozen=True)
class Prefilled:
    lens: str
    indicator: str
    first_year: int
    last_year: int
    n_values: int


def _append_rows(path: Path, rows: list[dict[str, str]]) -> None:
    """Append rows, each value under its column's name in the file's own header (the loaders accept
    the columns in any order), atomically: the file is rewritten beside and renamed. The new rows
    start on a new line even if the file does not end with one."""
    from forecast.workspace import atomic_write

    text = path.read_text(encoding="utf-8-sig")
    header = [c.strip(BLANKS) for c in next(csv.reader([text.split("\n", 1)[0]]), [])]
    if sorted(header) != sorted(rows[0]):
        raise ForecastError(f"{path.name}: the header does not have the columns {', '.join(rows[0])}; "
                            f"run 'forecast data check' and mend the header before prefilling")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([[row[c] for c in header] for row in rows])
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text + buf.getvalue(), encoding="utf-8"))


def cinc_display_name(a: str, b: str) -> str:
    """The prefilled indicator's display name, within the loader's limit."""
    from forecast.defaults import MAX_DISPLAY_NAME

    text = f"Capability (CINC) ratio, {a} to {b}"
    return text if len(text) <= MAX_DISPLAY_NAME else "Capability (CINC) ratio"


def prefill(root: Path, config: WorkspaceConfig, lens: str) -> Prefilled:
    """Add the lens's reference indicator and its values to ``root/data``; refuse to add it twice."""
    if lens not in PREFILL_LENSES:
        raise ForecastError(f"cannot prefill lens '{lens}': only {', '.join(PREFILL_LENSES)} can be filled from "
                            f"bundled data; the other lenses are yours to fill (README, 'A workspace for another dyad')")
    if config.first_year == PLACEHOLDER_YEAR:
        raise ForecastError(f"set [dyad] first_year in {CONFIG_FILE} (or init with --first-year) before prefilling")
    missing = [s for s in ("side_a", "side_b") if getattr(config, s).cow_code is None]
    if missing:
        raise ForecastError(f"{CONFIG_FILE} gives no cow_code for {' and '.join(missing)}: the CINC table is "
                            f"keyed by Correlates of War state codes (e.g. 2 USA, 710 China, 750 India)")
    from forecast.data.loaders import INDICATOR_COLUMNS, META_COLUMNS, load_meta
    from forecast.data.reference import load_cinc

    a, b = config.side_a, config.side_b
    series = [(y, r) for y, r in load_cinc().ratio(a.cow_code, b.cow_code) if y >= config.first_year]
    if not series:
        raise ForecastError(f"the CINC table has no year from {config.first_year} in which both {a.name} "
                            f"({a.cow_code}) and {b.name} ({b.cow_code}) have a value")
    name = f"cinc_ratio_{a.id}_{b.id}"
    data = root / "data"
    problems: list[Problem] = []
    meta = load_meta(data / "indicators_meta.csv", problems)
    if meta is None:
        raise ValidationError(problems)
    if name in meta.index:
        raise ForecastError(f"indicators_meta.csv already has '{name}': the power lens was prefilled before")
    top = 10.0 ** math.ceil(math.log10(max(r for _, r in series) * 10))
    _append_rows(data / "indicators_meta.csv", [dict(zip(META_COLUMNS, [
        name, "power", "", "state", "ratio", "log", "1", "0", f"{top:g}",
        f"{a.name}'s composite material capability larger relative to {b.name}'s",
        (f"Annual COW Composite Index of National Capability of {a.name} (ccode {a.cow_code}) divided by that of "
         f"{b.name} (ccode {b.cow_code}); prefilled by 'forecast data prefill power'."),
        CINC_CITATION, cinc_display_name(a.name, b.name)]))])
    values = [[str(y), name, repr(float(r)), CINC_SOURCE, "0"] for y, r in series]
    _append_rows(data / "indicators.csv", [dict(zip(INDICATOR_COLUMNS, v)) for v in values])
    return Prefilled(lens, name, series[0][0], series[-1][0], len(series))
