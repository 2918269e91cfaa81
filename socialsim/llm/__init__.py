"""socialsim.llm."""
