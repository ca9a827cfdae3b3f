"""Priors from the reference class: entries with ``reference = "<term>"`` take their parameters from
the settlement-prior summary (``data/reference/settlement_prior.json``, written by
``forecast reference fit``): the moment-matched mean and sd of the pooled posterior's term."""

from __future__ import annotations

from dataclasses import replace

from forecast.data.settlement_prior import SettlementPrior, load_settlement_prior


def resolve_references(entries: dict, summary: SettlementPrior | None = None) -> tuple[dict, SettlementPrior]:
    """``entries`` (name -> PriorSpec) with every ``reference`` entry's ``mu`` and ``sigma`` filled in
    from ``summary`` (the shipped one by default), and the summary used."""
    summary = summary if summary is not None else load_settlement_prior()
    out = {}
    for name, spec in entries.items():
        if spec.reference:
            term = summary.terms[spec.reference]
            spec = replace(spec, params={"mu": term.mu, "sigma": term.sigma})
        out[name] = spec
    return out, summary
