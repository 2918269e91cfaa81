"""What carries the claim besides talk: poisoned memories, broadcasts and guardians' corrections.

:class:`RouteActions` is the part of the misinformation scenario that acts on the model for its
routes (``memory``, ``broadcast``) and its rule-policy guardians; it reads the scenario's
``claim``, ``attackers``, ``guardians``, ``poisoned``, ``said``, ``poison``, ``post`` and
``params``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialsim.scenarios.misinformation.events import BroadcastInjection, MemoryInjection

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel


class RouteActions:
    """Memory poisoning (planted or from real history), broadcasts and corrections."""

    claim: Any
    attackers: list[int]
    guardians: list[int]
    poisoned: list[int]
    said: dict[int, list[str]]
    poison: Any
    post: Any
    params: Any

    def attack_text(self) -> str:  # (defined by the scenario)
        """The manipulated statement as attackers post it."""
        raise NotImplementedError

    def _correction_text(self) -> str:
        c = self.claim
        assert c is not None
        return f'Correction: it is not true that "{c.manipulated_statement}" In fact, {c.true_statement}'

    def _poison_memories(self, model: SocialModel, text: str) -> None:
        claim_id = self.claim.id  # type: ignore[union-attr]
        for t in self.poisoned:
            near = [a for a in model.neighbours(t) if a in self.attackers] or self.attackers
            source = int(near[int(model.rng.integers(len(near)))])
            said = f"{model.agent(source).persona.name} said: {text}"
            model.agent(t).memory.add(said, 0, kind="read", source=source)
            credence = None if model.is_llm(t) else self.poison.credence
            memory = MemoryInjection(source=source, text=said)
            model.inject(t, claim_id, credence, **memory.as_payload())

    def _poison_from_history(self, model: SocialModel) -> None:
        """Give each memory target the last ``k`` messages a nearby attacker really sent."""
        claim_id = self.claim.id  # type: ignore[union-attr]
        k = self.poison.k
        for t in self.poisoned:
            near = [a for a in model.neighbours(t) if a in self.attackers] or self.attackers
            spoke = [a for a in near if self.said.get(a)]
            if not spoke:
                continue
            source = int(spoke[int(model.rng.integers(len(spoke)))])
            name = model.agent(source).persona.name
            for text in self.said[source][-k:]:
                said = f"{name} said: {text}"
                model.agent(t).memory.add(said, model.step_index, kind="read", source=source)
                credence = None if model.is_llm(t) else self.poison.credence
                model.inject(
                    t, claim_id, credence, **MemoryInjection(source=source, text=said).as_payload()
                )

    def _presented(self) -> dict[str, str]:
        """The framing and source style the attack text presents the claim in (rule agents
        weigh it by them through their personas' susceptibilities)."""
        return {"framing": self.params.framing, "source_style": self.params.source_style}

    def _broadcast(self, model: SocialModel) -> None:
        claim_id = self.claim.id  # type: ignore[union-attr]
        text = self.post.text or self.attack_text()
        senders = (
            [-1]
            if self.post.sender == "scenario"
            else [a for a in self.attackers if model.is_present(a)]
        )
        for sender in senders:
            framed = self._presented() if self.post.text is None else {}
            message = model.send(sender, text, to="all", claims=[claim_id], **framed)
            if message is None or self.post.credence is None:
                continue
            for r in message.recipients:
                if not model.is_llm(r) and r not in self.attackers and r not in self.guardians:
                    if model.beliefs.get(r, claim_id) < self.post.credence:
                        heard = BroadcastInjection(message=message.id, sender=sender)
                        model.inject(r, claim_id, self.post.credence, **heard.as_payload())

    def _correct(self, model: SocialModel, guardian: int) -> None:
        """A rule-policy guardian corrects neighbours who believe (and so repeat) the claim."""
        claim_id = self.claim.id  # type: ignore[union-attr]
        believers = [
            j
            for j in model.neighbours(guardian)
            if model.is_present(j) and model.beliefs.get(j, claim_id) >= 0.5
        ]
        if not believers:
            return
        message = model.send(guardian, self._correction_text(), to=believers, claims=[claim_id])
        strength = self.params.guardians.correction_strength  # type: ignore[union-attr]
        if message is None or strength <= 0:
            return
        roles = set(self.attackers) | set(self.guardians)
        for j in believers:
            if j not in roles and not model.is_llm(j):
                old = model.beliefs.get(j, claim_id)
                model.set_credence(
                    j,
                    claim_id,
                    old * (1.0 - strength),
                    cause="message",
                    ref=message.id,
                    source=guardian,
                )
