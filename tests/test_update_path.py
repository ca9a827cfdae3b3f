"""`update` says which path it took, truthfully (issue 13 item 6): a forecast-year event is a direct
shift of the simulated futures (no reweighting, no Pareto k), a past-year event or any reading is
PSIS reweighting with its k and ESS, and an unreliable reweighting is a refit with the reason."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from data_years import IN_FORECAST_YEAR, IN_FORECAST_YEAR_DAY, PAST_YEAR_MONTH, needs_forecast_year

from forecast.cli.main import main
from forecast.store import ledger as L

PSIS_TEXT = "Update path: fast path: Pareto-smoothed importance reweighting (Pareto k "
SHIFT_TEXT = "Update path: fast path: direct event shift ("
SUMMIT = ["--event", "summit_held", "--date", IN_FORECAST_YEAR_DAY, "--source", "test"]
READING = ["--indicator", "japan_cabinet_approval", "--value", "25", "--date", IN_FORECAST_YEAR, "--source", "test"]


@needs_forecast_year
def test_forecast_year_event_is_a_direct_shift_without_reweighting(fitted_workspace):
    ws = fitted_workspace
    dry = json.loads(CliRunner().invoke(main, ["update", "-w", str(ws.root), *SUMMIT, "--dry-run", "--json"]).stdout)
    assert dry["path"] == "event_shift" and dry["pareto_k"] is None and dry["ess"] is None
    assert "no reweighting" in dry["path_message"] and "Pareto" not in dry["path_message"]
    r = CliRunner().invoke(main, ["update", "-w", str(ws.root), *SUMMIT])
    assert r.exit_code == 0, r.output
    assert SHIFT_TEXT in r.output and "Pareto" not in r.output and "reweighting (" not in r.output
    records, _ = L.read(ws)
    assert [x["path"] for x in records] == ["event_shift"]  # the ledger says the same


def test_past_year_event_is_psis_reweighting_with_k_and_ess(fitted_workspace):
    ws = fitted_workspace
    args = ["--event", "talks_suspended", "--date", PAST_YEAR_MONTH, "--source", "test", "--dry-run"]
    r = CliRunner().invoke(main, ["update", "-w", str(ws.root), *args])
    assert r.exit_code == 0, r.output
    line = next(x for x in r.output.splitlines() if x.startswith("Update path: "))
    assert line.startswith(PSIS_TEXT) and ", ESS " in line and "shift" not in line, line
    out = json.loads(CliRunner().invoke(main, ["update", "-w", str(ws.root), *args, "--json"]).stdout)
    assert out["path"] == "psis" and out["pareto_k"] <= 0.7 and out["ess"] > 0
    assert f"Pareto k {out['pareto_k']:.2f}, ESS {out['ess']:.0f}" in out["path_message"]


@needs_forecast_year
def test_event_on_top_of_a_reading_reweights_and_says_it_shifts_too(fitted_workspace):
    ws = fitted_workspace
    assert CliRunner().invoke(main, ["update", "-w", str(ws.root), *READING]).exit_code == 0
    out = json.loads(CliRunner().invoke(main, ["update", "-w", str(ws.root), *SUMMIT, "--dry-run", "--json"]).stdout)
    assert out["path"] == "psis" and out["pareto_k"] is not None
    assert out["path_message"].startswith(PSIS_TEXT.removeprefix("Update path: "))
    assert "forecast-year events shift the simulated futures directly" in out["path_message"]


def test_unreliable_reweighting_says_refit_and_why(fitted_workspace, monkeypatch):
    """PSIS reported unreliable (k 0.93): the refit runs (faked here by copying the stored fit, so no
    sampling) and the message names the refit and the k and ESS that caused it."""
    import numpy as np

    import forecast.store.fit as store_fit
    import forecast.update.apply as A
    from forecast.store.posterior import current, fit_path, read_forecast_file

    ws = fitted_workspace
    src = fit_path(ws, current(ws)[0])
    monkeypatch.setattr(A, "psis", lambda logw: (np.full(len(logw), 1 / len(logw)), 0.93, 12.0))

    def fake_refit(ws, out, save=True, **kwargs):  # a dry run saves nothing and uses the returned forecast
        if save:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, out)
        return SimpleNamespace(forecast=read_forecast_file(src, ws).draws)

    monkeypatch.setattr(store_fit, "fit_with_retry", fake_refit)
    args = ["update", "-w", str(ws.root), "--event", "talks_suspended", "--date", PAST_YEAR_MONTH, "--source", "t"]
    r = CliRunner().invoke(main, [*args, "--dry-run"])
    assert r.exit_code == 0, r.output
    assert ("Update path: refit: the model was refitted on the data plus the ledger (the reweighting is "
            "unreliable: Pareto k 0.93, ESS 12)") in r.output
    out = json.loads(CliRunner().invoke(main, [*args, "--json"]).stdout)
    assert out["path"] == "refit" and out["pareto_k"] is None and "Pareto k 0.93" in out["path_message"]
    assert [x["path"] for x in L.read(ws)[0]] == ["refit"]


@pytest.mark.parametrize("path", ["event_shift", "psis", "unchanged", "refit"])
def test_each_path_has_its_own_words(path):
    from forecast.update.apply import Computed, path_message

    comp = Computed(forecast={}, weights=None, pareto_k=0.31, ess=1234.0, reweighted=path == "psis")
    text = path_message(path, comp, "why")
    assert ("Pareto k 0.31, ESS 1234" in text) == (path == "psis")
    assert ("no reweighting" in text) == (path in ("event_shift", "unchanged"))
    assert text.startswith("refit: ") == (path == "refit") and ("(why)" in text) == (path == "refit")


# --- the legal barrier (a 'barrier' indicator: it enters the settlement hazard, not a lens state)
BARRIER = ["--indicator", "legal_barrier_territory", "--source", "test"]
PAST_YEAR = PAST_YEAR_MONTH[:4]


def fake_refit_from_stored(ws, monkeypatch, phases=False):
    """Replace the refit by a copy of the stored fit (no sampling); with ``phases`` it reports two
    phases to ``on_phase`` as a real fit would. Returns the list of kwargs it was called with."""
    import forecast.store.fit as store_fit
    from forecast.inference.progress import PhaseEvent
    from forecast.store.posterior import current, fit_path, read_forecast_file

    src, calls = fit_path(ws, current(ws)[0]), []

    def fake(ws, out, save=True, **kwargs):
        calls.append(kwargs)
        if phases and kwargs.get("on_phase") is not None:
            kwargs["on_phase"](PhaseEvent("sample", None))
            kwargs["on_phase"](PhaseEvent("sample", 1.5))
        if save:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, out)
        return SimpleNamespace(forecast=read_forecast_file(src, ws).draws)

    monkeypatch.setattr(store_fit, "fit_with_retry", fake)
    return calls


@needs_forecast_year
@pytest.mark.parametrize("date", [IN_FORECAST_YEAR[:4], IN_FORECAST_YEAR])
def test_forecast_year_barrier_reading_shifts_the_settlement_hazard(fitted_workspace, date):
    """Lifting the barrier in the forecast year (it is 1 in the data) is a direct shift of the
    simulated futures: no traceback, no refit, P(settlement) rises and the words name the barrier."""
    ws = fitted_workspace
    lift = ["update", "-w", str(ws.root), *BARRIER, "--value", "0", "--date", date]
    r = CliRunner().invoke(main, [*lift, "--dry-run", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["path"] == "event_shift" and out["pareto_k"] is None
    assert "legal barrier" in out["path_message"] and "too few values" not in out["path_message"]
    settle = [v for k, v in out["probabilities"].items() if k.startswith("settle_within")]
    assert settle and all(v["change_pp"] > 0 for v in settle)
    keep = json.loads(CliRunner().invoke(main, [*lift[:-3], "1", "--date", date, "--dry-run", "--json"]).stdout)
    assert all(abs(v["change_pp"]) < 1e-9 for v in keep["probabilities"].values())  # 1 is what is in force
    r = CliRunner().invoke(main, lift)
    assert r.exit_code == 0, r.output
    assert [x["path"] for x in L.read(ws)[0]] == ["event_shift"]
    assert CliRunner().invoke(main, ["show", "-w", str(ws.root)]).exit_code == 0


def test_past_year_barrier_change_refits_with_the_right_reason(fitted_workspace, monkeypatch):
    """A barrier value changed in a fitted year changes the settlement likelihood: a refit, and the
    reason names the barrier (not 'too few values'); the same value as the data changes nothing."""
    ws = fitted_workspace
    calls = fake_refit_from_stored(ws, monkeypatch)
    base = ["update", "-w", str(ws.root), *BARRIER, "--date", PAST_YEAR, "--dry-run", "--json"]
    same = json.loads(CliRunner().invoke(main, [*base, "--value", "1"]).stdout)
    assert same["path"] == "unchanged" and not calls
    r = CliRunner().invoke(main, [*base, "--value", "0"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["path"] == "refit" and len(calls) == 1
    assert "too few values" not in out["path_message"]
    assert "'legal_barrier_territory' is a barrier indicator" in out["path_message"]
    assert f"legal barrier in {PAST_YEAR}" in out["path_message"]


def test_refit_update_reports_progress_on_stderr(fitted_workspace, monkeypatch):
    """A refit takes as long as a fit: 'update' says so and shows the phases on stderr, also with
    --json (whose stdout stays one JSON document)."""
    ws = fitted_workspace
    fake_refit_from_stored(ws, monkeypatch, phases=True)
    args = ["update", "-w", str(ws.root), *BARRIER, "--value", "0", "--date", PAST_YEAR, "--json"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["path"] == "refit"
    assert "Refitting" in r.stderr and "barrier indicator" in r.stderr
    assert "Sampling..." in r.stderr and "Sampled in 1.5 s" in r.stderr


def test_forecast_year_evidence_sets_the_barrier():
    """Unit: a barrier reading in the forecast year sets the barrier in force (the mean of that year's
    readings, clipped to 0..1; the maximum over barrier indicators); the projection uses it."""
    import numpy as np

    from forecast.data.events import Event
    from forecast.model.evidence import BarrierState, forecast_year_evidence

    spec = SimpleNamespace(as_of=2025, indicators=(), event_kinds=(), event_lens=())
    ev = lambda name, v: Event(type="indicator", date="2026-03", name=name, source="t", value=v)  # noqa: E731
    state = BarrierState(last={"a": 1.0, "b": 0.0})
    got = forecast_year_evidence(spec, {}, 0.1, [ev("a", 0.0), ev("a", 0.5)], None, state)
    assert got.barrier == 0.25 and not got.readings and got.shift is None
    assert forecast_year_evidence(spec, {}, 0.1, [ev("b", 1.0), ev("a", 0.0)], None, state).barrier == 1.0
    assert forecast_year_evidence(spec, {}, 0.1, [], None, state) is None
    from forecast.model.evidence import NeedsRefit
    with pytest.raises(NeedsRefit, match="not in the fit"):
        forecast_year_evidence(spec, {}, 0.1, [ev("c", 1.0)], None, state)
    assert np.isfinite(got.barrier)


@needs_forecast_year
def test_refit_with_a_forecast_year_barrier_reading(fitted_workspace, monkeypatch):
    """A refit (forced here) with a barrier reading dated in the forecast year in force projects with
    that barrier: it used to end in a NeedsRefit traceback from inside the refit."""
    import forecast.update.apply as A
    from forecast.model.evidence import NeedsRefit

    def forced(*args, **kwargs):
        raise NeedsRefit("forced")

    monkeypatch.setattr(A, "compute", forced)
    ws = fitted_workspace
    r = CliRunner().invoke(main, ["update", "-w", str(ws.root), *BARRIER, "--value", "0", "--date", IN_FORECAST_YEAR,
                                  "--dry-run", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["path"] == "refit" and "(forced)" in out["path_message"]
