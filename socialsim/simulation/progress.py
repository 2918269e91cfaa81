"""A rich progress bar for runs: step, agents, LLM calls, tokens, cache hits."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class RunProgress:
    """Context manager whose `update(model)` is called after each step."""

    def __init__(self, cfg: Any, total: int | None, console: Console, enabled: bool = True) -> None:
        self.enabled = enabled
        self.total = total
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self._task = None
        self.name = cfg.name
        self._model: Any = None
        self._base = 0
        self._completed = 0

    def __enter__(self) -> RunProgress:
        self._progress.__enter__()
        self._task = self._progress.add_task(self.name, total=self.total, info="")
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

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)
