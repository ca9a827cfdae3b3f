"""nutpie's compile of a PyMC model, with the native code of its two C callbacks kept on disk.

``nutpie.compile_pymc_model`` turns the model's log-density and gradient into a PyTensor
numba function (cached on disk by PyTensor) and then wraps it in two ``numba.cfunc``
callbacks that nutpie's Rust sampler calls. Those wrappers cannot be cached by nutpie
(they close over per-model objects), so numba links and re-optimises the whole
log-density into them on every compile: about 20 s of the ~35 s a warm ``forecast fit``
spent compiling (measured, ``benchmarks/results/fit.md``).

``compile_pymc`` builds the same two callbacks from source with no closure, and registers
them with PyTensor's numba cache locator under a key that names everything their machine
code depends on:

* PyTensor's own cache key of the compiled function graph (the rewritten log-density or
  expansion graph, every constant in it included);
* the number of unconstrained parameters and of stored values;
* the name, rank and dtype of every ``pm.Data`` container, and the layout of the record
  that passes their addresses (their *values* are read at run time, so ``with_data``
  works exactly as with nutpie's own compile);
* the source of the callbacks and the versions of nutpie, numba, llvmlite and PyTensor.

The second compile of a model with the same structure, in any process, then loads the
callbacks' machine code instead of rebuilding it. The callbacks' bodies are nutpie's
(``nutpie/compile_pymc.py``, ``_make_c_logp_func`` and ``_make_c_expand_func``).

This leans on nutpie helpers that are not public API. ``available()`` checks that they are
there; when they are not (another nutpie version), or PyTensor's numba cache is off
(``PYTENSOR_FLAGS=numba__cache=False``), or a graph cannot be cached by PyTensor, the plain
``nutpie.compile_pymc_model`` is used: slower, never wrong. ``CompileInfo`` says which.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

KEY_VERSION = "2"  # bump when the callbacks' source or the key's content changes

LOGP_SRC = """
def forecast_logp_callback(dim, x_, out_, logp_, user_data_):
    if dim != n_dim:
        return -1
    try:
        x = numba.carray(x_, (n_dim,))
        out = numba.carray(out_, (n_dim,))
        logp = numba.carray(logp_, ())
        logp_val, grad = extract(x, user_data_)
        logp[()] = logp_val
        out[...] = grad
        if not np.all(np.isfinite(out)):
            return 3
        if not np.isfinite(logp_val):
            return 4
    except Exception:
        return 1
    return 0
"""

EXPAND_SRC = """
def forecast_expand_callback(dim, expanded, x_, out_, user_data_):
    if dim != n_dim:
        return -1
    if expanded != n_expanded:
        return -1
    try:
        x = numba.carray(x_, (n_dim,))
        out = numba.carray(out_, (n_expanded,))
        (values,) = extract(x, user_data_)
        out[...] = values
    except Exception:
        return -2
    return 0
