"""Priors as data: ``priors/*.toml`` files, one per theory preset.

Each entry names a model parameter and gives its distribution, parameters, the
lens it belongs to and a written rationale. A preset may ``extends`` another and
override whole entries. Unknown keys, parameters or distribution names are
errors that name the file and the key. ``to_pymc`` is the one function that
turns an entry into a PyMC random variable; ``elicit`` turns quantiles into
parameters with PreliZ's maximum-entropy method.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from forecast.data.loaders import suggest
from forecast.errors import PriorError, Problem
from forecast.model.prior_values import (check_number, check_text, deep_nesting_at, describe,
                                         is_plain_name)

# distribution -> (parameter names, support)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "Normal": (("mu", "sigma"), "real"),
    "TruncatedNormal": (("mu", "sigma", "lower", "upper"), "real"),
    "HalfNormal": (("sigma",), "positive"),
    "LogNormal": (("mu", "sigma"), "positive"),
    "Gamma": (("alpha", "beta"), "positive"),
    "Exponential": (("lam",), "positive"),
    "Beta": (("alpha", "beta"), "unit"),
    "LogitNormal": (("mu", "sigma"), "unit"),
}
# a distribution fits a parameter whose support contains its own (a positive prior for a real effect)
WITHIN = {"unit": {"unit"}, "positive": {"positive", "unit"}, "real": {"real", "positive", "unit"}}
POSITIVE_PARAMS = {"sigma", "alpha", "beta", "lam"}

# model parameter -> (required support, shape) ; shape None = scalar
PARAMETERS: dict[str, tuple[str, int | None]] = {
    "state_persistence": ("unit", None),
    "loading_tau": ("positive", None),
    "indicator_intercept": ("real", None),
    "indicator_noise": ("positive", None),
    "cutpoints": ("real", 4),
    "beta_power": ("real", None),
    "beta_trust": ("real", None),
    "beta_leaders": ("real", None),
    "settlement_base_rate": ("unit", None),
    "gamma_power": ("real", None),
    "gamma_trust": ("real", None),
    "gamma_capacity": ("real", None),
    "delta_barrier": ("positive", None),
    "event_rate_intercept": ("real", None), "event_rate_slope": ("real", None), "event_lag_weight": ("real", None),
}
ENTRY_KEYS = {"distribution", "lens", "rationale", "elicit", "update_with", "reference"}
# parameter -> (term of the reference-class settlement prior, distribution it takes): an entry with
# ``reference = "<term>"`` gets its parameters from data/reference/settlement_prior.json
REFERENCE_TERMS = {"settlement_base_rate": ("level", "Beta"), "gamma_power": ("power", "Normal"),
                   "gamma_trust": ("trust", "Normal"), "gamma_capacity": ("capacity", "Normal")}
UPDATE_KEYS = {"trials", "events"}
ELICIT_KEYS = {"method", "lower", "upper", "mass"}
LENS_TAGS = ("power", "trust", "leaders", "measurement", "outcome", "outside-view")
PRESET_KEYS = {"name", "description", "extends"}


@dataclass(frozen=True)
class PriorSpec:
    name: str
    distribution: str
    params: dict[str, float | list[float]]
    lens: str
    rationale: str
    elicit: dict | None = None
    source_file: str = ""
    update_with: dict | None = None
    reference: str | None = None  # term of the reference-class settlement prior the parameters come from

    def resolved_params(self) -> dict[str, float | list[float]]:
        """Parameters: elicited with PreliZ first if the entry asks for it, then (Beta only)
        updated by conjugacy with ``update_with`` = {trials, events} of extra evidence."""
        params = dict(self.params) if self.elicit is None else elicit(self.distribution, self.elicit)
        if self.update_with is not None:
            params["alpha"] += self.update_with["events"]
            params["beta"] += self.update_with["trials"] - self.update_with["events"]
        return params


@dataclass(frozen=True)
class PriorSet:
    preset: str
    description: str
    priors: dict[str, PriorSpec]
    files: tuple[str, ...] = field(default_factory=tuple)
    reference: "SettlementPrior | None" = None  # noqa: F821 - the summary that entries with ``reference`` read

    def __getitem__(self, name: str) -> PriorSpec:
        return self.priors[name]


def elicit(distribution: str, spec: dict) -> dict[str, float]:
    """Maximum-entropy distribution with ``mass`` between ``lower`` and ``upper`` (PreliZ)."""
    from forecast.model import pytensor_env

    pytensor_env.configure()
    import preliz as pz

    dist = getattr(pz, distribution)()
    pz.maxent(dist, spec["lower"], spec["upper"], spec["mass"], plot=False)
    names, _ = DISTRIBUTIONS[distribution]
    return {p: float(getattr(dist, p)) for p in names}


def _parse_entry(file: str, name: str, raw, problems: list[Problem]) -> PriorSpec | None:
    if name not in PARAMETERS:
        problems.append(Problem(file, f"unknown prior '{name}'", field=name,
                                hint=suggest(name, PARAMETERS) or f"known priors: {', '.join(PARAMETERS)}"))
        return None
    if not isinstance(raw, dict):
        problems.append(Problem(file, f"'{name}' must be a table ([{name}])", field=name))
        return None
    n_before = len(problems)
    dist = raw.get("distribution")
    if not check_text(dist, file, f"{name}.distribution", problems):
        return None
    if dist not in DISTRIBUTIONS:
        problems.append(Problem(file, f"unknown distribution {dist!r} for '{name}'", field=f"{name}.distribution",
                                hint=suggest(str(dist), DISTRIBUTIONS) or f"use one of {', '.join(DISTRIBUTIONS)}"))
        return None
    pnames, support = DISTRIBUTIONS[dist]
    want_support, shape = PARAMETERS[name]
    if support not in WITHIN[want_support]:
        ok = [d for d, (_, s) in DISTRIBUTIONS.items() if s in WITHIN[want_support]]
        problems.append(Problem(file, f"'{name}' needs a distribution on the {want_support} line, "
                                f"{dist} is on the {support} line", field=f"{name}.distribution",
                                hint=f"use one of {', '.join(ok)}"))
    for key in raw:
        if key not in ENTRY_KEYS and key not in pnames:
            allowed = sorted(ENTRY_KEYS | set(pnames))
            problems.append(Problem(file, f"unknown key '{key}' in [{name}]", field=f"{name}.{key}",
                                    hint=suggest(key, allowed) or f"allowed keys: {', '.join(allowed)}"))
    rationale = raw.get("rationale", "")
    if not isinstance(rationale, str) or len(rationale.strip()) < 20:
        problems.append(Problem(file, f"[{name}] needs a written rationale (at least a sentence)",
                                field=f"{name}.rationale"))
    lens = raw.get("lens", "")
    if lens not in LENS_TAGS:
        problems.append(Problem(file, f"[{name}] has unknown lens {describe(lens)}", field=f"{name}.lens",
                                hint=f"use one of {', '.join(LENS_TAGS)}"))
    el = raw.get("elicit")
    params: dict = {}
    ref = raw.get("reference")
    if ref is not None:
        _check_reference(file, name, raw, ref, pnames, problems)
    elif el is not None:
        if not isinstance(el, dict):
            problems.append(Problem(file, f"[{name}.elicit] must be a table", field=f"{name}.elicit"))
        else:
            for key in el:
                if key not in ELICIT_KEYS:
                    problems.append(Problem(file, f"unknown key '{key}' in [{name}.elicit]",
                                            field=f"{name}.elicit.{key}",
                                            hint=suggest(key, ELICIT_KEYS) or f"allowed: {', '.join(sorted(ELICIT_KEYS))}"))
            if el.get("method") != "maxent":
                problems.append(Problem(file, f"elicitation method must be 'maxent', got {describe(el.get('method'))}",
                                        field=f"{name}.elicit.method"))
            nums = [el.get(k) for k in ("lower", "upper", "mass")]
            if all(check_number(v, file, f"{name}.elicit.{k}", problems) for k, v in zip(("lower", "upper", "mass"), nums)):
                lo, hi, mass = nums
                if not lo < hi:
                    problems.append(Problem(file, "elicit.lower must be below elicit.upper", field=f"{name}.elicit"))
                if not 0 < mass < 1:
                    problems.append(Problem(file, "elicit.mass must be between 0 and 1", field=f"{name}.elicit.mass"))
                if (support == "positive" and lo < 0) or (support == "unit" and not 0 <= lo < hi <= 1):
                    problems.append(Problem(file, f"elicit.lower and elicit.upper must lie in the support of "
                                            f"{dist} ({'0 to 1' if support == 'unit' else 'at least 0'})",
                                            field=f"{name}.elicit"))
        extra = [p for p in pnames if p in raw]
        if extra:
            problems.append(Problem(file, f"[{name}] gives both 'elicit' and parameters {extra}; give one",
                                    field=name))
    else:
        for p in pnames:
            if p not in raw:
                problems.append(Problem(file, f"[{name}] is missing parameter '{p}' of {dist}",
                                        field=f"{name}.{p}"))
                continue
            v = raw[p]
            if shape is not None and p == "mu":
                if not isinstance(v, list) or len(v) != shape:
                    problems.append(Problem(file, f"'{name}.mu' must be a list of {shape} numbers",
                                            field=f"{name}.mu"))
                    continue
                if not all(check_number(x, file, f"{name}.mu", problems) for x in v):
                    continue
                if any(b <= a for a, b in zip(v, v[1:])):
                    problems.append(Problem(file, f"'{name}.mu' must be strictly increasing", field=f"{name}.mu"))
                params[p] = [float(x) for x in v]
                continue
            if not check_number(v, file, f"{name}.{p}", problems):
                continue
            if p in POSITIVE_PARAMS and v <= 0:
                problems.append(Problem(file, f"'{name}.{p}' must be positive, got {v}", field=f"{name}.{p}"))
            params[p] = float(v)
        if dist == "TruncatedNormal" and {"lower", "upper"} <= set(params) and not params["lower"] < params["upper"]:
            problems.append(Problem(file, f"'{name}.lower' must be below '{name}.upper'", field=f"{name}.lower"))
    upd = raw.get("update_with")
    if upd is not None:
        if dist != "Beta" or not isinstance(upd, dict):
            problems.append(Problem(file, f"[{name}] update_with needs a Beta distribution and a table "
                                    f"{{trials = N, events = M}}", field=f"{name}.update_with"))
        else:
            for key in upd:
                if key not in UPDATE_KEYS:
                    problems.append(Problem(file, f"unknown key '{key}' in [{name}.update_with]",
                                            field=f"{name}.update_with.{key}",
                                            hint=suggest(key, UPDATE_KEYS) or "allowed: events, trials"))
            n, k = upd.get("trials"), upd.get("events")
            if not (all(isinstance(x, int) and not isinstance(x, bool) for x in (n, k)) and 0 <= k <= n):
                problems.append(Problem(file, f"[{name}] update_with needs whole numbers 0 <= events <= trials",
                                        field=f"{name}.update_with"))
    if len(problems) > n_before:
        return None
    return PriorSpec(name=name, distribution=dist, params=params, lens=lens,
                     rationale=rationale.strip(), elicit=el, source_file=file, update_with=upd, reference=ref)


def _check_reference(file: str, name: str, raw: dict, ref, pnames, problems: list[Problem]) -> None:
    """An entry that takes its parameters from the reference-class settlement prior names the
    term for its parameter, the distribution the term is moment-matched to, and nothing else."""
    if name not in REFERENCE_TERMS:
        problems.append(Problem(file, f"[{name}] cannot take 'reference': only {', '.join(REFERENCE_TERMS)} "
                                "are learned from the reference class", field=f"{name}.reference"))
        return
    term, dist = REFERENCE_TERMS[name]
    if ref != term:
        problems.append(Problem(file, f"[{name}] reference must be {term!r}, got {describe(ref)}",
                                field=f"{name}.reference"))
    if raw.get("distribution") != dist:
        problems.append(Problem(file, f"[{name}] with reference = {term!r} needs distribution = {dist!r}",
                                field=f"{name}.distribution"))
    given = [k for k in (*pnames, "elicit", "update_with") if k in raw]
    if given:
        problems.append(Problem(file, f"[{name}] takes its parameters from the reference class; remove "
                                f"{', '.join(given)} or remove 'reference'", field=f"{name}.reference"))


def _read_toml(path: Path, problems: list[Problem]) -> dict | None:
    try:
        raw = path.read_bytes()
        # checked before parsing: tomllib recurses per level, and whether it gives up depends on the
        # interpreter's recursion limit at the time (which other libraries may have raised)
        deep = deep_nesting_at(raw.decode("utf-8", errors="replace"))
        if deep is not None:
            problems.append(Problem(path.name, "arrays or tables nested too deeply to read", row=deep[0],
                                    field=deep[1]))
            return None
        return tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(path.name, f"not valid TOML: {exc}"))
    except UnicodeDecodeError:
        problems.append(Problem(path.name, "not valid UTF-8 text"))
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        row, key = deep_nesting_at(path.read_text(encoding="utf-8", errors="replace")) or (None, None)
        problems.append(Problem(path.name, "arrays or tables nested too deeply to read", row=row, field=key))
    except OSError as exc:
        problems.append(Problem(path.name, f"cannot be read: {exc.strerror or exc}"))
    return None


def available_presets(priors_dir: Path) -> list[str]:
    return sorted(p.stem for p in priors_dir.glob("*.toml"))


def _preset_exists(priors_dir: Path, name: str) -> bool:
    """``name`` is a preset of this priors/ folder: a plain name, and one of the files the content
    hash covers (``available_presets`` globs as ``Workspace.content_files`` does)."""
    return is_plain_name(name) and (priors_dir / f"{name}.toml").is_file() and name in available_presets(priors_dir)


def load_preset(priors_dir: Path, preset: str = "default") -> PriorSet:
    """Load a preset (following ``extends``) and check it is complete and valid. ``extends`` names a
    preset in the same folder, so every file a preset reads is in the workspace's content hash."""
    problems: list[Problem] = []
    chain: list[str] = []
    merged: dict[str, PriorSpec] = {}
    description = ""
    name = preset
    layers = []
    parent: str | None = None
    while name is not None:
        path = priors_dir / f"{name}.toml"
        if not _preset_exists(priors_dir, name):
            avail = ", ".join(available_presets(priors_dir)) or "none"
            close = suggest(name, available_presets(priors_dir))
            hint = f"{close} available presets: {avail}" if close else f"available presets: {avail}"
            if parent is None:
                problems.append(Problem(f"{name}.toml", f"preset '{name}' not found in {priors_dir}", hint=hint))
            else:
                problems.append(Problem(parent, f"extends '{name}', which is not a preset in {priors_dir}",
                                        field="preset.extends", hint=hint))
            raise PriorError(problems)
        if name in chain:
            raise PriorError([Problem(path.name, f"'extends' makes a cycle: {' -> '.join(chain + [name])}",
                                      field="preset.extends")])
        chain.append(name)
        raw = _read_toml(path, problems)
        if raw is None:
            raise PriorError(problems)
        head = raw.get("preset", {})
        if not isinstance(head, dict):
            problems.append(Problem(path.name, "[preset] must be a table", field="preset"))
            head = {}
        for key in head:
            if key not in PRESET_KEYS:
                problems.append(Problem(path.name, f"unknown key '{key}' in [preset]", field=f"preset.{key}",
                                        hint=suggest(key, PRESET_KEYS) or f"allowed: {', '.join(sorted(PRESET_KEYS))}"))
        if check_text(head.get("name"), path.name, "preset.name", problems) and head.get("name", name) != name:
            problems.append(Problem(path.name, f"preset.name '{head.get('name')}' does not match the file name",
                                    field="preset.name", hint=f"rename it to '{name}'"))
        if check_text(head.get("description"), path.name, "preset.description", problems) and not description:
            description = head.get("description", "")
        entries = {}
        for key, value in raw.items():
            if key == "preset":
                continue
            spec = _parse_entry(path.name, key, value, problems)
            if spec is not None:
                entries[key] = spec
        layers.append(entries)
        parent = path.name
        name = head.get("extends")
        if not check_text(name, path.name, "preset.extends", problems):
            name = None
        elif name is not None and not is_plain_name(name):
            problems.append(Problem(path.name, f"extends {describe(name)}, which is a path, not a preset name",
                                    field="preset.extends", hint=f"'extends' names a preset in the same "
                                    f"{priors_dir.name}/ folder, without '.toml', e.g. extends = \"default\""))
            name = None
    for entries in reversed(layers):
        merged.update(entries)
    if not problems:
        for pname in PARAMETERS:
            if pname not in merged:
                problems.append(Problem(f"{preset}.toml", f"no prior for '{pname}' (nor in the presets it extends)",
                                        field=pname))
    if problems:
        raise PriorError(problems)
    reference = None
    if any(spec.reference for spec in merged.values()):
        from forecast.model.prior_reference import resolve_references

        merged, reference = resolve_references(merged)
    return PriorSet(preset=preset, description=description, priors=merged,
                    files=tuple(f"{n}.toml" for n in chain), reference=reference)


