"""ExperimentConfig: the experiment contract, loaded from YAML with friendly one-line errors."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from socialsim.core.errors import ConfigError
from socialsim.core.registry import (
    MEASURES,
    NETWORKS,
    POLICIES,
    SCENARIOS,
    PluginsNotTrusted,
    load_plugins,
)
from socialsim.core.sweep_grid import check_grid_size
from socialsim.core.validation import BoolsAreNotNumbers, choices, describe_error, plain, shown
from socialsim.core.yaml_safe import YAMLSyntaxError, load_yaml_file, load_yaml_text
from socialsim.llm.redact import redact
from socialsim.llm.types import LLMConfig
from socialsim.simulation.self_report import SelfReportConfig

#: the largest seed: every seed (and seed + replicate) stays an exact JSON number
MAX_SEED = 2**53 - 1


class _Strict(BoolsAreNotNumbers):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class PopulationConfig(_Strict):
    """Who the agents are: how many, which personas, how personas map to nodes."""

    size: int = Field(30, ge=1, le=10_000_000, strict=True)
    personas: str | dict[str, Any] = "default"
    assign: Literal["random", "homophily", "by_degree"] = "random"

    @model_validator(mode="after")
    def _spec_draws(self) -> PopulationConfig:
        """A persona spec is tried on one persona (about a millisecond), so that a wrong one
        is refused with the config, not when each run (or sweep cell) samples it."""
        if isinstance(self.personas, dict):
            from socialsim.agents.sampling import sample_population

            sample_population(1, np.random.default_rng(0), self.personas)
        return self


class NetworkConfig(_Strict):
    """The graph: a registered generator kind and its parameters (or a file)."""

    kind: str = "watts_strogatz"
    params: dict[str, Any] = Field(default_factory=dict)
    directed: bool = False

    @model_validator(mode="after")
    def _registered(self) -> NetworkConfig:
        from socialsim.simulation.network import effective_params

        given = effective_params(self.kind, self.params)
        NETWORKS.validate(self.kind, given, "network.params")
        return self


class PromptConfig(_Strict):
    """How an LLM agent's prompt is written (rule policies ignore it)."""

    template: str | None = Field(
        None,
        description="decision prompt template id; unset: the scenario's own (chat_v1 for "
        "misinformation with elicitation: probe), else decide_v2",
    )
    persona: Literal["full", "brief"] = Field(
        "full", description="full persona, or one sentence (faster on small models)"
    )

    @field_validator("template")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        from socialsim.llm.prompts import available

        names = available()
        if value is not None and value not in names:
            raise ValueError(f"{shown(value)} is not one of {choices(names, value)}")
        return value


def _prompt_keys_out_of_params(data: Any) -> Any:
    """Older configs kept ``template`` and ``persona`` in ``params``: move them to ``prompt``."""
    if not isinstance(data, dict) or not isinstance(data.get("params"), dict):
        return data
    moved = {k: data["params"][k] for k in PROMPT_KEYS if k in data["params"]}
    if not moved:
        return data
    prompt = data.get("prompt")
    prompt = dict(prompt) if isinstance(prompt, dict) else {}
    return {
        **data,
        "params": {k: v for k, v in data["params"].items() if k not in PROMPT_KEYS},
        "prompt": {**prompt, **moved},
    }


PROMPT_KEYS = ("template", "persona")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"


class MixEntry(_Strict):
    """A share of the population under another policy (mixed populations)."""

    fraction: float = Field(..., gt=0.0, le=1.0)
    policy: str
    params: dict[str, Any] = Field(default_factory=dict)
    llm: LLMConfig | None = None
    prompt: PromptConfig | None = None

    _move_prompt_keys = model_validator(mode="before")(_prompt_keys_out_of_params)


