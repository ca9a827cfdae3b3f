"""``FitRecord``: every attribute stored with a fit (``state/posterior.nc``) or with the forecast
of a ledger head (``state/heads/<head>.h5``), typed.

``to_attrs`` gives the attributes exactly as they are written (names, values and order as since
format version 2); ``from_attrs`` reads them back and names any attribute that is missing or
unknown. Readers use the fields (``stored.record.as_of``), never the attribute names. The checksums
stored beside them (``store.integrity``, since format version 4) are not part of the record.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from forecast.data.config import WorkspaceConfig
from forecast.errors import StoredStateError
from forecast.inference.diagnostics import Diagnostics
from forecast.model.fitspec import FitSpec

FORMAT_VERSION = 5   # 3: the dyad (workspace.toml) is stored with every fit; 4: checksums (store.integrity);
#                      5: the outcome form and event signs in the spec, event-shift datasets (issue 10)
OPTIONAL = ("fit_file", "events_in_force", "settlement_evidence")  # absent until saved / outside head files /
# when no prior entry takes its parameters from the reference class


@dataclass(frozen=True)
class FitRecord:
    content_hash: str                     # workspace.content_hash of workspace.toml, data/ and priors/ at fit time
    seed: int
    preset: str
    as_of: int                            # last data year of the fit
    forecast_year: int                    # as_of + 1
    horizons: tuple[int, ...]             # settlement horizons (years)
    draws: int
    tune: int
    chains: int
    sampler: str                          # the sampler used (nutpie or pymc)
    parameterisation: str
    target_accept: float
    created_utc: str
    libraries: dict                       # library -> version
    diagnostics: Diagnostics              # inference.diagnostics.compute_diagnostics
    indicators_used: tuple[str, ...]
    indicators_skipped: tuple[str, ...]
    barrier_last: float
    timings: dict                         # name -> seconds
    spec: FitSpec
    noise_floor: float                    # the model's indicator noise floor when fitted
    ledger_head: str                      # the ledger head this forecast reflects
    ledger_in_fit: tuple[str, ...]        # ids of the ledger events the fit's data include
    pareto_k: float                       # PSIS of the forecast's weights (nan after a refit)
    is_ess: float
    update_path: str                      # fit, psis, event_shift, unchanged or refit
    dyad: WorkspaceConfig                 # the workspace's names (workspace.toml): every output reads them
    fit_file: str | None = None           # the posterior behind it, relative to state/
    format_version: int = FORMAT_VERSION
    events_in_force: tuple[str, ...] | None = None   # head files: the ledger events in force
    settlement_evidence: dict | None = None  # settlement priors learned from the reference class: see evidence_of

    @staticmethod
    def evidence_of(priors) -> dict | None:
        """The ``settlement_evidence`` of a fit with this PriorSet: where the settlement priors come
        from (claim-years, settlements, the reference posterior's hash), or None if none does."""
        ref = priors.reference
        if ref is None:
            return None
        e = ref.evidence
        return {"claim_years": e.claim_years, "settlements": e.settlements, "claims": e.claims,
                "first_year": e.first_year, "last_year": e.last_year, "source": e.source, "claim": ref.claim,
                "as_of": ref.as_of, "reference_posterior_sha256": ref.posterior_sha256,
                "settlement_prior_sha256": ref.sha256, "sentence": e.sentence(),
                "priors": sorted(n for n, spec in priors.priors.items() if spec.reference)}

    @property
    def headline_keys(self) -> list[str]:
        """The headline probabilities, in the order 'show' prints them."""
        return ["improve_next_year"] + [f"settle_within_{h}y" for h in self.horizons]

    @property
    def events(self) -> tuple[str, ...]:
        """The ids of the ledger events this forecast reflects."""
        return self.ledger_in_fit if self.events_in_force is None else self.events_in_force

    def to_attrs(self) -> dict:
        """The attributes as written: JSON-like values (lists, dicts), optional ones only when set."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None and f.name in OPTIONAL:
                continue
            out[f.name] = v.to_dict() if isinstance(v, (FitSpec, WorkspaceConfig, Diagnostics)) else \
                list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_attrs(cls, attrs: dict, where: str = "the stored fit") -> "FitRecord":
        """From decoded attributes; StoredStateError names what is missing or unknown."""
        if attrs.get("format_version") != FORMAT_VERSION:
            raise StoredStateError(f"{where} has format version {attrs.get('format_version')}, this forecast "
                                   f"reads version {FORMAT_VERSION}; re-run 'forecast fit'")
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in attrs and n not in OPTIONAL]
        unknown = sorted(set(attrs) - set(names))
        if missing or unknown:
            what = ([f"lacks the attribute(s) {', '.join(missing)}"] if missing else []) + \
                   ([f"has attribute(s) this version does not know: {', '.join(unknown)}"] if unknown else [])
            raise StoredStateError(f"{where} {'; '.join(what)}; it was written by another version of forecast: "
                                   f"re-run 'forecast fit'")
        values = {n: attrs[n] for n in names if n in attrs}
        values["spec"] = FitSpec.from_dict(values["spec"])
        values["dyad"] = WorkspaceConfig.from_dict(values["dyad"])
        values["diagnostics"] = Diagnostics.from_dict(values["diagnostics"])
        for f in fields(cls):
            if f.name in values and isinstance(values[f.name], list):
                values[f.name] = tuple(values[f.name])
        return cls(**values)
