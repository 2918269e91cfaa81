"""SocialAgent: a mesa agent on a network cell with a persona, memory and a policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent
from mesa.discrete_space import FixedAgent

from socialsim.agents.memory import Memory
from socialsim.core.claims import words_of
from socialsim.core.decisions import Decision, Observation
from socialsim.core.persona import Persona
from socialsim.core.trusted import trusted

if TYPE_CHECKING:
    from mesa.discrete_space import Cell

    from socialsim.core.model_view import ModelView


class SocialAgent(FixedAgent):
    """One member of the population; `id` is its graph node and credence row.

    Mesa's ``unique_id`` is the same number, so DataCollector tables are keyed by agent id.
    """

    _persona_set = False  # True once a persona was given (a scenario's role), not read

    def __init__(self, model: ModelView, agent_id: int, policy: str) -> None:
        super().__init__(model)
        self.id = agent_id
        self.unique_id = agent_id
        self.policy = policy
        self.instructions: list[str] = []
        self._persona: Persona | None = None
        self._memory: Memory | None = None

    @property
    def cell(self) -> Cell | None:
        """The agent's cell in ``model.space`` (the space is built on first use, and every
        agent made so far is placed on its cell then; a later one when it is made)."""
        if self._mesa_cell is None:
            self.model.space  # noqa: B018 - building the space places every agent made so far
        return self._mesa_cell

    @cell.setter
    def cell(self, cell: Cell) -> None:
        if self._mesa_cell is not None:
            raise ValueError("Cannot move agent in FixedCell")
        self._mesa_cell = cell
        cell.add_agent(self)

    def remove(self) -> None:
        """Remove the agent from the model (and from its cell, if it was placed on one)."""
        Agent.remove(self)
        if self._mesa_cell is not None:
            self._mesa_cell.remove_agent(self)

    @property
    def present(self) -> bool:
        """False once the agent has left the run."""
        return bool(self.model.present[self.id])

    def credence(self, claim_id: str) -> float:
        """The agent's credence in a claim now: ``{"c1": lambda a: a.credence("c1")}``."""
        return self.model.beliefs.get(self.id, claim_id)

    @property
    def beliefs(self) -> dict[str, float]:
        """The agent's credence in every claim in play, by claim id."""
        return self.model.beliefs.of(self.id)

    @property
    def persona(self) -> Persona:
        """The agent's persona (rebuilt from the model's compact store on first use)."""
        if self._persona is None:
            self._persona = self.model.personas.get(self.id)
        return self._persona

    @persona.setter
    def persona(self, value: Persona) -> None:
        self._persona = value
        self._persona_set = True

    def __getstate__(self) -> dict:
        """What a checkpoint keeps: a persona only if one was set (one read from the model's
        store is read again on first use)."""
        state = vars(self).copy()
        if not state.get("_persona_set"):
            state["_persona"] = None
        return state

    def persona_snapshot(self) -> Persona:
        """The persona without keeping a rebuilt copy on the agent (for exports)."""
        return self._persona if self._persona is not None else self.model.personas.get(self.id)

    @property
    def model_string(self) -> str | None:
        """The per-agent model string, if the persona sets one."""
        return self.persona.model

    @property
    def memory(self) -> Memory:
        """Episodic memory (created on first use, so rule agents carry none)."""
        if self._memory is None:
            self._memory = Memory(capacity=self.model.cfg.agents.memory_size)
        return self._memory

    @property
    def role(self) -> str:
        """The scenario role (benign, attacker, guardian, ...)."""
        return self.persona.role

    def observe(self) -> Observation:
        """Read the inbox into memory and assemble what the agent perceives this step."""
        model = self.model
        inbox = model.mail.take_inbox(self.id)
        names = model.names
        limit = model.cfg.agents.inbox_limit
        shown = inbox[-limit:]
        claims = model.beliefs.claims
        k = model.cfg.agents.memory_k
        memories: list[str] = []
        if k and self._memory is not None and len(self._memory):
            # retrieved before this step's inbox is stored, so memories do not repeat the inbox
            query = " ".join([m.text for m in shown] + [c.text for c in claims])
            memories = [item.text for item in self.memory.retrieve(query, k, now=model.step_index)]
        for message in inbox:
            sender = names.get(message.sender, "a post")
            self.memory.add(
                f"{sender} said: {message.text}", model.step_index, "read", message.sender
            )
        instructions = list(self.instructions)
        values = {
            "agent_id": int(self.id),
            "step": int(model.step_index),
            "time": float(model.time),
            "persona": self.persona,
            "inbox": shown,
            "memories": memories,
            "beliefs": model.beliefs.of(self.id),
            "claims": list(claims),
            "neighbours": {j: names[j] for j in model.present_neighbours(self.id)},
            "instructions": instructions,
        }
        if not isinstance(values["persona"], Persona) or any(
            type(i) is not str for i in instructions
        ):  # what a scenario set, not of the field's type: validated
            return Observation(**values)
        # every value made here is of its field's type: built as validation would build it
        return trusted(Observation, values)

    def apply(self, decision: Decision, read: list[str] | None = None) -> None:
        """Apply a decision: log it, update credences (with causes), send the message."""
        model = self.model
        to = decision.to if decision.message.strip() else "none"
        model.emit(
            "decision",
            agent=self.id,
            target=to if isinstance(to, int) else None,
            payload={
                "policy": self.policy,
                "message": decision.message,
                "to": to,
                "credences": decision.credences,
                "fields": decision.fields,
                "prompt_id": decision.prompt_id,
            },
        )
        ref = ",".join(read) if read else None
        for claim_id, value in decision.credences.items():
            if claim_id in model.beliefs.index:
                model.set_credence(
                    self.id,
                    claim_id,
                    value,
                    cause="message" if read else "decision",
                    ref=ref,
                    reason=decision.reasons.get(claim_id),
                )
        if to != "none":
            model.send(self.id, decision.message, to=to, claims=self.claims_in(decision.message))
            self.memory.add(f"I said: {decision.message}", model.step_index, "said")

    def claims_in(self, text: str) -> list[str]:
        """Claims a text refers to (:meth:`~socialsim.core.claims.Claim.referred_to_by`)."""
        words = words_of(text)
        return [c.id for c in self.model.beliefs.claims if c.referred_to_by(words)]
