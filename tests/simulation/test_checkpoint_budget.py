"""When checkpoints are written: at most about 1/COST_FACTOR of the run's time, the first one
(of unknown cost) abandoned when it overruns its budget, with nothing written."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

import socialsim as ss
from socialsim.experiments import checkpoint
from socialsim.experiments.checkpoint import CHECKPOINT, SNAPSHOTS, Checkpointer, read_header
from socialsim.experiments.state_codec import Encoder, OverBudget
from tests.simulation.test_resume import CONFIG


class Clock:
    """A fake ``time.perf_counter`` the test moves on."""

    def __init__(self) -> None:
        self.now = 1000.0


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(checkpoint, "time", SimpleNamespace(perf_counter=lambda: fake.now))
    return fake


def saver(tmp_path, clock, monkeypatch, cost: float) -> tuple[Checkpointer, list]:
    """A Checkpointer of a small model whose checkpoints take `cost` seconds of the clock;
    the list records each write as (deadline budget or None, written)."""
    (tmp_path / "run").mkdir()
    model = ss.SocialModel(ss.ExperimentConfig.from_dict(CONFIG), tmp_path / "run")
    ck = Checkpointer(model, tmp_path / "run")
    tries: list[tuple[float | None, bool]] = []

    def write(m, deadline=None):
        start = clock.now
        if deadline is not None and start + cost > deadline:
            clock.now = deadline
            tries.append((deadline - start, False))
            raise OverBudget("past the deadline")
        clock.now = start + cost
        tries.append((None if deadline is None else deadline - start, True))

    monkeypatch.setattr(ck, "_write", write)
    return ck, tries


def steps(ck: Checkpointer, clock: Clock, seconds: float, n: int) -> None:
    for _ in range(n):
        clock.now += seconds
        ck.after_step(ck.model)


def test_a_costly_first_checkpoint_is_abandoned_at_a_twentieth_of_the_step(
    tmp_path, clock, monkeypatch
):
    # steps of 100 s, a checkpoint of 17 s (a million LLM agents)
    ck, tries = saver(tmp_path, clock, monkeypatch, cost=17.0)
    steps(ck, clock, 100.0, 1)
    assert tries == [(pytest.approx(5.0), False)]  # 100 s / 20, given up
    steps(ck, clock, 100.0, 1)  # 205 s since the start >= 20 x (2 x 5 s): tried again
    assert tries[1] == (pytest.approx(205 / 20), False)
    steps(ck, clock, 100.0, 1)  # 315.25 s < 20 x 20.5 s: not tried
    assert len(tries) == 2
    steps(ck, clock, 100.0, 1)  # 415.25 s: a budget of 20.76 s, enough
    assert tries[2] == (pytest.approx(415.25 / 20), True)
    assert (ck.written, ck.abandoned) == (1, 2)
    assert ck.seconds == pytest.approx(5.0 + 205 / 20 + 17.0)
    # from then on: when 20 x 17 s have passed since it ended, with no deadline
    steps(ck, clock, 100.0, 3)
    assert len(tries) == 3
    steps(ck, clock, 100.0, 1)
    assert tries[3] == (None, True)
    # at most about a twentieth of the time went on checkpoints, the abandoned ones included
    assert ck.seconds / (clock.now - 1000.0) < 2 / checkpoint.COST_FACTOR


def test_a_cheap_first_checkpoint_is_written_after_the_first_step(tmp_path, clock, monkeypatch):
    ck, tries = saver(tmp_path, clock, monkeypatch, cost=0.25)
    steps(ck, clock, 0.0625, 1)  # a fast step: the first checkpoint may still take a second
    assert tries == [(pytest.approx(checkpoint.FIRST_BUDGET), True)]
    steps(ck, clock, 0.0625, 79)  # 20 x 0.25 = 5 s must pass before the next
    assert len(tries) == 1
    steps(ck, clock, 0.0625, 1)
    assert tries[1] == (None, True)


def test_a_forced_checkpoint_has_no_deadline(tmp_path, clock, monkeypatch):
    monkeypatch.setattr(checkpoint, "COST_FACTOR", 0.0)
    ck, tries = saver(tmp_path, clock, monkeypatch, cost=50.0)
    steps(ck, clock, 1.0, 3)
    assert tries == [(None, True)] * 3


def test_an_abandoned_checkpoint_writes_nothing_and_the_next_one_is_whole(tmp_path):
    (tmp_path / "run").mkdir()
    model = ss.SocialModel(ss.ExperimentConfig.from_dict(CONFIG), tmp_path / "run")
    model.step()
    ck = Checkpointer(model, tmp_path / "run")
    with pytest.raises(OverBudget):
        ck._write(model, deadline=time.perf_counter() - 1.0)
    assert not (tmp_path / "run" / CHECKPOINT).exists()
    assert not (tmp_path / "run" / CHECKPOINT).with_name(CHECKPOINT + ".partial").exists()
    assert not (tmp_path / "run" / SNAPSHOTS).exists()
    ck._write(model, deadline=time.perf_counter() + 600.0)
    assert read_header(tmp_path / "run")["step"] == 1
    model.close()


def test_the_encoder_reads_the_clock_as_it_walks():
    state = [{"agent": i, "memory": [[i, "said"]]} for i in range(5_000)]
    with pytest.raises(OverBudget, match="past the deadline"):
        Encoder({}, deadline=time.perf_counter() - 1.0).encode(state)
    tree = Encoder({}, deadline=time.perf_counter() + 600.0).encode(state)
    assert tree == Encoder({}).encode(state) and len(tree) == 5_000
