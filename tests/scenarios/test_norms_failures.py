"""Norms with LLM agents whose answers fail for a known share: failures stay missing.

The real LLMClient answers every request offline through litellm's ``mock_response``; a
third of the choice answers are unusable (an option letter the frame does not have, or a
rate-limit error) and the first judgement of each step fails.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

import socialsim as ss
from socialsim.analysis.stats import clustered_share_ci
from socialsim.core.rundata import load_run
from socialsim.llm import LLMClient
from socialsim.scenarios.norms.measures import answers_by_step, norms_summary
from socialsim.simulation.log import read_events

FRAME = "transport_jp_train_phone"
TALK = "Answer and talk on the phone"  # option A: unexpected
WHISPER = (
    "Answer briefly in a whisper to say you will call back"  # option C: okay 0.6 / unexpected 0.4
)


class MockedClient:
    """The real client; each request answered by litellm's mock_response from `answer(request, k)`.

    ``k`` counts the requests of the same template within one batch.
    """

    def __init__(self, inner: LLMClient, answer) -> None:
        self.inner = inner
        self.answer = answer

    def run(self, requests):
        seen: Counter[str] = Counter()
        for request in requests:
            k = seen[request.tag]
            seen[request.tag] += 1
            request.extra = {"mock_response": self.answer(request, k)}
        return self.inner.run(requests)

    def close(self) -> None:
        self.inner.close()


def answer(request, k: int) -> str:
    if request.tag == "norms_choice_v1":
        # agents 0 and 3 fail (a letter the frame lacks, then a provider error), 1 and 4
        # whisper (C), 2 and 5 talk (A)
        if k % 3 == 0:
            return json.dumps({"choice": "Z"}) if k == 0 else "litellm.RateLimitError"
        return json.dumps({"choice": "C" if k % 3 == 1 else "A", "justification": "why not"})
    if request.tag == "norms_judgement_v1":
        if k == 0:
            return "litellm.RateLimitError"
        return json.dumps({"judgement": "okay", "reason": "seems fine"})
    return json.dumps({"message": "Hello.", "to": "all", "beliefs": []})


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("norms_failing")
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "norms-failing",
            "seed": 3,
            "steps": 2,
            "population": {"size": 6},
            "network": {"kind": "ring"},
            "agents": {
                "policy": "llm",
                "llm": {"model": "gpt-4o-mini", "retries": 0, "cache": False},
            },
            "scenario": {
                "kind": "norms",
                "params": {"frames": [FRAME], "shuffle_options": False, "judges": True},
            },
            "output": {"dir": str(tmp_path / "runs"), "report": False, "formats": ["jsonl"]},
        }
    )
    client = MockedClient(LLMClient(cfg.agents.llm, None), answer)
    return ss.run(cfg, clients={cfg.agents.llm.model_dump_json(): client})


def payloads(run, type_: str) -> list[tuple[int, int, dict]]:
    ev = read_events(run.dir / "events.jsonl")
    return [
        (int(a), int(s), p)
        for a, s, p in zip(ev.agent, ev.step, ev.payload, strict=True)
        if isinstance(p, dict) and p.get("type") == type_
    ]


def test_failed_choices_are_logged_with_null_answers_and_never_filled_in(failing_run):
    choices = payloads(failing_run, "norm_choice")
    assert len(choices) == 12
    failed = [(a, s, p) for a, s, p in choices if p["status"] == "failed"]
    assert sorted((s, a) for a, s, _ in failed) == [(1, 0), (1, 3), (2, 0), (2, 3)]
    for _, _, p in failed:
        assert p["behaviour"] is None and p["label"] is None and p["judgements"] is None
        assert p["justification"] is None and p["category"] is None
        assert p["source"] == "llm" and p["frame_id"] == FRAME and p["error"]
    errors = {p["error"] for _, _, p in failed}
    assert any("RateLimit" in e for e in errors) and len(errors) == 2
    answered = {a: p["behaviour"] for a, s, p in choices if p["status"] == "answered" and s == 1}
    assert answered == {1: WHISPER, 2: TALK, 4: WHISPER, 5: TALK}


def test_adherence_is_over_answered_choices_only(failing_run):
    data = load_run(failing_run.dir)
    out = norms_summary(data.events, data.graph)["adherence"]
    assert out["answers"] == {"asked": 12, "answered": 8, "failed": 4}
    # the 4 whispers (modal label okay) of 8 answers: agents 1 and 4 whisper at both steps,
    # 2 and 5 talk at both; each agent's two answers are one cluster
    lo, hi = clustered_share_ci([1, 1, 0, 0, 1, 1, 0, 0], np.array([1, 1, 2, 2, 4, 4, 5, 5]))
    assert out["overall"] == {
        "asked": 12,
        "answered": 8,
        "failed": 4,
        "k": 4,
        "rate": 0.5,
        "ci_low": lo,
        "ci_high": hi,
    }
    assert out["soft"] == pytest.approx((4 * 0.6 + 4 * 0.0) / 8)
    assert out["labels"] == {"expected": 0.0, "okay": 0.5, "unexpected": 0.5}
    for step in ("1", "2"):
        cell = out["by_step"][step]
        assert (cell["asked"], cell["answered"], cell["failed"], cell["k"]) == (6, 4, 2, 2)
    contested = norms_summary(data.events)["contested"]
    assert contested["n"] == 4 and contested["adherence"] == 1.0
    assert contested["adherence_soft"] == pytest.approx(0.6)
    assert contested["annotator_labels"] == pytest.approx(
        {"expected": 0.0, "okay": 0.6, "unexpected": 0.4}
    )


def test_judgements_fail_apart_and_accuracy_uses_the_answered_ones(failing_run):
    judged = payloads(failing_run, "norm_judgement")
    # in a ring every agent has a neighbour with an answered choice: 6 judges per step
    assert len(judged) == 12
    failed = [p for _, _, p in judged if p["status"] == "failed"]
    assert len(failed) == 2 and all(p["judged_label"] is None and p["error"] for p in failed)
    answered = [p for _, _, p in judged if p["status"] == "answered"]
    whispers = sum(p["behaviour"] == WHISPER for p in answered)
    talks = sum(p["behaviour"] == TALK for p in answered)
    assert whispers + talks == 10
    out = norms_summary(load_run(failing_run.dir).events)["judgements"]
    assert out["answers"] == {"asked": 12, "answered": 10, "failed": 2}
    # every judge said "okay": right for the whisper (modal okay), wrong for talking (unexpected)
    assert out["accuracy"]["k"] == whispers and out["accuracy"]["rate"] == whispers / 10
    assert out["accuracy_norm_following"]["rate"] == (1.0 if whispers else None)
    assert out["accuracy_norm_following"]["answered"] == whispers
    assert out["accuracy_norm_breaking"]["rate"] == (0.0 if talks else None)
    assert out["contested"]["n"] == whispers
    assert out["contested"]["judged_labels"] == {
        "expected": 0.0,
        "okay": 1.0,
        "unexpected": 0.0,
    }


def test_failed_answers_by_step_are_derivable_from_the_events(failing_run):
    table = answers_by_step(load_run(failing_run.dir).events)
    rows = {(r.step, r.item): (r.asked, r.answered, r.failed) for r in table.itertuples()}
    assert rows == {
        (1, "choice"): (6, 4, 2),
        (2, "choice"): (6, 4, 2),
        (1, "judgement"): (6, 5, 1),
        (2, "judgement"): (6, 5, 1),
    }
