"""Pure functions over run outputs: DataFrames in; DataFrames, numbers and figures out.

import socialsim as ss
run = ss.analysis.load_run("runs/quickstart-s7")   # the same RunData shape as ss.run(cfg)
ss.analysis.spread.adoption_curve(run, "australia_capital", population="benign")
"""

from socialsim.analysis import (
    cascades,
    collaboration,
    io,
    network,
    norms,
    persuasion,
    plots,
    report,
    spread,
    stats,
    summarize,
)
from socialsim.analysis.io import RunData, load_run, populations
from socialsim.analysis.report import write_report
from socialsim.analysis.summarize import analyze_dir, flat_metrics, summarize_run

__all__ = [
    "RunData",
    "analyze_dir",
    "cascades",
    "collaboration",
    "flat_metrics",
    "io",
    "load_run",
    "network",
    "norms",
    "persuasion",
    "plots",
    "populations",
    "report",
    "spread",
    "stats",
    "summarize",
    "summarize_run",
    "write_report",
]
