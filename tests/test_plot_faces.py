"""What a briefing figure says on its face (forecast plot): warnings stamped on a stale or failed
fit, legends that cover no data, readable markers and tick labels. On the synthetic fit of
``test_plots`` (no sampling)."""

from __future__ import annotations

import itertools
import re
import warnings

import numpy as np
import pytest

from data_years import IN_FORECAST_YEAR, IN_FORECAST_YEAR_DAY, needs_forecast_year

import forecast
from forecast.errors import DiagnosticsFailedWarning, FigureWarning, StaleFitWarning
from forecast.report import style as S
from forecast.workspace import HASHED_INPUTS, init_workspace
from test_plots import add_update, make_synthetic_fit, run, synth, synthetic_source, text_problems  # noqa: F401

STAMPED = ("probabilities", "lenses", "trajectory", "diagnostics")


def edit_a_value(ws):
    """The reviewer's edit: legal_barrier_territory in 2024 from 1 to 0, so the fit is stale."""
    p = ws.data_dir / "indicators.csv"
    text = p.read_text(encoding="utf-8")
    assert text.count("\n2024,legal_barrier_territory,1.0,") == 1
    p.write_text(text.replace("\n2024,legal_barrier_territory,1.0,", "\n2024,legal_barrier_territory,0.0,"),
                 encoding="utf-8")


def stamps(fig) -> list[str]:
    """Texts drawn in the warning colour outside every axes: the figure's stamp."""
    return [t.get_text() for t in fig.texts if t.get_color() == S.FAIL and t.get_text().strip()]


@pytest.mark.parametrize("kind", STAMPED)
def test_a_stale_fit_is_stamped_on_every_figure_and_warned_in_python(synth, kind):
    proj = forecast.open(synth.root)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FigureWarning)
        fresh = proj.plot(kind)  # a fresh fit: no stamp, no warning
    assert stamps(fresh) == []
    edit_a_value(synth)
    with pytest.warns(StaleFitWarning, match="STALE FIT"):
        fig = proj.plot(kind)
    text = " ".join(" ".join(stamps(fig)).split())
    assert f"STALE FIT: {HASHED_INPUTS} changed since this fit" in text and "run 'forecast fit'" in text
    assert text_problems(fig) == []  # the stamp overlaps no other text and stays on the figure


def test_a_stale_fit_is_stamped_in_the_written_file(synth, tmp_path):
    edit_a_value(synth)
    out = tmp_path / "p.svg"  # SVG keeps its text as text
    r = run("plot", "probabilities", "-w", synth.root, "--out", out)
    assert r.exit_code == 0, r.output
    assert f"** STALE FIT: {HASHED_INPUTS} changed since this fit; run 'forecast fit' **" in r.output
    assert "STALE FIT:" in out.read_text(encoding="utf-8")


@pytest.fixture
def failed(tmp_path):
    """A synthetic fit that failed its diagnostics."""
    ws = init_workspace(tmp_path / "ws")
    make_synthetic_fit(ws, ok=False)
    return ws


def test_failed_diagnostics_figure_keeps_its_summary_title_on_the_page(failed):
    """The table's title lists the failures: it ran off the figure's right edge on one line."""
    from forecast.report import analysis, plots

    stored, _ = analysis.load_current(failed)
    fig = plots.plot("diagnostics", analysis.compute("diagnostics", failed, stored))
    assert text_problems(fig) == []


def test_failed_diagnostics_are_stamped_on_every_figure(failed):
    ws = failed
    proj = forecast.open(ws.root)
    for kind in STAMPED:
        with pytest.warns(DiagnosticsFailedWarning):
            fig = proj.plot(kind)
        assert any(s.startswith("DIAGNOSTICS FAILED: do not use these numbers") for s in stamps(fig)), kind
        assert text_problems(fig) == [], kind


