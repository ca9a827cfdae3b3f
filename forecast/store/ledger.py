"""The append-only update ledger (``ledger.jsonl`` in the workspace).

One JSON object per line, human-readable. Records:
* ``{"op": "add", "id": ..., "event": {...}, "applied_utc": ..., "path": ..., "after": {...}}``
* ``{"op": "undo", "id": <id of the undone add>, "applied_utc": ..., "after": {...}}``

An event's id is a hash of its canonical content, so re-applying the same event
is recognised. The ledger head is the hash of the ledger's bytes; posterior and
forecast files record the head they reflect. Writes rewrite the whole file
atomically (old bytes + new lines), so a crash never leaves a torn line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from forecast.errors import ForecastError
from forecast.workspace import Workspace, atomic_write

LEDGER_FILE = "ledger.jsonl"
EMPTY_HEAD = "0" * 16


@dataclass(frozen=True)
class Event:
    """One happening: an indicator reading or a coded event."""

    type: str            # "indicator" or "event"
    date: str            # YYYY, YYYY-MM or YYYY-MM-DD
    name: str            # indicator name or event kind
    source: str
    note: str = ""
    value: float | None = None

    @property
    def year(self) -> int:
        return int(self.date[:4])

    def canonical(self) -> str:
        d = asdict(self)
        if d["value"] is not None:
            d["value"] = float(repr(float(d["value"])))
        return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @property
    def id(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()[:16]

    def label(self) -> str:
        if self.type == "indicator":
            return f"{self.name} = {self.value:g} ({self.date})"
        return f"{self.name} ({self.date})"

    @classmethod
    def from_dict(cls, d: dict) -> "Event":
        return cls(type=d["type"], date=d["date"], name=d["name"], source=d["source"],
                   note=d.get("note", ""), value=d.get("value"))


def ledger_path(ws: Workspace) -> Path:
    return ws.root / LEDGER_FILE


def read_bytes(ws: Workspace) -> bytes:
    p = ledger_path(ws)
    return p.read_bytes() if p.is_file() else b""


def head_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16] if data else EMPTY_HEAD


def parse(data: bytes, name: str = LEDGER_FILE) -> list[dict]:
    records = []
    for i, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if rec.get("op") not in ("add", "undo") or "id" not in rec:
                raise ValueError("needs 'op' (add or undo) and 'id'")
            if rec["op"] == "add":
                Event.from_dict(rec["event"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ForecastError(f"{name}, line {i}: not a valid ledger record ({exc}); "
                                f"the ledger is append-only: restore the line or remove it") from None
        records.append(rec)
    return records


def read(ws: Workspace) -> tuple[list[dict], str]:
    data = read_bytes(ws)
    return parse(data), head_of(data)


def active(records: list[dict]) -> list[dict]:
    """The add records still in force, in order (undo removes the latest matching add)."""
    out: list[dict] = []
    for rec in records:
        if rec["op"] == "add":
            out.append(rec)
        else:
            for j in range(len(out) - 1, -1, -1):
                if out[j]["id"] == rec["id"]:
                    del out[j]
                    break
    return out


def active_events(records: list[dict]) -> list[Event]:
    return [Event.from_dict(r["event"]) for r in active(records)]


def encode(records: list[dict]) -> bytes:
    return b"".join((json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n").encode() for r in records)


def append(ws: Workspace, new_records: list[dict], old: bytes) -> str:
    """Atomically write ``old`` + new records; returns the new head."""
    data = old + encode(new_records)
    atomic_write(ledger_path(ws), lambda tmp: tmp.write_bytes(data))
    return head_of(data)
