"""Exports of a run directory: Markdown transcripts per agent pair, and the graph as GEXF.

An arms or sweep directory holds many runs: :func:`run_dirs` finds them, and the CLI
exports each one into its own directory.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import networkx as nx

from socialsim.core.errors import DataFileError
from socialsim.core.rundata import as_list, event_table, load_run
from socialsim.simulation.graphml import read_graph_xml, xml_text

RUN_MARKERS = ("events.jsonl", "events.parquet", "events.csv")


def run_dirs(root: str | Path) -> list[Path]:
    """The run directories in `root`: itself when it is one, else every run below it (the
    arms of an arms directory, the cells of a sweep), in path order."""
    root = Path(root)
    if any((root / name).is_file() for name in RUN_MARKERS):
        return [root]
    found = {p.parent for name in RUN_MARKERS for p in root.rglob(name) if p.is_file()}
    return sorted(found)


def _events(run_dir: Path):
    """The run's events table, read by ``load_run`` (events.jsonl, .parquet or .csv)."""
    if not any((run_dir / name).is_file() for name in RUN_MARKERS):
        raise DataFileError(
            f"{str(run_dir)!r} holds no events.jsonl, events.parquet or events.csv; pass a run "
            "directory (or an arms or sweep directory holding runs)"
        )
    return load_run(run_dir).events


def export_transcripts(run_dir: str | Path) -> Path:
    """Write one Markdown transcript per pair of agents that exchanged messages; return the folder."""
    run_dir = Path(run_dir)
    events = _events(run_dir)
    names = _names(run_dir)
    pairs: dict[tuple[int, int], list[tuple[int, int, str]]] = defaultdict(list)
    messages = event_table(events, "message")

    def column(name: str) -> list:
        return messages[name].tolist() if name in messages else [None] * len(messages)

    for step, agent, recipients, text in zip(
        column("step"), column("agent"), column("recipients"), column("text"), strict=True
    ):
        sender = -1 if agent is None or agent != agent else int(agent)  # NaN: no sender
        for recipient in as_list(recipients):
            recipient = int(recipient)
            key = (min(sender, recipient), max(sender, recipient))
            pairs[key].append((int(step), sender, "" if text is None else str(text)))
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
    """Convert graph.graphml (personas and final beliefs as attributes) to graph.gexf.

    Text attributes lose the characters XML 1.0 forbids, so the file is well-formed.
    """
    run_dir = Path(run_dir)
    source = run_dir / "graph.graphml"
    if not source.is_file():
        raise DataFileError(
            f"{str(run_dir)!r} has no graph.graphml (runs above output.graphml_max_agents "
            "agents keep the network in edges.parquet only); raise output.graphml_max_agents "
            "and run again to export GEXF"
        )
    graph = read_graph_xml(source, "graphml", what="run file")
    for _node, data in graph.nodes(data=True):
        for key, value in data.items():
            if isinstance(value, str):
                data[key] = xml_text(value)
    path = run_dir / "graph.gexf"
    nx.write_gexf(graph, path)
    return path


def _names(run_dir: Path) -> dict[int, str]:
    """Persona names by agent id (the personas table; graph.graphml for older runs)."""
    names: dict[int, str] = {-1: "public post"}
    for table in ("personas.parquet", "personas.csv"):
        if (run_dir / table).exists():
            import pandas as pd

            from socialsim.core.csv_safe import read_csv

            if table.endswith("parquet"):
                frame = pd.read_parquet(run_dir / table, columns=["agent", "name"])
            else:
                frame = read_csv(run_dir / table, usecols=["agent", "name"])
            names.update(zip(frame["agent"].astype(int), frame["name"].astype(str), strict=True))
            return names
    path = run_dir / "graph.graphml"
    if path.exists():
        graph = read_graph_xml(path, "graphml", what="run file")
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
