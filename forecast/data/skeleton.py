"""A blank workspace for another dyad: ``forecast init DIR --dyad "A-B" --blank``.

It writes ``workspace.toml`` with the two sides' names (ids derived from them), the
five data files with their header, a commented example row and nothing else, and
keeps the shipped prior presets. ``forecast data check`` then lists what is missing,
file by file and field by field (``data/guide.py``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from forecast.data.config import CONFIG_FILE, PLACEHOLDER_YEAR
from forecast.defaults import MIN_YEAR
from forecast.data.loaders import (
    EVENT_COLUMNS,
    EVENT_KIND_COLUMNS,
    INDICATOR_COLUMNS,
    META_COLUMNS,
    OUTCOME_COLUMNS,
)
from forecast.defaults import EXPERT_HAZARD_PRESET
from forecast.errors import ForecastError

_SEPARATORS = ("\u2013", " - ", "-")   # en dash first, so names with a hyphen can be written "A\u2013B-C"

# file -> (columns, example rows): each example is a valid row once its leading '# ' is removed
EXAMPLES = {
    "indicators_meta.csv": (META_COLUMNS, [
        "trade_volume,trust,,state,USD bn,log,1,0,100000,More bilateral trade,Annual trade in goods between the "
        "two sides (exports plus imports).,\"Publisher, table name, URL\",Bilateral trade",
        "approval_{a},leaders,{a},state,percent,logit_pct,1,0,100,{A}'s leader more popular at home,Annual mean "
        "share approving of {A}'s leader.,\"Pollster, survey name\",{A}'s leader approval",
    ]),
    "indicators.csv": (INDICATOR_COLUMNS, [
        "2020,trade_volume,123.4,\"Publisher, table name, 2021 release\",0",
    ]),
    "outcomes.csv": (OUTCOME_COLUMNS, [
        "2020,1,0,Leaders sign a joint statement on economic cooperation (one line: why the year is coded so),"
        "\"Foreign ministry, statement of 2020-09-03\"",
    ]),
    "event_kinds.csv": (EVENT_KIND_COLUMNS, [
        "summit_held,trust,0.5,0.3,\"A bilateral meeting of the two leaders; trust lens because it raises "
        "interaction volume, positive sign\"",
    ]),
    "events.csv": (EVENT_COLUMNS, [
        "2020-09-03,summit_held,\"Foreign ministry, press release of 2020-09-03\",Leaders meet in the capital",
    ]),
}
HELP_LINE = ("# Rows starting with # are comments. Remove the '# ' of an example to use it, or write your own "
             "rows; see the README, 'A workspace for another dyad'.")


@dataclass(frozen=True)
class DyadNames:
    name: str
    side_a: str
    side_b: str

    @property
    def ids(self) -> tuple[str, str]:
        return side_id(self.side_a), side_id(self.side_b)


def side_id(name: str) -> str:
    """A lower_snake_case id for a side's display name ('South Korea' -> 'south_korea')."""
    sid = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not sid or not sid[0].isalpha():
        sid = "side_" + sid
    return sid


def parse_dyad(text: str) -> DyadNames:
    """'China-India' -> DyadNames('China-India', 'China', 'India')."""
    for sep in _SEPARATORS:
        parts = [p.strip() for p in text.split(sep)]
        if len(parts) == 2 and all(parts):
            names = DyadNames(text.strip(), parts[0], parts[1])
            if names.ids[0] == names.ids[1]:
                raise ForecastError(f"--dyad {text!r}: the two sides must differ")
            return names
    raise ForecastError(f"--dyad {text!r}: give the two sides as 'A-B', e.g. 'China-India' (for a name that has "
                        f"a hyphen, separate the sides with an en dash or ' - ')")


