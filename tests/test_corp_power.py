"""benchmarks/corp_power.py: the CORP terms under the hypothesis that a method is calibrated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scripts import load_script

from forecast.validate.scoring import climatology, p_improve, reliability

corp_power = load_script("benchmarks/corp_power.py")


def test_observed_terms_are_the_backtests_and_a_gross_miscalibration_is_called():
    """Forecasts of 0.8 for 30 years of which 3 improved: MCB is far above what calibration explains,
    and so is the gap between mean forecast and observed rate."""
    p = np.full(30, 0.8)
    o = np.zeros(30)
    o[:3] = 1.0
    r = corp_power.under_calibration(p, o, 500, np.random.default_rng(0))
    rel = reliability(p, o)
    assert r["mcb"] == rel["miscalibration"] and r["dsc"] == rel["discrimination"]
    assert r["p_mcb_ge_observed"] < 0.01 and r["p_gap"] < 0.01


def test_a_calibrated_forecaster_is_not_called_miscalibrated_more_often_than_chance():
    """Outcomes drawn from the forecasts themselves: the test's P(MCB >= observed) is roughly uniform,
    so it falls below 0.1 in about a tenth of the records (not in most of them)."""
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.7, 30)
    small = 0
    for k in range(40):
        o = (rng.random(30) < p).astype(float)
        small += corp_power.under_calibration(p, o, 300, np.random.default_rng(k))["p_mcb_ge_observed"] < 0.1
    assert small <= 10


def rolling_climatology(o: np.ndarray, before=(-1, 0, 1, 0)) -> np.ndarray:
    """P(improve) of the backtest's climatology baseline (``scoring.climatology``) before each row, for
    0/1 outcomes ``o`` (coded +1 or 0) after the changes ``before`` (4 years, 1 improvement)."""
    changes = list(before) + [1 if v else 0 for v in o]
    return np.array([p_improve(climatology(changes[: len(before) + i])) for i in range(len(o))])


def test_the_scripts_climatology_is_the_backtests():
    o = (np.random.default_rng(5).random(30) < 0.3).astype(float)
    assert np.allclose(corp_power.rolling_climatology(o, 4, 1), rolling_climatology(o), atol=1e-12)


def test_the_table_has_a_row_per_method_column(tmp_path):
    rng = np.random.default_rng(2)
    o = (rng.random(30) < 0.3).astype(int)
    rows = pd.DataFrame({"year": np.arange(1996, 2026), "improved": o,
                         "p_improve": rng.uniform(0.1, 0.6, 30), "p_improve_climatology": rolling_climatology(o)})
    lines = corp_power.table(rows, 200, 5).splitlines()
    body = [ln.split("|")[1].strip() for ln in lines if ln.startswith("| ") and not ln.startswith("| method")]
    assert body == ["**`joint` (the default)**", "climatology", "**`joint` (the default)**"]
    rows.to_csv(tmp_path / "rows.csv", index=False)
    assert corp_power.main([str(tmp_path / "rows.csv"), "--sims", "50"]) == 0
    with pytest.raises(SystemExit, match="no such file"):
        corp_power.main([str(tmp_path / "missing.csv")])


def test_the_climatology_counts_are_recovered_and_a_foreign_column_is_refused():
    """Four coded years with one improvement before the first row, as in the shipped default."""
    rng = np.random.default_rng(3)
    o = (rng.random(30) < 0.3).astype(float)
    clim = rolling_climatology(o)
    assert corp_power.climatology_counts(clim, o) == (4, 1)
    with pytest.raises(SystemExit, match="not the rolling"):
        corp_power.climatology_counts(np.full(30, 0.3), o)


def test_the_skill_target_is_reachable_for_sharp_calibrated_forecasts_and_not_for_climatology_like_ones():
    rng = np.random.default_rng(4)
    o = (rng.random(30) < 0.3).astype(float)
    clim = rolling_climatology(o)
    sharp = np.where(rng.random(30) < 0.3, 0.95, 0.05)
    flat = np.full(30, 0.3)
    r_sharp = corp_power.skill_target_under_calibration(sharp, o, clim, 100, np.random.default_rng(0), n_boot=200)
    r_flat = corp_power.skill_target_under_calibration(flat, o, clim, 100, np.random.default_rng(0), n_boot=200)
    assert r_sharp["p_met"] > 0.9 and r_flat["p_met"] < 0.1
    assert r_sharp["observed"] == pytest.approx(1 - np.mean((sharp - o) ** 2) / np.mean((clim - o) ** 2))
