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
from forecast.model.kernels import NOISE_FLOOR
from forecast.workspace import Workspace, atomic_write, content_hash

FORMAT_VERSION = 2
NOISE_FLOOR_ATTR = "noise_floor"
HEADS_DIR = "heads"
POSTERIOR_VARS = ("state_persistence", "factor_state", "beta_power", "beta_trust", "beta_leaders", "cutpoints",
                  "settlement_base_rate", "gamma_power", "gamma_trust", "gamma_capacity", "delta_barrier",
                  "event_effect", "loading", "indicator_intercept", "indicator_noise", "improve_logodds")
LIBRARIES = ("forecast-bilateral", "pymc", "pytensor", "arviz", "nutpie", "numpy", "pandas", "preliz")


def stored_noise_floor(attrs: dict) -> float:
    """The indicator noise floor the fit was made with (stored with it; the model's constant
    for a record that lacks it). Every numpy evaluation of a stored fit reads it here."""
    return float(attrs.get(NOISE_FLOOR_ATTR, NOISE_FLOOR))


def library_versions() -> dict[str, str]:
    out = {}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "not installed"
    return out


def _encode_attrs(identity: dict) -> dict:
    attrs = {k: (json.dumps(v) if isinstance(v, (dict, list, tuple, bool)) or v is None else v)
             for k, v in identity.items()}
    attrs["format_version"] = FORMAT_VERSION
    return attrs


def save_fit(ws: Workspace, idata, forecast: dict[str, np.ndarray], identity: dict, path: Path | None = None) -> Path:
    """Attach the forecast group and identity, then write atomically."""
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
              "side": ["russia", "japan"]}
    attrs = _encode_attrs(identity)
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    if "forecast" in idata.groups():
        del idata.forecast
    idata.add_groups({"forecast": ds})
    idata.posterior.attrs.update(attrs)
    atomic_write(path, lambda tmp: idata.to_netcdf(str(tmp), engine="h5netcdf"))
    return path


def write_forecast_file(path: Path, draws: dict[str, np.ndarray], identity: dict) -> None:
    """A small HDF5 file with just a ``forecast`` group (per-ledger-head results)."""
    import h5py

    attrs = _encode_attrs(identity)

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
    attrs: dict
    draws: dict[str, np.ndarray]

    @property
    def diagnostics(self) -> dict:
        return self.attrs["diagnostics"]


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
    if attrs.get("format_version") != FORMAT_VERSION:
        raise IdentityMismatchError(f"{path} has format version {attrs.get('format_version')}, "
                                    f"this forecast reads version {FORMAT_VERSION}; re-run 'forecast fit'")
    return StoredForecast(attrs=attrs, draws=draws)


def head_path(ws: Workspace, head: str) -> Path:
    """The forecast file recorded for a ledger head (written by update and undo)."""
    return ws.state_dir / HEADS_DIR / f"{head}.h5"


def read_forecast(ws: Workspace) -> StoredForecast:
    """The base fit's forecast (state/posterior.nc)."""
    return read_forecast_file(ws.posterior_path, ws)


def forecast_for_head(ws: Workspace, head: str, base: StoredForecast | None = None) -> StoredForecast | None:
    """The forecast recorded for a ledger head: the fit's own if it was made at that head, else the
    head's file written by update/undo; None if neither is stored (a refit replaced it)."""
    from forecast.store import ledger as L

    base = base or read_forecast(ws)
    if base.attrs.get("ledger_head", L.EMPTY_HEAD) == head:
        return base
    p = head_path(ws, head)
    return read_forecast_file(p, ws) if p.is_file() else None


def current(ws: Workspace) -> tuple[StoredForecast, str, str | None]:
    """(forecast for the ledger head, head, warning if posterior and ledger disagree)."""
    from forecast.store import ledger as L

    _, head = L.read(ws)
    base = read_forecast(ws)
    found = forecast_for_head(ws, head, base)
    if found is not None:
        return found, head, None
    return base, head, (f"the posterior reflects ledger head {base.attrs.get('ledger_head')} but the ledger "
                        f"is at {head}; run 'forecast fit' to bring them together")


def load_idata(ws: Workspace, expect_hash: bool = True):
    """Full ArviZ InferenceData; raises IdentityMismatchError if the workspace changed."""
    import arviz as az

    stored = read_forecast(ws)
    if expect_hash:
        check_identity(ws, stored)
    return az.from_netcdf(str(ws.posterior_path), engine="h5netcdf")


def is_stale(ws: Workspace, stored: StoredForecast) -> bool:
    return stored.attrs.get("content_hash") != content_hash(ws)


def check_identity(ws: Workspace, stored: StoredForecast) -> None:
    if is_stale(ws, stored):
        raise IdentityMismatchError(
            f"the stored fit ({ws.posterior_path.name}) was made from data/priors with hash "
            f"{str(stored.attrs.get('content_hash'))[:12]}, but the workspace now hashes to "
            f"{content_hash(ws)[:12]}; re-run 'forecast fit'")
