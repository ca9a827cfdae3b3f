"""report: compute (analysis and the modules it calls), then plot (plots.py), then write (export.py)."""

PLOT_KINDS = ("probabilities", "lenses", "trajectory", "drivers", "diagnostics")  # 'forecast plot KIND'
