"""The dashboard's pages in solara's test renderer: controls, stepping, replay."""

import time

import pytest

# The page needs the dashboard extra; without it these tests skip rather than fail to collect.
solara = pytest.importorskip("solara")
ipyvue = pytest.importorskip("ipyvue")
v = pytest.importorskip("ipyvuetify")
ipywidgets = pytest.importorskip("ipywidgets")

from socialsim.dashboard.target import ENV_VAR, Target  # noqa: E402

pytestmark = pytest.mark.slow  # each test builds and steps a live model page

PLAY, PAUSE = "▶", "❚❚"


def texts(rc) -> list[str]:
    """Every text of the page's html elements (the grid's items included)."""
    found, stack = [], [rc.find(ipywidgets.Widget).widgets[0]]
    while stack:
        widget = stack.pop()
        parts = [
            *(getattr(widget, "children", None) or []),
            *(getattr(widget, "items", None) or []),
        ]
        if isinstance(widget, ipyvue.Html):
            found += [p for p in parts if isinstance(p, str)]
        stack += [p for p in parts if isinstance(p, ipywidgets.Widget)]
    return found


def button(rc, label: str) -> v.Btn:
    return rc.find(v.Btn, children=[label]).widget


def click(rc, label: str, times: int = 1) -> None:
    for _ in range(times):
        button(rc, label).click()


def set_knob(rc, label: str, value) -> None:
    kind = v.Select if label in ("network", "policy") else v.Slider
    rc.find(kind, label=label).widget.v_model = value


