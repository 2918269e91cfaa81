"""Write a network with per-node attributes as GraphML, column by column.

networkx's writer builds an XML element per node and per attribute value: about 60 s for
100,000 agents with their personas. This writer formats each attribute column at once with
pandas string operations, so writing is linear in nodes x attributes + edges with a small
constant: a category column (most persona fields) is formatted once per category in use, and
text is escaped only where it holds a character to escape. ``networkx.read_graphml`` reads
the result back unchanged. Characters XML 1.0 forbids (control characters other than tab,
newline and carriage return; lone surrogates; U+FFFE and U+FFFF) are dropped from text, so
the file is always well-formed.

:func:`read_graph_xml` reads a GraphML or GEXF file safely: through defusedxml when it is
installed (entity expansion and external references refused), else with any entity
declaration refused before networkx parses it; a malformed file is a one-line
:class:`~socialsim.core.errors.DataFileError`.
"""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from socialsim.core.errors import DataFileError

HEADER = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
)


#: characters XML 1.0 does not allow in a document, even escaped
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (a persona name with a control character)."""
    return XML_FORBIDDEN.sub("", text)


#: what element content must escape, or drop (the characters XML 1.0 forbids)
_NEEDS_ESCAPE = re.compile('[&<>"\r]|' + XML_FORBIDDEN.pattern)


def _escape(values: pd.Series) -> pd.Series:
    """Text values as GraphML element content: forbidden characters dropped, markup escaped.
    Only the values that hold such a character are rewritten (most hold none)."""
    search = _NEEDS_ESCAPE.search
    marked = np.fromiter(
        (isinstance(v, str) and search(v) is not None for v in values.tolist()),
        dtype=bool,
        count=len(values),
    )
    if not marked.any():
        return values
    out = values.copy()
    out[marked] = (
        values[marked]
        .str.replace(XML_FORBIDDEN, "", regex=True)
        .str.replace("&", "&amp;", regex=False)
        .str.replace("<", "&lt;", regex=False)
        .str.replace(">", "&gt;", regex=False)
        .str.replace('"', "&quot;", regex=False)
        .str.replace("\r", "&#13;", regex=False)  # kept as written, not read as a newline
    )
    return out


def _column(values: pd.Series) -> tuple[str, pd.Series]:
    """The GraphML type of a column and its values as text (None where missing)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _categorical_column(values)
    if pd.api.types.is_bool_dtype(values):
        return "boolean", values.map({True: "true", False: "false"})
    if pd.api.types.is_integer_dtype(values):
        text = values.astype("Int64").astype(str).astype(object)
        return "long", text.where(values.notna(), None)
    if pd.api.types.is_float_dtype(values):
        text = pd.Series(
            [repr(x) for x in values.to_numpy(dtype=float).tolist()], index=values.index
        )
        return "double", text.where(values.notna(), None)
    present = values.dropna()
    if pd.api.types.infer_dtype(present, skipna=False) == "string":  # text alone: no scan
        return "string", _escape(values.astype(object).where(values.notna(), None))
    if len(present) and present.map(lambda v: isinstance(v, bool)).all():
        return "boolean", values.map(lambda v: None if v is None else ("true" if v else "false"))
    if len(present) and present.map(lambda v: isinstance(v, int) and not isinstance(v, bool)).all():
        return "long", values.map(lambda v: None if v is None or v != v else str(int(v)))
    if len(present) and present.map(lambda v: isinstance(v, float | int)).all():
        return "double", values.map(lambda v: None if v is None or v != v else repr(float(v)))
    text = values.astype(object).where(values.notna(), None)
    return "string", _escape(text.map(lambda v: v if v is None else str(v)))


