"""Covert manipulation: advisors steer targets' decisions.

Importing this package registers its scenario(s), measures and report part."""

from socialsim.scenarios.manipulation import measures, scenario  # noqa: F401 - imported to register
