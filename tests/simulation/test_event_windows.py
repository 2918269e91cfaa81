"""Event mode's windows: how many a run takes, exact window ends, and exact message lags."""

import json

import pytest

import socialsim as ss
from socialsim.core.messages import Mailroom, Message
from socialsim.simulation.model import SocialModel


def event_cfg(rule_cfg, window, until, latency=0.1):
    """A rule run in event mode, ``until`` over windows of ``window``."""
    return rule_cfg(
        mode="event",
        until=until,
        **{"event.window": window, "event.latency": latency},
    )


@pytest.mark.parametrize(
    ("overrides", "count"),
    [
        ({"steps": 7}, 7),
        ({"mode": "event", "until": 20}, 20),
        ({"mode": "event", "until": 2.5}, 3),
        ({"mode": "event", "until": 0.3, "event.window": 0.1}, 3),
        ({"mode": "event", "until": 200, "event.window": 0.1}, 2000),
        ({"mode": "event", "steps": 6, "event.window": 0.5}, 6),
    ],
)
def test_step_count_is_the_models_step_limit_in_either_mode(rule_cfg, overrides, count):
    cfg = rule_cfg(**overrides)
    assert cfg.step_count() == count
    with SocialModel(cfg) as model:
        assert model.step_limit == count


def test_window_ends_are_exact_multiples_and_the_last_is_until(rule_cfg, tmp_path):
    run = ss.run(event_cfg(rule_cfg, 0.1, 20), out=tmp_path / "r")
    ends = [round(k * 0.1, 9) for k in range(200)] + [20.0]
    assert ends[3] == 0.3 and ends[199] == 19.9
    assert list(run.steps["time"]) == ends
    lines = (run.dir / "events.jsonl").read_text().splitlines()
    times = {json.loads(line)["time"] for line in lines}
    assert times <= set(ends)


def test_a_short_last_window_ends_at_until_and_windows_past_it_are_full(rule_cfg):
    with SocialModel(event_cfg(rule_cfg, 0.1, 0.25)) as model:
        times = []
        for _ in range(5):
            model.step()
            times.append(model.time)
    assert times == [0.1, 0.2, 0.25, 0.35, 0.45]


@pytest.mark.parametrize(("window", "latency"), [(0.1, 0.2), (0.2, 0.4), (0.1, 0.3)])
def test_a_latency_of_whole_windows_is_always_that_many_windows(rule_cfg, window, latency):
    expected = round(latency / window)
    sent: dict[str, int] = {}
    lags = []
    with SocialModel(event_cfg(rule_cfg, window, 60 * window, latency)) as model:
        while model.running:
            model.step()
            pending = {m.id for m in model.mail.pending}
            for mid in [mid for mid in sent if mid not in pending]:
                lags.append(model.steps - sent.pop(mid))
            message = model.send(-1, "hello", to=[1])
            sent[message.id] = model.steps
    assert len(lags) == 60 - expected
    assert set(lags) == {expected}


def test_event_runs_with_short_windows_repeat_exactly(rule_cfg):
    cfg = event_cfg(rule_cfg, 0.1, 5, latency=0.2).with_overrides(
        {"agents.policy": "voter", "agents.params": {"initial": "uniform"}}
    )
    logs = []
    for _ in range(2):
        with SocialModel(cfg) as model:
            model.run_model()
            logs.append(list(model.log.sink.lines))
    assert logs[0] == logs[1] and len(logs[0]) > 0


def test_mail_due_at_a_window_end_within_rounding_is_delivered_then():
    mail = Mailroom()
    for i, at in enumerate([0.5000000000000001, 0.49999999999999994, 0.5000001]):
        mail.send(Message(id=f"m{i}", sender=0, recipients=[1], step=1, text="x", deliver_at=at))
    assert [m.id for m in mail.deliver(0.5)] == ["m0", "m1"]
    assert [m.id for m in mail.pending] == ["m2"]
