"""Where the modules and classes of earlier versions live now (old name -> new).

Read when old data names a module: a checkpoint's classes (``module:qualname``). Nothing here
imports the modules it names.
"""

MOVED_MODULES: dict[str, str] = {
    "socialsim.analysis.collaboration": "socialsim.scenarios.collaboration.measures",
    "socialsim.analysis.donor_game": "socialsim.scenarios.donor_game.measures",
    "socialsim.analysis.graph_arrays": "socialsim.core.network",
    "socialsim.analysis.io": "socialsim.core.rundata",
    "socialsim.analysis.manipulation": "socialsim.scenarios.manipulation.measures",
    "socialsim.analysis.message_quality": "socialsim.scenarios.message_quality",
    "socialsim.analysis.negotiation": "socialsim.scenarios.negotiation.measures",
    "socialsim.analysis.negotiation_plots": "socialsim.scenarios.negotiation.plots",
    "socialsim.analysis.network_growth": "socialsim.scenarios.network_growth.measures",
    "socialsim.analysis.network_growth_plots": "socialsim.scenarios.network_growth.plots",
    "socialsim.analysis.norms": "socialsim.scenarios.norms.measures",
    "socialsim.analysis.persuasion": "socialsim.scenarios.persuasion.measures",
    "socialsim.core.graph_arrays": "socialsim.core.network",
    "socialsim.csv_safe": "socialsim.core.csv_safe",
    "socialsim.errors": "socialsim.core.errors",
    "socialsim.registry": "socialsim.core.registry",
    "socialsim.scenarios.accumulation": "socialsim.scenarios.persuasion.accumulation",
    "socialsim.scenarios.authority": "socialsim.scenarios.persuasion.authority",
    "socialsim.scenarios.base": "socialsim.simulation.world",
    "socialsim.scenarios.claims_library": "socialsim.core.claims",
    "socialsim.scenarios.collaboration": "socialsim.scenarios.collaboration.scenario",
    "socialsim.scenarios.debate": "socialsim.scenarios.persuasion.debate",
    "socialsim.scenarios.donor_game": "socialsim.scenarios.donor_game.scenario",
    "socialsim.scenarios.donor_game_ledger": "socialsim.scenarios.donor_game.ledger",
    "socialsim.scenarios.donor_game_prompts": "socialsim.scenarios.donor_game.prompts",
    "socialsim.scenarios.donor_game_rules": "socialsim.scenarios.donor_game.rules",
    "socialsim.scenarios.inventory": "socialsim.simulation.self_report",
    "socialsim.scenarios.manipulation": "socialsim.scenarios.manipulation.scenario",
    "socialsim.scenarios.manipulation_params": "socialsim.scenarios.manipulation.params",
    "socialsim.scenarios.manipulation_talk": "socialsim.scenarios.manipulation.talk",
    "socialsim.scenarios.manipulation_tasks": "socialsim.scenarios.manipulation.tasks",
    "socialsim.scenarios.maze": "socialsim.scenarios.collaboration.maze",
    "socialsim.scenarios.misinformation": "socialsim.scenarios.misinformation.scenario",
    "socialsim.scenarios.misinformation_params": "socialsim.scenarios.misinformation.params",
    "socialsim.scenarios.misinformation_probes": "socialsim.scenarios.misinformation.probes",
    "socialsim.scenarios.negotiation": "socialsim.scenarios.negotiation.scenario",
    "socialsim.scenarios.negotiation_params": "socialsim.scenarios.negotiation.params",
    "socialsim.scenarios.negotiation_prompts": "socialsim.scenarios.negotiation.prompts",
    "socialsim.scenarios.negotiation_rules": "socialsim.scenarios.negotiation.rules",
    "socialsim.scenarios.network_growth": "socialsim.scenarios.network_growth.scenario",
    "socialsim.scenarios.network_growth_graph": "socialsim.scenarios.network_growth.graph",
    "socialsim.scenarios.network_growth_questions": "socialsim.scenarios.network_growth.questions",
    "socialsim.scenarios.normdata": "socialsim.scenarios.norms.library",
    "socialsim.scenarios.normdata.frames": "socialsim.scenarios.norms.frames",
    "socialsim.scenarios.normdata.questions": "socialsim.scenarios.norms.questions",
    "socialsim.scenarios.normdata.tables": "socialsim.scenarios.norms.tables",
    "socialsim.scenarios.norms": "socialsim.scenarios.norms.scenario",
    "socialsim.scenarios.persuasion": "socialsim.scenarios.persuasion.campaign",
    "socialsim.simulation.arms": "socialsim.experiments.arms",
    "socialsim.simulation.checkpoint": "socialsim.experiments.checkpoint",
    "socialsim.simulation.experiment": "socialsim.experiments.sweep",
    "socialsim.simulation.export": "socialsim.experiments.export",
    "socialsim.simulation.half_made": "socialsim.experiments.half_made",
    "socialsim.simulation.messages": "socialsim.core.messages",
    "socialsim.simulation.progress": "socialsim.experiments.progress",
    "socialsim.simulation.resume": "socialsim.experiments.resume",
    "socialsim.simulation.runner": "socialsim.experiments.runner",
    "socialsim.simulation.state_codec": "socialsim.experiments.state_codec",
    "socialsim.simulation.sweep_grid": "socialsim.core.sweep_grid",
    "socialsim.simulation.sweep_ray": "socialsim.experiments.sweep_ray",
    "socialsim.simulation.sweep_workers": "socialsim.experiments.sweep_workers",
    "socialsim.validation": "socialsim.core.validation",
    "socialsim.yaml_safe": "socialsim.core.yaml_safe",
}

#: classes that left a module that still exists ("module:qualname" -> "module:qualname")
MOVED_CLASSES: dict[str, str] = {
    "socialsim.agents.beliefs:Claim": "socialsim.core.claims:Claim",
    "socialsim.agents.persona:BigFive": "socialsim.core.persona:BigFive",
    "socialsim.agents.persona:Persona": "socialsim.core.persona:Persona",
    "socialsim.agents.policies.base:Decision": "socialsim.core.decisions:Decision",
    "socialsim.agents.policies.base:Observation": "socialsim.core.decisions:Observation",
}


def current_module(name: str) -> str:
    """The module `name` (a dotted path) is called now; `name` itself when it did not move."""
    return MOVED_MODULES.get(name, name)


def current_class(name: str) -> str:
    """The ``module:qualname`` of the class named `name` now, its module or itself moved."""
    module, _, qualname = name.partition(":")
    name = f"{current_module(module)}:{qualname}"
    return MOVED_CLASSES.get(name, name)
