"""Priors from the reference class: entries with ``reference = "<term>"`` take their parameters from
the settlement-prior summary (``data/reference/settlement_prior.json``, written by
``forecast reference fit``): the moment-matched mean and sd of the pooled posterior's term. The level
(a log-odds, summarised as mu and sigma) enters ``settlement_base_rate`` as a Beta with the mean and
variance of sigmoid(Normal(mu, sigma)) (Gauss-Hermite quadrature): a LogitNormal base rate made the main
model diverge (15-19 divergent transitions at target_accept 0.95, measured), the Beta none."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from forecast.data.settlement_prior import SettlementPrior, load_settlement_prior


def resolve_references(entries: dict, summary: SettlementPrior | None = None) -> tuple[dict, SettlementPrior]:
    """``entries`` (name -> PriorSpec) with every ``reference`` entry's ``mu`` and ``sigma`` filled in
    from ``summary`` (the shipped one by default), and the summary used."""
    summary = summary if summary is not None else load_settlement_prior()
    out = {}
    for name, spec in entries.items():
        if spec.reference:
            term = summary.terms[spec.reference]
            params = beta_of_logit_normal(term.mu, term.sigma) if spec.distribution == "Beta" else \
                {"mu": term.mu, "sigma": term.sigma}
            spec = replace(spec, params=params)
        out[name] = spec
    return out, summary


def beta_of_logit_normal(mu: float, sigma: float, nodes: int = 80) -> dict[str, float]:
    """Beta(alpha, beta) with the mean and variance of p = sigmoid(z), z ~ Normal(mu, sigma)."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    p = 1.0 / (1.0 + np.exp(-(mu + sigma * x)))
    m = float(w @ p)
    v = float(w @ (p - m) ** 2)
    k = m * (1.0 - m) / v - 1.0
    return {"alpha": round(m * k, 6), "beta": round((1.0 - m) * k, 6)}
