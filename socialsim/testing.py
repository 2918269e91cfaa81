"""Offline stand-ins for testing designs: a scripted LLM client and small models built fast.

A :class:`ScriptedClient` answers every request from a script (a list, or a function of the
request) and keeps every request it received: the messages a model server would have been
sent, so a test can check what a design shows its agents. It needs no model, no network and
no embedded llama-cpp.

    from socialsim.testing import ScriptedClient, run_scripted, small_config

    client = ScriptedClient(lambda request: {"message": "Hi.", "to": "all", "beliefs": {}})
    run = run_scripted(small_config(policy="llm", steps=2), client, out=tmp_path / "run")
    assert len(client.batches) == 2 and "You can message" in client.prompts()[0]

:class:`StandInModel` is the part of ``SocialModel`` a scenario calls (agents, ``ask``,
``send``, ``emit``), recorded, for testing one scenario hook without a whole model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel

import socialsim
from socialsim.llm.structured import parse
from socialsim.llm.types import CallRecord, LLMConfig, LLMRequest, LLMResult

__all__ = [
    "Failure",
    "ScriptedClient",
    "StandInModel",
    "clients_for",
    "fitted",
    "run_scripted",
    "small_config",
    "small_model",
]

X = TypeVar("X")
Y = TypeVar("Y")

#: The error of a scripted failed call (``None`` in a script): a transient provider failure.
PROVIDER_ERROR = "HTTP 503: overloaded"


@dataclass(frozen=True)
class Failure:
    """A scripted failed call: the result carries `error` (and `text`, e.g. unusable output)."""

    error: str = PROVIDER_ERROR
    text: str = ""


#: What a script gives for one request: JSON text (validated against the request's schema),
#: a dict or a pydantic instance (the value), ``None`` (a failed call), a :class:`Failure`, or
#: a ready ``LLMResult`` (returned as it is: a value no schema checked, say).
Answer = str | dict[str, Any] | BaseModel | Failure | LLMResult | None


def fitted(data: dict[str, Any]) -> Callable[[LLMRequest], dict[str, Any]]:
    """A script answering each request with the keys of `data` its schema has (all: no schema)."""

    def answer(request: LLMRequest) -> dict[str, Any]:
        schema = request.schema
        if schema is None:
            return dict(data)
        return {k: v for k, v in data.items() if k in schema.model_fields}

    return answer


class ScriptedClient:
    """An offline LLM client: answers from a script and records every request it received.

    `answers` is a function of the request, or a sequence used in request order (a request
    past its end is an error naming how many answers there were). Each answer is JSON text
    (parsed and validated against the request's schema as the real client does: text that
    does not fit gives a failed ``structured:`` result), a dict or pydantic instance (the
    value), ``None`` (a failed call: ``HTTP 503: overloaded``), a :class:`Failure`, or a
    ready ``LLMResult`` (returned unchanged: how a caller treats a value no schema checked).

    It offers what a model asks of a client: ``run`` (one batch), ``stream`` (each request
    answered as it is drawn, the pipelined path ``LLMClient`` takes) and ``map`` (build,
    answer and handle item by item) (both absent with ``pipelined=False``, so callers fall
    back to ``run``) and ``close``. Every batch is kept
    in ``batches``, every request in ``requests`` and its result in ``results``; ``prompts``,
    ``tags``, ``tagged`` and ``failed`` read them. While the script runs, ``position`` is the
    request's place in its batch.
    """

    def __init__(
        self,
        answers: Callable[[LLMRequest], Answer] | Sequence[Answer],
        *,
        model: str = "scripted",
        route: str = "scripted",
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        pipelined: bool = True,
    ) -> None:
        if callable(answers):
            self._script: Callable[[LLMRequest], Answer] = answers
        elif isinstance(answers, Sequence) and not isinstance(answers, str | bytes):
            listed = list(answers)
            self._script = lambda request: self._next_of(listed)
        else:
            raise TypeError("answers: give a function of the request or a list of answers")
        self.model = model
        self.route = route
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.pipelined = pipelined
        self.requests: list[LLMRequest] = []
        self.batches: list[list[LLMRequest]] = []
        self.results: list[LLMResult] = []
        self.position = 0
        self.closed = False

    # --- what a model calls ---------------------------------------------------------------
    def run(self, requests: Iterable[LLMRequest]) -> list[LLMResult]:
        """Answer one batch of requests, in order."""
        batch = list(requests)
        self.batches.append(batch)
        out = []
        for position, request in enumerate(batch):
            self.position = position
            out.append(self._answer(request))
        return out

    @property
    def map(self) -> Callable[..., list[Any]]:
        """``map(items, build, handle)`` as ``LLMClient.map`` (absent when not pipelined)."""
        if not self.pipelined:
            raise AttributeError("map: this ScriptedClient was made with pipelined=False")
        return self._map

    @property
    def stream(self) -> Callable[[Iterable[LLMRequest]], Iterator[tuple[int, LLMResult]]]:
        """``stream(requests)`` as ``LLMClient.stream`` (absent when not pipelined): each
        request answered as soon as it is drawn, ``(index, result)`` yielded at once."""
        if not self.pipelined:
            raise AttributeError("stream: this ScriptedClient was made with pipelined=False")
        return self._stream

    def _stream(self, requests: Iterable[LLMRequest]) -> Iterator[tuple[int, LLMResult]]:
        batch: list[LLMRequest] = []
        self.batches.append(batch)
        for position, request in enumerate(requests):  # drawn, answered, yielded one at a time
            batch.append(request)
            self.position = position
            yield position, self._answer(request)

    def close(self) -> None:
        """Nothing to release; marks the client closed."""
        self.closed = True

    # --- what a test reads ----------------------------------------------------------------
    @property
    def calls(self) -> int:
        """Requests received so far."""
        return len(self.requests)

    def tags(self) -> list[str | None]:
        """The prompt template id of every request, in order."""
        return [r.tag for r in self.requests]

    def tagged(self, tag: str) -> list[LLMRequest]:
        """The requests of one prompt template id, in order."""
        return [r for r in self.requests if r.tag == tag]

    def failed(self, tag: str | None = None) -> int:
        """How many answers (of `tag` when given) came back failed."""
        pairs = zip(self.requests, self.results, strict=True)
        return sum(1 for r, res in pairs if not res.ok and (tag is None or r.tag == tag))

    def prompts(self, tag: str | None = None) -> list[str]:
        """The last message's text of each request (of `tag` when given), in order."""
        chosen = self.requests if tag is None else self.tagged(tag)
        return [str(r.messages[-1]["content"]) for r in chosen]

    # --- inside -------------------------------------------------------------------------------
    def _map(
        self,
        items: Sequence[X],
        build: Callable[[X], LLMRequest],
        handle: Callable[[X, LLMResult], Y],
    ) -> list[Y]:
        batch: list[LLMRequest] = []
        self.batches.append(batch)
        out = []
        for position, item in enumerate(items):  # built, answered, handled one at a time
            request = build(item)
            batch.append(request)
            self.position = position
            out.append(handle(item, self._answer(request)))
        return out

    def _next_of(self, listed: list[Answer]) -> Answer:
        n = len(self.requests) - 1
        if n >= len(listed):
            raise IndexError(
                f"ScriptedClient: request {n + 1} asked, the script has {len(listed)} answers"
            )
        return listed[n]

    def _answer(self, request: LLMRequest) -> LLMResult:
        self.requests.append(request)
        result = self._result(request, self._script(request))
        self.results.append(result)
        return result

    def _result(self, request: LLMRequest, answer: Answer) -> LLMResult:
        if isinstance(answer, LLMResult):
            return answer
        record = CallRecord(
            model=request.model or self.model,
            route=self.route,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            attempts=1,
            tag=request.tag,
        )
        if answer is None:
            answer = Failure()
        if isinstance(answer, Failure):
            record.error = answer.error
            return LLMResult(text=answer.text, record=record, error=answer.error)
        schema = request.schema
        if isinstance(answer, BaseModel):
            return LLMResult(text=answer.model_dump_json(), record=record, value=answer)
        if isinstance(answer, dict):
            if schema is None:
                return LLMResult(text=json.dumps(answer), record=record, value=answer)
            answer = json.dumps(answer)
        if not isinstance(answer, str):
            raise TypeError(
                f"ScriptedClient: an answer must be text, a dict, a pydantic model, None, a "
                f"Failure or an LLMResult; the script gave {type(answer).__name__}"
            )
        if schema is None:
            return LLMResult(text=answer, record=record)
        value, problem = parse(answer, schema)  # as the real client reads an answer
        if value is None:
            record.error = f"structured: {problem}"
            return LLMResult(text=answer, record=record, error=record.error)
        return LLMResult(text=answer, record=record, value=value)


