"""The append-only update ledger (``ledger.jsonl`` in the workspace).

One JSON object per line, human-readable. Records:
* ``{"op": "add", "id": ..., "update": n, "event": {...}, "applied_utc": ..., "path": ..., "after": {...}}``
* ``{"op": "undo", "id": <id of the undone add>, "update": n, "applied_utc": ..., "after": {...}}``

An event's id is a hash of its canonical content, so re-applying the same event
is recognised. The ledger head is the hash of the ledger's bytes; it is the one name
of a ledger state (posterior and forecast files record the head they reflect, and
every command that names a state names its head). Writes rewrite the whole file
atomically (old bytes + new lines), so a crash never leaves a torn line.

Reading checks every record (``ledger_check``): a JSON object of known keys and types,
an add's id recomputed from its event, event names known to the workspace, and the
order (no id added twice while in force, no undo of an add not in force). Anything else
is a ``LedgerError`` naming the line and the field. Finding the records in force is
linear in the ledger's length.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from forecast.data.events import Event
from forecast.errors import ForecastError
from forecast.store.ledger_check import LEDGER_FILE, LedgerError, check_lines, known_names
from forecast.workspace import Workspace, atomic_write

__all__ = ["LEDGER_FILE", "EMPTY_HEAD", "Event", "LedgerError", "Batch", "ledger_path", "read_bytes", "head_of",
           "parse", "load", "read", "active", "active_events", "head_at", "heads", "update_ends", "last_batch",
           "encode", "append"]

EMPTY_HEAD = "0" * 16   # the head of an empty (or missing) ledger


def ledger_path(ws: Workspace) -> Path:
    return ws.root / LEDGER_FILE


def read_bytes(ws: Workspace) -> bytes:
    """The ledger's bytes (b"" when there is none); a folder or an unreadable file is a LedgerError."""
    p = ledger_path(ws)
    if not p.exists() and not p.is_symlink():
        return b""
    if not p.is_file():
        raise LedgerError.single(f"{LEDGER_FILE} is not a regular file (a folder?)",
                                 hint=f"move {p} away: the ledger is a file; without one, no update is recorded")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise ForecastError(f"{LEDGER_FILE} cannot be read ({exc.strerror or exc}); check its permissions") from None


def head_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16] if data else EMPTY_HEAD


def parse(data: bytes, name: str = LEDGER_FILE, names: tuple[set[str], set[str]] | None = None) -> list[dict]:
    """The ledger's records, each checked (see ``ledger_check``); raises LedgerError.
    ``names``: the known (indicators, event kinds); None: names are not checked."""
    return check_lines(data, name, names)


def load(ws: Workspace) -> tuple[bytes, list[dict]]:
    """The ledger's bytes and its checked records (event names against the workspace's data)."""
    data = read_bytes(ws)
    return data, parse(data, names=known_names(ws.data_dir))


def read(ws: Workspace) -> tuple[list[dict], str]:
    """The checked records (event names against the workspace's data) and the ledger head."""
    data, records = load(ws)
    return records, head_of(data)


def active(records: list[dict]) -> list[dict]:
    """The add records still in force, in ledger order (an undo removes the add of its id in force).
    One pass: the records in force are kept in an insertion-ordered dict keyed by id."""
    live: dict[str, dict] = {}
    for rec in records:
        if rec["op"] == "add":
            live.pop(rec["id"], None)
            live[rec["id"]] = rec
        else:
            live.pop(rec["id"], None)
    return list(live.values())


def active_events(records: list[dict]) -> list[Event]:
    return [Event.from_dict(r["event"]) for r in active(records)]


def record_lines(data: bytes) -> list[bytes]:
    """The ledger's lines that hold records (each with its newline)."""
    return [ln for ln in data.splitlines(keepends=True) if ln.strip()]


def head_at(data: bytes, n_records: int) -> str:
    """The ledger head after its first ``n_records`` records (blank lines are not records)."""
    return head_of(b"".join(record_lines(data)[:n_records]))


def heads(data: bytes) -> list[str]:
    """The ledger head after each record, in order (one pass): ``heads(data)[i] == head_at(data, i + 1)``."""
    h, out = hashlib.sha256(), []
    for ln in record_lines(data):
        h.update(ln)
        out.append(h.hexdigest()[:16])
    return out


def update_ends(records: list[dict]) -> list[int]:
    """For each record, the 1-based position of the last record of its update (the consecutive records
    one 'forecast update' or 'forecast undo' wrote, sharing its ``update`` number): the only record
    whose ledger head has a forecast computed for it, and whose ``after`` is that forecast's."""
    ends = list(range(1, len(records) + 1))
    for i in range(len(records) - 2, -1, -1):
        a, b = records[i], records[i + 1]
        if a.get("update") is not None and a.get("update") == b.get("update") and a["op"] == b["op"]:
            ends[i] = ends[i + 1]
    return ends


@dataclass(frozen=True)
class Batch:
    """The latest update still in force: its add records (one ``forecast update`` call, which may
    add several events), where it starts in the ledger and the ledger head before it."""

    records: list[dict]
    start: int            # index in the ledger of its first record
    head_before: str      # the ledger head it was applied to

    @property
    def events(self) -> list[Event]:
        return [Event.from_dict(r["event"]) for r in self.records]

    @property
    def applied_utc(self) -> str:
        return str(self.records[0].get("applied_utc", ""))


def last_batch(data: bytes, records: list[dict] | None = None) -> Batch | None:
    """The latest update in force (records sharing its ``update`` number), or None if none is.
    ``records``: ``parse(data)`` when the caller has it already."""
    records = parse(data) if records is None else records
    act = active(records)
    if not act:
        return None
    last = act[-1].get("update")
    batch = [r for r in act if r.get("update") == last] if last is not None else [act[-1]]
    first = id(batch[0])
    start = next(i for i, r in enumerate(records) if id(r) == first)
    return Batch(records=batch, start=start, head_before=head_at(data, start))


def encode(records: list[dict]) -> bytes:
    return b"".join((json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n").encode() for r in records)


def append(ws: Workspace, new_records: list[dict], old: bytes) -> str:
    """Atomically write ``old`` + new records; returns the new head."""
    data = old + encode(new_records)
    atomic_write(ledger_path(ws), lambda tmp: tmp.write_bytes(data))
    return head_of(data)
