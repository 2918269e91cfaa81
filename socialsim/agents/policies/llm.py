"""LLMPolicy: agents decide through a language model, one structured request per observation.

The prompt comes from a template file (:mod:`socialsim.llm.prompts`); the answer is a
pydantic model (message, recipient, updated credences, scenario fields) that is then
checked against what the agent can actually do: unknown claims are dropped, credences
clamped, recipients mapped from names to ids. A failed call becomes ``Decision.error``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel

from socialsim.agents.policies.answer_schemas import (
    compact_schema,
    decision_schema,
    with_recipients,
)
from socialsim.agents.policies.base import DecidingPolicy
from socialsim.core.decisions import Decision, Observation
from socialsim.core.errors import ConfigError
from socialsim.core.trusted import trusted
from socialsim.llm.prompts import answer_form, part_fields, render_part
from socialsim.llm.prompts import fields as template_fields
from socialsim.llm.prompts import parts as prompt_parts
from socialsim.llm.structured import json_schema
from socialsim.llm.types import LLMConfig, LLMRequest, LLMResult

T = TypeVar("T")
_CORE_FIELDS = ("message", "to", "beliefs", "credence", "credences")
_EVERYONE = {"all", "everyone", "everybody", "public", "neighbours", "neighbors"}
_NOBODY = {"none", "nobody", "no one", "noone", "nothing"}
# Agents observed in one go inside a pipelined batch: long enough runs of observing to keep
# their data in the CPU caches, short enough not to hold answers back.
_OBSERVE_AHEAD = 16


class BatchClient(Protocol):
    """What LLMPolicy needs from a client: one synchronous batch of requests.

    A client that also has ``stream(requests)``, yielding ``(index, result)`` as answers
    come (as :class:`~socialsim.llm.LLMClient` does), gets pipelined batches from
    :meth:`LLMPolicy.decisions`.
    """

    def run(self, requests: list[LLMRequest]) -> list[LLMResult]:
        """Run every request (concurrently) and return one result each, in order."""


def request_seed(base: int, agent_id: int, step: int) -> int:
    """A deterministic 31-bit seed for one agent's request in one step."""
    digest = hashlib.blake2b(f"{base}:{agent_id}:{step}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


def _tidy(text: str) -> str:
    """A rendered prompt without the blank lines that empty fields leave."""
    return "\n".join(line for line in text.strip().split("\n") if line.strip())


def _flat(text: str, limit: int) -> str:
    """Agent text on one line, cut to `limit` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _stated_beliefs(obs: Observation, data: dict[str, Any]) -> Any:
    """The answer's beliefs in either form: ``beliefs``, ``credences`` or one ``credence``."""
    if data.get("beliefs") is not None:
        return data["beliefs"]
    if data.get("credences") is not None:
        return data["credences"]
    if data.get("credence") is not None and len(obs.claims) == 1:
        return {obs.claims[0].id: data["credence"]}
    return None


class LLMPolicy(DecidingPolicy):
    """Decide through an LLM: persona as system prompt, template as user prompt, one batch per step."""

    name: ClassVar[str] = "llm"

    def __init__(
        self,
        client: BatchClient,
        config: LLMConfig,
        template: str = "decide_v2",
        extra_fields: dict[str, tuple[type, Any]] | None = None,
        seed: int = 0,
        max_message_chars: int = 120,
        max_neighbours_shown: int = 12,
        brief_persona: bool = False,
    ) -> None:
        clash = set(extra_fields or {}) & set(_CORE_FIELDS)
        if clash:
            raise ConfigError(
                f"decision fields {sorted(clash)} clash with the built-in fields {_CORE_FIELDS}"
            )
        self.client = client
        self.config = config
        self.template = template
        self.extra_fields = dict(extra_fields or {})
        self.seed = seed
        self.max_message_chars = max_message_chars
        self.max_neighbours_shown = max_neighbours_shown
        self.brief_persona = brief_persona
        self.answer = answer_form(template)
        # the fields a request needs: the template's, and the system message's when the
        # template has no [system] part
        single = "system" not in prompt_parts(template)
        self._needed = frozenset(template_fields(template)) | (
            {"persona", "instructions"} if single else frozenset()
        )
        fields_of = part_fields(template)
        self._system_fields = tuple(sorted(fields_of["system"])) if not single else None
        self._user_text = prompt_parts(template)["user"]
        self._user_fields = fields_of["user"]
        self._system: tuple[tuple[str, ...], str] | None = None  # (its fields' values, text)
        self._schemas: dict[tuple, type[BaseModel]] = {}
        self._described: dict[int, tuple[Any, str]] = {}  # agent id -> (persona, description)

    def schema_for(self, observation: Observation) -> type[BaseModel]:
        """The (cached) answer class for the claims in this observation: it validates answers.

        One class per claim set, shared by every agent; what each agent's request asks the
        model for (with its own neighbours as the recipients) is :meth:`json_schema_for`.
        """
        ids = tuple(c.id for c in observation.claims) or tuple(observation.beliefs)
        schema = self._schemas.get(ids)
        if schema is None:
            if len(self._schemas) > 4096:
                self._schemas.clear()
            if self.answer == "compact":
                schema = compact_schema(ids, self.extra_fields)
            else:
                schema = decision_schema(ids, self.extra_fields, self.max_message_chars)
            self._schemas[ids] = schema
        return schema

    def stated_claims(self, observation: Observation) -> list[str]:
        """The claims whose credence an answer to `observation` states: none when its schema
        asks for no credence (claims hidden from the agent, as under ``elicitation: probe``)."""
        fields = self.schema_for(observation).model_fields
        if not fields.keys() & {"beliefs", "credence", "credences"}:
            return []
        return list(tuple(c.id for c in observation.claims) or tuple(observation.beliefs))

    def json_schema_for(self, observation: Observation) -> dict[str, Any] | None:
        """The JSON schema sent with this observation's request: the answer class's, with
        ``to`` an enum of 'all', 'none' and the neighbours shown (None when there are none).

        Equal to the schema of a class built with those recipients, so cache keys do not
        change, at the cost of three small dicts instead of a pydantic class per agent.
        """
        labels = tuple(islice(self._labels(observation).values(), self.max_neighbours_shown))
        if not labels:
            return None
        return with_recipients(json_schema(self.schema_for(observation)), labels)

    def prompt_fields(
        self, observation: Observation, only: frozenset[str] | None = None
    ) -> dict[str, str]:
        """The template fields for one observation (task keys too, for custom templates);
        with `only`, just those fields (and the task keys) are made."""
        obs = observation
        want = (lambda name: True) if only is None else only.__contains__  # noqa: E731
        fields = {str(k): _flat(v, 300) for k, v in obs.task.items() if str(k).isidentifier()}
        if want("beliefs") or want("credences"):
            beliefs, credences = [], []  # with the claim's text, and by id only (decide_v2)
            for claim in obs.claims:
                value = obs.beliefs.get(claim.id)
                sure = "no view yet" if value is None else f"{round(100 * value)}%"
                beliefs.append(f'- {claim.id}: "{_flat(claim.text, 160)}" {sure}')
                credences.append(f"- {claim.id}: {sure}")
            known = {c.id for c in obs.claims}
            others = [
                f"- {cid}: {round(100 * v)}%" for cid, v in obs.beliefs.items() if cid not in known
            ]
            fields["beliefs"] = "\n".join(beliefs + others) or "(no claims)"
            fields["credences"] = "\n".join(credences + others) or "(no claims)"
        if want("step"):
            fields["step"] = str(obs.step)
        if want("memories"):
            fields["memories"] = (
                "\n".join(f"- {_flat(m, 160)}" for m in obs.memories) or "(nothing)"
            )
        if want("inbox"):
            fields["inbox"] = (
                "\n".join(
                    f"- {self._sender(obs, m.sender)}: {_flat(m.text, 200)}" for m in obs.inbox
                )
                or "(none)"
            )
        if want("neighbours"):
            names = self._labels(obs)
            shown = list(islice(names.values(), self.max_neighbours_shown))
            more = len(names) - len(shown)
            listed = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
            fields["neighbours"] = listed or "(nobody)"
        if want("task"):
            fields["task"] = (
                f"Task: {_flat(json.dumps(obs.task, ensure_ascii=False, default=str), 600)}"
                if obs.task
                else ""
            )
        if want("persona"):
            fields["persona"] = self._describe(obs)
        if want("instructions"):
            fields["instructions"] = "\n".join(_flat(i, 600) for i in obs.instructions)
        if want("claims"):
            fields["claims"] = (
                "\n".join(f'- {c.id}: "{_flat(c.text, 160)}"' for c in obs.claims) or "(none)"
            )
        if want("statements"):
            fields["statements"] = (
                " ".join(f'"{_flat(c.text, 160)}"' for c in obs.claims) or "(none)"
            )
        if want("topic"):
            fields["topic"] = _flat(obs.topic or "whatever you like", 200)
        if want("sure"):
            fields["sure"] = (
                ", ".join(
                    "unsure"
                    if obs.beliefs.get(c.id) is None
                    else f"{round(100 * obs.beliefs[c.id])}%"
                    for c in obs.claims
                )
                or "unsure"
            )
        return fields

    def _system_text(self, fields: dict[str, str]) -> str:
        """The template's system part for these fields (the same for most agents: kept)."""
        names = self._system_fields or ()
        key = tuple(fields.get(name) for name in names)
        kept = self._system
        if kept is None or kept[0] != key:
            kept = (key, _tidy(render_part(self.template, "system", **fields)))
            self._system = kept
        return kept[1]

    def _user(self, fields: dict[str, str]) -> str:
        """The template's user part filled with `fields` (text each): as ``render_part``
        makes it, which names the fields that are missing."""
        if not self._user_fields <= fields.keys():
            return render_part(self.template, "user", **fields)  # raises, naming them
        return self._user_text.format_map(fields)

    def build_request(self, observation: Observation) -> LLMRequest:
        """The chat request for one observation (no model call)."""
        obs = observation
        fields = self.prompt_fields(obs, self._needed)
        user = self._user(fields)
        if self._system_fields is not None:  # shared part first: a cached prefix serves all
            system = self._system_text(fields)
            user = _tidy(user)
        else:
            system = "\n".join(p for p in (fields["persona"], fields["instructions"]) if p)
        return LLMRequest(
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            schema=self.schema_for(obs),
            json_schema=self.json_schema_for(obs),
            model=obs.persona.model or None,
            tag=self.template,
            seed=request_seed(self.seed, obs.agent_id, obs.step),
        )

    def parse(self, observation: Observation, result: LLMResult | None) -> Decision:
        """Turn one result into a checked Decision; failures become `Decision.error`."""
        record = getattr(result, "record", None)
        base: dict[str, Any] = {
            "agent_id": observation.agent_id,
            "llm": record.as_payload() if record is not None else None,
            "prompt_id": self.template,
        }
        if result is None:
            return Decision(**base, error="the client returned no result for this request")
        if not result.ok or result.value is None:
            return Decision(**base, error=result.error or "the model returned no structured answer")
        try:
            value = result.value
            data = value.model_dump() if isinstance(value, BaseModel) else dict(value)
            message = _flat(data.get("message") or "", self.max_message_chars)
            credences, reasons = self._beliefs(observation, _stated_beliefs(observation, data))
            # made here from the validated answer: text, 'all'/'none'/a neighbour's id, floats
            return trusted(
                Decision,
                {
                    **base,
                    "message": message,
                    "to": self._recipient(observation, data.get("to"), message),
                    "credences": credences,
                    "reasons": reasons,
                    "fields": {name: data.get(name) for name in self.extra_fields},
                },
            )
        except (TypeError, ValueError, AttributeError) as exc:
            return Decision(**base, error=f"unusable answer: {_flat(exc, 200)}")

    def decisions(
        self, items: Sequence[T], observe: Callable[[T], Observation]
    ) -> Iterator[tuple[int, Observation, Decision]]:
        """Observe, ask and parse every item; yield ``(i, observation, decision)`` as each comes.

        Everything runs on the caller's thread. With a client that can `stream`, each item is
        observed just before its request is built, in item order (a few at a time), while
        earlier requests are in flight, and each answer is parsed and yielded as it arrives,
        so the caller can act on it while later items are still being observed. One agent's
        observation never depends on another's request or answer. Without `stream`, every
        item is observed, then asked in one batch, and the decisions come in item order.
        """
        stream = getattr(self.client, "stream", None)
        if stream is None:
            observations = [observe(item) for item in items]
            for i, (obs, decision) in enumerate(
                zip(observations, self.decide(observations), strict=True)
            ):
                yield i, obs, decision
            return
        seen: list[Observation | None] = [None] * len(items)

        def requests() -> Iterator[LLMRequest]:
            for i in range(len(items)):
                if seen[i] is None:  # observed a few at a time: one agent's state after another's
                    for j in range(i, min(i + _OBSERVE_AHEAD, len(items))):
                        seen[j] = observe(items[j])
                yield self.build_request(seen[i])  # type: ignore[arg-type]

        for i, result in stream(requests()):
            obs = seen[i]
            assert obs is not None
            seen[i] = None  # (the caller keeps what it needs)
            yield i, obs, self.parse(obs, result)

    def decide_each(
        self, items: Sequence[T], observe: Callable[[T], Observation]
    ) -> list[tuple[Observation, Decision]]:
        """:meth:`decisions` gathered in item order: equal to ``decide([observe(i) for i in items])``."""
        out: list[Any] = [None] * len(items)
        for i, obs, decision in self.decisions(items, observe):
            out[i] = (obs, decision)
        return out

    def decide(self, observations: list[Observation]) -> list[Decision]:
        """Decide for every observation with one batch call to the client."""
        if not observations:
            return []
        results = list(self.client.run([self.build_request(o) for o in observations]))
        return [
            self.parse(o, results[i] if i < len(results) else None)
            for i, o in enumerate(observations)
        ]

    def _describe(self, obs: Observation) -> str:
        """The persona's description (kept per agent while its persona object is the same)."""
        persona = obs.persona
        kept = self._described.get(obs.agent_id)
        if kept is None or kept[0] is not persona:
            if len(self._described) > 1_000_000:
                self._described.clear()
            kept = (persona, persona.describe(brief=self.brief_persona))
            self._described[obs.agent_id] = kept
        return kept[1]

    @staticmethod
    def _sender(obs: Observation, sender: int) -> str:
        """How a message's sender is shown: a neighbour's name, 'announcement', or 'agent N'."""
        if sender in obs.neighbours:
            return obs.neighbours[sender]
        return "announcement" if sender < 0 else f"agent {sender}"

    @staticmethod
    def _labels(obs: Observation) -> dict[int, str]:
        """Neighbour labels for the prompt: the name, with '#id' when names repeat (made
        once per observation)."""
        private = obs.__pydantic_private__  # (read directly: pydantic's attribute hook is slow)
        labels = private["_labels"]
        if labels is None:
            folded = [name.casefold() for name in obs.neighbours.values()]
            if len(set(folded)) == len(folded):  # no name repeats (the common case)
                labels = dict(obs.neighbours)
            else:
                counts: dict[str, int] = {}
                for key in folded:
                    counts[key] = counts.get(key, 0) + 1
                labels = {
                    j: (name if counts[key] == 1 else f"{name} #{j}")
                    for (j, name), key in zip(obs.neighbours.items(), folded, strict=True)
                }
            private["_labels"] = labels
        return labels

    def _recipient(self, obs: Observation, to: Any, message: str) -> int | str:
        """Map the model's `to` onto 'all', 'none' or a neighbour id."""
        if not message:
            return "none"
        key = " ".join(str(to or "").replace("@", " ").split()).casefold()
        if key in _EVERYONE:
            return "all"
        if key in _NOBODY:
            return "none"
        for j, label in self._labels(obs).items():  # the first neighbour the key names
            for alias in (label, f"#{j}", str(j), f"agent {j}"):
                if alias.casefold() == key:
                    return j
        return "all"

    @staticmethod
    def _beliefs(obs: Observation, raw: Any) -> tuple[dict[str, float], dict[str, str]]:
        """Credences and reasons for known claims (by id or text), clamped to 0..1.

        Numbers from 2 to 100 are read as percentages (the prompt shows credences as
        percentages); anything else outside 0..1 is clamped (1.2 -> 1.0, 250 -> 1.0).
        """
        resolve: dict[str, str] = {}
        for cid in obs.beliefs:
            resolve[cid.casefold()] = cid
        for claim in obs.claims:
            resolve.setdefault(claim.id.casefold(), claim.id)
            resolve.setdefault(" ".join(claim.text.split()).casefold().strip(" .!?\"'"), claim.id)
        if isinstance(raw, dict):
            items = [
                v | {"claim": k} if isinstance(v, dict) else {"claim": k, "credence": v}
                for k, v in raw.items()
            ]
        else:
            items = list(raw or [])
        credences: dict[str, float] = {}
        reasons: dict[str, str] = {}
        for item in items:
            if not isinstance(item, dict):
                continue
            key = " ".join(str(item.get("claim", "")).split()).casefold().strip(" .!?\"'")
            cid = resolve.get(key)
            try:
                value = float(item.get("credence"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            if cid is None or not math.isfinite(value):
                continue
            if 2.0 <= value <= 100.0:
                value /= 100.0
            credences[cid] = min(1.0, max(0.0, value))
            if item.get("reason"):
                reasons[cid] = _flat(item["reason"], 200)
        return credences, reasons


__all__ = ["BatchClient", "LLMPolicy", "request_seed"]
