"""Feed: many claims in framings flow through a ranked feed; acceptance per exposure.

Importing this package registers its scenario, its ranking policies, its measure and its
report part. ``register_ranking`` adds a ranking policy of your own.
"""

from socialsim.scenarios.feed import report, scenario  # noqa: F401 - imported to register
from socialsim.scenarios.feed.rankings import RANKINGS, FeedView, register_ranking

__all__ = ["RANKINGS", "FeedView", "register_ranking"]
