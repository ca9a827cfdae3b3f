"""FitRecord round trip through a stored file, named errors for missing or unknown attributes,
and the ledger API (``last_batch``, ``head_at``). No sampling: files are written directly."""

from __future__ import annotations

import dataclasses
import re
import json

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from forecast.cli.main import main
from forecast.data.config import Claim, LensText, Side, WorkspaceConfig
from forecast.errors import StoredStateError
from forecast.inference.diagnostics import Diagnostics
from forecast.model.fitspec import FitSpec
from forecast.store import ledger as L
from forecast.store.integrity import DRAW_SHAPES
from forecast.store.posterior import read_forecast_file, write_forecast_file
from forecast.store.record import FORMAT_VERSION, FitRecord
from forecast.workspace import Workspace, init_workspace

SPEC = FitSpec(first_year=1992, as_of=1996, indicators=("a", "b"), indicator_factor=(0, 1), center=(0.5, -1.25),
               scale=(1.0, 2.0), direction=(1, -1), transform=("identity", "log"), change=(0, 1, -1, 0, 2),
               event_kinds=("visit",), event_lens=(1,), barrier_last=1.0, event_sign=(1.0,), outcome_form="joint")

DYAD = WorkspaceConfig(name="A-B", first_year=1992, side_a=Side("a", "A", 1), side_b=Side("b", "B"),
                       claim=Claim("An island"), improve_question="Better?", settlement_question="Settled?",
                       lens_texts=tuple((lens, LensText(lens.title(), f"The {lens}")) for lens in ("power", "trust",
                                                                                                "leaders")))


# The 'diagnostics' attribute as a fit of format version 5 wrote it (keys in this order, failures a list).
STORED_DIAGNOSTICS = (
    '{"rhat_max": 1.0716, "rhat_worst": "indicator_offset", "ess_bulk_min": 25.4, "ess_bulk_worst": '
    '"indicator_offset", "ess_tail_min": 46.6, "ess_tail_worst": "indicator_noise", "divergences": 0, '
    '"bfmi_min": 0.757, "chains": 2, "draws": 200, "failures": ["R-hat 1.072 >= 1.01 (indicator_offset)", '
    '"bulk ESS 25 < 400 (indicator_offset)", "tail ESS 47 < 400 (indicator_noise)"], "ok": false}')


def record(**changes) -> FitRecord:
    r = FitRecord(
        content_hash="ab" * 32, seed=7, preset="default", as_of=1996, forecast_year=1997, horizons=(5, 10),
        draws=10, tune=10, chains=2, sampler="nutpie", parameterisation="centred", target_accept=0.95,
        created_utc="2026-01-02T03:04:05+00:00", libraries={"numpy": "2"},
        diagnostics=Diagnostics.from_dict(json.loads(STORED_DIAGNOSTICS)), indicators_used=("a", "b"),
        indicators_skipped=(), barrier_last=1.0, timings={"total_s": 1.5}, spec=SPEC, noise_floor=0.05,
        ledger_head=L.EMPTY_HEAD, ledger_in_fit=(), pareto_k=0.1, is_ess=19.5, update_path="fit", dyad=DYAD,
        fit_file="posterior.nc")
    return dataclasses.replace(r, **changes)


def draws(n: int = 20) -> dict:
    """Every dataset a stored forecast holds (store.integrity.DRAW_SHAPES), n = draws x chains of record()."""
    rng = np.random.default_rng(0)
    out = {k: rng.uniform(size=(n, *shape)) for k, shape in DRAW_SHAPES.items()}
    out.update({f"settle_within_{h}y": rng.uniform(size=n) for h in (5, 10)}, weight=np.full(n, 1.0 / n))
    return out


def test_record_round_trips_through_a_file(tmp_path):
    ws = Workspace(tmp_path)
    for rec in (record(), record(events_in_force=("x1", "x2"), update_path="psis", pareto_k=float("nan"))):
        p = tmp_path / "f.h5"
        write_forecast_file(p, draws(), rec)
        back = read_forecast_file(p, ws).record
        assert back.to_attrs().keys() == rec.to_attrs().keys()
        assert json.dumps(back.to_attrs(), sort_keys=True) == json.dumps(rec.to_attrs(), sort_keys=True)
        assert back.spec == SPEC and back.horizons == (5, 10) and back.events == rec.events
        assert back.dyad == DYAD
    assert record().headline_keys == ["improve_next_year", "settle_within_5y", "settle_within_10y"]
    assert "events_in_force" not in record().to_attrs()
    assert record().to_attrs()["format_version"] == FORMAT_VERSION


