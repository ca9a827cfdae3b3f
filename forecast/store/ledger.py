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
from dataclasses import dataclass
from pathlib import Path

from forecast.data.events import Event
from forecast.errors import ForecastError
from forecast.workspace import Workspace, atomic_write

LEDGER_FILE = "ledger.jsonl"
EMPTY_HEAD = "0" * 16


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


def head_at(data: bytes, n_records: int) -> str:
    """The ledger head after its first ``n_records`` records (blank lines are not records)."""
    lines = [ln for ln in data.splitlines(keepends=True) if ln.strip()]
    return head_of(b"".join(lines[:n_records]))


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


def last_batch(data: bytes) -> Batch | None:
    """The latest update in force (records sharing its ``update`` number), or None if none is."""
    records = parse(data)
    act = active(records)
    if not act:
        return None
    last = act[-1].get("update")
    batch = [r for r in act if r.get("update") == last] if last is not None else [act[-1]]
    start = next(i for i, r in enumerate(records) if r is batch[0])
    return Batch(records=batch, start=start, head_before=head_at(data, start))


def encode(records: list[dict]) -> bytes:
    return b"".join((json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n").encode() for r in records)


def append(ws: Workspace, new_records: list[dict], old: bytes) -> str:
    """Atomically write ``old`` + new records; returns the new head."""
    data = old + encode(new_records)
    atomic_write(ledger_path(ws), lambda tmp: tmp.write_bytes(data))
    return head_of(data)
