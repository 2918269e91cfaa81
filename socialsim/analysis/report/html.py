"""Shared pieces of a report page: escaping, plurals, tables, details, figures, summary reading.

Every piece of agent or config text goes through :func:`_e`; figures are collected by
:class:`_Figures`, which writes each PNG under ``figures/`` and embeds it while the page
stays under its byte budget.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

MAX_PAGE_BYTES = 2_000_000
MAX_CELL = 300  # characters of one table cell
TABLE_ROWS = 60  # rows of a detail table
MAX_CONFIG = 30_000  # characters of config.yaml shown
_IMAGE = re.compile("\x00img:([^\x00]+)\x00")
Tables = list[tuple[str, pd.DataFrame]]  # (title, table) pairs shown collapsed

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;
color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.6em}.meta{color:#555;margin-top:0}.note{color:#666;font-size:.9em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.85em}
img{max-width:100%}figure{margin:.8em 0}figcaption{color:#555;font-size:.85em}
.msg{max-width:600px;white-space:pre-wrap}.finding{border-left:4px solid #4c72b0;
padding:.1em 1em;margin:1em 0}.finding h3{margin:.4em 0}.value{font-size:1.5em;font-weight:600}
.key{color:#777;font-family:monospace;font-size:.8em;margin-left:.6em;overflow-wrap:anywhere}
td .key{display:block;margin-left:0}.design{margin:.3em 0}code{white-space:nowrap}
.claim{background:#f7f7fa;border-left:4px solid #999;padding:.1em 1em;margin:.6em 0}
details{margin:.4em 0}summary{cursor:pointer}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True).replace("\x00", "")


def plural(n: Any, noun: str, many: str | None = None) -> str:
    """``plural(1, "seed")`` -> ``"1 seed"``; ``plural(3, "seed")`` -> ``"3 seeds"``."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else f"{value:.4g}"
    if isinstance(value, dict | list | tuple):
        value = json.dumps(value, default=str)
    return _e(_clip(str(value), MAX_CELL))


def html_table(frame: pd.DataFrame, max_rows: int = 200) -> str:
    """An escaped HTML table of the first `max_rows` rows of a DataFrame (long cells clipped)."""
    if frame.empty:
        return "<p>(empty)</p>"
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = [
        "<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>"
        for row in frame.head(max_rows).itertuples(index=False)
    ]
    more = (
        f'<p class="note">({plural(len(frame) - max_rows, "more row")})</p>'
        if len(frame) > max_rows
        else ""
    )
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>{more}"


def _details(title: str, content: str) -> str:
    return f"<details><summary>{_e(title)}</summary>{content}</details>"


class _Figures:
    """Writes each figure to figures/NAME.png and embeds it while the page stays in budget.

    A drawn figure becomes an HTML block holding a placeholder; :meth:`embed` fills the
    placeholders in page order (findings first), linking the PNG once the budget is spent.
    """

    def __init__(self, root: Path) -> None:
        self.dir = root / "figures"
        self.images: dict[str, str] = {}
        self.blocks: dict[str, str] = {}

    @staticmethod
    def key(name: str) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)

    def render(self, name: str, fig: Any, caption: str = "", dpi: int = 100) -> str:
        name = self.key(name)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        data = buffer.getvalue()
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / f"{name}.png").write_bytes(data)
        self.images[name] = base64.b64encode(data).decode("ascii")
        text = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
        return f'<figure id="fig-{name}">\x00img:{name}\x00{text}</figure>'

    def add(self, name: str, fig: Any, caption: str = "", dpi: int = 100) -> None:
        self.blocks[self.key(name)] = self.render(name, fig, caption, dpi)

    def take(self, name: str) -> str | None:
        return self.blocks.pop(self.key(name), None)

    def embed(self, page: str, budget: int = MAX_PAGE_BYTES) -> str:
        room = budget - len(page.encode("utf-8")) - 20_000

        def image(match: re.Match[str]) -> str:
            nonlocal room
            name = match.group(1)
            data = self.images.get(name, "")
            tag = f'<img alt="{_e(name)}" src="data:image/png;base64,{data}">'
            if data and len(tag) <= room:
                room -= len(tag)
                return tag
            return (
                f'<p class="note">Figure not embedded (the page stays under 2 MB): '
                f'<a href="figures/{quote(name)}.png">figures/{_e(name)}.png</a></p>'
            )

        return _IMAGE.sub(image, page)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _lookup(tree: Any, dotted: str) -> Any:
    """The value at a dotted key (``claims.c1.final_reach``); keys may contain dots."""
    # Not summarize.lookup: headline keys name claims and models that hold dots
    # ("collaboration.gap.gpt-4.1.gap") and may carry a leading "measures.".
    parts = dotted.split(".")
    if parts and parts[0] == "measures" and isinstance(tree, dict) and "measures" not in tree:
        parts = parts[1:]
    node, i = tree, 0
    while i < len(parts):
        if not isinstance(node, dict):
            return None
        for j in range(len(parts), i, -1):
            key = ".".join(parts[i:j])
            if key in node:
                node, i = node[key], j
                break
        else:
            return None
    return node


def _flatten(tree: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(tree, dict):
        rows = []
        for key, value in tree.items():
            rows.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return rows
    return [(prefix, tree)] if prefix else []


def _current_layout(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary in the current layout; an older one (measures under ``analysis``) is mapped."""
    if "measures" in summary or "analysis" not in summary:
        return summary
    measures = dict(summary.get("analysis") or {})
    llm = measures.pop("llm", None) or summary.get("llm")
    keys = ("name", "seed", "mode", "steps_run", "agents", "present_final")
    run = {"id": summary.get("run"), **{k: summary.get(k) for k in keys}}
    return {"run": run, "scenario": summary.get("scenario") or {}, "measures": measures, "llm": llm}


def _config_text(root: Path, config: dict[str, Any]) -> str:
    if (root / "config.yaml").is_file():
        return (root / "config.yaml").read_text(encoding="utf-8", errors="replace")
    if not config:
        return "(no config.yaml)"
    import yaml

    return yaml.safe_dump(config, sort_keys=False)


def _number(value: Any, signed: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return _fmt(value) or "n/a"
    if np.isnan(value):
        return "n/a"
    return f"{value:+.3g}" if signed else f"{value:.3g}"


def _guarded(notes: list[str], what: str, draw: Callable[[], None]) -> None:
    """Draw one part; a part that fails is named in the page instead of stopping the report."""
    try:
        draw()
    except Exception as exc:  # noqa: BLE001 - one unreadable part must not lose the report
        notes.append(f"{what}: not drawn ({type(exc).__name__}: {_clip(str(exc), 200)})")
