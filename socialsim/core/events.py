"""The event line contract and the registry of payload types.

Every line of ``events.jsonl`` is one event with the fields :data:`EVENT_FIELDS`
(``run, step, time, kind, agent, target, claim, payload``); ``kind`` is one of
:data:`EVENT_KINDS`. A payload's keys are declared once, by a payload type: a keyword-only
dataclass whose fields are the keys, each with a one-line ``doc``. Code that emits an event
builds the type and writes its :meth:`EventPayload.as_payload`, so a misspelt or missing key
is a ``TypeError`` where the event is made, and :func:`check_event` tells whether a logged
line keeps to its type.

The generic kinds' payloads are declared here. Each scenario family declares the payloads it
emits in ``socialsim/scenarios/<family>/events.py``, registered when the family is imported.
Where one kind carries several payloads, one payload key tells them apart
(:data:`DISCRIMINATORS`: ``action`` events by ``type``, ``injection`` events by ``route``);
that key's value is the type's ``TAG``.

>>> RoleAssigned(role="attacker", placebo=False).as_payload()
{'type': 'role', 'role': 'attacker', 'placebo': False}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from socialsim.core.errors import SocialsimError

EVENT_FIELDS = ("run", "step", "time", "kind", "agent", "target", "claim", "payload")
EVENT_KINDS = (
    "message",
    "belief_change",
    "decision",
    "injection",
    "probe",
    "action",
    "llm_call",
    "error",
)
DISCRIMINATORS = {"action": "type", "injection": "route"}
VALUE_SHAPES = ("list", "dict", "bool", "int", "float", "text", "any")


class EventContractError(SocialsimError):
    """An event line whose payload does not keep to its registered type."""


class _Absent:
    """The value of an optional payload key left out of the line."""

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()


def described(doc: str, default: Any = dataclasses.MISSING) -> Any:
    """A payload field with its description; `default` makes it optional (ABSENT: left out)."""
    return dataclasses.field(default=default, metadata={"doc": doc})


@dataclasses.dataclass(kw_only=True)
class EventPayload:
    """Base of every payload type: ``as_payload()`` is the dict an event line carries."""

    KIND: ClassVar[str] = ""
    TAG: ClassVar[str | None] = None
    _names: ClassVar[tuple[str, ...]] = ()

    def as_payload(self) -> dict[str, Any]:
        """The payload dict: the tag first (when the type has one), then the fields in order."""
        out: dict[str, Any] = {} if self.TAG is None else {DISCRIMINATORS[self.KIND]: self.TAG}
        for name in self._names:
            value = getattr(self, name)
            if value is not ABSENT:
                out[name] = value
        return out

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """Every key the payload may carry, the tag's key included."""
        tag = (DISCRIMINATORS[cls.KIND],) if cls.TAG is not None else ()
        return tag + cls._names

    @classmethod
    def required_keys(cls) -> tuple[str, ...]:
        """The keys every payload of this type carries."""
        tag = (DISCRIMINATORS[cls.KIND],) if cls.TAG is not None else ()
        optional = {f.name for f in dataclasses.fields(cls) if f.default is ABSENT}
        return tag + tuple(n for n in cls._names if n not in optional)

    @classmethod
    def docs(cls) -> dict[str, str]:
        """Each field's description."""
        return {f.name: f.metadata.get("doc", "") for f in dataclasses.fields(cls)}

    @classmethod
    def shapes(cls) -> dict[str, str]:
        """Each field's value shape in a table: one of :data:`VALUE_SHAPES`."""
        return {f.name: _shape(f.type) for f in dataclasses.fields(cls)}


