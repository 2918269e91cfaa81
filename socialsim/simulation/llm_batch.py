"""LLM agents in one batch: decisions of a step, structured questions, call accounting.

Each LLM policy group's active agents are sent as one pipelined batch
(``LLMPolicy.decisions``: each agent is observed just before its request is built, and
each answer comes back as it arrives), and their decisions are applied in a seeded order
while the batch runs (:func:`decide_and_apply`). All of it runs on the model's thread; only
the calls themselves run on the client's loop thread. Every call is
logged as an ``llm_call`` event and counted in ``model.llm_totals``; a failed decision is
an ``error`` event and its agent skips the step, the credences its answer was to state
unknown until it states them again (``forget_credence``). The run stops, with the step's calls
logged, when a client's circuit breaker opened (:class:`~socialsim.core.errors.EndpointDown`)
or when every call of the step failed (:class:`AllCallsFailed`); both messages name the
endpoint and the fix. A step runs with the cyclic garbage collector slowed
(:func:`fewer_collections`), since its requests and answers live until it ends.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from socialsim.core.errors import EndpointDown, SocialsimError
from socialsim.llm.breaker import fix_for
from socialsim.llm.endpoints import endpoint_urls
from socialsim.llm.redact import redact
from socialsim.simulation.queries import Answer, Question

if TYPE_CHECKING:
    from socialsim.agents.agent import SocialAgent
    from socialsim.core.decisions import Decision, Observation
    from socialsim.core.model_view import ModelView


class AllCallsFailed(SocialsimError):
    """Every model call of a step failed: the run stops (its log is kept)."""


@contextmanager
def fewer_collections(first: int = 20_000) -> Iterator[None]:
    """Run the cyclic garbage collector less often for a while (its thresholds restored after).

    A step allocates some hundred tracked objects per LLM decision (requests, answers,
    observations) that live until the step ends; with the default thresholds (700, 10, 10)
    they are scanned again and again as they move to older generations, and full
    collections follow, costing about a tenth of an LLM step's time. So the young
    generation is swept every `first` allocations and the middle one only every thousandth
    young sweep (each survivor is scanned about twice, not ten times), and what was alive
    when the step began (agents, memories, personas: millions of objects in a large run) is
    frozen until it ends. What the step made and kept (personas, memories, messages) joins
    it in the oldest generation when the step ends, without the middle sweep that would
    otherwise scan all of it once more right after. Reference counting still frees
    everything at once; cycles among these objects are found by the next full collection.
    """
    old = gc.get_threshold()
    if not gc.isenabled() or old[0] >= first:
        yield
        return
    gc.set_threshold(first, max(old[1], 1000), old[2])  # middle sweeps: rare
    freeze = gc.get_freeze_count() == 0  # (objects someone else froze stay frozen)
    if freeze:
        gc.freeze()  # what lived before the step is not scanned again during it
    try:
        yield
    finally:
        if freeze:
            gc.freeze()  # (what the step kept, too)
            gc.unfreeze()  # all of it into the oldest generation, unscanned
        gc.set_threshold(*old)


@contextmanager
def prompt_switches(interval: float = 0.001) -> Iterator[None]:
    """Let threads take turns with the interpreter lock every `interval` seconds for a while.

    During a batch the model's thread observes, builds and applies while the client's loop
    thread reads answers and sends the requests waiting for a slot; with Python's default
    of 5 ms the loop can wait that long for its turn, and the endpoint's freed slots idle
    meanwhile. The previous interval is restored after.
    """
    old = sys.getswitchinterval()
    if old <= interval:
        yield
        return
    sys.setswitchinterval(interval)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def new_totals() -> dict[str, int]:
    """Zeroed run totals of model calls (``model.llm_totals``)."""
    return {"calls": 0, "cached": 0, "errors": 0, "prompt_tokens": 0, "completion_tokens": 0}


def account(model: ModelView, agent_id: int | None, record: Any) -> None:
    """Count one model call in ``model.llm_totals`` and log it as an ``llm_call`` event."""
    payload = record if isinstance(record, dict) else record.as_payload()
    totals = model.llm_totals
    totals["calls"] += 1
    totals["cached"] += int(bool(payload.get("cached")))
    totals["errors"] += int(payload.get("error") is not None)
    totals["prompt_tokens"] += int(payload.get("prompt_tokens") or 0)
    totals["completion_tokens"] += int(payload.get("completion_tokens") or 0)
    model.emit("llm_call", agent=agent_id, payload=payload)


def observe(model: ModelView, agent: SocialAgent) -> Observation:
    """What the agent perceives this step, with the scenario's additions."""
    obs = agent.observe()
    model.scenario.observe(model, agent, obs)
    return obs


