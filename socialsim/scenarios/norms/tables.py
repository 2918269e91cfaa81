"""Loaders for user norm tables (CSV or TSV), and :func:`load_norms` choosing one by file type.

* **Frame tables** (NormBank-style) have columns
  ``setting, role, attribute, constraint, behaviour, label`` and optionally
  ``culture, category, frame_id``. ``role``/``attribute``/``constraint`` hold
  ``key=value`` pairs separated by ``;`` (a bare value means ``actor=value`` for roles and
  ``note=value`` otherwise). Rows with the same frame key (``frame_id``, or setting + role +
  attribute + constraint + culture) form one frame; repeated rows for one behaviour are
  annotations and add up to a label distribution. ``label`` is ``expected``, ``okay`` or
  ``unexpected``, or a distribution such as ``expected:0.6|unexpected:0.4``.
* **Rule-of-thumb tables** (Social-Chemistry-style) have columns ``rot, judgement`` and
  optionally ``situation, category, culture``; rows are grouped into one frame per
  situation (``general`` when the column is absent), one option per rule. Judgements map
  to labels by :func:`judgement_label`: numbers on the -2..2 scale (> 0.5 expected,
  < -0.5 unexpected, else okay); phrases by keywords, negative ones first ("bad", "wrong",
  "rude", "shouldn't", "not okay" -> unexpected), then "okay", "fine", "normal",
  "acceptable" -> okay, then "good", "expected", "polite", "should" -> expected.

Column names are case-insensitive; ``behavior`` is read as ``behaviour`` and
``judgment``/``rot-judgment`` as ``judgement``. A table without a ``rot`` column is read as
a frame table. Missing columns raise DataFileError naming the file and the columns; a bad
label or judgement raises it naming the file, the 1-based data row and the allowed labels.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from socialsim.core.errors import DataFileError
from socialsim.scenarios.norms.frames import (
    LABELS,
    Norm,
    NormFrame,
    NormLibrary,
    as_distribution,
    load_yaml_frames,
    normalise_culture,
)


def load_norms(path: str | Path) -> NormLibrary:
    """A library from a YAML frames file, a frame table or a rule-of-thumb table (by columns)."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"norms file {str(path)!r} does not exist")
    if path.suffix.lower() in (".yaml", ".yml"):
        return NormLibrary(load_yaml_frames(path), source=str(path))
    header, _ = _read_table(path)
    if "rot" in header:
        return load_rot_table(path)
    return load_frame_table(path)


_ALIASES = {
    "behavior": "behaviour",
    "judgment": "judgement",
    "rot-judgment": "judgement",
    "rot_judgment": "judgement",
    "rot-judgement": "judgement",
    "frame": "frame_id",
}


def _read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror})") from None
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    rows = list(reader)
    if not rows:
        raise DataFileError(f"{path}: the file is empty; expected a header row")
    header = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in rows[0]]
    records = []
    for row in rows[1:]:
        if not any(cell.strip() for cell in row):
            records.append({})
            continue
        records.append({h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)})
    return header, records


def _require(path: Path, header: list[str], needed: tuple[str, ...]) -> None:
    missing = [c for c in needed if c not in header]
    if missing:
        raise DataFileError(
            f"{path}: missing column(s) {', '.join(missing)}; expected columns {', '.join(needed)}"
        )


