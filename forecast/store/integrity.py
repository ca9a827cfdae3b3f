"""Checks on a stored posterior or head file, made when it is written and again when it is read.

Every file carries a SHA-256 checksum of its ``forecast`` group (each dataset's name, dtype, shape
and bytes, and the identity attributes); a posterior file also carries one per posterior variable, so
the update path and the briefing analyses check just the variables they read. A file whose checksum is missing or does not match, that lacks a
dataset, has a wrong shape or non-finite draws is refused with ``StoredFileError`` naming the file
and the fix. numpy only (the h5py reading is in ``store.posterior``), so ``forecast show`` stays light.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from forecast.errors import StoredFileError

CHECKSUM_ATTR = "checksum"                        # the forecast group: its datasets and its attributes
POSTERIOR_CHECKSUM_ATTR = "posterior_checksum"    # posterior files: {variable: checksum}, one per variable
CHECKSUM_ATTRS = (CHECKSUM_ATTR, POSTERIOR_CHECKSUM_ATTR)
COORDS = ("sample", "lens", "change", "side")     # coordinate datasets of the forecast group (not draws)
# the per-draw datasets every stored forecast holds, with the shape of one draw
DRAW_SHAPES = {"improve_next_year": (), "change_probs": (5,), "contribution_improve": (3,),
               "lens_state_next": (3,), "leaders_sides_next": (2,), "contribution_settle": (3,),
               "barrier_settle": (), "weight": (), "event_shift_next": (3,), "event_shift_recent": (3,)}
WEIGHT_SUM_TOLERANCE = 1e-6


def refuse(path: Path | str, problem: str) -> StoredFileError:
    """The error for a stored file that fails a check: the file, what is wrong, and the fix."""
    return StoredFileError(f"{path}: {problem}; the stored forecast cannot be used: run 'forecast fit' "
                           f"to store it afresh")


def arrays_checksum(arrays: dict[str, np.ndarray], attrs: dict | None = None) -> str:
    """SHA-256 over each array's name, dtype, shape and bytes (in name order), then the attributes."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        h.update(json.dumps(a.tolist()).encode() if a.dtype == object else a.tobytes())
    if attrs is not None:
        h.update(json.dumps(attrs, sort_keys=True, default=str).encode())
    return h.hexdigest()


def forecast_checksum(attrs: dict, draws: dict[str, np.ndarray]) -> str:
    """The checksum of a forecast group: its draws and its attributes except the checksum itself."""
    return arrays_checksum(draws, {k: v for k, v in attrs.items() if k != CHECKSUM_ATTR})


def variable_checksums(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """One checksum per variable (name, dtype, shape and bytes)."""
    return {name: arrays_checksum({name: a}) for name, a in arrays.items()}


def check_variables(path: Path | str, stored: object, arrays: dict[str, np.ndarray]) -> None:
    """The posterior variables read match the checksums stored for them, and are finite."""
    if not isinstance(stored, dict):
        check_checksum(path, None, "", "its posterior variables")
    for name, a in arrays.items():
        check_checksum(path, stored.get(name), arrays_checksum({name: a}), f"posterior variable '{name}'")
    check_finite(path, arrays)


def check_checksum(path: Path | str, stored: object, computed: str, what: str = "its forecast") -> None:
    if stored is None:
        raise refuse(path, f"{what} carries no checksum (written by an older version of forecast)")
    if stored != computed:
        raise refuse(path, f"the checksum of {what} does not match its contents (the file was changed "
                           f"after it was written)")


def check_finite(path: Path | str, arrays: dict[str, np.ndarray]) -> None:
    for name, a in arrays.items():
        if not np.issubdtype(a.dtype, np.number):
            raise refuse(path, f"dataset '{name}' is not numeric ({a.dtype})")
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        if bad:
            raise refuse(path, f"dataset '{name}' holds {bad} non-finite value(s) (NaN or infinity)")


def check_draws(path: Path | str, draws: dict[str, np.ndarray], n_draws: int, horizons) -> None:
    """Every dataset present, ``n_draws`` draws of the right shape each, finite, weights a distribution."""
    shapes = {**DRAW_SHAPES, **{f"settle_within_{h}y": () for h in horizons}}
    missing = [k for k in shapes if k not in draws]
    if missing:
        raise refuse(path, f"the dataset(s) {', '.join(missing)} are missing")
    for name, a in draws.items():
        want = (n_draws, *shapes.get(name, a.shape[1:]))
        if a.shape != want:
            raise refuse(path, f"dataset '{name}' has shape {a.shape}, expected {want}")
    check_finite(path, draws)
    w = draws["weight"]
    if np.any(w < 0) or abs(float(w.sum()) - 1.0) > WEIGHT_SUM_TOLERANCE:
        raise refuse(path, f"dataset 'weight' is not a set of importance weights (sum {float(w.sum()):.6g})")
