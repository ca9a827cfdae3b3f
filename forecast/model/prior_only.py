"""Prior-only forecasts: what the model says before it sees any data.

Every parameter is drawn from the preset's priors (``priors.to_numpy_draws``); the
latent state of each factor in the last data year is N(0, 1), its stationary
distribution (each factor is an AR(1) with unit marginal variance); coded event
effects are drawn from the catalogue's N(weight, weight_sd). The draws are pushed
through the same ``projection.project`` as the posterior, so a prior-only and a
posterior forecast differ only in what the data taught the parameters and states.

Also here: the outside view, the ``settlement_base_rate`` prior (ICOW territorial
claims, conditioned on the claim's settlement-free years) turned into the
probability of a settlement within H years, ignoring every lens and the barrier.

numpy (and scipy for exact Beta moments) only; resolving an elicited prior imports PreliZ.
"""

from __future__ import annotations

import numpy as np

from forecast import LENSES
from forecast.defaults import HORIZONS, OUTCOME_FORM, PRIOR_DRAWS, PROJECTION_PATHS, SEED
from forecast.model.kernels import event_sign, outcome_switches
from forecast.model.priors import PriorSet, PriorSpec, load_preset, to_numpy_draws
from forecast.model.projection import Draws, project
from forecast.model.spec import FACTORS

_RESOLVED: dict[str, dict] = {}


def _resolved(spec: PriorSpec) -> PriorSpec:
    """The entry with its parameters resolved (elicitation by PreliZ takes seconds, so its result
    is kept per process, keyed by the entry's full content)."""
    import json
    from dataclasses import replace

    if spec.elicit is None and spec.update_with is None:
        return spec
    key = json.dumps([spec.distribution, spec.params, spec.elicit, spec.update_with], sort_keys=True)
    if key not in _RESOLVED:
        _RESOLVED[key] = spec.resolved_params()
    return replace(spec, params=dict(_RESOLVED[key]), elicit=None, update_with=None)


def _ordered_normal(spec: PriorSpec, n: int, rng) -> np.ndarray:
    """Draws of the cutpoints' Normal prior restricted to increasing vectors (as the model's
    ordered transform does), by rejection: exact, and cheap for the shipped spacing."""
    out, have = [], 0
    for _ in range(1000):
        x = to_numpy_draws(spec, max(n, 256), rng)
        x = x[np.all(np.diff(x, axis=1) > 0, axis=1)]
        out.append(x)
        have += len(x)
        if have >= n:
            return np.concatenate(out)[:n]
    raise ValueError(f"the '{spec.name}' prior puts almost no mass on increasing cutpoints")


def prior_draws(priors: PriorSet, n_draws: int = PRIOR_DRAWS, seed: int = SEED,
                event_weight=None, event_weight_sd=None, event_lens=None,
                outcome_form: str = "contemporaneous") -> Draws:
    """``n_draws`` parameter sets from the priors, as a ``projection.Draws``.

    ``event_weight``/``event_weight_sd``: the catalogue's prior means and sds (one per kind);
    without them the draws carry no event effects (``project`` needs them only for
    forecast-year events)."""
    rng = np.random.default_rng(seed)
    P = {name: _resolved(spec) for name, spec in priors.priors.items()}
    F = len(FACTORS)
    rho = to_numpy_draws(P["state_persistence"], n_draws * F, rng).reshape(n_draws, F)
    eta_last = rng.standard_normal((n_draws, F))  # stationary AR(1), unit marginal variance
    beta = np.stack([to_numpy_draws(P[f"beta_{lens}"], n_draws, rng) for lens in ("power", "trust", "leaders")],
                    axis=1)
    cut = _ordered_normal(P["cutpoints"], n_draws, rng)
    base = to_numpy_draws(P["settlement_base_rate"], n_draws, rng)
    gamma = np.stack([to_numpy_draws(P[g], n_draws, rng) for g in ("gamma_power", "gamma_trust", "gamma_capacity")],
                     axis=1)
    delta = to_numpy_draws(P["delta_barrier"], n_draws, rng)
    if event_weight is not None and len(event_weight):
        w = np.asarray(event_weight, float)
        sd = np.asarray(event_weight_sd, float)
        effect = w[None, :] + sd[None, :] * rng.standard_normal((n_draws, len(w)))
    else:
        effect = np.zeros((n_draws, 0))
    events = {}
    if outcome_switches(outcome_form)[0] and effect.shape[1]:  # the forecast year's events simulated from the prior
        E = effect.shape[1]
        events = dict(outcome_form=outcome_form, event_lens=np.asarray(event_lens, int),
                      event_sign=event_sign(event_weight),
                      event_rate_intercept=to_numpy_draws(P["event_rate_intercept"], n_draws * E, rng).reshape(
                          n_draws, E),
                      event_rate_slope=to_numpy_draws(P["event_rate_slope"], n_draws * 3, rng).reshape(n_draws, 3),
                      event_lag_weight=to_numpy_draws(P["event_lag_weight"], n_draws, rng),
                      shift_last=np.zeros((n_draws, 3)))
    return Draws(rho=rho, eta_last=eta_last, beta=beta, cutpoints=cut, base_rate=base, gamma=gamma,
                 delta=delta, event_effect=effect, **events)


