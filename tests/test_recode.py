"""The coding-robustness check (``forecast backtest --recode FILE``): the perturbation file is validated
at the door, and a recoded year reaches both the fits and the scoring of every later origin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from forecast.cli.main import main
from forecast.data.loaders import load_dataset
from forecast.errors import ValidationError
from forecast.validate import backtest as B
from forecast.validate.recode import coded_changes, format_recoding, load_recodes, recoded, summary_row

SHIPPED = Path(__file__).resolve().parents[1] / "benchmarks" / "recode_ambiguous.csv"


def write(tmp_path, text: str) -> Path:
    p = tmp_path / "recode.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_shipped_perturbations_are_valid_one_step_recodes(workspace):
    coded = coded_changes(workspace.data_dir)
    rows = load_recodes(SHIPPED, coded)
    assert len(rows) >= 6 and len({r.year for r in rows}) == len(rows)
    assert all(abs(r.change - r.coded) == 1 and r.coded == coded[r.year] and r.reason for r in rows)


@pytest.mark.parametrize("line, field, words", [
    ("1980,1,too early", "year", "no coded outcome"),
    ("2012,2,two steps", "change", "not one step"),
    ("2012,3,out of range", "change", "outside -2..2"),
    ("2012,x,not a number", "change", "not a whole number"),
    ("2012,1,", "reason", "empty reason"),
])
def test_bad_rows_name_file_row_and_field(workspace, tmp_path, line, field, words):
    p = write(tmp_path, "year,change,reason\n2000,1,fine\n" + line + "\n")
    with pytest.raises(ValidationError) as err:
        load_recodes(p, coded_changes(workspace.data_dir))
    text = str(err.value)
    assert "recode.csv" in text and "row 3" in text and field in text and words in text, text


def test_a_year_recoded_twice_and_a_wrong_header_are_refused(workspace, tmp_path):
    coded = coded_changes(workspace.data_dir)
    with pytest.raises(ValidationError, match="recoded twice"):
        load_recodes(write(tmp_path, "year,change,reason\n2012,1,a\n2012,-1,b\n"), coded)
    with pytest.raises(ValidationError, match="recode.csv"):
        load_recodes(write(tmp_path, "year,value,reason\n2012,1,a\n"), coded)


def test_a_recode_reaches_the_fits_and_the_scoring_of_later_origins(workspace):
    ds = load_dataset(workspace.data_dir)
    new = recoded(ds, ((2012, 1),))
    was = ds.outcomes.set_index("year")["change"]
    now = new.outcomes.set_index("year")["change"]
    assert now[2012] == 1 and was[2012] == 0 and (now.drop(2012) == was.drop(2012)).all()
    settings = B.Settings(recode=((2012, 1),))
    later = B.origin_spec(str(workspace.data_dir), str(workspace.priors_dir), 2014, settings, [], padded=False)
    earlier = B.origin_spec(str(workspace.data_dir), str(workspace.priors_dir), 2012, settings, [], padded=False)
    assert later.change[2012 - 1992] - 2 == 1  # the 2014 origin learns from the recoded 2012
    assert (earlier.change == B.origin_spec(str(workspace.data_dir), str(workspace.priors_dir), 2012, B.Settings(),
                                            [], padded=False).change).all()  # the 2012 origin cannot see it


def test_cli_rejects_a_bad_recode_file_before_any_fit(workspace, tmp_path):
    p = write(tmp_path, "year,change,reason\n2012,2,two steps\n")
    r = CliRunner().invoke(main, ["backtest", "-w", str(workspace.root), "--from", "2020", "--recode", str(p)])
    assert r.exit_code == 1 and "row 2" in r.output and "change" in r.output and "Traceback" not in r.output


def test_recoding_table_reads_the_model_skill():
    sk = {"brier": {"value": 0.1, "lo80": 0.0, "hi80": 0.2}, "log": {"value": 0.05, "lo80": -0.1, "hi80": 0.1},
          "rps": {"value": -0.02, "lo80": -0.1, "hi80": 0.05}}
    result = {"scores": {}, "skill_vs_climatology": {"model": sk}}
    rows = [summary_row(None, result)]
    json.dumps(rows)
    text = format_recoding(rows)
    assert "as coded" in text and "+0.100 [+0.00, +0.20]" in text and "-0.020" in text


def test_backtest_without_recode_prints_no_recoding_section(workspace, tmp_path, monkeypatch):
    """Without --recode the result held a one-row 'recoding' list (as coded only), and the text output
    printed the 'Robustness to the coding' section for it. The backtest's fits are replaced by a stub
    result (no MCMC): the section and the 'recoding' key now appear only with --recode."""
    sk = {k: {"value": 0.1, "lo80": 0.0, "hi80": 0.2} for k in ("brier", "log", "rps")}
    monkeypatch.setattr(B, "run", lambda *a, **k: {"scores": {}, "skill_vs_climatology": {"model": sk}})
    monkeypatch.setattr(B, "format_summary", lambda result: "SUMMARY")
    args = ["backtest", "-w", str(workspace.root), "--from", "2025", "--jobs", "1"]
    plain = CliRunner().invoke(main, args)
    assert plain.exit_code == 0, plain.output
    assert "SUMMARY" in plain.output and "Robustness to the coding" not in plain.output
    as_json = CliRunner().invoke(main, args + ["--json"])
    assert as_json.exit_code == 0 and "recoding" not in json.loads(as_json.output)
    p = write(tmp_path, "year,change,reason\n2012,1,ambiguous\n")
    recoded_run = CliRunner().invoke(main, args + ["--recode", str(p)])
    assert recoded_run.exit_code == 0, recoded_run.output
    assert "Robustness to the coding" in recoded_run.output and "as coded" in recoded_run.output
    assert "2012 +0->+1" in recoded_run.output
