"""The collaboration gap: mazes solved alone and in pairs with split information.

Importing this package registers its scenario(s), measures and report part."""

from socialsim.scenarios.collaboration import report, scenario  # noqa: F401 - imported to register