def decide_and_apply(model: ModelView, active: np.ndarray) -> None:
    """Decide every active LLM agent and apply the decisions in a seeded order.

    The decisions are applied in the order of one permutation of them all drawn from
    ``model.rng``, failed ones skipped. Groups are decided one after another, each in one
    batch whose requests go out in that order; every decision is applied as soon as it and
    all those before it are in, on this (the model's) thread while the batch's later calls
    are still in flight. The log holds every call of the step first (in agent order, group
    by group), then the applied decisions: their lines are taken out of the log as they are
    applied and put back after the calls. A step that stops (an open circuit breaker, every
    call failed) logs its calls but none of its decisions.
    """
    groups = []
    for g, group in enumerate(model.groups):
        if group.is_llm:
            ids = np.flatnonzero(active & (model.policy_of == g))
            if len(ids):
                groups.append((group, [model.agent(int(i)) for i in ids]))
    n = sum(len(agents) for _, agents in groups)
    if not n:
        return
    applier = _Applier(model, model.rng.permutation(n))
    with prompt_switches():
        calls, failures, first = _decide(model, groups, applier)
    used = [group for group, _ in groups]
    stop_if_down(model, used)
    if calls and failures == calls:
        model.log.flush()
        raise AllCallsFailed(
            redact(
                f"every model call of step {model.steps} failed ({calls} calls) on "
                f"{_endpoints(used)}; {_fix(used, first or '')}; first error: {first}"
            )
        )
    model.log.extend(applier.applied)
    assert applier.done == n, f"{n - applier.done} decisions of the step never came back"


def _decide(
    model: ModelView, groups: list[tuple[Any, list[SocialAgent]]], applier: _Applier
) -> tuple[int, int, str | None]:
    """Each group's batch, its decisions applied as they come and its calls logged after it;
    (calls, failed calls, the first failure)."""
    calls = failures = offset = 0
    first: str | None = None
    for group, agents in groups:
        # the group's decisions (their places in the permutation), in the order they apply
        ks = sorted(range(offset, offset + len(agents)), key=applier.rank.__getitem__)
        sent = [agents[k - offset] for k in ks]
        decisions: list[Any] = [None] * len(agents)
        unstated: dict[int, list[str]] = {}  # a failed decision's claims: their credences
        for i, obs, decision in group.policy.decisions(sent, lambda a: observe(model, a)):
            k = ks[i]
            decisions[k - offset] = decision
            if decision.error is not None:
                unstated[k - offset] = _stated_claims(group.policy, obs)
            applier.offer(k, sent[i], decision, [m.id for m in obs.inbox])
        for j, (agent, decision) in enumerate(zip(agents, decisions, strict=True)):
            if decision.llm is not None:
                calls += 1
                account(model, agent.id, decision.llm)
            if decision.error is not None:
                failures += 1
                first = first or decision.error
                model.emit(
                    "error", agent=agent.id, payload={"where": "decide", "message": decision.error}
                )
                for claim_id in unstated.get(j, ()):
                    if claim_id in model.beliefs.index:
                        model.forget_credence(
                            agent.id, claim_id, cause="decision", reason="no answer"
                        )
        offset += len(agents)
    return calls, failures, first


