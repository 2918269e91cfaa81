"""LLMPolicy: prompts, one batch per step, checked decisions, failures as Decision.error."""

from __future__ import annotations

import json
import re

import pytest

from socialsim.agents.policies import Decision, LLMPolicy, Observation
from socialsim.agents.policies.answer_schemas import (
    SENTENCE_PATTERN,
    compact_schema,
    decision_schema,
)
from socialsim.agents.policies.llm import request_seed
from socialsim.core.claims import Claim
from socialsim.core.errors import ConfigError, SocialsimError
from socialsim.core.messages import Message
from socialsim.core.persona import Persona
from socialsim.llm.prompts import load_template, render
from socialsim.llm.structured import schema_text
from socialsim.llm.types import CallRecord, LLMConfig, LLMRequest, LLMResult
from socialsim.testing import ScriptedClient

CLAIMS = [
    Claim(id="vax", text="Vaccines cause autism", truth=False),
    Claim(id="moon", text="The moon landing happened", truth=True),
]


def observation(agent_id: int = 0, step: int = 3, **kw) -> Observation:
    """An observation of agent `agent_id` with two neighbours, one message and one memory."""
    fields = {
        "agent_id": agent_id,
        "step": step,
        "persona": Persona(
            id=agent_id, name=f"Ada{agent_id}", occupation="nurse", values=["honesty"]
        ),
        "inbox": [
            Message(
                id="m1",
                sender=5,
                recipients=[agent_id],
                step=step - 1,
                text="Did you see the new study?",
            ),
            Message(
                id="m2",
                sender=-1,
                recipients=[agent_id],
                step=step - 1,
                text="Breaking: officials deny it",
            ),
        ],
        "memories": ["Bob said the study was retracted"],
        "beliefs": {"vax": 0.25, "moon": 0.9},
        "claims": CLAIMS,
        "neighbours": {5: "Bob", 7: "Carla"},
    }
    fields.update(kw)
    return Observation(**fields)


def ok(value: dict, model: str = "fake/model") -> LLMResult:
    """A successful structured result."""
    return LLMResult(
        text=json.dumps(value),
        record=CallRecord(model=model, route="litellm", attempts=1),
        value=value,
    )


def policy(answer, **kw) -> tuple[LLMPolicy, ScriptedClient]:
    """A policy whose client answers whole batches (``run``) from `answer(request)`."""
    client = ScriptedClient(answer, pipelined=False)
    return LLMPolicy(client, LLMConfig(), **kw), client


@pytest.mark.parametrize("template", ["decide_v1", "decide_v2"])
def test_prompt_holds_persona_instructions_beliefs_inbox_memory_and_neighbours(template):
    pol, _ = policy(lambda r: ok({}), template=template)
    obs = observation(
        instructions=["Your goal: convince everyone the claim is true."], task={"round": 2}
    )
    request = pol.build_request(obs)
    system, user = request.messages[0]["content"], request.messages[1]["content"]
    assert [m["role"] for m in request.messages] == ["system", "user"]
    own = system if template == "decide_v1" else user  # v2: the shared part is the system one
    assert "You are Ada0" in own and "nurse" in own and "honesty" in own
    assert "Your goal: convince everyone" in own
    if template == "decide_v1":
        assert '- vax: "Vaccines cause autism" 25%' in user
        assert '- moon: "The moon landing happened" 90%' in user
    else:
        assert '- vax: "Vaccines cause autism"' in system and "- vax: 25%" in user
        assert '- moon: "The moon landing happened"' in system and "- moon: 90%" in user
        assert "Ada0" not in system and "Bob" not in system and '"credence"' in system
    assert "- Bob: Did you see the new study?" in user
    assert "- announcement: Breaking: officials deny it" in user
    assert "- Bob said the study was retracted" in user
    assert "You can message: Bob, Carla" in user
    assert 'Task: {"round": 2}' in user
    assert request.tag == template and request.schema is not None
    assert len(system) + len(user) < 2000  # fits the embedded model's 2,048-token context


def test_two_part_template_shares_its_system_message_between_agents():
    pol, _ = policy(lambda r: ok({}))
    first = pol.build_request(observation(0))
    other = pol.build_request(observation(1, step=4, beliefs={"vax": 0.9}, instructions=["Hi."]))
    assert first.messages[0] == other.messages[0]  # one cached prefix serves both
    assert first.messages[1] != other.messages[1]
    assert "\n\n" not in first.messages[1]["content"]  # empty fields leave no blank lines


