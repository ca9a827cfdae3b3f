"""Tests for forecast.data: the shipped dataset and "validate at the door".

Bad files are built by editing the CSVs of a fresh workspace copy (fixture
``workspace``): read the text, change one line or append one, write it back.
Every error test asserts the specific problem: file, row (1-based file line,
header = 1), field and a key phrase of the message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from forecast import LENSES
from forecast.data.loaders import load_dataset
from forecast.errors import Problem, ValidationError
from forecast.workspace import init_workspace

THIS_YEAR = dt.date.today().year


# --------------------------------------------------------------------------- helpers


def lines_of(path: Path) -> list[str]:
    # split on '\n' only: str.splitlines() would also break at '\x1c', '\u2028' and friends
    return path.read_text(encoding="utf-8").removesuffix("\n").split("\n")


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def line_no(path: Path, prefix: str) -> int:
    """1-based line number of the only line starting with ``prefix``."""
    hits = [i + 1 for i, line in enumerate(lines_of(path)) if line.startswith(prefix)]
    assert len(hits) == 1, f"{prefix!r} matches lines {hits} in {path.name}"
    return hits[0]


def edit_line(path: Path, prefix: str, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` (once) in the line starting with ``prefix``; return its line number."""
    lines = lines_of(path)
    n = line_no(path, prefix)
    assert old in lines[n - 1], f"{old!r} not in line {n} of {path.name}: {lines[n - 1]!r}"
    lines[n - 1] = lines[n - 1].replace(old, new, 1)
    write_lines(path, lines)
    return n


def append_line(path: Path, line: str) -> int:
    """Append a line; return its line number."""
    lines = lines_of(path) + [line]
    write_lines(path, lines)
    return len(lines)


def delete_line(path: Path, prefix: str) -> None:
    lines = lines_of(path)
    n = line_no(path, prefix)
    del lines[n - 1]
    write_lines(path, lines)


