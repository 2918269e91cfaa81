"""The dashboard page (``solara run socialsim.dashboard.app``): a live model of a config, with
its main knobs as controls, the replay of a run directory, or a treatment and its control
replayed side by side (an arms directory), on a SolaraViz-style page.

The page reads what to show from the ``SOCIALSIM_DASHBOARD`` environment variable, which
``socialsim dashboard`` sets.
"""

from __future__ import annotations

import html
from dataclasses import asdict
from typing import Any

import solara
from mesa.visualization.utils import update_counter

from socialsim.core.errors import SocialsimError
from socialsim.dashboard.arms_replay import ArmsReplay, arms_figure, effect_line, paired_seeds
from socialsim.dashboard.figures import ADOPTION_TITLE, adoption_figure, network_figure
from socialsim.dashboard.knobs import Knobs, control_specs, knobs_of, with_knob
from socialsim.dashboard.layout import DRAW_CAP
from socialsim.dashboard.live import LiveModel
from socialsim.dashboard.page import ModelPage
from socialsim.dashboard.replay import ReplayModel
from socialsim.dashboard.target import Target
from socialsim.simulation.config import ExperimentConfig


def heading(text: str) -> solara.Element:
    """A section heading, its text escaped (solara's Markdown would fetch KaTeX from a CDN)."""
    return solara.HTML(tag="h3", unsafe_innerHTML=html.escape(text))


def network_view(model: Any) -> solara.Element:
    """The network coloured by credence in the first claim (a sample above the draw cap)."""
    update_counter.get()
    layout = model.layout
    with solara.Column() as column:
        heading(f"Network: credence in {model.claim}")
        if layout.sampled:
            solara.Info(
                f"{len(layout.nodes):,} of {layout.n:,} agents drawn (a seeded sample): "
                f"the network is drawn up to {DRAW_CAP:,} agents"
            )
        figure = network_figure(layout, model.credences(), model.claim)
        solara.FigureMatplotlib(figure, format="png", dependencies=[id(model), model.steps])
    return column


def adoption_view(model: Any) -> solara.Element:
    """Adoption (credence >= 0.5) and mean credence per step so far."""
    update_counter.get()
    curve = model.curve()
    with solara.Column() as column:
        heading(ADOPTION_TITLE)
        figure = adoption_figure(curve, model.claim, last_step=model.last_step)
        solara.FigureMatplotlib(figure, format="png", dependencies=[id(model), model.steps])
        if len(curve):
            last = curve.iloc[-1]
            solara.Text(
                f"step {int(last['step'])}: adoption {last['adoption']:.0%}, "
                f"mean credence {last['mean_credence']:.2f}"
            )
    return column


COMPONENTS = [network_view, adoption_view]


@solara.component
def ReplayPage(run_dir: str) -> None:
    """The record of a run: Step and Play move through the recorded steps, Reset rewinds."""
    loaded = solara.use_memo(lambda: ReplayModel(run_dir), [run_dir])
    model = solara.use_reactive(loaded)
    ModelPage(
        model.value,
        model.value.title,
        COMPONENTS,
        on_reset=lambda: model.set(model.value.rewound()),
    )


def arms_view(model: ArmsReplay) -> solara.Element:
    """Both arms' adoption per step so far and the effect, treatment minus control."""
    update_counter.get()
    curves = model.curves()
    with solara.Column() as column:
        heading(f"Treatment and control, seed {model.seed}")
        figure = arms_figure(curves, model.claim, last_step=model.last_step)
        solara.FigureMatplotlib(figure, format="png", dependencies=[id(model), model.steps])
        solara.Text(f"seed {model.seed}, {effect_line(curves)}")
    return column


@solara.component
def ArmsPage(arms_dir: str) -> None:
    """A treatment and its control side by side: pick the seed; Step and Play move both."""
    seeds = solara.use_memo(lambda: paired_seeds(arms_dir), [arms_dir])
    seed = solara.use_reactive(seeds[0])
    loaded = solara.use_memo(lambda: ArmsReplay(arms_dir, seed.value), [arms_dir, seed.value])
    model = solara.use_reactive(loaded)
    ModelPage(
        model.value,
        model.value.title,
        [arms_view],
        on_reset=lambda: model.set(model.value.rewound()),
        params={"seed": {"type": "Select", "label": "seed", "values": seeds, "value": seed.value}},
        on_param=lambda _name, value: seed.set(int(value)),
    )


@solara.component
def LivePage(config: str, overrides: tuple[str, ...]) -> None:
    """A live model of `config`; changing a knob or Reset builds a new one from the knobs.

    Knobs that do not make a model (a one-line error) leave the last good model shown.
    """
    base = solara.use_memo(
        lambda: ExperimentConfig.from_yaml(config, overrides=list(overrides)), [config, overrides]
    )
    knobs = solara.use_reactive(knobs_of(base))
    resets = solara.use_reactive(0)
    built = solara.use_memo(
        lambda: _build(config, overrides, knobs.value), [knobs.value, resets.value]
    )
    shown = solara.use_ref(None)
    if isinstance(built, LiveModel):
        shown.current = built
    model = shown.current
    # a model is closed once another replaces it (or the page goes)
    solara.use_effect(lambda: model.close if model is not None else None, [model])
    if model is None:
        solara.Error(f"not applied: {built}")
        return

    def reset() -> None:
        if not isinstance(built, LiveModel):
            knobs.set(model.knobs)  # back to the knobs of the model shown
        resets.set(resets.value + 1)

    ModelPage(
        model,
        model.title,
        COMPONENTS,
        on_reset=reset,
        params=control_specs(knobs.value, base),
        on_param=lambda name, value: knobs.set(with_knob(base, knobs.value, name, value)),
        message=None if built is model else f"not applied: {built}",
    )


def _build(config: str, overrides: tuple[str, ...], knobs: Knobs) -> LiveModel | str:
    try:
        return LiveModel(config, overrides, **asdict(knobs))
    except SocialsimError as exc:
        return str(exc)


@solara.component
def Page() -> None:
    """The dashboard: live model, replay or arms side by side, as ``socialsim dashboard`` asked."""
    target = solara.use_memo(Target.from_env, [])
    if target.kind == "replay":
        ReplayPage(target.path)
    elif target.kind == "arms":
        ArmsPage(target.path)
    else:
        LivePage(target.path, target.overrides)
