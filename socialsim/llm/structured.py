"""Structured output: pydantic schema -> response_format -> parse -> validate -> one repair round.

Parsing is forgiving about the wrapping (code fences, prose around the object) and about
raw control characters inside strings, and strict about the content (the schema). It never raises: it returns the validated instance or an
error text. :func:`repair_messages` builds the one follow-up turn that shows the model its
answer and the validation error and asks for corrected JSON only.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from socialsim.llm.types import Messages

# response_format styles: OpenAI and vLLM read "json_schema"; llama.cpp servers read
# "json_object" with a "schema" key (the embedded model uses the same form).
JSON_SCHEMA = "json_schema"
JSON_OBJECT = "json_object"


@lru_cache(maxsize=4096)
def json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of a pydantic model class (computed once per class)."""
    return schema.model_json_schema()


def schema_text(schema: type[BaseModel] | dict[str, Any]) -> str:
    """A JSON schema (a pydantic class's, or a schema dict) as canonical JSON text (part of
    the cache key)."""
    if isinstance(schema, dict):
        return json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return _class_schema_text(schema)


@lru_cache(maxsize=4096)
def _class_schema_text(schema: type[BaseModel]) -> str:
    return json.dumps(json_schema(schema), sort_keys=True, separators=(",", ":"))


def response_format(
    schema: type[BaseModel] | dict[str, Any], style: str = JSON_SCHEMA
) -> dict[str, Any]:
    """The `response_format` request field asking for JSON that fits `schema` (a pydantic
    class, or the JSON schema dict to send)."""
    if isinstance(schema, dict):
        body, name = schema, str(schema.get("title") or "answer")
    else:
        body, name = json_schema(schema), schema.__name__
    if style == JSON_OBJECT:
        return {"type": "json_object", "schema": body}
    return {"type": "json_schema", "json_schema": {"name": name, "schema": body}}


def _strip_fences(text: str) -> str:
    text = text.strip()
    if text.startswith("```"):
        newline = text.find("\n")
        text = text[newline + 1 :] if newline >= 0 else text[3:]
        end = text.rfind("```")
        if end >= 0:
            text = text[:end]
    return text.strip()


def extract_json(text: str) -> str | None:
    """The outermost JSON object in `text` (code fences and surrounding prose removed)."""
    text = _strip_fences(text)
    start = text.find("{")
    if start < 0:
        return None
    depth = 0
    in_string = False
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    end = text.rfind("}")
    return text[start : end + 1] if end > start else None


def parse(text: str, schema: type[BaseModel]) -> tuple[BaseModel | None, str | None]:
    """Validate an answer against `schema`: (instance, None) or (None, what is wrong)."""
    try:
        return schema.model_validate_json(text), None
    except ValidationError:
        pass
    candidate = extract_json(text)
    if candidate is None:
        return None, "no JSON object in the answer"
    try:
        return schema.model_validate_json(candidate), None
    except ValidationError as exc:
        problem = exc
    try:  # raw line breaks or tabs inside strings, as small models write them
        return schema.model_validate(json.loads(candidate, strict=False)), None
    except ValidationError as exc:  # the JSON reads: report what is wrong inside it
        problem = exc
    except ValueError:
        pass
    errors = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
        for e in problem.errors()[:5]
    )
    return None, errors


def repair_messages(
    messages: Messages, answer: str, error: str, schema: type[BaseModel] | dict[str, Any]
) -> Messages:
    """The conversation for the repair round: the bad answer, the error, a request for JSON only."""
    return [
        *messages,
        {"role": "assistant", "content": answer},
        {
            "role": "user",
            "content": (
                f"That answer is not valid: {error}. Reply with corrected JSON only, one object "
                f"matching this JSON schema: {schema_text(schema)}"
            ),
        },
    ]
