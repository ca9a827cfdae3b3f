"""Any dyad: workspace.toml, a blank workspace for another dyad, data check guidance, the
CINC prefill, and a synthetic dyad (Alphaland-Betastan) through every command, with no
trace of the shipped default's names in any output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from dyad_data import CLAIM_TOML, DYAD, FIRST, LAST, generate
from pdftext import pdf_text
from forecast.cli.main import main
from forecast.data.config import load_config
from forecast.data.loaders import load_dataset
from forecast.errors import ValidationError
from forecast.workspace import Workspace, content_hash

FORBIDDEN = ("Russia", "Japan", "Kuril")
TINY = ["--draws", "100", "--tune", "100", "--chains", "2", "--seed", "5", "--no-retry"]


def run(*args, ok: bool = True):
    r = CliRunner().invoke(main, [str(a) for a in args])
    if ok:
        assert r.exit_code == 0, r.output + (repr(r.exception) if r.exception else "")
    return r


def no_default_names(text: str, where: str) -> None:
    for word in FORBIDDEN:
        assert word.lower() not in text.lower(), f"'{word}' in {where}"


def problems_text(r) -> str:
    assert r.exit_code == 1, r.output
    return r.output


# ------------------------------------------------------------------------ no dyad in the code
def test_the_package_code_names_no_dyad():
    import forecast

    pkg = Path(forecast.__file__).parent
    hits = [f"{f.relative_to(pkg)}:{i}" for f in sorted(pkg.rglob("*.py"))
            for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
            if re.search("|".join(FORBIDDEN), line, re.IGNORECASE)]
    assert len(list(pkg.rglob("*.py"))) > 30 and hits == []


# ------------------------------------------------------------------------ workspace.toml
def test_default_config_names_the_default_dyad(workspace):
    c = load_config(workspace.root)
    assert (c.side_a.id, c.side_b.id) == ("russia", "japan") and c.first_year == 1992
    assert c.claim is not None and c.claim.icow_claim == 82804
    assert load_dataset(workspace.data_dir).sides == ("russia", "japan")


def test_workspace_toml_is_in_the_content_hash(workspace):
    before = content_hash(workspace)
    path = workspace.root / "workspace.toml"
    path.write_text(path.read_text().replace('name = "Russia"', 'name = "Russian Federation"'))
    assert content_hash(workspace) != before


@pytest.mark.parametrize("edit, field, phrase", [
    (lambda t: t + "\n[extra]\nx = 1\n", "extra", "unknown table or key 'extra'"),
    (lambda t: t.replace('cow_code = 365', 'cow_code = 365\ncolour = "red"'), "side_a.colour",
     "unknown key 'colour' in [side_a]"),
    (lambda t: t.replace('id = "japan"', 'id = "russia"'), "side_b.id", "the same id"),
    (lambda t: t.replace('id = "japan"', 'id = "Japan!"'), "side_b.id", "lower_snake_case"),
    (lambda t: t.replace("first_year = 1992", "first_year = 1993"), "year", "coded outcomes begin in 1992"),
    (lambda t: t.replace("[lenses.trust]", "[lenses.truth]"), "lenses.truth", "unknown lens 'truth'"),
])
def test_config_problems_name_file_and_key(workspace, edit, field, phrase):
    path = workspace.root / "workspace.toml"
    path.write_text(edit(path.read_text()))
    with pytest.raises(ValidationError) as exc:
        load_dataset(workspace.data_dir)
    hits = [p for p in exc.value.problems if p.field == field and phrase in p.message]
    assert len(hits) == 1, [str(p) for p in exc.value.problems]
    assert hits[0].file == ("outcomes.csv" if field == "year" else "workspace.toml")


def test_missing_workspace_toml_is_a_data_check_problem(workspace):
    (workspace.root / "workspace.toml").unlink()
    out = problems_text(run("data", "check", "-w", workspace.root, ok=False))
    assert "workspace.toml: file not found" in out


def test_side_ids_come_from_the_config(workspace):
    path = workspace.root / "workspace.toml"
    path.write_text(path.read_text().replace('id = "japan"', 'id = "nippon"'))
    out = problems_text(run("data", "check", "-w", workspace.root, ok=False))
    assert "field 'side': leaders-lens indicators need side russia or nippon, got 'japan'" in out
    assert "no leaders-lens indicator for side 'nippon' (Japan)" in out


def test_comment_lines_are_skipped_with_row_numbers_kept(workspace):
    path = workspace.data_dir / "events.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    n_events = len(load_dataset(workspace.data_dir).events)
    # a comment with an unbalanced quote must not swallow the rows after it
    lines[1:1] = ['# an example "with a stray quote', "  # indented comment, 1992,summit_held,x,y"]
    lines.append("1992-13-01,summit_held,src,bad date")
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_dataset(workspace.data_dir)
    [p] = exc.value.problems
    assert (p.file, p.row, p.field) == ("events.csv", len(lines), "date")
    path.write_text("\n".join(lines[:-1]), encoding="utf-8")
    assert len(load_dataset(workspace.data_dir).events) == n_events


# ---------------------------------------------------------------------- blank workspace
def test_blank_workspace_and_data_check_guidance(tmp_path):
    ws = tmp_path / "cj"
    r = run("init", ws, "--dyad", "China-Japan", "--blank")
    assert "blank workspace for China-Japan" in r.output
    c = (ws / "workspace.toml").read_text()
    assert 'name = "China-Japan"' in c and 'id = "china"' in c and 'id = "japan"' in c
    assert sorted(p.name for p in (ws / "data").glob("*.csv")) == [
        "event_kinds.csv", "events.csv", "indicators.csv", "indicators_meta.csv", "outcomes.csv"]
    for f in (ws / "data").glob("*.csv"):
        lines = f.read_text().splitlines()
        assert "," in lines[0] and all(line.startswith("#") for line in lines[1:]) and len(lines) >= 3
    assert (ws / "priors" / "default.toml").is_file()
    out = problems_text(run("data", "check", "-w", ws, ok=False))
    expected = [
        "workspace.toml, field 'dyad.first_year': first_year is still the placeholder 0",
        "indicators_meta.csv, field 'lens': lens 'power' has no state indicators",
        "indicators_meta.csv, field 'lens': lens 'trust' has no state indicators",
        "indicators_meta.csv, field 'lens': lens 'leaders' has no state indicators",
        "indicators_meta.csv, field 'side': no leaders-lens indicator for side 'china' (China)",
        "indicators_meta.csv, field 'side': no leaders-lens indicator for side 'japan' (Japan)",
        "outcomes.csv, field 'year': no coded years yet",
        "event_kinds.csv, field 'kind': no event kinds defined yet",
    ]
    for line in expected:
        assert line in out, out
    assert ", row " not in out  # the commented examples are not data rows


def test_blank_init_refuses_bad_options(tmp_path):
    assert run("init", tmp_path / "a", "--dyad", "China-Japan", ok=False).exit_code == 2
    assert run("init", tmp_path / "b", "--blank", ok=False).exit_code == 2
    r = run("init", tmp_path / "c", "--dyad", "China", "--blank", ok=False)
    assert r.exit_code == 1 and "give the two sides as 'A-B'" in r.output
    assert not any((tmp_path / d).exists() for d in "abc")


def test_prefill_power_from_cinc(tmp_path):
    ws = tmp_path / "cj"
    r = run("init", ws, "--dyad", "China-Japan", "--blank", "--first-year", "1992", "--cow-codes", "710,740",
            "--prefill", "power")
    assert "Prefilled the power lens: cinc_ratio_china_japan" in r.output
    meta = (ws / "data" / "indicators_meta.csv").read_text()
    assert "cinc_ratio_china_japan,power,,state" in meta and "National Material Capabilities v7.0" in meta
    rows = [line.split(",") for line in (ws / "data" / "indicators.csv").read_text().splitlines()
            if line.startswith(("19", "20"))]
    by_year = {int(r[0]): float(r[2]) for r in rows}
    assert min(by_year) == 1992 and max(by_year) == 2022 and all("COW NMC 7.0" in ",".join(r) for r in rows)
    assert by_year[2022] == pytest.approx(0.23409663 / 0.024713842, rel=1e-9)  # SOURCES.md sample values
    out = problems_text(run("data", "check", "-w", ws, ok=False))
    assert "lens 'power' has no state indicators" not in out
    assert "lens 'trust' has no state indicators" in out and "lens 'leaders' has no state indicators" in out
    assert "placeholder" not in out
    again = run("data", "prefill", "power", "-w", ws, ok=False)
    assert again.exit_code == 1 and "prefilled before" in again.output


def test_prefill_writes_by_column_name_when_the_columns_are_reordered(tmp_path):
    """The loaders accept the columns in any order, so prefill must too: it writes each value under
    its column's name, and a second prefill is refused whatever the order."""
    ws = tmp_path / "cj"
    run("init", ws, "--dyad", "China-Japan", "--blank", "--first-year", "1992", "--cow-codes", "710,740")
    for name in ("indicators_meta.csv", "indicators.csv"):
        path = ws / "data" / name
        lines = path.read_text(encoding="utf-8").splitlines()
        header = lines[0].split(",")
        assert len(lines) == 1 or all(line.startswith("#") for line in lines[1:])  # blank: header only
        path.write_text(",".join(reversed(header)) + "\n", encoding="utf-8")
    run("data", "prefill", "power", "-w", ws)
    ds_problems = problems_text(run("data", "check", "-w", ws, ok=False))
    assert "lens 'power' has no state indicators" not in ds_problems and "expected" not in ds_problems
    from forecast.data.loaders import load_meta

    problems = []
    meta = load_meta(ws / "data" / "indicators_meta.csv", problems)
    assert problems == [] and meta.loc["cinc_ratio_china_japan", "lens"] == "power"
    assert meta.loc["cinc_ratio_china_japan", "transform"] == "log"
    again = run("data", "prefill", "power", "-w", ws, ok=False)
    assert again.exit_code == 1 and "prefilled before" in again.output