def wait_until(condition, timeout: float = 30.0) -> None:
    """Wait for what the page's play thread brings about (a failure after `timeout` s)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the page did not get there"
        time.sleep(0.05)


@pytest.fixture
def page(monkeypatch, config_path):
    """The live page rendered in an app layout; the models it builds, in order."""
    from socialsim.dashboard import app

    monkeypatch.setenv(ENV_VAR, Target("config", str(config_path)).to_env())
    made = []
    real = app._build

    def build(*args):
        made.append(real(*args))
        return made[-1]

    monkeypatch.setattr(app, "_build", build)
    _box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    yield rc, made
    rc.close()


def test_page_shows_the_network_and_the_curve(page):
    rc, made = page
    assert len(rc.find(ipywidgets.Image).widgets) == 2
    assert any(t.startswith("step 0: adoption") for t in texts(rc))
    click(rc, "Step")
    assert made[-1].steps == 1
    assert "Step: 1" in texts(rc)


def test_each_slider_shows_its_value_and_no_tab_label_shows(page):
    rc, _made = page
    sliders = {w.label: w for w in rc.find(v.Slider).widgets}
    assert set(sliders) == {"Play Interval (ms)", "seed", "population size", "network k", "steps"}
    assert all(w.thumb_label == "always" for w in sliders.values())
    shown = [w.children[0] for w in rc.find(v.Html, class_="control-value").widgets]
    assert shown == ["200", "3", "12", "4", "4"]  # in the sidebar's order
    set_knob(rc, "population size", 20)
    shown = [w.children[0] for w in rc.find(v.Html, class_="control-value").widgets]
    assert shown == ["200", "3", "20", "4", "4"]
    assert not rc.find(v.Tab).widgets and not rc.find(v.Tabs).widgets
    assert not any("Page 0" in t or "PAGE 0" in t for t in texts(rc))


def test_changing_a_knob_rebuilds_the_model(page):
    rc, made = page
    assert made[-1].cfg.seed == 3
    set_knob(rc, "seed", 11)
    assert len(made) == 2 and made[-1].cfg.seed == 11
    assert made[0].running is False  # the replaced model is closed
    set_knob(rc, "network", "erdos_renyi")
    assert made[-1].cfg.network.kind == "erdos_renyi"
    assert rc.find(v.Slider, label="network mean_degree").widget.v_model == 4.0
    set_knob(rc, "population size", 25)
    assert made[-1].cfg.population.size == 25 and made[-1].cfg.seed == 11


def test_reset_rebuilds_with_the_current_knobs(page):
    rc, made = page
    set_knob(rc, "steps", 2)
    click(rc, "Step")
    assert "Step: 1" in texts(rc)
    click(rc, "Reset")
    assert "Step: 0" in texts(rc) and "Step: 1" not in texts(rc)
    assert made[-1].cfg.steps == 2 and made[-1].steps == 0


def test_reset_change_reset_rebuilds_every_time(page):
    rc, made = page
    click(rc, "Reset")
    assert len(made) == 2
    set_knob(rc, "seed", 11)
    assert len(made) == 3
    click(rc, "Step")
    click(rc, "Reset")
    assert len(made) == 4 and made[-1].cfg.seed == 11 and made[-1].steps == 0
    assert "Step: 0" in texts(rc)
    assert not rc.find(v.Alert).widgets  # no error shown
    click(rc, "Step")
    assert made[-1].steps == 1


def test_change_step_change_reset_keeps_the_knobs(page):
    rc, made = page
    set_knob(rc, "population size", 20)
    click(rc, "Step")
    set_knob(rc, "seed", 8)
    assert "Step: 0" in texts(rc)
    click(rc, "Reset")
    model = made[-1]
    assert (model.cfg.population.size, model.cfg.seed, model.steps) == (20, 8, 0)
    assert rc.find(v.Slider, label="population size").widget.v_model == 20


def test_a_finished_run_steps_again_once_a_knob_changes(page):
    rc, made = page
    click(rc, "Step", times=4)
    assert made[-1].steps == 4
    assert button(rc, "Step").disabled and button(rc, PLAY).disabled
    set_knob(rc, "seed", 5)
    assert not button(rc, "Step").disabled and not button(rc, PLAY).disabled
    click(rc, "Step")
    assert made[-1].steps == 1 and "Step: 1" in texts(rc)


def test_play_runs_to_the_end_then_a_knob_change_enables_step(page):
    rc, made = page
    rc.find(v.Slider, label="Play Interval (ms)").widget.v_model = 10
    click(rc, PLAY)
    assert button(rc, "Step").disabled  # no stepping by hand while playing
    wait_until(lambda: made[-1].steps == 4 and rc.find(v.Btn, children=[PLAY]).widgets)
    assert button(rc, "Step").disabled and button(rc, PLAY).disabled
    assert "Step: 4" in texts(rc)
    set_knob(rc, "steps", 3)
    # the play thread may still be rendering: the change then renders there, a moment later
    wait_until(lambda: not button(rc, "Step").disabled and not button(rc, PLAY).disabled)
    assert made[-1].cfg.steps == 3 and made[-1].steps == 0


def test_a_knob_change_pauses_play_and_shows_the_new_model(page):
    rc, made = page
    click(rc, PLAY)
    assert button(rc, PAUSE) is not None
    set_knob(rc, "seed", 6)
    wait_until(lambda: rc.find(v.Btn, children=[PLAY]).widgets)
    assert not button(rc, "Step").disabled
    assert made[-1].cfg.seed == 6 and made[-1].steps == 0
    assert not made[0].running  # the model played before is closed


def test_knobs_that_make_no_model_keep_the_last_one_until_reset(page):
    rc, made = page
    set_knob(rc, "population size", 3)  # watts_strogatz k=4 needs more agents
    assert isinstance(made[-1], str)
    alerts = rc.find(v.Alert).widgets
    assert alerts and "not applied" in str(alerts[0].children)
    click(rc, "Step")
    assert made[0].steps == 1  # the last good model still steps
    click(rc, "Reset")
    assert made[-1].cfg.population.size == 12 and made[-1].steps == 0
    assert rc.find(v.Slider, label="population size").widget.v_model == 12
    assert not rc.find(v.Alert).widgets


def test_replay_page_steps_through_the_record_and_rewinds(monkeypatch, run_dir):
    from socialsim.dashboard import app

    monkeypatch.setenv(ENV_VAR, Target("replay", str(run_dir)).to_env())
    _box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    try:
        click(rc, "Step", times=2)
        assert "Step: 2" in texts(rc)
        click(rc, "Reset")
        assert "Step: 0" in texts(rc) and not button(rc, "Step").disabled
    finally:
        rc.close()
