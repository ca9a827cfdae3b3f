"""A brief a decision maker can read (issue 13 item 7): display names instead of indicator ids,
numbers without scientific notation, no change column without an earlier forecast, and one
sentence per lens on how stale its inputs are. The brief tests run on the session's tiny real fit
(whose diagnostics fail, hence --allow-failed-diagnostics)."""

from __future__ import annotations

import csv
import re

import pytest
from click.testing import CliRunner
from data_years import IN_FORECAST_YEAR, needs_forecast_year
from pdftext import pdf_text

from forecast.cli.main import main
from forecast.data.loaders import load_dataset
from forecast.errors import ValidationError
from forecast.report.readable import Unit, human_number, units, value_text

SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE][+-]\d")
MAX_ID_SHOWN = 20


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def briefs(ws, tmp_path, tag: str) -> dict[str, str]:
    """The brief in md, html and pdf (the PDF as its drawn text), written by the CLI."""
    out = {}
    for fmt in ("md", "html", "pdf"):
        path = tmp_path / f"{tag}.{fmt}"
        r = run("brief", "-w", ws.root, "--out", path, "--allow-failed-diagnostics")
        assert r.exit_code == 0, r.output
        assert "Traceback" not in r.output
        out[fmt] = pdf_text(path.read_bytes()) if fmt == "pdf" else path.read_text(encoding="utf-8")
    return out


def prose(fmt: str, text: str) -> str:
    """The text a reader sees: the embedded key figure (base64 PNG, inline SVG) left out."""
    if fmt == "md":
        return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    if fmt == "html":
        return re.sub(r"<svg.*?</svg>", "", text, flags=re.S)
    return text


# --------------------------------------------------------------------------- numbers and units
@pytest.mark.parametrize("value, text", [
    (22341.2, "22,341"), (22300.0, "22,300"), (55.34, "55.3"), (4.0, "4"), (0.45678, "0.457"),
    (0.0000123, "0.0000123"), (1234567.0, "1.23 million"), (2.5e9, "2.5 billion"), (-3.14159, "-3.14"),
    (0.0, "0"), (float("nan"), "n/a"), (1e16, "10,000,000,000,000,000"),
])
def test_numbers_for_people(value, text):
    assert human_number(value) == text
    assert not SCIENTIFIC.search(human_number(value))


@pytest.mark.parametrize("unit, text", [
    ("% approve", "55.3%"), ("percent", "55.3%"), ("persons", "55.3 persons"), ("US$ bn", "US$ 55.3 bn"),
    ("ratio", "55.3"), ("count", "55.3"), ("meetings per year", "55.3 meetings/year"), ("€", "€ 55.3"),
    ("a unit that is really a description", "55.3"),
])
def test_values_carry_their_unit_where_it_reads_as_one(unit, text):
    assert value_text(55.3, unit) == text


@pytest.mark.parametrize("unit, value, text", [
    (Unit("binary (1 = ban in force)", "none", 0, 1), 1, "yes"),
    (Unit("binary (1 = ban in force)", "none", 0, 1), 0, "no"),
    (Unit("binary (1 = ban in force)", "none", 0, 1), 0.5, "0.5"),   # not a yes or a no: the number
    (Unit("share 0-1", "logit", 0, 1), 0.822, "82.2%"),
    (Unit("fraction", "logit", 0, 1), 0.05, "5%"),
    (Unit("proportion", "none", 0, 1), 0.5, "50%"),
    (Unit("count", "none", 0, 100), 1, "1"),
    (Unit("years", "none", 0, 100), 0.194, "2 months"),
    (Unit("years", "none", 0, 100), 0.05, "1 month"),
    (Unit("years", "none", 0, 100), 0.01, "under 1 month"),
    (Unit("years", "none", 0, 100), 3.44, "3.4 years"),
    (Unit("years", "none", 0, 100), 1.0, "1 year"),
    (Unit("years", "none", 0, 100), 0, "0 years"),
    (Unit("ratio", "log", 0, 1), 0.5, "0.5"),   # min 0, max 1 but neither a share nor logit: as it is
])
def test_values_read_by_their_metadata(unit, value, text):
    """Unit, transform, min and max of the metadata decide the text, never the indicator's name."""
    assert value_text(value, unit) == text


@pytest.mark.parametrize("indicator, value, text", [
    ("summits_per_year", 0, "0 meetings/year"), ("mid_years_jpn_rus", 1, "1"),
    ("icews_coop_share_jpn_rus", 0.822, "82.2%"), ("japan_coalition_majority_both_houses", 0, "no"),
    ("legal_barrier_territory", 1, "yes"), ("japan_pm_tenure_years", 0.194, "2 months"),
    ("trade_jpn_rus_usd_bn", 19.9, "US$ 19.9 bn"), ("russian_visitors_to_japan", 22300, "22,300 persons"),
    ("japan_cabinet_approval", 29, "29%"), ("gdp_ratio_chn_jpn", 4.22, "4.22"),
])
def test_shipped_indicators_read_with_their_units(workspace, indicator, value, text):
    assert value_text(value, units(load_dataset(workspace.data_dir).meta)[indicator]) == text


# --------------------------------------------------------------------------- display_name in the metadata
def test_every_shipped_indicator_has_a_short_unique_display_name(workspace):
    meta = load_dataset(workspace.data_dir).meta
    names = list(meta["display_name"])
    assert len(names) == len(meta) == 19
    assert all(0 < len(n) <= 40 for n in names) and len({n.casefold() for n in names}) == len(names)
    assert meta.loc["japan_cabinet_approval", "display_name"] == "Japanese cabinet approval"