def _pairs(cell: str, bare_key: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in re.split(r"[;|]", cell):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            key, value = part.split("=", 1)
            out[key.strip().lower().replace(" ", "_")] = value.strip()
        else:
            out[bare_key if bare_key not in out else f"{bare_key}_{len(out)}"] = part
    return out


def _label_cell(path: Path, row: int, cell: str) -> dict[str, float]:
    try:
        if ":" in cell:
            parts = dict(p.split(":", 1) for p in cell.split("|") if p.strip())
            return as_distribution({k.strip(): float(v) for k, v in parts.items()})
        return as_distribution(cell)
    except (ValueError, TypeError):
        raise DataFileError(
            f"{path}: row {row}: label {cell!r} is not one of {', '.join(LABELS)} "
            "(or a distribution like expected:0.6|unexpected:0.4)"
        ) from None


def load_frame_table(path: str | Path) -> NormLibrary:
    """Frames from a NormBank-style CSV (see the module docstring for the columns)."""
    path = Path(path)
    header, records = _read_table(path)
    _require(path, header, ("setting", "role", "attribute", "constraint", "behaviour", "label"))
    frames: dict[str, dict[str, Any]] = {}
    votes: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for row, rec in enumerate(records, start=1):
        if not rec:
            continue
        if not rec["behaviour"]:
            raise DataFileError(f"{path}: row {row}: the behaviour cell is empty")
        dist = _label_cell(path, row, rec["label"])
        culture = normalise_culture(rec.get("culture", ""))
        key = rec.get("frame_id") or _slug(
            "|".join([rec["setting"], rec["role"], rec["attribute"], rec["constraint"], culture])
        )
        if key not in frames:
            frames[key] = {
                "id": key,
                "setting": rec["setting"],
                "roles": _pairs(rec["role"], "actor"),
                "attributes": _pairs(rec["attribute"], "note"),
                "constraints": _pairs(rec["constraint"], "note"),
                "culture": culture,
                "categories": {},
            }
        tally = votes[key].setdefault(rec["behaviour"], {})
        for label, weight in dist.items():
            tally[label] = tally.get(label, 0.0) + weight
        if rec.get("category"):
            frames[key]["categories"][rec["behaviour"]] = rec["category"].strip().lower()
    out = []
    for key, spec in frames.items():
        categories = spec.pop("categories")
        options = [
            Norm(behaviour=b, judgements=d, category=categories.get(b), culture=spec["culture"])
            for b, d in votes[key].items()
        ]
        out.append(NormFrame(**spec, options=options))
    return NormLibrary(out, source=str(path))


_NEGATIVE = (
    "not okay",
    "not ok",
    "not good",
    "not acceptable",
    "not polite",
    "not right",
    "shouldn't",
    "should not",
    "shouldnt",
    "bad",
    "wrong",
    "rude",
    "unacceptable",
    "inappropriate",
    "frowned",
    "hurtful",
    "mean",
    "disrespectful",
    "unexpected",
    "immoral",
    "illegal",
    "gross",
    "selfish",
    "not allowed",
    "discouraged",
)
_OKAY = (
    "okay",
    "ok",
    "fine",
    "normal",
    "acceptable",
    "understandable",
    "allowed",
    "reasonable",
    "common",
    "natural",
    "alright",
    "all right",
)
_POSITIVE = (
    "good",
    "expected",
    "right",
    "polite",
    "kind",
    "nice",
    "important",
    "should",
    "encouraged",
    "admirable",
    "responsible",
    "respectful",
    "thoughtful",
    "great",
    "proper",
    "courteous",
    "helpful",
    "considerate",
)


def judgement_label(value: str) -> str | None:
    """Map a rule-of-thumb judgement (a -2..2 number or a phrase) to a label; None if unknown."""
    text = value.strip().lower()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        return "expected" if number > 0.5 else "unexpected" if number < -0.5 else "okay"
    words = re.sub(r"^(it'?s|it is|you|people)\s+", "", text)
    for table, label in ((_NEGATIVE, "unexpected"), (_OKAY, "okay"), (_POSITIVE, "expected")):
        for phrase in table:
            if re.search(rf"(?<![a-z']){re.escape(phrase)}(?![a-z])", words):
                return label
    return None


def load_rot_table(path: str | Path) -> NormLibrary:
    """Frames from a rule-of-thumb table: one frame per situation, one option per rule."""
    path = Path(path)
    header, records = _read_table(path)
    _require(path, header, ("rot", "judgement"))
    frames: dict[str, dict[str, Any]] = {}
    for row, rec in enumerate(records, start=1):
        if not rec:
            continue
        label = judgement_label(rec["judgement"])
        if label is None:
            raise DataFileError(
                f"{path}: row {row}: judgement {rec['judgement']!r} maps to none of "
                f"{', '.join(LABELS)}; use a -2..2 number or a phrase like 'it's good', "
                "'it's okay', 'it's rude'"
            )
        if not rec["rot"]:
            raise DataFileError(f"{path}: row {row}: the rot cell is empty")
        situation = rec.get("situation") or "general"
        culture = normalise_culture(rec.get("culture", ""))
        key = _slug(f"rot|{situation}|{culture}")
        spec = frames.setdefault(
            key,
            {
                "id": key,
                "setting": situation,
                "situation": situation,
                "culture": culture,
                "options": {},
            },
        )
        tally = spec["options"].setdefault(rec["rot"], {"votes": {}, "category": None})
        tally["votes"][label] = tally["votes"].get(label, 0.0) + 1.0
        if rec.get("category"):
            tally["category"] = rec["category"].strip().lower()
    out = []
    for spec in frames.values():
        options = [
            Norm(
                behaviour=b, judgements=t["votes"], category=t["category"], culture=spec["culture"]
            )
            for b, t in spec.pop("options").items()
        ]
        out.append(NormFrame(**spec, options=options))
    return NormLibrary(out, source=str(path))


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:48] or "frame"
    return f"{slug}-{hashlib.sha1(text.encode()).hexdigest()[:6]}"
