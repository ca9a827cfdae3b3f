"""Issue 13, "one canonical form per input": strict CSV (file and physical line named), the same
event spelt differently counted once or refused, large files refused unread, errors capped."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from data_years import PAST_YEAR_MONTH

from forecast import defaults
from forecast.cli.main import main
from forecast.data.csvtext import read_text_csv
from forecast.data.events import event_from_input
from forecast.errors import Problem, ValidationError


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def refused(r, code=1):
    """Exit ``code``, a message, no traceback."""
    assert r.exit_code == code, r.output
    assert "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r.output


HEADER = "date,kind,source,note\n"


# ------------------------------------------------------------------ strict CSV
def test_unterminated_quote_in_a_batch_is_refused_naming_the_line(fitted_workspace, tmp_path):
    ws = fitted_workspace
    f = tmp_path / "batch.csv"
    f.write_text(HEADER + f'{PAST_YEAR_MONTH},summit_held,MOFA,"a note that never closes\n'
                 f"{PAST_YEAR_MONTH},joint_statement_signed,MOFA,second\n"
                 f"{PAST_YEAR_MONTH},humanitarian_aid,MOFA,third\n", encoding="utf-8")
    snap = snapshot(ws.root)
    out = refused(run("update", "-w", ws.root, "--file", f))
    assert "batch.csv, row 2: cannot be parsed as CSV: unterminated quote" in out
    assert "Recorded" not in out
    assert snapshot(ws.root) == snap


@pytest.mark.parametrize("line, phrase", [
    ('{d},summit_held,MOFA,"a note that never closes', "row 3: cannot be parsed as CSV: unterminated quote"),
    ('{d},summit_held,MOFA,a "quoted" word', "row 3: cannot be parsed as CSV: a quote inside an unquoted field"),
    ('{d},summit_held,"MOFA"x,note', "row 3: cannot be parsed as CSV: text after a closing quote"),
    ("{d},summit_held,MOFA,note,extra", "row 3: expected 4 fields, found 5"),
])
def test_malformed_batch_lines(workspace, tmp_path, line, phrase):
    f = tmp_path / "batch.csv"
    f.write_text(HEADER + f"{PAST_YEAR_MONTH},humanitarian_aid,MOFA,fine\n" + line.format(d=PAST_YEAR_MONTH)
                 + f"\n{PAST_YEAR_MONTH},domestic_veto,MOFA,after\n", encoding="utf-8")
    out = refused(run("update", "-w", workspace.root, "--file", f))
    assert f"batch.csv, {phrase}" in out


def test_unterminated_quote_in_events_csv_fails_data_check(workspace):
    p = workspace.data_dir / "events.csv"
    lines = p.read_text(encoding="utf-8").split("\n")
    assert run("data", "check", "-w", workspace.root).exit_code == 0
    # line 3 gets a note opening a quote that never closes: it used to swallow the rows after it
    date, kind = lines[2].split(",")[:2]
    lines[2] = f'{date},{kind},a source,"an unterminated note'
    p.write_text("\n".join(lines), encoding="utf-8")
    snap = snapshot(workspace.root)
    out = refused(run("data", "check", "-w", workspace.root))
    assert "events.csv, row 3: cannot be parsed as CSV: " in out
    assert "quote" in out and "OK" not in out
    assert snapshot(workspace.root) == snap


def test_quoted_multiline_notes_and_comments_still_read(tmp_path):
    f = tmp_path / "b.csv"
    f.write_text(HEADER + "# a comment with a \" quote\n"
                 '2020-01,summit_held,"MOFA, Tokyo","two\r\nlines, and ""quoted"""\r\n'
                 "  2020-02 , domestic_veto , s ,  plain  \n", encoding="utf-8")
    problems: list[Problem] = []
    df = read_text_csv(f, ("date", "kind", "source", "note"), problems)
    assert problems == []
    assert df["note"].tolist() == ['two\nlines, and "quoted"', "plain"]
    assert df["source"].tolist() == ["MOFA, Tokyo", "s"]
    assert df["_line"].tolist() == [3, 5]


# ------------------------------------------------------------------ one canonical form
def event(date, **kw):
    problems: list[Problem] = []
    e = event_from_input("event", date, kw.get("name", "summit_held"), kw.get("source", "MOFA"),
                         kw.get("note", ""), problems=problems)
    return e, problems