def workspace_toml(d: DyadNames, first_year: int | None, cow_codes: tuple[int | None, int | None]) -> str:
    """The text of a new workspace.toml for the dyad ``d``."""
    a, b = d.ids
    q = json.dumps   # TOML basic strings take JSON escapes
    if first_year is None:
        first = (f"first_year = {PLACEHOLDER_YEAR}              # EDIT: the first year you code in "
                 f"data/outcomes.csv (>= {MIN_YEAR})")
    else:
        first = f"first_year = {first_year}           # first year of coded outcomes and of data used"

    def cow(code):
        return f"cow_code = {code}" if code is not None else "# cow_code = 0          # COW state code, for --prefill power"

    return f"""# The dyad this workspace forecasts; every output takes its names from here.
# See the README, "A workspace for another dyad".

[dyad]
name = {q(d.name)}
{first}

[side_a]
id = {q(a)}                # the value of the 'side' column in data/indicators_meta.csv
name = {q(d.side_a)}
{cow(cow_codes[0])}

[side_b]
id = {q(b)}
name = {q(d.side_b)}
{cow(cow_codes[1])}

# [claim]                  # optional: the territorial claim the settlement question is about
# name = "..."
# icow_claim = 0           # ICOW claim number (optional)

[questions]
improve = {q(f"Will {d.name} relations improve next year?")}
settlement = "Will the territorial dispute be settled?"

# Optional display texts per lens ('title' for figures, 'plain' for the brief's sentences):
# [lenses.power]
# title = "Power shift (...)"
# plain = "The power shift (...)"
"""


def toml_blocks(text: str) -> list[tuple[str | None, str]]:
    """The text cut at each top-level ``[table]`` header: (table name or None for the head, block text)."""
    blocks: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in text.splitlines(keepends=True):
        if line.startswith("[") and not line.startswith("[["):
            blocks.append((line.strip()[1:-1].strip(), []))
        blocks[-1][1].append(line)
    return [(name, "".join(lines)) for name, lines in blocks]


def swap_entries(default_text: str, expert_text: str) -> str:
    """``default_text`` with each prior entry that ``expert_text`` also defines (not [preset]) replaced by
    the expert file's block."""
    expert = {name: block for name, block in toml_blocks(expert_text) if name not in (None, "preset")}
    return "".join(expert.get(name, block) if name is not None else block
                   for name, block in toml_blocks(default_text))


def write_skeleton(root: Path, d: DyadNames, first_year: int | None = None,
                   cow_codes: tuple[int | None, int | None] = (None, None)) -> None:
    """Turn the folder ``root`` (a copy of the default workspace) into a blank one for ``d``:
    a new workspace.toml and the five data files with header and commented examples only.
    The prior presets are kept, except that the default's settlement entries learned for the default
    dyad's claim (``reference = ...``) are replaced by the expert-hazard preset's, which name no claim."""
    a, _ = d.ids
    priors = root / "priors"
    expert = priors / f"{EXPERT_HAZARD_PRESET}.toml"
    if expert.is_file():
        default = priors / "default.toml"
        default.write_text(swap_entries(default.read_text(encoding="utf-8"), expert.read_text(encoding="utf-8")),
                           encoding="utf-8")
    (root / CONFIG_FILE).write_text(workspace_toml(d, first_year, cow_codes), encoding="utf-8")
    data = root / "data"
    for f in data.glob("*.csv"):
        f.unlink()
    for name, (columns, rows) in EXAMPLES.items():
        lines = [",".join(columns), HELP_LINE]
        lines += ["# " + r.format(a=a, A=d.side_a) for r in rows]
        (data / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def init_blank(dest, dyad: str, first_year: int | None = None, cow_codes: str | None = None,
               prefill_lenses: tuple[str, ...] = ()):
    """Create a blank workspace for ``dyad`` at ``dest`` (see ``write_skeleton``), optionally with
    lenses prefilled from bundled data. ``cow_codes``: 'A,B', the two sides' COW state codes.
    Returns (Workspace, [Prefilled]). A failure leaves nothing behind."""
    from forecast.data.config import load_config
    from forecast.data.prefill import prefill
    from forecast.workspace import init_workspace

    names = parse_dyad(dyad)
    if first_year is not None and first_year < MIN_YEAR:
        raise ForecastError(f"--first-year {first_year} is before {MIN_YEAR}")
    codes: tuple[int | None, int | None] = (None, None)
    if cow_codes is not None:
        parts = [p.strip() for p in cow_codes.split(",")]
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ForecastError(f"--cow-codes {cow_codes!r}: give the two sides' COW state codes as 'A,B', "
                                f"e.g. '710,740'")
        codes = (int(parts[0]), int(parts[1]))
    done = []

    def fill(root: Path) -> None:
        write_skeleton(root, names, first_year, codes)
        for lens in prefill_lenses:
            done.append(prefill(root, load_config(root), lens))

    return init_workspace(dest, fill), done
