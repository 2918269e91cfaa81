"""Manipulated knowledge: a few attackers spread a false claim; probes measure belief.

Importing this package registers its scenario."""

from socialsim.scenarios.misinformation import scenario  # noqa: F401 - imported to register
