"""socialsim.testing: the scripted client answers and records as a model server would."""

import json
import subprocess
import sys

import pytest
from pydantic import BaseModel

from socialsim.llm.types import LLMRequest
from socialsim.testing import (
    Failure,
    ScriptedClient,
    StandInModel,
    clients_for,
    fitted,
    run_scripted,
    small_config,
    small_model,
)


class Vote(BaseModel):
    choice: str
    confidence: int = 50


def ask(text: str, schema=Vote, tag="vote") -> LLMRequest:
    return LLMRequest(messages=[{"role": "user", "content": text}], schema=schema, tag=tag)


def test_each_answer_form_becomes_the_result_the_real_client_gives():
    client = ScriptedClient(
        [
            '{"choice": "A"}',
            {"choice": "B", "confidence": 9},
            Vote(choice="C"),
            None,
            Failure("timed out (agents.llm.call_timeout)", text="{partial"),
            "no json here",
            {"confidence": 3},
        ]
    )
    results = client.run([ask(f"q{i}") for i in range(7)])
    assert [r.value.choice for r in results[:3]] == ["A", "B", "C"]
    assert results[1].value.confidence == 9 and json.loads(results[1].text)["confidence"] == 9
    assert results[3].error == "HTTP 503: overloaded" and results[3].value is None
    assert results[4].error == "timed out (agents.llm.call_timeout)"
    assert results[4].text == "{partial" and results[4].record.error == results[4].error
    assert results[5].error == "structured: no JSON object in the answer"
    assert results[6].error.startswith("structured: choice: Field required")
    assert [r.ok for r in results] == [True] * 3 + [False] * 4
    assert client.failed() == 4 and client.failed("other") == 0 and client.results == results
    assert all(r.record.tag == "vote" and r.record.attempts == 1 for r in results)


def test_a_list_script_past_its_end_names_the_count():
    client = ScriptedClient(['{"choice": "A"}'])
    client.run([ask("one")])
    with pytest.raises(IndexError, match="request 2 asked, the script has 1 answers"):
        client.run([ask("two")])


def test_requests_and_prompts_are_recorded_per_batch_and_tag():
    positions = []

    def answer(request):
        positions.append(client.position)
        return {"choice": request.messages[-1]["content"][-1]}

    client = ScriptedClient(answer)
    client.run([ask("pick A"), ask("pick B", tag="other")])
    client.run([ask("pick C")])
    assert positions == [0, 1, 0]  # each request's place in its batch
    assert [len(b) for b in client.batches] == [2, 1] and client.calls == 3
    assert client.tags() == ["vote", "other", "vote"]
    assert client.prompts() == ["pick A", "pick B", "pick C"]
    assert client.prompts("vote") == ["pick A", "pick C"]
    assert [r.messages[-1]["content"] for r in client.tagged("other")] == ["pick B"]


def test_map_builds_answers_and_handles_one_item_at_a_time_unless_not_pipelined():
    events = []
    client = ScriptedClient(fitted({"choice": "A", "unused": 1}))

    def build(i):
        events.append(f"build {i}")
        return ask(f"q{i}")

    out = client.map(range(3), build, lambda i, result: (i, result.value.choice))
    assert out == [(0, "A"), (1, "A"), (2, "A")]
    assert events == ["build 0", "build 1", "build 2"] and len(client.batches) == 1
    assert not hasattr(ScriptedClient([], pipelined=False), "map")
    assert hasattr(client, "map")


def test_an_answer_of_another_type_is_a_clear_error():
    with pytest.raises(TypeError, match="the script gave int"):
        ScriptedClient(lambda r: 7).run([ask("q")])


def test_a_scripted_run_shows_what_agents_were_prompted_and_logs_the_answers(tmp_path):
    answers = [{"message": "The river is fine.", "to": "all", "beliefs": {}}] * 9 + [None]
    client = ScriptedClient(answers, prompt_tokens=10)
    cfg = small_config(policy="llm", size=5, steps=2, out=tmp_path / "runs")
    run = run_scripted(cfg, client, out=tmp_path / "run")
    assert [len(b) for b in client.batches] == [5, 5]
    assert all("The river is poisoned." in " ".join(m["content"] for m in r.messages)
               for r in client.requests)  # fmt: skip
    kinds = run.events["kind"].value_counts().to_dict()
    assert kinds["llm_call"] == 10 and kinds["message"] == 9  # the last call failed
    calls = run.events[run.events.kind == "llm_call"]["payload.prompt_tokens"]
    assert (calls == 10).all()
    assert client.closed  # the run closes its clients


def test_the_same_script_and_seed_give_the_same_log():
    def answer(request):
        return {"message": f"seed {request.seed % 7}", "to": "all", "beliefs": {}}

    logs = []
    for _ in range(2):
        model = small_model(ScriptedClient(answer), policy="llm", size=6, steps=2, seed=4)
        model.run_model()
        model.close()
        logs.append(model.log.sink.lines)
    assert logs[0] == logs[1] and len(logs[0]) > 12


def test_clients_for_covers_every_llm_group_of_a_mix():
    cfg = small_config(
        agents={
            "policy": "llm",
            "mix": [{"policy": "llm", "fraction": 0.5, "llm": {"model": "openai/other"}}],
        }
    )
    client = object()
    assert clients_for(cfg, client) == {
        cfg.agents.llm.model_dump_json(): client,
        cfg.agents.mix[0].llm.model_dump_json(): client,
    }


def test_stand_in_model_records_questions_messages_and_events():
    from socialsim.simulation.queries import Question

    model = StandInModel(
        ["big", "small"], answer=lambda q: None if q.agent_id else Vote(choice="A")
    )
    answers = model.ask([Question(0, "p", Vote, "t"), Question(1, "p", Vote, "t")])
    assert answers[0].value.choice == "A" and answers[1].error == "HTTP 503: overloaded"
    model.send(0, "hi", 1, channel="pair")
    model.emit("action", agent=0, payload={"x": 1})
    assert model.sent == [(0, 1, "pair")] and model.events[0]["payload"] == {"x": 1}
    assert model.agent(1).model_string == "small" and model.neighbours(0) == [1]


def test_importing_it_loads_no_embedded_model():
    code = "import sys, socialsim.testing; print('llama_cpp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