def _categorical_column(values: pd.Series) -> tuple[str, pd.Series]:
    """A category column, typed and written as its values would be: each category in use is
    formatted once and every row takes its category's text."""
    codes = values.cat.codes.to_numpy()
    used = np.unique(codes[codes >= 0])
    cats = pd.Series(values.cat.categories[used].astype(object), dtype=object)
    kind, text = _column(cats)
    table = np.empty(len(used) + 1, dtype=object)  # the last slot: a missing value
    table[: len(used)] = text.to_numpy(dtype=object)
    slot = np.full(len(values.cat.categories) + 1, len(used), dtype=np.int64)
    slot[used] = np.arange(len(used))
    return kind, pd.Series(table[slot[codes]], index=values.index, dtype=object)


def write_graphml(
    path: str | Path, n_nodes: int, edges: np.ndarray, nodes: pd.DataFrame, directed: bool
) -> None:
    """Write nodes ``0..n_nodes-1`` with the columns of `nodes` (one row per node, in order)
    as attributes, and `edges` (an (m, 2) integer array)."""
    keys, columns = [], []
    for k, name in enumerate(nodes.columns):
        kind, text = _column(nodes[name].reset_index(drop=True))
        key = f"d{k}"
        keys.append(
            f'  <key id="{key}" for="node" attr.name="{_escape(pd.Series([str(name)]))[0]}" '
            f'attr.type="{kind}" />\n'
        )
        columns.append(('<data key="' + key + '">' + text + "</data>").where(text.notna(), ""))
    ids = pd.Series(np.arange(n_nodes)).astype(str)
    body = '    <node id="' + ids + '">'
    for col in columns:
        body = body + col
    body = body + "</node>\n"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER)
        fh.writelines(keys)
        kind = "directed" if directed else "undirected"
        fh.write(f'  <graph edgedefault="{kind}">\n')
        chunk = 100_000
        for start in range(0, n_nodes, chunk):
            fh.write("".join(body.iloc[start : start + chunk].tolist()))
        for start in range(0, len(edges), chunk):
            part = edges[start : start + chunk]
            fh.write("".join(f'    <edge source="{u}" target="{v}" />\n' for u, v in part.tolist()))
        fh.write("  </graph>\n</graphml>\n")


def read_graph_xml(path: str | Path, fmt: str, what: str = "network file") -> nx.Graph:
    """A GraphML (`fmt` ``"graphml"``) or GEXF file as a networkx graph, parsed safely.

    Entity declarations (a "billion laughs" file) and external references are refused;
    anything that does not parse is a one-line DataFileError naming the file and `what` it is.
    """
    path = Path(path)
    where = f"{what} {str(path)!r}"
    try:
        _refuse_entities(path)
        if fmt == "gexf":
            return nx.read_gexf(path)
        return nx.read_graphml(path)
    except DataFileError:
        raise
    except (SyntaxError, ValueError, TypeError, KeyError, IndexError, nx.NetworkXError) as exc:
        # xml.etree's ParseError is a SyntaxError; defusedxml's refusals are ValueErrors
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        label = {"graphml": "GraphML", "gexf": "GEXF"}.get(fmt, fmt)
        raise DataFileError(f"{where} is not valid {label} ({first})") from None
    except OSError as exc:
        raise DataFileError(f"{where} cannot be read ({exc.strerror or exc})") from None


def _refuse_entities(path: Path) -> None:
    """Parse `path` with defusedxml (no entities, no external references), or, without it,
    refuse a file that declares an entity before the standard parser reads it."""
    try:
        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import parse
    except ImportError:  # pragma: no cover - defusedxml is a dependency
        DefusedXmlException = None  # noqa: N806
    if DefusedXmlException is None:  # pragma: no cover
        with open(path, "rb") as fh:
            text = fh.read()
        if b"<!ENTITY" in text.upper():
            raise ValueError("it declares XML entities, which are refused")
        return
    try:
        parse(str(path))
    except DefusedXmlException as exc:
        raise ValueError(
            f"it declares XML entities or external references ({type(exc).__name__}), "
            "which are refused"
        ) from None
