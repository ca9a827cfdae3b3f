"""Posterior files that carry their identity (ArviZ netCDF, written atomically).

The file holds the ArviZ groups (posterior, sample_stats, observed data) plus a
``forecast`` group with per-draw headline probabilities. Identity attributes
(content hash, seed, preset, as-of year, library versions, diagnostics) are
written on the ``forecast`` and ``posterior`` groups, with checksums (``store.integrity``)
verified on every read. ``read_forecast`` uses h5py only, so ``forecast show`` never imports
PyMC or ArviZ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from forecast.errors import IdentityMismatchError, NoFitError
from forecast.inference.diagnostics import Diagnostics
from forecast.store import ledger as L
from forecast.store.integrity import (CHECKSUM_ATTR, COORDS, POSTERIOR_CHECKSUM_ATTR, check_checksum, check_draws,
                                      check_variables, forecast_checksum, refuse, variable_checksums)
from forecast.store.record import FitRecord
from forecast.workspace import HASHED_INPUTS, TEMP_PREFIX, Workspace, atomic_write, content_hash

NOISE_FLOOR_ATTR = "noise_floor"  # the attribute name of FitRecord.noise_floor
HEADS_DIR = "heads"
POSTERIOR_VARS = ("state_persistence", "factor_state", "beta_power", "beta_trust", "beta_leaders", "cutpoints",
                  "settlement_base_rate", "gamma_power", "gamma_trust", "gamma_capacity", "delta_barrier",
                  "event_effect", "loading", "indicator_intercept", "indicator_noise", "improve_logodds",
                  "event_rate_intercept", "event_rate_slope", "event_lag_weight", "event_shift")
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
    idata = stored_groups(idata)
    idata.add_groups({"forecast": ds})
    idata.posterior.attrs.update(attrs)

    def write(tmp: Path) -> None:
        # uncompressed: zlib took ~3 of the ~4.5 s a save cost and kept ~12% of the bytes (posterior
        # draws are close to incompressible); see benchmarks/results/fit.md
        idata.to_netcdf(str(tmp), engine="h5netcdf", compress=False)
        sign_file(tmp)

    atomic_write(path, write)
    return path


def is_transformed_copy(name: str) -> bool:
    """A sampler-space copy of a constrained variable (``x_log__``, ``x_logodds__``, ``x_ordered__``)."""
    return name.endswith("__")


def stored_groups(idata):
    """What a stored fit keeps of a sampler's InferenceData: the posterior without its sampler-space
    copies (each is a transform of a stored constrained variable), the sample stats and the
    observed data. Warm-up draws are dropped (nothing reads them; they were a third of the file)."""
    import arviz as az

    groups = {"posterior": idata.posterior.drop_vars([v for v in idata.posterior.data_vars
                                                      if is_transformed_copy(v)])}
    for g in ("sample_stats", "observed_data", "constant_data"):
        if g in idata.groups():
            groups[g] = idata[g]
    return az.InferenceData(**groups)


def write_forecast_file(path: Path, draws: dict[str, np.ndarray], record: FitRecord) -> None:
    """A small HDF5 file with just a ``forecast`` group (per-ledger-head results)."""
    import h5py

    attrs = _encode_attrs(record)
    check_draws(path, {k: np.asarray(v) for k, v in draws.items()}, record.draws * record.chains, record.horizons)

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            g = f.create_group("forecast")
            for k, v in draws.items():
                g.create_dataset(k, data=np.asarray(v))
            for k, v in attrs.items():
                g.attrs[k] = v
            _sign(f)

    atomic_write(path, write)


def _posterior_arrays(f, names=None) -> dict[str, np.ndarray]:
    """The named variables of the posterior group (default: every numeric one)."""
    import h5py

    g = f["posterior"]
    if names is None:
        return {v: np.asarray(d) for v, d in g.items() if isinstance(d, h5py.Dataset) and d.dtype.kind in "biuf"}
    missing = [v for v in names if v not in g]
    if missing:
        raise refuse(f.filename, f"the posterior variable(s) {', '.join(missing)} are missing")
    return {v: np.asarray(g[v]) for v in names}


def _read_group(g) -> tuple[dict, dict[str, np.ndarray]]:
    """A forecast group's decoded attributes (all of them, checksums included) and its draws."""
    attrs = {k: _decode(v) for k, v in g.attrs.items() if not k.startswith("_")}
    draws = {k: np.asarray(g[k]) for k in g.keys() if k not in COORDS}
    return attrs, draws


