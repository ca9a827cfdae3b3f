"""forecast update / undo / history through the CLI (CliRunner): the acceptance flow,
directions theory predicts, and every bad-input case leaving the workspace untouched."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from data_years import (
    FORECAST_YEAR,
    FUTURE_MONTH,
    IN_FORECAST_YEAR,
    IN_FORECAST_YEAR_DAY,
    PAST_YEAR_MONTH,
    needs_forecast_year,
)

from forecast.cli.main import main

Y = FORECAST_YEAR
APPROVAL = ["--indicator", "japan_cabinet_approval", "--value", "25", "--date", IN_FORECAST_YEAR, "--source", "test"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def show(ws):
    r = run("show", "-w", ws.root, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


@needs_forecast_year
def test_update_history_noop_and_exact_undo(fitted_workspace):
    ws = fitted_workspace
    before = show(ws)
    r = run("update", "-w", ws.root, *APPROVAL)
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"Recorded: japan_cabinet_approval = 25 ({IN_FORECAST_YEAR}) [")
    assert "Update path: fast path: Pareto-smoothed importance reweighting (Pareto k " in r.output
    assert f"P(relationship improves in {Y})" in r.output and " -> " in r.output and " pp" in r.output
    assert "leaders  " in r.output and f"japan_cabinet_approval = 25 ({IN_FORECAST_YEAR})" in r.output.split("Attribution")[1]
    after = show(ws)
    assert after["probabilities"] != before["probabilities"]

    h = json.loads(run("history", "-w", ws.root, "--json").output)
    assert len(h) == 1 and h[0]["op"] == "add" and h[0]["event"]["name"] == "japan_cabinet_approval"
    assert h[0]["after"]["improve_next_year"]["mean"] == pytest.approx(after["probabilities"]["improve_next_year"]["mean"])
    assert f"japan_cabinet_approval = 25 ({IN_FORECAST_YEAR})" in run("history", "-w", ws.root).output

    ledger = (ws.root / "ledger.jsonl").read_bytes()
    r = run("update", "-w", ws.root, *APPROVAL)
    assert r.exit_code == 0 and r.output.startswith("No change: already recorded: japan_cabinet_approval = 25")
    assert (ws.root / "ledger.jsonl").read_bytes() == ledger

    r = run("undo", "-w", ws.root)
    assert r.exit_code == 0, r.output
    assert show(ws) == before
    h = json.loads(run("history", "-w", ws.root, "--json").output)
    assert [x["op"] for x in h] == ["add", "undo"]


@needs_forecast_year
def test_dry_run_records_nothing(fitted_workspace):
    ws = fitted_workspace
    snap = snapshot(ws.root)
    r = run("update", "-w", ws.root, *APPROVAL, "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["dry_run"] is True and out["path"] == "psis"
    assert set(out["probabilities"]) == {"improve_next_year", "settle_within_5y", "settle_within_10y"}
    assert set(out["probabilities"]["improve_next_year"]) == {"before", "after", "change_pp"}
    assert snapshot(ws.root) == snap


def _delta(ws, *args, key):
    out = json.loads(run("update", "-w", ws.root, *args, "--dry-run", "--json").output)
    return out["probabilities"][key]["change_pp"], out


@needs_forecast_year
def test_summit_with_joint_statement_raises_p_improve(fitted_workspace):
    d, out = _delta(fitted_workspace, "--event", "joint_statement_signed", "--date", IN_FORECAST_YEAR_DAY,
                    "--source", "test", key="improve_next_year")
    assert d > 0
    assert out["attribution"]["trust"]["delta_logodds"] > 0
    assert out["attribution"]["trust"]["events"] == [f"joint_statement_signed ({IN_FORECAST_YEAR_DAY})"]


@needs_forecast_year
def test_cabinet_approval_collapse_lowers_p_settlement(fitted_workspace):
    # 25%: a collapse the fast path can reweight on the session's tiny fit (at 12% its Pareto k sends it to a
    # 60-draw refit, whose Monte Carlo error in P(settlement) is larger than the effect)
    d, out = _delta(fitted_workspace, "--indicator", "japan_cabinet_approval", "--value", "25", "--date", IN_FORECAST_YEAR,
                    "--source", "test", key="settle_within_10y")
    assert out["path"] == "psis" and d < 0
    assert out["attribution"]["leaders"]["delta_logodds"] < 0


def test_past_year_event_reweights(fitted_workspace):
    """An event dated in a fitted year is evidence about that year's coded outcome: the fast path keeps
    the fit's draws and weighs each by the likelihood ratio of that outcome with and without the event's
    shift of the improvement log-odds (beta of its lens times its effect) and, in the joint outcome form, of
    that year's count of its kind under the event model, Pareto-smoothed; the forecast moves by exactly that
    reweighting. Recomputed here from the posterior file, the ordered logistic and SciPy's Poisson,
    independently of the update code."""
    import h5py
    from scipy import stats
    from scipy.special import expit

    from forecast.data.loaders import load_dataset
    from forecast.inference.psis import psis
    from forecast.store.posterior import current

    ws = fitted_workspace
    before = show(ws)["probabilities"]["improve_next_year"]["mean"]
    r = run("update", "-w", ws.root, "--event", "talks_suspended", "--date", PAST_YEAR_MONTH, "--source", "test",
            "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["path"] == "psis" and out["pareto_k"] <= 0.7

    ds = load_dataset(ws.data_dir)
    lens = ds.event_kinds.loc["talks_suspended", "lens"]
    assert {k: v["events"] for k, v in out["attribution"].items() if v["events"]} == \
        {lens: [f"talks_suspended ({PAST_YEAR_MONTH})"]}
    year = int(PAST_YEAR_MONTH[:4])
    t = year - int(ds.outcomes["year"].min())                                   # the model's year index
    y = int(ds.outcomes.set_index("year").loc[year, "change"]) + 2             # outcome category 0..4
    kind = list(ds.event_kinds.index).index("talks_suspended")
    with h5py.File(ws.posterior_path, "r") as f:
        def flat(v):
            a = np.asarray(f["posterior"][v])
            return a.reshape(a.shape[0] * a.shape[1], *a.shape[2:])
        lp, cut = flat("improve_logodds")[:, t], flat("cutpoints")
        shift = flat(f"beta_{lens}") * flat("event_effect")[:, kind]
        # the joint form: the event count observes its lens state, Poisson(exp(a_e + b_lens s_e L_lens[t]))
        li = ["power", "trust", "leaders"].index(lens)
        eta = flat("factor_state")[:, :, t]
        state = eta[:, li] if li < 2 else eta[:, 2:4].mean(axis=1)
        sign = np.sign(ds.event_kinds.loc["talks_suspended", "weight"])
        rate = np.exp(flat("event_rate_intercept")[:, kind] + flat("event_rate_slope")[:, li] * sign * state)
    n_old = int(((ds.events["year"] == year) & (ds.events["kind"] == "talks_suspended")).sum())

    def log_p(x):  # ordered logistic: P(y = k) = sigmoid(c_k - x) - sigmoid(c_(k-1) - x)
        gt = np.concatenate([np.zeros((len(x), 1)), expit(cut - x[:, None]), np.ones((len(x), 1))], axis=1)
        return np.log(gt[:, y + 1] - gt[:, y])

    assert shift.mean() < 0  # talks suspended: a negative catalogue weight on a positive-mean beta
    counts = stats.poisson.logpmf(n_old + 1, rate) - stats.poisson.logpmf(n_old, rate)
    w, k_hat, ess = psis(log_p(lp + shift) - log_p(lp) + counts)
    stored, _, _ = current(ws)
    assert np.allclose(stored.draws["weight"], w, rtol=1e-9, atol=1e-12)
    assert out["pareto_k"] == pytest.approx(k_hat) and out["ess"] == pytest.approx(ess)
    assert ess < 0.999 * len(w)  # a real reweighting, not the fit's uniform weights
    after = float(np.sum(w * stored.draws["improve_next_year"]))
    assert show(ws)["probabilities"]["improve_next_year"]["mean"] == pytest.approx(after, rel=1e-12)
    assert out["probabilities"]["improve_next_year"]["change_pp"] == pytest.approx(100 * (after - before))
    assert abs(after - before) > 1e-6


@needs_forecast_year
def test_batch_with_bom_and_whitespace(fitted_workspace, tmp_path):
    f = tmp_path / "batch.csv"
    f.write_text("\ufeffdate , indicator , kind , value , source , note\n"
                 f" {IN_FORECAST_YEAR} , putin_approval_levada ,  , 86 , Levada , poll \n"
                 f"{IN_FORECAST_YEAR_DAY},, summit_held ,, MOFA , sideline\n", encoding="utf-8")
    r = run("update", "-w", fitted_workspace.root, "--file", f, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert [e["name"] for e in out["events"]] == ["putin_approval_levada", "summit_held"]
    assert len(json.loads(run("history", "-w", fitted_workspace.root, "--json").output)) == 2
    r = run("undo", "-w", fitted_workspace.root)
    assert r.output.count("[") == 2  # the whole batch is one update


BAD = [
    (["--indicator", "japan_cabinet_aproval", "--value", "25", "--date", str(Y), "--source", "s"], 1,
     "command line, field '--indicator': unknown indicator 'japan_cabinet_aproval' (did you mean 'japan_cabinet_approval'?)"),
    (["--event", "sumit_held", "--date", str(Y), "--source", "s"], 1,
     "unknown event kind 'sumit_held' (did you mean 'summit_held'?)"),
    (["--indicator", "japan_cabinet_approval", "--value", "140", "--date", str(Y), "--source", "s"], 1,
     "field '--value': value 140 for 'japan_cabinet_approval' is outside its valid range 0 to 100 (% approve)"),
    (["--indicator", "trade_jpn_rus_usd_bn", "--value", "-3", "--date", str(Y), "--source", "s"], 1,
     "value -3 for 'trade_jpn_rus_usd_bn' is outside its valid range"),
    (["--indicator", "japan_cabinet_approval", "--value", "30", "--date", f"{Y}-13-01", "--source", "s"], 1,
     f"field '--date': '{Y}-13-01' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)"),
    (["--indicator", "japan_cabinet_approval", "--value", "30", "--date", FUTURE_MONTH, "--source", "s"], 1,
     f"field '--date': date {FUTURE_MONTH} is in the future"),
    (["--indicator", "japan_cabinet_approval", "--value", "30", "--date", "1980", "--source", "s"], 1,
     "field '--date': date 1980 is before the data begin (1992)"),
    (["--indicator", "japan_cabinet_approval", "--value", "30", "--date", str(Y), "--source", " "], 1,
     "field '--source': missing source"),
    (["--indicator", "japan_cabinet_approval", "--value", "30", "--date", str(Y)], 2, "missing option '--source'"),
    (["--indicator", "japan_cabinet_approval", "--date", str(Y), "--source", "s"], 2, "--indicator needs --value"),
    (["--event", "summit_held", "--indicator", "x", "--date", str(Y), "--source", "s"], 2, "give exactly one of"),
    (["--indicator", "japan_cabinet_approval", "--value", "abc", "--date", str(Y), "--source", "s"], 2,
     "Invalid value for '--value': 'abc' is not a number"),
]


@pytest.mark.parametrize("args, code, message", BAD, ids=[m[:40] for _, _, m in BAD])
def test_bad_input_is_refused_and_nothing_changes(fitted_workspace, args, code, message):
    snap = snapshot(fitted_workspace.root)
    r = run("update", "-w", fitted_workspace.root, *args)
    assert r.exit_code == code, r.output
    assert message in r.output
    assert "Traceback" not in r.output
    assert snapshot(fitted_workspace.root) == snap


@pytest.mark.parametrize("content, message", [
    (f"date,indicator,value,source\n{IN_FORECAST_YEAR},japan_cabinet_approval,30,s\n"
     f"{IN_FORECAST_YEAR},japan_cabinet_approval,30,s\n",
     "batch.csv, row 3, field 'date': duplicate event (same as row 2)"),
    (f"date,indicator,value,source,colour\n{IN_FORECAST_YEAR},japan_cabinet_approval,30,s,red\n",
     "batch.csv, row 1, field 'colour': unknown column 'colour'"),
    (f"date,indicator,value,source\n{IN_FORECAST_YEAR},japan_cabinet_approval,30,s\n"
     f"{IN_FORECAST_YEAR_DAY},japan_cabinet_approval,300,s\n",
     "batch.csv, row 3, field 'value': value 300"),
])
def test_bad_batch_is_all_or_nothing(fitted_workspace, tmp_path, content, message):
    f = tmp_path / "batch.csv"
    f.write_text(content, encoding="utf-8")
    snap = snapshot(fitted_workspace.root)
    r = run("update", "-w", fitted_workspace.root, "--file", f)
    assert r.exit_code == 1, r.output
    assert message in r.output
    assert snapshot(fitted_workspace.root) == snap


def test_undo_with_nothing_to_undo(fitted_workspace):
    r = run("undo", "-w", fitted_workspace.root)
    assert r.exit_code == 1
    assert r.output == "Error: nothing to undo: no update is in force (see 'forecast history')\n"


def test_history_empty(fitted_workspace):
    assert run("history", "-w", fitted_workspace.root).output == "No updates recorded yet (ledger.jsonl is empty).\n"
    assert json.loads(run("history", "-w", fitted_workspace.root, "--json").output) == []
