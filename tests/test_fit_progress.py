"""`fit` explains itself: a line per phase with its elapsed time on stderr, and third-party
warnings the user cannot act on hidden (not globally) unless --verbose.

The real ArviZ warning fires once a day at `import arviz` and numba's only on a cold cache, so
both are injected here, as the libraries raise them, into the calls `fit` makes to nutpie."""

from __future__ import annotations

import io
import json
import warnings

import pytest
from click.testing import CliRunner

from forecast.cli.fit import PhasePrinter
from forecast.cli.main import main
from forecast.errors import ForecastError
from forecast.inference.library_warnings import library_warnings
from forecast.inference.progress import PHASES, PhaseEvent
from forecast.report import format as F
from forecast.workspace import init_workspace

numba_errors = pytest.importorskip("numba.core.errors")
nutpie = pytest.importorskip("nutpie")
compiled = pytest.importorskip("forecast.inference.compiled")
Perf = numba_errors.NumbaPerformanceWarning

TINY = ["--draws", "100", "--tune", "100", "--chains", "2", "--seed", "7", "--no-retry"]
ARVIZ_TEXT = "\nArviZ is undergoing a major refactor to improve flexibility and extensibility."
NUMBA_TEXT = "np.dot() is faster on contiguous arrays"


def arviz_warning():
    """ArviZ's warning as `arviz/__init__.py` raises it (module 'arviz')."""
    warnings.warn_explicit(ARVIZ_TEXT, FutureWarning, "arviz/__init__.py", 50, module="arviz")


def numba_warning():
    warnings.warn(NUMBA_TEXT, Perf)


def noisy(real):
    """`real`, raising both third-party warnings first."""
    def wrapper(*args, **kwargs):
        arviz_warning()
        numba_warning()
        return real(*args, **kwargs)
    return wrapper


def is_third_party(w: warnings.WarningMessage) -> bool:
    return issubclass(w.category, Perf) or (issubclass(w.category, FutureWarning) and "ArviZ" in str(w.message))


@pytest.fixture(scope="module")
def tiny_fit(tmp_path_factory):
    """One real tiny fit through the CLI with --json, the warnings injected into nutpie's compile and
    sample. Returns (result, warnings that reached the caller, filters before, filters after).
    When the session has compiled this model before, tests/conftest.py reuses that compile, so only
    the sample call warns here; the compile call site is covered by test_fit_verbose_shows_them."""
    ws = init_workspace(tmp_path_factory.mktemp("progress") / "ws")
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mp.setattr(compiled, "compile_pymc", noisy(compiled.compile_pymc))
        mp.setattr(nutpie, "sample", noisy(nutpie.sample))
        before = list(warnings.filters)
        result = CliRunner().invoke(main, ["fit", "-w", str(ws.root), "--json", *TINY])
        after = list(warnings.filters)
    return result, list(caught), before, after


def test_fit_prints_each_phase_with_its_time(tiny_fit):
    result, *_ = tiny_fit
    assert result.exit_code == 0, result.output
    err = result.stderr.splitlines()
    for phase in PHASES:
        done = [line for line in err if line.startswith(F.PHASE_ENDS[phase] + " in ")]
        assert len(done) == 1, (phase, result.stderr)
        seconds = done[0][len(F.PHASE_ENDS[phase] + " in "):].split(" s", 1)[0]
        assert float(seconds) >= 0
    compiling = [line for line in err if line.startswith("Compiling the model")]
    assert len(compiling) == 1 and "~35 s the first time" in compiling[0] and "2-core" in compiling[0]
    # the compile line says whether the compile cache served it (forecast.inference.compiled), or,
    # in this suite, that conftest's in-memory cache did
    compiled_line = next(line for line in err if line.startswith(F.PHASE_ENDS["compile"] + " in "))
    assert "compile cache" in compiled_line or "reused in memory by the test session" in compiled_line, \
        compiled_line
    # in the order they run
    order = [next(i for i, line in enumerate(err) if line.startswith(F.PHASE_ENDS[p] + " in ")) for p in PHASES]
    assert order == sorted(order)


def test_fit_json_keeps_stdout_json_only(tiny_fit):
    result, *_ = tiny_fit
    report = json.loads(result.stdout)
    assert "probabilities" in report
    assert "Sampled" not in result.stdout and "Compiling" not in result.stdout


def test_fit_hides_third_party_warnings_without_verbose(tiny_fit):
    result, caught, _, _ = tiny_fit
    assert result.exit_code == 0, result.output
    assert not [w for w in caught if is_third_party(w)], [str(w.message) for w in caught]
    for text in ("FutureWarning", "NumbaPerformanceWarning", "ArviZ is undergoing"):
        assert text not in result.stderr and text not in result.stdout


