"""The Python API: the README's notebook example runs, and the divergence-retry policy is the one
every fitting path uses (fit, update's refit, check --refit)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import forecast
from forecast.errors import UsageError
from forecast.inference.diagnostics import Diagnostics
from forecast.store import fit as fitting
from forecast.inference.retry import RetryNote, resume_target_accept, with_retry
from forecast.workspace import init_workspace

README = Path(__file__).resolve().parent.parent / "README.md"
TINY = "SAMPLING = dict(draws=100, tune=100, chains=2, seed=7)"


def readme_example() -> str:
    """The first python block of the README's 'Python API (notebooks)' section, with a tiny fit."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Python API (notebooks)\n", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    code, n = re.subn(r"^SAMPLING = dict\(.*$", TINY, code, flags=re.M)
    assert n == 1, "the example must set SAMPLING on one line (the test makes the fit tiny there)"
    return code


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """Run the README example in a folder holding a fresh copy of the default workspace as ./ws."""
    root = tmp_path_factory.mktemp("notebook")
    init_workspace(root / "ws")
    code = readme_example()
    ns: dict = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        exec(compile(code, "README.md (Python API example)", "exec"), ns)
    return SimpleNamespace(root=root / "ws", ns=ns)


def test_readme_example(example):
    from arviz import InferenceData
    from matplotlib.figure import Figure

    ns = example.ns
    report = ns["report"]
    assert {"as_of", "forecast_year", "probabilities", "lenses", "diagnostics", "stale"} <= set(report)
    assert set(report["probabilities"]) == {"improve_next_year", "settle_within_5y", "settle_within_10y"}
    assert report["stale"] is False and report["diagnostics"]["draws"] == 100
    # the API's report is the CLI's 'show --json', key for key and number for number
    show = subprocess.run([sys.executable, "-m", "forecast.cli", "show", "--json", "-w", str(example.root)],
                          capture_output=True, text=True, check=True)
    assert json.loads(show.stdout) == ns["restored"]

    assert isinstance(ns["fig"], Figure) and len(ns["fig"].axes) >= 3
    upd = ns["upd"]
    assert upd["events"][0]["name"] == "summit_held" and upd["noop"] is False
    # a summit in the forecast year raises P(improve), and the stored forecast says so too
    assert ns["after"]["mean"] > ns["before"]["mean"]
    assert upd["probabilities"]["improve_next_year"]["after"]["mean"] == pytest.approx(ns["after"]["mean"])
    assert ns["restored"] == report  # undo: exactly back, every number
    assert isinstance(ns["idata"], InferenceData)
    assert ns["idata"].posterior.sizes["draw"] == 100 and ns["idata"].posterior.sizes["chain"] == 2
    assert [r["op"] for r in forecast.open(example.root).history()] == ["add", "undo"]


