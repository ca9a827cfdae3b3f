"""`forecast check` says what it is doing: a line on stderr as each section starts and one as it ends
with its elapsed time, with --json too (stdout stays pure JSON); --quiet silences them (issue 13 item 6)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from forecast.cli.main import main
from forecast.validate.check import SECTIONS


def test_check_reports_each_section_on_stderr_and_stdout_stays_json(fitted_workspace):
    r = CliRunner().invoke(main, ["check", "-w", str(fitted_workspace.root), "--preset", "default", "--json"])
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)  # nothing but the JSON on stdout
    assert {"mcmc", "predictive", "loo", "sensitivity", "ablation", "outside_view"} <= set(result)
    err = r.stderr.splitlines()
    assert "Traceback" not in r.stderr
    expected = []
    for name in SECTIONS.values():
        expected += [f"{name}...", f"{name}: done in "]
    # one start and one end line per section, in the order they run, nothing else
    assert len(err) == len(expected), r.stderr
    for line, want in zip(err, expected):
        assert line.startswith(want), (line, want)
        if want.endswith("done in "):
            assert line.endswith(" s") and float(line[len(want):-2]) >= 0, line
    assert "MCMC diagnostics table..." in err and "PSIS-LOO..." in err and "Prior sensitivity..." in err


def test_check_quiet_prints_no_progress(fitted_workspace):
    r = CliRunner().invoke(main, ["check", "-w", str(fitted_workspace.root), "--preset", "default", "--quiet"])
    assert r.exit_code == 0, r.output
    assert r.stderr == "" and r.stdout.startswith("forecast check: fit through ")
    assert "done in" not in r.stdout
