"""What a briefing figure says on its face (forecast plot): warnings stamped on a stale or failed
fit, legends that cover no data, readable markers and tick labels. On the synthetic fit of
``test_plots`` (no sampling)."""

from __future__ import annotations

import warnings

import pytest

import forecast
from forecast.errors import DiagnosticsFailedWarning, FigureWarning, StaleFitWarning
from forecast.report import style as S
from forecast.workspace import HASHED_INPUTS, init_workspace
from test_plots import drawn_texts, make_synthetic_fit, run, synth, synthetic_source, text_problems  # noqa: F401

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
