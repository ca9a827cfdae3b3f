"""Briefing figures (forecast plot): computed results in, Figures out, files written only by the CLI.

Everything here runs on a SYNTHETIC posterior: a seeded fake ``state/posterior.nc`` with the
shapes of a real fit and a forecast group made by ``projection.project`` from those draws. No
sampling, no PyMC model.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from data_years import FORECAST_YEAR, IN_FORECAST_YEAR, IN_FORECAST_YEAR_DAY, needs_forecast_year

from forecast import LENSES
from forecast.cli.main import main
from forecast.workspace import Workspace, content_hash, init_workspace

KINDS = ("probabilities", "lenses", "trajectory", "drivers", "diagnostics")
SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "svg": b"<svg"}
CHAINS, DRAWS = 2, 150


# --------------------------------------------------------------------------- synthetic fit
def make_synthetic_fit(ws: Workspace, ok: bool = True, seed: int = 11) -> dict:
    """Write a fake but internally consistent fit into ``ws``: posterior draws of the right shapes
    (improve_logodds = sum of beta * (lens state + event shift), as in the model), a forecast group
    from ``projection.project`` and the identity attributes 'fit' writes. Returns the identity."""
    import arviz as az

    from forecast.data.loaders import load_dataset
    from forecast.data.config import load_config
    from forecast.inference.fitting import spec_meta
    from forecast.model.kernels import NOISE_FLOOR, lens_from_factors
    from forecast.model.priors import load_preset
    from forecast.model.projection import Draws, project, recent_event_shift
    from forecast.model.spec import FACTORS, build_spec
    from forecast.store.posterior import NOISE_FLOOR_ATTR, save_fit
    from forecast.store.record import FORMAT_VERSION, FitRecord

    rng = np.random.default_rng(seed)
    spec = build_spec(load_dataset(ws.data_dir), load_preset(ws.priors_dir, "default"))
    C, D, T, K, E = CHAINS, DRAWS, spec.n_years, len(spec.indicators), len(spec.event_kinds)
    trend = np.linspace(-1.5, 1.2, T)
    eta = np.stack([trend, np.sin(np.arange(T) / 3.0), np.cos(np.arange(T) / 4.0), -0.5 * trend])
    factor_state = eta[None, None] + 0.25 * rng.standard_normal((C, D, 4, T))
    lens_state = np.moveaxis(lens_from_factors(np.moveaxis(factor_state, 2, -1)), -1, 2)  # (C, D, 3, T)
    effect = spec.event_weight[None, None] + 0.1 * rng.standard_normal((C, D, E))
    onehot = np.eye(3)[spec.event_lens].T  # (3, E)
    event_shift = np.einsum("le,cde,et->cdlt", onehot, effect, spec.event_counts)
    beta = {lens: 0.5 + 0.1 * rng.standard_normal((C, D)) for lens in LENSES}
    betas = np.stack([beta[lens] for lens in LENSES], axis=2)
    post = {
        "state_persistence": np.clip(0.8 + 0.05 * rng.standard_normal((C, D, 4)), 0.3, 0.97),
        "factor_state": factor_state, "lens_state": lens_state, "event_shift": event_shift,
        **{f"beta_{lens}": beta[lens] for lens in LENSES},
        "cutpoints": np.sort(np.array([-2.5, -0.8, 0.8, 2.5]) + 0.2 * rng.standard_normal((C, D, 4)), axis=-1),
        "settlement_base_rate": rng.beta(4, 200, (C, D)),
        "gamma_power": np.abs(0.2 + 0.05 * rng.standard_normal((C, D))),
        "gamma_trust": np.abs(0.2 + 0.05 * rng.standard_normal((C, D))),
        "gamma_capacity": np.abs(0.3 + 0.05 * rng.standard_normal((C, D))),
        "delta_barrier": np.abs(1.5 + 0.3 * rng.standard_normal((C, D))),
        "event_effect": effect,
        "loading": np.exp(0.1 * rng.standard_normal((C, D, K))),
        "indicator_intercept": 0.1 * rng.standard_normal((C, D, K)),
        "indicator_noise": 0.3 + 0.02 * rng.standard_normal((C, D, K)) ** 2,
        "improve_logodds": np.einsum("cdl,cdlt->cdt", betas, lens_state + event_shift),
        "event_rate_intercept": -2.5 + 0.3 * rng.standard_normal((C, D, E)),
        "event_rate_slope": 0.5 + 0.1 * rng.standard_normal((C, D, 3)),
        "event_lag_weight": 0.1 * rng.standard_normal((C, D)),
    }
    idata = az.from_dict(posterior=post, sample_stats={"diverging": np.zeros((C, D), bool),
                                                       "energy": rng.standard_normal((C, D))},
                         coords={"factor": list(FACTORS)}, dims={"state_persistence": ["factor"]})
    flat = {k: v for k, v in post.items()}
    forecast = project(Draws.of_fit(flat, spec), float(spec.barrier[-1]), horizons=(5, 10), seed=seed)
    forecast.pop("draw_logweight")
    forecast["event_shift_recent"] = recent_event_shift(post["event_shift"])
    forecast["weight"] = np.full(C * D, 1.0 / (C * D))
    diag = {"rhat_max": 1.004, "rhat_worst": "factor_state", "ess_bulk_min": 512.0, "ess_bulk_worst": "x",
            "ess_tail_min": 480.0, "ess_tail_worst": "x", "divergences": 0, "bfmi_min": 0.9,
            "chains": C, "draws": D, "failures": [], "ok": True}
    if not ok:
        diag.update({"rhat_max": 1.08, "ess_bulk_min": 35.0, "divergences": 3, "ok": False,
                     "failures": ["R-hat 1.080 >= 1.01 (factor_state)", "bulk ESS 35 < 400 (x)",
                                  "3 divergent transitions"]})
    identity = {
        "content_hash": content_hash(ws), "seed": seed, "preset": "default", "as_of": int(spec.as_of),
        "forecast_year": int(spec.as_of) + 1, "horizons": [5, 10], "draws": D, "tune": 100, "chains": C,
        "sampler": "synthetic", "parameterisation": "centred", "target_accept": 0.95,
        "created_utc": "2026-01-02T03:04:05+00:00", "libraries": {"synthetic": "1"}, "diagnostics": diag,
        "indicators_used": spec.indicators, "indicators_skipped": spec.skipped,
        "barrier_last": float(spec.barrier[-1]), "timings": {"total_s": 0.0}, "spec": spec_meta(spec),
        NOISE_FLOOR_ATTR: NOISE_FLOOR, "ledger_head": "0" * 16, "ledger_in_fit": [], "pareto_k": 0.0,
        "is_ess": float(C * D), "update_path": "fit", "fit_file": "posterior.nc",
        "dyad": load_config(ws.root).to_dict(),
    }
    save_fit(ws, idata, forecast, FitRecord.from_attrs({**identity, "format_version": FORMAT_VERSION}))
    return identity


@pytest.fixture(scope="session")
def synthetic_source(tmp_path_factory):
    ws = init_workspace(tmp_path_factory.mktemp("synthetic") / "ws")
    make_synthetic_fit(ws)
    return ws


@pytest.fixture
def synth(synthetic_source, tmp_path) -> Workspace:
    """A private copy of the synthetic fitted workspace."""
    dst = tmp_path / "synth"
    shutil.copytree(synthetic_source.root, dst)
    return Workspace(dst)


# ------------------------------------------------------------------------------- helpers
def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def check_file(path, fmt, min_bytes=5000):
    data = path.read_bytes()
    assert len(data) > min_bytes, f"{path} is only {len(data)} bytes"
    if fmt == "svg":
        assert data.startswith(b"<?xml") and SIGNATURES["svg"] in data[:2000] and data.rstrip().endswith(b"</svg>")
    else:
        assert data.startswith(SIGNATURES[fmt])
    if fmt == "pdf":
        assert pdf_pages(data) == 1 and data.rstrip().endswith(b"%%EOF")
    return data


def drawn_texts(fig):
    """Text artists that are actually drawn: figure texts, titles, labels, visible tick labels,
    annotations, legend and table texts."""
    from matplotlib.text import Text

    out = list(fig.texts) + ([fig._suptitle] if fig._suptitle is not None else [])
    for leg in fig.legends:
        out += leg.get_texts()
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title]
        out += [c for c in ax.get_children() if isinstance(c, Text)]
        if ax.get_legend() is not None:
            out += ax.get_legend().get_texts()
        for tab in ax.tables:
            out += [cell.get_text() for cell in tab.get_celld().values()]
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                out.append(axis.label)
                for tick in axis._update_ticks():
                    out += [lab for lab in (tick.label1, tick.label2) if lab.get_visible()]
    seen, res = set(), []
    for t in out:
        if id(t) not in seen and t.get_visible() and t.get_text().strip():
            seen.add(id(t))
            res.append(t)
    return res


def text_problems(fig, tol=1.0) -> list[str]:
    """Drawn texts that leave the figure or overlap another text."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    items = [(t.get_text(), t.get_window_extent(r)) for t in drawn_texts(fig)]
    fb = fig.bbox
    out = [f"outside: {s!r}" for s, b in items
           if b.x0 < fb.x0 - tol or b.y0 < fb.y0 - tol or b.x1 > fb.x1 + tol or b.y1 > fb.y1 + tol]
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            a, b = items[i][1], items[j][1]
            if a.x0 + tol < b.x1 and b.x0 + tol < a.x1 and a.y0 + tol < b.y1 and b.y0 + tol < a.y1:
                out.append(f"overlap: {items[i][0]!r} / {items[j][0]!r}")
    for ax in fig.axes:  # table texts stay inside their cells (a neighbour cell would hide the rest)
        for tab in ax.tables:
            for cell in tab.get_celld().values():
                c, t = cell.get_window_extent(r), cell.get_text().get_window_extent(r)
                if t.x0 < c.x0 - tol or t.x1 > c.x1 + tol:
                    out.append(f"clipped in its cell: {cell.get_text().get_text()!r}")
    return out