def prior_forecast(ws_or_priors, preset: str = "default", barrier_last: float = 0.0,
                   n_draws: int = PRIOR_DRAWS, seed: int = SEED, horizons=HORIZONS,
                   paths: int = PROJECTION_PATHS) -> dict[str, np.ndarray]:
    """The prior-only forecast: a dict of per-draw arrays exactly like ``projection.project``'s
    output (``improve_next_year``, ``settle_within_{h}y``, ``contribution_improve``, ...).

    ``ws_or_priors``: a ``Workspace`` (the preset is loaded from its priors/, and event effects
    from its data/event_kinds.csv) or a ``PriorSet`` (then ``preset`` is ignored).
    ``barrier_last``: the legal barrier in force in the last data year (0..1; the fit stores it
    as the ``barrier_last`` attribute). Deterministic for a given seed."""
    weight = weight_sd = lens = None
    if isinstance(ws_or_priors, PriorSet):
        priors = ws_or_priors
    else:
        from forecast.data.loaders import load_dataset

        priors = load_preset(ws_or_priors.priors_dir, preset)
        kinds = load_dataset(ws_or_priors.data_dir).event_kinds
        weight, weight_sd = kinds["weight"].to_numpy(float), kinds["weight_sd"].to_numpy(float)
        lens = [LENSES.index(x) for x in kinds["lens"]]
    d = prior_draws(priors, n_draws, seed, weight, weight_sd, lens, OUTCOME_FORM)
    out = project(d, float(barrier_last), horizons=tuple(horizons), paths=paths, seed=seed)
    out.pop("draw_logweight", None)
    return out


def outside_view(priors: PriorSet, horizons=HORIZONS, n_draws: int = PRIOR_DRAWS,
                 seed: int = SEED) -> dict[str, dict]:
    """P(settlement within H years) from the ``settlement_base_rate`` prior alone.

    For a yearly hazard h ~ Beta(a, b), P(settlement within H) = 1 - (1 - h)^H; its mean is
    exact, 1 - B(a, b + H) / B(a, b). Returns, per ``settle_within_{H}y``, the mean, the
    per-draw probabilities (for a density) and the yearly hazard's parameters."""
    from scipy.special import betaln

    spec = _resolved(priors["settlement_base_rate"])
    out = {}
    rng = np.random.default_rng(seed)
    if spec.distribution == "Beta":
        a, b = spec.params["alpha"], spec.params["beta"]
        h = rng.beta(a, b, size=n_draws)
        for H in horizons:
            out[f"settle_within_{H}y"] = {"mean": float(1 - np.exp(betaln(a, b + H) - betaln(a, b))),
                                          "draws": 1 - (1 - h) ** H, "hazard_mean": a / (a + b),
                                          "alpha": a, "beta": b}
    else:  # any other unit-interval prior: Monte Carlo
        h = to_numpy_draws(spec, n_draws, rng)
        for H in horizons:
            p = 1 - (1 - h) ** H
            out[f"settle_within_{H}y"] = {"mean": float(p.mean()), "draws": p, "hazard_mean": float(h.mean())}
    return out
