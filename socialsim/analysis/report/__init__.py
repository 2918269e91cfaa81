"""A self-contained report.html for a run, an arms directory or a sweep directory.

Every page states the design (scenario, arms, replicates, seeds) and the claim's false and
true statements. A run report opens with its findings (each headline measure, its effect
against the control and the figure that draws that measure), then the other figures, the
data-quality panel, every measure (collapsed, each with a readable label) and a conversation
sample. An arms report (treatment and control replicates) opens with the effects table (each
interval with its method and n, or why there is none, and the minimum detectable effect) and
one treatment-vs-control figure per headline measure.

Figures are written to ``figures/*.png`` and embedded as base64 PNG; nothing is loaded from
the network; every piece of agent or config text is HTML-escaped. The page stays under
2 MB at any size: a large network is drawn as a seeded sample, long series are downsampled,
tables are capped, and figures past the byte budget are linked instead of embedded.

This module picks the page for a directory; ``html`` holds the shared pieces, ``wording``
the labels, claim text and design sentence, ``effects`` how an effect is shown, ``run_page``
and ``run_figures`` the run page, ``arms_page`` and ``sweep_page`` the other two. The page
byte budget and the number of claims drawn are read from this module at each call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from socialsim.analysis import plots as plots
from socialsim.analysis.report.arms_page import _arms_page
from socialsim.analysis.report.arms_page import _benign_adoption as _benign_adoption
from socialsim.analysis.report.html import (
    _STYLE,
    MAX_CELL,
    MAX_CONFIG,
    MAX_PAGE_BYTES,
    TABLE_ROWS,
    _e,
    _Figures,
    _read_json,
    html_table,
)
from socialsim.analysis.report.html import _lookup as _lookup
from socialsim.analysis.report.run_figures import CASCADE_ADOPTERS, NETWORK_SAMPLE
from socialsim.analysis.report.run_page import (
    MAX_CLAIMS,
    MAX_TEXT,
    MEASURE_ROWS,
    SAMPLE_MESSAGES,
    STEP_ROWS,
    _run_page,
)
from socialsim.analysis.report.sweep_page import _sweep_page
from socialsim.analysis.summarize import require_run
from socialsim.core.errors import DataFileError
from socialsim.core.rundata import RunData, load_run, refuse_links

__all__ = [
    "CASCADE_ADOPTERS",
    "MAX_CELL",
    "MAX_CLAIMS",
    "MAX_CONFIG",
    "MAX_PAGE_BYTES",
    "MAX_TEXT",
    "MEASURE_ROWS",
    "NETWORK_SAMPLE",
    "SAMPLE_MESSAGES",
    "STEP_ROWS",
    "TABLE_ROWS",
    "html_table",
    "write_report",
]


def _summary_of(root: Path) -> tuple[dict[str, Any], RunData | None]:
    """The directory's summary.json, and the run when it had to be read for it. A sweep's
    may be missing (its page reads its results); a run without one has its measures taken
    now (nothing written) unless it was killed before it finished (then, as an unreadable
    one, a DataFileError naming what to do)."""
    from socialsim.analysis.summarize import refuse_unfinished, summarize_run

    path = root / "summary.json"
    if not path.is_file():
        if (root / "results.csv").is_file() or (root / "results.parquet").is_file():
            return {}, None
        refuse_unfinished(root)
        run = load_run(root)
        return summarize_run(run), run
    summary = _read_json(path)
    if not summary:
        raise DataFileError(
            f"{str(path)!r} cannot be read as the summary socialsim writes; write it again "
            f"with `socialsim analyze {root}`"
        )
    return summary, None


def write_report(
    run_dir: str | Path, data: RunData | None = None, summary: dict[str, Any] | None = None
) -> Path:
    """Write DIR/report.html (and DIR/figures/*.png) for a run, arms or sweep directory.

    `data` is the run's :class:`RunData` and `summary` its summary.json; each is read from
    the directory when not given.
    """
    root = Path(run_dir)
    refuse_links(root)
    if data is None and summary is None:
        is_sweep = (root / "results.csv").is_file() or (root / "results.parquet").is_file()
        if not is_sweep and not (root / "summary.json").is_file():
            require_run(root)
    if summary is None and data is not None:
        summary = data.summary
    elif summary is None:
        summary, data = _summary_of(root)
    figs = _Figures(root)
    if summary.get("kind") == "arms":
        title, meta, body = _arms_page(root, summary, figs)
    elif (root / "results.csv").is_file() or (root / "results.parquet").is_file():
        title, meta, body = _sweep_page(root, figs)
    else:
        run = data if data is not None else load_run(root)
        title, meta, body = _run_page(root, run, summary, figs, MAX_CLAIMS)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>{meta}{body}</body></html>\n"
    )
    out = root / "report.html"
    out.write_text(figs.embed(page, MAX_PAGE_BYTES), encoding="utf-8")
    return out
