"""Keys out of error texts and event lines: known values, key shapes, and nothing else."""

from __future__ import annotations

import json

import numpy as np

from socialsim.llm.redact import REDACTED, redact, remember, remember_environment
from socialsim.simulation.log import InteractionLog


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
    remember("short")  # too short to be a key: left alone
    assert redact("echo plain-value-0123456789 short") == f"echo {REDACTED} short"
    monkeypatch.setenv("SOME_SERVICE_API_KEY", "env-held-0987654321")
    monkeypatch.setenv("UNRELATED_SETTING", "visible-0987654321")
    remember_environment()
    assert redact("a env-held-0987654321 b visible-0987654321") == (
        f"a {REDACTED} b visible-0987654321"
    )


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
