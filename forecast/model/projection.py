"""Forward projection of the lens states and the headline probabilities (numpy only).

For every posterior draw the latent factors are projected beyond the last data
year with their AR(1) dynamics; the probability of improvement next year and of
settlement within H years are averaged over ``paths`` simulated futures per
draw, so each draw yields a probability and the spread across draws is the
posterior uncertainty of that probability.

Evidence about the forecast year itself enters here, exactly:
* a reading of an indicator in the forecast year weights each simulated path by
  its likelihood (importance sampling within a draw); the draw's marginal
  likelihood (mean over paths) is returned as a log-weight across draws;
* a coded event in the forecast year shifts its lens by the draw's event effect;
* a reading of a barrier indicator in the forecast year sets the legal barrier in the
  settlement hazard from that year on (in place of the as-of year's, carried forward).

How the forecast year's coded events enter depends on the fit's outcome form
(``defaults.OUTCOME_FORMS``, benchmarks/improve_candidates.md):
* ``contemporaneous``: only the events already coded for the forecast year (none at the
  origin): the shift is zero unless ``update --event`` gave one (a nowcast form);
* ``joint`` and ``joint_lag``: every path draws the forecast year's count of each event kind from
  its Poisson model given the path's projected lens state (``kernels.event_log_rate``); a kind
  coded in the forecast year takes its coded count instead of the draw (it replaces it, it is not
  added on top). ``joint_lag`` adds kappa times the last fitted year's event shift.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from forecast import LENSES
from forecast.defaults import HORIZONS, PROJECTION_PATHS, RECENT_SHIFT_YEARS
from forecast.model.kernels import (ar1_step, capacity, event_log_rate, hazard_logit, improve_logodds, lens_from_factors,
                                    lens_shift, logit, measurement_logpdf, ordered_logistic_probs,
                                    ordered_logistic_sf, outcome_switches, poisson_draw, sigmoid)

INTERVAL_TYPE = "equal-tailed posterior interval"
SHIFT_BLOCK = 256  # draws per block in forecast_year_shift (a speed setting only: results do not depend on it)


@dataclass
class Draws:
    """Flattened posterior draws needed for the projection (S draws)."""

    rho: np.ndarray        # (S, F)
    eta_last: np.ndarray   # (S, F)
    beta: np.ndarray       # (S, 3)
    cutpoints: np.ndarray  # (S, 4)
    base_rate: np.ndarray  # (S,)
    gamma: np.ndarray      # (S, 3) power, trust, capacity
    delta: np.ndarray      # (S,)
    event_effect: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (S, E)
    # the outcome form and, for joint/joint_lag, the event model (see the module doc)
    outcome_form: str = "contemporaneous"
    event_lens: np.ndarray = field(default_factory=lambda: np.zeros(0, int))   # (E,) index into LENSES
    event_sign: np.ndarray = field(default_factory=lambda: np.zeros(0))        # (E,) +1 / -1
    event_rate_intercept: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (S, E)
    event_rate_slope: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))      # (S, 3)
    event_lag_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))           # (S,)
    shift_last: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))            # (S, 3) shift of the last year

    @classmethod
    def of_fit(cls, post, spec, last: int = -1) -> "Draws":
        """``from_posterior`` with the outcome form and event catalogue of ``spec`` (a ``FitSpec`` or
        a ``ModelSpec``)."""
        return cls.from_posterior(post, spec.outcome_form, spec.event_lens, spec.event_sign, last=last)

    @classmethod
    def from_posterior(cls, post, outcome_form: str = "contemporaneous", event_lens=None, event_sign=None,
                       last: int = -1) -> "Draws":
        """``post``: a mapping of name -> array shaped (chain, draw, ...); ``last``: the index of the
        origin's year in the year axis (a padded fit's as-of index). The event model is read for the
        forms that simulate the forecast year's events (then ``event_lens`` and ``event_sign`` are needed)."""
        def flat(name):
            a = np.asarray(post[name])
            return a.reshape(a.shape[0] * a.shape[1], *a.shape[2:])

        simulate, lag = outcome_switches(outcome_form)
        extra = {}
        if simulate:
            extra = dict(outcome_form=outcome_form, event_lens=np.asarray(event_lens, int),
                         event_sign=np.asarray(event_sign, float), event_rate_intercept=flat("event_rate_intercept"),
                         event_rate_slope=flat("event_rate_slope"), event_lag_weight=flat("event_lag_weight"),
                         shift_last=flat("event_shift")[:, :, last])
        return cls(**extra,
            rho=flat("state_persistence"),
            eta_last=flat("factor_state")[:, :, last],
            beta=np.stack([flat(f"beta_{lens}") for lens in LENSES], axis=1),
            cutpoints=flat("cutpoints"),
            base_rate=flat("settlement_base_rate"),
            gamma=np.stack([flat("gamma_power"), flat("gamma_trust"), flat("gamma_capacity")], axis=1),
            delta=flat("delta_barrier"),
            event_effect=flat("event_effect"),
        )