def check_all_presets(priors_dir: Path) -> list[Problem]:
    """Every problem of every preset, each once (presets that extend default.toml repeat its problems)."""
    problems: list[Problem] = []
    names = available_presets(priors_dir)
    if "default" not in names:
        problems.append(Problem("default.toml", f"missing from {priors_dir}", hint="restore it from 'forecast init'"))
    for n in names:
        try:
            load_preset(priors_dir, n)
        except PriorError as exc:
            problems.extend(exc.problems)
    return list(dict.fromkeys(problems))


def to_pymc(spec: PriorSpec, name: str | None = None, **kwargs):
    """The one function that turns a prior entry into a PyMC random variable.
    Must be called inside a ``pm.Model`` context."""
    from forecast.model import pytensor_env

    pytensor_env.configure()
    import pymc as pm

    params = spec.resolved_params()
    return getattr(pm, spec.distribution)(name or spec.name, **params, **kwargs)


def prior_logp(spec: PriorSpec, value):
    """Log density of a prior entry at ``value`` (a PyTensor expression), for priors placed on
    a deterministic through a Potential after a reparameterisation with unit Jacobian."""
    from forecast.model import pytensor_env

    pytensor_env.configure()
    import pymc as pm

    return pm.logp(getattr(pm, spec.distribution).dist(**spec.resolved_params()), value)


