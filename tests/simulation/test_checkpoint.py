"""Checkpoints at step boundaries: a run stopped after any step resumes from it, equal to a
run that was never stopped, in every scenario."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import socialsim as ss
from socialsim.experiments import checkpoint
from socialsim.experiments.checkpoint import CHECKPOINT, SNAPSHOTS, read_header
from socialsim.experiments.resume import resume
from tests.simulation.test_resume import CONFIG, same_run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# every scenario's example, on a rule policy and small enough for the suite (manipulation and
# persuasion_debate end after one step: there is no step boundary to stop at before the end)
SCENARIOS = [
    "collaboration",
    "donor_game",
    "misinformation",
    "negotiation",
    "network_growth",
    "norms",
    "persuasion_campaign",
]


class Stop(BaseException):
    """Stands for a kill between two steps."""


def stop_after(step: int):
    def on_step(model) -> None:
        if model.steps == step:
            raise Stop

    return on_step


@pytest.fixture
def every_step(monkeypatch):
    """A checkpoint after every step, whatever it costs."""
    monkeypatch.setattr(checkpoint, "COST_FACTOR", 0.0)


def example(name: str, steps: int = 4) -> ss.ExperimentConfig:
    overrides = [
        "agents.policy=degroot",
        "population.size=40",
        f"steps={steps}",
        "output.report=false",
        "replicates=1",
        "control=false",
    ]
    cfg = ss.ExperimentConfig.from_yaml(EXAMPLES / f"{name}.yaml", overrides=overrides)
    params = cfg.scenario.params
    if "probe_steps" in params:  # probes within the shorter run
        cfg = cfg.with_overrides([f"scenario.params.probe_steps=[{steps - 1}]"])
    return cfg


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.slow
def test_every_scenario_resumes_from_the_step_it_stopped_after(tmp_path, every_step, name):
    cfg = example(name)
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    assert not (whole / CHECKPOINT).exists() and not (whole / SNAPSHOTS).exists()
    with pytest.raises(Stop):
        ss.run(cfg, out=tmp_path / "cut", on_step=stop_after(2))
    assert read_header(tmp_path / "cut")["step"] == 2
    done = resume(tmp_path / "cut")
    assert done.summary["run"]["resumed"] == {"from_checkpoint_at_step": 2}
    same_run(whole, tmp_path / "cut")
    assert not (tmp_path / "cut" / CHECKPOINT).exists()


@pytest.mark.slow
def test_lines_written_after_the_checkpoint_are_dropped_and_written_again(tmp_path, every_step):
    cfg = ss.ExperimentConfig.from_dict(CONFIG)
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    with pytest.raises(Stop):
        ss.run(cfg, out=tmp_path / "cut", on_step=stop_after(3))
    log = tmp_path / "cut" / "events.jsonl"
    full = (whole / "events.jsonl").read_bytes()
    kept = log.stat().st_size
    log.write_bytes(full[: kept + (len(full) - kept) // 2])  # half of the next step, torn
    resume(tmp_path / "cut")
    same_run(whole, tmp_path / "cut")


@pytest.mark.slow
def test_a_resumed_run_checkpoints_again_and_resumes_twice(tmp_path, every_step):
    cfg = ss.ExperimentConfig.from_dict(CONFIG)
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    with pytest.raises(Stop):
        ss.run(cfg, out=tmp_path / "cut", on_step=stop_after(2))
    with pytest.raises(Stop):
        resume(tmp_path / "cut", on_step=stop_after(4))
    assert read_header(tmp_path / "cut")["step"] == 4
    done = resume(tmp_path / "cut")
    assert done.summary["run"]["resumed"] == {"from_checkpoint_at_step": 4}
    same_run(whole, tmp_path / "cut")


def test_a_checkpoint_holds_the_state_not_the_set_up(tmp_path, every_step):
    cfg = ss.ExperimentConfig.from_dict({**CONFIG, "population": {"size": 400}})
    with pytest.raises(Stop):
        ss.run(cfg, out=tmp_path / "cut", on_step=stop_after(2))
    header = read_header(tmp_path / "cut")
    assert header["events_bytes"] == (tmp_path / "cut" / "events.jsonl").stat().st_size
    assert header["snapshots"][0] == 3  # after the set-up and after steps 1 and 2
    state = json.dumps(header["state"])
    # the persona store is made again from the config (agents created so far keep theirs)
    assert "SampledPersonas" not in state and "PersonaStore" not in state
    assert "DeGroot" in state or "Voter" in state  # the rule policy's state is kept
    # some hundred bytes per rule agent
    assert (tmp_path / "cut" / CHECKPOINT).stat().st_size < 400 * 1_000


@pytest.mark.slow
def test_without_a_checkpoint_that_reads_the_run_is_replayed(tmp_path, every_step):
    cfg = ss.ExperimentConfig.from_dict(CONFIG)
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    for damage in ("torn", "missing", "off"):
        cut = tmp_path / damage
        run_cfg = cfg.with_overrides(["output.checkpoint=false"]) if damage == "off" else cfg
        with pytest.raises(Stop):
            ss.run(run_cfg, out=cut, on_step=stop_after(3))
        if damage == "torn":
            data = (cut / CHECKPOINT).read_bytes()
            (cut / CHECKPOINT).write_bytes(data[: len(data) // 2])
        elif damage == "missing":
            (cut / CHECKPOINT).unlink()
        else:
            assert not (cut / CHECKPOINT).exists()
        done = resume(cut)
        assert done.summary["run"]["resumed"]["matched"] is True  # replayed
        same_run(whole, cut)


@pytest.mark.slow
def test_event_mode_is_replayed(tmp_path):
    cfg = ss.ExperimentConfig.from_dict(
        {**CONFIG, "mode": "event", "agents": {"policy": "voter"}, "steps": 5}
    )
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    with pytest.raises(Stop):
        ss.run(cfg, out=tmp_path / "cut", on_step=stop_after(3))
    assert not (tmp_path / "cut" / CHECKPOINT).exists()
    assert resume(tmp_path / "cut").summary["run"]["resumed"]["matched"] is True
    same_run(whole, tmp_path / "cut")


class Unsaveable(ss.Scenario):
    """A scenario holding a function made at run time, which cannot be saved."""

    def setup(self, model) -> None:
        self.pick = lambda ids: ids[:1]


def test_a_state_that_cannot_be_saved_warns_once_and_falls_back_to_replay(tmp_path, every_step):
    ss.register_scenario("unsaveable_test")(Unsaveable)
    cfg = ss.ExperimentConfig.from_dict({**CONFIG, "scenario": {"kind": "unsaveable_test"}})
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Stop):
            ss.run(cfg, out=tmp_path / "cut", on_step=stop_after(3))
    notes = [str(w.message) for w in caught if "checkpoints are off" in str(w.message)]
    assert len(notes) == 1 and "replay" in notes[0]
    assert not (tmp_path / "cut" / CHECKPOINT).exists()
    assert resume(tmp_path / "cut").summary["run"]["resumed"]["matched"] is True
    same_run(whole, tmp_path / "cut")


@pytest.mark.slow
def test_a_checkpoint_is_replaced_whole_never_torn(tmp_path, every_step, monkeypatch):
    """A kill while a checkpoint is written leaves the previous one, which still resumes."""
    cfg = ss.ExperimentConfig.from_dict(CONFIG)
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    real_savez = np.savez
    calls = {"n": 0}

    def dying_savez(file, **arrays):
        calls["n"] += 1
        if calls["n"] == 3:  # the checkpoint after step 3
            file.write(b"PK\x03\x04 torn")
            raise Stop
        return real_savez(file, **arrays)

    monkeypatch.setattr(checkpoint.np, "savez", dying_savez)
    with pytest.raises(Stop):
        ss.run(cfg, out=tmp_path / "cut")
    monkeypatch.setattr(checkpoint.np, "savez", real_savez)
    assert read_header(tmp_path / "cut")["step"] == 2
    assert resume(tmp_path / "cut").summary["run"]["resumed"] == {"from_checkpoint_at_step": 2}
    same_run(whole, tmp_path / "cut")
    assert not any(p.name.startswith("checkpoint") for p in (tmp_path / "cut").iterdir())


@pytest.mark.slow
def test_arms_resume_from_their_checkpoints(tmp_path, every_step):
    cfg = ss.ExperimentConfig.from_dict({**CONFIG, "control": True})
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    part = tmp_path / "part"
    with pytest.raises(Stop):
        ss.run(cfg, out=part, on_step=stop_after(4))  # in the treatment run
    shutil.rmtree(part / "control", ignore_errors=True)
    arms = resume(part)
    assert arms.runs["treatment"][0].summary["run"]["resumed"] == {"from_checkpoint_at_step": 4}
    for arm in ("treatment", "control"):
        same_run(whole / arm / "s3", part / arm / "s3")
    effects = (json.loads((d / "summary.json").read_text())["effects"] for d in (whole, part))
    assert next(effects) == next(effects)


def plant(run_dir: Path, change) -> None:
    """Rewrite the checkpoint of `run_dir` with `change(document)` applied to its JSON."""
    path = run_dir / CHECKPOINT
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    document = json.loads(arrays["state.json"].tobytes())
    change(document)
    arrays["state.json"] = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def name_a_class(document) -> None:
    """Put an object of a class outside a run's state into the scenario's state."""
    scenario = document["state"]["model"]["scenario"]
    scenario["s"]["planted"] = {"$": "o", "c": "socialsim.experiments.sweep_workers:WorkerPool",
                                "s": {"workers": 1}}  # fmt: skip


CHANGES = {
    "another format": lambda d: d.update(format=1),
    "another version": lambda d: d.update(socialsim="0.0.1"),
    "an unknown field": lambda d: d.update(extra=1),
    "a class outside the state": name_a_class,
    "an unknown entry": lambda d: d["state"]["model"].update(planted={"$": "call", "f": "x"}),
    "a reference to nothing": lambda d: d["state"]["model"].update(
        planted={"$": "ref", "i": 10**9}
    ),
    "an object array": lambda d: d["state"]["model"].update(planted={"$": "n", "t": "|O", "v": 1}),
    "a log length beyond the file": lambda d: d.update(events_bytes=d["events_bytes"] + 5000),
    "a log length inside a line": lambda d: d.update(events_bytes=d["events_bytes"] - 3),
    "a step not the header's": lambda d: d["state"]["model"].update(steps=10**6),
    "a name the model has not": lambda d: d["state"]["model"].update(__class__=1),
}


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.slow
def test_a_checkpoint_with_unknown_content_is_refused_in_one_line_and_the_run_replayed(
    tmp_path, every_step, change
):
    cfg = ss.ExperimentConfig.from_dict(CONFIG)
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    cut = tmp_path / "cut"
    with pytest.raises(Stop):
        ss.run(cfg, out=cut, on_step=stop_after(3))
    plant(cut, CHANGES[change])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = resume(cut)
    refused = [str(w.message) for w in caught if "replaying the run instead" in str(w.message)]
    assert len(refused) == 1 and "\n" not in refused[0]
    assert done.summary["run"]["resumed"]["matched"] is True  # replayed
    same_run(whole, cut)


def test_a_state_holding_an_arbitrary_object_is_not_saved(tmp_path, every_step):
    """What the loader would refuse is never written: checkpoints go off, the run replays."""
    ss.register_scenario("holds_a_path_test")(HoldsAPool)
    cfg = ss.ExperimentConfig.from_dict({**CONFIG, "scenario": {"kind": "holds_a_path_test"}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Stop):
            ss.run(cfg, out=tmp_path / "cut", on_step=stop_after(2))
    notes = [str(w.message) for w in caught if "checkpoints are off" in str(w.message)]
    assert len(notes) == 1 and "concurrent.futures" in notes[0]
    assert resume(tmp_path / "cut").summary["run"]["resumed"]["matched"] is True


class HoldsAPool(ss.Scenario):
    """A scenario holding a process pool object, which is not a run's state."""

    def setup(self, model) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor.__new__(ThreadPoolExecutor)
