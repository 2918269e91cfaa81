"""User-facing errors: each carries one line that names the problem and how to fix it.

The CLI prints the message of a :class:`SocialsimError` on one line and exits with code 2,
without a traceback. Library code raises these for bad input; anything else is a bug.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class SocialsimError(Exception):
    """Bad input from the user: the message names what is wrong and how to fix it."""


class ConfigError(SocialsimError):
    """An experiment config (or an override) that does not validate."""


class PolicyError(SocialsimError):
    """A policy's update (a user's rule, say) that cannot be applied as returned."""


class LLMSetupError(SocialsimError):
    """A model string, endpoint, key or GGUF file that cannot work as given."""


class DataFileError(SocialsimError):
    """A user data file (personas, claims, norms, graph) that is missing or malformed."""


class EndpointDown(LLMSetupError):
    """A model endpoint failed so many requests in a row that the run stops."""


class Notice(RuntimeWarning):
    """Something the user must hear while the command goes on (checkpoints off, a checkpoint
    refused and the run replayed, plugins not imported): a warning that ``socialsim``'s
    command line shows as one line whatever the warning filters (``-W ignore``,
    ``PYTHONWARNINGS``) say."""


def require_file(
    path: str | os.PathLike, what: str, error: type = DataFileError, given: str | None = None
) -> Path:
    """`path` when it is a regular file; `error` saying what it is instead (absent, a folder...).

    The message reads ``{what} {given!r} does not exist``; `given` defaults to the path.
    """
    path = Path(path)
    named = f"{what} {(str(path) if given is None else given)[:200]!r}"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(f"{named} does not exist; check the path") from None
    except OSError as exc:
        raise error(f"{named} cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise error(f"{named} is a directory; give the path of a file in it")
    if not stat.S_ISREG(mode):
        raise error(f"{named} is not a regular file (a device, pipe or socket); give a file path")
    return path
