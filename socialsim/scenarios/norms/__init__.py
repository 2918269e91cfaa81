"""Social norms: behaviours in situational frames, adherence under pressure.

Importing this package registers its scenario(s), measures and report part."""

from socialsim.scenarios.norms import report, scenario  # noqa: F401 - imported to register
