"""The page's controls with their values in view, and the components' grid without tabs.

Mesa's ``UserInputs`` draws a slider without its value and ``ComponentsView`` puts the
components under a tab labelled ``Page 0``; these draw the same controls with each value
written beside the slider, and the components in one grid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import solara

SLIDERS = {"SliderInt": solara.SliderInt, "SliderFloat": solara.SliderFloat}


def shown_value(spec: dict[str, Any]) -> str:
    """The value a control shows beside it: ``7``, ``0.25``, a kind's name."""
    value = spec.get("value")
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    if isinstance(value, float):
        return str(int(value)) if spec.get("type") == "SliderInt" else f"{value:.1f}"
    return "" if value is None else str(value)


@solara.component
def Slider(label: str, spec: dict[str, Any], on_value: Callable[[Any], None]) -> None:
    """A slider with its value written beside it (and on its thumb)."""
    slider = SLIDERS[spec.get("type", "SliderInt")]
    with solara.Row(style={"align-items": "center"}):
        slider(
            label,
            value=spec.get("value"),
            on_value=on_value,
            min=spec.get("min"),
            max=spec.get("max"),
            step=spec.get("step"),
            thumb_label="always",
        )
        solara.Text(shown_value(spec), classes=["control-value"])


@solara.component
def ControlInputs(params: dict[str, dict[str, Any]], on_change: Callable[[str, Any], None]) -> None:
    """The knobs (Mesa ``model_params`` specs): sliders with their values, and selects."""
    for name, spec in params.items():

        def changed(value: Any, name: str = name) -> None:
            on_change(name, value)

        label = spec.get("label", name)
        if spec.get("type") in SLIDERS:
            Slider(label, spec, changed)
        elif spec.get("type") == "Select":
            solara.Select(label, value=spec.get("value"), values=spec["values"], on_value=changed)
        else:
            raise ValueError(f"control {name!r}: {spec.get('type')!r} is not a slider or a select")


@solara.component
def ComponentsGrid(components: list[Callable[[Any], solara.Element]], model: Any) -> None:
    """The components side by side, each in a card (no tabs)."""
    with solara.Columns([1] * max(len(components), 1)):
        for component in components:
            with solara.Card():
                component(model)
