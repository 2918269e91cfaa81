"""socialsim.scenarios."""
