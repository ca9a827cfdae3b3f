"""The README's backtest tables from a `forecast backtest --json` result (issue 10).

    forecast backtest --from 1996 --json --out benchmarks/results/backtest > benchmarks/results/backtest/backtest.json
    python benchmarks/backtest_table.py benchmarks/results/backtest/backtest.json
    python benchmarks/backtest_table.py benchmarks/results/backtest/backtest.json benchmarks/results/backtest_presets/*/backtest.json

With one result, prints Markdown: every method's Brier, log and RPS with its skill against climatology (80% and 95%
paired bootstrap intervals), the candidates and the rule's choice, the CORP decomposition of the
default and, when the result holds a recoding check, the skill under each perturbation. With several
(e.g. one run per prior preset), one row per run: its preset, the default form's scores, skills against
climatology (80% intervals) and CORP terms, and at how many origins that fit fails the parameter diagnostics.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

LABELS = {"model": "**model (default form)**", "climatology": "climatology", "persistence":
          "persistence (climatology with momentum)", "contemporaneous": "contemporaneous (former model)",
          "joint": "joint", "joint_lag": "joint_lag", "power_only": "power only", "trust_only": "trust only",
          "leaders_only": "leaders only", "stacked": "stacked (joint + climatology)",
          "recalibrated": "recalibrated (joint through a map from past origins)"}


def skill(sk: dict, key: str) -> str:
    s = sk[key]
    return f"{s['value']:+.3f} [{s['lo80']:+.2f}, {s['hi80']:+.2f}]"


def tables(res: dict) -> str:
    out = [f"Origins {res['years'][0]}-{res['years'][1]} ({len(res['rows'])} forecasts), preset "
           f"`{res['preset']}`, default form `{res['settings']['outcome_form']}`, "
           f"{res['settings']['chains']} chains x {res['settings']['draws']} draws per fit; "
           f"{res['elapsed_s'] / 60:.0f} min.", "",
           "| method | Brier | log | RPS | Brier skill [80%] | log skill [80%] | RPS skill [80%] |",
           "|---|---:|---:|---:|---|---|---|"]
    for name, s in res["scores"].items():
        sk = res["skill_vs_climatology"].get(name)
        cells = [skill(sk, k) for k in ("brier", "log", "rps")] if sk else ["(reference)"] * 3
        out.append(f"| {LABELS.get(name, name)} | {s['brier']:.3f} | {s['log']:.3f} | {s['rps']:.3f} | "
                   + " | ".join(cells) + " |")
    m = res["skill_vs_climatology"]["model"]
    out += ["", f"Intervals: {m['interval']}. 95% intervals of the default's skills: Brier "
            f"[{m['brier']['lo95']:+.2f}, {m['brier']['hi95']:+.2f}], log [{m['log']['lo95']:+.2f}, "
            f"{m['log']['hi95']:+.2f}], RPS [{m['rps']['lo95']:+.2f}, {m['rps']['hi95']:+.2f}]."]
    if res.get("choice"):
        c = res["choice"]
        out += ["", f"Rule ({c['rule']}): mean log scores " + ", ".join(
            f"`{k}` {v:.4f}" for k, v in c["mean_log_scores"].items()) + f"; chosen: **`{c['form']}`**."]
    if res.get("stacking"):
        w = list(res["stacking"]["weights"].items())
        out += ["", "Stack weight on `joint` at each origin (learned from the origins before it): " + ", ".join(
            f"{y} {v:.2f}" for y, v in w[:-1]) + f"; learned from all of them, for {w[-1][0]}: {w[-1][1]:.3f}."]
    if res.get("recalibration"):
        m = list(res["recalibration"]["maps"].items())
        out += ["", "Recalibration map (a, b) of `joint` at each origin (learned from the origins before it): "
                + ", ".join(f"{y} ({v[0]:+.2f}, {v[1]:.2f})" for y, v in m[:-1])
                + f"; learned from all of them, for {m[-1][0]}: ({m[-1][1][0]:+.3f}, {m[-1][1][1]:.3f})."]
    if res.get("reliability_by_method"):
        out += ["", "| method | CORP miscalibration (MCB) | discrimination (DSC) | MCB < DSC |", "|---|---:|---:|:---:|"]
        for name, r in res["reliability_by_method"].items():
            out.append(f"| {LABELS.get(name, name)} | {r['miscalibration']:.4f} | {r['discrimination']:.4f} | "
                       f"{'yes' if r['miscalibration'] < r['discrimination'] else 'no'} |")
    rel = res["reliability"]
    out += ["", f"CORP decomposition of the default's P(improve): miscalibration (MCB) {rel['miscalibration']:.4f}, "
            f"discrimination (DSC) {rel['discrimination']:.4f}, uncertainty (UNC) {rel['uncertainty']:.4f}."]
    failing = res["origins_failing_diagnostics"]
    out += ["", f"Origins failing the parameter diagnostics in at least one fit: {len(failing)} of {len(res['rows'])}"
            + (f" ({', '.join(map(str, failing))})" if failing else "") + "; origins whose scored P(improve) "
            f"fails R-hat/ESS: {len(res['origins_failing_scored_quantity_diagnostics'])}."]
    if res.get("recoding"):
        out += ["", "| perturbation | reason | Brier skill [80%] | log skill [80%] | RPS skill [80%] |",
                "|---|---|---|---|---|"]
        for r in res["recoding"]:
            what = "as coded" if r["year"] is None else f"{r['year']}: {r['coded']:+d} → {r['change']:+d}"
            sk = r["skill_vs_climatology"]["model"]
            out.append(f"| {what} | {'' if r['year'] is None else r['reason']} | "
                       + " | ".join(skill(sk, k) for k in ("brier", "log", "rps")) + " |")
    return "\n".join(out)


def runs_table(results: list[dict]) -> str:
    """One row per backtest run: the model (default form) of each, under the run's preset."""
    out = ["| preset | Brier | log | RPS | Brier skill [80%] | log skill [80%] | RPS skill [80%] | MCB | DSC "
           "| origins whose fit fails the diagnostics |", "|---|---:|---:|---:|---|---|---|---:|---:|---:|"]
    for res in results:
        s, sk, rel = res["scores"]["model"], res["skill_vs_climatology"]["model"], res["reliability"]
        out.append(f"| `{res['preset']}` | {s['brier']:.3f} | {s['log']:.3f} | {s['rps']:.3f} | "
                   + " | ".join(skill(sk, k) for k in ("brier", "log", "rps"))
                   + f" | {rel['miscalibration']:.3f} | {rel['discrimination']:.3f} | "
                   f"{sum(not r['diagnostics']['ok'] for r in res['rows'])} of {len(res['rows'])} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("result", type=Path, nargs="+", help="backtest JSON (forecast backtest --json); several: one row each")
    args = ap.parse_args(argv)
    results = [json.loads(p.read_text(encoding="utf-8")) for p in args.result]
    print(tables(results[0]) if len(results) == 1 else runs_table(results))


if __name__ == "__main__":
    main()
