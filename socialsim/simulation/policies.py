"""Policy groups: which agents follow which policy (base policy plus `agents.mix` shares)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from socialsim.errors import ConfigError
from socialsim.llm.types import LLMConfig, LLMRequest
from socialsim.simulation.config import ExperimentConfig

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel
    from socialsim.simulation.queries import Question


@dataclass
class PolicyGroup:
    """The agents under one policy: its rule or LLM policy, client and masks."""

    name: str
    fraction: float
    params: dict[str, Any]
    llm_config: LLMConfig | None = None
    rule: Any = None  # RulePolicy
    policy: Any = None  # LLMPolicy
    client: Any = None  # LLMClient
    members: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    pinned: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def is_llm(self) -> bool:
        """True for the LLM policy."""
        return self.name == "llm"

    def initial_credences(self, n_rows: int, rng: np.random.Generator) -> np.ndarray:
        """Starting credences of this group's agents in a new claim."""
        if self.rule is not None:
            return np.asarray(self.rule.initial_credences(n_rows, 1, rng)).reshape(n_rows)
        initial = self.params.get("initial", 0.5)
        if initial == "uniform":
            return rng.random(n_rows)
        return np.full(n_rows, float(initial))

    def question_request(self, model: SocialModel, question: Question) -> LLMRequest:
        """The chat request that puts `question` to its agent."""
        agent = model.agent(question.agent_id)
        system = question.system
        if system is None:
            brief = self.params.get("persona", "full") == "brief"
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
        )

    def close(self) -> None:
        """Release the model client."""
        if self.client is not None and hasattr(self.client, "close"):
            self.client.close()


def build_policy_groups(
    cfg: ExperimentConfig,
    rng: np.random.Generator,
    clients: dict | None = None,
    decision_fields: dict[str, Any] | None = None,
) -> list[PolicyGroup]:
    """Group 0 is the base policy; one more group per `agents.mix` entry."""
    from socialsim.agents.policies import create_rule_policy

    n = cfg.population.size
    base_fraction = 1.0 - sum(m.fraction for m in cfg.agents.mix)
    specs = [("agents", cfg.agents.policy, base_fraction, cfg.agents.params, cfg.agents.llm)]
    specs += [
        (f"agents.mix[{i}]", m.policy, m.fraction, m.params, m.llm or cfg.agents.llm)
        for i, m in enumerate(cfg.agents.mix)
    ]
    shared: dict[str, Any] = dict(clients or {})
    groups = []
    for where, name, fraction, params, llm in specs:
        group = PolicyGroup(name=name, fraction=fraction, params=dict(params))
        group.members = np.zeros(n, dtype=bool)
        group.pinned = np.zeros(n, dtype=bool)
        if name == "llm":
            unknown = sorted(set(params) - {"initial", "template", "persona"})
            if unknown:
                raise ConfigError(
                    f"{where}.params.{unknown[0]}: unknown for policy llm; "
                    "allowed: initial, template, persona"
                )
            if params.get("persona", "full") not in ("full", "brief"):
                raise ConfigError(
                    f"{where}.params.persona: {params['persona']!r} is not one of full, brief"
                )
            group.llm_config = llm
            key = llm.model_dump_json()
            if key not in shared:
                shared[key] = _make_client(llm)
            group.client = shared[key]
            group.policy = _make_llm_policy(group, cfg, decision_fields or {})
        else:
            try:
                group.rule = create_rule_policy(name, params)
            except ConfigError as exc:
                msg = str(exc)
                raise ConfigError(msg if msg.startswith(where) else f"{where}: {msg}") from None
        groups.append(group)
    return groups


def _make_client(llm: LLMConfig):
    from socialsim.llm import LLMClient, validate_model

    validate_model(llm)
    return LLMClient(llm)


def _make_llm_policy(group: PolicyGroup, cfg: ExperimentConfig, extra: dict[str, Any]):
    from socialsim.agents.policies.llm import LLMPolicy

    template = group.params.get("template", "decide_v2")
    return LLMPolicy(
        group.client,
        group.llm_config,
        template=template,
        extra_fields=extra or None,
        seed=cfg.seed,
        brief_persona=group.params.get("persona", "full") == "brief",
    )
