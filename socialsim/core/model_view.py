"""What the parts of a step see of the model: the members of ``SocialModel`` they use.

The agents, the scenario hooks and the step's parts (the LLM batch, the rule driver, the
recorder, the clock) are handed the model; they are typed against this protocol instead of
importing ``socialsim.simulation.model``, so that nothing below the model imports it back.
``SocialModel`` satisfies it; a test double only needs the members its code path touches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class ModelView(Protocol):
    """The members of a running ``SocialModel`` that agents, scenarios and step parts use."""

    # the run
    cfg: Any  # the ExperimentConfig
    rng: Any  # numpy Generator, seeded from the config's seed
    steps: int
    step_index: int
    time: float
    run_dir: Any
    scenario: Any
    log: Any  # the InteractionLog
    datacollector: Any
    recorder: Any
    llm_totals: Any
    question_seed: Any
    # the population and its network
    n_agents: int
    names: Any
    personas: Any
    roles: Any
    present: Any
    beliefs: Any
    stubbornness: Any
    groups: Any
    activity_rates: Any
    agents_table: Any
    credence_source: Any
    created_ids: Any
    network: Any  # the Network (socialsim.core.network)
    node_labels: Any  # a given graph's node labels, in agent order (None: 0..n-1)
    indptr: Any
    indices: Any
    mail: Any
    # what the parts call
    agent: Callable[..., Any]
    ask: Callable[..., Any]
    emit: Callable[..., Any]
    is_llm: Callable[..., Any]
    persona_of: Callable[..., Any]
    policy_of: Callable[..., Any]
    present_neighbours: Callable[..., Any]
    record: Callable[..., Any]
    run_batch: Callable[..., Any]
    run_model: Callable[..., Any]
    send: Callable[..., Any]
    set_credence: Callable[..., Any]
    forget_credence: Callable[..., Any]
    step: Callable[..., Any]
    _subseed: Callable[..., Any]
