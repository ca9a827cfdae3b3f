"""forecast update / undo / history through the CLI (CliRunner): the acceptance flow,
directions theory predicts, and every bad-input case leaving the workspace untouched."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from forecast.cli.main import main

APPROVAL = ["--indicator", "japan_cabinet_approval", "--value", "25", "--date", "2026-10", "--source", "test"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def show(ws):
    r = run("show", "-w", ws.root, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_update_history_noop_and_exact_undo(fitted_workspace):
    ws = fitted_workspace
    before = show(ws)
    r = run("update", "-w", ws.root, *APPROVAL)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Recorded: japan_cabinet_approval = 25 (2026-10) [")
    assert "Update path: fast path: Pareto-smoothed importance reweighting (Pareto k " in r.output
    assert "P(relationship improves in 2026)" in r.output and " -> " in r.output and " pp" in r.output
    assert "leaders  " in r.output and "japan_cabinet_approval = 25 (2026-10)" in r.output.split("Attribution")[1]
    after = show(ws)
    assert after["probabilities"] != before["probabilities"]

    h = json.loads(run("history", "-w", ws.root, "--json").output)
    assert len(h) == 1 and h[0]["op"] == "add" and h[0]["event"]["name"] == "japan_cabinet_approval"
    assert h[0]["after"]["improve_next_year"]["mean"] == pytest.approx(after["probabilities"]["improve_next_year"]["mean"])
    assert "japan_cabinet_approval = 25 (2026-10)" in run("history", "-w", ws.root).output

    ledger = (ws.root / "ledger.jsonl").read_bytes()
    r = run("update", "-w", ws.root, *APPROVAL)
    assert r.exit_code == 0 and r.output.startswith("No change: already recorded: japan_cabinet_approval = 25")
    assert (ws.root / "ledger.jsonl").read_bytes() == ledger

    r = run("undo", "-w", ws.root)
    assert r.exit_code == 0, r.output
    assert show(ws) == before
    h = json.loads(run("history", "-w", ws.root, "--json").output)
    assert [x["op"] for x in h] == ["add", "undo"]


def test_dry_run_records_nothing(fitted_workspace):
    ws = fitted_workspace
    snap = snapshot(ws.root)
    r = run("update", "-w", ws.root, *APPROVAL, "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["dry_run"] is True and out["path"] == "psis"
    assert set(out["probabilities"]) == {"improve_next_year", "settle_within_5y", "settle_within_10y"}
    assert set(out["probabilities"]["improve_next_year"]) == {"before", "after", "change_pp"}
    assert snapshot(ws.root) == snap


def _delta(ws, *args, key):
    out = json.loads(run("update", "-w", ws.root, *args, "--dry-run", "--json").output)
    return out["probabilities"][key]["change_pp"], out


def test_summit_with_joint_statement_raises_p_improve(fitted_workspace):
    d, out = _delta(fitted_workspace, "--event", "joint_statement_signed", "--date", "2026-09-03",
                    "--source", "test", key="improve_next_year")
    assert d > 0
    assert out["attribution"]["trust"]["delta_logodds"] > 0
    assert out["attribution"]["trust"]["events"] == ["joint_statement_signed (2026-09-03)"]


def test_cabinet_approval_collapse_lowers_p_settlement(fitted_workspace):
    d, out = _delta(fitted_workspace, "--indicator", "japan_cabinet_approval", "--value", "12", "--date", "2026-06",
                    "--source", "test", key="settle_within_10y")
    assert d < 0
    assert out["attribution"]["leaders"]["delta_logodds"] < 0


def test_past_year_event_reweights(fitted_workspace):
    d, out = _delta(fitted_workspace, "--event", "talks_suspended", "--date", "2024-05", "--source", "test",
                    key="improve_next_year")
    assert out["path"] == "psis" and out["pareto_k"] <= 0.7


def test_batch_with_bom_and_whitespace(fitted_workspace, tmp_path):
    f = tmp_path / "batch.csv"
    f.write_text("\ufeffdate , indicator , kind , value , source , note\n"
                 " 2026-03 , putin_approval_levada ,  , 86 , Levada , poll \n"
                 "2026-04-01,, summit_held ,, MOFA , sideline\n", encoding="utf-8")
    r = run("update", "-w", fitted_workspace.root, "--file", f, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert [e["name"] for e in out["events"]] == ["putin_approval_levada", "summit_held"]
    assert len(json.loads(run("history", "-w", fitted_workspace.root, "--json").output)) == 2
    r = run("undo", "-w", fitted_workspace.root)
    assert r.output.count("[") == 2  # the whole batch is one update


BAD = [
    (["--indicator", "japan_cabinet_aproval", "--value", "25", "--date", "2026", "--source", "s"], 1,
     "command line, field '--indicator': unknown indicator 'japan_cabinet_aproval' (did you mean 'japan_cabinet_approval'?)"),
    (["--event", "sumit_held", "--date", "2026", "--source", "s"], 1,
     "unknown event kind 'sumit_held' (did you mean 'summit_held'?)"),
    (["--indicator", "japan_cabinet_approval", "--value", "140", "--date", "2026", "--source", "s"], 1,
     "field '--value': value 140 for 'japan_cabinet_approval' is outside its valid range 0 to 100 (% approve)"),
    (["--indicator", "trade_jpn_rus_usd_bn", "--value", "-3", "--date", "2026", "--source", "s"], 1,
     "value -3 for 'trade_jpn_rus_usd_bn' is outside its valid range"),
    (["--indicator", "japan_cabinet_approval", "--value", "30", "--date", "2026-13-01", "--source", "s"], 1,
     "field '--date': '2026-13-01' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)"),
    (["--indicator", "japan_cabinet_approval", "--value", "30", "--date", "2999-01", "--source", "s"], 1,
     "field '--date': date 2999-01 is in the future"),
    (["--indicator", "japan_cabinet_approval", "--value", "30", "--date", "1980", "--source", "s"], 1,
     "field '--date': date 1980 is before the data begin (1992)"),
    (["--indicator", "japan_cabinet_approval", "--value", "30", "--date", "2026", "--source", " "], 1,
     "field '--source': missing source"),
    (["--indicator", "japan_cabinet_approval", "--value", "30", "--date", "2026"], 2, "missing option '--source'"),
    (["--indicator", "japan_cabinet_approval", "--date", "2026", "--source", "s"], 2, "--indicator needs --value"),
    (["--event", "summit_held", "--indicator", "x", "--date", "2026", "--source", "s"], 2, "give exactly one of"),
    (["--indicator", "japan_cabinet_approval", "--value", "abc", "--date", "2026", "--source", "s"], 2,
     "'abc' is not a valid float"),
]


@pytest.mark.parametrize("args, code, message", BAD, ids=[m[:40] for _, _, m in BAD])
def test_bad_input_is_refused_and_nothing_changes(fitted_workspace, args, code, message):
    snap = snapshot(fitted_workspace.root)
    r = run("update", "-w", fitted_workspace.root, *args)
    assert r.exit_code == code, r.output
    assert message in r.output
    assert "Traceback" not in r.output
    assert snapshot(fitted_workspace.root) == snap


@pytest.mark.parametrize("content, message", [
    ("date,indicator,value,source\n2026-01,japan_cabinet_approval,30,s\n2026-01,japan_cabinet_approval,30,s\n",
     "batch.csv, row 3, field 'date': duplicate event (same as row 2)"),
    ("date,indicator,value,source,colour\n2026-01,japan_cabinet_approval,30,s,red\n",
     "batch.csv, row 1, field 'colour': unknown column 'colour'"),
    ("date,indicator,value,source\n2026-01,japan_cabinet_approval,30,s\n2026-02,japan_cabinet_approval,300,s\n",
     "batch.csv, row 3, field 'value': value 300"),
])
def test_bad_batch_is_all_or_nothing(fitted_workspace, tmp_path, content, message):
    f = tmp_path / "batch.csv"
    f.write_text(content, encoding="utf-8")
    snap = snapshot(fitted_workspace.root)
    r = run("update", "-w", fitted_workspace.root, "--file", f)
    assert r.exit_code == 1, r.output
    assert message in r.output
    assert snapshot(fitted_workspace.root) == snap


def test_undo_with_nothing_to_undo(fitted_workspace):
    r = run("undo", "-w", fitted_workspace.root)
    assert r.exit_code == 1
    assert r.output == "Error: nothing to undo: no update is in force (see 'forecast history')\n"


def test_history_empty(fitted_workspace):
    assert run("history", "-w", fitted_workspace.root).output == "No updates recorded yet (ledger.jsonl is empty).\n"
    assert json.loads(run("history", "-w", fitted_workspace.root, "--json").output) == []
