"""Exports of a run, arms or sweep directory: tables, transcripts, the graph as GEXF or GraphML.

:func:`export` is the one entry (``socialsim export``): the tables (events, agents, measures)
of every run go to one file through :mod:`socialsim.experiments.export_tables`; Markdown
transcripts per agent pair and the graph go one per run, into each run directory or, with
`out`, into one folder named by each run's place (``treatment-s1.gexf``).
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path

import networkx as nx
import numpy as np

from socialsim.core.errors import ConfigError, DataFileError
from socialsim.core.rundata import as_list, event_table, load_run
from socialsim.experiments.export_tables import (
    RUN_MARKERS,
    TABLES,
    export_table,
    labelled_runs,
)
from socialsim.simulation.graphml import read_graph_xml, write_graphml, xml_text

FILES = ("transcripts", "gexf", "graphml")
KINDS = (*TABLES, *FILES)


def export(
    root: str | Path,
    what: str = "events",
    fmt: str | None = None,
    out: str | Path | None = None,
    force: bool = False,
) -> list[Path]:
    """Export `what` (events, agents, measures, transcripts, gexf, graphml) of a run, arms or
    sweep directory; return the paths written.

    Tables: one `fmt` file (csv, parquet or jsonl; parquet by default) of every run, with
    the columns that identify each (``export_table``). Transcripts and graphs: one per run,
    in each run directory, or in the folder `out`; graphml goes to ``ROOT/export-graphml``
    without `out`. An existing file is replaced only with `force`.
    """
    if what not in KINDS:
        raise ConfigError(f"--what {what!r} is not one of {', '.join(KINDS)}")
    if what in TABLES:
        return [export_table(root, what, fmt or "parquet", out, force)]
    if fmt is not None:
        raise ConfigError(
            f"--format applies to the tables ({', '.join(TABLES)}), not to {what}; leave it out"
        )
    runs = labelled_runs(root)
    if not runs:
        raise ConfigError(f"{str(root)!r} holds no finished run to export")
    if out is None and what == "graphml":
        out = Path(root) / "export-graphml"
    folder = Path(out) if out is not None else None
    if folder is not None:
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"--out {str(folder)!r} is a file; give a folder for {what}")
        targets = [folder / _file_name(r.labels["run_dir"], what) for r in runs]
    else:  # each in its run directory: transcripts/, graph.gexf
        targets = [Path(r.path) / _IN_RUN[what] for r in runs]
    taken = [t for t in targets if t.exists()]
    if taken and not force:
        raise ConfigError(
            f"{str(taken[0])!r} exists; pass --force to replace it, or --out to write elsewhere"
        )
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    writers = {"transcripts": export_transcripts, "gexf": export_gexf, "graphml": export_graphml}
    return [writers[what](r.path, t) for r, t in zip(runs, targets, strict=True)]


#: where transcripts and GEXF go in a run directory without --out
_IN_RUN = {"transcripts": "transcripts", "gexf": "graph.gexf"}


def _file_name(run_dir: str, what: str) -> str:
    """A run's file name in an export folder: its place with ``/`` as ``-`` (``run`` for one)."""
    stem = "run" if run_dir == "." else run_dir.replace("/", "-")
    return stem if what == "transcripts" else f"{stem}.{what}"


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


def export_transcripts(run_dir: str | Path, folder: str | Path | None = None) -> Path:
    """Write one Markdown transcript per pair of agents that exchanged messages into `folder`
    (``RUN/transcripts`` by default); return the folder."""
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
    folder = Path(folder) if folder is not None else run_dir / "transcripts"
    folder.mkdir(exist_ok=True)
    for (a, b), lines in sorted(pairs.items()):
        title = f"# {_md(names.get(a, a))} ({a}) and {_md(names.get(b, b))} ({b})\n\n"
        body = "\n".join(
            f"- step {step}, **{_md(names.get(s, s))}**: {_md(text)}" for step, s, text in lines
        )
        (folder / f"{a}-{b}.md").write_text(title + body + "\n", encoding="utf-8")
    return folder


def export_gexf(run_dir: str | Path, path: str | Path | None = None) -> Path:
    """Convert graph.graphml (personas and final beliefs as attributes) to GEXF at `path`
    (``RUN/graph.gexf`` by default); a run without one (above output.graphml_max_agents)
    has its graph built from edges.parquet and the personas, as ``--what graphml`` does.

    Text attributes lose the characters XML 1.0 forbids, so the file is well-formed.
    """
    run_dir = Path(run_dir)
    source = run_dir / "graph.graphml"
    if source.is_file():
        graph = read_graph_xml(source, "graphml", what="run file")
    else:
        with tempfile.TemporaryDirectory(prefix="socialsim-gexf-") as folder:
            built = export_graphml(run_dir, Path(folder) / "graph.graphml")
            graph = read_graph_xml(built, "graphml", what="run file")
    for _node, data in graph.nodes(data=True):
        for key, value in data.items():
            if isinstance(value, str):
                data[key] = xml_text(value)
    path = Path(path) if path is not None else run_dir / "graph.gexf"
    nx.write_gexf(graph, path)
    return path


def export_graphml(run_dir: str | Path, path: str | Path) -> Path:
    """Write the run's network with its node attributes as GraphML at `path` (a run of any
    size: built from edges.parquet and the personas when it kept no graph.graphml)."""
    run_dir, path = Path(run_dir), Path(path)
    network = load_run(run_dir).network
    if network is None:
        raise DataFileError(
            f"{str(run_dir)!r} holds no network (no edges.parquet with personas, no "
            "graph.graphml); export the graph of a run socialsim wrote"
        )
    edges = np.column_stack([network.src, network.dst])
    write_graphml(path, network.n, edges, network.attributes, network.directed)
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