def legends_over_axes(fig) -> list[str]:
    """Legends drawn over an axes' data area (where they can hide data)."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return [f"{[t.get_text() for t in leg.get_texts()][:2]} over {ax.get_title(loc='left')!r}"
            for leg in legends for ax in fig.axes if ax.axison and leg.get_window_extent(r).overlaps(ax.bbox)]


def test_trajectory_legend_covers_no_data(synth):
    """Without updates, the in-sample trajectory's legend sat in the upper right of the data area,
    on top of the 80% band's peaks (2016-2018 near 93% in the default workspace's fit)."""
    from forecast.report import analysis, plots

    stored, _ = analysis.load_current(synth)
    res = analysis.compute("trajectory", synth, stored)
    assert res.mode == "in-sample"
    fig = plots.plot("trajectory", res)
    assert legends_over_axes(fig) == []
    assert text_problems(fig) == []


def event_marker_problems(fig) -> list[str]:
    """Event markers (^ and v) that are cut by an axes edge, drawn on a fan chart's data area, or
    overlap a marker of the other kind."""
    from matplotlib.collections import PolyCollection

    fig.canvas.draw()
    out = []
    for ax in fig.axes:
        box = ax.bbox
        marks = []
        for line in ax.get_lines():
            if line.get_marker() not in ("^", "v"):
                continue
            half = line.get_markersize() / 2 * fig.dpi / 72
            for x, y in ax.transData.transform(np.column_stack(line.get_data())):
                marks.append((line.get_marker(), x, y, half))
                if x - half < box.x0 - 0.5 or x + half > box.x1 + 0.5 or y - half < box.y0 - 0.5 \
                        or y + half > box.y1 + 0.5:
                    out.append(f"cut by the edge of {ax.get_title(loc='left')!r}: {line.get_marker()} at x={x:.0f}")
        if marks and any(isinstance(c, PolyCollection) for c in ax.collections):
            out.append(f"markers on the data of {ax.get_title(loc='left')!r}")
        for (m1, x1, y1, h1), (m2, x2, y2, h2) in itertools.combinations(marks, 2):
            if m1 != m2 and abs(x1 - x2) < h1 + h2 and abs(y1 - y2) < h1 + h2:
                out.append(f"{m1} and {m2} overlap at x={x1:.0f} in {ax.get_title(loc='left')!r}")
    return out


def test_lens_event_markers_are_readable_and_named(synth):
    """The coded-event markers sat on each panel's x-axis line: both kinds on top of each other in
    the same year (trust: 2019, 2022), the fan's lower band running into them, and the legend
    called them 'coded event: +' and 'coded event: -'."""
    from forecast.report import analysis, plots

    stored, _ = analysis.load_current(synth)
    res = analysis.compute("lenses", synth, stored)
    both = {(e.lens, e.year) for e in res.events if e.weight > 0} & {(e.lens, e.year) for e in res.events if e.weight < 0}
    assert ("trust", 2019) in both  # the case to draw apart
    fig = plots.plot("lenses", res)
    assert event_marker_problems(fig) == []
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert not any(":" in lab and lab.rstrip().endswith(("+", "-")) for lab in labels)
    assert any(lab.startswith("coded cooperative event") for lab in labels)
    assert any(lab.startswith("coded hostile event") for lab in labels)
    assert text_problems(fig) == []


def test_probability_axes_fit_the_data_and_the_mean_line_is_named(synth):
    """The settlement panels ran to ~42% and ~62% (1.12 x the prior's 99.5th percentile) with the
    posterior in the left quarter, and the solid posterior-mean line was not in the legend."""
    from forecast.report import analysis, plots
    from forecast.model.projection import weighted_quantile
    from forecast.report.probabilities import NICE_STEPS

    stored, _ = analysis.load_current(synth)
    res = analysis.compute("probabilities", synth, stored)
    fig = plots.plot("probabilities", res)
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert any("posterior mean" in lab for lab in labels)
    panels = [ax for ax in fig.axes if ax.get_title(loc="left").startswith("P(")]
    assert len(panels) == len(res.panels)
    for ax, p in zip(panels, res.panels):
        lo, hi = ax.get_xlim()
        marks = [m for m in (p.outside_mean, p.base_mean, p.summary.hi95) if m is not None]
        top = max([float(weighted_quantile(p.posterior, 0.99, p.weights)), float(np.quantile(p.prior, 0.95))] + marks)
        assert lo == 0.0 and top <= hi <= min(1.0, 1.6 * top), (p.key, hi, top)
        scale = 10.0 ** np.floor(np.log10(hi))
        assert any(np.isclose(hi, s * scale) for s in NICE_STEPS), hi  # a round number: 20%, 25%, 40%...
        assert p.grid[-1] >= hi  # the densities reach the axis' end
    assert text_problems(fig) == []


@needs_forecast_year
def test_trajectory_ticks_name_undos_and_say_which_date_is_which(synth):
    """An undo's tick read '#2 undo 15f925d8' (the undone record's internal id), and '#0 fit
    (2026-12-04)' (when the fit was made) stood beside '#1 summit held (2026-01-20)' (when the
    event happened) with nothing saying which date was which."""
    from forecast.report import analysis, plots
    from forecast.store.posterior import read_forecast

    add_update(synth, "--indicator", "japan_cabinet_approval", "--value", "45", "--date", IN_FORECAST_YEAR,
               "--source", "test poll")
    add_update(synth, "--event", "summit_held", "--date", IN_FORECAST_YEAR_DAY, "--source", "test MOFA")
    for _ in range(2):
        r = run("undo", "-w", synth.root)
        assert r.exit_code == 0, r.output
    made = read_forecast(synth).record.created_utc[:10]
    stored, _ = analysis.load_current(synth)
    res = analysis.compute("trajectory", synth, stored)
    assert [(p.seq, p.label) for p in res.points] == [
        (0, f"fit made {made}"), (1, f"Japanese cabinet approval = 45, dated {IN_FORECAST_YEAR}"),
        (2, f"summit held, dated {IN_FORECAST_YEAR_DAY}"), (3, "undo of #2 (summit held)"),
        (4, "undo of #1 (Japanese cabinet approval = 45)")]
    fig = plots.plot("trajectory", res)
    ticks = [" ".join(t.get_text().split()) for t in fig.axes[-1].get_xticklabels()]
    assert ticks[0] == f"#0 fit made {made}" and ticks[3] == "#3 undo of #2 (summit held)"
    assert not any(re.search(r"\b[0-9a-f]{8}\b", t) for t in ticks)  # no internal ids
    assert text_problems(fig) == []
