"""``forecast reference fit|backtest|show`` through the CLI (CliRunner, --json parsed), and the
settlement evidence a fit of the default workspace carries into ``show --json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from forecast.cli.main import main
from forecast.data.settlement_prior import load_settlement_prior

TINY = ["--draws", "30", "--tune", "30", "--chains", "2", "--seed", "3"]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_show_prints_the_shipped_settlement_prior():
    r = invoke("reference", "show", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    shipped = load_settlement_prior()
    assert d["evidence"]["claim_years"] == shipped.evidence.claim_years > 9000
    assert d["evidence"]["settlements"] == shipped.evidence.settlements > 150
    assert set(d["terms"]) == {"level", "power", "trust", "capacity"}
    assert d["sha256"] == shipped.sha256
    text = invoke("reference", "show")
    assert text.exit_code == 0 and "learned from" in text.output and "claim-years" in text.output


@pytest.fixture(scope="module")
def tiny_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    r = invoke("reference", "fit", *TINY, "--out", out, "--json")
    return out, r


def test_fit_writes_a_checked_settlement_prior_and_its_posterior(tiny_reference):
    out, r = tiny_reference
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    prior = load_settlement_prior(out / "settlement_prior.json")
    assert d["settlement_prior"]["sha256"] == prior.sha256
    assert (out / "settlement_posterior.nc").is_file()
    assert prior.fit["draws"] == 30 and prior.seed == 3
    assert 0.0 <= d["claim_survival_fitted_years"] <= 1.0
    assert "reference fit:" in r.stderr          # progress on stderr, also with --json
    assert "Traceback" not in r.output


def test_fit_identity_matches_the_stored_posterior(tiny_reference):
    import hashlib

    out, _ = tiny_reference
    prior = load_settlement_prior(out / "settlement_prior.json")
    assert prior.posterior_sha256 == hashlib.sha256((out / "settlement_posterior.nc").read_bytes()).hexdigest()


def test_backtest_json_has_a_row_per_test_claim_year(tmp_path):
    r = invoke("reference", "backtest", "--origin", "1975", "--draws", "30", "--tune", "30", "--chains", "1",
               "--jobs", "1", "--json", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    rows = d["rows"]
    assert rows and set(rows[0]) >= {"origin", "claim", "year", "p_settle", "p_base_all", "p_base_30y", "settled"}
    assert all(row["origin"] == 1975 and 1975 <= row["year"] <= 2001 for row in rows)
    assert d["origins"][0]["n_test"] == len(rows)
    assert set(d["targets"]) >= {"log_skill", "brier_skill", "auc", "mean_rate"}
    assert (tmp_path / "reference_backtest_rows.csv").is_file() and (tmp_path / "reference_backtest.json").is_file()
    assert "origin 1975" in r.stderr
    from forecast.reference.service import format_backtest

    text = format_backtest(d)   # what the command prints without --json (None scores shown as n/a)
    assert "pooled" in text and "target auc" in text and "n/a" in text


@pytest.mark.parametrize("origins, phrase", [(["1816"], "1816 is not in the range"),
                                             (["1960", "1946"], "origins must increase strictly")])
def test_bad_origins_are_usage_errors(tmp_path, origins, phrase):
    args = [a for o in origins for a in ("--origin", o)]
    r = invoke("reference", "backtest", *args, "--jobs", "1", "--out", tmp_path)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and phrase in r.output
    assert not any(tmp_path.iterdir())


def test_backtest_information_updated_level(tmp_path):
    """--information updated-level: one-year-ahead rows whose base rates move with the year."""
    r = invoke("reference", "backtest", "--origin", "1975", "--draws", "30", "--tune", "30", "--chains", "1",
               "--jobs", "1", "--json", "--information", "updated-level")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["settings"]["information"] == "updated-level"
    by_year = {row["year"]: row["p_base_all"] for row in d["rows"]}
    assert len(set(by_year.values())) > 1 and by_year[1975] == d["origins"][0]["p_base_all"]


def test_backtest_fits_folder_keeps_and_reuses_each_origins_posterior(tmp_path):
    """--fits: the first run fits and stores origin-1975.nc; a second run with another --information loads
    it (nothing refitted, the same fit: its origin-year rows equal the first run's); other sampling settings
    refit and replace it, saying why; a file in the folder's place is a usage error."""
    fits = tmp_path / "fits"
    args = ["reference", "backtest", "--origin", "1975", "--draws", "30", "--tune", "30", "--chains", "1",
            "--jobs", "1", "--json", "--fits", str(fits)]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    stored = fits / "origin-1975.nc"
    assert stored.is_file() and "loaded from" not in first.stderr
    d1 = json.loads(first.stdout)
    assert d1["origins"][0]["fit_source"] == "fitted"
    second = invoke(*args, "--information", "updated")
    assert second.exit_code == 0, second.output
    d2 = json.loads(second.stdout)
    assert d2["origins"][0]["fit_source"] == f"loaded from {stored}" and "loaded from" in second.stderr
    at_origin = {(r["claim"], r["year"]): r["p_settle"] for r in d1["rows"] if r["year"] == 1975}
    assert {(r["claim"], r["year"]): r["p_settle"] for r in d2["rows"] if r["year"] == 1975} == at_origin
    # other settings: fitted again (a stand-in here, which hands back the stored fit) and the reason said
    from forecast.data.claims import load_claim_years
    from forecast.reference.store import load_or_fit, load_reference_fit

    kept, calls = load_reference_fit(stored), []

    def refit(claims, origin, **kw):
        calls.append(kw)
        return kept

    fit, src = load_or_fit(stored, refit, load_claim_years(), 1975, draws=30, tune=30, chains=1, seed=8)
    assert fit is kept and calls == [{"draws": 30, "tune": 30, "chains": 1, "seed": 8}]
    assert src.startswith("refitted:") and "seed 20161215 not 8" in src
    stored.write_bytes(b"not a netCDF file")
    _, src = load_or_fit(stored, refit, load_claim_years(), 1975, draws=30, tune=30, chains=1, seed=20161215)
    assert src.startswith("refitted:") and "cannot read" in src and len(calls) == 2
    (tmp_path / "file").write_text("x")
    bad = invoke(*args[:-2], "--fits", str(tmp_path / "file"), "--out", str(tmp_path / "out"))
    assert bad.exit_code == 2 and "is a file" in bad.output and "Traceback" not in bad.output
    assert not (tmp_path / "out").exists()


def test_unknown_information_is_a_usage_error(tmp_path):
    r = invoke("reference", "backtest", "--information", "psychic", "--jobs", "1", "--out", tmp_path)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "psychic" in r.output
    assert not any(tmp_path.iterdir())


def test_show_json_of_a_fit_names_its_settlement_evidence(fitted_workspace):
    r = invoke("show", "-w", fitted_workspace.root, "--json")
    assert r.exit_code == 0, r.output
    ev = json.loads(r.stdout)["settlement_evidence"]
    shipped = load_settlement_prior()
    assert ev["claim_years"] == shipped.evidence.claim_years
    assert ev["settlements"] == shipped.evidence.settlements
    assert ev["reference_posterior_sha256"] == shipped.posterior_sha256
    assert set(ev["priors"]) == {"settlement_base_rate", "gamma_power", "gamma_trust", "gamma_capacity"}
    text = invoke("show", "-w", fitted_workspace.root)
    assert f"learned from {shipped.evidence.claim_years:,} claim-years" in text.output


def stub_reference_fit(monkeypatch, failures: tuple[str, ...]):
    """'reference fit' with its sampling replaced by the shipped prior and these diagnostics failures:
    nothing is fitted or written. Returns the list of the ``out`` arguments it was called with."""
    from forecast.reference import service
    from forecast.workspace import reference_dir

    calls = []

    def fake(out=None, **kw):
        calls.append(out)
        folder = Path(out) if out is not None else reference_dir()
        return service.ReferenceFitResult(
            prior=load_settlement_prior(), posterior_path=folder / "settlement_posterior.nc",
            prior_path=folder / "settlement_prior.json", claim_survival_value=0.5,
            diagnostics={"rhat_max": 1.045, "ess_bulk_min": 80.0, "divergences": 0, "bfmi_min": 0.9, "seconds": 1.0,
                         "failures": list(failures)},
            seconds=1.0, shipped=out is None)

    monkeypatch.setattr(service, "fit_reference_class", fake)
    return calls


def test_fit_with_out_says_no_workspace_is_affected(monkeypatch, tmp_path):
    """With --out the last line said 'Refit workspaces: their settlement priors changed', though no workspace
    reads that folder; it now says where the files went and that workspaces are unaffected."""
    calls = stub_reference_fit(monkeypatch, ())
    r = invoke("reference", "fit", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert calls == [str(tmp_path)]
    assert "Refit workspaces" not in r.stdout and "settlement priors changed" not in r.stdout
    assert f"Wrote {tmp_path / 'settlement_posterior.nc'} and {tmp_path / 'settlement_prior.json'}" in r.stdout
    assert "no workspace reads" in r.stdout and "DIAGNOSTICS FAILED" not in r.stdout
    shipped = invoke("reference", "fit")
    assert shipped.exit_code == 0 and "Refit workspaces ('forecast fit')" in shipped.stdout


def test_fit_that_fails_its_diagnostics_says_so_on_stdout_and_strict_exits_1(monkeypatch, tmp_path):
    """A reference fit failing its diagnostics exited 0 with 'NOT OK' only on stderr; as 'forecast fit',
    the printed result now leads with the failure, stderr has the red warning, and --strict exits 1."""
    stub_reference_fit(monkeypatch, ("R-hat 1.045 >= 1.01",))
    r = invoke("reference", "fit", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert "DIAGNOSTICS FAILED" in r.stdout and "R-hat 1.045 >= 1.01" in r.stdout
    assert "WARNING: diagnostics failed: R-hat 1.045 >= 1.01" in r.stderr
    strict = invoke("reference", "fit", "--out", tmp_path, "--strict")
    assert strict.exit_code == 1 and "DIAGNOSTICS FAILED" in strict.stdout and "Traceback" not in strict.output
    assert invoke("reference", "fit", "--out", tmp_path, "--strict", "--json").exit_code == 1
    stub_reference_fit(monkeypatch, ())
    assert invoke("reference", "fit", "--out", tmp_path, "--strict").exit_code == 0
