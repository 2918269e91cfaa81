"""Keys out of error texts and event lines: known values, key shapes, and nothing else."""

from __future__ import annotations

import html
import json
from urllib.parse import quote, quote_plus

import numpy as np
import pytest

from socialsim.llm import redact as redact_module
from socialsim.llm.redact import REDACTED, redact, redact_json, remember, remember_environment
from socialsim.simulation.log import InteractionLog


@pytest.fixture(autouse=True)
def forget_remembered_keys():
    """Each test starts and ends with the keys known before it (short test keys stay here)."""
    known = set(redact_module._remembered)
    yield
    redact_module._remembered.clear()
    redact_module._remembered.update(known)
    redact_module._longest_first[:] = sorted(known, key=len, reverse=True)


def test_key_shapes_are_redacted():
    text = (
        'HTTP 401: {"error": "Incorrect API key provided: sk-proj-abcDEF0123456789xyz."} '
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload "
        'GET /v1?api_key=s3cr3tvalue&x=1 {"api_key": "in-json-123"} apiKey: abcdef99'
    )
    out = redact(text)
    for secret in ("sk-proj-abcDEF0123456789xyz", "eyJhbGciOiJIUzI1NiJ9", "s3cr3tvalue",
                   "in-json-123", "abcdef99"):  # fmt: skip
        assert secret not in out
    assert out.count(REDACTED) == 5
    assert "Bearer [redacted]" in out and "api_key=[redacted]&x=1" in out


def test_ordinary_text_is_left_alone():
    text = (
        "The task-force and risk-assessment teams met; the Bearer of news said the key "
        "point is sk-short. Keys: none."
    )
    assert redact(text) == text


def test_a_remembered_value_is_redacted_whatever_its_shape(monkeypatch):
    remember("plain-value-0123456789")
    assert redact("echo plain-value-0123456789 short") == f"echo {REDACTED} short"
    monkeypatch.setenv("SOME_SERVICE_API_KEY", "env-held-0987654321")
    monkeypatch.setenv("UNRELATED_SETTING", "visible-0987654321")
    monkeypatch.setenv("PLACEHOLDER_TOKEN", "no-key")  # a short environment value: left alone
    remember_environment()
    assert redact("a env-held-0987654321 b visible-0987654321 c no-key") == (
        f"a {REDACTED} b visible-0987654321 c no-key"
    )


def test_the_configured_key_is_redacted_however_short_in_every_encoding():
    remember("Q7x")  # a 3-character key: the configured value itself is known
    assert redact("key Q7x rejected") == f"key {REDACTED} rejected"
    key = 'pa"s s\\w/rd&<7'
    remember(key)
    forms = {
        "raw": key,
        "json": json.dumps(key)[1:-1],
        "json twice": json.dumps(json.dumps(key)[1:-1])[1:-1],
        "url": quote(key, safe=""),
        "url plus": quote_plus(key),
        "repr": repr(key)[1:-1],
        "html": html.escape(key),
    }
    assert len(set(forms.values())) == len(forms)  # each form differs from the others
    for name, form in forms.items():
        out = redact(f"HTTP 401: provided {form}. Check it")
        assert out == f"HTTP 401: provided {REDACTED}. Check it", name


def test_redacting_a_json_line_keeps_it_valid_and_its_structure_whole():
    remember("u00")  # short enough to sit inside escapes, numbers and keys
    remember("12")
    remember('k"\\')  # ends in a backslash: its JSON form ends inside an escape pair
    payload = {"message": 'bad key u00 and k"\\ and caf\u00e9 \u00ff', "step": 12, "u00": "12"}
    line = json.dumps({"kind": "error", "agent": 12, "payload": payload}, ensure_ascii=True)
    out = redact_json(line)
    row = json.loads(out)  # still JSON
    assert row["agent"] == 12 and row["payload"]["step"] == 12  # numbers untouched
    assert "u00" in row["payload"]  # object keys untouched
    assert row["payload"]["u00"] == REDACTED
    message = row["payload"]["message"]
    assert "u00" not in message and 'k"\\' not in message and message.startswith("bad key ")
    for text in (
        '"bad u00 \\\\"',
        '"x\\u00e9"',
        '"\\\\u00"',
        '"\\\\\\u00e9"',
    ):  # escapes near the key
        assert "u00" not in json.loads(redact_json(text))


def test_event_lines_are_redacted_and_stay_valid_json():
    remember("log-secret-0123456789")
    log = InteractionLog(None, "r")
    log.emit("error", step=1, agent=0, payload={"message": "HTTP 401: log-secret-0123456789"})
    log.emit_many(
        "error",
        step=1,
        agent=np.array([1, 2]),
        payload={"message": ["bad key sk-abcdefghijklmnop1234", "fine"], "where": "decide"},
    )
    log.flush()
    rows = [json.loads(line) for line in log.sink.lines]
    assert [r["payload"]["message"] for r in rows] == [
        f"HTTP 401: {REDACTED}",
        f"bad key {REDACTED}",
        "fine",
    ]
    assert "0123456789" not in log.sink.text() and "abcdefghijklmnop1234" not in log.sink.text()


def test_the_basic_credentials_of_a_url_password_are_redacted_in_every_form():
    """An endpoint that echoes its request headers shows base64("user:password")."""
    import base64

    from socialsim.llm.breaker import fix_for
    from socialsim.llm.redact import redact, remember_url_credentials

    remember_url_credentials(["http://alice:HUNTER2PASSWORD@127.0.0.1:9/v1", "http://h:1/v1"])
    basic = base64.b64encode(b"alice:HUNTER2PASSWORD").decode()
    echoed = f'{{"error": {{"message": "key=Basic {basic}, pw HUNTER2PASSWORD"}}}}'
    assert basic not in redact(echoed) and "HUNTER2PASSWORD" not in redact(echoed)
    assert "Basic [redacted]" in redact(echoed)
    base = "http://alice:x@127.0.0.1:9/v1"
    assert "user and password in agents.llm.api_base" in fix_for("HTTP 401: no", base, None)
    assert "$OPENAI_API_KEY" in fix_for("HTTP 401: no", "http://127.0.0.1:9/v1", None)
