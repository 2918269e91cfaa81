"""Prices of model calls: per-token prices from litellm's cost map, looked up once per model.

The embedded model is free. The direct HTTP route reads the cost map file that litellm ships
without importing litellm; every other route asks litellm.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from socialsim.llm import litellm_route
from socialsim.llm.http import strip_provider

_UNKNOWN = object()
_COST_FILE = "model_prices_and_context_window_backup.json"


class Costs:
    """Per-token prices from litellm's cost map, looked up once per model string."""

    def __init__(self) -> None:
        self._prices: dict[str, Any] = {}

    def __call__(
        self, model: str, route: str, prompt_tokens: int, completion_tokens: int
    ) -> float | None:
        """The cost of a call in dollars; None when the model has no known price."""
        if route == "local":
            return 0.0
        prices = self._prices.get(model, _UNKNOWN)
        if prices is _UNKNOWN:
            lookup = self._lookup_file if route == "http" else self._lookup
            prices = self._prices[model] = lookup(model)
        if prices is None:
            return None
        return prompt_tokens * prices[0] + completion_tokens * prices[1]

    @staticmethod
    def _lookup(model: str) -> tuple[float, float] | None:
        lt = litellm_route.get_litellm()
        try:
            prompt, completion = lt.cost_per_token(
                model=model, prompt_tokens=1, completion_tokens=1
            )
        except Exception:
            return None
        return float(prompt), float(completion)

    @staticmethod
    def _lookup_file(model: str) -> tuple[float, float] | None:
        """Prices from the cost map file litellm ships, read without importing litellm.

        The direct HTTP path stays free of litellm's import (seconds, and some 300,000
        objects that every full garbage collection would then walk).
        """
        spec = importlib.util.find_spec("litellm")
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / _COST_FILE
        try:
            table = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        for name in (model, strip_provider(model)):
            entry = table.get(name)
            if isinstance(entry, dict) and "input_cost_per_token" in entry:
                return (
                    float(entry["input_cost_per_token"]),
                    float(entry.get("output_cost_per_token", 0.0)),
                )
        return None
