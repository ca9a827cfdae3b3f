"""``forecast undo``: revert the last update by restoring the forecast recorded
for the ledger state before it (exactly: the stored draws are copied, not recomputed)."""

from __future__ import annotations

import datetime as _dt

from forecast.store import ledger as L
from forecast.errors import ForecastError
from forecast.store.posterior import forecast_for_head, head_path, read_forecast, write_forecast_file
from forecast.workspace import Workspace


def undo_last(ws: Workspace) -> dict:
    from filelock import FileLock

    from forecast.update.apply import remove_stale_temporaries

    read_forecast(ws)  # no fit: a clear error before anything is written
    with FileLock(str(ws.state_dir / ".lock")):
        remove_stale_temporaries(ws)
        data = L.read_bytes(ws)
        records = L.parse(data)
        act = L.active(records)
        if not act:
            raise ForecastError("nothing to undo: no update is in force (see 'forecast history')")
        last = act[-1].get("update")
        targets = [r for r in act if r.get("update") == last] if last is not None else [act[-1]]
        lines = [ln for ln in data.splitlines(keepends=True) if ln.strip()]
        first = next(i for i, r in enumerate(records) if r is targets[0])
        prev_head = L.head_of(b"".join(lines[:first]))
        src = forecast_for_head(ws, prev_head)
        if src is None:
            raise ForecastError(f"the forecast for ledger head {prev_head} is no longer stored (a refit replaced "
                                f"it); run 'forecast fit' after undoing by hand is not possible — refit instead")
        from forecast.update.apply import headline

        seq = 1 + max((r.get("update", 0) for r in records), default=0)
        stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        after = headline(src)
        new = [{"op": "undo", "id": t["id"], "update": seq, "applied_utc": stamp, "after": after} for t in targets]
        new_head = L.head_of(data + L.encode(new))
        write_forecast_file(head_path(ws, new_head), src.draws, {**src.attrs, "ledger_head": new_head})
        L.append(ws, new, data)
        return {"undone": [f"{L.Event.from_dict(t['event']).label()} [{t['id']}]" for t in targets],
                "restored_head": prev_head, "ledger_head": new_head, "after": after}
