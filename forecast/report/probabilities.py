"""``plot probabilities`` and the brief's key figure: each headline probability's posterior against
its prior-only forecast and the outside view (plain arrays; ``plots.py`` draws them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.defaults import PRIOR_DRAWS
from forecast.model.projection import INTERVAL_TYPE, IntervalSummary, summarise, weighted_quantile
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


NICE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)  # axis ends: these times a power of ten
AXIS_POSTERIOR_Q = 0.99  # the probability axis shows the posterior up to this quantile...
AXIS_PRIOR_Q = 0.95      # ...and the prior-only forecast up to this one (its long tail is flat)


def nice_ceiling(x: float) -> float:
    """The smallest NICE_STEPS value times a power of ten that is at least ``x`` (> 0)."""
    scale = 10.0 ** np.floor(np.log10(x))
    return float(next(round(s * scale, 12) for s in NICE_STEPS if s * scale >= x * (1 - 1e-9)))


def density_grid(posterior: np.ndarray, weights: np.ndarray | None, prior: np.ndarray, extra=(),
                 n: int = 400) -> np.ndarray:
    """A grid from 0 to a round number (``nice_ceiling``) at or above the posterior's 99th and the
    prior's 95th percentile and the marks ``extra``, capped at 100%: the axis of the figure."""
    top = max([float(weighted_quantile(posterior, AXIS_POSTERIOR_Q, weights)), float(np.quantile(prior, AXIS_PRIOR_Q))]
              + [float(e) for e in extra if e is not None])
    return np.linspace(0.0, min(1.0, nice_ceiling(max(top, 1e-3))), n)


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
        summary = summarise(post, w)
        grid = density_grid(post, w, pri, extra=(om, bm, summary.hi95))
        panels.append(ProbabilityPanel(
            key=key, label=probability_label(key, a.forecast_year), posterior=post,
            weights=w, summary=summary, prior=pri,
            prior_summary=summarise(pri), outside_mean=om, outside_label=ol, base_mean=bm, base_label=bl, grid=grid,
            posterior_density=bounded_density(post, w, grid, seed=a.seed),
            prior_density=bounded_density(pri, None, grid, seed=a.seed)))
    return ProbabilityResults(forecast_year=a.forecast_year, as_of=a.as_of, preset=a.preset, panels=panels)
