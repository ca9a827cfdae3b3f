"""Ctrl-C (SIGINT) during a fit. nutpie (and PyMC) catch the KeyboardInterrupt and hand back the draws
made so far, padded with NaN; the fit went on to project them and ended in a traceback
(``ValueError: lam value too large``). A partial trace is now an interrupt: a clean message, exit 1
with click's "Aborted!", and the workspace as it was."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys

import numpy as np
import pytest

from forecast.errors import SamplingInterrupted
from forecast.inference.sampling import check_complete
from forecast.report.format import PHASE_STARTS

CLI = [sys.executable, "-m", "forecast.cli"]
# long enough that the interrupt always lands while sampling; the sampler stops at the interrupt
LONG_FIT = ["--draws", "100000", "--tune", "100000", "--chains", "2", "--seed", "5", "--no-retry"]


def tree(root) -> dict[str, str]:
    """Every file under ``root`` (state/ and temporaries included) -> SHA-256 of its bytes."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def posterior(values: np.ndarray):
    import arviz as az

    return az.from_dict(posterior={"alpha": values})


def test_a_complete_trace_passes():
    check_complete(posterior(np.zeros((2, 50))), draws=50, chains=2)


@pytest.mark.parametrize("values, why", [
    (np.r_[np.zeros(30), np.full(20, np.nan)].reshape(1, 50).repeat(2, axis=0), "NaN"),  # nutpie's padding
    (np.zeros((2, 30)), "30 of 50 draws"),                                                 # PyMC's short trace
    (np.zeros((1, 50)), "1 of 2 chains"),
])
def test_a_partial_trace_is_an_interrupt(values, why):
    with pytest.raises(SamplingInterrupted, match=why):
        check_complete(posterior(values), draws=50, chains=2)
    assert issubclass(SamplingInterrupted, KeyboardInterrupt)  # never caught as an ordinary error


def test_ctrl_c_while_sampling_leaves_the_workspace_unchanged(tmp_path):
    ws = tmp_path / "ws"
    subprocess.run([*CLI, "init", str(ws)], check=True, capture_output=True)
    before = tree(ws)
    proc = subprocess.Popen([*CLI, "fit", "-w", str(ws), *LONG_FIT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        for line in proc.stderr:  # the phases, one line each (stderr is not a terminal)
            seen.append(line)
            if line.startswith(PHASE_STARTS["sample"]):
                break
        else:
            pytest.fail("no sampling line: " + "".join(seen))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = "".join(seen) + err
    assert proc.returncode == 1, err
    assert "Traceback" not in err and "Traceback" not in out, err
    assert "Interrupted: nothing was stored; the workspace is unchanged" in err
    assert err.rstrip().endswith("Aborted!")   # as click ends any command interrupted by Ctrl-C
    assert out == ""
    assert tree(ws) == before


def test_ctrl_c_during_an_updates_refit_records_nothing(fitted_workspace, monkeypatch):
    """The refit path of 'update' (PSIS reported unreliable): its sampling is interrupted (faked: the refit
    raises what the sampler raises on Ctrl-C). Nothing is recorded and no file changes."""
    from click.testing import CliRunner

    from data_years import PAST_YEAR_MONTH

    import forecast.store.fit as store_fit
    import forecast.update.apply as A
    from forecast.cli.main import main

    ws = fitted_workspace
    monkeypatch.setattr(A, "psis", lambda logw: (np.full(len(logw), 1 / len(logw)), 0.93, 12.0))

    def interrupted_refit(*args, **kwargs):
        raise SamplingInterrupted("sampling interrupted (Ctrl-C)")

    monkeypatch.setattr(store_fit, "fit_with_retry", interrupted_refit)
    before = tree(ws.root)
    r = CliRunner().invoke(main, ["update", "-w", str(ws.root), "--event", "talks_suspended", "--date",
                                  PAST_YEAR_MONTH, "--source", "t"])
    assert r.exit_code == 1 and r.exception is not None and isinstance(r.exception, SystemExit), r.output
    # the refit announces itself first (why, on stderr), then the interrupt
    assert r.stderr.startswith("Refitting the model on the data plus the ledger (the reweighting is unreliable")
    assert r.stderr.endswith("\nInterrupted: nothing was stored; the workspace is unchanged\nAborted!\n")
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert tree(ws.root) == before
