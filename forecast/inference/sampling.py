"""Sampling that stops cleanly on Ctrl-C.

nutpie and PyMC both catch a KeyboardInterrupt while they sample and hand back the draws made so far
(nutpie pads the missing ones with NaN; PyMC returns shorter chains). Used as a fit, such a trace
ended in NaN warnings and a traceback from the projection. Here it is an interrupt:
``SamplingInterrupted`` (a KeyboardInterrupt), which no ordinary error handler catches and the
CLI reports as "Interrupted", with nothing stored.
"""

from __future__ import annotations

import numpy as np

from forecast.errors import SamplingInterrupted


def check_complete(idata, draws: int, chains: int) -> None:
    """SamplingInterrupted unless the posterior holds ``chains`` chains of ``draws`` draws, all numbers."""
    post = idata.posterior
    got_chains, got_draws = int(post.sizes.get("chain", 0)), int(post.sizes.get("draw", 0))
    if got_chains < chains:
        raise SamplingInterrupted(f"sampling stopped early: {got_chains} of {chains} chains")
    if got_draws < draws:
        raise SamplingInterrupted(f"sampling stopped early: {got_draws} of {draws} draws")
    for name, values in post.data_vars.items():
        v = values.values
        if np.issubdtype(v.dtype, np.floating) and np.isnan(v).any():
            raise SamplingInterrupted(f"sampling stopped early: NaN draws of {name}")


def nutpie_sample(model, *, draws: int, tune: int, chains: int, **kwargs):
    """``nutpie.sample`` that raises SamplingInterrupted on Ctrl-C (the sampler cancelled, its partial
    trace dropped) instead of returning what it had; any other trace short of ``draws`` too."""
    import nutpie

    sampler = nutpie.sample(model, draws=draws, tune=tune, chains=chains, blocking=False, **kwargs)
    try:
        idata = sampler.wait()
    except KeyboardInterrupt:
        sampler.cancel()
        raise SamplingInterrupted("sampling interrupted (Ctrl-C)") from None
    check_complete(idata, draws, chains)
    return idata
