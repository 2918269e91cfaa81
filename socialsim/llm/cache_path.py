"""Whether a path can hold the response cache: checked when a config is loaded and when the cache opens."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def cache_path_problem(path: str | Path) -> str | None:
    """What keeps `path` from being a cache file (a directory, a device, a read-only place), or None."""
    path = Path(path)
    shown = repr(str(path)[:80])
    fix = "give a file path such as .socialsim_cache/responses.sqlite (or set cache: false)"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        return f"{shown} cannot be used ({exc.strerror or exc}); {fix}"
    if mode is not None and stat.S_ISDIR(mode):
        return f"{shown} is a directory; give a file path in it, e.g. {str(path)[:60]}/responses.sqlite"
    if mode is not None and not stat.S_ISREG(mode):
        return f"{shown} is not a regular file (a device, pipe or socket); {fix}"
    if mode is not None and not os.access(path, os.R_OK | os.W_OK):
        return f"{shown} cannot be read and written by this user; {fix}"
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"{shown}: {str(folder)[:80]!r} is a file, not a directory; {fix}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{shown}: the directory {str(folder)[:80]!r} is not writable; {fix}"
    return None
