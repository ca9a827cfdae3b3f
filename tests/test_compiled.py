"""The disk-cached nutpie compile (forecast.inference.compiled): the same log-density and gradient
as nutpie's own compile, ``with_data`` still works, and a second process loads the callbacks from
the cache instead of building them."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from forecast.model import pytensor_env

pytensor_env.configure()


def toy_model(y):
    """A small model with a pm.Data container, a transformed variable and a deterministic."""
    import pymc as pm

    with pm.Model() as m:
        data = pm.Data("y", np.asarray(y, float))
        mu = pm.Normal("mu", 0.0, 1.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Deterministic("mu_twice", 2 * mu)
        pm.Normal("obs", mu, sigma, observed=data)
    return m


def call_logp(compiled, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Evaluate a compiled model's C log-density callback at ``x`` (as nutpie's sampler does)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    logp = np.zeros((), dtype=np.float64)
    f = compiled.compiled_logp_func.ctypes
    dbl = ctypes.POINTER(ctypes.c_double)
    rc = f(ctypes.c_uint64(len(x)), x.ctypes.data_as(dbl), grad.ctypes.data_as(dbl), logp.ctypes.data_as(dbl),
           ctypes.c_void_p(compiled.user_data.ctypes.data))
    assert rc == 0
    return float(logp), grad


@pytest.fixture(scope="module")
def both():
    import nutpie

    from forecast.inference.compiled import compile_pymc

    m = toy_model([0.3, -1.2, 2.0, 0.7])
    ours, info = compile_pymc(m)
    theirs = nutpie.compile_pymc_model(m)
    return ours, info, theirs


def test_cached_compile_is_used_here(both):
    """On the nutpie this project pins, the cache path is taken (not the fallback)."""
    _, info, _ = both
    assert info.cached, info.reason


def test_same_logp_and_gradient_as_nutpie(both):
    ours, _, theirs = both
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.normal(size=ours.n_dim)
        lp_a, g_a = call_logp(ours, x)
        lp_b, g_b = call_logp(theirs, x)
        assert lp_a == pytest.approx(lp_b, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(g_a, g_b, rtol=1e-12, atol=1e-12)


def test_with_data_changes_the_density_as_in_a_fresh_compile(both):
    import nutpie

    ours, _, _ = both
    new_y = [5.0, 4.0, 6.5, 5.5]
    fresh = nutpie.compile_pymc_model(toy_model(new_y))
    x = np.array([0.2, -0.1])
    lp_a, g_a = call_logp(ours.with_data(y=np.asarray(new_y)), x)
    lp_b, g_b = call_logp(fresh, x)
    assert lp_a == pytest.approx(lp_b, rel=1e-12)
    np.testing.assert_allclose(g_a, g_b, rtol=1e-12)
    assert call_logp(ours, x)[0] != pytest.approx(lp_a)  # the original data are untouched


def test_samples_match_nutpie(both):
    """Same draws as nutpie's own compile. Ours stores the free variables only; the deterministics,
    computed afterwards by ``Deterministics``, equal the ones nutpie's expansion stored."""
    import nutpie

    from forecast.inference.deterministics import Deterministics

    ours, _, theirs = both
    a = nutpie.sample(ours, draws=50, tune=50, chains=1, seed=3, progress_bar=False)
    b = nutpie.sample(theirs, draws=50, tune=50, chains=1, seed=3, progress_bar=False)
    np.testing.assert_array_equal(a.posterior["mu"].values, b.posterior["mu"].values)
    assert "mu_twice" not in a.posterior and "mu_twice" in b.posterior
    Deterministics(toy_model([0.3, -1.2, 2.0, 0.7])).complete(a)
    np.testing.assert_allclose(a.posterior["mu_twice"].values, b.posterior["mu_twice"].values, rtol=1e-14)
    assert sorted(a.posterior.data_vars) == sorted(b.posterior.data_vars)
    assert a.posterior["mu_twice"].dims == b.posterior["mu_twice"].dims


SCRIPT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    from test_compiled import toy_model
    from forecast.inference.compiled import compile_pymc
    compiled, info = compile_pymc(toy_model({y!r}))
    print(json.dumps({{"cached": info.cached, "loaded": info.loaded, "reason": info.reason}}))
""")


def compile_in_subprocess(y) -> dict:
    """Compile the toy model in a new Python process (the user's PyTensor compile directory, so the
    numba kernels of its ops are usually cached already and this stays quick)."""
    script = SCRIPT.format(tests=os.path.dirname(__file__), y=y)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_the_callbacks_from_the_cache():
    y = [float(v) for v in np.random.default_rng().normal(size=7)]  # same key whatever the values
    first = compile_in_subprocess(y)
    second = compile_in_subprocess([v + 1.0 for v in y])
    assert first["cached"] is True, first
    assert second == {"cached": True, "loaded": True, "reason": ""}


def test_cache_off_falls_back_to_nutpie(monkeypatch):
    import pytensor

    from forecast.inference.compiled import compile_pymc

    monkeypatch.setattr(pytensor.config, "numba__cache", False)
    compiled, info = compile_pymc(toy_model([1.0, 2.0]))
    assert info.cached is False and "numba__cache=False" in info.reason
    assert np.isfinite(call_logp(compiled, np.zeros(compiled.n_dim))[0])


def test_data_shapes_of_a_compiled_model(both):
    """``fitting.draw`` checks new pm.Data values against these shapes before ``with_data``."""
    from forecast.inference.fitting import CompiledModel, check_data_shapes, data_shapes

    ours, _, _ = both
    shapes = data_shapes(CompiledModel(ours, None), "nutpie")
    assert shapes == {"y": (4,)}
    with pytest.raises(ValueError, match="'y' have shape"):
        check_data_shapes(shapes, {"y": np.zeros(5)})
