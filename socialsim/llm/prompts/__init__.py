"""Prompt templates stored as files: the file stem is the template id written to the log.

Templates use ``str.format`` fields (``{beliefs}``); the values are agent text and are
inserted as data, never evaluated or re-formatted.

A template is one user message, or two parts headed by lines ``[system]`` and ``[user]``.
Two-part templates put what every agent shares (the task, the claims, the answer format)
in the system message, so that servers which reuse a cached prompt prefix (the embedded
model, vLLM, hosted APIs) only process each agent's own part anew.

A first line ``[answer: compact]`` asks for the compact answer (:func:`answer_form`): the
credence first, then one sentence, then its recipient, the form small models answer best.
Without it the answer is ``message``, ``to`` and ``beliefs`` with a reason per claim.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from importlib import resources

from socialsim.core.errors import SocialsimError

_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_ANSWER = re.compile(r"^\[answer: (?P<form>[a-z]+)\]\n")
ANSWER_FORMS = ("beliefs", "compact")
_PARAPHRASE = re.compile(r"^(?P<base>.+)_p(?P<n>[0-9]+)$")


def available() -> list[str]:
    """Ids of the templates shipped with socialsim."""
    folder = resources.files(__name__)
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt"))


def paraphrases(template_id: str) -> list[str]:
    """The template and its shipped rewordings ``<id>_p1``, ``<id>_p2``, ... in that order.

    A paraphrase's id stands for its whole family: ``paraphrases("decide_v2_p2")`` is
    ``paraphrases("decide_v2")``.
    """
    load_template(template_id)  # an unknown id fails here, naming the known ones
    known = available()
    match = _PARAPHRASE.match(template_id)
    base = match["base"] if match and match["base"] in known else template_id
    family = [m for m in map(_PARAPHRASE.match, known) if m and m["base"] == base]
    return [base, *(m.string for m in sorted(family, key=lambda m: int(m["n"])))]


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


def answer_form(template_id: str) -> str:
    """The answer a template asks for: "beliefs" (the default) or "compact"."""
    match = _ANSWER.match(load_template(template_id))
    if match is None:
        return "beliefs"
    if match["form"] not in ANSWER_FORMS:
        raise SocialsimError(
            f"prompt template {template_id!r} asks for answer form {match['form']!r}; "
            f"known forms: {', '.join(ANSWER_FORMS)}"
        )
    return match["form"]


def _body(template_id: str) -> str:
    """The template's text without its ``[answer: ...]`` line."""
    text = load_template(template_id)
    match = _ANSWER.match(text)
    return text[match.end() :] if match else text


def parts(template_id: str) -> dict[str, str]:
    """The template's parts: {"user": text}, or {"system": text, "user": text}."""
    return dict(_parts(template_id))


@lru_cache(maxsize=64)
def _parts(template_id: str) -> tuple[tuple[str, str], ...]:
    text = _body(template_id)
    if not text.startswith("[system]\n"):
        return (("user", text),)
    system, sep, user = text[len("[system]\n") :].partition("\n[user]\n")
    if not sep:
        raise SocialsimError(f"prompt template {template_id!r} has [system] but no [user] part")
    return (("system", system), ("user", user))


def render_parts(template_id: str, **values: object) -> dict[str, str]:
    """Each part of a template filled with the given values (inserted as plain text)."""
    _check_fields(template_id, values)
    strings = {k: str(v) for k, v in values.items()}
    return {name: text.format_map(strings) for name, text in _parts(template_id)}


def render_part(template_id: str, part: str, **values: object) -> str:
    """One part ("system" or "user") of a template filled with the given values."""
    _check_fields(template_id, values, part)
    return dict(_parts(template_id))[part].format_map({k: str(v) for k, v in values.items()})


def part_fields(template_id: str) -> dict[str, frozenset[str]]:
    """The field names each part of a template uses: {"user": ...} or {"system": ..., "user": ...}."""
    return dict(_part_fields(template_id))


@lru_cache(maxsize=64)
def _part_fields(template_id: str) -> tuple[tuple[str, frozenset[str]], ...]:
    formatter = string.Formatter()
    return tuple(
        (part, frozenset(name for _, name, _, _ in formatter.parse(text) if name))
        for part, text in _parts(template_id)
    )


def fields(template_id: str) -> set[str]:
    """The field names a template uses."""
    return set(_fields(template_id))


@lru_cache(maxsize=64)
def _fields(template_id: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(_body(template_id)) if name)


def render(template_id: str, **values: object) -> str:
    """Fill a one-part template's fields with the given values (each inserted as plain text)."""
    rendered = render_parts(template_id, **values)
    if "system" in rendered:
        raise SocialsimError(f"prompt template {template_id!r} has two parts: use render_parts")
    return rendered["user"]


def _check_fields(template_id: str, values: dict[str, object], part: str | None = None) -> None:
    """Raise naming the fields the template (or one `part` of it) needs and `values` lacks."""
    needed = _fields(template_id) if part is None else dict(_part_fields(template_id))[part]
    missing = needed - values.keys()
    if missing:
        where = "" if part is None else f" in its {part} part"
        raise SocialsimError(
            f"prompt template {template_id!r} needs {', '.join(sorted(missing))}{where}; "
            f"given: {', '.join(sorted(values)) or 'nothing'}"
        )
