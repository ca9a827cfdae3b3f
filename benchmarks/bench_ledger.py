"""Benchmark: reading the ledger and finding the updates in force, at 10^3, 10^4 and 10^5 records,
side by side in one run (issue 13 item 5: linear in the ledger's length).

    python benchmarks/bench_ledger.py [--repeats 5] [--sizes 1000 10000 100000]

Each ledger is synthetic but of the shape 'forecast update' and 'forecast undo' write: indicator
readings with their recomputable ids, one update number per batch of two, and one undo for
every ten adds, undoing the OLDEST add in force first (the order that made the earlier
backwards scan quadratic). Timed in process, without the CLI's start-up:

* parse: ``ledger.parse`` (every line checked: JSON object, keys, types, the id recomputed
  from the event, known names, order);
* active: ``ledger.active`` + ``ledger.last_batch`` on the parsed records (what show, undo,
  update and brief do to find the records in force and the latest update).

Prints medians of the repeats and the time per record; a linear algorithm keeps the time per
record flat as the ledger grows (ratio ~1). This machine is shared and noisy: quote the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's forecast, not an installed one

from forecast.data.events import Event  # noqa: E402
from forecast.store import ledger as L  # noqa: E402

NAMES = ({"japan_cabinet_approval"}, {"summit_held"})
AFTER = {"improve_next_year": {"mean": 0.25, "lo80": 0.1, "hi80": 0.4}}
STAMP = "2026-01-02T03:04:05+00:00"


def synthetic(n: int) -> bytes:
    """``n`` records: adds in batches of two, and after every ten adds an undo of the oldest add in force."""
    out, live, update, adds = [], [], 0, 0
    while len(out) < n:
        if adds and adds % 10 == 0 and live and out[-1]["op"] == "add":
            update += 1
            out.append({"op": "undo", "id": live.pop(0), "update": update, "applied_utc": STAMP, "after": AFTER})
            continue
        if adds % 2 == 0:
            update += 1
        e = Event("indicator", "2026-05", "japan_cabinet_approval", "bench", f"reading {adds}", float(adds % 100))
        out.append({"op": "add", "id": e.id, "update": update, "event": dict(e.__dict__), "applied_utc": STAMP,
                    "path": "psis", "after": AFTER})
        live.append(e.id)
        adds += 1
    return b"".join((json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n").encode() for r in out)


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        data = synthetic(n)
        records = L.parse(data, names=NAMES)
        assert len(records) == n
        t_parse = median_time(lambda: L.parse(data, names=NAMES), args.repeats)
        t_active = median_time(lambda: (L.active(records), L.last_batch(data, records)), args.repeats)
        rows.append((n, len(data), len(L.active(records)), t_parse, t_active))
        print(f"{n:>7} records: parse {t_parse:8.4f} s, active {t_active:8.4f} s", flush=True)
    n0, _, _, p0, a0 = rows[0]
    print()
    print(f"Median of {args.repeats} repeats per size (python {sys.version.split()[0]}).")
    print()
    print("| records | bytes | in force | parse (s) | parse µs/record | ratio | active (s) | active µs/record | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, size, live, tp, ta in rows:
        print(f"| {n:,} | {size:,} | {live:,} | {tp:.4f} | {1e6 * tp / n:.2f} | {(tp / n) / (p0 / n0):.2f} | "
              f"{ta:.4f} | {1e6 * ta / n:.3f} | {(ta / n) / (a0 / n0):.2f} |")
    print()
    print(f"ratio: time per record relative to {n0:,} records (1.00 = linear).")


if __name__ == "__main__":
    main()
