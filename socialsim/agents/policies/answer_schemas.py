"""The JSON schemas an LLM agent's answer must follow: the full decision and the compact talk.

Both are pydantic models built per set of claims in play, with the limits that steer
constrained decoding on a small model (string lengths, a sentence pattern, recipients as an
enum). :class:`~socialsim.agents.policies.llm.LLMPolicy` asks for them and repairs what
comes back.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, create_model

# One sentence of 5 to 17 plain words ending in . ! or ?: what the compact answer's message
# must match, so that constrained decoding on a small model yields a sentence, not debris.
SENTENCE_PATTERN = "^[A-Z][A-Za-z']*( [A-Za-z',-]+){4,16}[.!?]$"


def decision_schema(
    claim_ids: tuple[str, ...],
    extra_fields: dict[str, tuple[type, Any]] | None = None,
    max_chars: int = 120,
    recipients: tuple[str, ...] = (),
) -> type[BaseModel]:
    """The structured answer asked of the model: message, recipient, beliefs, extra fields.

    Every claim in play gets a required entry under `beliefs` (so constrained decoding
    always yields a credence), `to` is an enum of 'all', 'none' and the neighbours' labels,
    and strings carry a maxLength so the answer closes within the token budget. These limits
    steer decoding; validation stays lenient and the policy repairs values itself.
    """
    entry = {
        "type": "object",
        "properties": {
            "reason": {"type": "string", "maxLength": 40},
            "credence": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["reason", "credence"],
    }
    beliefs_schema = {
        "type": "object",
        "description": "for every claim id: how sure you are it is true (0..1) and why",
        "properties": {cid: entry for cid in claim_ids},
        "required": list(claim_ids),
    }
    to_extra: dict[str, Any] = {"enum": ["all", "none", *recipients]} if recipients else {}
    return create_model(
        "AgentDecision",
        message=(
            str,
            Field(
                ...,
                description="what you say; empty to stay silent",
                json_schema_extra={"maxLength": max_chars},
            ),
        ),
        to=(
            str,
            Field(
                ..., description="'all', 'none' or a neighbour's name", json_schema_extra=to_extra
            ),
        ),
        beliefs=(Any, Field(..., json_schema_extra=beliefs_schema)),
        **(extra_fields or {}),
    )


def compact_schema(
    claim_ids: tuple[str, ...],
    extra_fields: dict[str, tuple[type, Any]] | None = None,
    recipients: tuple[str, ...] = (),
) -> type[BaseModel]:
    """The compact answer: credence first, then one sentence, then its recipient.

    One claim gets ``credence`` (a number), several get ``credences`` (claim id -> number),
    none gets neither. The credence comes first so the sentence is written knowing it, and
    the message must match :data:`SENTENCE_PATTERN`; staying silent is ``to: "none"``.
    """
    number = {"type": "number", "minimum": 0, "maximum": 1}
    belief: dict[str, Any] = {}
    if len(claim_ids) == 1:
        belief["credence"] = (
            float,
            Field(..., description="how sure you are the claim is true", json_schema_extra=number),
        )
    elif claim_ids:
        nested = {"properties": {c: number for c in claim_ids}, "required": list(claim_ids)}
        belief["credences"] = (Any, Field(..., json_schema_extra={"type": "object", **nested}))
    to_extra: dict[str, Any] = {"enum": ["all", "none", *recipients]} if recipients else {}
    return create_model(
        "AgentTalk",
        **belief,
        message=(
            str,
            Field(
                ...,
                description="one short sentence about the claim"
                if claim_ids
                else "one short sentence",
                json_schema_extra={"pattern": SENTENCE_PATTERN},
            ),
        ),
        to=(str, Field(..., description="'all', 'none' or a name", json_schema_extra=to_extra)),
        **(extra_fields or {}),
    )


def with_recipients(schema: dict[str, Any], recipients: tuple[str, ...]) -> dict[str, Any]:
    """A decision's JSON schema with ``to`` limited to 'all', 'none' and `recipients` (the
    input is not changed; only the dicts on the path to ``to`` are copied)."""
    props = schema["properties"]
    to = {**props["to"], "enum": ["all", "none", *recipients]}
    return {**schema, "properties": {**props, "to": to}}


__all__ = ["SENTENCE_PATTERN", "compact_schema", "decision_schema", "with_recipients"]