def _sign(f) -> None:
    """Store the checksums of an open, fully written file (posterior variables first, as the
    forecast group's checksum covers that attribute too)."""
    g = f["forecast"]
    if "posterior" in f:
        g.attrs[POSTERIOR_CHECKSUM_ATTR] = json.dumps(variable_checksums(_posterior_arrays(f)), sort_keys=True)
    attrs, draws = _read_group(g)
    g.attrs[CHECKSUM_ATTR] = forecast_checksum(attrs, draws)


def sign_file(path: Path) -> None:
    """(Re)compute and store a file's checksums in place (written files are signed as they are written)."""
    import h5py

    with h5py.File(path, "r+") as f:
        _sign(f)


def read_posterior_arrays(path: Path, names=POSTERIOR_VARS) -> dict[str, np.ndarray]:
    """Posterior variables (default: those the update path needs), shaped (chain, draw, ...), via h5py;
    refused (StoredFileError) unless each is present, matches the checksum stored for it and is finite."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "posterior" not in f or "forecast" not in f:
                raise refuse(path, "it has no posterior or no forecast group; it was not written by 'forecast fit'")
            stored = _decode(f["forecast"].attrs.get(POSTERIOR_CHECKSUM_ATTR))
            post = _posterior_arrays(f, names)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise refuse(path, f"it cannot be read as netCDF/HDF5 ({exc})") from None
    check_variables(path, stored, post)
    return post


@dataclass
class StoredForecast:
    record: FitRecord
    draws: dict[str, np.ndarray]

    @property
    def attrs(self) -> dict:
        """The stored attributes as a plain dict, as on disk (read ``record`` in code)."""
        return self.record.to_attrs()

    @property
    def diagnostics(self) -> Diagnostics:
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
                raise refuse(path, "it has no forecast group; it was not written by 'forecast fit'")
            attrs, draws = _read_group(f["forecast"])
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise refuse(path, f"it cannot be read as netCDF/HDF5 ({exc})") from None
    computed = forecast_checksum(attrs, draws)
    stored_checksum = attrs.pop(CHECKSUM_ATTR, None)
    attrs.pop(POSTERIOR_CHECKSUM_ATTR, None)
    try:
        record = FitRecord.from_attrs(attrs, str(path))   # a format version mismatch is refused first
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise refuse(path, f"its identity attributes cannot be read ({exc!r})") from None
    check_checksum(path, stored_checksum, computed)
    check_draws(path, draws, record.draws * record.chains, record.horizons)
    return StoredForecast(record=record, draws=draws)


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
    if not p.is_file():
        return None
    found = read_forecast_file(p, ws)
    if found.record.ledger_head != head:
        raise refuse(p, f"it is filed under ledger head {head} but holds the forecast for ledger head "
                        f"{found.record.ledger_head} (a file copied over it?)")
    return found if behind_is_stored(ws, found, base) else None


def behind_is_stored(ws: Workspace, found: StoredForecast, base: StoredForecast) -> bool:
    """Whether the posterior a head's forecast was computed from is still the one stored at its
    ``fit_file``: a later 'forecast fit' replaces state/posterior.nc, and the forecasts computed from
    the replaced fit are no longer stored (their draws would be read against another posterior)."""
    p = fit_path(ws, found)
    if p == ws.posterior_path:
        behind = base.record
    elif p.is_file():
        behind = read_forecast_file(p, ws).record
    else:
        return False
    return (behind.created_utc, behind.content_hash) == (found.record.created_utc, found.record.content_hash)


def forecast_after(ws: Workspace, n_records: int, data: bytes | None = None) -> StoredForecast | None:
    """The forecast as it stood after the ledger's first ``n_records`` records; None when it is
    no longer stored (a later fit replaced the posterior it came from)."""
    data = L.read_bytes(ws) if data is None else data
    return forecast_for_head(ws, L.head_at(data, n_records))


def forecast_on_day(ws: Workspace, day: str, data: bytes, records: list[dict]) -> tuple[StoredForecast | None, int]:
    """The forecast as it stood at the end of ``day`` (YYYY-MM-DD) and the ledger records applied by
    then; None for a day before the stored fit was made, or whose forecast is no longer stored."""
    n = sum(1 for r in records if str(r.get("applied_utc", ""))[:10] <= day)
    if day < read_forecast(ws).record.created_utc[:10]:
        return None, n
    return forecast_after(ws, n, data), n


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
            f"the stored fit ({ws.posterior_path.name}) was made with content hash {stored.record.content_hash[:12]}, "
            f"but the workspace now hashes to {content_hash(ws)[:12]}: {HASHED_INPUTS} changed; re-run 'forecast fit'")
