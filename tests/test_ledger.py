"""ledger.jsonl checked when read (issue 13 item 3): every probe of the issue's table is refused by
'data check' and by every command that reads the ledger (exit 1, no traceback, a message naming
ledger.jsonl and the line, files unchanged); a ledger written by today's code verifies; finding the
records in force is one pass (item 5); every ledger state has one name, its ledger head (item 6)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from data_years import IN_FORECAST_YEAR, needs_forecast_year

from forecast.cli.main import main
from forecast.data.events import Event
from forecast.store import ledger as L

INDICATOR = "japan_cabinet_approval"
APPROVAL = ["--indicator", INDICATOR, "--value", "25", "--date", IN_FORECAST_YEAR, "--source", "test"]
AFTER = {"improve_next_year": {"mean": 0.2, "lo80": 0.1, "hi80": 0.3}}
STAMP = "2026-01-02T03:04:05+00:00"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def add(ev: Event, update: int = 1, **changes) -> dict:
    rec = {"op": "add", "id": ev.id, "update": update, "event": dict(ev.__dict__), "applied_utc": STAMP,
           "path": "psis", "after": AFTER}
    return {**rec, **changes}


def undo(event: Event, update: int) -> dict:
    return {"op": "undo", "id": event.id, "update": update, "applied_utc": STAMP, "after": AFTER}


def line(rec) -> bytes:
    return (json.dumps(rec, sort_keys=True, ensure_ascii=False) + "\n").encode()


READING = Event("indicator", "2026-05", INDICATOR, "NHK", "", 25.0)
OTHER = Event("indicator", "2026-06", INDICATOR, "NHK", "", 27.0)
UNKNOWN = Event("indicator", "2026-05", "no_such_indicator", "NHK", "", 25.0)
GOOD = line(add(READING))

# probe -> (ledger bytes, the line named, a word the message must hold)
PROBES = {
    "edited line, id kept": (GOOD + line(add(OTHER, 2, event={**add(OTHER)["event"], "source": "edited"})), 2,
                             "edited"),
    "duplicated id": (GOOD + GOOD, 2, "already in force"),
    "reordered lines": (line(undo(READING, 2)) + GOOD, 1, "not in force"),
    "unknown indicator": (GOOD + line(add(UNKNOWN, 2)), 2, "unknown indicator"),
    "[1,2,3]": (GOOD + b"[1,2,3]\n", 2, "JSON object"),
    "null": (GOOD + b"null\n", 2, "JSON object"),
    "non-UTF-8 bytes": (GOOD + b'{"op": "add", "note": "\xff\xfe"}\n', 2, "UTF-8"),
    "deep nesting": (GOOD + b"[" * 100_000 + b"]" * 100_000 + b"\n", 2, "nested"),
    "string value": (GOOD + line(add(OTHER, 2, event={**add(OTHER)["event"], "value": "27"})), 2, "event.value"),
    "NaN value": (GOOD + line(add(OTHER, 2)).replace(b"27.0", b"NaN"), 2, "event.value"),
    "blank line": (GOOD + b"\n" + line(add(OTHER, 2)), 2, "blank"),
    "no final newline": (GOOD[:-1], 1, "newline"),
    "unknown path": (GOOD + line(add(OTHER, 2, path="guess")), 2,
                     "expected one of psis, refit, event_shift, unchanged"),
}


def probe_message(r, probe: str, n: int, word: str) -> None:
    assert r.exit_code == 1, (probe, r.output)
    assert "Traceback" not in r.output, (probe, r.output)
    assert f"ledger.jsonl, line {n}" in r.output, (probe, r.output)
    assert word in r.output, (probe, r.output)


@pytest.mark.parametrize("probe", PROBES)
def test_data_check_refuses_each_ledger_probe(workspace, probe):
    data, n, word = PROBES[probe]
    (workspace.root / "ledger.jsonl").write_bytes(data)
    before = snapshot(workspace.root)
    r = run("data", "check", "-w", workspace.root)
    probe_message(r, probe, n, word)
    assert snapshot(workspace.root) == before


def test_data_check_accepts_a_valid_ledger(workspace):
    (workspace.root / "ledger.jsonl").write_bytes(GOOD + line(undo(READING, 2)) + line(add(READING, 3)))
    r = run("data", "check", "-w", workspace.root)
    assert r.exit_code == 0, r.output
    assert "1 ledger event(s) in force" in r.output


@pytest.mark.parametrize("probe", PROBES)
def test_every_ledger_reader_refuses_each_probe(fitted_workspace, probe):
    ws = fitted_workspace
    data, n, word = PROBES[probe]
    (ws.root / "ledger.jsonl").write_bytes(data)
    before = snapshot(ws.root)
    for cmd in (["show"], ["history"], ["update", *APPROVAL], ["undo"], ["brief", "--out", ws.root / "b.md"]):
        r = run(*cmd, "-w", ws.root)
        probe_message(r, f"{probe}: {cmd[0]}", n, word)
        assert snapshot(ws.root) == before, f"{probe}: {cmd[0]} changed the workspace"


def test_ledger_replaced_by_a_folder(fitted_workspace):
    ws = fitted_workspace
    (ws.root / "ledger.jsonl").mkdir()
    before = snapshot(ws.root)
    for cmd in (["data", "check"], ["show"], ["history"], ["update", *APPROVAL], ["undo"]):
        r = run(*cmd, "-w", ws.root)
        assert r.exit_code == 1, (cmd, r.output)
        assert "Traceback" not in r.output
        assert "ledger.jsonl" in r.output and ("is not a regular file" in r.output
                                               or "should be a file" in r.output), (cmd, r.output)
        assert snapshot(ws.root) == before
    assert (ws.root / "ledger.jsonl").is_dir()


def test_line_separators_inside_a_note_do_not_split_a_record(workspace):
    """json.dumps(ensure_ascii=False) writes U+2028 raw: lines are split on newline only."""
    e = Event("indicator", "2026-05", INDICATOR, "NHK", "one\u2028two\x85three", 25.0)
    assert len(L.parse(line(add(e)))) == 1


def test_active_is_one_pass():
    """Undoing the oldest add first was quadratic (a backwards scan per undo); now each undo is one
    dict lookup. Counted as id comparisons, so the test fails for a quadratic algorithm, not a slow machine."""
    calls = [0]

    class Id(str):
        __hash__ = str.__hash__

        def __eq__(self, other):
            calls[0] += 1
            return str.__eq__(self, other)

    n = 2000
    adds = [{"op": "add", "id": Id(f"{i:016x}")} for i in range(n)]
    undos = [{"op": "undo", "id": Id(f"{i:016x}")} for i in range(0, n, 2)]   # oldest first
    act = L.active(adds + undos)
    assert [r["id"] for r in act] == [f"{i:016x}" for i in range(1, n, 2)]
    assert calls[0] <= 4 * n, calls[0]


@needs_forecast_year
def test_todays_ledger_verifies_and_each_state_has_one_name(fitted_workspace):
    """A ledger written by update/undo/update verifies (data check, history); the head named by update,
    undo, history and the brief footer is one name: the hash of ledger.jsonl's bytes."""
    from forecast import api

    ws = fitted_workspace
    path = ws.root / "ledger.jsonl"
    r = run("update", "-w", ws.root, *APPROVAL, "--json")
    assert r.exit_code == 0, r.output
    head1 = json.loads(r.output)["ledger_head"]
    assert head1 == L.head_of(path.read_bytes())
    r = run("undo", "-w", ws.root, "--json")
    assert r.exit_code == 0, r.output
    u = json.loads(r.output)
    assert u["ledger_head"] == L.head_of(path.read_bytes())
    assert u["forecast_of_head"] == L.EMPTY_HEAD   # the state before the update: the fit's
    r = run("undo", "-w", ws.root)
    assert r.exit_code == 1 and "nothing to undo" in r.output
    r = run("update", "-w", ws.root, *APPROVAL)     # the same event again, after its undo: allowed
    assert r.exit_code == 0, r.output
    head3 = L.head_of(path.read_bytes())
    assert f"Ledger head {head3}." in r.output
    r = run("data", "check", "-w", ws.root)
    assert r.exit_code == 0 and "1 ledger event(s) in force" in r.output, r.output
    rows = json.loads(run("history", "-w", ws.root, "--json").output)
    assert [row["ledger_head"] for row in rows] == [head1, u["ledger_head"], head3]
    assert f"[ledger head {head3}]" in run("history", "-w", ws.root).output
    assert api.open(ws.root).brief(allow_failed_diagnostics=True).footer["ledger_head"] == head3
    # the undo's text names the state it leaves the ledger in first, as the brief footer will
    r = run("undo", "-w", ws.root)
    assert r.exit_code == 0, r.output
    now = L.head_of(path.read_bytes())
    assert f"Ledger head {now}: the forecast is back to that of ledger head {u['ledger_head']}" in r.output