def csv_line(fields: list[str]) -> str:
    """One CSV record without its line ending. The writer's line terminator is '\\r\\n' so that
    both characters are quoted inside fields (Python 3.11 quotes only lineterminator characters)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(fields)
    return buf.getvalue().removesuffix("\r\n")


def set_fields(path: Path, prefix: str, **changes: str) -> int:
    """Set named fields of the line starting with ``prefix`` (csv-quoted); return its line number."""
    lines = lines_of(path)
    header = lines[0].lstrip("\ufeff").split(",")
    n = line_no(path, prefix)
    fields = next(csv.reader([lines[n - 1]]))
    for key, value in changes.items():
        fields[header.index(key)] = value
    lines[n - 1] = csv_line(fields)
    write_lines(path, lines)
    return n


def problems_of(data_dir: Path) -> list[Problem]:
    with pytest.raises(ValidationError) as exc:
        load_dataset(data_dir)
    assert exc.value.problems, "ValidationError raised without problems"
    return exc.value.problems


def assert_problem(problems: list[Problem], file: str, row: int | None, field: str | None,
                   phrase: str, hint: str | None = None) -> Problem:
    """Exactly one problem at (file, row, field) whose message contains ``phrase``."""
    hits = [p for p in problems
            if p.file == file and p.row == row and p.field == field and phrase in p.message]
    listing = "\n  ".join(str(p) for p in problems)
    assert len(hits) == 1, f"expected one {file}, row {row}, field {field!r}: ...{phrase}...; got:\n  {listing}"
    if hint is not None:
        assert hits[0].hint is not None and hint in hits[0].hint, f"hint {hits[0].hint!r} lacks {hint!r}"
    return hits[0]


def in_file(problems: list[Problem], file: str) -> list[Problem]:
    return [p for p in problems if p.file == file]


@pytest.fixture
def data(workspace) -> Path:
    return workspace.data_dir


# --------------------------------------------------------------------------- shipped dataset


@pytest.fixture
def dataset(workspace):
    return load_dataset(workspace.data_dir)


def test_shipped_dataset_loads(dataset):
    assert len(dataset.meta) >= 12
    assert len(dataset.values) > 100
    assert set(dataset.values["indicator"]) == set(dataset.meta.index)
    assert dataset.first_year == 1992


@pytest.mark.parametrize("lens", LENSES)
def test_at_least_four_state_indicators_per_lens(dataset, lens):
    meta = dataset.meta
    state = meta[(meta["lens"] == lens) & (meta["role"] == "state")]
    assert len(state) >= 4, f"lens {lens} has only {list(state.index)}"


def test_leaders_lens_has_both_sides(dataset):
    meta = dataset.meta
    leaders = meta[(meta["lens"] == "leaders") & (meta["role"] == "state")]
    assert set(leaders["side"]) == {"russia", "japan"}


def test_every_indicator_row_has_a_source_and_lies_in_range(dataset):
    values = dataset.values
    assert (values["source"].str.strip() != "").all()
    bounds = dataset.meta.loc[values["indicator"], ["min", "max"]].to_numpy()
    assert ((values["value"].to_numpy() >= bounds[:, 0]) & (values["value"].to_numpy() <= bounds[:, 1])).all()


def test_every_meta_row_has_description_and_citation(dataset):
    for col in ("unit", "description", "citation"):
        assert (dataset.meta[col].str.strip() != "").all(), col


def test_outcomes_cover_1992_to_2025(dataset):
    out = dataset.outcomes
    assert list(out["year"]) == list(range(1992, 2026))
    assert out["change"].between(-2, 2).all()
    assert (out["settlement"] == 0).all()
    assert (out["justification"].str.strip() != "").all()
    assert (out["source"].str.strip() != "").all()
    assert dataset.last_outcome_year == 2025


# --------------------------------------------------------------------------- indicators.csv: values


def test_value_above_meta_max(data):
    row = set_fields(data / "indicators.csv", "2010,japan_cabinet_approval,", value="140")
    problems = problems_of(data)
    p = assert_problem(problems, "indicators.csv", row, "value", "outside its range")
    assert "140" in p.message and "japan_cabinet_approval" in p.message and "0 to 100" in p.message
    assert len(problems) == 1


def test_negative_trade(data):
    row = set_fields(data / "indicators.csv", "2010,trade_jpn_rus_usd_bn,", value="-3.5")
    problems = problems_of(data)
    p = assert_problem(problems, "indicators.csv", row, "value", "outside its range")
    assert "-3.5" in p.message and "trade_jpn_rus_usd_bn" in p.message
    assert len(problems) == 1


def test_zero_for_log_transformed_indicator(data):
    # 0 is inside min/max (0..1000) but log(0) is undefined
    row = set_fields(data / "indicators.csv", "2010,trade_jpn_rus_usd_bn,", value="0")
    problems = problems_of(data)
    assert_problem(problems, "indicators.csv", row, "value", "cannot take the 'log' transform")
    assert len(problems) == 1


def test_100_percent_for_logit_pct_indicator(data):
    row = set_fields(data / "indicators.csv", "2010,japan_cabinet_approval,", value="100")
    problems = problems_of(data)
    assert_problem(problems, "indicators.csv", row, "value", "cannot take the 'logit_pct' transform")


def test_unknown_indicator_with_did_you_mean(data):
    row = edit_line(data / "indicators.csv", "2010,putin_approval_levada,", "putin_approval_levada",
                    "putin_aproval_levada")
    problems = problems_of(data)
    assert_problem(problems, "indicators.csv", row, "indicator", "unknown indicator 'putin_aproval_levada'",
                   hint="did you mean 'putin_approval_levada'")
    assert len(problems) == 1


def test_unknown_indicator_without_close_match(data):
    row = append_line(data / "indicators.csv", "2010,zzz,1.0,Somebody,0")
    problems = problems_of(data)
    assert_problem(problems, "indicators.csv", row, "indicator", "unknown indicator 'zzz'",
                   hint="indicators_meta.csv")


@pytest.mark.parametrize("text, phrase", [("abc", "'abc' is not a number"),
                                          ("1_000", "'1_000' is not a number"),
                                          ("12%", "'12%' is not a number"),
                                          ("", "empty value"),
                                          ("nan", "not a finite number"),
                                          ("inf", "not a finite number")])
def test_non_numeric_or_empty_value(data, text, phrase):
    row = set_fields(data / "indicators.csv", "2005,gdp_ratio_chn_usa,", value=text)
    problems = problems_of(data)
    assert_problem(problems, "indicators.csv", row, "value", phrase)
    assert len(problems) == 1


@pytest.mark.parametrize("year, phrase", [("abc", "'abc' is not a whole number"),
                                          ("2010.5", "'2010.5' is not a whole number"),
                                          ("", "'' is not a whole number"),
                                          ("2999", f"year 2999 is outside 1900-{THIS_YEAR}"),
                                          ("1850", f"year 1850 is outside 1900-{THIS_YEAR}")])
def test_bad_year_in_indicators(data, year, phrase):
    row = edit_line(data / "indicators.csv", "2015,summits_per_year,", "2015,", f"{year},")
    problems = problems_of(data)
    assert_problem(problems, "indicators.csv", row, "year", phrase)
    assert len(problems) == 1


def test_duplicate_year_indicator_row(data):
    path = data / "indicators.csv"
    first = line_no(path, "2015,summits_per_year,")
    row = append_line(path, lines_of(path)[first - 1])
    problems = problems_of(data)
    p = assert_problem(problems, "indicators.csv", row, "year", "duplicate value for 'summits_per_year' in 2015")
    assert f"first on row {first}" in p.message
    assert len(problems) == 1


def test_missing_source(data):
    row = set_fields(data / "indicators.csv", "2015,summits_per_year,", source="")
    problems = problems_of(data)
    assert_problem(problems, "indicators.csv", row, "source", "missing source", hint="cite the publisher")
    assert len(problems) == 1


@pytest.mark.parametrize("flag", ["2", "yes", "", "0.5"])
def test_approximate_not_0_or_1(data, flag):
    row = set_fields(data / "indicators.csv", "2015,summits_per_year,", approximate=flag)
    problems = problems_of(data)
    assert_problem(problems, "indicators.csv", row, "approximate", "approximate must be 0 or 1")
    assert len(problems) == 1


# --------------------------------------------------------------------------- headers


def test_unknown_column(data):
    path = data / "outcomes.csv"
    lines = lines_of(path)
    write_lines(path, [lines[0] + ",notes"] + [line + "," for line in lines[1:]])
    problems = problems_of(data)
    assert_problem(problems, "outcomes.csv", 1, "notes", "unknown column 'notes'", hint="expected columns")
    assert len(problems) == 1


def test_misspelt_column_is_unknown_and_missing(data):
    path = data / "indicators.csv"
    lines = lines_of(path)
    assert lines[0] == "year,indicator,value,source,approximate"
    lines[0] = "year,indicator,vaule,source,approximate"
    write_lines(path, lines)
    problems = problems_of(data)
    assert_problem(problems, "indicators.csv", 1, "vaule", "unknown column 'vaule'", hint="did you mean 'value'")
    assert_problem(problems, "indicators.csv", 1, "value", "missing column 'value'")


def test_missing_column(data):
    path = data / "indicators.csv"
    lines = lines_of(path)
    # 'approximate' is the last column and never quoted: drop it from every line
    write_lines(path, [line.rsplit(",", 1)[0] for line in lines])
    assert lines_of(path)[0] == "year,indicator,value,source"
    problems = problems_of(data)
    assert_problem(problems, "indicators.csv", 1, "approximate", "missing column 'approximate'",
                   hint="expected columns")
    assert len(in_file(problems, "indicators.csv")) == 1


def test_header_missing_a_column_name_is_one_problem_on_the_header(data):
    """Only the header lost ',approximate': one problem on line 1 naming the column, not one per row."""
    path = data / "indicators.csv"
    lines = lines_of(path)
    lines[0] = "year,indicator,value,source"
    write_lines(path, lines)
    problems = in_file(problems_of(data), "indicators.csv")
    p = assert_problem(problems, "indicators.csv", 1, None, "the header has 4 columns but the rows have 5")
    assert "missing column 'approximate'" in p.message
    assert len(problems) == 1, "\n".join(str(q) for q in problems)


def test_one_row_with_an_extra_field_is_still_a_row_problem(data):
    path = data / "indicators.csv"
    row = append_line(path, "2020,japan_cabinet_approval,40,NHK, poll,0")
    problems = in_file(problems_of(data), "indicators.csv")
    assert_problem(problems, "indicators.csv", row, None, "expected 5 fields, found 6",
                   hint="quote fields that contain commas")
    assert len(problems) == 1


# --------------------------------------------------------------------------- outcomes.csv


def test_duplicate_outcome_year(data):
    path = data / "outcomes.csv"
    first = line_no(path, "2010,")
    row = append_line(path, lines_of(path)[first - 1])
    problems = problems_of(data)
    p = assert_problem(problems, "outcomes.csv", row, "year", "year 2010 is coded twice")
    assert f"first on row {first}" in p.message
    assert len(problems) == 1


def test_gap_in_outcome_years(data):
    delete_line(data / "outcomes.csv", "2000,")
    problems = problems_of(data)
    p = assert_problem(problems, "outcomes.csv", None, "year", "gaps")
    assert "[2000]" in p.message
    assert len(problems) == 1


@pytest.mark.parametrize("old, new, field, phrase", [
    ("2010,", "abc,", "year", "'abc' is not a whole number"),
    ("2010,", "2999,", "year", "year 2999 is outside"),
])
def test_bad_outcome_year(data, old, new, field, phrase):
    # the row is also dropped, so the coded years get a gap at 2010
    row = edit_line(data / "outcomes.csv", "2010,", old, new)
    problems = problems_of(data)
    assert_problem(problems, "outcomes.csv", row, field, phrase)
    assert_problem(problems, "outcomes.csv", None, "year", "missing year(s) [2010]")


@pytest.mark.parametrize("change, settlement, field, phrase", [
    ("3", "0", "change", "change must be an integer from -2 to 2, got 3"),
    ("1.5", "0", "change", "'1.5' is not a whole number"),
    ("0", "2", "settlement", "settlement must be 0 or 1, got 2"),
])
def test_bad_change_or_settlement(data, change, settlement, field, phrase):
    row = set_fields(data / "outcomes.csv", "2010,", change=change, settlement=settlement)
    problems = problems_of(data)
    assert_problem(problems, "outcomes.csv", row, field, phrase)


@pytest.mark.parametrize("year", ["1992", "1993", "2010"])
@pytest.mark.parametrize("change, settlement", [("1.5", "0"), ("3", "0"), ("0", "2")])
def test_bad_outcome_value_is_not_a_missing_year(data, year, change, settlement):
    """A year whose row has a bad value is reported on its row only: it is not also a gap, nor the
    first coded year moved past it."""
    row = set_fields(data / "outcomes.csv", f"{year},", change=change, settlement=settlement)
    problems = problems_of(data)
    listing = "\n  ".join(str(p) for p in problems)
    assert len(problems) == 1 and problems[0].row == row, listing


@pytest.mark.parametrize("field", ["justification", "source"])
def test_missing_outcome_justification_or_source(data, field):
    row = set_fields(data / "outcomes.csv", "2010,", **{field: ""})
    problems = problems_of(data)
    assert_problem(problems, "outcomes.csv", row, field, f"missing {field}")


# --------------------------------------------------------------------------- indicators_meta.csv


def edit_meta(data: Path, indicator: str, **changes: str) -> int:
    """Set fields of one indicators_meta.csv row; return its line number."""
    return set_fields(data / "indicators_meta.csv", indicator + ",", **changes)


def meta_problems(data: Path) -> list[Problem]:
    return in_file(problems_of(data), "indicators_meta.csv")


def test_meta_unknown_lens_with_hint(data):
    row = edit_meta(data, "gdp_ratio_chn_usa", lens="powr")
    problems = meta_problems(data)
    assert_problem(problems, "indicators_meta.csv", row, "lens", "unknown lens 'powr'", hint="did you mean 'power'")
    assert len(problems) == 1


def test_meta_unknown_lens_without_close_match(data):
    row = edit_meta(data, "gdp_ratio_chn_usa", lens="economy")
    assert_problem(meta_problems(data), "indicators_meta.csv", row, "lens", "unknown lens 'economy'",
                   hint="use one of power, trust, leaders")


def test_meta_bad_transform(data):
    row = edit_meta(data, "trade_jpn_rus_usd_bn", transform="lgo")
    problems = meta_problems(data)
    assert_problem(problems, "indicators_meta.csv", row, "transform", "unknown transform 'lgo'",
                   hint="did you mean 'log'")
    assert len(problems) == 1


@pytest.mark.parametrize("direction, phrase", [("0", "direction must be 1 or -1, got 0"),
                                               ("2", "direction must be 1 or -1, got 2"),
                                               ("up", "'up' is not a whole number")])
def test_meta_direction_not_plus_minus_one(data, direction, phrase):
    row = edit_meta(data, "summits_per_year", direction=direction)
    problems = meta_problems(data)
    assert_problem(problems, "indicators_meta.csv", row, "direction", phrase)
    assert len(problems) == 1


@pytest.mark.parametrize("lo, hi", [("100", "0"), ("20", "20")])
def test_meta_min_not_below_max(data, lo, hi):
    row = edit_meta(data, "summits_per_year", min=lo, max=hi)
    problems = meta_problems(data)
    assert_problem(problems, "indicators_meta.csv", row, "min", f"min {lo} is not below max {hi}")
    assert len(problems) == 1


def test_meta_leaders_indicator_without_side(data):
    row = edit_meta(data, "japan_cabinet_approval", side="")
    problems = meta_problems(data)
    assert_problem(problems, "indicators_meta.csv", row, "side", "need side russia or japan")
    assert len(problems) == 1


def test_meta_power_indicator_with_side(data):
    row = edit_meta(data, "gdp_ratio_chn_usa", side="japan")
    assert_problem(meta_problems(data), "indicators_meta.csv", row, "side", "side must be empty for the power lens")


def test_meta_unknown_role(data):
    row = edit_meta(data, "summits_per_year", role="driver")
    assert_problem(meta_problems(data), "indicators_meta.csv", row, "role", "unknown role 'driver'")


@pytest.mark.parametrize("field", ["unit", "description", "citation"])
def test_meta_empty_documentation(data, field):
    row = edit_meta(data, "summits_per_year", **{field: ""})
    assert_problem(meta_problems(data), "indicators_meta.csv", row, field, f"empty {field}")


def test_meta_indicator_defined_twice(data):
    path = data / "indicators_meta.csv"
    first = line_no(path, "summits_per_year,")
    row = append_line(path, lines_of(path)[first - 1])
    assert_problem(meta_problems(data), "indicators_meta.csv", row, "indicator",
                   f"defined twice (first on row {first})")


def test_meta_indicator_without_values(data):
    path = data / "indicators_meta.csv"
    lines = lines_of(path)
    n = line_no(path, "summits_per_year,")
    append_line(path, lines[n - 1].replace("summits_per_year,", "summits_per_decade,", 1))
    problems = problems_of(data)
    assert_problem(problems, "indicators_meta.csv", None, "indicator",
                   "indicator 'summits_per_decade' has no values in indicators.csv")


# --------------------------------------------------------------------------- file-level


def quote(field: str) -> str:
    return '"' + field.replace('"', '""') + '"'


def test_bom_and_stray_whitespace_are_tolerated(workspace):
    """Every field padded with spaces (and quoted), a BOM in front: the dataset is unchanged."""
    clean = load_dataset(workspace.data_dir)
    for name in ("indicators.csv", "indicators_meta.csv", "outcomes.csv"):
        path = workspace.data_dir / name
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        text = "\n".join(" , ".join(f"  {quote(f)} " for f in row) for row in rows) + "\n"
        path.write_text("\ufeff" + text, encoding="utf-8")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    messy = load_dataset(workspace.data_dir)
    assert messy.values.equals(clean.values)
    assert messy.outcomes.equals(clean.outcomes)
    assert messy.meta.equals(clean.meta)


def test_bom_and_unquoted_padding_in_one_line(data):
    path = data / "indicators.csv"
    delete_line(path, "2025,summits_per_year,")
    lines = lines_of(path)
    lines[0] = "\ufeff year , indicator ,value, source,approximate "
    lines.append(" 2025 ,  summits_per_year , 0 ,  MOFA Japan  , 0 ")
    write_lines(path, lines)
    ds = load_dataset(data)
    row = ds.values[(ds.values["indicator"] == "summits_per_year") & (ds.values["year"] == 2025)]
    assert row["value"].tolist() == [0.0]
    assert row["source"].tolist() == ["MOFA Japan"]
    assert row["approximate"].tolist() == [False]


def test_several_problems_in_one_file_are_all_reported(data):
    path = data / "indicators.csv"
    r1 = edit_line(path, "2015,summits_per_year,", "2015,summits_per_year,", "2015,summits_per_yr,")
    r2 = edit_line(path, "2012,putin_approval_levada,", "2012,", "abc,")
    r3 = append_line(path, "2011,japan_cabinet_approval,140,NHK,maybe")
    r4 = append_line(path, "2013,trade_jpn_rus_usd_bn,0,,0")
    problems = problems_of(data)
    assert_problem(problems, "indicators.csv", r1, "indicator", "unknown indicator 'summits_per_yr'")
    assert_problem(problems, "indicators.csv", r2, "year", "'abc' is not a whole number")
    assert_problem(problems, "indicators.csv", r3, "value", "outside its range")
    assert_problem(problems, "indicators.csv", r3, "approximate", "approximate must be 0 or 1")
    assert_problem(problems, "indicators.csv", r4, "value", "cannot take the 'log' transform")
    assert_problem(problems, "indicators.csv", r4, "source", "missing source")
    # 2011 and 2013 already exist for these indicators
    assert_problem(problems, "indicators.csv", r3, "year", "duplicate value for 'japan_cabinet_approval' in 2011")
    assert_problem(problems, "indicators.csv", r4, "year", "duplicate value for 'trade_jpn_rus_usd_bn' in 2013")
    assert len(problems) == 8


def test_problems_in_several_files_are_all_reported(data):
    edit_meta(data, "summits_per_year", direction="0")
    edit_line(data / "outcomes.csv", "2010,", "2010,", "abc,")
    append_line(data / "indicators.csv", "2011,zzz,1,src,0")
    with pytest.raises(ValidationError) as exc:
        load_dataset(data)
    assert {p.file for p in exc.value.problems} == {"indicators_meta.csv", "indicators.csv", "outcomes.csv"}
    assert f"{len(exc.value.problems)} problem(s) found" in str(exc.value)


@pytest.mark.parametrize("name", ["indicators.csv", "indicators_meta.csv", "outcomes.csv"])
def test_missing_file_is_named(data, name):
    (data / name).unlink()
    problems = problems_of(data)
    p = assert_problem(problems, name, None, None, "file not found")
    assert name in str(p)


def test_empty_file_is_reported(data):
    (data / "outcomes.csv").write_text("", encoding="utf-8")
    problems = problems_of(data)
    assert_problem(problems, "outcomes.csv", None, None, "file is empty")


def test_not_utf8_is_reported(data):
    path = data / "outcomes.csv"
    path.write_bytes(path.read_bytes().replace("Hosokawa–Yeltsin".encode(), "Hosokawa\x96Yeltsin".encode("latin-1")))
    problems = problems_of(data)
    assert_problem(problems, "outcomes.csv", None, None, "not valid UTF-8")


def test_problem_str_names_file_row_and_field(data):
    edit_line(data / "indicators.csv", "2010,putin_approval_levada,", "putin_approval_levada", "putin_aproval_levada")
    with pytest.raises(ValidationError) as exc:
        load_dataset(data)
    text = str(exc.value)
    assert "indicators.csv, row " in text and "field 'indicator'" in text and "did you mean" in text


# --------------------------------------------------------------------------- row numbers (known bug)


def test_row_number_after_blank_line(data):
    path = data / "indicators.csv"
    lines = lines_of(path)
    lines.insert(5, "")
    write_lines(path, lines)
    row = edit_line(path, "2015,summits_per_year,", "2015,", "abc,")
    problems = problems_of(data)
    assert_problem(problems, "indicators.csv", row, "year", "not a whole number")


def test_row_number_after_multiline_quoted_field(data):
    path = data / "outcomes.csv"
    edit_line(path, "1993,", "Yeltsin visits Tokyo;", "Yeltsin visits Tokyo;\ncontinued")
    row = edit_line(path, "2010,", "2010,", "abc,")
    problems = problems_of(data)
    assert_problem(problems, "outcomes.csv", row, "year", "not a whole number")


# --------------------------------------------------------------------------- property tests

# indicator -> (exclusive lower bound?, lower, upper, exclusive upper bound?) allowed by meta and transform
ROUND_TRIP = {
    "mid_years_jpn_rus": (False, 0.0, 100.0, False),          # none, 0..100
    "japan_cabinet_approval": (True, 0.0, 100.0, True),       # logit_pct
    "icews_coop_share_jpn_rus": (True, 0.0, 1.0, True),       # logit
    "trade_jpn_rus_usd_bn": (True, 0.0, 1000.0, False),       # log
}


@st.composite
def indicator_series(draw):
    ind = draw(st.sampled_from(sorted(ROUND_TRIP)))
    ex_lo, lo, hi, ex_hi = ROUND_TRIP[ind]
    years = draw(st.lists(st.integers(1900, THIS_YEAR), min_size=1, max_size=12, unique=True))
    values = draw(st.lists(st.floats(lo, hi, exclude_min=ex_lo, exclude_max=ex_hi,
                                     allow_nan=False, allow_infinity=False),
                           min_size=len(years), max_size=len(years)))
    return ind, dict(zip(years, values))


def replace_series(path: Path, indicator: str, rows: list[list[str]]) -> dict[int, int]:
    """Replace ``indicator``'s rows of indicators.csv by ``rows``; return {index in rows: line number}."""
    lines = lines_of(path)
    kept = [line for line in lines if not line.split(",", 2)[1] == indicator]
    write_lines(path, kept + [csv_line(r) for r in rows])
    return {i: len(kept) + 1 + i for i in range(len(rows))}


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(indicator_series())
def test_indicator_values_round_trip(series):
    ind, by_year = series
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        rows = [[str(y), ind, repr(v), "generated source", "0"] for y, v in by_year.items()]
        replace_series(ws.data_dir / "indicators.csv", ind, rows)
        ds = load_dataset(ws.data_dir)
    got = ds.values[ds.values["indicator"] == ind]
    assert dict(zip(got["year"].tolist(), got["value"].tolist())) == by_year
    assert list(got["year"]) == sorted(by_year)
    assert (got["source"] == "generated source").all()


NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
NONFINITE = re.compile(r"[+-]?(nan|inf|infinity)", re.IGNORECASE)

# Unicode decimal digits (category Nd, e.g. full-width '５') are left out: Python's float()
# accepts them, see the report. Surrogates cannot be written as UTF-8.
not_numbers = st.text(st.characters(blacklist_categories=("Cs", "Nd")), max_size=12) | \
    st.from_regex(r"\A[0-9.eE+\-_ ,x%]{1,8}\Z")


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(text=not_numbers)
def test_any_non_number_value_is_reported_on_its_row(text):
    stripped = text.strip()
    assume(not NUMBER.fullmatch(stripped))  # a plain number is not what this test is about
    expected = ("not a finite number",) if NONFINITE.fullmatch(stripped) else ("not a number", "empty value")
    expected += ("contains the control character",  # named as such (issue 13)
                 "has non-ASCII digits")  # e.g. superscript '¹', a digit to str.isdigit but not ASCII
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        path = ws.data_dir / "indicators.csv"
        lines = lines_of(path)
        n = line_no(path, "2010,mid_years_jpn_rus,")
        # the bad row goes last so that a quoted line break in it cannot shift other rows
        del lines[n - 1]
        write_lines(path, lines + [csv_line(["2010", "mid_years_jpn_rus", text, "src", "0"])])
        row = len(lines) + 1
        problems = problems_of(ws.data_dir)
    assert len(problems) == 1, [str(p) for p in problems]
    p = problems[0]
    assert (p.file, p.row, p.field) == ("indicators.csv", row, "value")
    assert any(e in p.message for e in expected), p.message
