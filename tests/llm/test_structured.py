"""Parsing, validation and the repair prompt for structured output."""

from __future__ import annotations

from pydantic import BaseModel, Field

from socialsim.llm.structured import extract_json, parse, repair_messages, response_format


class Stance(BaseModel):
    credence: float = Field(ge=0, le=1)
    reason: str


def test_extract_json_strips_fences_and_prose():
    assert extract_json('```json\n{"a": 1}\n```') == '{"a": 1}'
    assert extract_json('Sure! {"a": {"b": "}"}} hope this helps') == '{"a": {"b": "}"}}'
    assert extract_json("no object here") is None


def test_parse_returns_a_validated_instance():
    value, error = parse('Here: {"credence": 0.3, "reason": "weak source"}', Stance)
    assert error is None
    assert value == Stance(credence=0.3, reason="weak source")


def test_parse_names_the_invalid_field_and_never_raises():
    value, error = parse('{"credence": 3, "reason": "x"}', Stance)
    assert value is None and "credence" in error
    value, error = parse("{not json at all", Stance)
    assert value is None and error
    value, error = parse("", Stance)
    assert value is None and error


def test_response_format_forms():
    openai_style = response_format(Stance)
    assert openai_style["type"] == "json_schema"
    assert openai_style["json_schema"]["name"] == "Stance"
    assert "credence" in openai_style["json_schema"]["schema"]["properties"]
    llama_style = response_format(Stance, "json_object")
    assert llama_style["type"] == "json_object"
    assert llama_style["schema"]["required"] == ["credence", "reason"]


def test_repair_messages_show_the_answer_and_the_error():
    msgs = repair_messages([{"role": "user", "content": "q"}], "bad", "credence: missing", Stance)
    assert msgs[0] == {"role": "user", "content": "q"}
    assert msgs[1] == {"role": "assistant", "content": "bad"}
    assert "credence: missing" in msgs[2]["content"] and "JSON" in msgs[2]["content"]


def test_parse_accepts_raw_line_breaks_inside_strings():
    value, error = parse('{"credence": 0.4, "reason": "first line\nsecond\tline"}', Stance)
    assert error is None and value.reason == "first line\nsecond\tline"
    value, error = parse('{"credence": 4, "reason": "a\nb"}', Stance)  # content still checked
    assert value is None and "credence" in error
