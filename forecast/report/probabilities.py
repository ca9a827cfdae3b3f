"""``plot probabilities`` and the brief's key figure: each headline probability's posterior against
its prior-only forecast and the outside view (plain arrays; ``plots.py`` draws them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.defaults import PRIOR_DRAWS
from forecast.model.projection import INTERVAL_TYPE, IntervalSummary, summarise
from forecast.report.draws import weights_of
from forecast.report.summary import headline_keys, probability_label
from forecast.store.posterior import StoredForecast
from forecast.workspace import Workspace


def bounded_density(x: np.ndarray, w: np.ndarray | None, grid: np.ndarray, max_points: int = 2500,
                    seed: int = 0) -> np.ndarray:
    """Weighted Gaussian KDE of probabilities on [0, 1], reflected at both bounds so that mass
    near 0 (settlement) is not lost. Large samples are resampled by weight to ``max_points``."""
    from scipy.stats import gaussian_kde

    x = np.asarray(x, float)
    if w is not None:
        w = np.asarray(w, float) / np.sum(w)
    if len(x) > max_points:
        rng = np.random.default_rng(seed)
        x = rng.choice(x, size=max_points, replace=True, p=w)
        w = None
    if np.ptp(x) <= 1e-12:
        d = np.zeros_like(grid)
        d[np.argmin(np.abs(grid - x[0]))] = 1.0 / (grid[1] - grid[0])
        return d
    k = gaussian_kde(x, weights=w)
    return k(grid) + k(-grid) + k(2.0 - grid)


def density_grid(*arrays, extra=(), n: int = 400) -> np.ndarray:
    """A grid from 0 to a little above the largest 99.5th percentile (or extra marks), capped at 1."""
    top = max([float(np.quantile(a, 0.995)) for a in arrays] + [float(e) for e in extra if e is not None])
    return np.linspace(0.0, min(1.0, 1.12 * top + 0.005), n)


@dataclass
class ProbabilityPanel:
    key: str
    label: str
    posterior: np.ndarray          # per-draw probabilities (S,)
    weights: np.ndarray            # importance weights (S,), sum 1
    summary: IntervalSummary       # mean, lo80, hi80, lo95, hi95 (as in 'show')
    prior: np.ndarray              # prior-only per-draw probabilities
    prior_summary: IntervalSummary
    outside_mean: float | None     # outside-view base rate
    outside_label: str
    base_mean: float | None = None  # settlement: the plain base rate of the reference class (no covariates)
    base_label: str = ""
    grid: np.ndarray | None = None            # probability grid for the densities
    posterior_density: np.ndarray | None = None
    prior_density: np.ndarray | None = None


@dataclass
class ProbabilityResults:
    forecast_year: int
    as_of: int
    preset: str
    panels: list[ProbabilityPanel]
    interval: str = INTERVAL_TYPE


def improvement_base_rate(stored: StoredForecast) -> tuple[float, str]:
    """Historical frequency of coded improvement (change >= +1) in the fitted years."""
    spec = stored.record.spec
    change = np.asarray(spec.change)
    k, n = int((change >= 1).sum()), len(change)
    first = spec.first_year
    return k / n, f"historical frequency {first}-{first + n - 1} ({k} of {n} years)"


def probability_results(ws: Workspace, stored: StoredForecast, n_prior: int = PRIOR_DRAWS,
                        prior: dict | None = None, outside: dict | None = None) -> ProbabilityResults:
    """Posterior of each headline probability with its prior-only and outside-view counterparts.
    ``prior``/``outside`` may be given precomputed (tests); otherwise computed from the preset."""
    from forecast.model.prior_only import outside_view, prior_forecast

    a = stored.record
    horizons = a.horizons
    if prior is None:
        prior = prior_forecast(ws, a.preset, a.barrier_last, n_draws=n_prior, seed=a.seed, horizons=horizons)
    from forecast.model.priors import load_preset

    priors = load_preset(ws.priors_dir, a.preset)
    if outside is None:
        outside = outside_view(priors, horizons, seed=a.seed)
    ref = priors.reference if priors["settlement_base_rate"].reference else None
    w = weights_of(stored)
    panels = []
    for key in headline_keys(stored):
        bm, bl = None, ""
        if key == "improve_next_year":
            om, ol = improvement_base_rate(stored)
        elif ref is None:
            om, ol = outside[key]["mean"], "ICOW territorial-claims base rate"
        else:
            h = int(key.removeprefix("settle_within_").removesuffix("y"))
            e = ref.evidence
            om = outside[key]["mean"]
            ol = f"reference class: ICOW claim {ref.claim}'s own level in the pooled model, no lens states"
            bm = 1.0 - (1.0 - e.settlements / e.claim_years) ** h
            bl = f"{e.settlements} settlements in {e.claim_years:,} claim-years, {e.first_year}-{e.last_year}"
        post, pri = np.asarray(stored.draws[key]), np.asarray(prior[key])
        grid = density_grid(post, pri, extra=(om, bm))
        panels.append(ProbabilityPanel(
            key=key, label=probability_label(key, a.forecast_year), posterior=post,
            weights=w, summary=summarise(post, w), prior=pri,
            prior_summary=summarise(pri), outside_mean=om, outside_label=ol, base_mean=bm, base_label=bl, grid=grid,
            posterior_density=bounded_density(post, w, grid, seed=a.seed),
            prior_density=bounded_density(pri, None, grid, seed=a.seed)))
    return ProbabilityResults(forecast_year=a.forecast_year, as_of=a.as_of, preset=a.preset, panels=panels)
