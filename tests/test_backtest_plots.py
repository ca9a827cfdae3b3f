"""The figures of 'forecast backtest --out': the reliability diagram and the cumulative log score.

Everything runs on a SYNTHETIC backtest result (made-up forecasts for twelve years, in the shape
``validate.backtest.run`` returns): no fit, no sampling. The CLI test replaces the backtest itself
by that result and checks what the command writes and prints.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from forecast.errors import ForecastError
from forecast.report import backtest_plots as BP
from forecast.validate import scoring

YEARS = list(range(2001, 2013))
IMPROVED = [1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0]
MODEL = [0.8, 0.3, 0.45, 0.6, 0.7, 0.2, 0.9, 0.55, 0.6, 0.35, 0.65, 0.1]
CLIM = [0.5, 0.55, 0.45, 0.4, 0.45, 0.5, 0.45, 0.5, 0.55, 0.5, 0.45, 0.5]
# persistence carries last year's direction: 0 and 1 exactly here, so the clipping matters
PERS = [0.5, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]
SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "svg": b"<svg"}


def synthetic_result(shuffle: bool = True) -> dict:
    rows = [{"year": y, "as_of": y - 1, "improved": o, "observed_change": 1 if o else -1, "p_improve": p,
             "p_improve_lo80": p - 0.1, "p_improve_hi80": p + 0.1, "unknown_row_key": "ignored",
             "baselines": {"climatology": {"p_improve": c, "p_change": {}}, "persistence": {"p_improve": q},
                           "power_only": {"p_improve": 0.99}}}
            for y, o, p, c, q in zip(YEARS, IMPROVED, MODEL, CLIM, PERS)]
    if shuffle:  # the compute functions order the rows by year
        rows = rows[5:] + rows[:5]
    return {"years": [YEARS[0], YEARS[-1]], "preset": "default", "rows": rows, "some_future_key": {"x": 1}}


def log_score(p: float, o: int) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return -math.log(p if o == 1 else 1 - p)


# ---------------------------------------------------------------------- compute
def test_cumulative_scores_by_hand():
    rec = BP.cumulative_scores(synthetic_result())
    assert rec.years == tuple(YEARS)
    assert rec.preset == "default"
    assert set(rec.cumulative) == {"model", "climatology", "persistence"}  # power_only left out
    for name, probs in (("model", MODEL), ("climatology", CLIM), ("persistence", PERS)):
        running, expected = 0.0, []
        for p, o in zip(probs, IMPROVED):
            running += log_score(p, o)
            expected.append(running)
        assert rec.scores[name] == pytest.approx([log_score(p, o) for p, o in zip(probs, IMPROVED)], rel=1e-12)
        assert rec.cumulative[name] == pytest.approx(expected, rel=1e-12)
    # spot values: year 1 of the model (improved, p 0.8); persistence's clipped miss in 2002 (p 1, not improved)
    assert rec.scores["model"][0] == pytest.approx(-math.log(0.8))
    assert rec.scores["persistence"][1] == pytest.approx(-math.log(1e-6))
    # model: -ln of .8 .7 .55 .6 .7 .8 .9 .55 .4 .65 .65 .9 (the probability given to what happened)
    assert rec.cumulative["model"][-1] == pytest.approx(4.8547, abs=1e-4)
    # climatology: five years at 0.5 (ln 2), five at 0.45 (-ln .45), one at .55 and one at .4
    assert rec.cumulative["climatology"][-1] == pytest.approx(5 * math.log(2) - 5 * math.log(0.45) - math.log(0.55)
                                                              - math.log(0.4))
    assert rec.cumulative["climatology"][-1] == pytest.approx(8.9724, abs=1e-4)
    # gain: climatology minus the method, cumulative; positive = beats climatology
    assert set(rec.gain) == {"model", "persistence"}
    assert rec.gain["model"] == pytest.approx([c - m for c, m in zip(rec.cumulative["climatology"],
                                                                    rec.cumulative["model"])])
    assert rec.gain["model"][-1] == pytest.approx(8.9724 - 4.8547, abs=2e-4)
    assert rec.gain["model"][-1] > 0 > rec.gain["persistence"][-1]
    # the mean per-year score is the backtest's log score convention
    assert rec.cumulative["model"][-1] / len(YEARS) == pytest.approx(scoring.log_loss(MODEL, IMPROVED))


def test_recalibration_by_hand():
    # PAV: tie at 0.2 pooled (1/2), then 0.6 (0) violates monotonicity -> pooled with it: 1/3; 0.9 -> 1
    r = BP.recalibration([0.6, 0.2, 0.9, 0.2], [0, 1, 1, 0])
    assert r.x == pytest.approx((0.2, 0.6, 0.9, 0.9))
    assert r.y == pytest.approx((1 / 3, 1 / 3, 1.0, 1.0))
    assert [b["n"] for b in r.table] == [3, 1]
    assert r.brier == pytest.approx((0.36 + 0.64 + 0.01 + 0.04) / 4)


def test_reliability_data_is_scoring_reliability():
    rec = BP.reliability_data(synthetic_result())
    assert rec.years == (2001, 2012)
    assert rec.forecasts == tuple(MODEL) and rec.outcomes == tuple(IMPROVED)  # in year order
    for r, probs in ((rec.model, MODEL), (rec.climatology, CLIM)):
        want = scoring.reliability(probs, IMPROVED)
        assert list(r.table) == want["table"]
        assert (r.miscalibration, r.discrimination, r.uncertainty, r.brier) == pytest.approx(
            (want["miscalibration"], want["discrimination"], want["uncertainty"], want["brier"]))
        assert r.x == tuple(v for b in want["table"] for v in (b["p_lo"], b["p_hi"]))
        assert r.y == tuple(b["observed_frequency"] for b in want["table"] for _ in (0, 1))
        assert r.brier == pytest.approx(r.miscalibration - r.discrimination + r.uncertainty)
    assert rec.model.uncertainty == pytest.approx(0.5 * 0.5)  # 6 of 12 improved
    assert rec.model.y == tuple(sorted(rec.model.y))  # isotonic
    assert rec.model.x[0] == 0.1 and rec.model.x[-1] == 0.9


def test_no_rows_is_refused():
    with pytest.raises(ForecastError, match="no rows"):
        BP.cumulative_scores({"years": [2001, 2001], "preset": "default", "rows": []})


# ---------------------------------------------------------------------- figures
def test_reliability_figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rec = BP.reliability_data(synthetic_result())
    fig = BP.reliability_figure(rec)
    assert isinstance(fig, Figure) and isinstance(fig.canvas, FigureCanvasAgg)
    assert len(fig.axes) == 2  # the diagram and the side panel (legend, MCB / DSC / UNC)
    ax, side = fig.axes
    assert len(ax.lines) == 3  # diagonal, climatology, model
    diagonal, clim, model = ax.lines
    assert list(diagonal.get_xdata()) == [0, 1] and list(diagonal.get_ydata()) == [0, 1]
    assert tuple(model.get_ydata()) == rec.model.y and tuple(clim.get_xdata()) == rec.climatology.x
    assert model.get_linewidth() > clim.get_linewidth()  # climatology lighter
    points = ax.collections[0].get_offsets()
    assert len(points) == len(YEARS)
    assert np.allclose(points[:, 0], MODEL)
    assert np.all(np.abs(points[:, 1] - np.array(IMPROVED)) < 0.05)  # at the outcome, jittered
    assert "CORP isotonic recalibration" in ax.get_title(loc="left")
    assert "P(improve)" in fig.get_suptitle() and "2001\u20132012" in fig.get_suptitle()
    assert ax.get_xlabel() and ax.get_ylabel()
    assert len(side.get_legend().get_texts()) == 4
    text = " ".join(t.get_text() for t in side.texts)
    for term, value in (("MCB", rec.model.miscalibration), ("DSC", rec.model.discrimination),
                        ("UNC", rec.model.uncertainty)):
        assert f"{term} {value:.3f}" in text


def test_cumulative_figure():
    from matplotlib.figure import Figure

    rec = BP.cumulative_scores(synthetic_result())
    fig = BP.cumulative_figure(rec)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    top, bottom = fig.axes
    assert len(top.lines) == 3 and len(bottom.lines) == 3
    for line, name in zip(top.lines, BP.METHODS):
        assert list(line.get_xdata()) == YEARS
        assert tuple(line.get_ydata()) == rec.cumulative[name]
    zero, model, pers = bottom.lines
    assert list(zero.get_ydata()) == [0, 0]  # the zero line
    assert tuple(model.get_ydata()) == rec.gain["model"] and tuple(pers.get_ydata()) == rec.gain["persistence"]
    assert "log score, nats" in top.get_ylabel() and "nats" in bottom.get_ylabel()
    assert "year" in bottom.get_xlabel()
    assert len(top.get_legend().get_texts()) == 3 and len(bottom.get_legend().get_texts()) == 3
    assert "2001\u20132012" in fig.get_suptitle()


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_write_backtest_plots(tmp_path, fmt):
    out = tmp_path / "new" / "folder"
    paths = BP.write_backtest_plots(out, synthetic_result(), fmt)
    assert paths == (out / f"backtest_reliability.{fmt}", out / f"backtest_cumulative.{fmt}")
    for p in paths:
        data = p.read_bytes()
        assert len(data) > 1000
        assert SIGNATURES[fmt] in data[:400]
    assert sorted(x.name for x in out.iterdir()) == sorted(p.name for p in paths)  # no temporaries left


def test_png_uses_the_plot_dpi(tmp_path):
    from PIL import Image

    from forecast.defaults import PLOT_DPI
    from forecast.report import style

    path = BP.write_backtest_plots(tmp_path, synthetic_result(), "png")[1]
    with Image.open(path) as im:
        assert im.size == (round(style.WIDTH * PLOT_DPI), round(style.HEIGHTS["backtest_cumulative"] * PLOT_DPI))


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ForecastError, match="png, svg, pdf"):
        BP.write_backtest_plots(tmp_path, synthetic_result(), "jpg")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- CLI
@pytest.fixture
def fake_backtest(monkeypatch):
    """'forecast backtest' with the fits replaced by the synthetic result."""
    from forecast import api

    result = synthetic_result(shuffle=False)

    def backtest(self, *args, **kwargs):
        return result
    monkeypatch.setattr(api.Project, "backtest", backtest)
    monkeypatch.setattr("forecast.validate.backtest.format_summary", lambda r: "SUMMARY")
    return result


@pytest.mark.parametrize("fmt", [None, "svg", "pdf"])
def test_cli_writes_the_figures(workspace, tmp_path, fake_backtest, fmt):
    from forecast.cli.main import main

    out = tmp_path / "bt"
    args = ["backtest", "-w", str(workspace.root), "--out", str(out), "-q"] + (["--plot-format", fmt] if fmt else [])
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    ext = fmt or "png"
    figures = [out / f"backtest_reliability.{ext}", out / f"backtest_cumulative.{ext}"]
    for p in figures:
        assert p.stat().st_size > 1000
        assert SIGNATURES[ext] in p.read_bytes()[:400]
    wrote = res.stdout.strip().splitlines()[-1]
    assert wrote.startswith("Wrote ") and all(str(p) in wrote for p in figures)
    assert str(out / "backtest.json") in wrote


def test_cli_json_output_unchanged(workspace, tmp_path, fake_backtest):
    from forecast.cli.main import main

    out = tmp_path / "bt"
    res = CliRunner().invoke(main, ["backtest", "-w", str(workspace.root), "--out", str(out), "--json", "-q"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == fake_backtest  # the result only: no file list added
    assert (out / "backtest_reliability.png").exists() and (out / "backtest_cumulative.png").exists()


def test_cli_without_out_writes_no_figure(workspace, tmp_path, fake_backtest, monkeypatch):
    from forecast.cli.main import main

    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["backtest", "-w", str(workspace.root), "-q"])
    assert res.exit_code == 0, res.output
    assert "Wrote" not in res.stdout
    assert not list(Path(tmp_path).glob("backtest_*"))


def test_cli_help_names_the_figures():
    from forecast.cli.main import main

    res = CliRunner().invoke(main, ["backtest", "--help"])
    assert res.exit_code == 0
    for s in ("--plot-format", "[png|svg|pdf]", "backtest_reliability.FMT", "backtest_cumulative.FMT"):
        assert s in res.output


STACK = [0.65, 0.42, 0.45, 0.5, 0.58, 0.35, 0.68, 0.52, 0.58, 0.42, 0.55, 0.3]


def test_the_pre_registered_stack_is_drawn_when_every_row_has_it():
    """``stacked`` joins the cumulative scores and gains (its values by hand) when every row has it, and is
    left out when one row lacks it; the figure then has a fourth line in each panel."""
    res = synthetic_result(shuffle=False)
    for row, q in zip(res["rows"], STACK):
        row["baselines"]["stacked"] = {"p_improve": q}
    rec = BP.cumulative_scores(res)
    assert list(rec.cumulative) == ["model", "climatology", "persistence", "stacked"]
    assert list(rec.gain) == ["model", "persistence", "stacked"]
    expected = np.cumsum([log_score(p, o) for p, o in zip(STACK, IMPROVED)])
    assert rec.cumulative["stacked"] == pytest.approx(expected, rel=1e-12)
    assert rec.gain["stacked"] == pytest.approx(np.array(rec.cumulative["climatology"]) - expected, rel=1e-12)
    fig = BP.cumulative_figure(rec)
    top, bottom = fig.axes
    assert len(top.lines) == 4 and len(bottom.lines) == 4
    assert tuple(top.lines[3].get_ydata()) == rec.cumulative["stacked"]
    assert any("stacked" in t.get_text() for t in top.get_legend().get_texts())
    del res["rows"][4]["baselines"]["stacked"]
    assert "stacked" not in BP.cumulative_scores(res).cumulative


def test_end_labels_are_spread_apart_and_centred_on_the_lines_ends():
    ends = {"a": 17.71, "b": 17.74, "c": 18.3, "d": 19.4}
    at = BP.spread_labels(ends, 0.9)
    ys = sorted(at.values())
    assert all(b - a >= 0.9 - 1e-12 for a, b in zip(ys, ys[1:]))
    assert [n for n, _ in sorted(at.items(), key=lambda kv: kv[1])] == ["a", "b", "c", "d"]  # order kept
    assert np.mean(ys) == pytest.approx(np.mean(list(ends.values())))
    assert BP.spread_labels({"a": 1.0, "b": 5.0}, 0.5) == {"a": 1.0, "b": 5.0}  # far apart: unchanged
