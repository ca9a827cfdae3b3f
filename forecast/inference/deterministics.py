"""The model's deterministic variables, computed after sampling from the stored free variables.

nutpie stores what its "expand" function returns for every draw. Asked for every variable, that
function is a second compiled graph (the deterministics: the states, loadings, log-odds...) with
its own numba kernels and callback. Without it a first fit on a fresh machine took 129.1 s
against 136.1 s (benchmarks/bench_cold.py, medians of 2; benchmarks/results/fit.md, fifth
session). The sampler therefore stores only the free variables (``stored_names``), and
``Deterministics`` computes the rest once, after sampling, for all draws at once: the model's own
PyTensor graph of each deterministic, vectorised over the draws and run by PyTensor's Python
linker, which compiles nothing (NumPy does the work: ~0.3 s for 8,000 draws).
The values are the model's: the same graph, not a second copy of the maths.

The model's ``pm.Data`` containers are explicit inputs of that function, so a compiled model
sampled with new data (``with_data``, the backtest's origins) gets its deterministics from the
same data.
"""

from __future__ import annotations

import numpy as np


def stored_names(model) -> list[str]:
    """The variables the sampler stores: the model's free random variables (constrained values)."""
    return [rv.name for rv in model.free_RVs]


class Deterministics:
    """The deterministics of ``model`` as a function of its free variables' draws (built once per
    model; calling it costs NumPy time only)."""

    def __init__(self, model):
        import pytensor
        import pytensor.tensor as pt
        from pytensor.compile.mode import Mode
        from pytensor.compile.sharedvalue import SharedVariable
        from pytensor.graph.replace import clone_replace, vectorize_graph
        from pytensor.graph.traversal import ancestors

        self.names = [d.name for d in model.deterministics]
        self.dims = {n: model.named_vars_to_dims.get(n) for n in self.names}
        self.coords = {k: list(v) for k, v in (model.coords or {}).items() if v is not None}
        self.free = stored_names(model)
        batched = {rv: pt.tensor(name=rv.name, dtype=rv.dtype, shape=(None, *rv.type.shape))
                   for rv in model.free_RVs}
        outs = vectorize_graph(list(model.deterministics), replace=batched)
        # what is left of the model's state once the free variables are given: its pm.Data containers
        shared = [v for v in ancestors(outs) if isinstance(v, SharedVariable)]
        self.shared = [v.name for v in shared]
        self.shared_values = {v.name: np.asarray(v.get_value()) for v in shared}
        data_in = {v: v.type(name=v.name) for v in shared}
        outs = clone_replace(outs, replace=data_in)
        self.fn = pytensor.function([*batched.values(), *data_in.values()], outs,
                                    mode=Mode(linker="py", optimizer=None), on_unused_input="ignore")

    def values(self, draws: dict, data: dict | None = None) -> dict[str, np.ndarray]:
        """name -> array (chain, draw, ...) of every deterministic, from ``draws`` (name -> array
        (chain, draw, ...) of every free variable) and the model's data, with ``data`` overriding
        the containers it names (as nutpie's ``with_data`` does)."""
        data = data or {}
        arrays = [np.asarray(draws[n]) for n in self.free]
        lead = arrays[0].shape[:2]
        flat = [a.reshape(-1, *a.shape[2:]) for a in arrays]
        given = [np.asarray(data.get(n, self.shared_values[n]), dtype=self.shared_values[n].dtype)
                 for n in self.shared]
        out = [np.asarray(v) for v in self.fn(*flat, *given)]
        return {n: v.reshape(*lead, *v.shape[1:]) for n, v in zip(self.names, out)}

    def complete(self, idata, data: dict | None = None):
        """``idata`` with its posterior extended by every deterministic (dims and coordinates as
        the model names them); returns ``idata``."""
        import xarray as xr

        post = idata.posterior
        vals = self.values({n: post[n].values for n in self.free}, data)
        new = {}
        for name, arr in vals.items():
            dims = self.dims.get(name) or tuple(f"{name}_dim_{i}" for i in range(arr.ndim - 2))
            coords = {d: self.coords[d] for d in dims if d in self.coords}
            new[name] = xr.DataArray(arr, dims=("chain", "draw", *dims), coords=coords)
        idata.posterior = post.assign(new)
        return idata
