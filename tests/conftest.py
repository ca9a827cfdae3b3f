"""Shared fixtures: a fresh workspace per test, one tiny seeded fit per session, and one nutpie
compile per distinct model per session."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time

import numpy as np
import pytest
from click.testing import CliRunner

from forecast.cli.main import main
from forecast.workspace import Workspace, init_workspace

FAST_FIT_ARGS = ["--draws", "60", "--tune", "100", "--chains", "2", "--seed", "7", "--no-retry"]

# Set to 1 to compile every fit afresh (the cache below off), e.g. to time the uncached suite.
NO_CACHE_ENV = "FORECAST_TEST_NO_COMPILE_CACHE"


def fingerprint(obj) -> tuple:
    """A hashable, exact value of a ModelSpec (arrays by dtype, shape and bytes; dataclasses field by
    field). Two specs with equal fingerprints build the same PyMC model. Objects of any other type
    are keyed by identity, so they can only ever make the cache miss."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return (type(obj).__qualname__,
                tuple((f.name, fingerprint(getattr(obj, f.name))) for f in dataclasses.fields(obj)))
    if isinstance(obj, np.ndarray):
        return ("ndarray", obj.dtype.str, obj.shape, np.ascontiguousarray(obj).tobytes())
    if isinstance(obj, dict):
        return ("dict", tuple((repr(k), fingerprint(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(fingerprint(v) for v in obj))
    if obj is None or isinstance(obj, (str, bytes, bool, int, float, np.generic)):
        return (type(obj).__name__, repr(obj))
    return ("object", id(obj))


class CompileCache:
    """Wraps ``forecast.inference.fitting.compile_model`` for the session: a model whose spec (and
    sampler) equals one compiled before reuses that compiled model instead of compiling again
    (20-35 s each on 2 cores). Fitting, the backtest and the API all reach nutpie through
    ``compile_model``; nutpie's compiled models are immutable (``with_data`` returns a copy), as the
    backtest and SBC already rely on when they sample one compiled model many times.
    A hit still reports the "build" and "compile" phases, so the CLI prints the same lines."""

    def __init__(self, real):
        self.real = real
        self.store: dict = {}
        self.hits = 0
        self.misses = 0

    def __call__(self, spec, sampler=None, on_phase=None, verbose=False):
        from forecast.defaults import SAMPLER
        from forecast.inference.progress import phase

        sampler = SAMPLER if sampler is None else sampler
        key = (sampler, fingerprint(spec))
        if key in self.store:
            self.hits += 1
            t0 = time.perf_counter()
            with phase(on_phase, "build"):
                pass
            with phase(on_phase, "compile", detail=lambda: "reused in memory by the test session"):
                compiled, used = self.store[key]
            return compiled, used, time.perf_counter() - t0
        self.misses += 1
        compiled, used, seconds = self.real(spec, sampler, on_phase, verbose)
        if used == "nutpie":  # a PyMC model is not compiled: nothing worth keeping
            self.store[key] = (compiled, used)
        return compiled, used, seconds


CACHES: list[CompileCache] = []


def pytest_terminal_summary(terminalreporter):
    for cache in CACHES:
        terminalreporter.write_line(f"nutpie compiles: {cache.misses}, reused from this session: {cache.hits}")


@pytest.fixture(scope="session", autouse=True)
def compile_cache():
    """One nutpie compile per distinct model for the whole session (see CompileCache)."""
    if os.environ.get(NO_CACHE_ENV) == "1":
        yield None
        return
    from forecast.inference import fitting

    cache = CompileCache(fitting.compile_model)
    CACHES.append(cache)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fitting, "compile_model", cache)
        yield cache


@pytest.fixture
def uncached_compile(compile_cache, monkeypatch):
    """For a test that patches nutpie's compile itself: this test's fits call it (no reuse)."""
    if compile_cache is not None:
        from forecast.inference import fitting

        monkeypatch.setattr(fitting, "compile_model", compile_cache.real)


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    """A fresh copy of the shipped default workspace."""
    return init_workspace(tmp_path / "ws")


@pytest.fixture(scope="session")
def session_fit(tmp_path_factory):
    """One real (tiny, seeded) nutpie fit on the shipped data, through the CLI, shared by the session.
    Returns (workspace, parsed JSON printed by 'fit --json')."""
    ws = init_workspace(tmp_path_factory.mktemp("fit") / "ws")
    result = CliRunner().invoke(main, ["fit", "-w", str(ws.root), "--json", *FAST_FIT_ARGS])
    assert result.exit_code == 0, result.output
    return ws, json.loads(result.stdout)


@pytest.fixture
def fitted_workspace(session_fit, tmp_path) -> Workspace:
    """A private copy of the session's fitted workspace (safe to modify)."""
    src, _ = session_fit
    dst = tmp_path / "fitted"
    shutil.copytree(src.root, dst)
    return Workspace(dst)
