"""Pure functions over run outputs: DataFrames in; DataFrames, numbers and figures out.

import socialsim as ss
run = ss.analysis.load_run("runs/quickstart-s7")   # the same RunData shape as ss.run(cfg)
ss.analysis.spread.adoption_curve(run, "australia_capital", population="benign")
"""

from socialsim.analysis import (
    cascades,
    network,
    plots,
    report,
    spread,
    stats,
    summarize,
)
from socialsim.analysis.report import write_report
from socialsim.analysis.summarize import analyze_dir, flat_metrics, summarize_run
from socialsim.core import rundata as io
from socialsim.core.rundata import RunData, load_run, populations

__all__ = [
    "RunData",
    "analyze_dir",
    "cascades",
    "flat_metrics",
    "io",
    "load_run",
    "network",
    "plots",
    "populations",
    "report",
    "spread",
    "stats",
    "summarize",
    "summarize_run",
    "write_report",
]
