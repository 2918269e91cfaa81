"""socialsim.simulation."""
