"""CLI behaviour: exit codes, exact messages, JSON contracts, no tracebacks, fast paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from forecast.cli.main import main

COMMANDS = [[], ["init"], ["fit"], ["show"], ["data"], ["data", "check"], ["data", "list"]]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "forecast")
def test_help_everywhere(cmd):
    r = run(*cmd, "--help")
    assert r.exit_code == 0
    assert "Usage:" in r.output


def test_init_creates_workspace(tmp_path):
    r = run("init", tmp_path / "ws")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "ws" / "data" / "indicators.csv").is_file()
    assert (tmp_path / "ws" / "priors" / "default.toml").is_file()
    r = run("data", "check", "-w", tmp_path / "ws")
    assert r.exit_code == 0 and r.output.startswith("OK: ")


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002], ids=oct)
def test_init_folder_gets_the_umask_mode(tmp_path, umask):
    """The workspace folder was made by mkdtemp (0700) and renamed into place; it now gets the mode
    of any new folder (0777 less the umask). An existing empty folder keeps its own mode."""
    old = os.umask(umask)
    try:
        r = run("init", tmp_path / "ws")
        (tmp_path / "empty").mkdir(mode=0o750)
        os.chmod(tmp_path / "empty", 0o750)
        r2 = run("init", tmp_path / "empty")
    finally:
        os.umask(old)
    assert r.exit_code == 0 and r2.exit_code == 0, r.output + r2.output
    assert oct((tmp_path / "ws").stat().st_mode & 0o7777) == oct(0o777 & ~umask)
    assert oct((tmp_path / "empty").stat().st_mode & 0o7777) == oct(0o750)


def test_init_refuses_non_empty_folder(tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "keep.txt").write_text("mine")
    r = run("init", tmp_path / "ws")
    assert r.exit_code == 1
    assert r.output == f"Error: {tmp_path / 'ws'} exists and is not empty; choose a new folder\n"
    assert (tmp_path / "ws" / "keep.txt").read_text() == "mine"


def test_not_a_workspace(tmp_path):
    r = run("show", "-w", tmp_path)
    assert r.exit_code == 1
    assert "is not a forecast workspace: missing folder(s) data/, priors/" in r.output
    assert "Traceback" not in r.output


def test_show_without_fit(workspace):
    r = run("show", "-w", workspace.root)
    assert r.exit_code == 1
    assert r.output == (f"Error: no fit in {workspace.root}: state/posterior.nc does not exist "
                        f"(run 'forecast fit --workspace {workspace.root}')\n")


def test_show_json_contract(fitted_workspace):
    r = run("show", "-w", fitted_workspace.root, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["as_of"] == 2025 and out["preset"] == "default" and out["stale"] is False
    for key in ("improve_next_year", "settle_within_5y", "settle_within_10y"):
        assert set(out["probabilities"][key]) >= {"mean", "lo80", "hi80", "lo95", "hi95"}
    assert set(out["lenses"]) == {"power", "trust", "leaders"}
    assert all("contribution" in v for v in out["lenses"].values())
    assert set(out["diagnostics"]) >= {"rhat_max", "ess_bulk_min", "divergences", "ok"}
    assert out["interval"] == "equal-tailed posterior interval"
    assert len(out["content_hash"]) == 64
    es = out["event_shift"]  # issue 10: the forecast year's simulated event shift beside the recent fitted years'
    assert es["outcome_form"] == "joint" and es["recent_years"] == [2019, 2025]
    assert set(es["forecast_year"]) == set(es["recent_fitted_mean"]) == {"power", "trust", "leaders"}
    assert all(v != 0 for v in es["forecast_year"].values())  # simulated, not the zero of "no events known"
    assert es["recent_fitted_mean"]["power"] < 0  # 2019-2025 coded power events are all hostile kinds


def test_show_text_names_intervals_and_flags_failed_diagnostics(fitted_workspace):
    r = run("show", "-w", fitted_workspace.root)
    assert r.exit_code == 0
    assert "Intervals: equal-tailed posterior intervals of the per-draw probability." in r.output
    # the tiny session fit cannot pass the ESS threshold: it must say so on its face
    assert "DIAGNOSTICS FAILED" in r.output


def test_show_reports_stale_fit(fitted_workspace):
    p = fitted_workspace.priors_dir / "default.toml"
    p.write_text(p.read_text() + "\n# an analyst's edit\n")
    r = run("show", "-w", fitted_workspace.root)
    assert "STALE FIT: workspace.toml, data/, priors/ or the settlement prior changed" in r.output
    assert json.loads(run("show", "-w", fitted_workspace.root, "--json").output)["stale"] is True


def test_fit_unknown_preset_leaves_workspace_untouched(fitted_workspace):
    before = snapshot(fitted_workspace.root)
    r = run("fit", "-w", fitted_workspace.root, "--preset", "realst")
    assert r.exit_code == 1
    assert "preset 'realst' not found" in r.output and "did you mean 'realist'" in r.output
    assert "Traceback" not in r.output
    assert snapshot(fitted_workspace.root) == before


def test_fit_bad_as_of(workspace):
    r = run("fit", "-w", workspace.root, "--as-of", "2031")
    assert r.exit_code == 1
    assert "--as-of 2031 is after the last coded outcome year 2025 (outcomes.csv)" in r.output
    assert not workspace.state_dir.exists()


@pytest.mark.parametrize("args", [["--draws", "abc"], ["--chains", "0"], ["--sampler", "gibbs"], ["--bogus"]])
def test_fit_usage_errors_exit_2(workspace, args):
    r = run("fit", "-w", workspace.root, *args)
    assert r.exit_code == 2
    assert not workspace.state_dir.exists()


def test_fit_bad_data_names_file_row_field(workspace):
    p = workspace.data_dir / "indicators.csv"
    lines = p.read_text().splitlines()
    lines[1] = lines[1].replace(lines[1].split(",")[2], "abc", 1)
    p.write_text("\n".join(lines) + "\n")
    r = run("fit", "-w", workspace.root)
    assert r.exit_code == 1
    assert "indicators.csv, row 2, field 'value': 'abc' is not a number" in r.output
    assert not workspace.state_dir.exists()


def test_data_check_reports_every_problem(workspace):
    p = workspace.data_dir / "outcomes.csv"
    text = p.read_text().replace("\n2016,2,0,", "\n2016,5,0,").replace("\n1997,2,0,", "\n1997,x,0,")
    p.write_text(text)
    (workspace.priors_dir / "realist.toml").write_text(
        (workspace.priors_dir / "realist.toml").read_text() + "\n[beta_powr]\nlens='power'\n")
    r = run("data", "check", "-w", workspace.root)
    assert r.exit_code == 1
    assert "outcomes.csv, row 26, field 'change': change must be an integer from -2 to 2, got 5" in r.output
    assert "outcomes.csv, row 7, field 'change': 'x' is not a whole number" in r.output
    assert "realist.toml, field 'beta_powr': unknown prior 'beta_powr' (did you mean 'beta_power'?)" in r.output


def test_data_check_all_lists_every_problem(workspace):
    """Past defaults.MAX_PROBLEMS_SHOWN problems 'data check' says how many more and how to see them;
    --all lists every one."""
    from forecast.defaults import MAX_PROBLEMS_SHOWN

    p = workspace.data_dir / "indicators.csv"
    lines = p.read_text().split("\n")
    n = MAX_PROBLEMS_SHOWN + 5
    for i in range(1, n + 1):
        year, name, _value, rest = lines[i].split(",", 3)
        lines[i] = f"{year},{name},abc,{rest}"
    p.write_text("\n".join(lines))
    r = run("data", "check", "-w", workspace.root)
    assert r.exit_code == 1
    assert f"{n} problem(s) found" in r.output
    assert r.output.count("'abc' is not a number") == MAX_PROBLEMS_SHOWN
    assert "... and 5 more problem(s)" in r.output and "--all" in r.output
    r = run("data", "check", "--all", "-w", workspace.root)
    assert r.exit_code == 1
    assert r.output.count("'abc' is not a number") == n
    assert "more problem(s)" not in r.output


def test_data_list_json(workspace):
    r = run("data", "list", "-w", workspace.root, "--json")
    assert r.exit_code == 0
    rows = json.loads(r.output)
    assert {"name", "lens", "unit", "last_year", "last_value"} <= set(rows[0])
    by_name = {x["name"]: x for x in rows}
    assert by_name["legal_barrier_territory"]["last_value"] == 1.0
    assert {x["lens"] for x in rows} == {"power", "trust", "leaders"}


def test_data_list_text_shows_large_values_whole_and_marks_cut_units(workspace):
    r = run("data", "list", "-w", workspace.root)
    assert r.exit_code == 0, r.output
    rows = {line.split()[0]: line for line in r.output.splitlines()[1:-1]}
    assert len(rows) == 19 and "e+" not in r.output
    by_name = {x["name"]: x for x in json.loads(run("data", "list", "-w", workspace.root, "--json").output)}
    visitors = by_name["russian_visitors_to_japan"]["last_value"]
    assert visitors >= 1e4 and rows["russian_visitors_to_japan"].split()[-1] == f"{visitors:,.0f}"
    assert "binary (1 = majority …" in rows["japan_coalition_majority_both_houses"]
    assert "--json' gives every unit in full" in r.output


def test_show_does_not_import_pymc(fitted_workspace):
    code = (
        "import sys, json\n"
        "from click.testing import CliRunner\n"
        "from forecast.cli.main import main\n"
        f"r = CliRunner().invoke(main, ['show', '--json', '-w', {str(fitted_workspace.root)!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('pymc', 'pytensor', 'arviz', 'nutpie', 'xarray', 'pandas') if m in sys.modules]\n"
        "print(json.dumps(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert json.loads(out.stdout) == []


def test_console_script_help_is_light():
    code = ("import sys\nfrom forecast.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print([m for m in ('pymc', 'pandas', 'numpy', 'arviz') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("[]")


def test_executable_tunes_the_collector_and_freezes_at_exit(monkeypatch):
    """`forecast` (cli.main.run) raises the collector's thresholds before the command and freezes the
    objects alive after it, also when the command exits with an error; the entry point is `run`."""
    import importlib
    import tomllib

    from forecast import defaults as D

    cli_main = importlib.import_module("forecast.cli.main")  # the package re-exports the group as ``main``

    calls = []

    class FakeGC:
        def set_threshold(self, *t):
            calls.append(("threshold", t))

        def freeze(self):
            calls.append(("freeze",))

    monkeypatch.setattr(cli_main, "gc", FakeGC())
    monkeypatch.setattr(sys, "argv", ["forecast", "--no-such-option"])
    with pytest.raises(SystemExit) as exc:
        cli_main.run()
    assert exc.value.code == 2
    assert calls == [("threshold", D.GC_THRESHOLDS), ("freeze",)]
    scripts = tomllib.loads((Path(cli_main.__file__).parents[2] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["forecast"] == "forecast.cli.main:run"


def test_module_entry_point_exits_with_the_command_status():
    out = subprocess.run([sys.executable, "-m", "forecast.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "forecast" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "forecast.cli", "show", "-w", "/nonexistent/ws"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr


def test_fit_retries_once_at_higher_target_accept_after_divergences(workspace, monkeypatch):
    """A fit with divergences is refitted once at 0.98, and the user is told; --no-retry skips it."""
    from types import SimpleNamespace

    import forecast.store.fit as fitting
    import forecast.store.posterior as store
    from forecast.inference.diagnostics import Diagnostics

    calls = []

    def fake_fit(ws, **kw):
        calls.append(kw["target_accept"])
        div = 3 if kw["target_accept"] < 0.98 else 0
        diag = Diagnostics(rhat_max=1.0, rhat_worst="x", ess_bulk_min=500.0, ess_bulk_worst="x", ess_tail_min=500.0,
                           ess_tail_worst="x", divergences=div, bfmi_min=1.0, chains=4, draws=10,
                           failures=(f"{div} divergent transitions",) if div else ())
        return SimpleNamespace(diagnostics=diag, timings={"total_s": 1.0, "sample_s": 0.5, "compile_s": 0.5},
                               sampler="nutpie")

    monkeypatch.setattr(fitting, "fit", fake_fit)
    monkeypatch.setattr(store, "read_forecast", lambda ws: (_ for _ in ()).throw(RuntimeError("stop here")))
    r = CliRunner().invoke(main, ["fit", "-w", str(workspace.root), "-q"])
    assert calls == [0.95, 0.98]
    assert "3 divergent transition(s) at target_accept 0.95: refitting once at 0.98" in r.output
    calls.clear()
    CliRunner().invoke(main, ["fit", "-w", str(workspace.root), "-q", "--no-retry"])
    assert calls == [0.95]


def help_examples():
    """(command path, example line) for every line under "Example(s):" or "Typical use:" in every --help."""
    import shlex

    import click

    out = []

    def walk(cmd, path):
        lines = cmd.get_help(click.Context(cmd, info_name=" ".join(path))).splitlines()
        block = False
        for line in lines:
            if line.strip() in ("Example:", "Examples:", "Typical use:"):
                block = True
            elif block and line.strip().startswith("forecast "):
                out.append((" ".join(path), shlex.split(line.strip())))
            elif block and line.strip():
                block = False
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, path + [name])

    walk(main, ["forecast"])
    return out


def test_every_help_example_runs_in_the_default_workspace(fitted_workspace, monkeypatch):
    """Each example of every --help (issue: 'update --indicator cabinet_approval' failed) runs in the
    shipped default workspace: updates as dry runs; the fit, init and a batch file's name are not run."""
    examples = help_examples()
    assert {path for path, _ in examples} >= {"forecast", "forecast update", "forecast plot", "forecast brief"}
    monkeypatch.chdir(fitted_workspace.root)
    ran = 0
    for path, argv in examples:
        args = argv[1:]
        if "&&" in args or args[0] in ("fit", "init") or "--file" in args:
            continue
        if args[0] == "update":
            args = [*args, "--dry-run"]
        if args[0] == "brief":  # the session's tiny fit fails the diagnostics a brief requires
            args = [*args, "--allow-failed-diagnostics"]
        r = run(*args)
        assert r.exit_code == 0, f"{path}: {' '.join(argv)}\n{r.output}"
        ran += 1
    assert ran >= 5


def test_stale_fit_names_everything_that_is_hashed(fitted_workspace):
    """Editing only workspace.toml makes the fit stale (it is in the content hash): the warnings of
    'show' and 'brief' and the refusal of 'update' name workspace.toml, not just data/ or priors/."""
    ws = fitted_workspace
    toml = ws.root / "workspace.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('name = "Russia"', 'name = "Russian Federation"'),
                    encoding="utf-8")
    r = run("show", "-w", ws.root)
    from forecast.workspace import HASHED_INPUTS

    assert HASHED_INPUTS.startswith("workspace.toml, data/, priors/")
    assert r.exit_code == 0 and f"STALE FIT: {HASHED_INPUTS} changed since this fit" in r.output
    r = run("brief", "-w", ws.root, "--out", ws.root / "b.md", "--allow-failed-diagnostics")
    assert f"STALE FIT: {HASHED_INPUTS} changed" in (ws.root / "b.md").read_text()
    r = run("update", "-w", ws.root, "--event", "summit_held", "--date", "2020", "--source", "t")
    assert r.exit_code == 1 and f"{HASHED_INPUTS} changed since the stored fit" in r.output