def test_fit_does_not_filter_warnings_globally(tiny_fit):
    _, _, before, after = tiny_fit
    assert after == before
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        arviz_warning()
        numba_warning()
    assert len([w for w in caught if is_third_party(w)]) == 2


def test_fit_verbose_shows_them(workspace, monkeypatch, uncached_compile):
    """--verbose: the warnings reach the caller. The fit stops right after nutpie's compile is called."""
    def compile_then_stop(model):  # in place of the cached compile (forecast.inference.compiled)
        arviz_warning()
        numba_warning()
        raise ForecastError("stopped after compile (test)")

    monkeypatch.setattr(compiled, "compile_pymc", compile_then_stop)
    for verbose, expected in ((["--verbose"], 2), ([], 0)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = CliRunner().invoke(main, ["fit", "-w", str(workspace.root), *TINY, *verbose])
        assert r.exit_code == 1 and "stopped after compile (test)" in r.stderr, r.output
        assert "Traceback" not in r.output
        assert len([w for w in caught if is_third_party(w)]) == expected, verbose
        assert F.PHASE_ENDS["build"] + " in " in r.stderr


def test_library_warnings_filters_only_its_own():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        with library_warnings():
            arviz_warning()
            numba_warning()
            warnings.warn("some other future change", FutureWarning)
            warnings.warn("a user's own warning", UserWarning)
        assert list(warnings.filters) == before
        with library_warnings(verbose=True):
            arviz_warning()
            numba_warning()
    messages = [str(w.message) for w in caught]  # numba highlights its messages with terminal codes
    assert messages[:3] == ["some other future change", "a user's own warning", ARVIZ_TEXT]
    assert len(messages) == 4 and NUMBA_TEXT in messages[3]


def printed(tty: bool, bar: bool, events) -> str:
    import contextlib

    buf = io.StringIO()
    with contextlib.redirect_stderr(buf):
        printer = PhasePrinter(tty, bar)
        for e in events:
            printer(e)
    return buf.getvalue()


def all_events():
    for i, p in enumerate(PHASES):
        yield PhaseEvent(p, None)
        yield PhaseEvent(p, 1.25 + i)


def test_plain_lines_off_a_terminal():
    lines = printed(False, False, all_events()).splitlines()
    assert lines == [F.phase_finished("load", 1.25), F.phase_finished("build", 2.25),
                     F.phase_started("compile"), F.phase_finished("compile", 3.25),
                     F.phase_started("sample"), F.phase_finished("sample", 4.25),
                     F.phase_finished("project", 5.25), F.phase_finished("save", 6.25)]


def test_terminal_lines_share_start_and_time():
    lines = printed(True, True, all_events()).splitlines()
    assert lines[0] == F.phase_started("load") + " 1.2 s"
    assert lines[2].startswith("Compiling the model (") and lines[2].endswith("... 3.2 s")
    # the progress bar runs between "Sampling..." and its time
    # (nutpie leaves the cursor at the end of its finished bar: the time starts a new line)
    assert lines[3] == F.phase_started("sample") and lines[4:6] == ["", F.phase_finished("sample", 4.25)]
    assert lines[6] == F.phase_started("project") + " 5.2 s"
    assert len(lines) == len(PHASES) + 2
    # --verbose on a terminal (a warning may come mid-line): plain lines, the bar still on its own
    plain = printed(False, False, all_events()).splitlines()
    verbose = printed(False, True, all_events()).splitlines()
    assert verbose == plain[:5] + [""] + plain[5:]


def test_a_cold_compile_says_so_and_how_long(monkeypatch):
    """An empty numba kernel cache (a fresh machine): the compile line names the folder being filled
    and the minutes it takes, instead of the warm estimate."""
    cold = printed(False, False, [PhaseEvent("compile", None, "cold:/tmp/k/numba")]).strip()
    assert cold.startswith("Compiling the model (first compile on this machine")
    assert "/tmp/k/numba" in cold and "min" in cold
    warm = printed(False, False, [PhaseEvent("compile", None)]).strip()
    assert warm == F.phase_started("compile") and "first compile on this machine" not in warm


def test_the_compile_phase_detects_an_empty_kernel_cache(tmp_path):
    from forecast.inference import fitting
    from forecast.inference.compiled import kernel_cache_files

    assert kernel_cache_files(tmp_path) == (str(tmp_path / "numba"), 0)  # no folder yet
    (tmp_path / "numba").mkdir()
    for i in range(3):
        (tmp_path / "numba" / f"k{i}.nbi").write_bytes(b"")
    assert kernel_cache_files(tmp_path) == (str(tmp_path / "numba"), 3)
    assert 3 < fitting.COLD_KERNEL_FILES
