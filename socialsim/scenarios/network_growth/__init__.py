"""Network growth: agents join over time and choose whom to follow.

Importing this package registers its scenario(s), measures and report part."""

from socialsim.scenarios.network_growth import measures, scenario  # noqa: F401 - imported to register
