"""Posterior files that carry their identity (ArviZ netCDF, written atomically).

The file holds the ArviZ groups (posterior, sample_stats, observed data) plus a
``forecast`` group with per-draw headline probabilities. Identity attributes
(content hash, seed, preset, as-of year, library versions, diagnostics) are
written on the ``forecast`` and ``posterior`` groups. ``read_forecast`` uses
h5py only, so ``forecast show`` never imports PyMC or ArviZ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from forecast.errors import ForecastError, IdentityMismatchError, NoFitError
from forecast.store import ledger as L
from forecast.store.record import FitRecord
from forecast.workspace import TEMP_PREFIX, Workspace, atomic_write, content_hash

NOISE_FLOOR_ATTR = "noise_floor"  # the attribute name of FitRecord.noise_floor
HEADS_DIR = "heads"
POSTERIOR_VARS = ("state_persistence", "factor_state", "beta_power", "beta_trust", "beta_leaders", "cutpoints",
                  "settlement_base_rate", "gamma_power", "gamma_trust", "gamma_capacity", "delta_barrier",
                  "event_effect", "loading", "indicator_intercept", "indicator_noise", "improve_logodds")
LIBRARIES = ("forecast-bilateral", "pymc", "pytensor", "arviz", "nutpie", "numpy", "pandas", "preliz")


def library_versions() -> dict[str, str]:
    out = {}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "not installed"
    return out


def _encode_attrs(record: FitRecord) -> dict:
    """netCDF/HDF5 attribute values: records, lists and booleans as JSON text."""
    return {k: (json.dumps(v) if isinstance(v, (dict, list, tuple, bool)) or v is None else v)
            for k, v in record.to_attrs().items()}


def save_fit(ws: Workspace, idata, forecast: dict[str, np.ndarray], record: FitRecord,
             path: Path | None = None) -> Path:
    """Attach the forecast group and the fit's record, then write atomically."""
    import xarray as xr

    path = path or ws.posterior_path
    n = len(next(iter(forecast.values())))
    data_vars = {}
    for name, arr in forecast.items():
        arr = np.asarray(arr)
        if arr.ndim == 1:
            data_vars[name] = (("sample",), arr)
        elif name == "change_probs":
            data_vars[name] = (("sample", "change"), arr)
        elif name == "leaders_sides_next":
            data_vars[name] = (("sample", "side"), arr)
        else:
            data_vars[name] = (("sample", "lens"), arr)
    coords = {"sample": np.arange(n), "lens": ["power", "trust", "leaders"], "change": [-2, -1, 0, 1, 2],
              "side": ["side_a", "side_b"]}
    attrs = _encode_attrs(record)
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    if "forecast" in idata.groups():
        del idata.forecast
    idata.add_groups({"forecast": ds})
    idata.posterior.attrs.update(attrs)
    atomic_write(path, lambda tmp: idata.to_netcdf(str(tmp), engine="h5netcdf"))
    return path


def write_forecast_file(path: Path, draws: dict[str, np.ndarray], record: FitRecord) -> None:
    """A small HDF5 file with just a ``forecast`` group (per-ledger-head results)."""
    import h5py

    attrs = _encode_attrs(record)

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            g = f.create_group("forecast")
            for k, v in draws.items():
                g.create_dataset(k, data=np.asarray(v))
            for k, v in attrs.items():
                g.attrs[k] = v

    atomic_write(path, write)


def read_posterior_arrays(path: Path) -> dict[str, np.ndarray]:
    """The posterior variables the update path needs, shaped (chain, draw, ...), via h5py."""
    import h5py

    with h5py.File(path, "r") as f:
        g = f["posterior"]
        return {v: np.asarray(g[v]) for v in POSTERIOR_VARS}


@dataclass
class StoredForecast:
    record: FitRecord
    draws: dict[str, np.ndarray]

    @property
    def attrs(self) -> dict:
        """The stored attributes as a plain dict, as on disk (read ``record`` in code)."""
        return self.record.to_attrs()

    @property
    def diagnostics(self) -> dict:
        return self.record.diagnostics


def _decode(v):
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, np.ndarray):
        v = v.item() if v.size == 1 else v.tolist()
    if isinstance(v, str) and (v[:1] in "{[" or v in ("true", "false", "null")):
        try:
            return json.loads(v)
        except (json.JSONDecodeError, TypeError):
            return v
    return v


