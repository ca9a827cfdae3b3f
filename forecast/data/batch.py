"""Reading a batch of updates from CSV (BOM and stray whitespace tolerated; unknown columns are errors).

The header is ``BATCH_HEADER``; each row is either a reading (``indicator`` and ``value`` filled,
``kind`` empty) or a coded event (``kind`` filled, ``indicator`` and ``value`` empty), as in
``BATCH_EXAMPLE``. Columns a batch does not use may be left out of the header (a batch of events
only needs no ``indicator`` or ``value`` column); ``date`` and ``source`` are always needed.
"""

from __future__ import annotations

from pathlib import Path

from forecast.data.csvtext import parse_float, read_text_csv
from forecast.data.events import Event, event_from_input
from forecast.errors import Problem, ValidationError

REQUIRED = ("date", "source")
OPTIONAL = ("indicator", "kind", "value", "note")
BATCH_HEADER = "date,indicator,kind,value,source,note"
BATCH_EXAMPLE = (f"{BATCH_HEADER}\n"
                 "2025-04,summits_per_year,,1,foreign ministry,\n"
                 "2025-09-03,,summit_held,,foreign ministry,leaders meet\n")
NEEDS = f"a batch needs {BATCH_HEADER}"
EXAMPLE_HINT = ("a reading fills indicator and value, e.g. '2025-04,summits_per_year,,1,foreign ministry,'; "
                "an event fills kind, e.g. '2025-09-03,,summit_held,,foreign ministry,'")
NOT_FOUND_HINT = "check the path; a relative path is read from the current folder"


def header_problem(file: str, column: str | None, message: str) -> Problem:
    """A problem with the batch's header (line 1): ``message``, what a batch needs, and an example."""
    return Problem(file, f"{message}: {NEEDS}", row=1, field=column, hint=EXAMPLE_HINT)


def read_batch(path: str) -> tuple[list[Event], list[int]]:
    problems: list[Problem] = []
    p = Path(path)
    df = read_text_csv(p, REQUIRED, problems, optional=OPTIONAL, not_found_hint=NOT_FOUND_HINT)
    if df is None:
        raise ValidationError(problems)
    if "indicator" not in df.columns and "kind" not in df.columns:
        raise ValidationError([header_problem(p.name, None, "the header has neither an 'indicator' nor a 'kind' "
                                                            "column")])
    header: dict[str, Problem] = {}  # a column the rows need that the header lacks: one problem, on line 1
    events, rows = [], []
    for r in df.to_dict("records"):
        line = r["_line"]
        ind, kind = r.get("indicator", ""), r.get("kind", "")
        if bool(ind) == bool(kind):
            problems.append(Problem(p.name, "give exactly one of indicator or kind", line, "indicator",
                                    hint=EXAMPLE_HINT))
            continue
        value = None
        if ind:
            if "value" not in df.columns:
                header.setdefault("value", header_problem(p.name, "value", "the header has no 'value' column, "
                                                          "and a reading needs one"))
                continue
            value = parse_float(r.get("value", ""), p.name, line, "value", problems)
            if value is None:
                continue
        elif r.get("value", ""):
            if "indicator" not in df.columns:
                header.setdefault("indicator", header_problem(
                    p.name, "indicator", f"the header has no 'indicator' column, so '{kind}' (row {line}) "
                    f"is read as an event kind, which takes no value"))
            else:
                problems.append(Problem(p.name, "a coded event takes no value", line, "value",
                                        hint="leave value empty for an event; a reading names its indicator in "
                                             "the 'indicator' column"))
            continue
        event = event_from_input("indicator" if ind else "event", r["date"], ind or kind, r["source"],
                                 r.get("note", ""), value, file=p.name, row=line, problems=problems)
        if event is not None:
            events.append(event)
            rows.append(line)
    problems[:0] = header.values()
    if problems:
        raise ValidationError(problems)
    if not events:
        raise ValidationError([Problem(p.name, "no rows to apply")])
    return events, rows
