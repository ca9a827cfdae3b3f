"""The reference class as a service for the CLI and notebooks: fit and write the settlement prior,
run the rolling-origin backtest and write its rows, format both for people.

Compute, then write: ``fit_reference_class`` and ``backtest_reference_class`` compute through the
model and backtest modules and only then write files (atomically); the formatters return text.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from forecast import defaults as D


@dataclass
class ReferenceFitResult:
    prior: "SettlementPrior"  # noqa: F821
    posterior_path: Path
    prior_path: Path
    claim_survival_value: float     # posterior predictive P(no settlement of the claim over its fitted years)
    diagnostics: dict
    seconds: float
    written: list[Path] = field(default_factory=list)
    shipped: bool = True            # written to the shipped data/reference/ that every workspace's priors read

    @property
    def failures(self) -> list[str]:
        """The diagnostics that failed their thresholds (empty: the fit passed)."""
        return list(self.diagnostics.get("failures") or [])

    def to_dict(self) -> dict:
        return {"settlement_prior": self.prior.to_dict(), "posterior_file": str(self.posterior_path),
                "prior_file": str(self.prior_path), "claim_survival_fitted_years": self.claim_survival_value,
                "diagnostics": self.diagnostics, "seconds": self.seconds}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fit_reference_class(out: str | Path | None = None, *, draws: int = D.REFERENCE_DRAWS, tune: int = D.REFERENCE_TUNE,
                        chains: int = D.REFERENCE_CHAINS, seed: int = D.SEED, progress=None) -> ReferenceFitResult:
    """Fit the pooled model on every claim-year, summarise it for the profiled claim (claim_profile.csv) as of the year after
    its profile ends, and write ``settlement_posterior.nc`` and ``settlement_prior.json`` to ``out``
    (default: the shipped ``data/reference/``)."""
    from forecast.data.claims import load_claim_years, load_claim_profile
    from forecast.data.settlement_prior import Evidence, SettlementPrior, Term, load_settlement_prior
    from forecast.reference import claim_survival, fit_reference, claim_terms, save_reference_fit
    from forecast.workspace import SETTLEMENT_PRIOR_FILE, atomic_write, reference_dir

    say = progress or (lambda line: None)
    t0 = time.perf_counter()
    claims = load_claim_years()
    profile = load_claim_profile()
    claim = int(profile.frame["claim"].iloc[0])
    say(f"reference fit: {len(claims.frame):,} claim-years, {int(claims.frame['settled'].sum())} peaceful "
        f"settlements; sampling {chains} chains x {draws} draws (about 1-3 min on 2 cores)...")
    fit = fit_reference(claims, None, draws=draws, tune=tune, chains=chains, seed=seed, progress=progress)
    as_of = int(profile.frame["year"].max()) + 1
    terms = claim_terms(fit, profile, as_of)
    survival = float(claim_survival(fit, claims.frame, claim))
    out_dir = Path(out) if out is not None else reference_dir()
    shipped = out_dir.resolve() == reference_dir().resolve()
    post_path = out_dir / D.REF_POSTERIOR_FILE
    save_reference_fit(fit, post_path)  # atomic, with its identity
    e = terms.evidence
    diag = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(fit.diagnostics).items()}

    def term(x) -> Term:
        return Term(mu=round(float(x.mean()), 6), sigma=round(float(x.std()), 6))

    prior = SettlementPrior(
        claim=claim, as_of=as_of,
        terms={"level": term(terms.level), "power": term(terms.gamma_power), "trust": term(terms.gamma_trust),
               "capacity": term(terms.gamma_capacity)},
        mapping={"level": "claim level (own frailty, issue, region, era, other covariates)",
                 **{lens if lens != "leaders" else "capacity": cov for lens, cov in terms.mapping}},
        evidence=Evidence(claim_years=int(e.claim_years), settlements=int(e.settlements), claims=int(e.claims),
                          first_year=int(e.first_year), last_year=int(e.last_year), source="ICOW"),
        posterior_sha256=_sha256(post_path), data_sha256=claims.sha256, seed=seed,
        versions={k: str(v) for k, v in fit.identity.versions.items()},
        fit={"draws": draws, "tune": tune, "chains": chains, "rhat_max": float(diag["rhat_max"]),
             "ess_bulk_min": float(diag["ess_bulk_min"]), "divergences": float(diag["divergences"]),
             "seconds": round(time.perf_counter() - t0, 1)})
    prior_path = out_dir / SETTLEMENT_PRIOR_FILE
    text = prior.to_json_text()
    atomic_write(prior_path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    prior = load_settlement_prior(prior_path)   # what the main model will read, checked
    return ReferenceFitResult(prior=prior, posterior_path=post_path, prior_path=prior_path, claim_survival_value=survival,
                              diagnostics=diag, seconds=round(time.perf_counter() - t0, 1),
                              written=[post_path, prior_path], shipped=shipped)


def format_fit(r: ReferenceFitResult) -> str:
    from forecast.data.settlement_prior import format_prior

    lines = []
    if r.failures:
        lines += ["!" * 78, "!! DIAGNOSTICS FAILED: do not use this prior. " + "; ".join(r.failures),
                  "!! Refit with more draws/tuning (forecast reference fit --draws N --tune N).", "!" * 78]
    lines += [format_prior(r.prior),
              f"Posterior predictive P(no settlement of claim {r.prior.claim} in its fitted years): "
              f"{r.claim_survival_value:.3f}"]
    if r.shipped:
        lines.append(f"Wrote {r.posterior_path} and {r.prior_path}. Refit workspaces ('forecast fit'): their "
                     f"settlement priors changed.")
    else:
        lines.append(f"Wrote {r.posterior_path} and {r.prior_path}; no workspace reads this folder (they read "
                     f"the shipped data/reference/), so existing fits are unaffected.")
    return "\n".join(lines)


def backtest_reference_class(origins=None, *, draws: int = D.REF_BACKTEST_DRAWS, tune: int = D.REF_BACKTEST_TUNE,
                             chains: int = D.REFERENCE_CHAINS, seed: int = D.SEED, jobs: int | None = None,
                             scheduler: str | None = None, out: str | Path | None = None, progress=None,
                             information: str = D.REF_INFORMATION[0], fits: str | Path | None = None) -> dict:
    """The rolling-origin backtest as JSON-ready data; with ``out``, also its rows (CSV) and JSON; with
    ``fits``, each origin's posterior kept in that folder and reused when its identity matches."""
    import json

    from forecast.data.claims import load_claim_years
    from forecast.reference.backtest import reference_backtest, to_json
    from forecast.workspace import atomic_write

    claims = load_claim_years()
    kw = {} if origins is None else {"origins": tuple(origins)}
    bt = reference_backtest(claims, **kw, draws=draws, tune=tune, chains=chains, seed=seed, progress=progress,
                            jobs=jobs, scheduler=scheduler, information=information, fits_dir=fits)
    result = to_json(bt)
    if out is not None:
        import pandas as pd

        out_dir = Path(out)
        rows = pd.DataFrame(result["rows"])
        atomic_write(out_dir / "reference_backtest_rows.csv", lambda tmp: rows.to_csv(tmp, index=False))
        text = json.dumps(result, indent=2, default=float)
        atomic_write(out_dir / "reference_backtest.json", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return result


def _num(v, fmt: str) -> str:
    return "n/a" if v is None else format(v, fmt)


def format_backtest(result: dict) -> str:
    """Every forecast's pooled scores with their intervals, the skills and the targets, as text."""
    def iv(e: dict, fmt: str) -> str:
        return f"{_num(e['value'], fmt)} [{_num(e['lo'], fmt)}, {_num(e['hi'], fmt)}]"

    info = result["settings"].get("information", D.REF_INFORMATION[0])
    lines = [f"Reference-class backtest, information '{info}' ({result['interval']})"]
    for o in result["origins"]:
        lines.append(f"  origin {o['origin']}: {o['n_test']:,} test claim-years {o['origin']}-{o['end']}, "
                     f"{o['events_test']} settlements")
    lines.append(f"{'forecast':9} {'log score':>24} {'Brier':>26} {'AUC':>20} {'cal. slope':>11} {'mean/obs':>9}")
    for name, s in result["scores"].items():
        lines.append(f"{name:9} {iv(s['log'], '.4f'):>24} {iv(s['brier'], '.5f'):>26} {iv(s['auc'], '.3f'):>20} "
                     f"{_num(s['cal_slope']['value'], '.2f'):>11} {_num(s['rate_ratio']['value'], '.2f'):>9}")
    lines.append(f"Skill of the pooled model against the best baseline ({result['best_baseline']}): "
                 f"log {iv(result['skill']['log'], '+.3f')}, Brier {iv(result['skill']['brier'], '+.3f')}")
    for t, v in result["targets"].items():
        lines.append(f"  target {t}: {_num(v['value'], '+.3f')} ({v['target']}): {'met' if v['met'] else 'MISSED'}")
    return "\n".join(lines)