def test_spellings_of_one_date_give_one_id_or_are_refused():
    canon, problems = event("2026-05")
    assert problems == [] and canon.date == "2026-05"
    for same in (" 2026-05 ", "2026-5", "2026-05\t", "\u30002026-05"):
        e, problems = event(same)
        assert problems == [] and e.id == canon.id, same
    assert event("2026-05-01")[0].id != canon.id  # a day is not a month
    e, _ = event("2026-05", name=" summit_held ", source="MOFA  ", note=" n ")
    assert (e.name, e.source, e.note) == ("summit_held", "MOFA", "n")
    for bad, phrase in [("2026-05\n", "control character U+000A"), ("２０２６-05", "non-ASCII digits"),
                        ("2026-\x0005", "control character U+0000"), ("2026-02-30", "is not a date"),
                        ("2026/05", "is not a date")]:
        e, problems = event(bad)
        assert e is None and len(problems) == 1 and phrase in problems[0].message, (bad, problems)
        assert problems[0].field == "date"
    e, problems = event("2026", source="MOFA\x1b[31m")
    assert e is None and problems[0].field == "source" and "U+001B" in problems[0].message
    e, problems = event("2026", note="two\nlines\x07")
    assert e is None and problems[0].field == "note" and "U+0007" in problems[0].message
    assert event("2026", note="two\r\nlines")[0].note == "two\nlines"


def test_three_spellings_of_one_summit_give_one_ledger_record(fitted_workspace):
    ws = fitted_workspace
    args = ["--event", "summit_held", "--source", "MOFA", "--note", "one summit"]
    r = run("update", "-w", ws.root, "--date", PAST_YEAR_MONTH, *args)
    assert r.exit_code == 0, r.output
    snap = snapshot(ws.root)
    year, month = PAST_YEAR_MONTH.split("-")
    wide = "".join(chr(ord(c) + 0xFEE0) for c in year) + "-" + month  # full-width digits
    for date, phrase in [(PAST_YEAR_MONTH + "\n", "field '--date': "), (wide, "non-ASCII digits")]:
        out = refused(run("update", "-w", ws.root, "--date", date, *args))
        assert "command line, field '--date'" in out and phrase in out
        assert snapshot(ws.root) == snap
    for date in (f" {PAST_YEAR_MONTH} ", f"{year}-{int(month)}"):
        r = run("update", "-w", ws.root, "--date", date, *args)
        assert r.exit_code == 0 and "already recorded" in r.output, r.output
        assert snapshot(ws.root) == snap
    records = [json.loads(ln) for ln in (ws.root / "ledger.jsonl").read_text().splitlines()]
    assert len(records) == 1 and records[0]["event"]["date"] == PAST_YEAR_MONTH


@pytest.mark.parametrize("value, phrase", [("２５", "non-ASCII digits"), ("25\n", "control character"),
                                           ("nan", "not a finite number"), ("1_000", "not a number")])
def test_value_on_the_command_line_is_strict(workspace, value, phrase):
    snap = snapshot(workspace.root)
    out = refused(run("update", "-w", workspace.root, "--indicator", "japan_cabinet_approval", "--value", value,
                      "--date", PAST_YEAR_MONTH, "--source", "s"), code=2)
    assert "--value" in out and phrase in out
    assert snapshot(workspace.root) == snap


def test_batch_values_and_dates_are_strict(workspace, tmp_path):
    f = tmp_path / "batch.csv"
    f.write_text("date,indicator,value,source\n"
                 f"{PAST_YEAR_MONTH},japan_cabinet_approval,２５,s\n"
                 f"２０２０,japan_cabinet_approval,25,s\n", encoding="utf-8")
    out = refused(run("update", "-w", workspace.root, "--file", f))
    assert "batch.csv, row 2, field 'value': '２５' has non-ASCII digits" in out
    assert "batch.csv, row 3, field 'date': '２０２０' has non-ASCII digits" in out


# ------------------------------------------------------------------ the batch format
def test_update_help_and_readme_document_the_batch_header():
    from pathlib import Path

    from forecast.data.batch import BATCH_HEADER

    assert BATCH_HEADER == "date,indicator,kind,value,source,note"
    out = " ".join(run("update", "--help").output.split())
    assert BATCH_HEADER in out
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert BATCH_HEADER in readme


