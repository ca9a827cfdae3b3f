"""Reading a batch of updates from CSV (BOM and stray whitespace tolerated; unknown columns are errors)."""

from __future__ import annotations

from pathlib import Path

from forecast.data.csvtext import parse_float, read_text_csv
from forecast.data.events import Event, event_from_input
from forecast.errors import Problem, ValidationError

REQUIRED = ("date", "source")
OPTIONAL = ("indicator", "kind", "value", "note")


def read_batch(path: str) -> tuple[list[Event], list[int]]:
    problems: list[Problem] = []
    p = Path(path)
    df = read_text_csv(p, REQUIRED, problems, optional=OPTIONAL)
    if df is None:
        raise ValidationError(problems)
    events, rows = [], []
    for r in df.to_dict("records"):
        line = r["_line"]
        ind, kind = r.get("indicator", ""), r.get("kind", "")
        if bool(ind) == bool(kind):
            problems.append(Problem(p.name, "give exactly one of indicator or kind", line, "indicator"))
            continue
        value = None
        if ind:
            value = parse_float(r.get("value", ""), p.name, line, "value", problems)
            if value is None:
                continue
        elif r.get("value", ""):
            problems.append(Problem(p.name, "a coded event takes no value", line, "value"))
            continue
        event = event_from_input("indicator" if ind else "event", r["date"], ind or kind, r["source"],
                                 r.get("note", ""), value, file=p.name, row=line, problems=problems)
        if event is not None:
            events.append(event)
            rows.append(line)
    if problems:
        raise ValidationError(problems)
    if not events:
        raise ValidationError([Problem(p.name, "no rows to apply")])
    return events, rows
