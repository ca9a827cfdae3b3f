"""Every default of the toolkit, in one place.

Library functions, the CLI's options and the stored-fit records read their defaults
from here; nothing else spells these numbers.
"""

from __future__ import annotations

# --- sampling
SEED = 20161215
DRAWS = 2000
TUNE = 1000
CHAINS = 4
SAMPLER = "nutpie"
TARGET_ACCEPT = 0.95
RETRY_TARGET_ACCEPT = 0.98  # as-of fits (e.g. 2016) measured 1-4 divergences at 0.95 and 0 at 0.98

# --- backtest (per origin)
BACKTEST_DRAWS = 1000
BACKTEST_TUNE = 1000
BACKTEST_CHAINS = 2

# --- reference-class backtest (forecast reference backtest)
DEFAULT_REF_ORIGINS = (1900, 1920, 1946, 1960, 1975)  # each scores to the next origin; the last to REF_END
REF_END = 2001              # last claim-year of the reference extract (ICOW 1.1 ends in 2001)
REF_BASE_WINDOW = 30        # years of training data behind the trailing base rate (p_base_30y)
REF_INFORMATION = ("origin", "updated", "updated-level", "updated-lags", "updated-lags-level", "updated-lags-recal")
                            # what a reference-backtest forecast may read: rows before its origin (default), or rows
                            # before its own year (plus, "-lags", the lag-window covariates of its own year), optionally
                            # with a period level learned from them, or recalibrated on the earlier origins' test rows
                            # (benchmarks/reference_information.md)
REF_BOOTSTRAP = 2000        # claim-cluster bootstrap replicates
REF_LEVEL = 0.90            # central percentile interval of every score and skill
EXPERT_HAZARD_PRESET = "expert-hazard"  # the settlement hazard from expert priors only (the "prior" baseline)
REF_TARGETS = {"log_skill": 0.03, "brier_skill": 0.0, "auc": 0.70, "rate_tolerance": 0.25}  # issue 11

# --- independent fits on dask.distributed (backtest, check --refit, SBC)
SCHEDULER_TIMEOUT_S = 10    # seconds to reach a --scheduler (and to see its first worker) before giving up
SBC_CHUNK = 10              # SBC simulations per task: a worker compiles the model once per chunk

# --- P(improve): how the coded events of the forecast year enter (benchmarks/improve_candidates.md)
# contemporaneous: events of year t in the outcome of t, none at the forecast origin (a nowcast form);
# joint: events are Poisson observations of the lens states and the forecast year's are simulated;
# joint_lag: joint plus kappa times last year's event shift
OUTCOME_FORMS = ("contemporaneous", "joint", "joint_lag")
OUTCOME_FORM = "joint"
RECENT_SHIFT_YEARS = 7  # 'show' compares the forecast year's simulated event shift with these last fitted years'
MIN_FITTED_YEARS = 4  # coded outcome years an (as-of) fit needs at least

# --- forecast
HORIZONS = (5, 10)          # settlement horizons, years
PROJECTION_PATHS = 64       # simulated futures per posterior draw
PRESET = "default"
PRIOR_DRAWS = 4000         # draws of the prior-only forecast (plot probabilities, check --presets)
PPC_DRAWS = 1000           # posterior predictive draws of forecast check

# --- diagnostics and reweighting
THRESHOLDS = {"rhat_max": 1.01, "ess_bulk_min": 400, "ess_tail_min": 400, "divergences": 0, "bfmi_min": 0.3}
THRESHOLDS_TEXT = (f"R-hat < {THRESHOLDS['rhat_max']:g}, ESS >= {THRESHOLDS['ess_bulk_min']}, "
                   f"{THRESHOLDS['divergences']} divergences, E-BFMI >= {THRESHOLDS['bfmi_min']:g}")
PARETO_K_THRESHOLD = 0.7
MIN_IS_ESS = 200  # ...or half the draws for small fits: below this the reweighted posterior has collapsed

# --- briefing exports
PLOT_DPI = 200  # resolution of PNG output (and of raster parts in SVG/PDF)
STALE_AFTER_YEARS = 2  # an input whose latest value is more than this many years before the data year is stale
MAX_DISPLAY_NAME = 40  # characters of an indicator's display_name (a brief table cell, a plot label)

# --- the forecast executable (cli.main.run)
GC_THRESHOLDS = (10_000, 10, 10)  # Python's are (700, 10, 10); a warm fit spent ~2.0 s in the collector, ~0.9 s with these

# --- inputs
MIN_YEAR = 1900  # the earliest year a data file or workspace.toml may name
MAX_CSV_BYTES = 10_000_000  # a data file or an 'update --file' batch larger than this is refused unread
MAX_PROBLEMS_SHOWN = 20     # a validation error lists this many problems, then says how many more

# --- argument limits (inclusive): the CLI's options and the Python API's checks (api_args) both read these
YEAR_RANGE = (MIN_YEAR, 2100)  # --as-of, --from/--to of backtest, --first-year
DRAWS_RANGE = (10, 100_000)
TUNE_RANGE = (10, 100_000)
CHAINS_RANGE = (1, 64)
SEED_RANGE = (0, 2**32 - 1)
JOBS_RANGE = (1, 64)
SAMPLERS = ("nutpie", "pymc")
TARGET_ACCEPT_RANGE = (0.5, 0.999)
DPI_RANGE = (50, 1200)

# --- reference class: pooled hazard of peaceful settlement (forecast/reference/)
REFERENCE_ERA_EDGES = (1816, 1870, 1900, 1920, 1946, 1960, 1975, 2002)  # era k: [edge k, edge k+1); >= 2002: one more
REFERENCE_DRAWS = 1000
REFERENCE_TUNE = 1000
# gamma frailty on the real claim-years, 4 chains x 1000 draws (tune 1000), target_accept 0.9: R-hat max 1.003,
# bulk ESS min 1318 (alpha), E-BFMI min 0.87, 0 divergences, 297 s on 2 cores shared with other jobs
REFERENCE_CHAINS = 4
REFERENCE_TARGET_ACCEPT = 0.9  # 0.8 on the same data and seed: 6 divergences (R-hat 1.003, ESS 1513, E-BFMI 0.83)
REFERENCE_LOW_RANK = False    # nutpie's low-rank modified mass matrix
REFERENCE_NEW_CLAIM_YEARS = 5  # the "new claim" profile: training rows with duration below this
REFERENCE_CLAIM = 82804  # ICOW claimdy of the shipped default dyad's claim (data/reference/claim_profile.csv)
REFERENCE_LENS_WINDOW_START = 1992  # lens-mapped covariates of the claim's level: mean over 1992..as_of-1
REF_BACKTEST_DRAWS = 500      # forecast reference backtest: per origin
REF_BACKTEST_TUNE = 500
REF_POSTERIOR_FILE = "settlement_posterior.nc"  # in data/reference/: the stored pooled posterior (identity attrs)