@dataclass
class NextYearEvidence:
    """Evidence dated in the forecast year: indicator readings and coded events."""

    # each reading: (factor index, intercept draws (S,), loading draws (S,), sd draws (S,), standardised value)
    readings: list = field(default_factory=list)
    # lens shift per draw from coded events in the forecast year, (S, 3)
    shift: np.ndarray | None = None
    # the same events as counts per kind, (E,): forms that simulate the year's events replace the
    # simulated count of a kind with ``known`` True by its coded count
    counts: np.ndarray | None = None
    known: np.ndarray | None = None
    # the legal barrier in force from the forecast year on, when a reading dated in it set it (0..1);
    # None: the as-of year's barrier carries forward
    barrier: float | None = None


def _wmean(x, w, axis=1):
    """Weighted mean over ``axis`` with weights (S, P) normalised per draw."""
    if w is None:
        return x.mean(axis)
    return (x * w.reshape(w.shape + (1,) * (x.ndim - w.ndim))).sum(axis)


def project(d: Draws, barrier_last: float, horizons=HORIZONS, paths: int = PROJECTION_PATHS, seed: int = 0,
            evidence: NextYearEvidence | None = None) -> dict:
    """Per-draw probabilities and lens contributions. Returns arrays of shape (S,) or (S, k),
    plus ``draw_logweight`` (S,): the log marginal likelihood of forecast-year readings."""
    rng = np.random.default_rng(seed)
    if evidence is not None and evidence.barrier is not None:
        barrier_last = evidence.barrier
    S, F = d.rho.shape
    H = max(horizons)
    eta = np.repeat(d.eta_last[:, None, :], paths, axis=1)  # (S, P, F)
    logit_base = logit(d.base_rate)
    survive = np.ones((S, paths))
    shift = np.zeros((S, 3)) if evidence is None or evidence.shift is None else evidence.shift
    w = None
    out: dict[str, np.ndarray] = {"draw_logweight": np.zeros(S)}
    for h in range(1, H + 1):
        eta = ar1_step(eta, d.rho[:, None, :], rng.standard_normal((S, paths, F)))
        lens = lens_from_factors(eta)  # (S, P, 3)
        if h == 1:
            if evidence is not None and evidence.readings:
                logw = np.zeros((S, paths))
                for f, a, lam, sd, x in evidence.readings:
                    logw += measurement_logpdf(x, a[:, None], lam[:, None], eta[..., f], sd[:, None])
                m = logw.max(1, keepdims=True)
                ew = np.exp(logw - m)
                out["draw_logweight"] = np.log(ew.mean(1)) + m[:, 0]
                w = ew / ew.sum(1, keepdims=True)
            path_shift = forecast_year_shift(d, lens, shift, evidence, rng)  # (S, P, 3)
            lp = improve_logodds(d.beta[:, None, :], lens, path_shift)
            out["improve_next_year"] = _wmean(ordered_logistic_sf(lp, d.cutpoints[:, None, 2]), w)
            out["change_probs"] = _wmean(ordered_logistic_probs(lp, d.cutpoints[:, None, :]), w)  # (S, 5)
            mean_lens = _wmean(lens, w)  # E[lens state next year | draw, evidence]
            mean_shift = _wmean(path_shift, w)  # E[event shift of the forecast year | draw, evidence]
            out["event_shift_next"] = mean_shift
            out["contribution_improve"] = d.beta * (mean_lens + mean_shift)
            out["lens_state_next"] = mean_lens
            out["leaders_sides_next"] = _wmean(eta[..., 2:4], w)  # side a, side b
            cap_next = _wmean(capacity(eta), w)
            out["contribution_settle"] = np.stack(
                [d.gamma[:, 0] * mean_lens[:, 0], d.gamma[:, 1] * mean_lens[:, 1], d.gamma[:, 2] * cap_next], axis=1)
            out["barrier_settle"] = -d.delta * barrier_last
        hz = sigmoid(hazard_logit(logit_base[:, None], d.gamma[:, None, 0], d.gamma[:, None, 1], d.gamma[:, None, 2],
                                  d.delta[:, None], lens[..., 0], lens[..., 1], capacity(eta), barrier_last))
        survive = survive * (1 - hz)
        if h in horizons:
            out[f"settle_within_{h}y"] = _wmean(1 - survive, w)
    return out


