"""Exports of a run directory: Markdown transcripts per agent pair, and the graph as GEXF."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import networkx as nx

from socialsim.simulation.log import read_events


def export_transcripts(run_dir: str | Path) -> Path:
    """Write one Markdown transcript per pair of agents that exchanged messages; return the folder."""
    run_dir = Path(run_dir)
    events = read_events(run_dir / "events.jsonl")
    names = _names(run_dir)
    pairs: dict[tuple[int, int], list[tuple[int, int, str]]] = defaultdict(list)
    for row in events[events["kind"] == "message"].itertuples(index=False):
        sender = int(row.agent) if row.agent is not None else -1
        for recipient in row.payload.get("recipients", []):
            key = (min(sender, recipient), max(sender, recipient))
            pairs[key].append((int(row.step), sender, str(row.payload.get("text", ""))))
    folder = run_dir / "transcripts"
    folder.mkdir(exist_ok=True)
    for (a, b), lines in sorted(pairs.items()):
        title = f"# {_md(names.get(a, a))} ({a}) and {_md(names.get(b, b))} ({b})\n\n"
        body = "\n".join(
            f"- step {step}, **{_md(names.get(s, s))}**: {_md(text)}" for step, s, text in lines
        )
        (folder / f"{a}-{b}.md").write_text(title + body + "\n", encoding="utf-8")
    return folder


def export_gexf(run_dir: str | Path) -> Path:
    """Convert graph.graphml (personas and final beliefs as attributes) to graph.gexf."""
    run_dir = Path(run_dir)
    graph = nx.read_graphml(run_dir / "graph.graphml")
    path = run_dir / "graph.gexf"
    nx.write_gexf(graph, path)
    return path


def _names(run_dir: Path) -> dict[int, str]:
    """Persona names by agent id (the personas table; graph.graphml for older runs)."""
    names: dict[int, str] = {-1: "public post"}
    for table in ("personas.parquet", "personas.csv"):
        if (run_dir / table).exists():
            import pandas as pd

            frame = (pd.read_parquet if table.endswith("parquet") else pd.read_csv)(
                run_dir / table, columns=["agent", "name"]
            )
            names.update(zip(frame["agent"].astype(int), frame["name"].astype(str), strict=True))
            return names
    path = run_dir / "graph.graphml"
    if path.exists():
        graph = nx.read_graphml(path)
        for node, data in graph.nodes(data=True):
            names[int(node)] = str(data.get("name", node))
    return names


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_MARKDOWN = set("\\`*_[]()#|!~")


def _md(text: object) -> str:
    """Agent or persona text as inert Markdown: one line, HTML escaped, markup characters
    backslash-escaped (a name like ``<img onerror=...>`` or ``**x**`` shows as written)."""
    out = []
    for ch in str(text).replace("\r", " ").replace("\n", " "):
        if ch in _HTML:
            out.append(_HTML[ch])
        elif ch in _MARKDOWN:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)