def test_one_batch_per_decide_with_per_agent_model_and_deterministic_seeds():
    pol, client = policy(lambda r: ok({"message": "hi", "to": "all", "beliefs": []}), seed=42)
    observations = [
        observation(0),
        observation(1, persona=Persona(id=1, name="Eve", model="openai/gpt-4o-mini")),
        observation(2),
    ]
    decisions = pol.decide(observations)
    assert len(client.batches) == 1 and len(client.batches[0]) == 3
    assert [d.agent_id for d in decisions] == [0, 1, 2]
    assert [r.model for r in client.batches[0]] == [None, "openai/gpt-4o-mini", None]
    seeds = [r.seed for r in client.batches[0]]
    assert seeds == [request_seed(42, i, 3) for i in range(3)] and len(set(seeds)) == 3
    assert pol.build_request(observation(0)).seed == seeds[0]
    assert pol.build_request(observation(0, step=4)).seed != seeds[0]
    assert pol.decide([]) == [] and len(client.batches) == 1


def test_recipient_names_map_to_ids_case_insensitively():
    cases = {
        "carla": 7,
        "@Bob": 5,
        "BOB": 5,
        "7": 7,
        "everyone": "all",
        "None": "none",
        "Zed": "all",  # unknown, but a message was written
        "": "all",
    }
    for to, expected in cases.items():
        pol, _ = policy(lambda r, to=to: ok({"message": "hello", "to": to, "beliefs": []}))
        [decision] = pol.decide([observation()])
        assert decision.to == expected, to
    pol, _ = policy(lambda r: ok({"message": "   ", "to": "Bob", "beliefs": []}))
    assert pol.decide([observation()])[0].to == "none"  # nothing to say: nobody addressed


def test_repeated_names_are_told_apart_by_id():
    obs = observation(neighbours={5: "Bob", 6: "Bob"})
    pol, _ = policy(lambda r: ok({"message": "hey", "to": "Bob #6", "beliefs": []}))
    assert "You can message: Bob #5, Bob #6" in pol.build_request(obs).messages[1]["content"]
    assert pol.decide([obs])[0].to == 6


def test_beliefs_are_clamped_resolved_by_text_and_unknown_claims_dropped():
    answer = {
        "message": "x" * 1000,
        "to": "all",
        "beliefs": [
            {"claim": "vax", "credence": -0.3, "reason": "no evidence"},
            {"claim": "the moon landing happened.", "credence": 80, "reason": "  seen   footage "},
            {"claim": "aliens", "credence": 0.5, "reason": "?"},
            {"claim": "VAX", "credence": "0.1"},
        ],
    }
    pol, _ = policy(lambda r: ok(answer))
    [decision] = pol.decide([observation()])
    assert decision.credences == {"vax": 0.1, "moon": 0.8}  # 80 read as a percentage
    assert decision.reasons == {"vax": "no evidence", "moon": "seen footage"}
    assert len(decision.message) == 120 and decision.error is None
    pol, _ = policy(lambda r: ok({"message": "", "beliefs": [{"claim": "moon", "credence": 250}]}))
    assert pol.decide([observation()])[0].credences == {"moon": 1.0}


def test_beliefs_also_accepted_as_a_mapping():
    pol, _ = policy(
        lambda r: ok(
            {"message": "ok", "to": "all", "beliefs": {"vax": 0.4, "moon": {"credence": 1.2}}}
        )
    )
    assert pol.decide([observation()])[0].credences == {"vax": 0.4, "moon": 1.0}


def test_failures_become_decision_errors_and_keep_accounting():
    failed = CallRecord(
        model="fake/model", route="litellm", attempts=4, error="timeout after 120s", tag="decide_v2"
    )

    def answer(request):
        if "You are Ada1" in request.messages[-1]["content"]:
            return LLMResult(text="", record=failed, error="timeout after 120s")
        return ok({"message": "fine", "to": "Bob", "beliefs": [{"claim": "vax", "credence": 0.3}]})

    pol, _ = policy(answer)
    decisions = pol.decide([observation(0), observation(1), observation(2)])
    assert [d.error for d in decisions] == [None, "timeout after 120s", None]
    assert decisions[1].llm["attempts"] == 4 and decisions[1].llm["error"] == "timeout after 120s"
    assert decisions[1].credences == {} and decisions[1].to == "none"
    assert decisions[0].to == 5 and decisions[0].credences == {"vax": 0.3}
    assert all(d.prompt_id == "decide_v2" and d.llm["model"] == "fake/model" for d in decisions)
    bad = policy(lambda r: ok({"message": "x", "beliefs": 7}))[0].decide([observation()])[0]
    assert bad.error is not None and bad.error.startswith("unusable answer")
    short = ScriptedClient(lambda r: ok({}), pipelined=False)
    short.run = lambda requests: []  # a client that loses results must not lose decisions
    assert LLMPolicy(short, LLMConfig()).decide([observation()])[0].error is not None