def test_the_documented_batch_example_is_read(tmp_path, workspace):
    """The example in --help reads as one reading and one event, both named in the shipped catalogues."""
    from forecast.data.batch import BATCH_EXAMPLE, read_batch
    from forecast.data.loaders import load_dataset

    f = tmp_path / "batch.csv"
    f.write_text(BATCH_EXAMPLE, encoding="utf-8")
    events, rows = read_batch(str(f))
    assert [(e.type, e.name, e.value) for e in events] == [("indicator", "summits_per_year", 1.0),
                                                           ("event", "summit_held", None)]
    assert rows == [2, 3]
    ds = load_dataset(workspace.data_dir)
    assert "summits_per_year" in ds.meta.index and "summit_held" in ds.event_kinds.index
    assert "2025-04,summits_per_year,,1,foreign ministry," in " ".join(run("update", "--help").output.split())


@pytest.mark.parametrize("header, row, phrase", [
    ("date,kind,value,source,note", "{d},japan_cabinet_approval,30,NHK,", "row 1, field 'indicator': the header "
     "has no 'indicator' column"),
    ("date,source,note", "{d},NHK,", "row 1: the header has neither an 'indicator' nor a 'kind' column"),
    ("date,indicator,source,note", "{d},japan_cabinet_approval,NHK,", "row 1, field 'value': the header has no "
     "'value' column"),
])
def test_a_batch_header_without_a_needed_column_says_so(workspace, tmp_path, header, row, phrase):
    f = tmp_path / "batch_ok.csv"
    f.write_text(f"{header}\n{row.format(d=PAST_YEAR_MONTH)}\n{row.format(d=PAST_YEAR_MONTH)}\n", encoding="utf-8")
    out = refused(run("update", "-w", workspace.root, "--file", f))
    assert f"batch_ok.csv, {phrase}" in out
    assert "a batch needs date,indicator,kind,value,source,note" in out
    assert out.startswith("Error: invalid input:"), out  # one problem, on the header, not one per row


def test_a_missing_batch_file_suggests_checking_the_path(workspace, tmp_path):
    out = refused(run("update", "-w", workspace.root, "--file", tmp_path / "nonexist.csv"))
    assert "nonexist.csv: file not found at" in out
    assert "forecast init" not in out and "check the path" in out


# ------------------------------------------------------------------ size and error caps
def test_a_batch_over_the_size_limit_is_refused_unread(workspace, tmp_path, monkeypatch):
    f = tmp_path / "batch.csv"
    f.write_text(HEADER + f"{PAST_YEAR_MONTH},summit_held,MOFA,a note\n" * 50, encoding="utf-8")
    monkeypatch.setattr(defaults, "MAX_CSV_BYTES", 1000)
    reads = []
    real_open = type(f).open

    class Spy:  # records how much of the batch is read
        def __init__(self, fh):
            self.fh = fh

        def read(self, n=-1):
            reads.append(n)
            return self.fh.read(n)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def spy(self, mode="r", *a, **kw):
        fh = real_open(self, mode, *a, **kw)
        return Spy(fh) if self == f else fh

    monkeypatch.setattr(type(f), "open", spy)
    snap = snapshot(workspace.root)
    out = refused(run("update", "-w", workspace.root, "--file", f))
    assert "batch.csv: file is larger than the limit of 0.001 MB" in out
    assert reads == [1001]  # never the whole file
    assert snapshot(workspace.root) == snap


def test_errors_are_capped(workspace, tmp_path):
    f = tmp_path / "batch.csv"
    f.write_text(HEADER + "".join(f"20{i:02d}-13,summit_held,MOFA,n\n" for i in range(50)), encoding="utf-8")
    out = refused(run("update", "-w", workspace.root, "--file", f))
    assert out.count("is not a date") == defaults.MAX_PROBLEMS_SHOWN == 20
    assert "50 problem(s) found" in out and "... and 30 more problem(s)" in out
    assert "row 21, field 'date'" in out and "row 22," not in out
    err = ValidationError([Problem("f", f"p{i}") for i in range(3)])
    assert "more" not in str(err) and len(err.problems) == 3
