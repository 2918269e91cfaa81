"""socialsim.agents.policies."""