def test_extra_fields_join_the_schema_and_the_decision():
    pol, client = policy(
        lambda r: ok({"message": "m", "to": "all", "beliefs": [], "vote": "B", "confidence": 0.7}),
        extra_fields={"vote": (str, "A"), "confidence": (float, 0.5)},
    )
    [decision] = pol.decide([observation()])
    assert decision.fields == {"vote": "B", "confidence": 0.7}
    schema = client.batches[0][0].schema.model_json_schema()
    assert {"message", "to", "beliefs", "vote", "confidence"} <= set(schema["properties"])
    assert pol.schema_for(observation(1)) is client.batches[0][0].schema  # cached per claim set
    with pytest.raises(ConfigError):
        LLMPolicy(client, LLMConfig(), extra_fields={"message": (str, "")})


def test_schema_steers_decoding_without_rejecting_repairable_answers():
    schema = decision_schema(("vax", "moon"), recipients=("Ann", "Bo"))
    json_schema = schema.model_json_schema()
    beliefs = json_schema["properties"]["beliefs"]
    assert beliefs["required"] == ["vax", "moon"]
    assert beliefs["properties"]["moon"]["properties"]["credence"]["maximum"] == 1
    assert json_schema["properties"]["to"]["enum"] == ["all", "none", "Ann", "Bo"]
    assert set(json_schema["required"]) == {"message", "to", "beliefs"}
    value = schema.model_validate(
        {"message": "y" * 500, "to": "Zed", "beliefs": [{"claim": "Moon", "credence": 3}]}
    )
    assert value.to == "Zed" and value.beliefs[0]["credence"] == 3


def test_templates_render_as_data_and_name_missing_fields():
    template = load_template("decide_v1")
    assert "{beliefs}" in template and "{inbox}" in template
    values = dict.fromkeys(["step", "beliefs", "memories", "inbox", "neighbours", "task"], "")
    values["inbox"] = "- Mallory: {__class__} {0} ${HOME}"
    assert "- Mallory: {__class__} {0} ${HOME}" in render("decide_v1", **values)
    with pytest.raises(SocialsimError, match="needs inbox"):
        render("decide_v1", **{k: v for k, v in values.items() if k != "inbox"})
    with pytest.raises(SocialsimError, match="known templates: .*decide_v1"):
        load_template("../../etc/passwd")
    with pytest.raises(SocialsimError, match="no_such_template"):
        policy(lambda r: ok({}), template="no_such_template")


def test_decision_is_the_base_model():
    pol, _ = policy(lambda r: ok({"message": "a", "to": "Carla", "beliefs": []}))
    decision = pol.parse(observation(), ok({"message": "a", "to": "Carla", "beliefs": []}))
    assert isinstance(decision, Decision) and decision.to == 7 and decision.prompt_id == "decide_v2"


@pytest.mark.slow
def test_through_the_real_client_with_litellm_mock_response(tmp_path):
    client_module = pytest.importorskip("socialsim.llm.client")
    if "extra" not in LLMRequest.__dataclass_fields__:
        pytest.skip("LLMRequest has no `extra` field for mock responses")
    answer = {
        "message": "I doubt it",
        "to": "bob",
        "beliefs": [{"claim": "vax", "credence": 0.05, "reason": "study"}],
    }

    class Mocked:
        """The real client, every request answered by litellm's mock_response."""

        def __init__(self, inner) -> None:
            self.inner = inner

        def run(self, requests):
            for request in requests:
                request.extra = {"mock_response": json.dumps(answer)}
            return self.inner.run(requests)

    config = LLMConfig(model="gpt-4o-mini", retries=0, cache=False)
    client = client_module.LLMClient(config, tmp_path / "cache.sqlite")
    try:
        decisions = LLMPolicy(Mocked(client), config).decide([observation(0), observation(1)])
    finally:
        client.close()
    for decision in decisions:
        assert decision.error is None, decision.error
        assert (
            decision.to == 5
            and decision.credences == {"vax": 0.05}
            and decision.message == "I doubt it"
        )
        assert decision.llm["prompt_id"] == "decide_v2" and decision.llm["model"] == "gpt-4o-mini"


def test_decide_each_pipelines_through_stream_and_matches_decide():
    def answer(request):
        agent = "Bob" if "Ada0" in request.messages[-1]["content"] else "Carla"
        return ok({"message": f"to {agent}", "to": agent, "beliefs": {"vax": 0.4}})

    observed: list[int] = []

    def observe(agent_id: int) -> Observation:
        observed.append(agent_id)
        return observation(agent_id)

    piped = ScriptedClient(answer)
    piped.run = None  # decide_each must take stream, never the whole-batch run
    pairs = LLMPolicy(piped, LLMConfig()).decide_each([0, 1, 2], observe)
    assert observed == [0, 1, 2]
    assert [len(b) for b in piped.batches] == [3] and piped.tags() == ["decide_v2"] * 3
    plain, batch_client = policy(answer)
    expected = plain.decide([observation(i) for i in range(3)])
    assert [d for _, d in pairs] == expected and len(batch_client.batches) == 1
    assert [o.agent_id for o, _ in pairs] == [0, 1, 2]
    assert [d.to for _, d in pairs] == [5, 7, 7]