class AgentsConfig(_Strict):
    """How agents decide: a registered policy and its parameters, an optional mix, the LLM
    settings and how prompts are written (``llm`` and ``prompt`` apply to LLM agents only)."""

    policy: str = "llm"
    params: dict[str, Any] = Field(
        default_factory=dict, description="the policy's parameters (its Params model)"
    )
    mix: list[MixEntry] = Field(default_factory=list)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    prompt: PromptConfig = Field(default_factory=PromptConfig)
    activation: Literal["all", "fraction", "rate"] = "all"
    activation_fraction: float = Field(1.0, gt=0.0, le=1.0)
    memory_size: int = Field(50, ge=1, le=100_000, strict=True)
    memory_k: int = Field(
        5, ge=0, le=100, strict=True, description="memories retrieved per observation"
    )
    inbox_limit: int = Field(
        8, ge=1, le=1000, strict=True, description="newest inbox messages shown to an LLM agent"
    )
    self_report: SelfReportConfig = Field(
        default_factory=SelfReportConfig,
        description="{when: none | before | after | both}: ask every agent the Mini-IPIP",
    )

    _move_prompt_keys = model_validator(mode="before")(_prompt_keys_out_of_params)

    @model_validator(mode="after")
    def _mix_fits(self) -> AgentsConfig:
        total = sum(m.fraction for m in self.mix)
        if total > 1.0 + 1e-9:
            raise ValueError(
                f"agents.mix fractions add up to {total:g}; they must sum to at most 1"
            )
        POLICIES.validate(self.policy, self.params, "agents.params")
        for i, entry in enumerate(self.mix):
            if entry.policy not in POLICIES:
                raise ConfigError(
                    POLICIES.unknown(entry.policy).replace(
                        "agents.policy", f"agents.mix[{i}].policy"
                    )
                )
            POLICIES.validate(entry.policy, entry.params, f"agents.mix[{i}].params")
        return self


class ScenarioConfig(_Strict):
    """What happens to the population: a registered scenario and its parameters."""

    kind: str = "none"
    params: dict[str, Any] = Field(default_factory=dict)
    arm: Literal["treatment", "control", "instrument"] = Field(
        "treatment",
        description="control: the scenario's manipulation removed, every draw kept (set by "
        "`control: true`); instrument: a control asking no probe before the final step (set "
        "by `control: instrument`); rarely set by hand",
    )

    @model_validator(mode="after")
    def _registered(self) -> ScenarioConfig:
        SCENARIOS.validate(self.kind, self.params, "scenario.params")
        return self


class AnalysisConfig(_Strict):
    """Parameters of registered measures (every registered measure runs; these tune them)."""

    measures: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="measure name -> its params"
    )

    @model_validator(mode="after")
    def _registered(self) -> AnalysisConfig:
        for name, params in self.measures.items():
            if name not in MEASURES:
                raise ConfigError(
                    MEASURES.unknown(name).replace("analysis.measures", f"analysis.measures.{name}")
                )
            MEASURES.validate(name, params, f"analysis.measures.{name}")
        return self


class OutputConfig(_Strict):
    """Where and in which formats the run directory is written."""

    dir: str = "runs"
    formats: list[Literal["jsonl", "parquet", "csv"]] = Field(
        default_factory=lambda: ["jsonl", "parquet", "csv"]
    )
    report: bool = True
    graphml_max_agents: int = Field(
        200_000,
        ge=0,
        description="write graph.graphml (every node attribute) up to this many agents; "
        "edges.parquet and personas.parquet always hold the network and its attributes",
    )
    durable: bool = Field(
        False,
        description="fsync the event log every step (survives a machine crash; slower on "
        "network disks); a killed process loses no completed step either way",
    )
    checkpoint: bool = Field(
        True,
        description="save the run's state at step boundaries (checkpoint.npz) so that "
        "`socialsim run --resume` continues from the last one; off, a resume replays the run",
    )


class EventConfig(_Strict):
    """Event mode (simpy): message latency and the batching window."""

    latency: float = Field(0.1, ge=0.0, description="message delivery delay (time units)")
    window: float = Field(1.0, gt=0.0, description="wake-ups within one window form one batch")


_EVENT = EventConfig()


