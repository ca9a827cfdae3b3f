"""``forecast undo``: revert the last update by restoring the forecast recorded for the ledger
state before it (exactly: the stored draws are copied, not recomputed). When that forecast is no
longer stored (a 'forecast fit' made after the update replaced the posterior it came from), it
is recomputed from the stored fit for the events still in force, as 'forecast update' computes
one: the fast path, or a refit when the reweighting is unreliable."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from forecast.errors import ForecastError
from forecast.store import ledger as L
from forecast.store.headline import headline
from forecast.store.lock import write_lock
from forecast.store.posterior import (current, forecast_for_head, head_path, read_forecast, remove_stale_temporaries,
                                      write_forecast_file)
from forecast.workspace import Workspace


def undo_last(ws: Workspace, progress: bool = False) -> dict:
    read_forecast(ws)  # no fit, or a ledger that does not check: a clear error before anything is written
    L.load(ws)
    with write_lock(ws):
        remove_stale_temporaries(ws)
        data, records = L.load(ws)
        batch = L.last_batch(data, records)
        if batch is None:
            raise ForecastError("nothing to undo: no update is in force (see 'forecast history')")
        prev_head = batch.head_before
        seq = 1 + max((r.get("update", 0) for r in records), default=0)
        stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        new = [{"op": "undo", "id": t["id"], "update": seq, "applied_utc": stamp} for t in batch.records]
        src = forecast_for_head(ws, prev_head)
        message = None
        if src is None:
            src, message, write = recompute(ws, records, new, progress)
        else:
            def write(head: str) -> None:
                write_forecast_file(head_path(ws, head), src.draws, replace(src.record, ledger_head=head))
        after = headline(src)
        for r in new:
            r["after"] = after
        new_head = L.head_of(data + L.encode(new))
        write(new_head)
        L.append(ws, new, data)
        # the ledger is now at a new head (the undo records are part of it); its forecast is the one
        # recorded for the head before the undone update (or recomputed for it)
        return {"undone": [f"{L.Event.from_dict(t['event']).label()} [{t['id']}]" for t in batch.records],
                "ledger_head": new_head, "forecast_of_head": prev_head, "after": after,
                "recomputed": message}


def recompute(ws: Workspace, records: list[dict], new: list[dict], progress: bool):
    """The forecast for the events in force once ``new`` (undo records) are appended, computed from the
    posterior behind the current forecast; (forecast, how it was computed, a writer for its head file)."""
    from forecast.data.loaders import load_dataset
    from forecast.update.apply import forecast_for_events, write_head

    before, _, warning = current(ws)
    if warning:
        raise ForecastError(warning)
    all_adds = {r["id"]: L.Event.from_dict(r["event"]) for r in records if r["op"] == "add"}
    events_now = L.active_events(records + new)
    res = forecast_for_events(ws, load_dataset(ws.data_dir), before, all_adds, events_now, progress=progress)

    def write(head: str) -> None:
        write_head(ws, head, res.comp, res.base.record, res.fit_file, res.path, events_now)

    message = ("its forecast was no longer stored (a fit made since replaced it), so it was recomputed from "
               f"the stored fit: {res.message}")
    return res.after, message, write
