"""Cross-file checks that turn a blank or half-filled workspace into a fittable one.

Each problem names the file and the field to fill and says what to add, in the
workspace's own terms (its side ids and first year): lenses without indicators,
indicators with too few values, the coded outcomes the model needs. ``forecast data
check`` prints them; ``load_dataset`` refuses a dataset while any is open.
"""

from __future__ import annotations

from forecast import LENSES
from forecast.data.config import CONFIG_FILE, PLACEHOLDER_YEAR, WorkspaceConfig
from forecast.defaults import MAX_DISPLAY_NAME, MIN_FITTED_YEARS
from forecast.errors import Problem

META, VALUES, OUTCOMES, KINDS = "indicators_meta.csv", "indicators.csv", "outcomes.csv", "event_kinds.csv"
MIN_CODED_YEARS = MIN_FITTED_YEARS  # build_spec: the as-of year is at least first year + MIN_FITTED_YEARS - 1
LENS_HINTS = {
    "power": ("add a row with lens=power, side empty, role=state: a power shift that bears on the dyad, "
              "e.g. a capability or GDP ratio; 'forecast data prefill power' fills one from the bundled "
              "COW CINC table"),
    "trust": ("add a row with lens=trust, side empty, role=state: trust and interaction between the two "
              "sides, e.g. bilateral trade, visits, summits per year or cooperative event share"),
    "leaders": "add a row per side with lens=leaders, side=<side id>, role=state: e.g. leader or cabinet approval",
}


def validate_dataset(meta, values, outcomes, kinds, config: WorkspaceConfig | None,
                     problems: list[Problem], coded: set[int] | None = None) -> None:
    """Cross-file checks that need several tables (each may be None when its file is unusable).
    ``coded``: the years of outcomes.csv, also those of rows refused for a bad value (default: the
    years of ``outcomes``), so that such a row does not also move the span of the coded years."""
    if coded is None:
        coded = set() if outcomes is None else {int(y) for y in outcomes["year"]}
    if meta is not None:
        _lenses(meta, config, problems)
        if values is not None and len(meta):
            _coverage(meta, values, coded, problems)
    if outcomes is not None:
        _outcomes(coded, config, problems)
    if kinds is not None and kinds.empty:
        problems.append(Problem(KINDS, "no event kinds defined yet", field="kind",
                                hint="the catalogue of coded events needs at least one kind: kind, lens, weight "
                                     "(-3 to 3 state sd), weight_sd, description; data/events.csv may stay empty"))


def _lenses(meta, config: WorkspaceConfig | None, problems: list[Problem]) -> None:
    state = meta[meta["role"] == "state"]
    if meta.empty:
        problems.append(Problem(META, "no indicators defined yet", field="indicator",
                                hint="each lens needs at least one state indicator, each with a display_name (a "
                                     f"short name for people, at most {MAX_DISPLAY_NAME} characters, shown in the "
                                     "brief and the plots); see the example row and the README, 'A workspace for "
                                     "another dyad'"))
    for lens in LENSES:
        if not (state["lens"] == lens).any():
            problems.append(Problem(META, f"lens '{lens}' has no state indicators", field="lens",
                                    hint=LENS_HINTS[lens]))
    if config is None:
        return
    for side in config.sides:
        if not ((state["lens"] == "leaders") & (state["side"] == side.id)).any():
            problems.append(Problem(META, f"no leaders-lens indicator for side '{side.id}' ({side.name})",
                                    field="side", hint=f"add a row with lens=leaders, side={side.id}, role=state"))


def _coverage(meta, values, coded: set[int], problems: list[Problem]) -> None:
    """Each latent factor needs an indicator with enough values in the coded years."""
    from forecast.model.spec import MIN_OBS_PER_INDICATOR

    if coded:
        lo, hi = min(coded), max(coded)
        values = values[(values["year"] >= lo) & (values["year"] <= hi)]
        span = f"in the coded years {lo}-{hi}"
    else:
        span = "in the coded years"
    counts = values.groupby("indicator").size()
    state = meta[meta["role"] == "state"]
    groups = {}
    for ind, m in state.iterrows():
        key = (m["lens"], m["side"] if m["lens"] == "leaders" else "")
        groups.setdefault(key, []).append(ind)
    for (lens, side), inds in groups.items():
        if max(int(counts.get(i, 0)) for i in inds) < MIN_OBS_PER_INDICATOR:
            who = f"lens '{lens}'" + (f", side '{side}'" if side else "")
            problems.append(Problem(VALUES, f"no indicator of {who} has {MIN_OBS_PER_INDICATOR} or more values "
                                    f"{span} ({', '.join(inds)})", field="value",
                                    hint="the model cannot place a lens state with fewer; add values"))


def _outcomes(coded: set[int], config: WorkspaceConfig | None, problems: list[Problem]) -> None:
    first = config.first_year if config is not None and config.first_year != PLACEHOLDER_YEAR else None
    fields = ("change -2 (sharp deterioration) to 2 (major improvement), settlement 0 or 1 (1 in the year "
              "the claim is settled), a one-line justification and a source")
    if not coded:
        start = f"from {first}" if first else "from the first year"
        problems.append(Problem(OUTCOMES, "no coded years yet", field="year",
                                hint=f"code every year {start} to the last full year: {fields}"))
        return
    lo, n = min(coded), len(coded)
    if first is not None and lo != first:
        problems.append(Problem(OUTCOMES, f"coded outcomes begin in {lo}, but {CONFIG_FILE} sets first_year = "
                                f"{first}", field="year", hint=f"code every year from {first}, or set first_year "
                                f"in {CONFIG_FILE} to {lo}"))
    if n < MIN_CODED_YEARS:
        problems.append(Problem(OUTCOMES, f"only {n} coded year(s); a fit needs at least {MIN_CODED_YEARS}",
                                field="year", hint=f"code more years: {fields}"))