class ExperimentConfig(_Strict):
    """A complete experiment: population, network, agents, scenario, output, optional sweep."""

    name: str = Field(
        "experiment",
        pattern=NAME_PATTERN,
        description="names the run directory: letters, digits, '_', '-', '.' (no path)",
    )
    plugins: list[str] = Field(
        default_factory=list,
        description="modules or .py files (relative to the config) that register policies, "
        "networks, scenarios or measures; imported before the rest is checked",
    )
    seed: int = Field(
        0, ge=0, le=MAX_SEED, strict=True, description="seeds every random draw of the run"
    )
    steps: int = Field(10, ge=0, le=1_000_000, strict=True)
    until: float | None = Field(None, gt=0.0, description="event mode: run until this time")
    mode: Literal["step", "event"] = "step"
    population: PopulationConfig = Field(default_factory=PopulationConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    agents: AgentsConfig = Field(default_factory=AgentsConfig)
    claims: list[dict[str, Any]] = Field(
        default_factory=list, description="claims in play (id, text, truth, topic)"
    )
    scenario: ScenarioConfig = Field(default_factory=ScenarioConfig)
    event: EventConfig = Field(default_factory=EventConfig)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    sweep: dict[str, list[Any]] = Field(default_factory=dict)
    replicates: int = Field(
        1, ge=1, le=10_000, strict=True, description="seeds seed, seed+1, ... run as replicates"
    )
    control: bool | Literal["instrument"] = Field(
        False,
        description="also run the matched control arm (manipulation removed) per seed; "
        "instrument: also an instrument arm (a control that asks no probe before the end)",
    )
    _base_dir: Path | None = PrivateAttr(None)

    @field_validator("control", mode="before")
    @classmethod
    def _control_value(cls, value: Any) -> Any:
        if isinstance(value, bool) or value == "instrument":
            return value
        raise ValueError(f"{value!r} must be true, false or instrument")

    @model_validator(mode="before")
    @classmethod
    def _load_plugins(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or not data.get("plugins"):
            return data
        plugins = data["plugins"]
        if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
            raise ConfigError("plugins: expected a list of module names or .py paths")
        context = info.context or {}
        trusted = context.get("plugins", True)
        names = load_plugins(plugins, context.get("base_dir"), trusted, context.get("source", ""))
        return {**data, "plugins": names}

    @model_validator(mode="after")
    def _control_needs_scenario(self) -> ExperimentConfig:
        if self.control and self.scenario.kind == "none":
            raise ConfigError(
                "control: a control arm removes the scenario's manipulation, and this config has "
                "no scenario (scenario.kind: none), so both arms would be the same run; set "
                "scenario.kind or drop control / --control"
            )
        if self.control == "instrument" and not getattr(
            SCENARIOS.get(self.scenario.kind).obj, "has_instrument", False
        ):
            raise ConfigError(
                f"control: instrument: the {self.scenario.kind} scenario asks no probe "
                "questions, so it has no instrument arm; use control: true"
            )
        return self

    @model_validator(mode="after")
    def _settings_of_the_mode(self) -> ExperimentConfig:
        """Refuse a setting the run's mode would ignore without a word."""
        if self.mode == "step":
            if self.until is not None:
                raise ConfigError(
                    f"until: {self.until:g} ends an event-mode run; a step-mode run takes "
                    f"steps ({self.steps}): set mode: event, or remove until"
                )
            changed = [k for k, v in self.event.model_dump().items() if v != getattr(_EVENT, k)]
            if changed:
                raise ConfigError(
                    f"event.{changed[0]}: event settings apply in event mode only; set mode: "
                    "event, or remove the event section"
                )
        elif self.agents.activation == "fraction":
            raise ConfigError(
                "agents.activation: fraction applies in step mode only; in event mode each "
                "agent wakes at its persona's activity_rate: remove agents.activation, or set "
                "mode: step"
            )
        return self

    @field_validator("claims")
    @classmethod
    def _claims_valid(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from socialsim.core.claims import Claim

        first: dict[str, int] = {}
        for i, spec in enumerate(value):
            try:
                claim = Claim.model_validate(spec)
            except ValidationError as exc:
                raise ConfigError(describe_error(exc, f"claims[{i}]", model=Claim)) from None
            if claim.id in first:
                raise ConfigError(
                    f"claims[{i}].id: {claim.id!r} is already the id of claims[{first[claim.id]}]; "
                    "give each claim its own id"
                )
            first[claim.id] = i
        return value

    @field_validator("sweep")
    @classmethod
    def _sweep_lists(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in value.items():
            if not values:
                raise ValueError(f"{key} has no values; give at least one")
        check_grid_size(value)
        return value

    # --- the run's length ----------------------------------------------------------------------
    def horizon(self) -> float:
        """Event mode: the time the run ends, `until` (else `steps` windows)."""
        return self.until if self.until is not None else self.steps * self.event.window

    def step_count(self) -> int:
        """How many steps the run takes: `steps`, or in event mode its windows (the model's
        step limit; the last window may be shorter, ending at the horizon)."""
        if self.mode == "step":
            return self.steps
        return math.ceil(self.horizon() / self.event.window - 1e-9)

    def describe_step_count(self) -> str:
        """The step count and where it comes from, for messages: ``steps (10)`` or
        ``the run's 20 event windows (until 20 / event.window 1)``."""
        if self.mode == "step":
            return f"steps ({self.steps})"
        if self.until is None:
            source = f"steps {self.steps}, no until"
        else:
            source = f"until {self.until:g} / event.window {self.event.window:g}"
        return f"the run's {self.step_count()} event windows ({source})"

    # --- loading -----------------------------------------------------------------------------
    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any],
        source: str = "config",
        base_dir: Path | None = None,
        plugins: bool = True,
    ) -> ExperimentConfig:
        """Validate a dict; ConfigError with one line naming the field and allowed values.

        `plugins` False imports none of its ``plugins:`` (a config naming any is refused with
        :class:`~socialsim.core.registry.PluginsNotTrusted`).
        """
        if not isinstance(data, dict):
            raise ConfigError(
                f"{source}: expected a mapping at the top level, got {type(data).__name__}"
            )
        try:
            context = {"base_dir": base_dir, "plugins": plugins, "source": source}
            return cls.model_validate(plain(data), context=context)
        except PluginsNotTrusted:
            raise
        except ValidationError as exc:
            raise ConfigError(f"{source}: {describe_error(exc, model=cls)}") from None
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def from_yaml(
        cls, path: str | Path, overrides: list[str] | None = None, plugins: bool = True
    ) -> ExperimentConfig:
        """Load a YAML file, apply `key=value` overrides, validate (`plugins` False: import
        none of its ``plugins:``, and refuse it if it names any)."""
        path = Path(path)
        data = load_yaml_file(path, "config file")
        if data is None:
            raise ConfigError(
                f"{path}: the config is empty; give at least `name:` and the sections you "
                "change (see examples/quickstart.yaml)"
            )
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level")
        data = apply_overrides(data, overrides or [])
        cfg = cls.from_dict(data, source=str(path), base_dir=path.parent, plugins=plugins)
        cfg._base_dir = path.parent
        return cfg

    def with_overrides(self, overrides: list[str] | dict[str, Any]) -> ExperimentConfig:
        """A copy with dotted-key overrides applied (`["steps=20"]` or `{"steps": 20}`)."""
        data = apply_overrides(self.model_dump(mode="json"), overrides)
        cfg = type(self).from_dict(data, base_dir=getattr(self, "_base_dir", None))
        cfg._base_dir = getattr(self, "_base_dir", None)
        return cfg

    def resolve_path(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder when not absolute."""
        p = Path(value)
        base = getattr(self, "_base_dir", None)
        if not p.is_absolute() and not p.exists() and base is not None and (base / p).exists():
            return base / p
        return p

    def to_yaml(self) -> str:
        """The resolved config with every default filled in, as written to a run directory:
        anything shaped like a key (in an ``api_base`` URL, say) redacted."""
        return redact(yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False))


def apply_overrides(data: dict[str, Any], overrides: list[str] | dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys in a nested dict; string values are parsed as YAML scalars."""
    data = copy.deepcopy(data)
    if isinstance(overrides, str):  # one override, not its characters
        overrides = [overrides]
    items = overrides.items() if isinstance(overrides, dict) else [_split(o) for o in overrides]
    for key, value in items:
        value = plain(value)
        parts = key.split(".")
        if parts[0] == "sweep" and len(parts) > 2:  # sweep's keys are dotted config keys
            parts = ["sweep", ".".join(parts[1:])]
        node = data
        for part in parts[:-1]:
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            if not isinstance(nxt, dict):
                raise ConfigError(f"--set {key}: {part!r} is not a section; check the key")
            node = nxt
        node[parts[-1]] = value
    return data


def _split(override: str) -> tuple[str, Any]:
    if "=" not in override:
        raise ConfigError(f"--set {override!r}: expected key=value, e.g. --set network.kind=ring")
    key, raw = override.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"--set {override!r}: the key is empty")
    try:
        value = load_yaml_text(raw, f"--set {key}") if raw.strip() else ""
    except YAMLSyntaxError:
        value = raw
    return key, value


def describe_validation_error(exc: ValidationError) -> str:
    """One line for the first validation error of a config (see :mod:`socialsim.core.validation`)."""
    return describe_error(exc, model=ExperimentConfig)