# ------------------------------------------------------------------ a synthetic dyad end to end
@pytest.fixture(scope="module")
def alphaland(tmp_path_factory):
    """A blank Alphaland-Betastan workspace filled with generated data and fitted (tiny)."""
    root = tmp_path_factory.mktemp("dyad") / "ab"
    run("init", root, "--dyad", DYAD, "--blank", "--first-year", FIRST)
    check = run("data", "check", "-w", root, ok=False)
    assert check.exit_code == 1 and "no coded years yet" in check.output
    for name, text in generate().items():
        (root / "data" / name).write_text(text, encoding="utf-8")
    with open(root / "workspace.toml", "a", encoding="utf-8") as fh:
        fh.write(CLAIM_TOML)
    outputs = {"data check": run("data", "check", "-w", root).output}
    fit = run("fit", "-w", root, "--json", *TINY)
    outputs["fit --json"] = fit.stdout
    return Workspace(root), outputs


def test_synthetic_dyad_through_every_command(alphaland, tmp_path):
    ws, outputs = alphaland
    root = ws.root
    assert outputs["data check"].startswith("OK: 10 indicators")
    report = json.loads(outputs["fit --json"])
    d = report["dyad"]
    assert d["name"] == DYAD and d["first_year"] == FIRST and d["claim"]["name"] == "Gamma Islands"
    assert (d["side_a"]["id"], d["side_a"]["name"]) == ("alphaland", "Alphaland")
    assert (d["side_b"]["id"], d["side_b"]["name"]) == ("betastan", "Betastan")
    assert set(report["lenses"]["leaders"]["sides"]) == {"side_a", "side_b"}
    assert report["as_of"] == LAST and report["forecast_year"] == LAST + 1

    show = run("show", "-w", root).output
    assert show.startswith(f"{DYAD} forecast") or f"\n{DYAD} forecast" in show
    assert "leaders by side: Alphaland" in show and f"standard deviations of {FIRST}-{LAST}" in show
    outputs["show"] = show
    before = run("show", "-w", root, "--json").output
    outputs["show --json"] = before

    upd = run("update", "-w", root, "--indicator", "betastan_cabinet_approval", "--value", "30",
              "--date", f"{LAST + 1}-03", "--source", "Generated poll")
    outputs["update"] = upd.output
    outputs["history"] = run("history", "-w", root).output
    for kind in ("probabilities", "lenses", "trajectory", "drivers", "diagnostics"):
        out = tmp_path / f"{kind}.svg"
        run("plot", kind, "-w", root, "--out", out)
        outputs[f"plot {kind}"] = out.read_text(encoding="utf-8")
    assert "Alphaland side (mean)" in outputs["plot lenses"]
    assert "Power shift (Alphaland vs Betastan)" in outputs["plot lenses"]
    for fmt in ("md", "html", "pdf"):
        out = tmp_path / f"brief.{fmt}"
        run("brief", "-w", root, "--out", out, "--allow-failed-diagnostics")
        text = pdf_text(out.read_bytes()) if fmt == "pdf" else out.read_text(encoding="utf-8")
        assert f"{DYAD} relations: forecast brief" in text, fmt
        assert "Alphaland" in text and "Betastan" in text
        outputs[f"brief {fmt}"] = text
    undo = run("undo", "-w", root)
    outputs["undo"] = undo.output
    assert run("show", "-w", root, "--json").output == before  # undo restores the forecast exactly
    for where, text in outputs.items():
        no_default_names(text, where)