def _stated_claims(policy: Any, observation: Any) -> list[str]:
    """The claims in play whose credence the policy's answer to `observation` would state."""
    stated = getattr(policy, "stated_claims", None)
    return [] if stated is None else stated(observation)


class _Applier:
    """Applies a step's decisions in its seeded order, each as soon as all before it are in."""

    def __init__(self, model: ModelView, order: np.ndarray) -> None:
        self._model = model
        self._order: list[int] = order.tolist()
        self.rank: list[int] = np.argsort(order).tolist()  # decision -> its place in the order
        self.applied: list[str] = []  # the log lines of the decisions applied so far
        self._ready: list[tuple[SocialAgent, Decision, list[str]] | None] = [None] * len(order)
        self.done = 0  # places applied so far

    def offer(self, k: int, agent: SocialAgent, decision: Decision, read: list[str]) -> None:
        """Decision `k` is in (`read`: the ids of the messages its agent read); apply what
        is due."""
        self._ready[k] = (agent, decision, read)
        if self.done < len(self._order) and self._order[self.done] == k:
            log = self._model.log
            mark = log.mark()
            self._advance()
            self.applied += log.take(mark)  # logged after the step's calls

    def _advance(self) -> None:
        """Apply the decisions that are in and have every earlier one applied."""
        model, order, ready = self._model, self._order, self._ready
        while self.done < len(order):
            k = order[self.done]
            item = ready[k]
            if item is None:
                return
            ready[k] = None
            self.done += 1
            agent, decision, read = item
            if decision.error is None:
                agent.apply(decision, read)
                model.scenario.on_decision(model, agent, decision)


def stop_if_down(model: ModelView, groups: list[Any]) -> None:
    """Raise EndpointDown (the log flushed) when a group's client has an open circuit breaker."""
    for group in groups:
        down = getattr(group.client, "endpoint_down", None)
        if down:
            model.log.flush()
            raise EndpointDown(down)


def _endpoints(groups: list[Any]) -> str:
    """The endpoints the groups' calls went to: api_base, else the model string."""
    names = dict.fromkeys(_endpoint(g) for g in groups)
    return "model endpoint " + redact(", ".join(names))


def _endpoint(group: Any) -> str:
    llm = getattr(group, "llm_config", None)
    if llm is None:
        return "?"
    return ", ".join(endpoint_urls(llm.api_base)) or llm.model


def _fix(groups: list[Any], error: str) -> str:
    llm = getattr(groups[0], "llm_config", None) if groups else None
    if error.startswith(("structured:", "unusable answer")):
        return "the model's answers do not fit the decision schema: try a larger model"
    if error.startswith("deadline:"):
        return "raise agents.llm.step_deadline or lower the population"
    api_base = llm.api_base if llm is not None else None
    return fix_for(error, api_base, llm.api_key_env if llm is not None else None)


def ask(model: ModelView, questions: list[Question]) -> list[Answer]:
    """Answer structured questions in one concurrent batch per LLM group, or by fallback."""
    answers: list[Answer | None] = [None] * len(questions)
    by_group: dict[int, list[int]] = {}
    for qi, q in enumerate(questions):
        if model.is_llm(q.agent_id):
            by_group.setdefault(int(model.policy_of[q.agent_id]), []).append(qi)
        elif q.fallback is not None:
            answers[qi] = Answer(q, q.fallback(), text="", error=None)
        else:
            answers[qi] = Answer(q, None, error="agent has no LLM and the question no fallback")
    for g, indices in by_group.items():
        group = model.groups[g]
        requests = [group.question_request(model, questions[qi]) for qi in indices]
        results = group.client.run(requests)
        for qi, result in zip(indices, results, strict=True):
            q = questions[qi]
            account(model, q.agent_id, result.record)
            if not result.ok:
                model.emit(
                    "error",
                    agent=q.agent_id,
                    payload={"where": f"ask:{q.tag}", "message": result.error},
                )
            value = result.value if result.ok else None
            answers[qi] = Answer(q, value, result.text, result.error, result.logprobs)
        stop_if_down(model, [group])
    return [a for a in answers if a is not None]
