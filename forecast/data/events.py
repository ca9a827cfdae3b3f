"""A happening recorded by ``forecast update``: an indicator reading or a coded event.

The ledger (``store/ledger.py``) stores events; the model's inputs are built from them
(``model/evidence.py``). An event's id is a hash of its canonical content, so re-applying
the same event is recognised.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass


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
