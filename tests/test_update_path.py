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
