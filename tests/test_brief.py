"""forecast brief: one page for decision makers, with the numbers of 'forecast show'.

Runs on the synthetic posterior of test_plots (no sampling); one end-to-end test uses the
session's tiny real fit, whose diagnostics fail.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil

import pytest
from data_years import FORECAST_YEAR, IN_FORECAST_YEAR, IN_FORECAST_YEAR_DAY, needs_forecast_year
from test_plots import (
    add_update,
    check_file,
    make_synthetic_fit,
    pdf_pages,
    run,
    snapshot,
    text_problems,
)

from forecast import __version__
from forecast.report.brief import change_note, no_change_text
from forecast.report.summary import pct
from forecast.workspace import Workspace, init_workspace


@pytest.fixture(scope="module")
def brief_source(tmp_path_factory):
    ws = init_workspace(tmp_path_factory.mktemp("brief") / "ws")
    make_synthetic_fit(ws, seed=5)
    return ws


@pytest.fixture
def bws(brief_source, tmp_path) -> Workspace:
    dst = tmp_path / "bws"
    shutil.copytree(brief_source.root, dst)
    return Workspace(dst)


@pytest.fixture
def failed_ws(tmp_path) -> Workspace:
    ws = init_workspace(tmp_path / "failed")
    make_synthetic_fit(ws, ok=False, seed=6)
    return ws


def show_json(ws) -> dict:
    r = run("show", "-w", ws.root, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def headline_strings(show: dict) -> list[str]:
    """The headline numbers as 'show' formats them: mean and 80% interval of each probability."""
    out = []
    for v in show["probabilities"].values():
        out += [pct(v["mean"]).strip(), pct(v["lo80"]).strip(), pct(v["hi80"]).strip()]
    return out


def test_brief_in_three_formats_carries_the_numbers_of_show(bws, tmp_path):
    before = snapshot(bws.root)
    show = show_json(bws)
    for fmt in ("md", "html", "pdf"):
        out = tmp_path / f"brief.{fmt}"
        r = run("brief", "-w", bws.root, "--out", out, "--json")
        assert r.exit_code == 0, r.output
        info = json.loads(r.output)
        assert info["probabilities"] == show["probabilities"]  # the same build_report, exactly
        assert info["bytes"] == out.stat().st_size and info["diagnostics_ok"] is True and info["warnings"] == []
        if fmt == "pdf":
            data = check_file(out, "pdf", min_bytes=15_000)
            assert pdf_pages(data) == 1 and info["pages"] == 1
            assert re.search(rb"/MediaBox \[ ?0 0 595.44 841.68 ?\]", data)  # A4 (8.27 x 11.69 in) in points
            continue
        text = out.read_text()
        for s in headline_strings(show):
            assert s in text
        y = show["forecast_year"]
        for label in (f"P(relationship improves in {y})", f"P(territorial settlement {y}-{y + 4})",
                      f"P(territorial settlement {y}-{y + 9})"):
            assert label in text
        assert "Top drivers" in text and "Data freshness" in text and "Diagnostics OK" in text
        assert "80% equal-tailed posterior interval" in text
        assert f"forecast {__version__}" in text and f"seed {show['seed']}" in text and "preset 'default'" in text
        assert show["content_hash"][:12] in text
        assert "No change shown: no update since the fit of 2026-01-02, so no earlier forecast to compare with." in text
        if fmt == "md":
            assert "![Key figure](data:image/png;base64,iVBORw0KGgo" in text
        else:
            assert text.startswith("<!DOCTYPE html>") and "<svg" in text and text.rstrip().endswith("</html>")
    assert snapshot(bws.root) == before


def test_brief_lists_three_plain_drivers_and_a_line_per_lens(bws):
    from forecast.report.brief import build_brief

    b = build_brief(bws)
    assert len(b.drivers) == 3 and len(b.lens_lines) == 3
    r = b.report
    # the top driver is the largest effect on either log-odds scale
    effects = [abs(v["contribution"]) for v in r["lenses"].values()] + \
              [abs(v["settle_contribution"]) for v in r["lenses"].values()] + [abs(r["barrier_settle_contribution"])]
    assert f"{-max(effects):+.2f}" in b.drivers[0] or f"{max(effects):+.2f}" in b.drivers[0]
    for line, lens in zip(b.lens_lines, ("Power shift", "Trust and interaction", "Leaders")):
        assert line.startswith(lens)
    assert "Russia" in b.lens_lines[2] and "Japan" in b.lens_lines[2]


def test_failed_diagnostics_refuse_the_brief_unless_allowed(failed_ws, tmp_path):
    out = tmp_path / "brief.pdf"
    before = snapshot(failed_ws.root)
    r = run("brief", "-w", failed_ws.root, "--out", out)
    assert r.exit_code == 1
    assert r.output == ("Error: the stored fit failed its diagnostics (R-hat 1.080 >= 1.01 (factor_state); bulk ESS "
                        "35 < 400 (x); 3 divergent transitions): a brief is refused. Refit (forecast fit --draws N "
                        "--tune N) or pass --allow-failed-diagnostics for a brief marked DIAGNOSTICS FAILED on its "
                        "face\n")
    assert not out.exists() and list(tmp_path.iterdir()) == [failed_ws.root]
    r = run("brief", "-w", failed_ws.root, "--out", out, "--allow-failed-diagnostics", "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["diagnostics_ok"] is False
    assert info["warnings"][0].startswith("DIAGNOSTICS FAILED: do not use these numbers")
    check_file(out, "pdf")
    md = tmp_path / "brief.md"
    assert run("brief", "-w", failed_ws.root, "--out", md, "--allow-failed-diagnostics").exit_code == 0
    text = md.read_text()
    assert "> **DIAGNOSTICS FAILED: do not use these numbers." in text
    assert "**DIAGNOSTICS FAILED: R-hat max 1.080" in text
    assert snapshot(failed_ws.root) == before


def test_stale_fit_is_flagged_on_the_face(bws, tmp_path):
    p = bws.priors_dir / "default.toml"
    p.write_text(p.read_text() + "\n# an analyst's edit\n")
    out = tmp_path / "brief.md"
    r = run("brief", "-w", bws.root, "--out", out)
    assert r.exit_code == 0, r.output
    assert "** STALE FIT" in r.output  # on stderr too
    assert "> **STALE FIT: workspace.toml, data/, priors/ or the settlement prior changed" in out.read_text()


@needs_forecast_year
def test_change_since_previous_update_and_since_a_date(bws, tmp_path):
    before = show_json(bws)
    add_update(bws, "--indicator", "japan_cabinet_approval", "--value", "45", "--date", IN_FORECAST_YEAR,
               "--source", "test poll")
    after = show_json(bws)
    from forecast.report.brief import build_brief

    b = build_brief(bws)
    # the change column is the effect of that update, not a change since the reading's date
    assert b.since == f"the effect of the latest update (Japanese cabinet approval = 45%, dated {IN_FORECAST_YEAR})"
    assert change_note(b).startswith(f"Change: the effect of the latest update (Japanese cabinet approval = 45%, "
                                     f"dated {IN_FORECAST_YEAR}). Intervals:")
    for h in b.headlines:
        d = round(100 * (after["probabilities"][h.key]["mean"] - before["probabilities"][h.key]["mean"]), 1)
        assert h.change == (f"{d:+.1f} pp" if d else "0.0 pp")
        assert h.mean == pct(after["probabilities"][h.key]["mean"]).strip()
    assert b.what_changed.startswith(f"Latest update, Japanese cabinet approval = 45%, dated {IN_FORECAST_YEAR} "
                                     f"(applied ")
    fresh = {f.indicator: f for f in b.freshness}
    assert fresh["japan_cabinet_approval"].from_ledger and fresh["japan_cabinet_approval"].last_year == FORECAST_YEAR
    # --since a date before the stored fit was made: no forecast stored then, so no change column
    b2 = build_brief(bws, since="2000-01-01")
    assert not b2.has_change and no_change_text(b2) == (
        "No change shown: no forecast is stored from 2000-01-01 to compare with (the earliest is that of the fit "
        "of 2026-01-02; pass --since 2026-01-02 or later).")
    # --since a date with a stored forecast: the change since the forecast as it stood then
    today = datetime.date.today().isoformat()
    b3 = build_brief(bws, since=today)
    assert b3.has_change and change_note(b3).startswith(f"Change: since the forecast as it stood on {today}. ")
    r = run("brief", "-w", bws.root, "--out", tmp_path / "b.md", "--since", "last week")
    assert r.exit_code == 2  # a usage error, before the workspace is read
    assert "--since" in r.output and "'last week' is not a date: use YYYY-MM-DD" in r.output


@needs_forecast_year
def test_change_caption_after_a_coded_event(bws):
    """A coded event's date is the event's, not the start of the change: the caption says the
    change is the effect of the update (it read 'since the previous update (sanctions lifted
    (2026-03-01))', as if the change ran from the day sanctions were lifted)."""
    from forecast.report.brief import build_brief

    r = run("update", "-w", bws.root, "--event", "sanctions_lifted", "--date", IN_FORECAST_YEAR_DAY, "--source", "x")
    assert r.exit_code == 0, r.output
    b = build_brief(bws)
    assert b.has_change
    assert change_note(b).startswith(f"Change: the effect of the latest update (sanctions lifted, dated "
                                     f"{IN_FORECAST_YEAR_DAY}). ")
    assert b.what_changed.startswith(f"Latest update, sanctions lifted, dated {IN_FORECAST_YEAR_DAY} (applied ")


