"""Negotiation: pairs bargain in alternating offers.

Importing this package registers its scenario(s), measures and report part."""

from socialsim.scenarios.negotiation import measures, scenario  # noqa: F401 - imported to register
