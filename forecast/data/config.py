"""The workspace's ``workspace.toml``: which dyad it forecasts.

It names the dyad, its two sides (display names, the ids used in the ``side`` column
of ``data/indicators_meta.csv``, optional COW state codes), the territorial claim if
any, the first year of coded outcomes and of data used, the question labels and
optional display texts per lens. Every output (show, brief, plots, JSON) takes the
names from here; the code holds none. Unknown tables or keys are errors that name
the file and the key, as for priors.
"""

from __future__ import annotations

import datetime as _dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from forecast import LENSES
from forecast.defaults import MIN_YEAR
from forecast.errors import Problem, ValidationError

CONFIG_FILE = "workspace.toml"
PLACEHOLDER_YEAR = 0   # written by 'forecast init --blank' without --first-year: the user must set it
_ID = re.compile(r"^[a-z][a-z0-9_]*$")

TABLES = {
    "dyad": {"name": True, "first_year": True},
    "side_a": {"id": True, "name": True, "cow_code": False},
    "side_b": {"id": True, "name": True, "cow_code": False},
    "claim": {"name": True, "icow_claim": False},
    "questions": {"improve": False, "settlement": False},
}
OPTIONAL_TABLES = ("claim", "questions", "lenses")
LENS_KEYS = ("title", "plain")


@dataclass(frozen=True)
class Side:
    id: str          # the value of the 'side' column in data/indicators_meta.csv
    name: str        # display name
    cow_code: int | None = None   # Correlates of War state code (for --prefill power)


@dataclass(frozen=True)
class Claim:
    name: str
    icow_claim: int | None = None  # ICOW claim number


@dataclass(frozen=True)
class LensText:
    title: str   # figure panel title
    plain: str   # the lens as the subject of a sentence in the brief


