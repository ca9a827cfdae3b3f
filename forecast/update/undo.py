"""``forecast undo``: revert the last update by restoring the forecast recorded
for the ledger state before it (exactly: the stored draws are copied, not recomputed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from forecast.errors import ForecastError
from forecast.store import ledger as L
from forecast.store.headline import headline
from forecast.store.lock import write_lock
from forecast.store.posterior import (forecast_for_head, head_path, read_forecast, remove_stale_temporaries,
                                      write_forecast_file)
from forecast.workspace import Workspace


def undo_last(ws: Workspace) -> dict:
    read_forecast(ws)  # no fit, or a ledger that does not check: a clear error before anything is written
    L.load(ws)
    with write_lock(ws):
        remove_stale_temporaries(ws)
        data, records = L.load(ws)
        batch = L.last_batch(data, records)
        if batch is None:
            raise ForecastError("nothing to undo: no update is in force (see 'forecast history')")
        prev_head = batch.head_before
        src = forecast_for_head(ws, prev_head)
        if src is None:
            raise ForecastError(f"the forecast for ledger head {prev_head} is no longer stored (a refit replaced "
                                f"it); run 'forecast fit' after undoing by hand is not possible — refit instead")
        seq = 1 + max((r.get("update", 0) for r in records), default=0)
        stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        after = headline(src)
        new = [{"op": "undo", "id": t["id"], "update": seq, "applied_utc": stamp, "after": after}
               for t in batch.records]
        new_head = L.head_of(data + L.encode(new))
        write_forecast_file(head_path(ws, new_head), src.draws, replace(src.record, ledger_head=new_head))
        L.append(ws, new, data)
        # the ledger is now at a new head (the undo records are part of it); its forecast is the one
        # recorded for the head before the undone update
        return {"undone": [f"{L.Event.from_dict(t['event']).label()} [{t['id']}]" for t in batch.records],
                "ledger_head": new_head, "forecast_of_head": prev_head, "after": after}
