"""Independent fits on dask.distributed (issue 12 item 4): the task runner on a LocalCluster, a clear
refusal of a scheduler that cannot be reached, and the acceptance test: the same backtest rows from a
real two-worker `dask scheduler`/`dask worker` cluster on localhost and from the default LocalCluster."""

from __future__ import annotations

import json
import operator
import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from data_years import LAST_DATA_YEAR

from forecast import defaults as D
from forecast.cli.main import main
from forecast.errors import ClusterError
from forecast.validate.cluster import Task, connect, run_tasks

WORKTREE = Path(__file__).resolve().parents[1]


def test_local_cluster_returns_results_in_submission_order_and_reports_each():
    done = []
    tasks = [Task(operator.pow, (i, 2)) for i in range(7)]
    assert run_tasks(tasks, jobs=2, on_done=done.append) == [i * i for i in range(7)]
    assert sorted(done) == [i * i for i in range(7)]  # one call per task, in finishing order


def test_one_worker_runs_in_this_process_with_the_same_results():
    done = []
    assert run_tasks([Task(operator.pow, (i, 3)) for i in range(4)], jobs=1, on_done=done.append) == [0, 1, 8, 27]
    assert done == [0, 1, 8, 27]
    assert run_tasks([], jobs=2) == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_a_clear_error(workspace, monkeypatch):
    """Nothing listens at the address: exit 1 within the connect timeout, one line naming the address and
    how to start a scheduler, no traceback; the workspace is unchanged."""
    monkeypatch.setattr(D, "SCHEDULER_TIMEOUT_S", 1)
    address = f"tcp://127.0.0.1:{free_port()}"
    before = {p: p.read_bytes() for p in workspace.root.rglob("*") if p.is_file()}
    r = CliRunner().invoke(main, ["backtest", "-w", str(workspace.root), "--from", str(LAST_DATA_YEAR),
                                  "--scheduler", address, "--json"])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output and r.stdout == ""
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: cannot reach the Dask scheduler at " + address), r.stderr
    assert "dask scheduler" in last and "check the address" in last
    assert {p: p.read_bytes() for p in workspace.root.rglob("*") if p.is_file()} == before


def test_a_malformed_scheduler_address_is_a_clear_error():
    with pytest.raises(ClusterError, match=r"'nonsense' is not a Dask scheduler address .*tcp://HOST:PORT"):
        connect("nonsense")


def test_jobs_and_scheduler_together_are_a_usage_error(workspace):
    r = CliRunner().invoke(main, ["backtest", "-w", str(workspace.root), "--jobs", "2", "--scheduler",
                                  "tcp://127.0.0.1:8786"])
    assert r.exit_code == 2 and "drop --jobs" in r.output and "Traceback" not in r.output


def test_help_and_show_do_not_import_dask(fitted_workspace):
    code = ("import sys\nfrom click.testing import CliRunner\nfrom forecast.cli.main import main\n"
            f"for args in (['--help'], ['backtest', '--help'], ['show', '-w', {str(fitted_workspace.root)!r}]):\n"
            "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
            "print([m for m in ('dask', 'distributed') if m in sys.modules])")
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


# --- the acceptance test: a real two-worker cluster on localhost


README_PORT = "8786"


def readme_cluster() -> list[list[str]]:
    """The README's two-worker example: the `dask ...` lines of its block marked illustrative: dask."""
    lines = (WORKTREE / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("<!-- illustrative: dask -->") + 2
    end = lines.index("```", start)
    return [shlex.split(line, comments=True) for line in lines[start:end] if line.startswith("dask ")]


def test_the_readme_shows_a_scheduler_and_two_workers():
    cmds = readme_cluster()
    assert [c[:2] for c in cmds] == [["dask", "scheduler"], ["dask", "worker"], ["dask", "worker"]]
    assert all(f"tcp://127.0.0.1:{README_PORT}" in c for c in cmds[1:]) and README_PORT in cmds[0]


@pytest.fixture
def dask_cluster(tmp_path):
    """The README's `dask scheduler` and two `dask worker --nthreads 1` on localhost (on a free port
    instead of 8786, without the dashboard), the workers importing this worktree's forecast; torn down
    afterwards. Yields the scheduler address."""
    from distributed import Client

    port = str(free_port())
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    procs = []
    try:
        for n, cmd in enumerate(readme_cluster()):
            argv = [a.replace(README_PORT, port) for a in cmd[1:]] + ["--no-dashboard"]
            with open(tmp_path / f"dask-{n}.log", "w") as log:
                procs.append(subprocess.Popen([sys.executable, "-m", "dask", *argv], env=env, stdout=log,
                                              stderr=subprocess.STDOUT, cwd=tmp_path))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs[::-1]:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def backtest_json(ws_root: Path, *extra: str) -> tuple[dict, str]:
    argv = [sys.executable, "-m", "forecast.cli", "backtest", "-w", str(ws_root), "--from", str(LAST_DATA_YEAR - 1),
            "--to", str(LAST_DATA_YEAR), "--draws", "30", "--tune", "30", "--chains", "1", "--no-single-lens",
            "--json", *extra]
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    p = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout), p.stderr


def without_clock(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("seconds", "elapsed_s")} for r in rows]


