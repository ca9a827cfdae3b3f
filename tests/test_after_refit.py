"""A fit made after updates (item A1), dates with no stored forecast (A2) and batch updates in
'history' (A3). The refit is pretended (no sampling): the stored fit is re-labelled as made at the
ledger's current head, as 'forecast fit' labels it, and re-signed."""

from __future__ import annotations

import datetime as dt
import json
import re

import h5py
import pytest
from click.testing import CliRunner

from data_years import IN_FORECAST_YEAR, IN_FORECAST_YEAR_DAY, needs_forecast_year

from forecast.cli.main import main
from forecast.store import ledger as L
from forecast.store import posterior as store

SUMMIT = ["--event", "summit_held", "--date", IN_FORECAST_YEAR_DAY, "--source", "MOFA"]
TODAY = dt.date.today().isoformat()


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def show(ws) -> dict:
    r = run("show", "-w", ws.root, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def pretend_refit(ws) -> None:
    """Label the stored fit as 'forecast fit' would label a fit made now, at the ledger's head."""
    records, head = L.read(ws)
    events = L.active_events(records)
    stored = store.read_forecast(ws)
    # a real refit samples for seconds, so it is stamped later than the fit it replaces (the stamp has
    # one-second resolution, and the fixture's fit may be less than a second old)
    was = dt.datetime.fromisoformat(stored.record.created_utc)
    created = max(dt.datetime.now(dt.timezone.utc), was + dt.timedelta(seconds=1)).isoformat(timespec="seconds")
    attrs = {"ledger_head": head, "created_utc": created,
             "ledger_in_fit": json.dumps([e.id for e in events if e.year <= stored.record.as_of]),
             "events_in_force": json.dumps([e.id for e in events])}
    with h5py.File(ws.posterior_path, "r+") as f:
        for group in ("forecast", "posterior"):
            f[group].attrs.update(attrs)
    store.sign_file(ws.posterior_path)


@needs_forecast_year
def test_undo_after_a_refit_recomputes_the_earlier_forecast(fitted_workspace):
    ws = fitted_workspace
    before = show(ws)
    assert run("update", "-w", ws.root, *SUMMIT).exit_code == 0
    pretend_refit(ws)
    assert show(ws)["ledger"]["events_in_force"] == 1
    r = run("undo", "-w", ws.root, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["forecast_of_head"] == L.EMPTY_HEAD and out["recomputed"]
    after = show(ws)
    assert "ledger_mismatch" not in after and after["ledger"]["events_in_force"] == 0
    # the pretended refit holds the same draws as the fit before the update: the summit's evidence is gone
    assert after["probabilities"]["improve_next_year"]["mean"] == pytest.approx(
        before["probabilities"]["improve_next_year"]["mean"], abs=1e-9)
    r = run("undo", "-w", ws.root)
    assert r.exit_code == 1 and "nothing to undo" in r.output
    lines = run("history", "-w", ws.root).output.splitlines()
    assert [line.split()[2] for line in lines] == ["add", "undo"], lines


@needs_forecast_year
def test_brief_and_drivers_after_a_refit(fitted_workspace, tmp_path):
    ws = fitted_workspace
    assert run("update", "-w", ws.root, *SUMMIT).exit_code == 0
    pretend_refit(ws)
    before = snapshot(ws.root)
    md = tmp_path / "b.md"
    r = run("brief", "-w", ws.root, "--out", md, "--allow-failed-diagnostics")  # a tiny fit
    assert r.exit_code == 0, r.output
    text = md.read_text()
    assert re.search(r"No change shown: the fit of \d{4}-\d\d-\d\d already includes the latest update, so no "
                     r"earlier forecast to compare with\.", text) and " pp" not in text, text
    r = run("brief", "-w", ws.root, "--out", md, "--since", "2000-01-01", "--allow-failed-diagnostics")
    assert r.exit_code == 0, r.output
    assert "No change shown: no forecast is stored from 2000-01-01 to compare with" in md.read_text()
    r = run("plot", "drivers", "-w", ws.root, "--out", tmp_path / "d.png")
    assert r.exit_code == 0, r.output
    assert snapshot(ws.root) == before


def test_dates_before_the_fit_or_in_the_future(fitted_workspace, tmp_path):
    ws = fitted_workspace
    created = store.read_forecast(ws).record.created_utc[:10]
    future = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    for args in (["brief", "--out", tmp_path / "b.md", "--since", future],
                 ["plot", "drivers", "--out", tmp_path / "d.png", "--from", future],
                 ["plot", "drivers", "--out", tmp_path / "d.png", "--to", future]):
        r = run(*args, "-w", ws.root)
        assert r.exit_code == 2 and "future" in r.output, (args, r.output)
    r = run("plot", "drivers", "-w", ws.root, "--out", tmp_path / "d.png", "--from", "2000-01-01")
    assert r.exit_code == 1 and created in r.output and "Traceback" not in r.output, r.output
    md = tmp_path / "b.md"
    r = run("brief", "-w", ws.root, "--out", md, "--since", "2000-01-01", "--allow-failed-diagnostics")
    assert r.exit_code == 0, r.output
    assert (f"No change shown: no forecast is stored from 2000-01-01 to compare with (the earliest is that of the fit "
            f"of {created}; pass --since {created} or later)") in md.read_text() and " pp" not in md.read_text()


@needs_forecast_year
def test_history_attributes_a_batch_result_to_its_last_record(fitted_workspace, tmp_path):
    ws = fitted_workspace
    f = tmp_path / "batch.csv"
    f.write_text("date,indicator,kind,value,source,note\n"
                 f"{IN_FORECAST_YEAR},putin_approval_levada,,86,Levada,poll\n"
                 f"{IN_FORECAST_YEAR_DAY},,summit_held,,MOFA,sideline\n", encoding="utf-8")
    assert run("update", "-w", ws.root, "--file", f).exit_code == 0
    rows = json.loads(run("history", "-w", ws.root, "--json").output)
    assert rows[0]["after"] is None and rows[0]["batch_result_at"] == 2
    assert rows[1]["after"] and rows[1]["batch_result_at"] == 2
    lines = run("history", "-w", ws.root).output.splitlines()
    assert "%" not in lines[0] and "part of update" in lines[0] and "%" in lines[1], lines


def test_a_fit_records_every_ledger_event_in_force(workspace, monkeypatch):
    """'forecast fit' on a ledger with an event dated in the forecast year: the event conditions the fit's
    forecast (it is not in the fitted data), and the stored record names it, so 'show --json' counts the
    events in force as 'data check' does. The sampling and the save are stubbed: only the record is checked."""
    from types import SimpleNamespace

    import numpy as np

    import forecast.store.fit as store_fit
    from forecast.api import open as open_project
    from forecast.data.loaders import load_dataset

    year = load_dataset(workspace.data_dir).last_outcome_year + 1
    event = L.Event(type="event", date=f"{year}-01-01", name="summit_held", source="MOFA")
    add = {"op": "add", "id": event.id, "update": 1, "event": dict(event.__dict__),
           "applied_utc": "2000-01-01T00:00:00+00:00", "path": "psis", "after": {}}
    L.append(workspace, [add], b"")
    spec = SimpleNamespace(as_of=year - 1, indicators=["x"], skipped=[], barrier=np.zeros(1))
    result = SimpleNamespace(spec=spec, sampler="nutpie", diagnostics={}, timings={}, in_fit=[], pareto_k=1.0,
                             is_ess=1.0, idata=None, forecast={})
    saved = []
    monkeypatch.setattr(store_fit, "fit_dataset", lambda *a, **k: result)
    monkeypatch.setattr(store_fit, "FitSpec", SimpleNamespace(of=lambda s: None))
    monkeypatch.setattr(store_fit, "save_fit", lambda ws, idata, forecast, record, path: saved.append(record))
    store_fit.fit(workspace, progress=False)
    (record,) = saved
    assert record.ledger_in_fit == () and record.events == (event.id,)
    assert open_project(workspace.root).data_check().ledger_updates == len(record.events) == 1
