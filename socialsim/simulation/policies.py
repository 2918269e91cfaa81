"""Policy groups: which agents follow which policy (base policy plus `agents.mix` shares)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from socialsim.core.errors import ConfigError
from socialsim.core.registry import POLICIES
from socialsim.llm.types import LLMConfig, LLMRequest
from socialsim.simulation.config import ExperimentConfig, PromptConfig

if TYPE_CHECKING:
    from socialsim.core.model_view import ModelView
    from socialsim.simulation.queries import Question


@dataclass
class PolicyGroup:
    """The agents under one policy: its rule or LLM policy, client and masks."""

    name: str
    fraction: float
    params: dict[str, Any]
    sort: str = "rule"  # or "deciding"
    prompt: PromptConfig = field(default_factory=PromptConfig)
    llm_config: LLMConfig | None = None
    rule: Any = None  # RulePolicy
    policy: Any = None  # LLMPolicy
    client: Any = None  # LLMClient
    members: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    pinned: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def is_llm(self) -> bool:
        """True for a deciding (LLM) policy."""
        return self.sort == "deciding"

    def initial_credences(self, n_rows: int, rng: np.random.Generator) -> np.ndarray:
        """Starting credences of this group's agents in a new claim."""
        if self.rule is not None:
            return np.asarray(self.rule.initial_credences(n_rows, 1, rng)).reshape(n_rows)
        initial = self.params.get("initial", 0.5)
        if initial == "uniform":
            return rng.random(n_rows)
        return np.full(n_rows, float(initial))

    def question_request(self, model: ModelView, question: Question) -> LLMRequest:
        """The chat request that puts `question` to its agent."""
        agent = model.agent(question.agent_id)
        system = question.system
        if system is None:
            brief = self.prompt.persona == "brief"
            system = "\n".join([agent.persona.describe(brief=brief), *agent.instructions])
        prompt = question.prompt
        if question.use_memory and agent._memory is not None and len(agent._memory):
            items = agent.memory.retrieve(prompt, model.cfg.agents.memory_k, now=model.step_index)
            if items:
                prompt = (
                    "Things you remember:\n"
                    + "\n".join(f"- {i.text}" for i in items)
                    + "\n\n"
                    + prompt
                )
        messages = [
            {"role": "system", "content": system},
            *question.history,
            {"role": "user", "content": prompt},
        ]
        return LLMRequest(
            messages=messages,
            schema=question.schema,
            model=agent.model_string,
            tag=question.tag,
            seed=model.question_seed(question.agent_id, question.tag),
            extra=dict(question.extra),
            temperature=question.temperature,
            max_tokens=question.max_tokens,
            logprobs=question.logprobs,
        )

    def close(self) -> None:
        """Release the model client."""
        if self.client is not None and hasattr(self.client, "close"):
            self.client.close()


#: the decision template of LLM agents when neither the config nor the scenario names one
DEFAULT_TEMPLATE = "decide_v2"


def build_policy_groups(
    cfg: ExperimentConfig,
    rng: np.random.Generator,
    clients: dict | None = None,
    decision_fields: dict[str, Any] | None = None,
    default_template: str | None = None,
) -> list[PolicyGroup]:
    """Group 0 is the base policy; one more group per `agents.mix` entry.

    An LLM group whose config sets no ``template`` gets `default_template` (the scenario's),
    else :data:`DEFAULT_TEMPLATE`.
    """
    n = cfg.population.size
    base_fraction = 1.0 - sum(m.fraction for m in cfg.agents.mix)
    agents = cfg.agents
    specs = [("agents", agents.policy, base_fraction, agents.params, agents.llm, agents.prompt)]
    specs += [
        (f"agents.mix[{i}]", m.policy, m.fraction, m.params, m.llm or agents.llm,
         m.prompt or agents.prompt)
        for i, m in enumerate(agents.mix)
    ]  # fmt: skip
    shared: dict[str, Any] = dict(clients or {})
    groups = []
    for where, name, fraction, params, llm, prompt in specs:
        entry = POLICIES.get(name)
        group = PolicyGroup(
            name=name, fraction=fraction, params=dict(params), sort=entry.sort, prompt=prompt
        )
        group.members = np.zeros(n, dtype=bool)
        group.pinned = np.zeros(n, dtype=bool)
        if group.is_llm:
            if prompt.template is None:
                template = default_template or DEFAULT_TEMPLATE
                group.prompt = prompt.model_copy(update={"template": template})
            group.llm_config = llm
            key = llm.model_dump_json()
            if key not in shared:
                shared[key] = _make_client(llm)
            group.client = shared[key]
            group.policy = _make_llm_policy(entry.obj, group, cfg, decision_fields or {})
        else:
            try:
                group.rule = entry.obj(params)
            except ConfigError as exc:
                msg = str(exc)
                if not msg.startswith(where):
                    msg = msg.replace("agents.params", f"{where}.params", 1)
                raise ConfigError(msg) from None
        groups.append(group)
    return groups


def _make_client(llm: LLMConfig):
    from socialsim.llm import LLMClient, validate_model

    validate_model(llm)
    return LLMClient(llm)


def _make_llm_policy(
    policy_cls: type, group: PolicyGroup, cfg: ExperimentConfig, extra: dict[str, Any]
):
    """The deciding policy of a group (the registered class: ``LLMPolicy`` or a subclass)."""
    return policy_cls(
        group.client,
        group.llm_config,
        template=group.prompt.template,
        extra_fields=extra or None,
        seed=cfg.seed,
        brief_persona=group.prompt.persona == "brief",
    )