def _shape(annotation: Any) -> str:
    """The table shape of an annotation such as ``"list[int] | None"``."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    parts = [p.strip() for p in str(text).split("|") if p.strip() not in ("None", "")]
    if len(parts) != 1:
        return "any"
    base = parts[0].split("[")[0]
    return {"list": "list", "dict": "dict", "bool": "bool", "int": "int", "float": "float"}.get(
        base, "text" if base == "str" else "any"
    )


_REGISTRY: dict[tuple[str, str | None], type[EventPayload]] = {}
P = TypeVar("P", bound=EventPayload)


def event_payload(kind: str, tag: str | None = None) -> Callable[[type[P]], type[P]]:
    """Class decorator: make a keyword-only payload dataclass and register it for `kind`/`tag`.

    ``@event_payload("action", "norm_choice")`` registers the type of ``action`` events whose
    ``type`` is ``norm_choice``; ``tag=None`` registers the kind's payload for any other value.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}; expected one of {EVENT_KINDS}")
    if tag is not None and kind not in DISCRIMINATORS:
        raise ValueError(f"event kind {kind!r} has one payload type; register it without a tag")

    def register(cls: type[P]) -> type[P]:
        cls = dataclasses.dataclass(kw_only=True)(cls)
        cls.KIND, cls.TAG = kind, tag
        cls._names = tuple(f.name for f in dataclasses.fields(cls))
        held = _REGISTRY.get((kind, tag))
        if held is not None and held.__qualname__ != cls.__qualname__:
            raise ValueError(f"{kind} payload {tag!r} is already registered as {held.__name__}")
        _REGISTRY[(kind, tag)] = cls
        return cls

    return register


def payload_type(kind: str, payload: Mapping[str, Any] | None = None) -> type[EventPayload] | None:
    """The registered type of a `kind` event with `payload` (None when none is registered)."""
    key = DISCRIMINATORS.get(kind)
    if key is not None and payload:
        found = _REGISTRY.get((kind, payload.get(key)))
        if found is not None:
            return found
    return _REGISTRY.get((kind, None))


def registered_types() -> list[type[EventPayload]]:
    """Every registered payload type (generic ones, and those of the families imported)."""
    return list(_REGISTRY.values())


def payload_problems(kind: str, payload: Mapping[str, Any]) -> list[str]:
    """What is wrong with a `kind` event's payload for its type (empty when it keeps to it)."""
    cls = payload_type(kind, payload)
    if cls is None:
        key = DISCRIMINATORS.get(kind)
        tag = f" {key} {payload.get(key)!r}" if key else ""
        return [f"no payload type is registered for {kind}{tag}"]
    keys = set(payload)
    unknown = sorted(keys - set(cls.keys()))
    missing = [k for k in cls.required_keys() if k not in keys]
    problems = [f"{cls.__name__}: unknown key {k!r}" for k in unknown]
    problems += [f"{cls.__name__}: missing key {k!r}" for k in missing]
    return problems


def check_event(line: Mapping[str, Any]) -> None:
    """Raise :class:`EventContractError` unless `line` is an event that keeps to the contract."""
    fields = tuple(line)
    if fields != EVENT_FIELDS:
        raise EventContractError(
            f"an event line has the fields {list(fields)}; expected {list(EVENT_FIELDS)} in order"
        )
    kind = line["kind"]
    if kind not in EVENT_KINDS:
        raise EventContractError(f"unknown event kind {kind!r}; expected one of {EVENT_KINDS}")
    payload = line["payload"]
    if not isinstance(payload, Mapping):
        raise EventContractError(
            f"a {kind} event's payload is {type(payload).__name__}, not an object"
        )
    problems = payload_problems(kind, payload)
    if problems:
        raise EventContractError(f"step {line['step']} {kind} event: " + "; ".join(problems))


def check_events(lines: Iterable[Mapping[str, Any]]) -> int:
    """:func:`check_event` on every line; returns how many were checked."""
    count = 0
    for line in lines:
        check_event(line)
        count += 1
    return count


# --- the generic kinds' payloads --------------------------------------------------------


