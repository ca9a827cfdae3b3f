"""benchmarks/backtest_table.py with several results: one row per run, as each JSON says."""

from __future__ import annotations

import json

from scripts import load_script

backtest_table = load_script("benchmarks/backtest_table.py")


def result(preset: str, brier: float, failing: int) -> dict:
    est = {"value": 0.05, "lo80": -0.1, "hi80": 0.2}
    return {"preset": preset, "scores": {"model": {"brier": brier, "log": 0.6, "rps": 0.14}},
            "skill_vs_climatology": {"model": {"brier": est, "log": est, "rps": est}},
            "reliability": {"miscalibration": 0.04, "discrimination": 0.03},
            "rows": [{"diagnostics": {"ok": i >= failing}} for i in range(30)]}


def test_one_row_per_run_with_its_preset_scores_and_failing_fits(tmp_path, capsys):
    runs = [result("default", 0.206, 21), result("realist", 0.25, 3)]
    paths = []
    for r in runs:
        paths.append(tmp_path / f"{r['preset']}.json")
        paths[-1].write_text(json.dumps(r), encoding="utf-8")
    backtest_table.main([str(p) for p in paths])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    assert [c[0] for c in cells] == ["`default`", "`realist`"]
    assert [c[1] for c in cells] == ["0.206", "0.250"]
    assert [c[-1] for c in cells] == ["21 of 30", "3 of 30"]
