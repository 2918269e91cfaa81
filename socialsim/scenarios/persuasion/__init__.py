"""Persuasion: campaigns on the network, 2x2 debates, authority pressure, accumulating context.

Importing this package registers its scenario(s), measures and report part."""

from socialsim.scenarios.persuasion import (  # noqa: F401 - imported to register
    accumulation,
    authority,
    campaign,
    debate,
    report,
)