def test_data_freshness_flags_stale_inputs(bws):
    from forecast.report.brief import STALE_AFTER_YEARS, build_brief

    b = build_brief(bws)
    fresh = {f.indicator: f for f in b.freshness}
    assert len(fresh) == 19
    icews = fresh["icews_coop_share_jpn_rus"]
    assert icews.last_year == 2014 and icews.age == 11 and icews.stale
    assert not fresh["summits_per_year"].stale and fresh["summits_per_year"].age == 0
    assert all(f.stale == (f.age > STALE_AFTER_YEARS) for f in b.freshness)


FRESH_VALUES = {  # display name -> value cell, from the shipped data and its metadata (unit, transform, min, max)
    "Coalition majority in both houses": "no", "Constitutional ban on ceding territory": "yes",
    "Share of cooperative events (ICEWS)": "82.2%", "Japan–Russia trade": "US$ 19.9 bn~",
    "Leader summits per year": "0 meetings/year~", "Japanese PM's years in office": "2 months",
    "Militarized disputes under way": "1", "Russian visitors to Japan": "22,300 persons~",
}


def test_freshness_values_read_with_their_units_in_every_format(bws, tmp_path):
    """Every value of the freshness table in words a reader takes in: yes/no, a share as a
    percentage, the currency before the number, a PM's tenure in months (md, html and pdf alike)."""
    from pdftext import pdf_text

    for fmt in ("md", "html", "pdf"):
        out = tmp_path / f"brief.{fmt}"
        r = run("brief", "-w", bws.root, "--out", out)
        assert r.exit_code == 0, r.output
        if fmt == "pdf":
            lines = pdf_text(out.read_bytes()).split("\n")
            for name, value in FRESH_VALUES.items():
                assert name in lines and value in lines, (name, value)
            continue
        text = out.read_text(encoding="utf-8")
        for name, value in FRESH_VALUES.items():
            row = (f"| {name} | " if fmt == "md" else f"<td>{name.replace(chr(39), '&#x27;')}</td>")
            line = next(part for part in text.split("\n" if fmt == "md" else "<tr") if row in part)
            assert (f"| {value} |" if fmt == "md" else f"<td class=num>{value}</td>") in line, (fmt, name, line)


