"""Persona files: read and write populations as JSONL or CSV.

Persona files are ``.jsonl`` (one object a line) or ``.csv`` (flat columns; ``big_five`` as
``big_five.openness``... columns or a JSON string; list fields ``;``-separated or JSON).
``load_personas`` checks every row and names the file, row and field of the first problem;
``save_personas`` writes JSONL that ``load_personas`` reads back exactly.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from socialsim.core.errors import DataFileError, require_file
from socialsim.core.persona import Persona
from socialsim.core.validation import describe_error

_LIST_FIELDS = ("values", "interests")


def _csv_row(row: dict[str, str | None]) -> dict[str, Any]:
    """A persona dict from one flat CSV row (empty cells are left to the defaults)."""
    out: dict[str, Any] = {}
    big_five: dict[str, Any] = {}
    for column, cell in row.items():
        if column is None:
            raise ValueError("row has more cells than the header")
        if cell is None or cell.strip() == "":
            continue
        cell = cell.strip()
        if column.startswith("big_five."):
            big_five[column.split(".", 1)[1]] = cell
        elif column == "big_five":
            traits = _json_cell(column, cell)
            if not isinstance(traits, dict):
                raise ValueError(f"field 'big_five': expected a JSON object, got {cell!r}")
            big_five.update(traits)
        elif column in _LIST_FIELDS and cell.startswith("["):
            out[column] = _json_cell(column, cell)
        elif column in _LIST_FIELDS:
            out[column] = [part.strip() for part in cell.split(";") if part.strip()]
        else:
            out[column] = cell
    if big_five:
        out["big_five"] = big_five
    return out


def _json_cell(column: str, cell: str) -> Any:
    try:
        return json.loads(cell)
    except json.JSONDecodeError as exc:
        raise ValueError(f"field {column!r}: not valid JSON ({exc.msg})") from None


def _read_rows(path: Path) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
    """(row word, [(row number, raw dict)]) of a .jsonl or .csv persona file."""
    suffix = path.suffix.lower()
    rows: list[tuple[int, dict[str, Any]]] = []
    if suffix in (".jsonl", ".ndjson"):
        with open(path, encoding="utf-8-sig") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataFileError(
                        f"personas file {str(path)!r} line {number}: not valid JSON ({exc.msg})"
                    ) from None
                if not isinstance(data, dict):
                    raise DataFileError(
                        f"personas file {str(path)!r} line {number}: expected a JSON object"
                    )
                rows.append((number, data))
        return "line", rows
    if suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as f:
            for number, row in enumerate(csv.DictReader(f), start=1):
                try:
                    rows.append((number, _csv_row(row)))
                except ValueError as exc:
                    raise DataFileError(
                        f"personas file {str(path)!r} row {number}: {exc}"
                    ) from None
        return "row", rows
    raise DataFileError(
        f"personas file {str(path)!r}: unknown format {suffix!r}; use .jsonl or .csv"
    )


def load_personas(path: str | Path) -> list[Persona]:
    """Personas from a .jsonl or .csv file, ordered by id (ids default to row order)."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(
            f"personas file {str(path)!r} does not exist; check population.personas "
            "('default', a generator mapping, or a .jsonl/.csv path)"
        )
    require_file(path, "personas file")  # a folder, a device: said as such
    where = f"personas file {str(path)!r}"
    try:
        word, rows = _read_rows(path)
    except UnicodeDecodeError:
        raise DataFileError(f"{where} is not UTF-8 text; save it as UTF-8") from None
    if not rows:
        raise DataFileError(f"{where} has no personas")
    with_id = [number for number, data in rows if "id" in data]
    if with_id and len(with_id) < len(rows):
        missing = next(number for number, data in rows if "id" not in data)
        raise DataFileError(
            f"{where} {word} {missing}: field 'id' is missing (other rows have one)"
        )
    personas: list[Persona] = []
    seen: dict[int, int] = {}
    for index, (number, data) in enumerate(rows):
        if not with_id:
            data = {**data, "id": index}
        try:
            persona = Persona.model_validate(data)
        except ValidationError as exc:
            raise DataFileError(f"{where} {word} {number}: {describe_error(exc)}") from None
        if persona.id >= len(rows) or persona.id in seen:
            problem = "repeats" if persona.id in seen else f"is outside 0..{len(rows) - 1}"
            raise DataFileError(
                f"{where} {word} {number}: field 'id': {persona.id} {problem}; "
                "ids must be 0..n-1, each once"
            )
        seen[persona.id] = number
        personas.append(persona)
    return sorted(personas, key=lambda p: p.id)


def save_personas(personas: list[Persona], path: str | Path) -> None:
    """Write personas as JSONL (one object a line); `load_personas` reads them back exactly."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for persona in personas:
            f.write(json.dumps(persona.model_dump(mode="json"), ensure_ascii=False) + "\n")
