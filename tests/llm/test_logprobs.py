"""Token log-probabilities: asked on each route, cached, and read as an option's probability."""

from __future__ import annotations

import math
import sqlite3

import pytest

from socialsim.llm import LLMRequest
from socialsim.llm.logprobs import from_openai, option_probability
from tests.llm.conftest import completion_body
from tests.llm.test_client_http import make_client


def token(text: str, p: float, *alts: tuple[str, float]) -> dict:
    return {"token": text, "logprob": math.log(p), "top": [[t, math.log(q)] for t, q in alts]}


ANSWER = [
    token('{"', 0.9),
    token("answer", 0.99),
    token('":', 0.95),
    token(' "', 0.8),
    token("C", 0.5, ("C", 0.5), ("A", 0.2), ("Mad", 0.2), ("B", 0.05)),
    token('",', 0.9),
    token(' "confidence": 90}', 0.9),
]


def test_the_chosen_option_is_renormalised_over_the_valid_options_at_its_token():
    # C 0.5, A 0.2, B 0.05 are options; "Mad" is not: 0.5 / 0.75
    assert option_probability(ANSWER, "answer", ("A", "B", "C", "D")) == pytest.approx(0.5 / 0.75)
    # fewer letters valid: only C and A count
    assert option_probability(ANSWER, "answer", ("A", "C")) == pytest.approx(0.5 / 0.7)


def test_a_letter_sharing_its_token_with_the_opening_quote_is_found():
    tokens = [
        token('{"answer":', 1.0),
        token(' "B', 0.6, (' "B', 0.6), (' "A', 0.3), (" {", 0.1)),
        token('"}', 1.0),
    ]
    assert option_probability(tokens, "answer", ("A", "B")) == pytest.approx(0.6 / 0.9)


@pytest.mark.parametrize(
    "tokens, why",
    [
        (None, "no log-probabilities"),
        ([], "empty"),
        ([token('{"other": "A"}', 1.0)], "the field is not in the text"),
        ([token('{"answer": "', 1.0), token("Paris", 0.9), token('"}', 1.0)], "no option"),
    ],
)
def test_no_probability_where_none_can_be_read(tokens, why):
    assert option_probability(tokens, "answer", ("A", "B")) is None, why


def test_openai_content_is_normalised_and_malformed_content_reads_as_none():
    content = [
        {"token": "A", "logprob": -0.1, "top_logprobs": [{"token": "A", "logprob": -0.1}]},
        {"token": "}", "logprob": -0.01, "top_logprobs": []},
    ]
    assert from_openai(content) == [
        {"token": "A", "logprob": -0.1, "top": [["A", -0.1]]},
        {"token": "}", "logprob": -0.01, "top": []},
    ]
    assert from_openai(None) is None
    assert from_openai([{"token": "A"}]) is None  # no logprob


def _with_logprobs(text: str) -> dict:
    body = completion_body(text)
    body["choices"][0]["logprobs"] = {
        "content": [
            {"token": text, "logprob": -0.5, "top_logprobs": [{"token": text, "logprob": -0.5}]}
        ]
    }
    return body


def test_the_fast_path_asks_for_logprobs_only_when_the_request_does(stub):
    stub.behaviour = lambda body, n: (200, _with_logprobs("hi"))
    with make_client(stub) as client:
        asked, plain = client.run(
            [LLMRequest(messages=[{"role": "user", "content": "a"}], logprobs=3),
             LLMRequest(messages=[{"role": "user", "content": "b"}])]
        )  # fmt: skip
    first, second = sorted(stub.bodies, key=lambda b: b["messages"][0]["content"])
    assert (first["logprobs"], first["top_logprobs"]) == (True, 3)
    assert "logprobs" not in second and "top_logprobs" not in second
    assert asked.logprobs == [{"token": "hi", "logprob": -0.5, "top": [["hi", -0.5]]}]
    assert plain.logprobs is None  # not asked: not read even though the server sent some


def test_a_server_that_refuses_logprobs_is_asked_again_without_them_and_remembered(stub):
    def behaviour(body, n):
        if "logprobs" in body:
            return 400, "logprobs are not supported by this server"
        return 200, "fine"

    stub.behaviour = behaviour
    req = LLMRequest(messages=[{"role": "user", "content": "a"}], logprobs=5)
    with make_client(stub) as client:
        [first] = client.run([req])
        [second] = client.run([LLMRequest(messages=[{"role": "user", "content": "b"}], logprobs=5)])
    assert first.ok and second.ok and first.text == "fine"
    assert first.logprobs is None and second.logprobs is None
    assert ["logprobs" in b for b in stub.bodies] == [True, False, False]


def test_logprobs_are_cached_with_the_answer_and_replayed(stub, tmp_path):
    stub.behaviour = lambda body, n: (200, _with_logprobs("hi"))
    req = LLMRequest(messages=[{"role": "user", "content": "a"}], logprobs=2)
    with make_client(stub, tmp_path, cache=True) as client:
        [live] = client.run([req])
    with make_client(stub, tmp_path, cache=True) as client:
        [again] = client.run([req])
        [plain] = client.run([LLMRequest(messages=[{"role": "user", "content": "a"}])])
    assert again.record.cached and again.logprobs == live.logprobs is not None
    assert not plain.record.cached  # a request without logprobs is another request
    assert stub.calls == 2


def test_a_cache_file_written_before_logprobs_still_opens_and_replays(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE responses (key TEXT PRIMARY KEY, model TEXT NOT NULL, text TEXT NOT "
            "NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL)"
        )
    from socialsim.llm.cache import ResponseCache, cache_key

    req = [{"role": "user", "content": "a"}]
    key = cache_key("m", req, 0.7, 10, None)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO responses VALUES (?, 'm', 'old answer', 1, 2)", (key,))
    cache = ResponseCache(path)
    hit = cache.get(key)
    assert (hit.text, hit.logprobs) == ("old answer", None)
    cache.close()


def test_litellm_choices_give_their_logprobs_as_objects_or_dicts():
    from types import SimpleNamespace as NS

    from socialsim.llm.litellm_route import _logprobs_of

    alt = NS(token="A", logprob=-0.2)
    as_objects = NS(logprobs=NS(content=[NS(token="A", logprob=-0.2, top_logprobs=[alt])]))
    as_dicts = {"logprobs": {"content": [{"token": "A", "logprob": -0.2, "top_logprobs": []}]}}
    assert _logprobs_of(as_objects) == [{"token": "A", "logprob": -0.2, "top": [["A", -0.2]]}]
    assert _logprobs_of(as_dicts) == [{"token": "A", "logprob": -0.2, "top": []}]
    assert _logprobs_of(NS(logprobs=None)) is None