def read_forecast_file(path: Path, ws: Workspace) -> StoredForecast:
    """Read a ``forecast`` group and its identity without importing PyMC/ArviZ/xarray."""
    import h5py

    if not path.is_file():
        raise NoFitError(f"no fit in {ws.root}: {path.relative_to(ws.root)} does not exist "
                         f"(run 'forecast fit --workspace {ws.root}')")
    try:
        with h5py.File(path, "r") as f:
            if "forecast" not in f:
                raise ForecastError(f"{path} has no forecast group; it was not written by 'forecast fit' "
                                    f"(re-run 'forecast fit')")
            g = f["forecast"]
            attrs = {k: _decode(v) for k, v in g.attrs.items() if not k.startswith("_")}
            draws = {k: np.asarray(g[k]) for k in g.keys() if k not in ("sample", "lens", "change", "side")}
    except OSError as exc:
        raise ForecastError(f"{path} cannot be read as netCDF/HDF5 ({exc}); re-run 'forecast fit'") from exc
    return StoredForecast(record=FitRecord.from_attrs(attrs, str(path)), draws=draws)


def head_path(ws: Workspace, head: str) -> Path:
    """The forecast file recorded for a ledger head (written by update and undo)."""
    return ws.state_dir / HEADS_DIR / f"{head}.h5"


def fit_path(ws: Workspace, stored: StoredForecast) -> Path:
    """The posterior file behind a stored forecast (the base fit, or a refit for a ledger head)."""
    return ws.state_dir / (stored.record.fit_file or ws.posterior_path.name)


def remove_stale_temporaries(ws: Workspace) -> None:
    """Temporary files left by a killed write (atomic_write's TEMP_PREFIX names); call under the lock.
    Only names this tool gives its own temporaries are removed, never a user's file."""
    pattern = f"{TEMP_PREFIX}*.tmp"
    for p in [*ws.root.glob(pattern), *ws.state_dir.rglob(pattern)]:
        p.unlink(missing_ok=True)


def read_forecast(ws: Workspace) -> StoredForecast:
    """The base fit's forecast (state/posterior.nc)."""
    return read_forecast_file(ws.posterior_path, ws)


def forecast_for_head(ws: Workspace, head: str, base: StoredForecast | None = None) -> StoredForecast | None:
    """The forecast recorded for a ledger head: the fit's own if it was made at that head, else the
    head's file written by update/undo; None if neither is stored (a refit replaced it)."""
    base = base or read_forecast(ws)
    if base.record.ledger_head == head:
        return base
    p = head_path(ws, head)
    return read_forecast_file(p, ws) if p.is_file() else None


def forecast_after(ws: Workspace, n_records: int, data: bytes | None = None) -> StoredForecast:
    """The forecast as it stood after the ledger's first ``n_records`` records."""
    data = L.read_bytes(ws) if data is None else data
    head = L.head_at(data, n_records)
    found = forecast_for_head(ws, head)
    if found is not None:
        return found
    raise ForecastError(f"the forecast for ledger head {head} (after {n_records} record(s)) is no longer stored "
                        f"(a refit replaced it); choose a later date")


def current(ws: Workspace) -> tuple[StoredForecast, str, str | None]:
    """(forecast for the ledger head, head, warning if posterior and ledger disagree)."""
    _, head = L.read(ws)
    base = read_forecast(ws)
    found = forecast_for_head(ws, head, base)
    if found is not None:
        return found, head, None
    return base, head, (f"the posterior reflects ledger head {base.record.ledger_head} but the ledger "
                        f"is at {head}; run 'forecast fit' to bring them together")


def load_idata(ws: Workspace, expect_hash: bool = True):
    """Full ArviZ InferenceData; raises IdentityMismatchError if the workspace changed."""
    import arviz as az

    stored = read_forecast(ws)
    if expect_hash:
        check_identity(ws, stored)
    return az.from_netcdf(str(ws.posterior_path), engine="h5netcdf")


def is_stale(ws: Workspace, stored: StoredForecast) -> bool:
    return stored.record.content_hash != content_hash(ws)


def check_identity(ws: Workspace, stored: StoredForecast) -> None:
    if is_stale(ws, stored):
        raise IdentityMismatchError(
            f"the stored fit ({ws.posterior_path.name}) was made from data/priors with hash "
            f"{stored.record.content_hash[:12]}, but the workspace now hashes to "
            f"{content_hash(ws)[:12]}; re-run 'forecast fit'")
