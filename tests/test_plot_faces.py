"""What a briefing figure says on its face (forecast plot): warnings stamped on a stale or failed
fit, legends that cover no data, readable markers and tick labels. On the synthetic fit of
``test_plots`` (no sampling)."""

from __future__ import annotations

import pytest

from forecast.workspace import init_workspace
from test_plots import make_synthetic_fit, text_problems


@pytest.fixture
def failed(tmp_path):
    """A synthetic fit that failed its diagnostics."""
    ws = init_workspace(tmp_path / "ws")
    make_synthetic_fit(ws, ok=False)
    return ws


def test_failed_diagnostics_figure_keeps_its_summary_title_on_the_page(failed):
    """The table's title lists the failures: it ran off the figure's right edge on one line."""
    from forecast.report import analysis, plots

    stored, _ = analysis.load_current(failed)
    fig = plots.plot("diagnostics", analysis.compute("diagnostics", failed, stored))
    assert text_problems(fig) == []