def recent_event_shift(event_shift: np.ndarray, years: int = RECENT_SHIFT_YEARS) -> np.ndarray:
    """(S, 3) per-draw mean yearly event shift of the last ``years`` fitted years, from the posterior
    ``event_shift`` (chain, draw, 3, T): what the forecast year's simulated shift is compared with."""
    a = np.asarray(event_shift, float)
    return a.reshape(-1, *a.shape[2:])[..., -years:].mean(axis=-1)


def forecast_year_shift(d: Draws, lens: np.ndarray, shift: np.ndarray, evidence: NextYearEvidence | None,
                        rng) -> np.ndarray:
    """(S, P, 3) lens shift of the forecast year's events on each path (see the module doc): the coded
    shift (``shift``, (S, 3)) in the contemporaneous form; otherwise the counts drawn from the event model
    given the path's lens states ``lens`` (S, P, 3), coded kinds replaced by their counts, plus kappa
    times the last year's shift in joint_lag."""
    S, P = lens.shape[:2]
    simulate, lag = outcome_switches(d.outcome_form)
    if not simulate:
        return np.broadcast_to(shift[:, None, :], (S, P, shift.shape[1]))
    known = evidence is not None and evidence.known is not None
    out = np.empty((S, P, len(LENSES)))
    # in blocks of draws, so that the (draws, paths, kinds) arrays stay small; the counts are drawn in the
    # same order as in one block (numpy fills C order), so the result does not depend on the block size
    for lo in range(0, S, SHIFT_BLOCK):
        b = slice(lo, lo + SHIFT_BLOCK)
        log_rate = event_log_rate(d.event_rate_intercept[b, None, :], d.event_rate_slope[b][:, None, d.event_lens],
                                  d.event_sign, lens[b][..., d.event_lens])  # (block, P, E)
        counts = poisson_draw(log_rate, rng)
        if known:
            counts[..., evidence.known] = evidence.counts[evidence.known]
        out[b] = lens_shift(d.event_effect[b, None, :], d.event_lens, counts)
    if lag:
        out = out + (d.event_lag_weight[:, None] * d.shift_last)[:, None, :]
    return out


def weighted_quantile(x: np.ndarray, q, weights: np.ndarray | None = None) -> np.ndarray:
    if weights is None:
        return np.quantile(x, q)
    order = np.argsort(x)
    cw = np.cumsum(weights[order])
    cw = (cw - 0.5 * weights[order]) / cw[-1]
    return np.interp(q, cw, x[order])


@dataclass(frozen=True)
class IntervalSummary:
    """A probability's mean and equal-tailed 80% and 95% intervals (``summarise``); ``to_dict`` is its
    form in every JSON output (``show --json``, ``check --json``, ...): these keys, in this order."""

    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float

    def to_dict(self) -> dict:
        return {"mean": self.mean, "lo80": self.lo80, "hi80": self.hi80, "lo95": self.lo95, "hi95": self.hi95}

    def headline(self) -> dict:
        """Mean and 80% interval: what the ledger records after an update and ``update`` compares."""
        return {"mean": self.mean, "lo80": self.lo80, "hi80": self.hi80}


def summarise(x: np.ndarray, weights: np.ndarray | None = None) -> IntervalSummary:
    """Mean and equal-tailed 80% and 95% intervals of per-draw probabilities
    (optionally under normalised importance weights)."""
    q = weighted_quantile(x, [0.025, 0.10, 0.90, 0.975], weights)
    mean = float(np.mean(x)) if weights is None else float(np.sum(weights * x))
    return IntervalSummary(mean=mean, lo80=float(q[1]), hi80=float(q[2]), lo95=float(q[0]), hi95=float(q[3]))
