"""The settlement prior learned from the reference class of territorial claims, read at the door.

``forecast reference fit`` fits the pooled hazard model of peaceful settlement on the ICOW claim-years
(``data/reference/claims.csv``) and summarises the posterior for one claim (ICOW ``claimdy`` 82804 in the shipped default,
``data/reference/claim_profile.csv``) as the four terms of the main model's settlement hazard:

* ``level``: the claim's yearly log-odds of a peaceful settlement with its lens-mapped covariates at
  their average since the main model's data begin (entered as a Beta for ``settlement_base_rate``);
* ``power``, ``trust``, ``capacity``: the pooled effects of the covariates the three lenses map to
  (Normal priors for ``gamma_power``, ``gamma_trust``, ``gamma_capacity``).

Each term is moment-matched (mean and sd of the posterior draws). The file also carries the evidence
behind the terms (claim-years, settlements, years) and the identity of the posterior it summarises
(its SHA-256, the extract's SHA-256, the seed and the library versions), so a fit can record which
reference posterior its settlement priors came from. ``priors/*.toml`` entries opt in with
``reference = "level"`` (etc.) instead of giving parameters.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from forecast.errors import Problem, ValidationError
from forecast.workspace import SETTLEMENT_PRIOR_FILE, reference_dir

FORMAT = "forecast.settlement-prior/1"
TERMS = ("level", "power", "trust", "capacity")
TOP_KEYS = {"format", "claim", "as_of", "terms", "mapping", "evidence", "posterior_sha256", "data_sha256",
            "seed", "versions", "fit"}
EVIDENCE_KEYS = ("claim_years", "settlements", "claims", "first_year", "last_year", "source")
FIT_KEYS = ("draws", "tune", "chains", "rhat_max", "ess_bulk_min", "divergences", "seconds")


@dataclass(frozen=True)
class Term:
    mu: float
    sigma: float


@dataclass(frozen=True)
class Evidence:
    claim_years: int
    settlements: int
    claims: int
    first_year: int
    last_year: int
    source: str

    def sentence(self) -> str:
        return (f"learned from {self.claim_years:,} claim-years, {self.settlements} peaceful settlements, "
                f"{self.source} {self.first_year}-{self.last_year}")


@dataclass(frozen=True)
class SettlementPrior:
    claim: int
    as_of: int
    terms: dict[str, Term]
    mapping: dict[str, str]
    evidence: Evidence
    posterior_sha256: str
    data_sha256: str
    seed: int
    versions: dict[str, str]
    fit: dict[str, float]
    sha256: str = ""          # of the file's bytes (set by the loader)

    def to_dict(self) -> dict:
        return {"format": FORMAT, **asdict(self), "sentence": self.evidence.sentence()}

    def to_json_text(self) -> str:
        d = asdict(self)
        d.pop("sha256")
        return json.dumps({"format": FORMAT, **d}, indent=2, sort_keys=True) + "\n"


def default_path() -> Path:
    return reference_dir() / SETTLEMENT_PRIOR_FILE


def load_settlement_prior(path: Path | None = None) -> SettlementPrior:
    """Read and check the settlement-prior summary; a ValidationError names the file and key."""
    path = Path(path) if path is not None else default_path()
    name = path.name
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ValidationError([Problem(name, f"cannot be read: {exc.strerror or exc}",
                                       hint="rebuild it with 'forecast reference fit'")]) from None
    try:
        raw = json.loads(raw_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError([Problem(name, f"not valid JSON: {exc}",
                                       hint="rebuild it with 'forecast reference fit'")]) from None
    problems: list[Problem] = []

    def bad(key: str, msg: str) -> None:
        problems.append(Problem(name, msg, field=key, hint="rebuild it with 'forecast reference fit'"))

    if not isinstance(raw, dict):
        raise ValidationError([Problem(name, "must hold a JSON object")])
    for key in sorted(set(raw) - TOP_KEYS):
        bad(key, f"unknown key '{key}'")
    for key in sorted(TOP_KEYS - set(raw)):
        bad(key, f"missing key '{key}'")
    if problems:
        raise ValidationError(problems)
    if raw["format"] != FORMAT:
        bad("format", f"format {raw['format']!r} is not {FORMAT!r}")

    def number(key: str, v, positive: bool = False) -> float:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and (v > 0 or not positive)
        if not ok:
            bad(key, f"'{key}' must be a finite{' positive' if positive else ''} number, got {v!r}")
            return math.nan
        return float(v)

    def integer(key: str, v) -> int:
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            bad(key, f"'{key}' must be a whole number >= 0, got {v!r}")
            return 0
        return v

    terms: dict[str, Term] = {}
    if not isinstance(raw["terms"], dict) or set(raw["terms"]) != set(TERMS):
        bad("terms", f"'terms' must hold exactly {', '.join(TERMS)}")
    else:
        for t in TERMS:
            v = raw["terms"][t]
            if not isinstance(v, dict) or set(v) != {"mu", "sigma"}:
                bad(f"terms.{t}", f"'terms.{t}' must hold exactly mu and sigma")
                continue
            terms[t] = Term(number(f"terms.{t}.mu", v["mu"]), number(f"terms.{t}.sigma", v["sigma"], positive=True))
    ev = raw["evidence"]
    evidence = None
    if not isinstance(ev, dict) or set(ev) != set(EVIDENCE_KEYS):
        bad("evidence", f"'evidence' must hold exactly {', '.join(EVIDENCE_KEYS)}")
    else:
        evidence = Evidence(*(integer(f"evidence.{k}", ev[k]) for k in EVIDENCE_KEYS[:-1]), source=str(ev["source"]))
    fit = raw["fit"]
    if not isinstance(fit, dict) or set(fit) != set(FIT_KEYS):
        bad("fit", f"'fit' must hold exactly {', '.join(FIT_KEYS)}")
        fit = {}
    else:
        fit = {k: number(f"fit.{k}", fit[k]) for k in FIT_KEYS}
    for key in ("posterior_sha256", "data_sha256"):
        v = raw[key]
        if not (isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v)):
            bad(key, f"'{key}' must be 64 lowercase hex digits")
    for key in ("mapping", "versions"):
        if not isinstance(raw[key], dict) or not all(isinstance(v, str) for v in raw[key].values()):
            bad(key, f"'{key}' must map names to texts")
    claim, as_of, seed = integer("claim", raw["claim"]), integer("as_of", raw["as_of"]), integer("seed", raw["seed"])
    if problems:
        raise ValidationError(problems)
    return SettlementPrior(claim=claim, as_of=as_of, terms=terms, mapping=dict(raw["mapping"]), evidence=evidence,
                           posterior_sha256=raw["posterior_sha256"], data_sha256=raw["data_sha256"], seed=seed,
                           versions=dict(raw["versions"]), fit=fit, sha256=hashlib.sha256(raw_bytes).hexdigest())


def format_prior(p: SettlementPrior) -> str:
    """The settlement prior as text for 'forecast reference show'."""
    names = {"level": "settlement_base_rate (log-odds; enters as a Beta)", "power": "gamma_power", "trust": "gamma_trust",
             "capacity": "gamma_capacity"}
    lines = [f"Settlement prior for ICOW claim {p.claim}, as of {p.as_of}: {p.evidence.sentence()}.",
             "Terms (posterior mean and sd, moment-matched; the priors/ entries with reference = ... read them):"]
    for t in TERMS:
        cov = f"  <- {p.mapping[t]}" if t in p.mapping else ""
        lines.append(f"  {t:9} {names[t]:45} mu {p.terms[t].mu:+.3f}  sigma {p.terms[t].sigma:.3f}{cov}")
    f = p.fit
    lines.append(f"Fit: {int(f['chains'])} chains x {int(f['draws'])} draws ({int(f['tune'])} tuning), seed {p.seed}, "
                 f"{f['seconds']:.0f} s; R-hat max {f['rhat_max']:.3f}, bulk ESS min {f['ess_bulk_min']:.0f}, "
                 f"divergences {int(f['divergences'])}")
    lines.append(f"Identity: posterior {p.posterior_sha256[:12]}, extract {p.data_sha256[:12]}, file {p.sha256[:12]}")
    return "\n".join(lines)