def clients_for(config: socialsim.ExperimentConfig, client: Any) -> dict[str, Any]:
    """The ``clients=`` argument that gives `client` to every LLM policy group of `config`."""
    configs: list[LLMConfig] = [config.agents.llm]
    configs += [m.llm for m in config.agents.mix if m.llm is not None]
    return {llm.model_dump_json(): client for llm in configs}


def small_config(
    *,
    size: int = 8,
    steps: int = 2,
    seed: int = 1,
    policy: str = "degroot",
    network: str = "ring",
    scenario: str | None = None,
    params: dict[str, Any] | None = None,
    out: str | os.PathLike | None = None,
    **sections: Any,
) -> socialsim.ExperimentConfig:
    """A small experiment config (a ring of 8 agents, 2 steps, one claim), no report written.

    `scenario` and `params` set ``scenario:``; `out` sets ``output.dir``; other keywords
    replace whole top-level sections (``agents={...}``, ``claims=[...]``).
    """
    data: dict[str, Any] = {
        "name": "small",
        "seed": seed,
        "steps": steps,
        "population": {"size": size},
        "network": {"kind": network},
        "agents": {"policy": policy},
        "claims": [{"id": "c1", "text": "The river is poisoned.", "truth": False}],
        "output": {"report": False},
    }
    if scenario is not None:
        data["scenario"] = {"kind": scenario, "params": dict(params or {})}
    if out is not None:
        data["output"]["dir"] = str(out)
    data.update(sections)
    return socialsim.ExperimentConfig.from_dict(data)


