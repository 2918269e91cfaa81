"""The page around a model, laid out like Mesa's SolaraViz (controls, model parameters, the
step reached, the components' grid) with Reset, Play and Step of its own, each slider's value
shown beside it and the components in one grid (no tab).

The page is handed the model to show; whoever owns it rebuilds it (a changed knob, Reset).
Step and Play follow the model shown, so a rebuilt model can be stepped at once, and Reset
never depends on constructor arguments stored by the framework.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import solara
import solara.lab
from mesa.visualization.utils import force_update, update_counter

from socialsim.dashboard.controls import ComponentsGrid, ControlInputs, Slider

PLAY_INTERVAL_MS = 200


@solara.component
def ModelPage(
    model: Any,
    name: str,
    components: list[Callable[[Any], solara.Element]],
    on_reset: Callable[[], None],
    params: dict[str, dict[str, Any]] | None = None,
    on_param: Callable[[str, Any], None] | None = None,
    message: str | None = None,
) -> None:
    """`model` (``step()``, ``running``, ``steps``) with its controls and `components`.

    `on_reset` rebuilds the model; `params` are the knobs (Mesa ``model_params`` specs),
    each change handed to `on_param(name, value)`; `message` shows above them.
    """
    update_counter.get()
    playing = solara.use_reactive(False)
    interval = solara.use_reactive(PLAY_INTERVAL_MS)
    halt = solara.use_ref(threading.Event())  # set: the play thread stops

    def pause() -> None:
        halt.current.set()
        playing.set(False)

    solara.use_effect(lambda: pause, [model])  # a model is paused when another replaces it

    def play(played: Any, halted: threading.Event) -> None:
        while played.running and not halted.wait(interval.value / 1000):
            played.step()
            force_update()
        if not halted.is_set():
            playing.set(False)  # the run has ended

    def toggle() -> None:
        if playing.value:
            pause()
            return
        halt.current = threading.Event()
        playing.set(True)
        threading.Thread(target=play, args=(model, halt.current), daemon=True).start()

    def step() -> None:
        model.step()
        force_update()

    def reset() -> None:
        pause()
        on_reset()
        force_update()

    with solara.AppBar():
        solara.AppBarTitle(name)
        solara.lab.ThemeToggle()
    with solara.Sidebar(), solara.Column():
        with solara.Card("Controls"):
            Slider(
                "Play Interval (ms)",
                {"type": "SliderInt", "value": interval.value, "min": 10, "max": 1000, "step": 10},
                interval.set,
            )
            with solara.Row(justify="space-between"):
                solara.Button(label="Reset", color="primary", on_click=reset)
                solara.Button(
                    label="❚❚" if playing.value else "▶",
                    color="primary",
                    on_click=toggle,
                    disabled=not model.running,
                )
                solara.Button(
                    label="Step",
                    color="primary",
                    on_click=step,
                    disabled=playing.value or not model.running,
                )
        if params is not None:
            with solara.Card("Model Parameters"):
                if message:
                    solara.Error(message)
                ControlInputs(params, on_change=on_param or (lambda name, value: None))
        with solara.Card("Information"):
            solara.Text(f"Step: {model.steps}")
    ComponentsGrid(components, model)