def meta_row(path, indicator: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(indicator + ","))


def set_display_name(path, indicator: str, text: str) -> int:
    """Replace the display name (the last field) of one metadata row; return its line number."""
    lines = path.read_text(encoding="utf-8").split("\n")
    row = meta_row(path, indicator)
    line = lines[row - 1]
    cut = line.rindex(",\"") if line.endswith('"') else line.rindex(",")
    lines[row - 1] = line[:cut] + "," + text
    path.write_text("\n".join(lines), encoding="utf-8")
    return row


@pytest.mark.parametrize("text, phrase", [
    ("", "empty display_name"),
    ("A display name much longer than forty characters", "has 48 characters, more than 40"),
    ("Putin approval (FOM)", "display_name 'Putin approval (FOM)' is used twice (first on row"),
])
def test_bad_display_name_is_refused_with_file_row_and_field(workspace, text, phrase):
    path = workspace.data_dir / "indicators_meta.csv"
    row = set_display_name(path, "putin_approval_levada", text)
    before = path.read_bytes()
    with pytest.raises(ValidationError) as exc:
        load_dataset(workspace.data_dir)
    hits = [p for p in exc.value.problems
            if p.file == "indicators_meta.csv" and p.field == "display_name" and phrase in p.message]
    assert len(hits) == 1, [str(p) for p in exc.value.problems]
    # a duplicate is reported on the second of the two rows
    assert hits[0].row == (max(row, meta_row(path, "putin_approval_fom")) if "twice" in phrase else row)
    r = run("data", "check", "-w", workspace.root)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "indicators_meta.csv" in r.output and "display_name" in r.output
    assert path.read_bytes() == before


def test_metadata_without_the_display_name_column_is_refused(workspace):
    path = workspace.data_dir / "indicators_meta.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-1] == "display_name"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(row[:-1] for row in rows)
    r = run("data", "check", "-w", workspace.root)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "missing column 'display_name'" in r.output


def test_blank_workspace_example_rows_carry_a_display_name(tmp_path):
    from forecast.data.loaders import META_COLUMNS

    root = tmp_path / "cj"
    r = run("init", root, "--dyad", "China-India", "--blank", "--first-year", "1992")
    assert r.exit_code == 0, r.output
    lines = (root / "data" / "indicators_meta.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == list(META_COLUMNS) and "display_name" in META_COLUMNS
    examples = [line[2:] for line in lines if line.startswith("# ") and not line.startswith("# Rows")]
    assert examples and all(line.endswith(("Bilateral trade", "China's leader approval")) for line in examples)


# --------------------------------------------------------------------------- the brief
def test_brief_reads_as_prose_not_ids_and_changes_only_after_an_update(fitted_workspace, tmp_path):
    from forecast.report.brief import build_brief

    ws = fitted_workspace
    meta = load_dataset(ws.data_dir).meta
    long_ids = [i for i in meta.index if len(i) > MAX_ID_SHOWN]
    assert "japan_coalition_majority_both_houses" in long_ids and len(long_ids) >= 5
    b = build_brief(ws, allow_failed=True)
    assert not b.has_change and all(h.change is None for h in b.headlines)
    assert len(b.staleness) == 3 and all(s.endswith(".") for s in b.staleness)

    first = briefs(ws, tmp_path, "first")
    for fmt, text in first.items():
        seen = prose(fmt, text)
        for ind in long_ids:
            assert ind not in seen and ind[:MAX_ID_SHOWN] not in seen, (fmt, ind)
        assert not SCIENTIFIC.search(seen), (fmt, SCIENTIFIC.search(seen))
        assert "Japanese cabinet approval" in seen and "Coalition majority in both houses" in seen, fmt
        assert "n/a" not in seen, fmt
    md, html = first["md"], first["html"]
    assert "| | mean | 80% interval |\n|---|---:|---:|\n" in md and "change |" not in md
    assert "<th class=num>change</th>" not in html
    assert "change" not in first["pdf"].split("\n")  # no column header
    assert re.search(r"No change shown: no update since the fit of \d{4}-\d\d-\d\d, so no earlier forecast to "
                     r"compare with\.", md)
    for sentence in b.staleness:  # one staleness sentence per lens, under its lens
        assert md.count(sentence) == 1 and html.count(sentence) == 1
    lens_part = md[md.index("## The three lenses now"):md.index("## Key figure")]
    bullets = [line for line in lens_part.splitlines() if line.startswith("- ")]
    assert len(bullets) == 3 and all(line.endswith(s) for line, s in zip(bullets, b.staleness))


@needs_forecast_year
def test_change_column_appears_after_an_update(fitted_workspace, tmp_path):
    ws = fitted_workspace
    r = run("update", "-w", ws.root, "--indicator", "japan_coalition_majority_both_houses", "--value", "1",
            "--date", IN_FORECAST_YEAR, "--source", "test")
    assert r.exit_code == 0, r.output
    after = briefs(ws, tmp_path, "after")
    md, html = after["md"], after["html"]
    assert "| | mean | 80% interval | change |" in md and " pp |" in md
    assert "<th class=num>change</th>" in html
    assert "change" in after["pdf"].split("\n")
    assert f"the effect of the latest update (Coalition majority in both houses = yes, dated {IN_FORECAST_YEAR})" in md
    for fmt, text in after.items():
        seen = prose(fmt, text)
        assert "japan_coalition_majority_both_houses" not in seen and "japan_coalition_majo" not in seen, fmt
        assert not SCIENTIFIC.search(seen), fmt
