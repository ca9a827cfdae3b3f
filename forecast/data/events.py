"""A happening recorded by ``forecast update``: an indicator reading or a coded event.

The ledger (``store/ledger.py``) stores events; the model's inputs are built from them
(``model/evidence.py``). An event's id is a hash of its canonical content, so re-applying
the same event is recognised. Events from the command line or a batch file are made by
``event_from_input``, which puts every field in its canonical form (see ``csvtext``) or
refuses it: ' 2026-05' and '2026-05' are one event, '2026-05\\n' and '２０２６-05' are errors.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from forecast.data.csvtext import canonical_date, clean_text
from forecast.errors import Problem


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


def event_from_input(type: str, date: str, name: str, source: str, note: str = "", value: float | None = None,
                     *, file: str = "command line", row: int | None = None, fields: dict[str, str] | None = None,
                     problems: list[Problem]) -> Event | None:
    """An Event with every field in its canonical form, or None with the problems listed.

    ``fields`` maps date, name, source and note to the names used in messages (the CLI's
    options or the batch's columns). The date's range is checked later, against the data."""
    f = {"date": "date", "name": "kind" if type == "event" else "indicator", "source": "source", "note": "note",
         **(fields or {})}
    n = len(problems)
    d = canonical_date(date, file, row, f["date"], problems)
    nm = clean_text(name, file, row, f["name"], problems)
    src = clean_text(source, file, row, f["source"], problems)
    nt = clean_text(note, file, row, f["note"], problems, multiline=True)
    if len(problems) > n:
        return None
    return Event(type=type, date=d, name=nm, source=src, note=nt, value=value)
