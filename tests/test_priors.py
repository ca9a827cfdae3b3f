"""Tests for forecast.priors: the shipped presets, validation of priors/*.toml,
elicitation with PreliZ and numpy prior draws.

Bad presets are built in a fresh workspace copy (fixture ``workspace``), either by
editing the shipped default.toml or by writing a small preset that
``extends = "default"`` and overrides one entry.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from forecast.errors import PriorError, Problem, ValidationError
from forecast.model.priors import (WITHIN, 
    DISTRIBUTIONS,
    PARAMETERS,
    PriorSpec,
    available_presets,
    check_all_presets,
    elicit,
    load_preset,
    to_numpy_draws,
)
from forecast.workspace import default_source

SHIPPED = ("default", "realist", "constructivist", "two-level", "expert-hazard")
RATIONALE = "A rationale that is long enough to count as a written sentence."


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def priors(workspace) -> Path:
    return workspace.priors_dir


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def write_preset(priors: Path, name: str, body: str, extends: str | None = "default", head: str = "") -> Path:
    """Write priors/<name>.toml: a [preset] table, then ``body``."""
    lines = ["[preset]", f'name = "{name}"']
    if extends is not None:
        lines.append(f'extends = "{extends}"')
    path = priors / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n" + head + "\n" + body, encoding="utf-8")
    return path


def entry(name: str, lens: str = "power", rationale: str | None = RATIONALE, **params) -> str:
    """TOML text of one prior entry."""
    lines = [f"[{name}]", f'lens = "{lens}"']
    for key, value in params.items():
        lines.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"')
    if rationale is not None:
        lines.append(f'rationale = "{rationale}"')
    return "\n".join(lines) + "\n"


def problems_of(priors: Path, preset: str) -> list[Problem]:
    with pytest.raises(PriorError) as exc:
        load_preset(priors, preset)
    assert isinstance(exc.value, ValidationError)
    assert exc.value.problems
    return exc.value.problems


def assert_problem(problems: list[Problem], file: str, field: str | None, phrase: str,
                   hint: str | None = None) -> Problem:
    hits = [p for p in problems if p.file == file and p.field == field and phrase in p.message]
    listing = "\n  ".join(str(p) for p in problems)
    assert len(hits) == 1, f"expected one {file}, field {field!r}: ...{phrase}...; got:\n  {listing}"
    if hint is not None:
        assert hits[0].hint is not None and hint in hits[0].hint, f"hint {hits[0].hint!r} lacks {hint!r}"
    return hits[0]


# --------------------------------------------------------------------------- shipped presets


@pytest.fixture(scope="module")
def shipped() -> dict:
    src = default_source() / "priors"
    return {name: load_preset(src, name) for name in SHIPPED}


def test_shipped_presets_are_available(workspace):
    assert set(SHIPPED) <= set(available_presets(workspace.priors_dir))
    assert check_all_presets(workspace.priors_dir) == []


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_is_complete(shipped, name):
    ps = shipped[name]
    assert ps.preset == name
    assert set(ps.priors) == set(PARAMETERS)
    assert ps.description
    assert ps.files[0] == f"{name}.toml"
    assert ps.files[-1] == "default.toml"
    for pname, spec in ps.priors.items():
        assert spec.name == pname
        assert spec.distribution in DISTRIBUTIONS
        assert len(spec.rationale) >= 20, f"{name}: {pname} has no real rationale"
        assert spec.source_file in ps.files
        support = DISTRIBUTIONS[spec.distribution][1]
        assert support in WITHIN[PARAMETERS[pname][0]], f"{name}: {pname} is {spec.distribution}"


def test_presets_override_the_default(shipped):
    assert shipped["realist"]["beta_power"].source_file == "realist.toml"
    assert shipped["realist"]["beta_leaders"].source_file == "default.toml"
    assert shipped["two-level"]["beta_leaders"].params["mu"] > shipped["default"]["beta_leaders"].params["mu"]


def normal_mean(spec: PriorSpec) -> float:
    assert spec.distribution == "Normal"
    return spec.params["mu"]


def test_realist_weighs_power_more_than_constructivist(shipped):
    assert normal_mean(shipped["realist"]["beta_power"]) > normal_mean(shipped["constructivist"]["beta_power"])


def test_constructivist_weighs_trust_more_than_realist(shipped):
    assert normal_mean(shipped["constructivist"]["beta_trust"]) > normal_mean(shipped["realist"]["beta_trust"])


# --------------------------------------------------------------------------- entries


def test_unknown_prior_name_with_did_you_mean(priors):
    edit(priors / "default.toml", "[beta_power]", "[beta_powr]")
    problems = problems_of(priors, "default")
    assert_problem(problems, "default.toml", "beta_powr", "unknown prior 'beta_powr'",
                   hint="did you mean 'beta_power'")
    assert len(problems) == 1


def test_unknown_prior_name_reported_through_extending_preset(priors):
    edit(priors / "default.toml", "[beta_power]", "[beta_powr]")
    problems = problems_of(priors, "realist")
    assert_problem(problems, "default.toml", "beta_powr", "unknown prior 'beta_powr'")


def test_unknown_key_in_entry(priors):
    edit(priors / "default.toml", '[beta_power]\nlens = "power"\ndistribution = "Normal"\nmu = 0.5',
         '[beta_power]\nlens = "power"\ndistribution = "Normal"\nmean = 0.5')
    problems = problems_of(priors, "default")
    assert_problem(problems, "default.toml", "beta_power.mean", "unknown key 'mean' in [beta_power]",
                   hint="mu")
    # ... and 'mu' is then missing
    assert_problem(problems, "default.toml", "beta_power.mu", "missing parameter 'mu'")
    assert len(problems) == 2


def test_misspelt_key_gets_did_you_mean(priors):
    write_preset(priors, "custom", entry("beta_power", distribution="Normal", mu=0.4, sigmaa=0.5))
    problems = problems_of(priors, "custom")
    assert_problem(problems, "custom.toml", "beta_power.sigmaa", "unknown key 'sigmaa'",
                   hint="did you mean 'sigma'")


def test_unknown_distribution_with_hint(priors):
    edit(priors / "default.toml", '[beta_power]\nlens = "power"\ndistribution = "Normal"',
         '[beta_power]\nlens = "power"\ndistribution = "Normall"')
    problems = problems_of(priors, "default")
    assert_problem(problems, "default.toml", "beta_power.distribution", "unknown distribution 'Normall'",
                   hint="did you mean 'Normal'")
    assert len(problems) == 1


def test_missing_distribution(priors):
    write_preset(priors, "custom", entry("beta_power", mu=0.4, sigma=0.5))
    problems = problems_of(priors, "custom")
    assert_problem(problems, "custom.toml", "beta_power.distribution", "unknown distribution None")


@pytest.mark.parametrize("pname, dist, params, support", [
    ("loading_tau", "Normal", dict(mu=0.0, sigma=0.5), "positive"),
    ("settlement_base_rate", "HalfNormal", dict(sigma=0.1), "unit"),
    ("settlement_base_rate", "Normal", dict(mu=0.0, sigma=1.0), "unit"),
])
def test_distribution_on_wrong_support(priors, pname, dist, params, support):
    write_preset(priors, "custom", entry(pname, distribution=dist, **params))
    problems = problems_of(priors, "custom")
    p = assert_problem(problems, "custom.toml", f"{pname}.distribution", f"needs a distribution on the {support} line")
    assert dist in p.message
    assert len(problems) == 1


@pytest.mark.parametrize("param", ["sigma", "alpha", "lam"])
def test_negative_or_zero_positive_parameter(priors, param):
    dist, params = {
        "sigma": ("Normal", dict(mu=0.4, sigma=-0.5)),
        "alpha": ("Gamma", dict(alpha=0.0, beta=1.0)),
        "lam": ("Exponential", dict(lam=-1.0)),
    }[param]
    pname = "beta_power" if dist == "Normal" else "gamma_power"
    write_preset(priors, "custom", entry(pname, distribution=dist, **params))
    problems = problems_of(priors, "custom")
    assert_problem(problems, "custom.toml", f"{pname}.{param}", f"'{pname}.{param}' must be positive")
    assert len(problems) == 1


def test_negative_sigma_in_default(priors):
    edit(priors / "default.toml", '[beta_trust]\nlens = "trust"\ndistribution = "Normal"\nmu = 0.5\nsigma = 0.3',
         '[beta_trust]\nlens = "trust"\ndistribution = "Normal"\nmu = 0.5\nsigma = -0.3')
    problems = problems_of(priors, "default")
    assert_problem(problems, "default.toml", "beta_trust.sigma", "must be positive, got -0.3")
    assert len(problems) == 1


def test_missing_parameter(priors):
    write_preset(priors, "custom", entry("beta_power", distribution="Normal", mu=0.4))
    problems = problems_of(priors, "custom")
    assert_problem(problems, "custom.toml", "beta_power.sigma", "[beta_power] is missing parameter 'sigma' of Normal")
    assert len(problems) == 1


def test_parameter_not_a_number(priors):
    write_preset(priors, "custom", entry("beta_power", distribution="Normal", mu="big", sigma=0.5))
    problems = problems_of(priors, "custom")
    assert_problem(problems, "custom.toml", "beta_power.mu", "'beta_power.mu' must be a number, got 'big'")


@pytest.mark.parametrize("mu, phrase", [
    ([-2.5, 0.8, -0.8, 2.5], "must be strictly increasing"),
    ([-1.0, 0.0, 0.0, 1.0], "must be strictly increasing"),
    ([-2.5, -0.8, 0.8], "must be a list of 4 numbers"),
    ([-2.5, -0.8, 0.8, 2.5, 4.0], "must be a list of 4 numbers"),
    (0.0, "must be a list of 4 numbers"),
])
def test_cutpoints_mu(priors, mu, phrase):
    edit(priors / "default.toml", "mu = [-2.5, -0.8, 0.8, 2.5]", f"mu = {mu!r}")
    problems = problems_of(priors, "default")
    assert_problem(problems, "default.toml", "cutpoints.mu", phrase)
    assert len(problems) == 1


@pytest.mark.parametrize("rationale", [None, "", "Because."])
def test_missing_rationale(priors, rationale):
    write_preset(priors, "custom", entry("beta_power", rationale=rationale, distribution="Normal", mu=0.4, sigma=0.5))
    problems = problems_of(priors, "custom")
    assert_problem(problems, "custom.toml", "beta_power.rationale", "needs a written rationale")
    assert len(problems) == 1


def test_unknown_lens_tag(priors):
    write_preset(priors, "custom", entry("beta_power", lens="realism", distribution="Normal", mu=0.4, sigma=0.5))
    problems = problems_of(priors, "custom")
    assert_problem(problems, "custom.toml", "beta_power.lens", "unknown lens 'realism'", hint="power")


def test_elicit_and_parameters_together(priors):
    body = entry("settlement_base_rate", lens="outside-view", distribution="Beta", alpha=2.0) + \
        'elicit = { method = "maxent", lower = 0.005, upper = 0.04, mass = 0.9 }\n'
    write_preset(priors, "custom", body)
    problems = problems_of(priors, "custom")
    assert_problem(problems, "custom.toml", "settlement_base_rate", "gives both 'elicit' and parameters")


@pytest.mark.parametrize("table, field, phrase", [
    ('{ method = "quantile", lower = 0.005, upper = 0.04, mass = 0.9 }', "settlement_base_rate.elicit.method",
     "method must be 'maxent'"),
    ('{ method = "maxent", lower = 0.04, upper = 0.005, mass = 0.9 }', "settlement_base_rate.elicit",
     "lower must be below"),
    ('{ method = "maxent", lower = 0.005, upper = 0.04, mass = 1.5 }', "settlement_base_rate.elicit.mass",
     "mass must be between 0 and 1"),
    ('{ method = "maxent", lower = 0.005, upper = 0.04, mas = 0.9 }', "settlement_base_rate.elicit.mas",
     "unknown key 'mas'"),
])
def test_bad_elicit_table(priors, table, field, phrase):
    edit(priors / "expert-hazard.toml", 'elicit = { method = "maxent", lower = 0.005, upper = 0.04, mass = 0.9 }',
         f"elicit = {table}")
    problems = problems_of(priors, "expert-hazard")
    assert_problem(problems, "expert-hazard.toml", field, phrase)


def test_several_problems_are_all_reported(priors):
    body = entry("beta_power", distribution="Normal", mu=0.4, sigma=-1.0) + \
        entry("gamma_power", distribution="Normall", sigma=0.5) + \
        entry("beta_trust", lens="trust", rationale=None, distribution="Normal", mu=0.1, sigma=0.3)
    write_preset(priors, "custom", body)
    problems = problems_of(priors, "custom")
    assert_problem(problems, "custom.toml", "beta_power.sigma", "must be positive")
    assert_problem(problems, "custom.toml", "gamma_power.distribution", "unknown distribution 'Normall'")
    assert_problem(problems, "custom.toml", "beta_trust.rationale", "needs a written rationale")
    assert len(problems) == 3


def test_invalid_toml_names_the_file(priors):
    edit(priors / "default.toml", "[beta_power]", "[beta_power")
    problems = problems_of(priors, "default")
    assert_problem(problems, "default.toml", None, "not valid TOML")


# --------------------------------------------------------------------------- [preset] and extends


def test_unknown_preset_key_with_hint(priors):
    write_preset(priors, "custom", entry("beta_power", distribution="Normal", mu=0.4, sigma=0.5),
                 head='extend = "default"\n', extends=None)
    problems = problems_of(priors, "custom")
    assert_problem(problems, "custom.toml", "preset.extend", "unknown key 'extend' in [preset]",
                   hint="did you mean 'extends'")


def test_preset_name_must_match_file(priors):
    edit(priors / "realist.toml", 'name = "realist"', 'name = "realism"')
    problems = problems_of(priors, "realist")
    assert_problem(problems, "realist.toml", "preset.name", "does not match the file name", hint="'realist'")


def test_incomplete_preset_without_extends(priors):
    write_preset(priors, "custom", entry("beta_power", distribution="Normal", mu=0.4, sigma=0.5), extends=None)
    problems = problems_of(priors, "custom")
    assert {p.field for p in problems} == set(PARAMETERS) - {"beta_power"}
    assert_problem(problems, "custom.toml", "beta_trust", "no prior for 'beta_trust'")


def test_extends_a_missing_preset(priors):
    edit(priors / "realist.toml", 'extends = "default"', 'extends = "defualt"')
    problems = problems_of(priors, "realist")
    p = assert_problem(problems, "realist.toml", "preset.extends", "extends 'defualt', which is not a preset",
                       hint="did you mean 'default'")
    assert str(priors) in p.message


def test_extends_cycle(priors):
    write_preset(priors, "alpha", "", extends="beta")
    write_preset(priors, "beta", "", extends="alpha")
    problems = problems_of(priors, "alpha")
    assert_problem(problems, "alpha.toml", "preset.extends", "'extends' makes a cycle: alpha -> beta -> alpha")


def test_extends_itself(priors):
    edit(priors / "default.toml", 'name = "default"', 'name = "default"\nextends = "default"')
    problems = problems_of(priors, "default")
    assert_problem(problems, "default.toml", "preset.extends", "cycle: default -> default")


def test_unknown_preset_lists_available(priors):
    with pytest.raises(PriorError) as exc:
        load_preset(priors, "neoliberal")
    (p,) = exc.value.problems
    assert p.file == "neoliberal.toml"
    assert "preset 'neoliberal' not found" in p.message
    assert "available presets: constructivist, default, expert-hazard, realist, two-level" in p.hint
    assert "available presets" in str(exc.value)


def test_misspelt_preset_gets_did_you_mean(priors):
    with pytest.raises(PriorError) as exc:
        load_preset(priors, "realsit")
    assert "did you mean 'realist'" in str(exc.value)


def test_check_all_presets_reports_every_broken_file(priors):
    edit(priors / "realist.toml", "sigma = 0.4", "sigma = -0.4")
    write_preset(priors, "custom", entry("beta_power", distribution="Normall", mu=0.4, sigma=0.5))
    problems = check_all_presets(priors)
    assert_problem(problems, "realist.toml", "beta_power.sigma", "must be positive")
    assert_problem(problems, "custom.toml", "beta_power.distribution", "unknown distribution 'Normall'")


BETA_POWER_HEAD = '[beta_power]\nlens = "power"\ndistribution = "Normal"\nmu = 0.5\n'


@pytest.mark.parametrize("new", [BETA_POWER_HEAD + "foo = 1\n", BETA_POWER_HEAD.replace("0.5", '"abc"'),
                                 BETA_POWER_HEAD + "mu = 0.6\n"])
def test_check_all_presets_reports_a_problem_in_default_once(priors, new):
    """The shipped presets extend default: a problem in default.toml is listed once, not once per preset
    (an unknown key, a parameter that is not a number, invalid TOML)."""
    edit(priors / "default.toml", BETA_POWER_HEAD, new)
    problems = check_all_presets(priors)
    listing = "\n  ".join(str(p) for p in problems)
    assert len(problems) == 1 and problems[0].file == "default.toml", listing


def test_check_all_presets_requires_default(priors):
    (priors / "default.toml").rename(priors / "base.toml")
    problems = check_all_presets(priors)
    assert any(p.file == "default.toml" and "missing" in p.message for p in problems)


# --------------------------------------------------------------------------- elicitation


@pytest.fixture(scope="module")
def base_rate(shipped):
    """The elicited expert base rate (the expert-hazard preset; the default's is learned from claims)."""
    spec = shipped["expert-hazard"]["settlement_base_rate"]
    return spec, spec.resolved_params()


def test_settlement_base_rate_is_elicited_with_maxent(base_rate):
    spec, params = base_rate
    assert spec.distribution == "Beta"
    assert spec.elicit == {"method": "maxent", "lower": 0.005, "upper": 0.04, "mass": 0.9}
    assert spec.params == {}
    assert set(params) == {"alpha", "beta"}
    # the elicited reference-class prior has the requested mass ...
    elicited = elicit("Beta", spec.elicit)
    a, b = elicited["alpha"], elicited["beta"]
    mass = stats.beta.cdf(0.04, a, b) - stats.beta.cdf(0.005, a, b)
    assert mass == pytest.approx(0.9, abs=0.01)
    assert 0.01 <= stats.beta.mean(a, b) <= 0.03
    # ... then the Kuril claim's 40 settlement-free claim-years (1952-1991) are added by conjugacy
    assert spec.update_with == {"trials": 40, "events": 0}
    assert params["alpha"] == pytest.approx(a) and params["beta"] == pytest.approx(b + 40)
    assert stats.beta.mean(params["alpha"], params["beta"]) < stats.beta.mean(a, b)


@pytest.mark.parametrize("bad, phrase", [
    ("update_with = { trials = 5, events = 9 }", "0 <= events <= trials"),
    ("update_with = { trails = 5, events = 0 }", "unknown key 'trails'"),
])
def test_update_with_is_validated(priors, bad, phrase):
    path = priors / "expert-hazard.toml"
    path.write_text(path.read_text().replace("update_with = { trials = 40, events = 0 }", bad))
    with pytest.raises(PriorError) as exc:
        load_preset(priors, "expert-hazard")
    assert any(phrase in p.message and p.file == "expert-hazard.toml" for p in exc.value.problems)


def test_elicit_directly_matches_requested_mass():
    params = elicit("Gamma", {"method": "maxent", "lower": 0.5, "upper": 2.0, "mass": 0.8})
    mass = stats.gamma.cdf(2.0, params["alpha"], scale=1 / params["beta"]) - \
        stats.gamma.cdf(0.5, params["alpha"], scale=1 / params["beta"])
    assert mass == pytest.approx(0.8, abs=0.01)


# --------------------------------------------------------------------------- numpy draws

N = 4000


def check_support(draws: np.ndarray, support: str) -> None:
    assert np.isfinite(draws).all()
    if support == "positive":
        assert (draws >= 0).all() and (draws > 0).mean() > 0.999
    elif support == "unit":
        assert ((draws > 0) & (draws < 1)).all()


_ELICITED: dict = {}


@pytest.mark.parametrize("name", SHIPPED)
def test_numpy_draws_of_shipped_presets_have_the_right_support(shipped, base_rate, name):
    rng = np.random.default_rng(1)
    for pname, spec in shipped[name].priors.items():
        if spec.elicit is not None:  # elicitation is slow: each distinct one once (the base rate's is reused)
            key = (spec.distribution, tuple(sorted(spec.elicit.items())))
            if spec.elicit == base_rate[0].elicit:
                _ELICITED[key] = base_rate[1]
            params = _ELICITED.setdefault(key, spec.resolved_params())
            spec = PriorSpec(pname, spec.distribution, params, spec.lens, spec.rationale)
        draws = to_numpy_draws(spec, N, rng)
        shape = PARAMETERS[pname][1]
        assert draws.shape == ((N,) if shape is None else (N, shape)), pname
        check_support(draws, PARAMETERS[pname][0])


def test_cutpoint_draws_centre_on_mu(shipped):
    spec = shipped["default"]["cutpoints"]
    draws = to_numpy_draws(spec, N, np.random.default_rng(2))
    assert draws.mean(axis=0) == pytest.approx(spec.params["mu"], abs=0.1)
    assert draws.std(axis=0) == pytest.approx([spec.params["sigma"]] * 4, rel=0.1)


def test_elicited_spec_draws_are_in_unit_interval(base_rate):
    draws = to_numpy_draws(base_rate[0], N, np.random.default_rng(3))  # elicits again inside
    check_support(draws, "unit")
    assert draws.mean() == pytest.approx(stats.beta.mean(*base_rate[1].values()), rel=0.1)


@pytest.mark.parametrize("dist, params, support, mean", [
    ("Normal", dict(mu=1.0, sigma=2.0), "real", 1.0),
    ("TruncatedNormal", dict(mu=0.0, sigma=1.0, lower=-1.0, upper=2.0), "real", None),
    ("HalfNormal", dict(sigma=2.0), "positive", 2.0 * np.sqrt(2 / np.pi)),
    ("LogNormal", dict(mu=0.0, sigma=0.5), "positive", np.exp(0.125)),
    ("Gamma", dict(alpha=2.0, beta=4.0), "positive", 0.5),
    ("Exponential", dict(lam=2.0), "positive", 0.5),
    ("Beta", dict(alpha=2.0, beta=6.0), "unit", 0.25),
])
def test_numpy_draws_for_every_distribution(dist, params, support, mean):
    assert set(params) == set(DISTRIBUTIONS[dist][0])
    spec = PriorSpec("x", dist, params, "power", RATIONALE)
    draws = to_numpy_draws(spec, N, np.random.default_rng(4))
    assert draws.shape == (N,)
    check_support(draws, support)
    if dist == "TruncatedNormal":
        assert ((draws >= params["lower"]) & (draws <= params["upper"])).all()
    if mean is not None:
        assert draws.mean() == pytest.approx(mean, rel=0.05)


def test_truncated_normal_draws_in_a_far_tail_return_n_draws():
    spec = PriorSpec("x", "TruncatedNormal", dict(mu=0.0, sigma=1.0, lower=3.0, upper=10.0), "power", RATIONALE)
    draws = to_numpy_draws(spec, 1000, np.random.default_rng(5))
    assert draws.shape == (1000,)
