"""Years and dates for the tests, derived from the shipped data, never written out (issue 9).

The forecast year is the year after the last coded outcome (data/outcomes.csv), as 'forecast fit'
makes it. An update may not be dated in the future, so the dates in the forecast year used by the
tests are in its first days of January: they hold on any day once the forecast year has begun,
which it has whenever the data's last year is complete. Before then (only possible if outcomes are
coded for the running year) the tests that need them are skipped, with the reason.
"""

from __future__ import annotations

import datetime as _dt

import pytest

from forecast.data.loaders import load_dataset
from forecast.workspace import default_source

LAST_DATA_YEAR = load_dataset(default_source() / "data").last_outcome_year
FORECAST_YEAR = LAST_DATA_YEAR + 1
IN_FORECAST_YEAR = f"{FORECAST_YEAR}-01"          # a month: the first of January
IN_FORECAST_YEAR_DAY = f"{FORECAST_YEAR}-01-01"   # a day: the first of January
PAST_YEAR_MONTH = f"{LAST_DATA_YEAR - 1}-05"      # a fitted year before the last one
FUTURE_MONTH = f"{_dt.date.today().year + 1}-01"  # always in the future

needs_forecast_year = pytest.mark.skipif(
    _dt.date.today() < _dt.date(FORECAST_YEAR, 1, 1),
    reason=f"updates dated in the forecast year {FORECAST_YEAR} are refused before it begins")