# About 6 min on the shared 2-core machine (four compiles: two origins, twice), so in the slow suite.
@pytest.mark.slow
def test_same_rows_on_a_dask_cluster_and_on_the_local_cluster(workspace, dask_cluster):
    """Issue 12's acceptance: 'forecast backtest --scheduler' on a two-worker cluster and the default
    LocalCluster (--jobs 2) give the same rows (two origins, tiny draws, same seed); each prints one
    progress line per finished origin on stderr with --json, stdout being the JSON alone."""
    remote, remote_err = backtest_json(workspace.root, "--scheduler", dask_cluster)
    local, local_err = backtest_json(workspace.root, "--jobs", "2")
    assert [r["year"] for r in remote["rows"]] == [LAST_DATA_YEAR - 1, LAST_DATA_YEAR]
    assert without_clock(remote["rows"]) == without_clock(local["rows"])
    assert remote["scores"] == local["scores"] and remote["settings"] == local["settings"]
    for err in (remote_err, local_err):
        lines = [line for line in err.splitlines() if line.startswith("backtest origins: ")]
        assert len(lines) == 2 and lines[-1].startswith("backtest origins: 2/2 "), err
        assert "Traceback" not in err


# --- the SBC runner: chunks of simulations as tasks


@pytest.mark.slow
def test_sbc_chunks_on_workers_give_the_records_of_one_process(tmp_path):
    """Two simulations in chunks of one on two local workers, and the same two in this process: the
    same ranks, seeds and diagnostics. OMP_NUM_THREADS=1 for both, as Dask's workers start: OpenBLAS's
    thread count at start-up changes the last bits, and MCMC amplifies them (see README)."""
    script = WORKTREE / "benchmarks" / "sbc.py"
    env = {**os.environ, "PYTHONPATH": str(WORKTREE), "OMP_NUM_THREADS": "1"}
    base = ["--sims", "2", "--draws", "100", "--tune", "150", "--chains", "1", "--rank-draws", "50", "--seed", "11"]
    out = {}
    for name, extra in (("chunks", ["--chunk", "1", "--jobs", "2"]), ("serial", ["--jobs", "1"])):
        p = subprocess.run([sys.executable, str(script), *base, *extra, "--out", str(tmp_path / name / "sbc.json")],
                           capture_output=True, text=True, env=env, check=False)
        assert p.returncode == 0, p.stdout + p.stderr
        out[name] = json.loads((tmp_path / name / "sbc.json").read_text())
    for key in ("ranks", "seeds", "sims"):
        assert out["chunks"][key] == out["serial"][key], key
    assert out["chunks"]["per_simulation"]["ess_bulk_min"] == out["serial"]["per_simulation"]["ess_bulk_min"]


def test_sbc_runner_refuses_an_unreachable_scheduler(tmp_path, monkeypatch, capsys):
    from scripts import load_script

    script = load_script(WORKTREE / "benchmarks" / "sbc.py", "sbc_script")
    monkeypatch.setattr(D, "SCHEDULER_TIMEOUT_S", 1)
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(SystemExit) as exc:
        script.main(["--sims", "11", "--chunk", "10", "--scheduler", address, "--out", str(tmp_path / "sbc.json")])
    assert str(exc.value).startswith(f"error: cannot reach the Dask scheduler at {address} within 1 s")
    assert "2 chunks of up to 10 simulations on " + address in capsys.readouterr().out
    assert not (tmp_path / "sbc.json").exists()


def fake_origin(data_dir, priors_dir, year, settings, events) -> dict:
    """The shape of backtest.origin_forecast's result, without a fit."""
    diag = {"rhat_max": 1.0, "ess_bulk_min": 500.0, "ess_tail_min": 500.0, "divergences": 0, "bfmi_min": 1.0,
            "ok": True, "failures": []}
    model = {"form": settings.outcome_form, "p_improve": 0.4, "lo80": 0.3, "hi80": 0.5,
             "p_change": [0.1, 0.2, 0.3, 0.25, 0.15], "event_shift_next": [0.0, -0.1, 0.0], "diagnostics": diag, "scored_quantity": {"rhat": 1.0, "ess_bulk": 500.0, "ok": True}}
    return {"year": year, "as_of": year - 1, "compile_s": 0.0, "variants": {"model": model}, "seconds": 1.0}


def test_backtest_progress_goes_to_stderr_with_json_and_quiet_silences_it(workspace, monkeypatch):
    from forecast.validate import backtest as B

    monkeypatch.setattr(B, "origin_forecast", fake_origin)
    args = ["backtest", "-w", str(workspace.root), "--from", str(LAST_DATA_YEAR - 1), "--jobs", "1",
            "--no-single-lens", "--no-candidates", "--json"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert [row["year"] for row in json.loads(r.stdout)["rows"]] == [LAST_DATA_YEAR - 1, LAST_DATA_YEAR]
    assert r.stderr.splitlines() == [f"backtest origins: 1/2 {LAST_DATA_YEAR - 1} done (1 s)",
                                     f"backtest origins: 2/2 {LAST_DATA_YEAR} done (1 s)"]
    r = CliRunner().invoke(main, [*args, "--quiet"])
    assert r.exit_code == 0 and r.stderr == "" and json.loads(r.stdout)["rows"]
