"""How the command line reports a failure: one line on stderr, an exit code, a kept traceback.

Bad input (a :class:`~socialsim.core.errors.SocialsimError`) exits 2 with the one line that
names it; any other failure exits 1 with a line and the traceback written to a file.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from pathlib import Path

import typer

from socialsim.cli_output import err_console
from socialsim.core.errors import SocialsimError


def warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr (no file name or source line)."""
    _line(f"warning: {message}")


def _line(text: str) -> None:
    """Print one line on stderr, with any key or password in it (a URL's) redacted."""
    from socialsim.llm.redact import redact

    err_console.print(redact(text), highlight=False, markup=False, soft_wrap=True)


def is_click_error(exc: Exception) -> bool:
    """A command-line parsing error or an abort (click's own, or typer's copy of click)."""
    return "click" in type(exc).__module__ or isinstance(exc, typer.Abort)


def report_usage_error(exc: Exception) -> int:
    """One line for a bad option or argument (the help for a bare group); its exit code."""
    name = type(exc).__name__
    if name == "NoArgsIsHelpError":  # `socialsim llm`: the help (typer's click prints it first)
        if type(exc).__module__ == "click.exceptions":
            exc.show()  # type: ignore[attr-defined]
        return int(getattr(exc, "exit_code", 2))
    if name == "Abort" or not hasattr(exc, "format_message"):
        err_console.print("aborted", markup=False)
        return 1
    context = getattr(exc, "ctx", None)
    hint = f" (see {context.command_path} --help)" if context is not None else ""
    message = " ".join(exc.format_message().split())
    _line(f"error: {message}{hint}")
    return int(getattr(exc, "exit_code", 2))


def command_name(args: list[str]) -> str:
    """`socialsim run` or `socialsim llm check`: the command the arguments name."""
    words = [a for a in args if not a.startswith("-")][:2]
    if words and words[0] == "llm":
        return "socialsim " + " ".join(words)
    return "socialsim " + (words[0] if words else "")


_LONG_QUOTED = re.compile(r"""(?<!\w)(['"])([^'"]{80,})\1(?!\w)""")


def _quoted_values_clipped(message: str) -> str:
    """A message whose quoted values (a name, an id, a path echoed back) are cut at 80
    characters: a 20 MB value given by mistake is never printed back whole."""
    from socialsim.core.validation import clip

    return _LONG_QUOTED.sub(lambda m: m.group(1) + clip(m.group(2), 78) + m.group(1), message)


def report_failure(exc: Exception, command: str, removed: list[Path]) -> int:
    """Print the one line for a failed command; its exit code (2: bad input, 1: a fault)."""
    from pydantic import ValidationError
    from yaml import YAMLError

    from socialsim.core.validation import clip

    cleaned = f" (removed the half-made {', '.join(map(str, removed))})" if removed else ""
    if isinstance(exc, SocialsimError):
        message = clip(_quoted_values_clipped(" ".join(str(exc).split())), 1000)
        _line(f"error: {message}{cleaned}")
        return 2
    log = _write_traceback(exc, command)
    where = f"the traceback is in {log}" if log else "the traceback could not be written"
    said = _environment(exc) or _damaged(exc)
    if said:  # the machine or a damaged file, not socialsim: exit 2, as bad input
        _line(f"error: {said} ({command}; {where}){cleaned}")
        return 2
    if isinstance(exc, ValidationError | YAMLError):  # bad input that escaped its own check
        from socialsim.core.validation import describe_error

        said = describe_error(exc) if isinstance(exc, ValidationError) else str(exc)
        _line(f"error: {clip(' '.join(said.split()), 300)} ({command}; {where}){cleaned}")
        return 2
    message = clip(" ".join(str(exc).split()), 300)
    _line(
        f"error: {command} failed: {type(exc).__name__}: {message} (a fault in socialsim, not in "
        f"the input; {where}; --debug shows it){cleaned}"
    )
    return 1


#: what the file system says when a place cannot be written (or read) as asked
_ENVIRONMENT = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


def _environment(exc: BaseException) -> str:
    """One line for a file the machine refused (no permission, a read-only or full disk)."""
    if not isinstance(exc, OSError) or exc.errno not in _ENVIRONMENT:
        return ""
    fix = (
        "free space on that disk"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT)
        else "check its permissions, or write elsewhere (--out)"
    )
    if exc.filename is None:  # pyarrow's and others' own wording, which names the file
        return f"{' '.join(str(exc).split())}; {fix}"
    return f"cannot use {str(exc.filename)!r}: {exc.strerror}; {fix}"


def _damaged(exc: BaseException) -> str:
    """One line for a run's file that cannot be read as socialsim wrote it (cut, edited,
    not text): its parser's error, named, with what to do."""
    import json

    sorts = [UnicodeDecodeError, json.JSONDecodeError]
    try:
        import pandas as pd
        import pyarrow as pa

        sorts += [pd.errors.ParserError, pd.errors.EmptyDataError, pa.ArrowInvalid]
    except ImportError:  # pragma: no cover - both come with socialsim
        pass
    if not isinstance(exc, tuple(sorts)):
        return ""
    from socialsim.core.validation import clip

    detail = clip(" ".join(str(exc).split()), 200)
    return (
        f"a file of the directory cannot be read ({type(exc).__name__}: {detail}); it was cut "
        "or changed after socialsim wrote it: restore it, or run the experiment again"
    )


def _write_traceback(exc: Exception, command: str) -> Path | None:
    """The traceback of `exc` in a new file under the temp folder's socialsim-logs; its path."""
    import tempfile
    import time
    import traceback

    folder = Path(tempfile.gettempdir()) / "socialsim-logs"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = command.removeprefix("socialsim ").replace(" ", "-") or "socialsim"
    path = folder / f"{name}-{stamp}-{os.getpid()}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        from socialsim.llm.redact import redact

        text = "".join(traceback.format_exception(exc))
        path.write_text(redact(f"{command} {' '.join(sys.argv[1:])}\n{text}"), encoding="utf-8")
    except OSError:
        return None
    return path


__all__ = ["command_name", "is_click_error", "report_failure", "report_usage_error", "warning_line"]
