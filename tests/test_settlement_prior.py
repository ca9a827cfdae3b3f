"""The settlement prior learned from the reference class: its file is read at the door, and prior
entries with ``reference = ...`` take their parameters from it (and only from it)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from forecast.data.settlement_prior import FORMAT, load_settlement_prior
from forecast.errors import PriorError, ValidationError
from forecast.model.priors import load_preset, logpdf, to_numpy_draws
from forecast.model.prior_reference import resolve_references
from forecast.workspace import default_source

from test_priors import assert_problem, entry, problems_of, write_preset


def summary_dict(**over) -> dict:
    d = {"format": FORMAT, "claim": 82804, "as_of": 2026,
         "terms": {"level": {"mu": -5.0, "sigma": 0.6}, "power": {"mu": 0.1, "sigma": 0.05},
                   "trust": {"mu": 0.4, "sigma": 0.1}, "capacity": {"mu": 0.05, "sigma": 0.08}},
         "mapping": {"power": "log_cinc_ratio"},
         "evidence": {"claim_years": 9990, "settlements": 194, "claims": 412, "first_year": 1816, "last_year": 2001,
                      "source": "ICOW"},
         "posterior_sha256": "a" * 64, "data_sha256": "b" * 64, "seed": 1, "versions": {"pymc": "5"},
         "fit": {"draws": 1000, "tune": 1000, "chains": 2, "rhat_max": 1.002, "ess_bulk_min": 900.0,
                 "divergences": 0, "seconds": 100.0}}
    d.update(over)
    return d


def write(tmp_path: Path, d) -> Path:
    p = tmp_path / "settlement_prior.json"
    p.write_text(json.dumps(d), encoding="utf-8")
    return p


def test_a_good_summary_loads(tmp_path):
    s = load_settlement_prior(write(tmp_path, summary_dict()))
    assert s.terms["level"].mu == -5.0 and s.terms["trust"].sigma == 0.1
    assert s.evidence.sentence() == "learned from 9,990 claim-years, 194 peaceful settlements, ICOW 1816-2001"
    assert len(s.sha256) == 64


@pytest.mark.parametrize("change, field, phrase", [
    ({"extra": 1}, "extra", "unknown key"),
    ({"terms": {"level": {"mu": 0, "sigma": 1}}}, "terms", "must hold exactly"),
    ({"posterior_sha256": "xyz"}, "posterior_sha256", "64 lowercase hex"),
    ({"format": "other/1"}, "format", "is not"),
])
def test_a_bad_summary_is_refused_naming_the_key(tmp_path, change, field, phrase):
    with pytest.raises(ValidationError) as exc:
        load_settlement_prior(write(tmp_path, summary_dict(**change)))
    assert any(p.field == field and phrase in p.message and p.file == "settlement_prior.json"
               for p in exc.value.problems), exc.value.problems


def test_a_negative_sigma_is_refused(tmp_path):
    d = summary_dict()
    d["terms"]["trust"]["sigma"] = -0.1
    with pytest.raises(ValidationError, match="terms.trust.sigma"):
        load_settlement_prior(write(tmp_path, d))


def test_not_json_is_refused(tmp_path):
    p = tmp_path / "settlement_prior.json"
    p.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid JSON"):
        load_settlement_prior(p)


def test_reference_entries_take_mu_and_sigma_from_the_summary(tmp_path):
    shipped = load_preset(default_source() / "priors", "default")
    s = load_settlement_prior(write(tmp_path, summary_dict()))
    marked = {n: spec for n, spec in shipped.priors.items() if spec.reference}
    resolved, used = resolve_references(shipped.priors, s)
    assert used is s
    assert set(marked) == {"settlement_base_rate", "gamma_power", "gamma_trust", "gamma_capacity"}
    for name, spec in marked.items():
        term = s.terms[spec.reference]
        if spec.distribution == "Beta":
            a, b = resolved[name].params["alpha"], resolved[name].params["beta"]
            z = np.random.default_rng(1).normal(term.mu, term.sigma, 400_000)
            p = 1 / (1 + np.exp(-z))
            assert a / (a + b) == pytest.approx(p.mean(), rel=0.01)
            assert a * b / ((a + b) ** 2 * (a + b + 1)) == pytest.approx(p.var(), rel=0.03)
        else:
            assert resolved[name].params == {"mu": term.mu, "sigma": term.sigma}
    untouched = [n for n in shipped.priors if n not in marked]
    assert all(resolved[n] == shipped.priors[n] for n in untouched)


def test_logitnormal_draws_and_density_agree():
    from dataclasses import replace

    spec = replace(load_preset(default_source() / "priors", "default")["settlement_base_rate"],
                   distribution="LogitNormal", params={"mu": -4.0, "sigma": 0.5}, elicit=None, update_with=None)
    x = to_numpy_draws(spec, 20000, np.random.default_rng(0))
    assert 0 < x.min() and x.max() < 1
    assert abs(np.log(x / (1 - x)).mean() + 4.0) < 0.02
    grid = np.linspace(1e-4, 0.2, 4000)
    assert abs(np.trapezoid(np.exp(logpdf(spec, grid)), grid) - 1.0) < 0.01


def test_reference_on_a_parameter_it_cannot_set_is_an_error(workspace):
    write_preset(workspace.priors_dir, "custom", entry("beta_power", distribution="Normal", reference="power"))
    assert_problem(problems_of(workspace.priors_dir, "custom"), "custom.toml", "beta_power.reference",
                   "cannot take 'reference'")


def test_reference_with_parameters_too_is_an_error(workspace):
    write_preset(workspace.priors_dir, "custom",
                 entry("gamma_trust", lens="trust", distribution="Normal", reference="trust", mu=0.0, sigma=1.0))
    assert_problem(problems_of(workspace.priors_dir, "custom"), "custom.toml", "gamma_trust.reference",
                   "remove mu, sigma")


@pytest.mark.parametrize("ref, dist, field, phrase", [
    ("trust", "Beta", "settlement_base_rate.reference", "must be 'level'"),
    ("level", "LogitNormal", "settlement_base_rate.distribution", "needs distribution = 'Beta'"),
])
def test_reference_term_and_distribution_must_match(workspace, ref, dist, field, phrase):
    write_preset(workspace.priors_dir, "custom",
                 entry("settlement_base_rate", lens="outside-view", distribution=dist, reference=ref))
    problems = problems_of(workspace.priors_dir, "custom")
    assert_problem(problems, "custom.toml", field, phrase)
    assert isinstance(PriorError(problems), ValidationError)


def test_a_blank_workspace_for_another_dyad_takes_the_expert_hazard(tmp_path):
    """The settlement prior learned for the Kuril claim names that claim: a blank workspace for another
    dyad gets the expert-hazard entries instead, and keeps every other default entry."""
    from forecast.data.skeleton import init_blank

    ws, _ = init_blank(tmp_path / "ci", "China-India")
    blank = load_preset(ws.priors_dir, "default")
    shipped = load_preset(default_source() / "priors", "default")
    expert = load_preset(default_source() / "priors", "expert-hazard")
    assert blank.reference is None and not any(s.reference for s in blank.priors.values())
    for name in ("settlement_base_rate", "gamma_power", "gamma_trust", "gamma_capacity"):
        assert blank[name].distribution == expert[name].distribution
        assert blank[name].resolved_params() == expert[name].resolved_params()
    for name in ("beta_power", "delta_barrier", "cutpoints"):
        assert blank[name] == shipped[name]


def test_a_broken_settlement_prior_stops_fit_before_sampling(workspace, tmp_path, monkeypatch):
    """A damaged shipped summary is a named error (exit 1, file and key, no traceback) and the
    workspace is left as it was."""
    from click.testing import CliRunner

    import forecast.data.settlement_prior as sp
    from forecast.cli.main import main

    d = summary_dict()
    d["terms"]["level"]["sigma"] = 0
    bad = write(tmp_path, d)
    monkeypatch.setattr(sp, "default_path", lambda: bad)
    before = sorted(p.relative_to(workspace.root) for p in workspace.root.rglob("*"))
    r = CliRunner().invoke(main, ["fit", "-w", str(workspace.root), "-q"])
    assert r.exit_code == 1, r.output
    assert "settlement_prior.json" in r.output and "terms.level.sigma" in r.output
    assert "Traceback" not in r.output
    assert sorted(p.relative_to(workspace.root) for p in workspace.root.rglob("*")) == before