@dataclass(frozen=True)
class WorkspaceConfig:
    name: str
    first_year: int
    side_a: Side
    side_b: Side
    claim: Claim | None = None
    improve_question: str = ""
    settlement_question: str = ""
    lens_texts: tuple[tuple[str, LensText], ...] = field(default_factory=tuple)  # every lens, in LENSES order

    @property
    def sides(self) -> tuple[Side, Side]:
        return (self.side_a, self.side_b)

    @property
    def side_ids(self) -> tuple[str, str]:
        return (self.side_a.id, self.side_b.id)

    def lens_text(self, lens: str) -> LensText:
        return dict(self.lens_texts)[lens]

    def to_dict(self) -> dict:
        """The ``dyad`` block of the JSON report (also stored with every fit)."""
        return {
            "name": self.name, "first_year": self.first_year,
            "side_a": {"id": self.side_a.id, "name": self.side_a.name, "cow_code": self.side_a.cow_code},
            "side_b": {"id": self.side_b.id, "name": self.side_b.name, "cow_code": self.side_b.cow_code},
            "claim": None if self.claim is None else {"name": self.claim.name, "icow_claim": self.claim.icow_claim},
            "questions": {"improve": self.improve_question, "settlement": self.settlement_question},
            "lenses": {lens: {"title": self.lens_text(lens).title, "plain": self.lens_text(lens).plain}
                       for lens in LENSES},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "WorkspaceConfig":
        """Inverse of ``to_dict`` (the block stored with a fit)."""
        claim = d.get("claim")
        return cls(
            name=d["name"], first_year=int(d["first_year"]),
            side_a=Side(**d["side_a"]), side_b=Side(**d["side_b"]),
            claim=None if claim is None else Claim(**claim),
            improve_question=d["questions"]["improve"], settlement_question=d["questions"]["settlement"],
            lens_texts=tuple((k, LensText(**v)) for k, v in d.get("lenses", {}).items()))


def default_lens_text(lens: str, a: str, b: str) -> LensText:
    """Display texts for a lens the workspace does not describe."""
    return {
        "power": LensText("Power shift", "The power shift"),
        "trust": LensText("Trust and interaction", f"Trust and interaction between {a} and {b}"),
        "leaders": LensText("Leaders' domestic strength (two-level games)",
                            "Leaders' domestic strength on both sides"),
    }[lens]


_MISSING = object()


def _present(raw: dict, table: str, key: str, problems: list[Problem], required: bool):
    """``raw[key]``, or ``_MISSING`` (with a problem when the key is required)."""
    v = raw.get(key)
    if v is None:
        if required:
            problems.append(Problem(CONFIG_FILE, f"missing key '{key}' in [{table}]", field=f"{table}.{key}"))
        return _MISSING
    return v


def _text(raw: dict, table: str, key: str, problems: list[Problem], required: bool) -> str | None:
    v = _present(raw, table, key, problems, required)
    if v is _MISSING:
        return None
    if not isinstance(v, str) or not v.strip():
        problems.append(Problem(CONFIG_FILE, f"'{table}.{key}' must be a non-empty string, got {v!r}",
                                field=f"{table}.{key}"))
        return None
    return v.strip()


def _int(raw: dict, table: str, key: str, problems: list[Problem], required: bool) -> int | None:
    v = _present(raw, table, key, problems, required)
    if v is _MISSING:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0 and key != "first_year":
        problems.append(Problem(CONFIG_FILE, f"'{table}.{key}' must be a positive whole number, got {v!r}",
                                field=f"{table}.{key}"))
        return None
    return v


def _unknown_keys(raw: dict, table: str, allowed, problems: list[Problem]) -> None:
    from forecast.data.loaders import suggest

    for key in raw:
        if key not in allowed:
            problems.append(Problem(CONFIG_FILE, f"unknown key '{key}' in [{table}]", field=f"{table}.{key}",
                                    hint=suggest(key, allowed) or f"known keys: {', '.join(allowed)}"))


def parse_config(raw: dict, problems: list[Problem]) -> WorkspaceConfig | None:
    """Validate a parsed ``workspace.toml``. Problems go into ``problems``. Returns the config
    whenever its structure is usable (names and side ids), even if ``first_year`` is wrong (then
    a problem is reported and ``first_year`` is PLACEHOLDER_YEAR), so that ``data check`` can go
    on and check the data against the side ids; None when the sides cannot be known."""
    from forecast.data.loaders import suggest

    known = (*TABLES, "lenses")
    for key, value in raw.items():
        if key not in known:
            problems.append(Problem(CONFIG_FILE, f"unknown table or key '{key}'", field=key,
                                    hint=suggest(key, known) or f"known tables: {', '.join(f'[{t}]' for t in known)}"))
        elif not isinstance(value, dict):
            problems.append(Problem(CONFIG_FILE, f"'{key}' must be a table ([{key}])", field=key))
    tables = {t: raw.get(t) if isinstance(raw.get(t), dict) else None for t in known}
    for t in ("dyad", "side_a", "side_b"):
        if tables[t] is None and t not in raw:
            problems.append(Problem(CONFIG_FILE, f"missing table [{t}]", field=t,
                                    hint="see the README, 'A workspace for another dyad'"))
    for t, keys in TABLES.items():
        if tables[t] is not None:
            _unknown_keys(tables[t], t, keys, problems)
    dyad = tables["dyad"] or {}
    name = _text(dyad, "dyad", "name", problems, tables["dyad"] is not None)
    sides = []
    for t in ("side_a", "side_b"):
        s = tables[t] or {}
        sid = _text(s, t, "id", problems, tables[t] is not None)
        if sid is not None and not _ID.match(sid):
            problems.append(Problem(CONFIG_FILE, f"'{t}.id' must be lower_snake_case (a-z, 0-9, _), got {sid!r}",
                                    field=f"{t}.id", hint="it is the value of the 'side' column in "
                                                          "data/indicators_meta.csv"))
            sid = None
        sname = _text(s, t, "name", problems, tables[t] is not None)
        code = _int(s, t, "cow_code", problems, False)
        sides.append(None if None in (sid, sname) else Side(sid, sname, code))
    if None not in sides and sides[0].id == sides[1].id:
        problems.append(Problem(CONFIG_FILE, f"side_a and side_b have the same id '{sides[0].id}'",
                                field="side_b.id", hint="give each side its own id"))
        sides[1] = None
    claim = None
    if tables["claim"] is not None:
        cname = _text(tables["claim"], "claim", "name", problems, True)
        code = _int(tables["claim"], "claim", "icow_claim", problems, False)
        claim = Claim(cname, code) if cname else None
    q = tables["questions"] or {}
    improve = _text(q, "questions", "improve", problems, False)
    settle = _text(q, "questions", "settlement", problems, False)
    given: dict[str, dict] = {}
    for lens, value in (tables["lenses"] or {}).items():
        f = f"lenses.{lens}"
        if lens not in LENSES:
            problems.append(Problem(CONFIG_FILE, f"unknown lens '{lens}' in [lenses]", field=f,
                                    hint=suggest(lens, LENSES) or f"lenses: {', '.join(LENSES)}"))
            continue
        if not isinstance(value, dict):
            problems.append(Problem(CONFIG_FILE, f"'{f}' must be a table ([{f}])", field=f))
            continue
        _unknown_keys(value, f, LENS_KEYS, problems)
        given[lens] = {k: _text(value, f, k, problems, False) for k in LENS_KEYS}
    if name is None or None in sides:
        return None
    lens_texts = []
    for lens in LENSES:
        default, g = default_lens_text(lens, sides[0].name, sides[1].name), given.get(lens, {})
        lens_texts.append((lens, LensText(g.get("title") or default.title, g.get("plain") or default.plain)))
    first = first_year_of(dyad, problems)
    return WorkspaceConfig(
        name=name, first_year=first, side_a=sides[0], side_b=sides[1], claim=claim,
        improve_question=improve or f"Will {name} relations improve next year?",
        settlement_question=settle or (f"Will the {claim.name} dispute be settled?" if claim
                                       else "Will the territorial dispute be settled?"),
        lens_texts=tuple(lens_texts))


def first_year_of(dyad: dict, problems: list[Problem]) -> int:
    """``[dyad] first_year``, or PLACEHOLDER_YEAR with a problem explaining what to write."""
    first = _int(dyad, "dyad", "first_year", problems, True)
    this_year = _dt.date.today().year
    if first is None:
        return PLACEHOLDER_YEAR
    if first == PLACEHOLDER_YEAR:
        problems.append(Problem(CONFIG_FILE, "first_year is still the placeholder 0", field="dyad.first_year",
                                hint="set it to the first year you code in data/outcomes.csv"))
        return PLACEHOLDER_YEAR
    if not MIN_YEAR <= first <= this_year:
        problems.append(Problem(CONFIG_FILE, f"first_year {first} is outside {MIN_YEAR}-{this_year}",
                                field="dyad.first_year"))
        return PLACEHOLDER_YEAR
    return first


def read_config(root: Path, problems: list[Problem]) -> WorkspaceConfig | None:
    """Read ``root/workspace.toml``, adding every problem to ``problems`` (see ``parse_config``)."""
    path = Path(root) / CONFIG_FILE
    if not path.is_file():
        problems.append(Problem(CONFIG_FILE, f"file not found at {path}",
                                hint="every workspace names its dyad in workspace.toml: copy it from "
                                     "'forecast init' or see the README, 'A workspace for another dyad'"))
        return None
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        problems.append(Problem(CONFIG_FILE, f"not valid UTF-8 text ({exc.reason} at byte {exc.start})"))
        return None
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(CONFIG_FILE, f"not valid TOML: {exc}"))
        return None
    return parse_config(raw, problems)


def load_config(root: Path) -> WorkspaceConfig:
    """The workspace's config; ValidationError listing every problem of workspace.toml."""
    problems: list[Problem] = []
    config = read_config(root, problems)
    if problems or config is None:
        raise ValidationError(problems)
    return config
