"""The main knobs of a config that the dashboard offers as controls: seed, population size,
network kind and its main parameter, rule policy, steps; and how they change the config."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from socialsim.core.registry import NETWORKS, POLICIES
from socialsim.simulation.config import ExperimentConfig

# network kind -> (main parameter, default, min, max, step); kinds missing here have none
NETWORK_PARAM: dict[str, tuple[str, float | int, float | int, float | int, float | int]] = {
    "erdos_renyi": ("mean_degree", 4.0, 0.5, 20.0, 0.5),
    "barabasi_albert": ("m", 2, 1, 10, 1),
    "watts_strogatz": ("k", 4, 2, 20, 2),
    "stochastic_block": ("blocks", 2, 1, 10, 1),
    "powerlaw_cluster": ("m", 2, 1, 10, 1),
}
MAX_SIZE = 5000
MAX_STEPS = 500


@dataclass(frozen=True)
class Knobs:
    """Values of the dashboard's controls (``network_param`` None: the kind has none)."""

    seed: int
    size: int
    network: str
    network_param: float | int | None
    policy: str
    steps: int


def knobs_of(cfg: ExperimentConfig) -> Knobs:
    """The knobs as the config sets them."""
    kind = cfg.network.kind
    return Knobs(
        seed=cfg.seed,
        size=cfg.population.size,
        network=kind,
        network_param=network_param_of(cfg, kind),
        policy=cfg.agents.policy,
        steps=cfg.steps,
    )


def network_param_of(cfg: ExperimentConfig, kind: str) -> float | int | None:
    """The main parameter's value for `kind`: the config's when it is that kind, else default."""
    if kind not in NETWORK_PARAM:
        return None
    name, default = NETWORK_PARAM[kind][:2]
    if kind != cfg.network.kind:
        return default
    params = cfg.network.params
    section = params.get(kind) if isinstance(params.get(kind), dict) else {}
    value = section.get(name, params.get(name))
    if kind == "erdos_renyi" and value is None and section.get("p", params.get("p")) is not None:
        value = float(section.get("p", params.get("p"))) * max(cfg.population.size - 1, 1)
    return type(default)(value) if value is not None else default


def apply_knobs(cfg: ExperimentConfig, knobs: Knobs) -> ExperimentConfig:
    """The config with the knobs' values (a one-line ConfigError when they do not fit)."""
    changes: dict[str, Any] = {
        "seed": int(knobs.seed),
        "population.size": int(knobs.size),
        "network.kind": knobs.network,
        "network.params": _network_params(cfg, knobs),
        "agents.policy": knobs.policy,
        "steps": int(knobs.steps),
        "replicates": 1,
        "control": False,
    }
    if knobs.policy != cfg.agents.policy:
        changes["agents.params"] = {}
    return cfg.with_overrides(changes)


def _network_params(cfg: ExperimentConfig, knobs: Knobs) -> dict[str, Any]:
    kind = knobs.network
    params = dict(cfg.network.params) if kind == cfg.network.kind else {}
    if kind not in NETWORK_PARAM or knobs.network_param is None:
        return params
    name = NETWORK_PARAM[kind][0]
    params.pop(kind, None)
    params[name] = knobs.network_param
    if kind == "erdos_renyi":
        params["p"] = None  # the mean degree decides
    return params


def with_knob(cfg: ExperimentConfig, knobs: Knobs, name: str, value: Any) -> Knobs:
    """The knobs with `name` set to `value`; a new network kind starts from its own default
    main parameter (the config's, for the config's kind)."""
    if name == "network":
        return replace(knobs, network=value, network_param=network_param_of(cfg, value))
    return replace(knobs, **{name: value})


def control_specs(knobs: Knobs, cfg: ExperimentConfig) -> dict[str, Any]:
    """Mesa ``model_params`` specs of the controls for `knobs` (each with its value now)."""
    specs: dict[str, Any] = {
        "seed": _slider("seed", 0, max(999, cfg.seed)),
        "size": _slider("population size", 2, max(MAX_SIZE, cfg.population.size)),
        "network": {"type": "Select", "label": "network", "values": network_kinds(cfg)},
        "policy": {"type": "Select", "label": "policy", "values": policies_for(cfg)},
        "steps": _slider("steps", 1, max(MAX_STEPS, cfg.steps)),
    }
    if knobs.network in NETWORK_PARAM and knobs.network_param is not None:
        name, default, low, high, step = NETWORK_PARAM[knobs.network]
        specs["network_param"] = _slider(f"network {name}", low, high, step)
        if isinstance(default, float):
            specs["network_param"]["type"] = "SliderFloat"
    values = asdict(knobs)
    return {name: {**specs[name], "value": values[name]} for name in values if name in specs}


def _slider(label: str, low: float, high: float, step: float = 1) -> dict[str, Any]:
    return {"type": "SliderInt", "label": label, "min": low, "max": high, "step": step}


def network_kinds(cfg: ExperimentConfig) -> list[str]:
    """Network kinds offered: every generator (a file network only when the config has one)."""
    return [k for k in NETWORKS.names() if k != "file" or cfg.network.kind == "file"]


def rule_policies() -> list[str]:
    """Every registered rule policy."""
    return [entry.name for entry in POLICIES.entries() if entry.sort == "rule"]


def policies_for(cfg: ExperimentConfig) -> list[str]:
    """Policies offered: the rule policies, and the config's own when it is another sort."""
    rules = rule_policies()
    own = [cfg.agents.policy] if cfg.agents.policy not in rules else []
    return [*own, *rules]
