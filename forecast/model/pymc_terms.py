"""Two PyMC pieces the builder writes with the kernels instead of taking PyMC's own (imports PyMC; only
``builder.build_model`` imports this module).

PyMC's ``OrderedLogistic`` and its ``ordered`` transform compute their values with a concatenation, a gather
with two index arrays and a cumulative sum. Each of these, with its gradient, is a kind of numba kernel that a
fresh machine compiles once before the first fit, at 1.5-4 s a kind (benchmarks/results/fit.md, twelfth and
thirteenth sessions). The two pieces below have the same density and the same transform (forward map, Jacobian,
value-variable name) and are written as elementwise operations, sums and products with constant matrices.
"""

from __future__ import annotations

import numpy as np

from forecast.model import pytensor_env
from forecast.model.kernels import ordered_from_coordinates, ordered_logistic_draw, ordered_logistic_logp

pytensor_env.configure()
import pymc as pm  # noqa: E402  (after PyTensor's configuration)
import pytensor.tensor as pt  # noqa: E402
from pymc.distributions.transforms import Ordered  # noqa: E402


class DenseOrdered(Ordered):
    """PyMC's ordered transform (increasing values from their first value and log gaps) whose backward map is
    ``kernels.ordered_from_coordinates``, a product with a constant matrix, instead of a cumulative sum."""

    def __init__(self, n: int):
        super().__init__(positive=False, ascending=True)
        self.n = n  # the length, which the value variable's type does not carry

    def backward(self, value, *inputs):
        return ordered_from_coordinates(value, backend=pt, n=self.n)


def _outcome_random(eta, cutpoints, rng=None, size=None):
    shape = size if size is not None else np.shape(eta)
    return ordered_logistic_draw(eta, cutpoints, rng.logistic(size=shape)).astype("int64")


def _outcome(n: int) -> dict:
    def logp(value, eta, cut):
        return ordered_logistic_logp(value, eta, cut, backend=pt, n_cutpoints=n)

    return dict(logp=logp, random=_outcome_random, signature="(),(c)->()", dtype="int64")


class OrderedOutcome:
    """An ordered-logistic outcome with latent log-odds ``eta`` and ``n_cutpoints`` increasing ``cutpoints``,
    used like a PyMC distribution (``OrderedOutcome(name, eta=..., cutpoints=..., n_cutpoints=..., observed=...)``,
    ``OrderedOutcome.dist(...)``; the length is given because PyMC's dims do not make it static).
    Its log-density is ``kernels.ordered_logistic_logp``, PyMC's ``OrderedLogistic`` density; prior predictive
    draws come from ``kernels.ordered_logistic_draw``."""

    def __new__(cls, name: str, eta, cutpoints, n_cutpoints: int, **kwargs):
        return pm.CustomDist(name, eta, cutpoints, **_outcome(n_cutpoints), **kwargs)

    @staticmethod
    def dist(eta, cutpoints, n_cutpoints: int, **kwargs):
        return pm.CustomDist.dist(eta, cutpoints, **_outcome(n_cutpoints), **kwargs)