def to_numpy_draws(spec: PriorSpec, n: int, rng) -> "np.ndarray":  # noqa: F821
    """Prior draws without PyMC (for prior-vs-posterior comparisons)."""
    import numpy as np

    p = spec.resolved_params()
    d = spec.distribution
    size = (n,) if not isinstance(p.get("mu"), list) else (n, len(p["mu"]))
    if d == "Normal":
        return rng.normal(np.asarray(p["mu"]), p["sigma"], size=size)
    if d == "HalfNormal":
        return np.abs(rng.normal(0.0, p["sigma"], size=size))
    if d == "LogNormal":
        return np.exp(rng.normal(p["mu"], p["sigma"], size=size))
    if d == "Gamma":
        return rng.gamma(p["alpha"], 1.0 / p["beta"], size=size)
    if d == "Exponential":
        return rng.exponential(1.0 / p["lam"], size=size)
    if d == "Beta":
        return rng.beta(p["alpha"], p["beta"], size=size)
    if d == "LogitNormal":
        return 1.0 / (1.0 + np.exp(-rng.normal(p["mu"], p["sigma"], size=size)))
    if d == "TruncatedNormal":
        from scipy.stats import truncnorm

        a, b = (p["lower"] - p["mu"]) / p["sigma"], (p["upper"] - p["mu"]) / p["sigma"]
        return truncnorm.rvs(a, b, loc=p["mu"], scale=p["sigma"], size=n, random_state=rng)
    raise ValueError(d)