def test_import_forecast_is_cheap():
    code = ("import sys, forecast, forecast.api\n"
            "assert callable(forecast.open) and callable(forecast.init)\n"
            "print([m for m in ('numpy', 'pandas', 'pymc', 'arviz', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_open_errors_and_update_arguments(tmp_path):
    with pytest.raises(forecast.errors.WorkspaceError, match="is not a forecast workspace"):
        forecast.open(tmp_path)
    ws = forecast.init(tmp_path / "ws")
    assert ws.root == (tmp_path / "ws").resolve() and ws.data_check().coded_years > 20
    with pytest.raises(UsageError, match="^indicator= needs value=$"):
        ws.update(indicator="japan_cabinet_approval", date="2020", source="x")
    with pytest.raises(UsageError, match="give exactly one of"):
        ws.update(date="2020", source="x")
    with pytest.raises(UsageError, match=r"^start=/end= apply to plot\('drivers'\) only$"):
        ws.plot("lenses", start="2016")


# --- the divergence-retry policy


def attempts(divergences_at: dict[float, int]):
    calls = []

    def attempt(target_accept):
        calls.append(target_accept)
        return {"divergences": divergences_at.get(target_accept, 0), "ta": target_accept}
    return calls, attempt


def test_retry_policy():
    calls, attempt = attempts({0.95: 3})
    heard = []
    kept, note = with_retry(attempt, lambda r: r["divergences"], on_retry=heard.append)
    assert calls == [0.95, 0.98] and kept["ta"] == 0.98
    assert isinstance(note, RetryNote) and heard == [note]
    assert (note.divergences, note.first_target_accept, note.kept_target_accept) == (3, 0.95, 0.98)
    assert note.reason == "3 divergent transition(s) at target_accept 0.95"

    for kwargs, want in (({"retry": False}, [0.95]), ({"target_accept": 0.9}, [0.9])):
        calls, attempt = attempts({0.95: 3, 0.9: 3})
        kept, note = with_retry(attempt, lambda r: r["divergences"], **kwargs)
        assert calls == want and note is None  # no retry when told so, nor over an explicit choice
    calls, attempt = attempts({})
    assert with_retry(attempt, lambda r: r["divergences"])[1] is None and calls == [0.95]
    assert resume_target_accept(0.95) is None and resume_target_accept(None) is None
    assert resume_target_accept(0.98) == 0.98


def fake_fit(calls: list, stop_at_retry: bool):
    def fit(ws, **kw):
        calls.append(kw["target_accept"])
        if kw["target_accept"] >= 0.98 and stop_at_retry:
            raise RuntimeError("stop here")
        div = 2 if kw["target_accept"] < 0.98 else 0
        n = 8
        fc = {k: np.full(n, 0.25) for k in ("improve_next_year", "settle_within_5y", "settle_within_10y")}
        diag = Diagnostics(rhat_max=1.0, rhat_worst="x", ess_bulk_min=500.0, ess_bulk_worst="x", ess_tail_min=500.0,
                           ess_tail_worst="x", divergences=div, bfmi_min=1.0, chains=4, draws=10,
                           failures=(f"{div} divergent transitions",) if div else ())
        return SimpleNamespace(diagnostics=diag, timings={"total_s": 1.0},
                               forecast={**fc, "weight": np.full(n, 1 / n)})
    return fit


@pytest.fixture
def example_copy(example, tmp_path):
    assert example.ns["fit"].retry is None  # the stored fit ran at the default target_accept
    shutil.copytree(example.root, tmp_path / "ws")
    return forecast.open(tmp_path / "ws")


def test_update_refit_uses_the_retry_policy(example_copy, monkeypatch):
    from forecast.update import apply as A
    from forecast.model.evidence import NeedsRefit

    calls = []
    monkeypatch.setattr(fitting, "fit", fake_fit(calls, stop_at_retry=True))
    monkeypatch.setattr(A, "compute", lambda *a, **k: (_ for _ in ()).throw(NeedsRefit("forced")))
    year = example_copy.forecast()["forecast_year"]
    with pytest.raises(RuntimeError, match="stop here"):
        example_copy.update(event="summit_held", date=f"{year}-01-21", source="test")
    assert calls == [0.95, 0.98]


def test_check_refit_uses_the_retry_policy(example_copy, monkeypatch):
    from forecast.validate import check as C

    calls = []
    monkeypatch.setattr(fitting, "fit", fake_fit(calls, stop_at_retry=False))
    monkeypatch.setattr(C, "psis", lambda logw: (np.full(len(logw), 1 / len(logw)), 1.0, 5.0))  # "unreliable"
    result = example_copy.check(presets=["realist"], refit=True)
    row = next(r for r in result["sensitivity"]["rows"] if r["preset"] == "realist")
    assert row["method"] == "refit (reweighting unreliable)" and row["diagnostics_ok"] is True
    assert row["probabilities"]["improve_next_year"]["mean"] == pytest.approx(0.25)
    assert calls == [0.95, 0.98]


# --- argument checks: the API refuses what the CLI's options refuse, before any work


@pytest.fixture
def no_sampling(monkeypatch):
    """A fit fails the test: an argument check must refuse the call before any work."""
    def started(*args, **kwargs):
        raise AssertionError("a fit started: the arguments were not checked first")
    monkeypatch.setattr(fitting, "fit", started)


def files_of(root: Path) -> list:
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


def test_fit_refuses_an_unknown_sampler(workspace, no_sampling):
    ws = forecast.open(workspace.root)
    before = files_of(ws.root)
    with pytest.raises(UsageError, match=r"sampler must be one of 'nutpie', 'pymc'; got 'foo'"):
        ws.fit(sampler="foo")
    assert files_of(ws.root) == before


@pytest.mark.parametrize("kwargs, message", [
    ({"draws": 0}, r"^draws must be an integer from 10 to 100000; got 0$"),
    ({"tune": -1, "draws": 10, "chains": 1}, r"^tune must be an integer from 10 to 100000; got -1$"),
    ({"chains": "4"}, r"^chains must be an integer from 1 to 64; got '4' \(str\)$"),
    ({"chains": True}, r"^chains must be an integer from 1 to 64; got True$"),
    ({"draws": 100.0}, r"^draws must be an integer from 10 to 100000; got 100.0$"),
    ({"seed": -1}, r"^seed must be an integer from 0 to 4294967295; got -1$"),
    ({"target_accept": 1.0}, r"^target_accept must be a number from 0.5 to 0.999; got 1.0$"),
    ({"as_of": "last year"}, r"^as_of must be a year from 1900 to 2100 \(e.g. 2025 or '2025'\); got 'last year'"),
    ({"preset": None}, r"^preset must be a string; got None$"),
])
def test_fit_refuses_what_the_cli_refuses(workspace, no_sampling, kwargs, message):
    ws = forecast.open(workspace.root)
    before = files_of(ws.root)
    with pytest.raises(UsageError, match=message):
        ws.fit(**kwargs)
    assert files_of(ws.root) == before


def test_the_cli_options_have_the_api_limits():
    import click

    from forecast import defaults as D
    from forecast.cli import fit, report

    def limits(command, name):
        t = next(p for p in command.params if p.name == name).type
        return tuple(t.choices) if isinstance(t, click.Choice) else (t.min, t.max)

    assert limits(fit.fit, "draws") == D.DRAWS_RANGE and limits(fit.fit, "tune") == D.TUNE_RANGE
    assert limits(fit.fit, "chains") == D.CHAINS_RANGE and limits(fit.fit, "seed") == D.SEED_RANGE
    assert limits(fit.fit, "sampler") == D.SAMPLERS and limits(fit.fit, "as_of") == D.YEAR_RANGE
    assert limits(fit.fit, "target_accept") == D.TARGET_ACCEPT_RANGE
    assert limits(report.plot, "dpi") == D.DPI_RANGE and limits(report.plot, "kind") == forecast.api.PLOT_KINDS


@pytest.mark.parametrize("kwargs, message", [
    ({"value": "abc"}, r"^value must be a finite number \(an int or a float\); got 'abc' \(str\)$"),
    ({"value": float("nan")}, r"^value must be a finite number \(an int or a float\); got nan$"),
    ({"value": True}, r"^value must be a finite number"),
    ({"source": None}, r"^missing argument source=$"),
    ({"source": 7}, r"^source must be a string; got 7$"),
    ({"date": 2024.0}, r"^date must be 'YYYY', 'YYYY-MM', 'YYYY-MM-DD' or a year as an int; got 2024.0$"),
    ({"date": 24}, r"^date must be a year from 1900 to 2100"),
    ({"date": "2024-13"}, r"command line, field 'date'"),
])
def test_update_refuses_bad_arguments(workspace, kwargs, message, monkeypatch):
    from forecast.update import apply as A

    monkeypatch.setattr(A, "apply", lambda *a, **k: pytest.fail("the update ran: its arguments were not checked"))
    ws = forecast.open(workspace.root)
    args = {"indicator": "summits_per_year", "value": 1, "date": "2024", "source": "x", **kwargs}
    with pytest.raises(forecast.errors.ForecastError, match=message):
        ws.update(**args, dry_run=True)


def test_update_request_takes_a_year_as_an_int_and_no_note():
    request = forecast.api.update_request(indicator="summits_per_year", value=np.int64(2), date=2024, source="x")
    assert request.events[0].date == "2024" and request.events[0].value == 2.0
    assert type(request.events[0].value) is float
    none = forecast.api.update_request(event="summit_held", date="2024-05-01", source="x", note=None)
    assert none.events[0].note == ""  # note=None is no note (was: AttributeError)


@pytest.mark.parametrize("call, message", [
    (lambda ws, out: ws.write_plot("lenses", out, dpi=10), r"^dpi must be an integer from 50 to 1200; got 10$"),
    (lambda ws, out: ws.write_plot("lenses", out, dpi="300"), r"^dpi must be an integer from 50 to 1200; got '300'"),
    (lambda ws, out: ws.plot("drivers", start=2016.0),
     r"^start must be 'fit', 'now', a year \(e.g. 2016\) or a date 'YYYY-MM-DD'; got 2016.0$"),
    (lambda ws, out: ws.plot("drivers", end=16), r"^end must be a year from 1900 to 2100"),
    (lambda ws, out: ws.write_plot("drivers", out, start=[2016]), r"^start must be 'fit', 'now', a year"),
    (lambda ws, out: ws.plot("lenses", as_of="the last"), r"^as_of must be a year from 1900 to 2100"),
    (lambda ws, out: ws.brief(as_of=2025.0), r"^as_of must be a year from 1900 to 2100"),
    (lambda ws, out: ws.write_brief(out.with_suffix(".md"), since=20250101), r"^since must be a string; got 20250101$"),
])
def test_plot_and_brief_refuse_bad_arguments(workspace, tmp_path, call, message):
    ws = forecast.open(workspace.root)  # not fitted: a check that came after reading the fit would say so
    before = files_of(ws.root)
    with pytest.raises(UsageError, match=message):
        call(ws, tmp_path / "out.png")
    assert files_of(ws.root) == before and not list(tmp_path.glob("out.*"))


def test_plot_takes_years_as_ints_or_strings(fitted_workspace):
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    ws = forecast.open(fitted_workspace.root)
    report = ws.forecast()
    as_of, year = report["as_of"], report["forecast_year"]
    assert ws.plot("lenses", as_of=str(as_of)).axes  # was: 'the stored fit is as of 2025, not 2025'
    texts = [[t.get_text() for t in ws.plot("drivers", start=s, end=e).findobj(Text)]
             for s, e in ((as_of, year), (str(as_of), str(year)))]
    assert texts[0] == texts[1] and any(f"{as_of} (in-sample)" in t for t in texts[0])
    plt.close("all")


@pytest.mark.parametrize("call, message", [
    (lambda ws: ws.backtest(draws=5), r"^draws must be an integer from 10 to 100000; got 5$"),
    (lambda ws: ws.backtest(jobs=0), r"^jobs must be an integer from 1 to 64; got 0$"),
    (lambda ws: ws.backtest(start="the start"), r"^start must be a year from 1900 to 2100"),
    (lambda ws: ws.backtest_years(end=2010.0), r"^end must be a year from 1900 to 2100"),
    (lambda ws: ws.check(jobs=65), r"^jobs must be an integer from 1 to 64; got 65$"),
    (lambda ws: ws.check(presets="realist"), r"^presets must be a list of preset names, e.g. \['realist'\]"),
])
def test_backtest_and_check_refuse_bad_arguments(workspace, call, message, monkeypatch):
    from forecast.validate import check as C, recode as R

    monkeypatch.setattr(R, "run_with_recodes", lambda *a, **k: pytest.fail("the backtest ran"))
    monkeypatch.setattr(C, "run", lambda *a, **k: pytest.fail("the check ran"))
    with pytest.raises(UsageError, match=message):
        call(forecast.open(workspace.root))


def test_messages_from_shared_code_name_the_option_and_the_argument(fitted_workspace):
    ws = forecast.open(fitted_workspace.root)
    with pytest.raises(forecast.errors.ForecastError, match=r"^--from / start= 'xyz' is not understood: use 'now'"):
        ws.plot("drivers", start="xyz")
    with pytest.raises(UsageError, match=r"^--to / end= 2999-01-01 is in the future"):
        ws.plot("drivers", end="2999-01-01")
    with pytest.raises(UsageError, match=r"^--since / since= 2999-01-01 is in the future"):
        ws.brief(since="2999-01-01")


def test_returned_records_and_root_are_documented():
    """help() on what the API returns describes each field, not only the generated signature."""
    import dataclasses
    import inspect

    from forecast.inference.fitting import FitResult
    from forecast.report.brief import Brief

    for cls in (FitResult, Brief):
        doc = inspect.getdoc(cls) or ""
        assert not doc.startswith(cls.__name__ + "("), f"{cls.__name__} has only the generated signature"
        missing = [f.name for f in dataclasses.fields(cls) if not re.search(rf"^{f.name}:", doc, re.M)]
        assert not missing, f"{cls.__name__}'s docstring does not describe {missing}"
    assert "workspace" in (inspect.getdoc(forecast.api.Project.root) or "")