"""


@dataclass(frozen=True)
class CompileInfo:
    """How a model was compiled: ``cached`` when the disk-cached callbacks were used (``loaded``
    when both were found on disk rather than built), else ``reason`` says why not."""

    cached: bool
    loaded: bool
    reason: str = ""

    def describe(self) -> str:
        if self.loaded:
            return "native code loaded from the compile cache"
        if self.cached:
            return "native code built and cached for the next fit of this model's shape"
        return f"compile cache not used: {self.reason}"


def _nutpie_parts():
    """The nutpie helpers this module needs, or None when this nutpie lacks one of them."""
    try:
        import nutpie.compile_pymc as cp
    except ImportError:
        return None
    names = ("_make_functions", "make_user_data", "make_extraction_fn", "_prepare_dims_and_coords",
             "_wrap_with_lock", "CompiledPyMCModel")
    return cp if all(hasattr(cp, n) for n in names) else None


def available() -> str:
    """'' when the cached compile can be used here, else the reason it cannot."""
    from pytensor import config

    if not config.numba__cache:
        return "PyTensor's numba cache is off (numba__cache=False)"
    if _nutpie_parts() is None:
        import nutpie

        return f"nutpie {nutpie.__version__} lacks the helpers this cache builds on"
    return ""


def kernel_cache_files(base_compiledir=None) -> tuple[str, int]:
    """PyTensor's numba cache folder (under ``base_compiledir``, default PyTensor's) and how many files
    it holds. Nearly empty on a fresh machine: the first compile then builds every kernel of the model
    into it (minutes on 2 cores)."""
    from pathlib import Path

    from pytensor import config

    path = Path(base_compiledir or config.base_compiledir) / "numba"
    try:
        return str(path), sum(1 for _ in path.iterdir())
    except OSError:
        return str(path), 0


def _versions() -> str:
    import llvmlite
    import numba
    import nutpie
    import pytensor

    return f"nutpie {nutpie.__version__} numba {numba.__version__} llvmlite {llvmlite.__version__} " \
           f"pytensor {pytensor.__version__}"


def callback_key(graph_key: str, kind: str, source: str, n_dim: int, n_expanded: int, shared: list[tuple],
                 record_descr) -> str:
    """The cache key of one callback (see the module docstring for what it covers)."""
    h = hashlib.sha256()
    for part in (KEY_VERSION, graph_key, kind, source, repr((n_dim, n_expanded)), repr(shared),
                 repr(record_descr), _versions()):
        h.update(part.encode())
        h.update(b"\0")
    return f"forecast-{kind}-{h.hexdigest()}"


def _callback(cp, source: str, name: str, kind: str, fn_pt, shared_data, user_data, n_dim: int, n_expanded: int,
              sig):
    """One C callback around the PyTensor function ``fn_pt``, through PyTensor's cache locator.
    Returns (cfunc, loaded_from_disk) or None when PyTensor did not give the graph a cache key."""
    import numba
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS, compile_numba_function_src

    inner_fn = fn_pt.vm.jit_fn
    graph_key = CACHED_SRC_FUNCTIONS.get(inner_fn.py_func)
    if graph_key is None:
        return None
    names = [v.name for v in fn_pt.get_shared()]
    shared = [(n, shared_data[n].ndim, shared_data[n].dtype.str) for n in names]
    key = callback_key(graph_key, kind, source, n_dim, n_expanded, shared, user_data.dtype.descr)
    extract = cp.make_extraction_fn(_unwrapped(inner_fn), shared_data, names, user_data.dtype)
    # __name__ names an importable module: numba rebuilds a cached function's environment from it
    env = {"__name__": __name__, "numba": numba, "np": np, "extract": extract, "n_dim": n_dim,
           "n_expanded": n_expanded}
    py_func = compile_numba_function_src(source, name, env, cache_key=key)
    cfunc = numba.cfunc(sig, cache=True)(py_func)
    return cfunc, bool(cfunc.cache_hits)


def _unwrapped(jit_fn):
    """The graph's own numba function inside PyTensor's cached wrapper ``jit_fn``, else ``jit_fn``.

    PyTensor wraps the compiled graph in ``def f(*args): return jitable_func(*args)``, a second
    function numba caches on disk. Called from the callbacks, that wrapper only adds a compile:
    numba links and re-optimises the whole graph into it (12 s of its own in a trace of a cold
    compile; interleaved cold compiles with and without it differ by about 5%, benchmarks/results/
    fit.md), and the callbacks, cached under their own key, never need it again."""
    import numba

    inner = getattr(jit_fn, "py_func", None)
    jitable = getattr(inner, "__globals__", {}).get("jitable_func")
    return jitable if isinstance(jitable, numba.core.registry.CPUDispatcher) else jit_fn


def _signatures():
    import numba

    t = numba.types
    logp = t.int64(t.uint64, t.CPointer(t.double), t.CPointer(t.double), t.CPointer(t.double), t.voidptr)
    expand = t.int64(t.uint64, t.uint64, t.CPointer(t.double), t.CPointer(t.double), t.voidptr)
    return logp, expand


def _pytensor_functions(cp, model, names: list[str]):
    """nutpie's PyTensor functions of ``model`` storing the variables ``names`` (numba mode, not yet compiled
    by numba): (n_dim, n_expanded, log-density function, expansion function, initial point function, shape
    info)."""
    from pymc.initial_point import make_initial_point_fn

    initial_point_fn = cp._wrap_with_lock(make_initial_point_fn(
        model=model, overrides=None, default_strategy="support_point", jitter_rvs=set(model.free_RVs),
        return_transformed=True))
    return cp._make_functions(model, mode="NUMBA", compute_grad=True, join_expanded=True,
                              pymc_initial_point_fn=initial_point_fn, var_names=names)


def graph_keys(model) -> dict[str, str | None]:
    """PyTensor's cache keys of the rewritten log-density and expansion graphs of ``model`` (None: not
    cacheable), computed without numba compiling anything. Each callback's key includes its graph's, so
    a model whose keys differ between two processes never loads its callbacks from the cache."""
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    from forecast.inference.deterministics import stored_names

    cp = _nutpie_parts()
    _, _, logp_fn_pt, expand_fn_pt, _, _ = _pytensor_functions(cp, model, stored_names(model))
    return {kind: CACHED_SRC_FUNCTIONS.get(fn.vm.jit_fn.py_func)
            for kind, fn in (("logp", logp_fn_pt), ("expand", expand_fn_pt))}


def compile_pymc(model):
    """Compile ``model`` for nutpie as ``nutpie.compile_pymc_model(model, var_names=...)`` does (numba
    backend, support-point initialisation with jitter), storing the free variables only
    (``deterministics.stored_names``): the deterministics are computed after sampling by
    ``deterministics.Deterministics``, which spares a cold compile a second graph's kernels.
    Returns (compiled model, CompileInfo)."""
    import nutpie

    from forecast.inference.deterministics import stored_names

    names = stored_names(model)
    why = available()
    if why:
        return nutpie.compile_pymc_model(model, var_names=names), CompileInfo(False, False, why)
    cp = _nutpie_parts()
    n_dim, n_expanded, logp_fn_pt, expand_fn_pt, initial_point_fn, shape_info = _pytensor_functions(cp, model, names)
    shared_data, shared_vars = {}, {}
    for val in [*logp_fn_pt.get_shared(), *expand_fn_pt.get_shared()]:
        if val.name in shared_data and val is not shared_vars[val.name]:
            raise ValueError(f"Shared variables must have unique names: {val.name}")
        shared_data[val.name] = np.array(val.get_value(), order="C", copy=True)
        shared_vars[val.name] = val
    for arr in shared_data.values():
        arr.flags.writeable = False
    user_data = cp.make_user_data(shared_vars, shared_data)
    logp_sig, expand_sig = _signatures()
    common = dict(shared_data=shared_data, user_data=user_data, n_dim=n_dim, n_expanded=n_expanded)
    logp = _callback(cp, LOGP_SRC, "forecast_logp_callback", "logp", logp_fn_pt, sig=logp_sig, **common)
    expand = _callback(cp, EXPAND_SRC, "forecast_expand_callback", "expand", expand_fn_pt, sig=expand_sig,
                       **common)
    if logp is None or expand is None:
        return (nutpie.compile_pymc_model(model, var_names=names),
                CompileInfo(False, False, "PyTensor gave a graph no cache key"))
    dims, coords = cp._prepare_dims_and_coords(model, shape_info)
    compiled = cp.CompiledPyMCModel(
        _n_dim=n_dim, dims=dims, _coords=coords, _shapes={n: tuple(s) for n, _, s in zip(*shape_info)},
        compiled_logp_func=logp[0], compiled_expand_func=expand[0], initial_point_func=initial_point_fn,
        shared_data=shared_data, user_data=user_data, n_expanded=n_expanded, shape_info=shape_info,
        logp_func=logp_fn_pt, expand_func=expand_fn_pt)
    return compiled, CompileInfo(True, logp[1] and expand[1])