def logpdf(spec: PriorSpec, x) -> "np.ndarray":  # noqa: F821
    """Log density of a prior entry at ``x`` (numpy/scipy; elementwise), e.g. for reweighting
    stored draws from one preset's priors to another's."""
    import numpy as np
    from scipy import stats

    p = spec.resolved_params()
    d = spec.distribution
    x = np.asarray(x, float)
    if d == "Normal":
        return stats.norm.logpdf(x, np.asarray(p["mu"]), p["sigma"])
    if d == "HalfNormal":
        return stats.halfnorm.logpdf(x, scale=p["sigma"])
    if d == "LogNormal":
        return stats.lognorm.logpdf(x, s=p["sigma"], scale=np.exp(p["mu"]))
    if d == "Gamma":
        return stats.gamma.logpdf(x, p["alpha"], scale=1.0 / p["beta"])
    if d == "Exponential":
        return stats.expon.logpdf(x, scale=1.0 / p["lam"])
    if d == "Beta":
        return stats.beta.logpdf(x, p["alpha"], p["beta"])
    if d == "LogitNormal":
        with np.errstate(divide="ignore", invalid="ignore"):
            return stats.norm.logpdf(np.log(x) - np.log1p(-x), p["mu"], p["sigma"]) - np.log(x) - np.log1p(-x)
    if d == "TruncatedNormal":
        a, b = (p["lower"] - p["mu"]) / p["sigma"], (p["upper"] - p["mu"]) / p["sigma"]
        return stats.truncnorm.logpdf(x, a, b, loc=p["mu"], scale=p["sigma"])
    raise ValueError(d)
