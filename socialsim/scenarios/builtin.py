"""The built-in scenarios: importing this module registers them all."""

from socialsim.scenarios import (  # noqa: F401 - imported to register
    accumulation,
    authority,
    collaboration,
    debate,
    misinformation,
    norms,
    persuasion,
)
