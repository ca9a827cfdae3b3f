"""Generated data for a synthetic dyad, Alphaland-Betastan: every lens, a few indicators per
latent factor, outcomes with a plausible change series, two event kinds and a few events,
every row with a source. Used by test_dyad.py."""

from __future__ import annotations

import csv
import io

import numpy as np

DYAD = "Alphaland-Betastan"
SIDES = ("alphaland", "betastan")
FIRST, LAST = 2004, 2023
SRC = "Generated for the Alphaland-Betastan test"

# indicator -> (lens, side, unit, transform, min, max, level, loading, noise, factor)
INDICATORS = {
    "gdp_ratio_alp_bet": ("power", "", "ratio", "log", 0, 1000, 1.2, 0.25, 0.05, "power"),
    "milex_ratio_alp_bet": ("power", "", "ratio", "log", 0, 1000, 0.9, 0.30, 0.08, "power"),
    "capability_ratio_alp_bet": ("power", "", "ratio", "log", 0, 1000, 1.0, 0.20, 0.05, "power"),
    "trade_alp_bet_usd_bn": ("trust", "", "USD bn", "log", 0, 10000, 40.0, 0.30, 0.10, "trust"),
    "visitors_alp_bet_thousand": ("trust", "", "thousand", "log", 0, 100000, 300.0, 0.40, 0.15, "trust"),
    "summits_alp_bet": ("trust", "", "count", "none", 0, 20, 1.5, 0.8, 0.4, "trust"),
    "alphaland_leader_approval": ("leaders", "alphaland", "percent", "logit_pct", 0, 100, 55.0, 8.0, 3.0, "a"),
    "alphaland_ruling_seats": ("leaders", "alphaland", "percent", "logit_pct", 0, 100, 52.0, 5.0, 2.0, "a"),
    "betastan_cabinet_approval": ("leaders", "betastan", "percent", "logit_pct", 0, 100, 40.0, 9.0, 3.0, "b"),
    "betastan_pm_tenure": ("leaders", "betastan", "years", "none", 0, 40, 3.0, 1.5, 0.5, "b"),
}
EVENT_KINDS = [
    ("summit_held", "trust", 0.5, 0.3, "A bilateral meeting of the two leaders; raises trust"),
    ("border_incident", "trust", -0.6, 0.3, "An armed incident on the border; lowers trust"),
]
EVENTS = [
    ("2005-05-10", "summit_held", "Alphaland foreign ministry, 2005-05-10", "First summit"),
    ("2008-09", "border_incident", "Betastan Times, 2008-09-14", "Patrols exchange fire"),
    ("2011", "summit_held", "Betastan cabinet office, 2011", "Summit in the Betastan capital"),
    ("2014-03-02", "border_incident", "Alphaland Herald, 2014-03-03", "Border post shelled"),
    ("2017-06-20", "summit_held", "Alphaland foreign ministry, 2017-06-20", "Summit signs a trade pact"),
    ("2021-11", "summit_held", "Betastan cabinet office, 2021-11", "Summit by video link"),
]


def display_name(indicator: str) -> str:
    """A short name for people: 'visitors_alp_bet_thousand' -> 'Visitors alp bet thousand'."""
    return indicator.replace("_", " ").capitalize()


def _csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _ar1(rng, n, rho=0.7):
    x = np.empty(n)
    x[0] = rng.standard_normal()
    for t in range(1, n):
        x[t] = rho * x[t - 1] + np.sqrt(1 - rho ** 2) * rng.standard_normal()
    return x


def generate(seed: int = 11) -> dict[str, str]:
    """File name -> text of the five data files."""
    rng = np.random.default_rng(seed)
    years = np.arange(FIRST, LAST + 1)
    n = len(years)
    states = {"power": np.linspace(-1.2, 1.2, n) + 0.3 * rng.standard_normal(n),
              "trust": _ar1(rng, n), "a": _ar1(rng, n), "b": _ar1(rng, n)}
    meta = [["indicator", "lens", "side", "role", "unit", "transform", "direction", "min", "max", "higher_means",
             "description", "citation", "display_name"]]
    values = [["year", "indicator", "value", "source", "approximate"]]
    for name, (lens, side, unit, tr, lo, hi, level, load, noise, f) in INDICATORS.items():
        meta.append([name, lens, side, "state", unit, tr, "1", str(lo), str(hi), f"more {name}",
                     f"Generated series {name}.", SRC, display_name(name)])
        x = states[f] + noise / max(load, 1e-9) * rng.standard_normal(n)
        if tr == "log":
            v = level * np.exp(load * x)
        elif tr == "logit_pct":
            v = np.clip(level + load * x, 2, 98)
        else:
            v = np.clip(level + load * x, 0, hi)
        for i, (y, val) in enumerate(zip(years, v)):
            if name == "betastan_pm_tenure" and i % 7 == 3:
                continue  # a few missing years
            values.append([str(y), name, f"{val:.6g}", SRC, "0"])
    drive = 0.9 * np.diff(states["trust"], prepend=states["trust"][0]) + 0.4 * states["a"]
    change = np.clip(np.round(drive + 0.5 * rng.standard_normal(n)), -2, 2).astype(int)
    outcomes = [["year", "change", "settlement", "justification", "source"]]
    outcomes += [[str(y), str(c), "0", f"Generated coding of {y}", SRC] for y, c in zip(years, change)]
    kinds = [["kind", "lens", "weight", "weight_sd", "description"]]
    kinds += [[k, lens, str(w), str(sd), d] for k, lens, w, sd, d in EVENT_KINDS]
    events = [["date", "kind", "source", "note"]] + [list(e) for e in EVENTS]
    return {"indicators_meta.csv": _csv(meta), "indicators.csv": _csv(values), "outcomes.csv": _csv(outcomes),
            "event_kinds.csv": _csv(kinds), "events.csv": _csv(events)}


CLAIM_TOML = """
[claim]
name = "Gamma Islands"

[lenses.power]
title = "Power shift (Alphaland vs Betastan)"
plain = "The balance of capabilities between Alphaland and Betastan"
"""
