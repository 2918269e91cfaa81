"""The built-in scenarios: importing this module registers them all."""

from socialsim.scenarios import (  # noqa: F401 - imported to register
    collaboration,
    donor_game,
    feed,
    manipulation,
    misinformation,
    negotiation,
    network_growth,
    norms,
    persuasion,
)