@event_payload("message")
class Message(EventPayload):
    """A message posted or sent (``agent`` the sender, -1 for the scenario)."""

    id: str = described("the message id, referenced by replies and belief changes")
    text: str = described("what was said")
    recipients: list[int] = described("every agent it is delivered to")
    claims: list[str] = described("claim ids the message references")
    reply_to: str | None = described("the id of the message it answers")
    channel: str = described("post (to all neighbours) or direct")


@event_payload("belief_change")
class BeliefChange(EventPayload):
    """One agent's credence in one claim changed (``target``: who caused it, if known)."""

    old: float = described("the credence before")
    new: float | None = described("the credence after (null: unknown, its measurement failed)")
    cause: str = described("message, injection, probe, rule, decision or scenario")
    ref: str | None = described("what caused it: a message id, a route, a rule group")
    reason: str | None = described("the agent's own reason, when it gave one", ABSENT)


@event_payload("decision")
class Decision(EventPayload):
    """An agent's decision for the step (``target``: the recipient, if one)."""

    policy: str = described("the policy that decided")
    message: str | None = described("the message it chose to send")
    to: Any = described("all, an agent id or a list of ids")
    credences: dict = described("claim id -> the credence it reported")
    fields: dict = described("scenario fields of the decision schema")
    prompt_id: str | None = described("the prompt template's id")


@event_payload("injection")
class Injection(EventPayload):
    """A claim placed in an agent's context or memory by the scenario."""

    route: str = described("how it arrived: in_context, memory, broadcast, ...")


@event_payload("probe")
class Probe(EventPayload):
    """A probe question asked of an agent about a claim."""

    probe_id: str = described("the probe's id")
    distance: str = described("how far the question is from the claim: direct, ...")
    question: str = described("the question asked")
    answer: str | None = described("the answer letter (null when it failed)")
    status: str = described("answered or failed")
    correct: bool | None = described("the answer is the true one")
    manipulated: bool | None = described("the answer is the one the manipulation pushes")
    credence: float | None = described(
        "the agent's credence in the claim when asked (null: unknown, its credence answer failed)"
    )
    source: str = described("llm or rule")
    role: str | None = described("the agent's scenario role, if any")
    error: str = described("why the answer failed", ABSENT)


@event_payload("action", "role")
class RoleAssigned(EventPayload):
    """An agent holds a scenario role (attacker, guardian, persuader, violator, ...)."""

    role: str = described("the role")
    placebo: bool = described("drawn for the role in a control arm, acting as an ordinary agent")


@event_payload("action", "removed")
class Removed(EventPayload):
    """An agent left the run."""

    role: str | None = described("its role, if it had one")


@event_payload("llm_call")
class LLMCall(EventPayload):
    """One model call (``CallRecord.as_payload()``)."""

    model: str = described("the model string")
    route: str | None = described("the endpoint route taken")
    latency_s: float = described("seconds the call took")
    prompt_tokens: int | None = described("tokens in the prompt")
    completion_tokens: int | None = described("tokens in the completion")
    cost: float | None = described("its cost in dollars, when known")
    cached: bool = described("answered from the response cache")
    attempts: int = described("tries made")
    repaired: bool = described("the structured answer needed repair")
    error: str | None = described("why it failed, if it did")
    prompt_id: str | None = described("the prompt template's id")


@event_payload("error")
class Error(EventPayload):
    """Something went wrong at `where` (``where: step`` with ``incomplete``: a step cut short)."""

    where: str = described("where: decide, ask:<tag>, step, ...")
    message: str = described("the error, one line")
    incomplete: bool = described("the step stopped before it finished", ABSENT)


__all__ = [
    "ABSENT",
    "DISCRIMINATORS",
    "EVENT_FIELDS",
    "EVENT_KINDS",
    "BeliefChange",
    "Decision",
    "Error",
    "EventContractError",
    "EventPayload",
    "Injection",
    "LLMCall",
    "Message",
    "Probe",
    "Removed",
    "RoleAssigned",
    "check_event",
    "check_events",
    "described",
    "event_payload",
    "payload_problems",
    "payload_type",
    "registered_types",
]
