"""socialsim.analysis."""
