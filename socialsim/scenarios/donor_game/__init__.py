"""The donor game: cooperation across generations.

Importing this package registers its scenario(s), measures and report part."""

from socialsim.scenarios.donor_game import measures, scenario  # noqa: F401 - imported to register