def add_update(ws, *args):
    """A ledger update on the synthetic fit; it must take the fast path (no sampling in these tests)."""
    r = run("update", "-w", ws.root, *args, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["path"] == "psis", out["path"]
    return out


# -------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("kind", KINDS)
def test_plot_functions_return_legible_figures(synth, kind):
    """Compute, then plot: each kind gives a Figure whose texts stay inside it and never overlap."""
    from matplotlib.figure import Figure

    from forecast.report import analysis

    from forecast.report import plots

    from forecast.report import style

    stored, _ = analysis.load_current(synth)
    fig = plots.plot(kind, analysis.compute(kind, synth, stored))
    assert isinstance(fig, Figure)
    problems = text_problems(fig)
    assert problems == []
    buf = io.BytesIO()  # every format is written through the CLI below
    with style.context():
        fig.savefig(buf, format="png", dpi=60)
    assert buf.getvalue().startswith(SIGNATURES["png"])
    titles = [t.get_text() for t in drawn_texts(fig)]
    assert any("80% equal-tailed interval" in t for t in titles) or kind == "drivers"


@pytest.mark.parametrize("kind", KINDS)
def test_cli_plot_writes_png_svg_pdf(synth, tmp_path, kind):
    before = snapshot(synth.root)
    for fmt in ("png", "svg", "pdf"):
        out = tmp_path / f"{kind}.{fmt}"
        r = run("plot", kind, "-w", synth.root, "--out", out, "--json", "--dpi", 80)
        assert r.exit_code == 0, r.output
        info = json.loads(r.output)
        assert info["path"] == str(out) and info["format"] == fmt and info["bytes"] == out.stat().st_size
        check_file(out, fmt)
        assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # the usual permissions, not mkstemp's
    assert snapshot(synth.root) == before  # plotting never touches the workspace
    assert not list(tmp_path.glob(".*tmp*"))


def test_png_dpi_sets_the_pixel_size(synth, tmp_path):
    import struct

    sizes = {}
    for dpi in (50, 100):
        out = tmp_path / f"d{dpi}.png"
        assert run("plot", "drivers", "-w", synth.root, "--out", out, "--dpi", dpi).exit_code == 0
        sizes[dpi] = struct.unpack(">II", out.read_bytes()[16:24])
    from forecast.report.style import HEIGHTS, WIDTH

    assert sizes[50] == (round(WIDTH * 50), round(HEIGHTS["drivers"] * 50))
    assert sizes[100] == (round(WIDTH * 100), round(HEIGHTS["drivers"] * 100))


def no_permission_dir(tmp_path):
    """A folder this process cannot write in: a mode-0500 folder, or, for root (which may write
    there anyway), /sys, a read-only kernel filesystem even for root. None only for root on a
    system without /sys."""
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(0o500)
    if not os.access(d, os.W_OK):
        return d
    d.chmod(0o700)
    return "/sys" if os.path.isdir("/sys") else None


@pytest.mark.parametrize("case", ["file as folder", "unknown suffix", "no suffix", "a folder", "no permission"])
def test_plot_bad_out_paths(synth, tmp_path, case):
    before = snapshot(synth.root)
    if case == "file as folder":  # a missing folder is created (test_os_errors); a file in the way is not
        (tmp_path / "afile").write_text("x")
        out = tmp_path / "afile" / "fig.png"
        want = f"Error: --out {out}: {tmp_path / 'afile'} is a file, not a folder; choose another path\n"
    elif case == "unknown suffix":
        out = tmp_path / "fig.jpg"
        want = f"Error: --out {out}: unknown suffix '.jpg'; use .png, .svg or .pdf\n"
    elif case == "no suffix":
        out = tmp_path / "fig"
        want = f"Error: --out {out} has no suffix; the format comes from it: use .png, .svg or .pdf\n"
    elif case == "a folder":
        out = tmp_path
        want = f"Error: --out {out} is a folder, not a file: give a file name such as {tmp_path / 'figure.png'}\n"
    else:
        d = no_permission_dir(tmp_path)
        if d is None:
            # deliberate: root on a system without /sys has no folder it cannot write in
            pytest.skip("running as root without /sys: no folder is unwritable, nothing to test")
        out = f"{d}/fig.png"
        want = None
    before_dir = sorted(os.listdir(tmp_path))
    r = run("plot", "lenses", "-w", synth.root, "--out", out)
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    if want is not None:
        assert r.output == want
    else:
        assert r.output.startswith(f"Error: --out {out}:") and "choose a folder you can write to" in r.output
        assert not os.path.exists(out)
    assert sorted(os.listdir(tmp_path)) == before_dir  # no partial or temporary file
    assert snapshot(synth.root) == before


def test_plot_without_fit_and_usage_errors(workspace, synth, tmp_path):
    r = run("plot", "lenses", "-w", workspace.root, "--out", tmp_path / "x.png")
    assert r.exit_code == 1
    assert r.output == (f"Error: no fit in {workspace.root}: state/posterior.nc does not exist "
                        f"(run 'forecast fit --workspace {workspace.root}')\n")
    assert run("plot", "sunsets", "-w", synth.root, "--out", tmp_path / "x.png").exit_code == 2
    r = run("plot", "lenses", "-w", synth.root, "--out", tmp_path / "x.png", "--from", "2016")
    assert r.exit_code == 2 and "--from/--to apply to 'forecast plot drivers' only" in r.output
    assert run("plot", "lenses", "-w", synth.root).exit_code == 2  # --out is required
    r = run("plot", "lenses", "-w", synth.root, "--out", tmp_path / "x.png", "--as-of", 2016)
    assert r.exit_code == 1
    assert "the stored fit is as of 2025, not 2016" in r.output
    assert not (tmp_path / "x.png").exists()
    assert run("plot", "--help").exit_code == 0 and run("brief", "--help").exit_code == 0


def test_probability_results_overlay_prior_and_outside_view(synth):
    from forecast.report import analysis
    from forecast.report.probabilities import probability_results
    from forecast.report.summary import build_report

    stored, _ = analysis.load_current(synth)
    res = probability_results(synth, stored)
    report = build_report(stored, stale=False)
    assert [p.key for p in res.panels] == list(report["probabilities"])
    for p in res.panels:
        assert p.summary.to_dict() == report["probabilities"][p.key]  # the numbers 'show' prints
        assert np.all((p.prior >= 0) & (p.prior <= 1)) and len(p.prior) == 4000
        assert np.all(p.posterior_density >= 0) and np.all(p.prior_density >= 0)
        area = np.trapezoid(p.posterior_density, p.grid)
        assert 0.9 < area < 1.1  # a density on the grid, reflected at 0
        assert p.outside_mean is not None and 0 < p.outside_mean < 1
    spec = stored.attrs["spec"]
    improve = res.panels[0]
    assert improve.outside_mean == pytest.approx(np.mean(np.asarray(spec["change"]) >= 1))


def test_prior_forecast_is_seeded_and_shaped_like_project(synth):
    from forecast.model.prior_only import outside_view, prior_draws, prior_forecast
    from forecast.model.priors import load_preset

    priors = load_preset(synth.priors_dir, "default")
    a = prior_forecast(priors, barrier_last=1.0, n_draws=500, seed=3)
    b = prior_forecast(priors, barrier_last=1.0, n_draws=500, seed=3)
    assert set(a) >= {"improve_next_year", "settle_within_5y", "settle_within_10y", "contribution_improve"}
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert a["contribution_improve"].shape == (500, 3)
    assert np.all(a["settle_within_10y"] >= a["settle_within_5y"])
    d = prior_draws(priors, 4000, seed=1)
    assert np.all(np.diff(d.cutpoints, axis=1) > 0)
    assert abs(d.eta_last.mean()) < 0.1 and abs(d.eta_last.std() - 1) < 0.05
    ws_version = prior_forecast(synth, "default", 1.0, n_draws=200, seed=3)
    assert ws_version["improve_next_year"].shape == (200,)
    ov = outside_view(priors, (5, 10), n_draws=200_000, seed=2)
    for key in ("settle_within_5y", "settle_within_10y"):
        assert ov[key]["mean"] == pytest.approx(ov[key]["draws"].mean(), rel=0.01)
    # barrier in force lowers the settlement probability against the same prior draws
    free = prior_forecast(priors, barrier_last=0.0, n_draws=500, seed=3)
    assert free["settle_within_10y"].mean() > a["settle_within_10y"].mean()


def test_drivers_waterfall_adds_up(synth):
    from forecast.report import analysis, history
    from forecast.report.draws import posterior_vars

    stored, _ = analysis.load_current(synth)
    res = history.driver_results(synth, stored)
    assert res.old.label.startswith("2025") and "no updates yet" in res.title
    # the steps add up from logit(P) before to logit(P) after, so the waterfall ends at the P it is labelled with
    total = res.old.effective + sum(d for _, d in res.steps)
    assert total == pytest.approx(res.new.effective)
    assert 1 / (1 + np.exp(-res.new.effective)) == pytest.approx(res.new.probability)
    steps = dict(res.steps)
    assert list(steps) == ["power", "trust", "leaders", "threshold", "spread"]
    mean_steps = sum(d for n, d in res.steps if n != "spread")
    assert res.old.logodds + mean_steps == pytest.approx(res.new.logodds)
    post = posterior_vars(synth.posterior_path, ("improve_logodds", "cutpoints"))
    y = history.year_state(synth, stored, 2016)
    assert y.logodds == pytest.approx(np.mean(post["improve_logodds"][:, 2016 - 1992] - post["cutpoints"][:, 2]))
    between = history.driver_results(synth, stored, "2016", "2025")
    assert between.old.label == "2016 (in-sample)" and between.new.label == "2025 (in-sample)"
    for bad, msg in (("1900", "a year must be a fitted year 1992-2025"), ("yesterday", "is not understood")):
        with pytest.raises(Exception, match=msg):
            history.driver_results(synth, stored, bad, None)


@needs_forecast_year
def test_history_trajectory_and_latest_update_drivers(synth, tmp_path):
    from forecast.report import analysis, history
    from forecast.report.lenses import lens_results

    add_update(synth, "--indicator", "japan_cabinet_approval", "--value", "45", "--date", IN_FORECAST_YEAR,
               "--source", "test poll")
    add_update(synth, "--event", "summit_held", "--date", IN_FORECAST_YEAR_DAY, "--source", "test MOFA")
    stored, _ = analysis.load_current(synth)
    tr = history.trajectory_results(synth, stored)
    assert tr.mode == "history" and len(tr.points) == 3
    assert tr.points[1].label == f"Japanese cabinet approval = 45, dated {IN_FORECAST_YEAR}"
    show = json.loads(run("show", "-w", synth.root, "--json").output)
    last = tr.points[-1].after["improve_next_year"]
    assert last["mean"] == pytest.approx(show["probabilities"]["improve_next_year"]["mean"])
    lr = lens_results(synth, stored)
    assert lr.conditioned == 1  # the forecast-year reading weights the projected paths, as in the stored forecast
    assert np.allclose(lr.future_mean[:, 0], lr.forecast_year_state, atol=0.1)
    dr = history.driver_results(synth, stored)
    assert dr.events == [f"summit held, dated {IN_FORECAST_YEAR_DAY}"]
    assert dr.new.probability == pytest.approx(show["probabilities"]["improve_next_year"]["mean"])
    lens = dict(dr.steps)
    assert lens["trust"] > 0  # a summit is a positive trust event
    assert abs(lens["power"]) < 1e-9  # nothing happened on the power lens
    for kind in ("trajectory", "drivers"):
        out = tmp_path / f"{kind}.svg"
        assert run("plot", kind, "-w", synth.root, "--out", out).exit_code == 0
        check_file(out, "svg")
    out = tmp_path / "dated.png"
    r = run("plot", "drivers", "-w", synth.root, "--from", "fit", "--to", "now", "--out", out)
    assert r.exit_code == 0, r.output


def test_key_events_are_labelled_without_collisions(synth):
    from forecast.report import lenses

    events = lenses.event_marks(synth, FORECAST_YEAR)
    key = [e for e in events if e.key]
    assert 3 <= len(key) <= lenses.MAX_KEY_EVENTS
    years = sorted(e.year for e in key)
    assert all(b - a >= lenses.KEY_EVENT_MIN_GAP for a, b in itertools.pairwise(years))
    assert all(abs(e.weight) >= lenses.KEY_EVENT_MIN_WEIGHT for e in key)
    assert len(events) == 72  # every seed event is marked (data/events.csv)


def test_style_is_scoped_and_greyscale_safe(synth):
    import matplotlib

    from forecast.report import analysis

    from forecast.report import plots

    from forecast.report import style

    before = dict(matplotlib.rcParams)
    stored, _ = analysis.load_current(synth)
    plots.plot("drivers", analysis.compute("drivers", synth, stored))
    after = dict(matplotlib.rcParams)
    assert {k for k in before if str(before[k]) != str(after[k])} == set()

    def grey(hex_colour):
        r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    lens = [style.LENS[k] for k in LENSES]
    greys = sorted(grey(s["color"]) for s in lens)
    assert min(b - a for a, b in itertools.pairwise(greys)) > 0.05
    assert len({str(s["linestyle"]) for s in lens}) == 3 and len({s["marker"] for s in lens}) == 3
    assert style.UP["hatch"] != style.DOWN["hatch"] and abs(grey(style.UP["color"]) - grey(style.DOWN["color"])) > 0
    assert grey(style.POSTERIOR["color"]) < grey(style.PRIOR["color"]) - 0.2


def test_plot_module_has_no_styling_of_its_own():
    """One style module: plots.py names no colour literal and sets no rcParams."""
    import inspect

    from forecast.report import plots

    src = inspect.getsource(plots)
    assert not re.search(r"#[0-9A-Fa-f]{6}", src)
    assert "rcParams" not in src and "pyplot" not in src.replace("no pyplot", "")


def test_real_fit_end_to_end(fitted_workspace, tmp_path):
    """The session's tiny real fit: every kind renders from a real posterior file."""
    for kind in KINDS:
        out = tmp_path / f"{kind}.pdf"
        r = run("plot", kind, "-w", fitted_workspace.root, "--out", out, "--json")
        assert r.exit_code == 0, r.output
        check_file(out, "pdf")
        assert "DIAGNOSTICS FAILED: do not use these numbers" in json.loads(r.output)["warnings"]
