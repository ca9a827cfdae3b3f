"""Markdown tables for the README from a `forecast reference backtest --json` (or --out) result.

    forecast reference backtest --out benchmarks/results/reference
    python benchmarks/reference_table.py benchmarks/results/reference/reference_backtest.json

Prints every forecast's pooled scores (with their 90% claim-bootstrap intervals), the skills of the
pooled model against each baseline, the per-origin counts, and the targets of issue 11, met or missed.

Given several results, it prints one row per run instead: the information protocol, the number of
origins, the pooled model's value of each of issue 11's four pooled targets and how many it meets (the
README's "Where issue 11's scores stand" table):

    python benchmarks/reference_table.py benchmarks/results/reference*/reference_backtest.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def iv(e: dict, fmt: str) -> str:
    if e is None or e.get("value") is None:
        return "n/a"
    lo, hi = e.get("lo"), e.get("hi")
    band = f" [{format(lo, fmt)}, {format(hi, fmt)}]" if lo is not None and hi is not None else ""
    return f"{format(e['value'], fmt)}{band}"


def tables(d: dict) -> str:
    out = ["| origin | test years | test claim-years | settlements | mean P(settle), pooled | observed rate |",
           "|---|---|---|---|---|---|"]
    for o in d["origins"]:
        s = o["scores"]["pooled"]
        out.append(f"| {o['origin']} | {o['origin']}-{o['end']} | {o['n_test']:,} | {o['events_test']} | "
                   f"{s['mean_p']['value']:.4f} | {s['observed_rate']['value']:.4f} |")
    out += ["", "| forecast | log score | Brier | AUC | calibration intercept | calibration slope | mean P / observed |",
            "|---|---|---|---|---|---|---|"]
    for name, s in d["scores"].items():
        out.append(f"| {name} | {iv(s['log'], '.4f')} | {iv(s['brier'], '.5f')} | {iv(s['auc'], '.3f')} | "
                   f"{iv(s['cal_intercept'], '.2f')} | {iv(s['cal_slope'], '.2f')} | {iv(s['rate_ratio'], '.2f')} |")
    out += ["", "| pooled model vs | log-score skill | Brier skill |", "|---|---|---|"]
    for ref, sk in d["skill"]["by_baseline"].items():
        out.append(f"| {ref}{' (best baseline)' if ref == d['best_baseline'] else ''} | {iv(sk['log'], '+.3f')} | "
                   f"{iv(sk['brier'], '+.3f')} |")
    out += ["", "| target (pooled over origins) | value [90%] | rule | met |", "|---|---|---|---|"]
    for name, t in d["targets"].items():
        out.append(f"| {name} | {iv(t, '+.3f')} | {t['target']} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(out)


def runs_table(named: list[tuple[str, dict]]) -> str:
    """One row per run: protocol, origins, the four pooled targets' values and how many are met."""
    names = ("log_skill", "brier_skill", "auc", "mean_rate")
    out = ["| run | information | origins | log skill | Brier skill | AUC | mean rate | targets met |",
           "|---|---|---|---|---|---|---|---|"]
    for name, d in named:
        t = d["targets"]
        fmt = {"log_skill": "+.3f", "brier_skill": "+.3f", "auc": ".3f", "mean_rate": ".2f"}
        met = sum(bool(t[k]["met"]) for k in names)
        out.append(f"| {name} | {d['settings'].get('information', 'origin')} | {len(d['settings']['origins'])} | "
                   + " | ".join(format(t[k]["value"], fmt[k]) for k in names) + f" | {met} of {len(names)} |")
    return "\n".join(out)


if __name__ == "__main__":
    paths = sys.argv[1:]
    docs = [(Path(p).parent.name, json.load(open(p, encoding="utf-8"))) for p in paths]
    print(tables(docs[0][1]) if len(docs) == 1 else runs_table(docs))