def test_bom_in_every_data_file_is_read_alike_everywhere(bws, tmp_path):
    """A UTF-8 BOM (as Excel writes one) at the head of every data/*.csv: 'data check' accepts the
    workspace, and every reader of the data files (plot lenses, brief in pdf and md) goes through the
    same validated loaders, so it reads exactly what it reads without the BOMs (issue 9: 'plot lenses'
    died with KeyError: 'kind')."""
    from forecast.report.brief import build_brief
    from forecast.report.lenses import event_marks

    ws = init_workspace(tmp_path / "bom")
    files = sorted(ws.data_dir.glob("*.csv"))
    assert {f.name for f in files} >= {"indicators_meta.csv", "indicators.csv", "outcomes.csv",
                                       "event_kinds.csv", "events.csv"}
    for f in files:
        data = f.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        f.write_bytes(b"\xef\xbb\xbf" + data)
    make_synthetic_fit(ws, seed=5)  # the synthetic posterior of bws, on the BOM files (so not stale)

    r = run("data", "check", "-w", ws.root)
    assert r.exit_code == 0 and r.output.startswith("OK: "), r.output
    assert r.output == run("data", "check", "-w", bws.root).output

    plain, bom = build_brief(bws), build_brief(ws)
    assert bom.freshness == plain.freshness and len(bom.freshness) == 19
    assert bom.drivers == plain.drivers and bom.lens_lines == plain.lens_lines
    assert bom.report["probabilities"] == plain.report["probabilities"]
    marks = event_marks(ws, bom.report["forecast_year"])
    assert marks == event_marks(bws, plain.report["forecast_year"]) and len(marks) == 72

    out = tmp_path / "lenses.png"
    r = run("plot", "lenses", "-w", ws.root, "--out", out, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["warnings"] == []
    check_file(out, "png")
    for fmt in ("pdf", "md"):
        out = tmp_path / f"brief.{fmt}"
        r = run("brief", "-w", ws.root, "--out", out, "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["warnings"] == []  # not stale: the fit was made on these bytes
        if fmt == "pdf":
            check_file(out, "pdf", min_bytes=15_000)
        else:
            assert "Data freshness" in out.read_text() and "Share of cooperative events (ICEWS)" in out.read_text()


def test_brief_page_is_one_legible_a4_page(failed_ws):
    """With every optional item present (warnings, update text), the page holds and no text overlaps."""
    p = failed_ws.priors_dir / "default.toml"
    p.write_text(p.read_text() + "\n# edit\n")
    from forecast.report.brief import build_brief
    from forecast.report.brief_figure import key_figure
    from forecast.report.brief_pdf import render_pdf_figure
    from forecast.report.style import A4

    b = build_brief(failed_ws, allow_failed=True)
    assert len(b.warnings) == 2
    fig = render_pdf_figure(b)
    assert tuple(fig.get_size_inches()) == A4
    assert text_problems(fig) == []
    # legible when printed: the freshness table (it was set in 6.2 pt) and its note in 7.5 pt or more
    names = {x.display_name for x in b.freshness}
    fresh = [t for t in fig.texts if t.get_text() in names]
    assert len(fresh) == len(b.freshness) == 19
    assert min(t.get_fontsize() for t in fresh) >= 7.5
    above_footer = [t for t in fig.texts if t.get_position()[1] * A4[1] > 0.55 + 0.6]  # the footer: 0.6 in high
    assert min(t.get_fontsize() for t in above_footer) >= 7.5
    renderer = fig.canvas.get_renderer()
    margin = 0.55 * fig.dpi  # every text stays inside the page margins (and so inside the boxes)
    for t in fig.texts:
        bb = t.get_window_extent(renderer)
        assert margin - 1 <= bb.x0 and bb.x1 <= fig.bbox.x1 - margin + 1, t.get_text()
    assert text_problems(key_figure(b)) == []


@pytest.mark.parametrize("out_name, message", [
    ("brief.png", "unknown suffix '.png'; use .pdf, .md or .html"),
    ("bws/workspace.toml/brief.pdf", "is a file, not a folder"),  # a missing folder is created (test_os_errors)
])
def test_brief_bad_out(bws, tmp_path, out_name, message):
    out = tmp_path / out_name
    r = run("brief", "-w", bws.root, "--out", out)
    assert r.exit_code == 1 and message in r.output and "Traceback" not in r.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bws"]


def test_real_fit_brief_is_refused_then_flagged_with_the_numbers_of_show(fitted_workspace, tmp_path):
    """The session's tiny real fit fails its diagnostics (ESS): refused, then flagged."""
    out = tmp_path / "brief.md"
    r = run("brief", "-w", fitted_workspace.root, "--out", out)
    assert r.exit_code == 1 and "a brief is refused" in r.output and not out.exists()
    r = run("brief", "-w", fitted_workspace.root, "--out", out, "--allow-failed-diagnostics")
    assert r.exit_code == 0, r.output
    text = out.read_text()
    for s in headline_strings(show_json(fitted_workspace)):
        assert s in text
    assert "DIAGNOSTICS FAILED" in text
