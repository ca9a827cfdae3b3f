"""What a stored fit records about the spec it was fitted on (the ``spec`` attribute).

The update fast path, the forecast-year evidence and the briefing read the fitted years,
the indicators' standardisation and the event catalogue from here, without rebuilding
the spec from the workspace's files (which may have changed since the fit).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

from forecast.errors import StoredStateError

if TYPE_CHECKING:  # model.spec imports pandas; 'show' reads records without it
    from forecast.model.spec import ModelSpec


@dataclass(frozen=True)
class FitSpec:
    first_year: int
    as_of: int
    indicators: tuple[str, ...]          # (K,) the state indicators in the fit
    indicator_factor: tuple[int, ...]    # (K,) index into spec.FACTORS
    center: tuple[float, ...]            # (K,) mean of the transformed values
    scale: tuple[float, ...]             # (K,) sd of the transformed values
    direction: tuple[float, ...]         # (K,) +1 / -1
    transform: tuple[str, ...]           # (K,) spec.transform_values names
    change: tuple[int, ...]              # (T,) coded change -2..2 per fitted year
    event_kinds: tuple[str, ...]         # (E,) the event catalogue
    event_lens: tuple[int, ...]          # (E,) index into LENSES
    barrier_last: float                  # legal barrier in force in the last fitted year
    event_sign: tuple[float, ...]        # (E,) +1 cooperative / -1 hostile kind (sign of the catalogue weight)
    outcome_form: str                    # defaults.OUTCOME_FORMS: how the forecast year's events enter

    @classmethod
    def of(cls, spec: ModelSpec) -> "FitSpec":
        return cls.from_dict({
            "first_year": int(spec.years[0]), "as_of": int(spec.as_of), "indicators": spec.indicators,
            "indicator_factor": spec.indicator_factor.tolist(), "center": spec.center.tolist(),
            "scale": spec.scale.tolist(), "direction": spec.direction.tolist(),
            "transform": spec.transforms, "change": (spec.change - 2).tolist(),
            "event_kinds": spec.event_kinds, "event_lens": spec.event_lens.tolist(),
            "barrier_last": float(spec.barrier[-1]), "event_sign": spec.event_sign.tolist(),
            "outcome_form": spec.outcome_form,
        })

    @classmethod
    def from_dict(cls, d: dict) -> "FitSpec":
        """From the stored attribute; values are kept as stored (lists become tuples)."""
        if not isinstance(d, dict):
            raise StoredStateError(f"the stored 'spec' attribute is not a record ({type(d).__name__}); "
                                   f"re-run 'forecast fit'")
        names = [f.name for f in fields(cls)]
        missing, unknown = [n for n in names if n not in d], sorted(set(d) - set(names))
        if missing or unknown:
            raise StoredStateError(
                "the stored 'spec' attribute " + "; ".join(
                    ([f"lacks {', '.join(missing)}"] if missing else [])
                    + ([f"has unknown {', '.join(unknown)}"] if unknown else []))
                + "; it was written by another version: re-run 'forecast fit'")
        return cls(**{n: tuple(d[n]) if isinstance(d[n], list) else d[n] for n in names})

    def to_dict(self) -> dict:
        """The stored attribute (a JSON object; key order as written since format version 2)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
