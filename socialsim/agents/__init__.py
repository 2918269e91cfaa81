"""socialsim.agents."""