def small_model(client: Any = None, **config: Any) -> Any:
    """A ``SocialModel`` of :func:`small_config` (keywords as there), in memory, using `client`."""
    cfg = small_config(**config)
    clients = clients_for(cfg, client) if client is not None else None
    return socialsim.SocialModel(cfg, clients=clients)


def run_scripted(
    config: socialsim.ExperimentConfig, client: Any, out: str | os.PathLike | None = None
) -> Any:
    """``socialsim.run`` with `client` answering every LLM agent (a run, or arms)."""
    return socialsim.run(
        config, out=Path(out) if out else None, clients=clients_for(config, client)
    )


class StandInModel:
    """The ``SocialModel`` calls a scenario makes (agents, ``ask``, ``send``, ``emit``), recorded.

    Agent `i` runs `models[i]` (its ``model_string``) and counts as an LLM agent; ``ask``
    answers each question through `answer(question)` when given (a pydantic value, or
    ``None`` / a :class:`Failure` for a failed answer), else its ``fallback``. Questions are
    kept per batch in ``batches``, messages in ``sent`` and events in ``events``.
    """

    def __init__(
        self,
        models: Sequence[str],
        answer: Callable[[Any], BaseModel | Failure | None] | None = None,
        seed: int = 0,
    ) -> None:
        import networkx as nx

        self.cfg = socialsim.ExperimentConfig()
        self.graph = nx.path_graph(len(models))
        self.rng = np.random.default_rng(seed)
        self.step_index = 1
        self.answer = answer
        self._agents = [
            SimpleNamespace(id=i, model_string=m, persona=SimpleNamespace(name=f"agent{i}"))
            for i, m in enumerate(models)
        ]
        self.batches: list[list[Any]] = []
        self.sent: list[tuple[int, Any, str | None]] = []
        self.events: list[dict[str, Any]] = []

    @property
    def n_agents(self) -> int:
        """The number of agents."""
        return len(self._agents)

    def agent(self, i: int) -> SimpleNamespace:
        """Agent `i`: ``id``, ``model_string`` and ``persona.name``."""
        return self._agents[i]

    def is_llm(self, i: int) -> bool:
        """Every agent counts as an LLM agent."""
        return True

    def is_present(self, i: int) -> bool:
        """Every agent stays."""
        return True

    def neighbours(self, i: int) -> list[int]:
        """Agent `i`'s neighbours on the path graph."""
        return sorted(self.graph.neighbors(i))

    def ask(self, questions: Sequence[Any]) -> list[Any]:
        """One batch of questions, answered by `answer` (or each question's fallback)."""
        from socialsim.simulation.queries import Answer as QueryAnswer

        self.batches.append(list(questions))
        out = []
        for q in questions:
            value = self.answer(q) if self.answer is not None else q.fallback()
            if value is None:
                value = Failure()
            if isinstance(value, Failure):
                out.append(QueryAnswer(q, None, text=value.text, error=value.error))
            else:
                out.append(QueryAnswer(q, value))
        return out

    def send(self, sender: int, text: str, to: Any, channel: str | None = None, **kw: Any) -> None:
        """Record a message: (sender, recipients, channel)."""
        self.sent.append((sender, to, channel))

    def emit(
        self,
        kind: str,
        agent: int | None = None,
        target: int | None = None,
        claim: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Record an event."""
        self.events.append(
            {"kind": kind, "agent": agent, "target": target, "claim": claim, "payload": payload}
        )
