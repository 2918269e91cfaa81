"""Progress of a run on stderr: a rich bar on a terminal, plain lines elsewhere.

On a terminal the bar shows step, agents, LLM calls, tokens and cache hits. When stderr is
not a terminal (a log file, a CI job, ``nohup``), a bar would print nothing until the run
ends, so a plain line is printed after a step when ``every`` seconds have passed since the
last line, and by a timer while a long step is still running: a watcher sees a line at least
every ``every`` seconds (30 by default).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

PLAIN_EVERY_S = 30.0


class RunProgress:
    """Context manager whose `update(model)` is called after each step of the runs of `name`,
    `total` steps in all (None: not known ahead)."""

    def __init__(
        self,
        name: str,
        total: int | None,
        console: Console,
        enabled: bool = True,
        every: float = PLAIN_EVERY_S,
    ) -> None:
        self.enabled = enabled
        self.total = total
        self.plain = enabled and not console.is_terminal
        self.every = every
        self._console = console
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled or self.plain,
            transient=False,
        )
        self._task = None
        self.name = name
        self._model: Any = None
        self._base = 0
        self._completed = 0
        self._info = "starting"
        self._start = time.monotonic()
        self._last_line = self._start
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None

    def __enter__(self) -> RunProgress:
        self._progress.__enter__()
        self._task = self._progress.add_task(self.name, total=self.total, info="")
        self._start = self._last_line = time.monotonic()
        if self.plain:  # no line before there is something to say: a set-up error stays alone
            self._timer = threading.Thread(
                target=self._beat, name="socialsim-progress", daemon=True
            )
            self._timer.start()
        return self

    def update(self, model: Any) -> None:
        """Show the state after a step."""
        t = model.llm_totals
        tokens = t["prompt_tokens"] + t["completion_tokens"]
        info = (
            f"agents {int(model.present.sum())} | LLM calls {t['calls']} | tokens {tokens} | "
            f"cache hits {t['cached']} | errors {t['errors']}"
        )
        if model is not self._model:  # the next run of several (replicates, arms)
            self._model, self._base = model, self._completed
        self._completed = self._base + model.step_index
        self._progress.update(self._task, completed=self._completed, info=info)
        with self._lock:
            self._info = info
            due = time.monotonic() - self._last_line >= self.every
        if self.plain and due:
            self._line(info)

    def _beat(self) -> None:
        """While the run goes on: a line whenever `every` seconds pass without one."""
        while not self._stop.wait(min(1.0, self.every)):
            with self._lock:
                due = time.monotonic() - self._last_line >= self.every
                info = self._info
            if due:
                self._line(f"{info} | step running")

    def _line(self, info: str) -> None:
        with self._lock:
            self._last_line = now = time.monotonic()
        total = "?" if self.total is None else str(self.total)
        elapsed = int(now - self._start)
        self._console.print(
            f"{self.name}: step {self._completed}/{total} | {info} | "
            f"{elapsed // 60}:{elapsed % 60:02d} elapsed",
            markup=False,
            highlight=False,
        )

    def __exit__(self, *exc: Any) -> None:
        if self._timer is not None:
            self._stop.set()
            self._timer.join(timeout=2)
            if exc[0] is None:
                self._line(self._info + " | done")
        self._progress.__exit__(*exc)
