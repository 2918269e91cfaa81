"""Network growth: agents join over time and choose whom to follow.

Importing this package registers its scenario(s), measures and report parts."""

from socialsim.scenarios.network_growth import (  # noqa: F401 - imported to register
    measures,
    report,
    scenario,
)
