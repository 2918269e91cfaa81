"""Prompt templates stored as files: the file stem is the template id written to the log.

Templates use ``str.format`` fields (``{beliefs}``); the values are agent text and are
inserted as data, never evaluated or re-formatted.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from importlib import resources

from socialsim.errors import SocialsimError

_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def available() -> list[str]:
    """Ids of the templates shipped with socialsim."""
    folder = resources.files(__name__)
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt"))


@lru_cache(maxsize=64)
def load_template(template_id: str) -> str:
    """The text of a template by id (SocialsimError naming the known ids if there is none)."""
    path = resources.files(__name__) / f"{template_id}.txt"
    if not _ID.match(template_id) or not path.is_file():
        known = ", ".join(available())
        raise SocialsimError(
            f"prompt template {template_id!r} does not exist; known templates: {known}"
        )
    return path.read_text(encoding="utf-8")


def fields(template_id: str) -> set[str]:
    """The field names a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(load_template(template_id)) if name}


def render(template_id: str, **values: object) -> str:
    """Fill a template's fields with the given values (each inserted as plain text)."""
    missing = fields(template_id) - values.keys()
    if missing:
        raise SocialsimError(
            f"prompt template {template_id!r} needs {', '.join(sorted(missing))}; "
            f"given: {', '.join(sorted(values)) or 'nothing'}"
        )
    return load_template(template_id).format_map({k: str(v) for k, v in values.items()})