def test_diagnostics_are_typed_and_stored_as_before():
    """FitRecord.diagnostics is a Diagnostics; its to_dict is the stored attribute, byte for byte."""
    from forecast.inference.diagnostics import failures

    d = Diagnostics.from_dict(json.loads(STORED_DIAGNOSTICS))
    assert d.rhat_worst == "indicator_offset" and d.chains == 2 and d.failures[0].startswith("R-hat 1.072")
    assert d.ok is False and d.failures == tuple(failures(d))
    assert json.dumps(d.to_dict()) == STORED_DIAGNOSTICS
    assert Diagnostics.from_dict(d.to_dict()) == d
    assert d["ok"] is False and d["failures"] == list(d.failures)  # the API's fit.diagnostics["ok"] (README)
    passed = dataclasses.replace(d, failures=())
    assert passed.ok is True and passed.to_dict()["ok"] is True and passed.to_dict()["failures"] == []
    rec = record()
    assert isinstance(rec.diagnostics, Diagnostics)
    assert json.dumps(rec.to_attrs()["diagnostics"]) == STORED_DIAGNOSTICS


def edit_attrs(path, fn):
    with h5py.File(path, "a") as f:
        fn(f["forecast"].attrs)


@pytest.mark.parametrize("edit, named", [
    (lambda a: a.__delitem__("seed"), "lacks the attribute(s) seed"),
    (lambda a: a.__setitem__("colour", "blue"), "does not know: colour"),
    (lambda a: a.__setitem__("format_version", 1), "format version 1"),
    (lambda a: a.__setitem__("spec", json.dumps({**SPEC.to_dict(), "extra": 1})), "has unknown extra"),
    (lambda a: a.__setitem__("diagnostics", json.dumps({k: v for k, v in json.loads(STORED_DIAGNOSTICS).items()
                                                        if k != "rhat_worst"})),
     "the stored 'diagnostics' attribute lacks rhat_worst"),
    (lambda a: a.__setitem__("diagnostics", json.dumps({**json.loads(STORED_DIAGNOSTICS), "ok": True})),
     "the stored 'diagnostics' attribute says ok = True with 3 failure(s)"),
])
def test_missing_or_unknown_attribute_is_named(tmp_path, edit, named):
    p = tmp_path / "f.h5"
    write_forecast_file(p, draws(), record())
    edit_attrs(p, edit)
    with pytest.raises(StoredStateError, match=re.escape(named)):
        read_forecast_file(p, Workspace(tmp_path))


def test_show_names_a_missing_attribute_without_a_traceback(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    write_forecast_file(ws.posterior_path, draws(), record())
    edit_attrs(ws.posterior_path, lambda a: a.__delitem__("preset"))
    r = CliRunner().invoke(main, ["show", "-w", str(ws.root)])
    assert r.exit_code == 1
    assert "lacks the attribute(s) preset" in r.output and "Traceback" not in r.output


def add(event_name: str, seq: int) -> dict:
    e = L.Event(type="event", date="1997", name=event_name, source="s")
    return {"op": "add", "id": e.id, "update": seq, "event": dict(e.__dict__),
            "applied_utc": f"2026-0{seq}-01T00:00:00+00:00", "path": "psis", "after": {}}


def undo_of(rec: dict, seq: int) -> dict:
    return {"op": "undo", "id": rec["id"], "update": seq, "applied_utc": f"2026-0{seq}-01T00:00:00+00:00",
            "after": {}}


def test_last_batch_is_the_latest_update_in_force():
    a, b, c = add("visit", 1), add("summit", 2), add("sanction", 2)
    data = L.encode([a, b, c])
    batch = L.last_batch(data)
    assert [r["id"] for r in batch.records] == [b["id"], c["id"]]
    assert batch.start == 1 and batch.head_before == L.head_of(L.encode([a]))
    assert [e.name for e in batch.events] == ["summit", "sanction"] and batch.applied_utc.startswith("2026-02-01")
    undo = [undo_of(r, 3) for r in (b, c)]
    after_undo = data + L.encode(undo)
    batch = L.last_batch(after_undo)
    assert [r["id"] for r in batch.records] == [a["id"]] and batch.head_before == L.EMPTY_HEAD
    assert L.last_batch(after_undo + L.encode([undo_of(a, 4)])) is None
    assert L.last_batch(b"") is None


def test_head_at_ignores_blank_lines():
    a, b = add("visit", 1), add("summit", 2)
    data = L.encode([a]) + b"\n" + L.encode([b])
    assert L.head_at(data, 0) == L.EMPTY_HEAD
    assert L.head_at(data, 1) == L.head_of(L.encode([a]))
    assert L.head_at(data, 2) == L.head_of(L.encode([a, b]))
