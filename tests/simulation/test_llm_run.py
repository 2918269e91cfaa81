"""LLM-policy runs with a scripted client: events, failures per agent, all calls failing."""

import json

import pytest

import socialsim as ss
from socialsim.simulation.log import read_events
from socialsim.simulation.model import AllCallsFailed
from socialsim.testing import ScriptedClient


def _cfg(tmp_path, size=6, steps=2):
    return ss.ExperimentConfig.from_dict(
        {
            "name": "llm",
            "steps": steps,
            "population": {"size": size},
            "network": {"kind": "ring"},
            "claims": [{"id": "c1", "text": "The river is poisoned.", "truth": False}],
            "agents": {
                "policy": "llm",
                "llm": {"model": "openai/x", "api_base": "http://127.0.0.1:9/v1"},
            },
            "output": {"dir": str(tmp_path / "runs"), "report": False},
        }
    )


ANSWER = json.dumps(
    {"message": "Did you hear the river is poisoned?", "to": "all",
     "beliefs": {"c1": {"reason": "heard it", "credence": 0.8}}}
)  # fmt: skip


def _run(cfg, client, tmp_path, name="r"):
    return ss.run(cfg, out=tmp_path / name, clients={cfg.agents.llm.model_dump_json(): client})


def test_llm_decisions_become_messages_beliefs_and_call_records(tmp_path):
    client = ScriptedClient(lambda r: ANSWER)
    run = _run(_cfg(tmp_path), client, tmp_path)
    assert [len(b) for b in client.batches] == [
        6,
        6,
    ]  # one batch per step with every agent's request
    events = run.events
    kinds = events["kind"].value_counts().to_dict()
    assert kinds["llm_call"] == 12 and kinds["decision"] == 12 and kinds["message"] == 12
    step1 = events[(events.kind == "belief_change") & (events.step == 1)]
    assert len(step1) == 6 and (step1["payload.cause"] == "decision").all()
    msg = events[events.kind == "message"].iloc[0]
    assert len(msg["payload.recipients"]) == 2 and msg.claim == "c1"
    # step 2 decisions were made after reading step-1 messages: cause is "message"
    step2 = events[(events.kind == "decision") & (events.step == 2)]
    assert len(step2) == 6
    assert run.summary["data_quality"]["calls"] == 12
    # the prompt of step 2 includes a neighbour's message
    assert run.agents.query("step == 2")["credence"].eq(0.8).all()


def test_agents_whose_call_fails_skip_the_step_and_the_run_goes_on(tmp_path):
    client = ScriptedClient(lambda r: None if r.seed % 3 == 0 else ANSWER)
    run = _run(_cfg(tmp_path, size=12), client, tmp_path)
    events = run.events
    errors = events[events.kind == "error"]
    calls = events[events.kind == "llm_call"]
    failed_calls = calls[calls["payload.error"].notna()]
    assert len(errors) == len(failed_calls) > 0
    assert errors["payload.message"].str.contains("503").all()
    assert run.summary["data_quality"]["unusable"] == len(failed_calls)
    decided = events[events.kind == "decision"]
    assert len(decided) == 24 - len(errors)
    for step in (1, 2):
        failed = set(errors[errors.step == step].agent)
        assert failed and failed.isdisjoint(decided[decided.step == step].agent)


def test_a_step_where_every_call_fails_stops_with_a_clear_error_and_keeps_the_log(tmp_path):
    client = ScriptedClient(lambda r: None)
    with pytest.raises(AllCallsFailed, match=r"every model call of step 1 failed \(6 calls\).*503"):
        _run(_cfg(tmp_path), client, tmp_path)
    events = read_events(tmp_path / "r" / "events.jsonl")
    errors = events[events.kind == "error"]
    where = errors.payload.map(lambda p: p["where"])
    assert (where == "decide").sum() == 6  # each failed answer
    assert (where == "step").sum() == 1  # and the mark of the step the run stopped inside
    assert (tmp_path / "r" / "agents.csv").exists()


@pytest.mark.slow
def test_cli_reports_all_calls_failing_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from socialsim.cli import app

    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: x\nsteps: 1\npopulation: {size: 3}\nnetwork: {kind: ring}\n"
        "claims: [{id: c1, text: The river is poisoned.}]\n"
        "agents: {policy: llm, llm: {model: openai/x, api_base: 'http://127.0.0.1:9/v1', "
        f"retries: 0, timeout: 2, cache: false}}}}\noutput: {{dir: '{tmp_path}/runs'}}\n"
    )
    result = CliRunner().invoke(app, ["run", str(cfg), "-q"], env={"OPENAI_API_KEY": "sk-test"})
    assert isinstance(result.exception, ss.SocialsimError)
    assert "every model call of step 1 failed" in str(result.exception)
    assert (tmp_path / "runs" / "x-s0" / "events.jsonl").exists()


def test_brief_persona_shortens_the_system_prompt_and_bad_values_are_rejected(tmp_path):
    seen: list[str] = []

    def answer(request):
        seen.append(
            request.messages[-1]["content"].split("\n")[0]
        )  # v2: persona opens the user part
        return ANSWER

    cfg = _cfg(tmp_path, size=4, steps=1).with_overrides({"agents.prompt.persona": "brief"})
    legacy = _cfg(tmp_path, size=4, steps=1).with_overrides({"agents.params": {"persona": "brief"}})
    assert legacy.agents.prompt.persona == "brief" and legacy.agents.params == {}
    run = _run(cfg, ScriptedClient(answer), tmp_path)
    assert len(seen) == 4 and all(s.startswith("You are ") and s.count(".") <= 2 for s in seen)
    assert all("Education:" not in s for s in seen)
    assert run.summary["data_quality"]["calls"] == 4
    with pytest.raises(
        ss.ConfigError, match=r"agents\.prompt\.persona: 'long' is not one of full, brief"
    ):
        cfg.with_overrides({"agents.prompt.persona": "long"})
