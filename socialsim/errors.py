"""User-facing errors: each carries one line that names the problem and how to fix it.

The CLI prints the message of a :class:`SocialsimError` on one line and exits with code 2,
without a traceback. Library code raises these for bad input; anything else is a bug.
"""

from __future__ import annotations


class SocialsimError(Exception):
    """Bad input from the user: the message names what is wrong and how to fix it."""


class ConfigError(SocialsimError):
    """An experiment config (or an override) that does not validate."""


class LLMSetupError(SocialsimError):
    """A model string, endpoint, key or GGUF file that cannot work as given."""


class DataFileError(SocialsimError):
    """A user data file (personas, claims, norms, graph) that is missing or malformed."""


class EndpointDown(LLMSetupError):
    """A model endpoint failed so many requests in a row that the run stops."""