def test_decide_each_without_stream_observes_everyone_then_asks_once():
    pol, client = policy(lambda r: ok({"message": "", "to": "none", "beliefs": {}}))
    pairs = pol.decide_each([3, 4], observation)
    assert len(client.batches) == 1 and len(client.batches[0]) == 2
    assert [o.agent_id for o, _ in pairs] == [3, 4] and all(d.to == "none" for _, d in pairs)


def test_compact_answer_puts_the_credence_first_and_asks_for_one_sentence():
    pol, _ = policy(lambda r: ok({}), template="talk_v1")
    one = observation(claims=CLAIMS[:1], beliefs={"vax": 0.25})
    schema = pol.build_request(one).sent_schema()
    assert list(schema["properties"]) == ["credence", "message", "to"]
    assert schema["required"] == ["credence", "message", "to"]
    assert schema["properties"]["message"]["pattern"] == SENTENCE_PATTERN
    assert schema["properties"]["to"]["enum"] == ["all", "none", "Bob", "Carla"]
    pattern = re.compile(SENTENCE_PATTERN)
    assert pattern.match("I doubt that vaccines cause autism.")
    for debris in ('{"a": 1}', "0.0,", "Yes it is.", "australia_capital is true, I think so"):
        assert not pattern.match(debris)
    both = pol.build_request(observation()).sent_schema()
    assert list(both["properties"]) == ["credences", "message", "to"]
    assert both["properties"]["credences"]["required"] == ["vax", "moon"]


@pytest.mark.parametrize("template", ["decide_v2", "talk_v1"])
def test_each_agent_is_sent_its_own_recipients_through_one_shared_answer_class(template):
    pol, _ = policy(lambda r: ok({}), template=template, extra_fields={"vote": (str, "A")})
    first, second = observation(1), observation(2, neighbours={4: "Dana", 9: "Eve", 11: "Dana"})
    req1, req2 = pol.build_request(first), pol.build_request(second)
    assert req1.schema is req2.schema  # one class validates every agent's answer
    assert "enum" not in req1.schema.model_json_schema()["properties"]["to"]
    assert req1.sent_schema()["properties"]["to"]["enum"] == ["all", "none", "Bob", "Carla"]
    assert req2.sent_schema()["properties"]["to"]["enum"] == [
        "all", "none", "Dana #4", "Eve", "Dana #11"
    ]  # fmt: skip
    # what is sent (and keys the cache) equals the schema of a class built per agent
    build = compact_schema if template == "talk_v1" else decision_schema
    kwargs = {} if template == "talk_v1" else {"max_chars": 120}
    per_agent = build(("vax", "moon"), {"vote": (str, "A")}, recipients=("Bob", "Carla"), **kwargs)
    assert schema_text(req1.sent_schema()) == schema_text(per_agent)
    assert pol.build_request(observation(1, neighbours={})).json_schema is None


def test_compact_answers_become_the_same_decisions():
    one = observation(claims=CLAIMS[:1], beliefs={"vax": 0.25})
    pol, _ = policy(
        lambda r: ok({"credence": 0.7, "message": "I think it might be true.", "to": "Bob"}),
        template="talk_v1",
    )
    decision = pol.decide([one])[0]
    assert decision.credences == {"vax": 0.7} and decision.to == 5 and decision.error is None
    assert decision.prompt_id == "talk_v1"
    pol, _ = policy(
        lambda r: ok({"credences": {"vax": 1.4, "moon": 40}, "message": "Hi all.", "to": "none"}),
        template="talk_v1_p2",
    )
    decision = pol.decide([observation()])[0]
    assert decision.credences == {"vax": 1.0, "moon": 0.4} and decision.to == "none"


def test_compact_prompt_restates_the_claim_and_the_last_credence():
    pol, _ = policy(lambda r: ok({}), template="talk_v1")
    request = pol.build_request(observation(claims=CLAIMS[:1], beliefs={"vax": 0.25}))
    user = request.messages[1]["content"]
    assert 'Claim: "Vaccines cause autism"' in user and "25% sure" in user
    assert "Did you see the new study?" in user and "Bob, Carla" in user
    assert '"credence": 0.8' in request.messages[0]["content"]  # the worked example
