"""Priors validated like data (issue 13, item 2): every probe on a priors/*.toml file ends in a
named problem, through ``load_preset`` and through ``forecast data check`` (exit 1, no traceback,
file and key in the message, workspace unchanged). ``extends`` stays inside priors/, so every file
a preset reads is in the content hash and editing it makes a fit stale.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from forecast.cli.main import main
from forecast.errors import PriorError, Problem
from forecast.model.priors import PARAMETERS, available_presets, check_all_presets, load_preset
from forecast.store.posterior import is_stale, read_forecast
from forecast.workspace import Workspace, content_hash

RATIONALE = "A rationale that is long enough to count as a written sentence."
DEEP = 2000  # deeper than tomllib can parse


def write_custom(ws: Workspace, entry: str, head: str = 'extends = "default"') -> Path:
    """priors/custom.toml: a [preset] table (name custom, then ``head``), then ``entry``."""
    path = ws.priors_dir / "custom.toml"
    path.write_text(f'[preset]\nname = "custom"\n{head}\n\n{entry}', encoding="utf-8")
    return path


def entry(name: str, body: str, lens: str = '"power"') -> str:
    return f'[{name}]\nlens = {lens}\n{body}\nrationale = "{RATIONALE}"\n'


def snapshot(ws: Workspace) -> dict[str, bytes]:
    return {p.relative_to(ws.root).as_posix(): p.read_bytes() for p in sorted(ws.root.rglob("*")) if p.is_file()}


def load_problems(ws: Workspace, preset: str = "custom") -> list[Problem]:
    with pytest.raises(PriorError) as exc:
        load_preset(ws.priors_dir, preset)
    assert exc.value.problems
    return exc.value.problems


def one_problem(problems: list[Problem], file: str, field: str | None, phrase: str) -> Problem:
    hits = [p for p in problems if p.file == file and p.field == field and phrase in p.message]
    listing = "\n  ".join(str(p) for p in problems)
    assert len(hits) == 1, f"expected one {file}, field {field!r}: ...{phrase}...; got:\n  {listing}"
    return hits[0]


def data_check_fails(ws: Workspace, file: str, field: str | None, phrase: str) -> str:
    """``forecast data check`` exits 1 with a clean message naming file and key; nothing is written."""
    before = snapshot(ws)
    r = CliRunner().invoke(main, ["data", "check", "-w", str(ws.root)])
    assert r.exit_code == 1, r.output
    assert isinstance(r.exception, SystemExit), repr(r.exception)  # a ClickException, not a crash
    assert "Traceback" not in r.output
    assert r.output.startswith("Error: ")
    assert file in r.output and phrase in r.output
    if field is not None:
        assert f"field '{field}'" in r.output
    assert len(r.output) < 2000  # a bad value is described briefly, never dumped
    assert snapshot(ws) == before
    return r.output


def assert_refused(ws: Workspace, file: str, field: str | None, phrase: str, preset: str = "custom") -> Problem:
    p = one_problem(load_problems(ws, preset), file, field, phrase)
    data_check_fails(ws, file, field, phrase)
    return p


# --------------------------------------------------------------------------- finite, in the support

@pytest.mark.parametrize("pname, body, field, phrase", [
    ("beta_power", 'distribution = "Normal"\nmu = 0.4\nsigma = nan', "sigma", "must be a finite number, got nan"),
    ("beta_power", 'distribution = "Normal"\nmu = inf\nsigma = 0.5', "mu", "must be a finite number, got inf"),
    ("beta_power", 'distribution = "Normal"\nmu = -inf\nsigma = 0.5', "mu", "must be a finite number, got -inf"),
    ("beta_power", 'distribution = "Normal"\nmu = 0.4\nsigma = -nan', "sigma", "must be a finite number"),
    ("beta_power", 'distribution = "Normal"\nmu = 1' + "0" * 400 + '\nsigma = 0.5', "mu",
     "must be a finite number, got 1000"),
    ("settlement_base_rate", 'distribution = "Beta"\nalpha = nan\nbeta = 2.0', "alpha", "must be a finite number"),
    ("settlement_base_rate", 'distribution = "Beta"\nalpha = 2.0\nbeta = inf', "beta", "must be a finite number"),
    ("settlement_base_rate", 'distribution = "Beta"\nalpha = 2.0\nbeta = 0.0', "beta", "must be positive, got 0.0"),
    ("gamma_power", 'distribution = "Gamma"\nalpha = 2.0\nbeta = -1.0', "beta", "must be positive, got -1.0"),
    ("gamma_power", 'distribution = "Gamma"\nalpha = inf\nbeta = 1.0', "alpha", "must be a finite number"),
    ("gamma_power", 'distribution = "HalfNormal"\nsigma = inf', "sigma", "must be a finite number, got inf"),
    ("gamma_power", 'distribution = "Exponential"\nlam = nan', "lam", "must be a finite number, got nan"),
    ("gamma_power", 'distribution = "LogNormal"\nmu = nan\nsigma = 1.0', "mu", "must be a finite number"),
    ("beta_power", 'distribution = "TruncatedNormal"\nmu = 0.0\nsigma = 1.0\nlower = -inf\nupper = 1.0', "lower",
     "must be a finite number, got -inf"),
    ("beta_power", 'distribution = "TruncatedNormal"\nmu = 0.0\nsigma = 1.0\nlower = 1.0\nupper = 1.0', "lower",
     "'beta_power.lower' must be below 'beta_power.upper'"),
])
def test_parameter_outside_its_support_is_refused(workspace, pname, body, field, phrase):
    write_custom(workspace, entry(pname, body, lens='"outside-view"' if pname.startswith("settlement") else
                                  '"power"'))
    p = assert_refused(workspace, "custom.toml", f"{pname}.{field}", phrase)
    assert len(p.message) < 200


def test_nan_sigma_in_the_shipped_default_is_refused(workspace):
    path = workspace.priors_dir / "default.toml"
    text = path.read_text()
    old = '[beta_trust]\nlens = "trust"\ndistribution = "Normal"\nmu = 0.5\nsigma = 0.3'
    assert text.count(old) == 1
    path.write_text(text.replace(old, old.replace("sigma = 0.3", "sigma = nan")))
    # default.toml is named, also when a preset that extends it is loaded
    for preset in ("default", "realist"):
        one_problem(load_problems(workspace, preset), "default.toml", "beta_trust.sigma", "finite number, got nan")
    data_check_fails(workspace, "default.toml", "beta_trust.sigma", "must be a finite number, got nan")


@pytest.mark.parametrize("mu, phrase", [
    ("[-2.5, nan, 0.8, 2.5]", "must be a finite number, got nan"),
    ("[-inf, -0.8, 0.8, 2.5]", "must be a finite number, got -inf"),
    ("[-2.5, -0.8, 0.8, inf]", "must be a finite number, got inf"),
    ("[[-2.5], [-0.8], [0.8], [2.5]]", "must be a number, got an array"),
])
def test_cutpoints_must_be_finite_numbers(workspace, mu, phrase):
    path = workspace.priors_dir / "default.toml"
    text = path.read_text()
    assert text.count("mu = [-2.5, -0.8, 0.8, 2.5]") == 1
    path.write_text(text.replace("mu = [-2.5, -0.8, 0.8, 2.5]", f"mu = {mu}"))
    assert_refused(workspace, "default.toml", "cutpoints.mu", phrase, preset="default")


@pytest.mark.parametrize("elicit, field, phrase", [
    ('{ method = "maxent", lower = nan, upper = 0.04, mass = 0.9 }', "elicit.lower", "must be a finite number"),
    ('{ method = "maxent", lower = 0.005, upper = inf, mass = 0.9 }', "elicit.upper", "must be a finite number"),
    ('{ method = "maxent", lower = 0.005, upper = 0.04, mass = nan }', "elicit.mass", "must be a finite number"),
    ('{ method = "maxent", lower = 0.5, upper = 1.5, mass = 0.9 }', "elicit", "must lie in the support of Beta"),
    ('{ method = ["maxent"], lower = 0.005, upper = 0.04, mass = 0.9 }', "elicit.method",
     "method must be 'maxent', got an array"),
])
def test_elicitation_numbers_are_finite_and_in_the_support(workspace, elicit, field, phrase):
    body = f'distribution = "Beta"\nelicit = {elicit}'
    write_custom(workspace, entry("settlement_base_rate", body, lens='"outside-view"'))
    assert_refused(workspace, "custom.toml", f"settlement_base_rate.{field}", phrase)


@pytest.mark.parametrize("update", ["{ trials = true, events = 0 }", "{ trials = 40.0, events = 0 }",
                                    "{ trials = 40, events = nan }"])
def test_update_with_needs_whole_numbers(workspace, update):
    body = f'distribution = "Beta"\nalpha = 2.0\nbeta = 50.0\nupdate_with = {update}'
    write_custom(workspace, entry("settlement_base_rate", body, lens='"outside-view"'))
    assert_refused(workspace, "custom.toml", "settlement_base_rate.update_with", "whole numbers")


# --------------------------------------------------------------------------- malformed types

@pytest.mark.parametrize("body, field, phrase", [
    ('distribution = ["Normal"]\nmu = 0.4\nsigma = 0.5', "distribution", "must be a text in quotes, got an array"),
    ('distribution = { name = "Normal" }\nmu = 0.4\nsigma = 0.5', "distribution",
     "must be a text in quotes, got a table"),
    ('distribution = 3\nmu = 0.4\nsigma = 0.5', "distribution", "must be a text in quotes, got 3"),
    ('distribution = "Normal"\nmu = "0.4"\nsigma = 0.5', "mu", "must be a number, got '0.4'"),
    ('distribution = "Normal"\nmu = 0.4\nsigma = true', "sigma", "must be a number, got True"),
    ('distribution = "Normal"\nmu = { value = 0.4 }\nsigma = 0.5', "mu", "must be a number, got a table"),
    ('distribution = "Normal"\nmu = [0.4]\nsigma = 0.5', "mu", "must be a number, got an array"),
    ('distribution = "Normal"\nmu = ' + "[" * 50 + "0.4" + "]" * 50 + '\nsigma = 0.5', "mu",
     "must be a number, got an array"),
    ('distribution = "Normal"\nmu = "' + "9" * 5000 + '"\nsigma = 0.5', "mu", "must be a number, got '999"),
    ('distribution = "Normal"\nmu = 1979-05-27\nsigma = 0.5', "mu", "must be a number, got datetime.date"),
])
def test_malformed_value_in_an_entry(workspace, body, field, phrase):
    write_custom(workspace, entry("beta_power", body))
    assert_refused(workspace, "custom.toml", f"beta_power.{field}", phrase)


@pytest.mark.parametrize("lens, phrase", [('["power"]', "unknown lens an array"),
                                          ("{ name = \"power\" }", "unknown lens a table")])
def test_malformed_lens(workspace, lens, phrase):
    write_custom(workspace, entry("beta_power", 'distribution = "Normal"\nmu = 0.4\nsigma = 0.5', lens=lens))
    assert_refused(workspace, "custom.toml", "beta_power.lens", phrase)


@pytest.mark.parametrize("value", ["[" * DEEP + "]" * DEEP, "{ a = " * DEEP + "1" + " }" * DEEP],
                         ids=["arrays", "inline-tables"])
def test_deeply_nested_value_names_file_line_and_key(workspace, value):
    write_custom(workspace, entry("beta_power", f'distribution = "Normal"\nmu = {value}\nsigma = 0.5'))
    p = one_problem(load_problems(workspace), "custom.toml", "beta_power.mu", "nested too deeply")
    assert p.row == 8  # [preset], name, extends, blank, [beta_power], lens, distribution, mu
    out = data_check_fails(workspace, "custom.toml", "beta_power.mu", "nested too deeply")
    assert "row 8" in out


@pytest.mark.parametrize("head, field, phrase", [
    ('extends = ["default"]', "preset.extends", "must be a text in quotes, got an array"),
    ("extends = 5", "preset.extends", "must be a text in quotes, got 5"),
    ("extends = { name = \"default\" }", "preset.extends", "must be a text in quotes, got a table"),
    ('extends = "default"\ndescription = ["a", "b"]', "preset.description", "must be a text in quotes, got an array"),
])
def test_malformed_preset_table(workspace, head, field, phrase):
    write_custom(workspace, "", head=head)
    assert_refused(workspace, "custom.toml", field, phrase)


def test_preset_name_not_a_text(workspace):
    (workspace.priors_dir / "custom.toml").write_text('[preset]\nname = ["custom"]\nextends = "default"\n')
    assert_refused(workspace, "custom.toml", "preset.name", "must be a text in quotes, got an array")


def test_entry_given_as_a_value(workspace):
    (workspace.priors_dir / "custom.toml").write_text('beta_power = 0.4\n[preset]\nname = "custom"\nextends = "default"\n')
    assert_refused(workspace, "custom.toml", "beta_power", "must be a table")


# --------------------------------------------------------------------------- extends stays in priors/

@pytest.fixture
def outside(workspace) -> Path:
    """A complete, valid preset file outside priors/ (no name, so nothing else gives it away)."""
    text = (workspace.priors_dir / "default.toml").read_text()
    text = text.replace('name = "default"\n', "")
    path = workspace.root / "outside.toml"
    path.write_text(text)
    sub = workspace.priors_dir / "sub"
    sub.mkdir()
    (sub / "inner.toml").write_text(text)
    return path


@pytest.mark.parametrize("target", ["../outside", "..", "sub/inner", "sub\\\\inner", "./default", "ABS"])
def test_extends_a_path_is_refused(workspace, outside, target):
    if target == "ABS":
        target = str(outside.with_suffix(""))
    write_custom(workspace, "", head=f'extends = "{target}"')
    p = assert_refused(workspace, "custom.toml", "preset.extends", "which is a path, not a preset name")
    assert "same priors/ folder" in p.hint


def test_extends_a_file_name_is_not_a_preset(workspace):
    write_custom(workspace, "", head='extends = "default.toml"')
    p = assert_refused(workspace, "custom.toml", "preset.extends", "which is not a preset")
    assert "did you mean 'default'" in p.hint


@pytest.mark.parametrize("name", ["../outside", "/etc/passwd", "sub/inner", ""])
def test_preset_asked_for_must_be_in_priors(workspace, outside, name):
    with pytest.raises(PriorError) as exc:
        load_preset(workspace.priors_dir, name)
    (p,) = exc.value.problems
    assert "not found in" in p.message and "available presets: " in p.hint


def test_fit_with_a_preset_outside_priors_is_refused(workspace, outside):
    before = snapshot(workspace)
    r = CliRunner().invoke(main, ["fit", "-w", str(workspace.root), "--preset", "../outside"])
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert "preset '../outside' not found" in r.output
    assert snapshot(workspace) == before


# --------------------------------------------------------------------------- the content hash

def test_every_file_a_preset_reads_is_in_the_content_hash(workspace):
    write_custom(workspace, entry("beta_power", 'distribution = "Normal"\nmu = 0.3\nsigma = 0.5'),
                 head='extends = "realist"')
    hashed = set(workspace.content_files())
    names = available_presets(workspace.priors_dir)
    assert {"custom", "default", "realist"} <= set(names)
    assert check_all_presets(workspace.priors_dir) == []
    for name in names:
        ps = load_preset(workspace.priors_dir, name)
        assert set(PARAMETERS) == set(ps.priors)
        for f in ps.files:
            assert workspace.priors_dir / f in hashed, f"{name} reads {f}, which is not hashed"
    assert load_preset(workspace.priors_dir, "custom").files == ("custom.toml", "realist.toml", "default.toml")


def test_editing_an_extended_preset_changes_the_hash(workspace):
    realist = load_preset(workspace.priors_dir, "realist")
    assert realist["beta_leaders"].source_file == "default.toml"  # realist takes it from default.toml
    before = content_hash(workspace)
    path = workspace.priors_dir / "default.toml"
    text = path.read_text()
    old = '[beta_leaders]\nlens = "leaders"\ndistribution = "Normal"\nmu = 0.5\nsigma = 0.3'
    assert text.count(old) == 1
    path.write_text(text.replace(old, old.replace("sigma = 0.3", "sigma = 0.9")))
    assert load_preset(workspace.priors_dir, "realist")["beta_leaders"].params["sigma"] == 0.9
    assert content_hash(workspace) != before


def test_editing_an_extended_preset_makes_the_fit_stale(fitted_workspace):
    ws = fitted_workspace
    stored = read_forecast(ws)
    assert not is_stale(ws, stored)
    # the fit as a 'realist' fit would record it on these bytes: only the preset differs
    realist_fit = dataclasses.replace(stored, record=dataclasses.replace(stored.record, preset="realist"))
    assert not is_stale(ws, realist_fit)
    path = ws.priors_dir / "default.toml"  # realist.toml extends default.toml
    path.write_text(path.read_text().replace("[beta_leaders]", "# widened\n[beta_leaders]", 1))
    assert is_stale(ws, realist_fit)
    r = CliRunner().invoke(main, ["show", "-w", str(ws.root), "--json"])
    assert r.exit_code == 0 and '"stale": true' in r.output
