"""Run `socialsim ...` through `socialsim.cli.main` in this process: exit code, stdout, stderr."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock


@dataclass
class CliResult:
    """What one command line gave: its exit code and what it printed."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        """The non-empty lines printed on stderr."""
        return [line for line in self.err.splitlines() if line.strip()]


def run_cli(*args: str, cwd: Path | None = None) -> CliResult:
    """`socialsim *args` as the installed command runs it, without a new process."""
    from socialsim.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = Path.cwd()
    code: int | str | None = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        with (
            mock.patch.object(sys, "argv", ["socialsim", *args]),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                main()
            except SystemExit as exc:
                code = exc.code
    finally:
        os.chdir(here)
    return CliResult(
        code if isinstance(code, int) else (0 if code is None else 1),
        out.getvalue(),
        err.getvalue(),
    )
