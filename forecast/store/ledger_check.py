"""Checking ``ledger.jsonl`` as it is read: every line a record the tool could have written.

A line is valid UTF-8 JSON text ending in a newline, and holds an object with the known keys
of its op (``add`` or ``undo``) and values of the right types: no NaN, no nesting beyond
what a record holds. An add's ``id`` is recomputed from its event (``Event.id``), so a
record edited with its id kept is caught; its indicator or event kind must be known to the
workspace's data (when that can be read). Across lines: an id is not added again while it
is in force, an undo undoes an add in force, and update numbers never decrease, so a
duplicated line and reordered lines are caught. Every problem names the file, the line and
the field, and says how to fix it. numpy- and pandas-free (``forecast show`` reads the ledger).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from forecast import defaults
from forecast.data.csvtext import date_text, split_records
from forecast.data.events import Event
from forecast.errors import Problem, ValidationError

LEDGER_FILE = "ledger.jsonl"
OPS = ("add", "undo")
KEYS = {"add": ("op", "id", "update", "event", "applied_utc", "path", "after"),
        "undo": ("op", "id", "update", "applied_utc", "after")}
EVENT_KEYS = ("type", "date", "name", "source", "note", "value")
EVENT_REQUIRED = ("type", "date", "name", "source")
EVENT_TYPES = ("indicator", "event")
PATHS = ("psis", "refit", "event_shift", "unchanged")
HEADLINE_STATS = ("mean", "lo80", "hi80")
ID_RE = re.compile(r"[0-9a-f]{16}")

RESTORE = "restore the line as 'forecast update' or 'forecast undo' wrote it, or delete it and run 'forecast fit'"


class LedgerError(ValidationError):
    """``ledger.jsonl`` holds a line that is not a valid ledger record, or records out of order."""

    @classmethod
    def single(cls, message: str, line: int | None = None, field: str | None = None, hint: str | None = None,
               name: str = LEDGER_FILE) -> "LedgerError":
        return cls([problem(name, line, message, field, hint)])


def problem(name: str, line: int | None, message: str, field: str | None = None, hint: str | None = RESTORE) -> Problem:
    return Problem(name if line is None else f"{name}, line {line}", message, field=field, hint=hint)


def known_names(data_dir: Path) -> tuple[set[str], set[str]] | None:
    """(indicator names, event kinds) of the workspace's catalogues, or None when either cannot be
    read cleanly (then 'forecast data check' reports the catalogue, and names are not checked)."""
    out = []
    for file, column in (("indicators_meta.csv", "indicator"), ("event_kinds.csv", "kind")):
        path = data_dir / file
        try:
            if not path.is_file() or path.stat().st_size > defaults.MAX_CSV_BYTES:
                return None
            text = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return None
        parts = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
        parts = [p if i == 0 or not p.lstrip().startswith("#") else "" for i, p in enumerate(parts)]
        problems: list[Problem] = []
        rows = [fields for _, fields in split_records(parts, file, problems)]
        header = [c.strip() for c in rows[0]] if rows else []
        if problems or column not in header:
            return None
        k = header.index(column)
        out.append({r[k].strip() for r in rows[1:] if len(r) == len(header) and r[k].strip()})
    return out[0], out[1]


def is_number(v) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def kind_of(v) -> str:
    if v is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(v), type(v).__name__)


def shown(v) -> str:
    text = json.dumps(v, ensure_ascii=False) if not isinstance(v, (list, dict)) else kind_of(v)
    return text if len(text) <= 40 else text[:37] + "..."


def check_event(ev, line: int, name: str, names, out: list[Problem]) -> None:
    if not isinstance(ev, dict):
        out.append(problem(name, line, f"expected an object, found {kind_of(ev)}", "event"))
        return
    n = len(out)
    for k in ev:
        if k not in EVENT_KEYS:
            out.append(problem(name, line, f"unknown key '{k}' (known: {', '.join(EVENT_KEYS)})", f"event.{k}"))
    for k in EVENT_REQUIRED:
        if k not in ev:
            out.append(problem(name, line, "missing", f"event.{k}"))
        elif not isinstance(ev[k], str) or not ev[k]:
            out.append(problem(name, line, f"expected a non-empty string, found {shown(ev[k])}", f"event.{k}"))
    if isinstance(ev.get("note", ""), str) is False:
        out.append(problem(name, line, f"expected a string, found {shown(ev['note'])}", "event.note"))
    if len(out) > n:
        return
    if ev["type"] not in EVENT_TYPES:
        out.append(problem(name, line, f"unknown type {shown(ev['type'])} (known: indicator, event)", "event.type"))
        return
    if date_text(ev["date"]) != ev["date"]:
        out.append(problem(name, line, f"{shown(ev['date'])} is not a date as YYYY, YYYY-MM or YYYY-MM-DD",
                           "event.date"))
    value = ev.get("value")
    if ev["type"] == "indicator" and not is_number(value):
        out.append(problem(name, line, f"expected a finite number, found {shown(value)}", "event.value"))
    if ev["type"] == "event" and value is not None:
        out.append(problem(name, line, f"a coded event takes no value, found {shown(value)}", "event.value"))
    if names is not None:
        known = names[0] if ev["type"] == "indicator" else names[1]
        what, where = (("indicator", "data/indicators_meta.csv") if ev["type"] == "indicator"
                       else ("event kind", "data/event_kinds.csv"))
        if ev["name"] not in known:
            out.append(problem(name, line, f"unknown {what} {shown(ev['name'])}", "event.name",
                               hint=f"add it back to {where}, or delete the line and run 'forecast fit'"))


def check_after(after, line: int, name: str, out: list[Problem]) -> None:
    if not isinstance(after, dict):
        out.append(problem(name, line, f"expected an object, found {kind_of(after)}", "after"))
        return
    for key, stats in after.items():
        if not isinstance(stats, dict) or set(stats) != set(HEADLINE_STATS):
            out.append(problem(name, line, f"expected an object with {', '.join(HEADLINE_STATS)}, found "
                               f"{shown(stats) if not isinstance(stats, dict) else sorted(stats)}", f"after.{key}"))
            continue
        for s, v in stats.items():
            if not is_number(v) or not 0.0 <= v <= 1.0:
                out.append(problem(name, line, f"expected a probability, found {shown(v)}", f"after.{key}.{s}"))


def check_record(rec, line: int, name: str, names, out: list[Problem]) -> None:
    """Append to ``out`` every problem with one parsed line."""
    if not isinstance(rec, dict):
        out.append(problem(name, line, f"expected a JSON object (a ledger record), found {kind_of(rec)}"))
        return
    op = rec.get("op")
    if op not in OPS:
        out.append(problem(name, line, f"expected 'add' or 'undo', found {shown(op) if 'op' in rec else 'none'}",
                           "op"))
        return
    n = len(out)
    for k in rec:
        if k not in KEYS[op]:
            out.append(problem(name, line, f"unknown key for an {op} record (known: {', '.join(KEYS[op])})", k))
    for k in KEYS[op]:
        if k not in rec:
            out.append(problem(name, line, "missing", k))
    if len(out) > n:
        return
    if not isinstance(rec["id"], str) or not ID_RE.fullmatch(rec["id"]):
        out.append(problem(name, line, f"expected 16 hexadecimal digits, found {shown(rec['id'])}", "id"))
    if isinstance(rec["update"], bool) or not isinstance(rec["update"], int) or rec["update"] < 1:
        out.append(problem(name, line, f"expected a whole number from 1, found {shown(rec['update'])}", "update"))
    stamp = rec["applied_utc"]
    if not isinstance(stamp, str) or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\+00:00|Z)?", stamp):
        out.append(problem(name, line, f"expected a UTC time as YYYY-MM-DDTHH:MM:SS+00:00, found {shown(stamp)}",
                           "applied_utc"))
    check_after(rec["after"], line, name, out)
    if op == "add":
        if rec["path"] not in PATHS:
            out.append(problem(name, line, f"expected one of {', '.join(PATHS)}, found {shown(rec['path'])}", "path"))
        m = len(out)
        check_event(rec["event"], line, name, names, out)
        recomputed = Event.from_dict(rec["event"]).id if len(out) == m else rec["id"]
        if recomputed != rec["id"]:
            out.append(problem(name, line, f"the id {shown(rec['id'])} is not the hash of this record's event "
                               f"({recomputed}): the record was edited after it was written",
                               "id", hint="restore the record as it was, or delete the line, run 'forecast fit' "
                                          "and record the event again with 'forecast update'"))


def check_order(records: list[dict], lines: list[int], name: str, out: list[Problem]) -> None:
    """Ids added at most once while in force, undos of adds in force, update numbers in order. One pass."""
    live: dict[str, int] = {}   # id -> line of its add in force
    last_update, last_line = 0, 0
    for rec, line in zip(records, lines):
        if rec["update"] < last_update:
            out.append(problem(name, line, f"update {rec['update']} comes after update {last_update} (line "
                               f"{last_line}): lines were reordered", "update",
                               hint="restore the lines' order: the ledger is append-only"))
        last_update, last_line = max(last_update, rec["update"]), line
        i = rec["id"]
        if rec["op"] == "add":
            if i in live:
                out.append(problem(name, line, f"id {i} is already in force (added on line {live[i]}): a duplicated "
                                   f"record", "id", hint="delete the duplicated line, then run 'forecast fit'"))
            live[i] = line
        elif live.pop(i, None) is None:
            out.append(problem(name, line, f"undo of {i}, which is not in force here (an undo before its add, "
                               f"or twice?)", "id", hint="restore the lines' order: an undo follows the add it undoes"))


def check_lines(data: bytes, name: str = LEDGER_FILE, names=None) -> list[dict]:
    """The records of the ledger's bytes, each checked; raises LedgerError listing every problem."""
    out: list[Problem] = []
    records, lines = [], []
    raw = data.split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    elif raw and data:
        out.append(problem(name, len(raw), "the last line does not end with a newline", hint="add one at its end"))
    for i, b in enumerate(raw, start=1):
        if not b.strip():
            out.append(problem(name, i, "blank line", hint="delete it: every line is a record"))
            continue
        try:
            text = b.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.append(problem(name, i, f"not valid UTF-8 text ({exc.reason} at byte {exc.start} of the line)"))
            continue
        try:
            rec = json.loads(text)
        except RecursionError:
            out.append(problem(name, i, "nested far deeper than a ledger record"))
            continue
        except ValueError as exc:   # JSONDecodeError, or an integer too long to read
            out.append(problem(name, i, f"not valid JSON ({str(exc).split(':')[0]})"))
            continue
        n = len(out)
        check_record(rec, i, name, names, out)
        if len(out) == n:
            records.append(rec)
            lines.append(i)
    if not out:
        check_order(records, lines, name, out)
    if out:
        raise LedgerError(out)
    return records
