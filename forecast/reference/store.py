"""A reference posterior on disk: netCDF through ArviZ (h5netcdf), never pickle.

The file keeps what prediction needs and nothing else: the draws of ``model.STORED_VARIABLES``
(global parameters with the gamma frailty's variance theta, era levels, issue/region effects; the
frailties are integrated out, so there is no per-claim draw) in ``posterior``; the
covariates' ``center``/``scale`` and the new-claim profile in ``constant_data``; and as attributes
of ``posterior`` the identity (data sha256, seed, origin, draws, tune, chains, versions), the
training summary, the diagnostics and ``posterior_sha256``, a SHA-256 of the stored draws checked
on load.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from forecast.errors import ReferenceIdentityError
from forecast.reference.fit import ReferenceDiagnostics, ReferenceFit, ReferenceIdentity, TrainingSummary, versions
from forecast.reference.model import STORED_VARIABLES

FORMAT = "forecast-reference-posterior/2"  # 2: gamma frailty (theta), no per-claim u
ATTRS = ("format", "identity", "summary", "diagnostics", "covariates", "claims", "issues", "regions", "n_eras",
         "posterior_sha256")
_UNSET = object()


def posterior_sha256(posterior) -> str:
    """SHA-256 of the stored draws: each variable's name, shape and float64 bytes, in STORED_VARIABLES order."""
    h = hashlib.sha256()
    for name in STORED_VARIABLES:
        v = np.ascontiguousarray(np.asarray(posterior[name].values, dtype="<f8"))
        h.update(name.encode())
        h.update(repr(v.shape).encode())
        h.update(v.tobytes())
    return h.hexdigest()


def save_reference_fit(fit: ReferenceFit, path) -> Path:
    """Write ``fit`` to ``path`` (netCDF); returns the path."""
    import arviz as az
    import xarray as xr

    from forecast.workspace import atomic_write

    post = fit.idata.posterior[list(STORED_VARIABLES)]
    post = post.astype("float64")
    post.attrs = {
        "format": FORMAT,
        "identity": json.dumps(asdict(fit.identity), sort_keys=True),
        "summary": json.dumps(asdict(fit.summary) if fit.summary else None),
        "diagnostics": json.dumps(asdict(fit.diagnostics)),
        "covariates": json.dumps(list(fit.covariates)),
        "claims": json.dumps([int(c) for c in fit.claims]),
        "issues": json.dumps(list(fit.issues)), "regions": json.dumps(list(fit.regions)),
        "n_eras": int(fit.n_eras),
        "posterior_sha256": posterior_sha256(post),
    }
    const = xr.Dataset({"center": ("covariate", np.asarray(fit.center, float)),
                        "scale": ("covariate", np.asarray(fit.scale, float)),
                        "new_profile": ("covariate", np.asarray(fit.new_profile, float)),
                        "persistence": ("covariate", np.asarray(fit.persistence, float))},
                       coords={"covariate": list(fit.covariates)})
    idata = az.InferenceData(posterior=post, constant_data=const)
    path = Path(path)
    atomic_write(path, lambda tmp: idata.to_netcdf(str(tmp), engine="h5netcdf"))
    return path


def load_reference_fit(path, *, data_sha256: str | None = None, origin=_UNSET) -> ReferenceFit:
    """Read a fit written by ``save_reference_fit``. ``data_sha256``/``origin``, when given, must match the
    stored identity; a file without its identity, or whose draws do not match their checksum, is refused.
    Raises ReferenceIdentityError."""
    import arviz as az

    path = Path(path)
    try:
        idata = az.from_netcdf(str(path), engine="h5netcdf")
    except (OSError, ValueError) as exc:
        raise ReferenceIdentityError(f"{path}: cannot read a reference posterior ({exc}); refit it with "
                                     f"'forecast reference fit'") from exc
    post = getattr(idata, "posterior", None)
    attrs = dict(post.attrs) if post is not None else {}
    missing = [a for a in ATTRS if a not in attrs]
    if post is None or missing or attrs.get("format") != FORMAT:
        raise ReferenceIdentityError(f"{path}: not a reference posterior of this version (missing "
                                     f"{', '.join(missing) or 'format ' + FORMAT}); refit it with "
                                     f"'forecast reference fit'")
    absent = [v for v in STORED_VARIABLES if v not in post.data_vars]
    if absent or posterior_sha256(post) != attrs["posterior_sha256"]:
        raise ReferenceIdentityError(f"{path}: the stored draws do not match their checksum posterior_sha256 "
                                     f"(changed or truncated file); refit it with 'forecast reference fit'")
    identity = ReferenceIdentity(**json.loads(attrs["identity"]))
    if data_sha256 is not None and identity.data_sha256 != data_sha256:
        raise ReferenceIdentityError(f"{path}: fitted on claim-years with sha256 {identity.data_sha256[:12]}..., "
                                     f"not on the data given ({data_sha256[:12]}...); refit it with "
                                     f"'forecast reference fit'")
    if origin is not _UNSET and identity.origin != origin:
        raise ReferenceIdentityError(f"{path}: fitted with origin {identity.origin}, not {origin}; refit it "
                                     f"with 'forecast reference fit' for that origin")
    summary = json.loads(attrs["summary"])
    diag = json.loads(attrs["diagnostics"])
    diag["failures"] = tuple(diag.get("failures", ()))
    const = idata.constant_data
    return ReferenceFit(
        idata=idata, identity=identity, covariates=tuple(json.loads(attrs["covariates"])),
        center=np.asarray(const["center"].values, float), scale=np.asarray(const["scale"].values, float),
        claims=tuple(int(c) for c in json.loads(attrs["claims"])), diagnostics=ReferenceDiagnostics(**diag),
        new_profile=np.asarray(const["new_profile"].values, float),
        persistence=np.asarray(const["persistence"].values, float), issues=tuple(json.loads(attrs["issues"])),
        regions=tuple(json.loads(attrs["regions"])), n_eras=int(attrs["n_eras"]),
        summary=TrainingSummary(**summary) if summary else None)


def load_or_fit(path, fit_fn, claims, origin: int | None, *, draws: int, tune: int, chains: int,
                seed: int) -> tuple[ReferenceFit, str]:
    """The fit stored at ``path`` when its identity is this one's (``claims.sha256``, origin, seed, draws,
    tune, chains and the library versions); otherwise ``fit_fn(claims, origin, draws=..., tune=...,
    chains=..., seed=...)``, stored at ``path`` (atomically). Returns (fit, source): "fitted", "loaded from
    PATH" or "refitted: REASON"."""
    path = Path(path)
    source = "fitted"
    if path.is_file():
        try:
            fit = load_reference_fit(path, data_sha256=claims.sha256, origin=origin)
        except ReferenceIdentityError as exc:
            source = f"refitted: {exc}"
        else:
            want = {"seed": seed, "draws": draws, "tune": tune, "chains": chains}
            have = {k: getattr(fit.identity, k) for k in want}
            if have == want and fit.identity.versions == versions():
                return fit, f"loaded from {path}"
            diff = [f"{k} {have[k]} not {want[k]}" for k in want if have[k] != want[k]]
            source = (f"refitted: {path} was fitted with "
                      + (", ".join(diff) or f"other library versions ({fit.identity.versions})"))
    fit = fit_fn(claims, origin, draws=draws, tune=tune, chains=chains, seed=seed)
    save_reference_fit(fit, path)
    return fit, source
