"""Sweeps: grid expansion, tidy results, resume, failed cells, executors agree."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import socialsim as ss
from socialsim.core.errors import ConfigError
from socialsim.experiments.sweep import DONE_MARKER, cell_name, expand_grid


def test_grid_expands_as_declared():
    cells = expand_grid({"network.kind": ["ring", "complete"], "seed": [1, 2, 3]})
    assert len(cells) == 6
    assert cells[0] == {"network.kind": "ring", "seed": 1}
    assert cells[1] == {"network.kind": "ring", "seed": 2}
    assert cells[-1] == {"network.kind": "complete", "seed": 3}
    assert expand_grid({}) == [{}]


def test_cell_names_are_stable_and_distinct():
    a = cell_name(0, {"network.kind": "ring", "seed": 1})
    assert a == cell_name(0, {"network.kind": "ring", "seed": 1})
    assert a != cell_name(0, {"network.kind": "ring", "seed": 2})
    assert a.startswith("0000_kind-ring_seed-1_")


def _cfg(tmp_path, **sweep):
    return ss.ExperimentConfig.from_dict(
        {
            "name": "sw",
            "steps": 3,
            "population": {"size": 40},
            "network": {"kind": "ring", "params": {"barabasi_albert": {"m": 2}}},
            "agents": {
                "policy": "independent_cascade",
                "params": {"p": 0.5, "initial": "seeded", "seed_fraction": 0.05},
            },
            "claims": [{"id": "c1", "text": "The river is poisoned."}],
            "output": {"dir": str(tmp_path / "runs"), "formats": ["jsonl"], "report": False},
            "sweep": sweep or {"network.kind": ["ring", "barabasi_albert"], "seed": [1, 2]},
        }
    )


@pytest.mark.slow
def test_serial_sweep_writes_tidy_results_and_resumes(tmp_path):
    cfg = _cfg(tmp_path)
    out = tmp_path / "sweep"
    table = ss.sweep(cfg, out=out, executor="serial", report=False)
    assert list(table.columns[:5]) == ["cell", "network.kind", "seed", "status", "error"]
    assert len(table) == 4 and (table["status"] == "ok").all()
    assert "claims.c1.adoption_all.final_reach" in table.columns
    on_disk = pd.read_csv(out / "results.csv")
    assert len(on_disk) == 4 and (out / "results.parquet").exists()
    assert len(list((out / "cells").iterdir())) == 4
    # a rerun skips finished cells: their run directories are not touched
    marker = next((out / "cells").iterdir()) / "events.jsonl"
    mtime = marker.stat().st_mtime_ns
    again = ss.sweep(cfg, out=out, executor="serial", report=False)
    assert marker.stat().st_mtime_ns == mtime
    pd.testing.assert_frame_equal(
        again.drop(columns="run_dir"), table.drop(columns="run_dir"), check_dtype=False
    )


def test_a_grid_key_with_numbers_and_words_writes_both_results_tables(tmp_path):
    """``initial: [0.5, seeded]`` mixes a number and a keyword in one column: the Parquet
    table holds it as text (one type per column), the CSV as written, and a rerun resumes."""
    cfg = _cfg(tmp_path, **{"agents.params.initial": [0.5, "seeded"], "seed": [1]})
    out = tmp_path / "sweep"
    table = ss.sweep(cfg, out=out, executor="serial", report=True)
    assert (table["status"] == "ok").all() and (out / "report.html").is_file()
    stored = pd.read_parquet(out / "results.parquet")
    assert stored["agents.params.initial"].tolist() == ["0.5", "seeded"]
    assert pd.read_csv(out / "results.csv")["agents.params.initial"].tolist() == ["0.5", "seeded"]
    again = ss.sweep(cfg, out=out, executor="serial", report=False)
    assert again["agents.params.initial"].tolist() == [0.5, "seeded"]


@pytest.mark.slow
def test_an_interrupted_cell_is_run_again(tmp_path):
    cfg = _cfg(tmp_path, seed=[1, 2])
    out = tmp_path / "sweep"
    ss.sweep(cfg, out=out, executor="serial", report=False)
    cell = sorted((out / "cells").iterdir())[1]
    (cell / DONE_MARKER).unlink()  # as if the process died before finishing the cell
    table = ss.sweep(cfg, out=out, executor="serial", report=False)
    assert (table["status"] == "ok").all() and (cell / DONE_MARKER).exists()


def test_a_sweep_directory_is_not_resumed_with_another_config(tmp_path):
    cfg = _cfg(tmp_path, seed=[1])
    out = tmp_path / "sweep"
    first = ss.sweep(cfg, out=out, executor="serial", report=False)
    record = (out / "sweep.json").read_bytes()
    changed = cfg.with_overrides({"steps": 5, "agents.params.p": 0.9})
    with pytest.raises(ConfigError) as err:
        ss.sweep(changed, out=out, executor="serial", report=False)
    assert str(err.value) == (
        f"sweep directory {str(out)!r} holds a sweep of another config (steps: 3 there, 5 "
        "now); give a new directory (--out), or remove this one to start again"
    )
    assert (out / "sweep.json").read_bytes() == record  # nothing rewritten
    # another grid is another sweep too; the same config and grid resume
    with pytest.raises(
        ConfigError, match=r"another config \(sweep.seed: \[1\] there, \[1, 2\] now"
    ):
        ss.sweep(cfg, grid={"seed": [1, 2]}, out=out, executor="serial", report=False)
    table = ss.sweep(cfg, out=out, executor="serial", report=False)
    assert list(table["seed"]) == [1] and table.loc[0, "run_dir"] == first.loc[0, "run_dir"]
    assert (out / "sweep.json").read_bytes() == record


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"seed": 3}, "sweep grid: seed: 3 must be a list of values, e.g. [1, 2]"),
        ({"network.kind": "ring"}, "sweep grid: network.kind: 'ring' must be a list of values"),
        ({"seed": []}, "sweep grid: seed has no values; give at least one"),
        ([1, 2], "sweep grid: [1, 2] must be a mapping"),
    ],
)
def test_a_grid_from_python_that_is_no_grid_is_refused(tmp_path, grid, message):
    with pytest.raises(ConfigError) as err:
        ss.sweep(_cfg(tmp_path), grid=grid, out=tmp_path / "s", executor="serial")
    assert str(err.value).startswith(message)
    assert not (tmp_path / "s").exists()


def test_a_grid_of_numpy_values_is_the_grid_of_their_numbers(tmp_path):
    import numpy as np

    table = ss.sweep(_cfg(tmp_path), grid={"seed": np.arange(1, 3)}, out=tmp_path / "s",
                     executor="serial", report=False)  # fmt: skip
    assert list(table["seed"]) == [1, 2]
    names = sorted(p.name for p in (tmp_path / "s" / "cells").iterdir())
    assert names == [cell_name(0, {"seed": 1}), cell_name(1, {"seed": 2})]


def test_a_failing_cell_is_recorded_and_others_run(tmp_path):
    cfg = _cfg(tmp_path, **{"network.kind": ["ring", "file"]})
    table = ss.sweep(cfg, out=tmp_path / "s", executor="serial", report=False)
    assert list(table["status"]) == ["ok", "failed"]
    assert "network.params.path" in table.loc[1, "error"]


def test_the_command_line_exits_1_when_a_cell_failed_and_0_once_none_did(tmp_path):
    from tests.cli_in_process import run_cli

    def sweep_of(kinds: str, out: Path):
        config = tmp_path / f"{out.name}.yaml"
        config.write_text(
            "name: sw\nsteps: 2\npopulation: {size: 20}\nnetwork: {kind: ring}\n"
            "agents: {policy: degroot}\nclaims: [{id: c1, text: The river is poisoned.}]\n"
            f"output: {{report: false}}\nsweep: {{network.kind: {kinds}, seed: [1]}}\n"
        )
        return run_cli("sweep", str(config), "--out", str(out), "--executor", "serial", "-q")

    failing = sweep_of("[ring, file]", tmp_path / "a")
    assert failing.code == 1
    assert "1 of 2 cells failed" in failing.err_lines[-1] and "Traceback" not in failing.err
    assert "network.params.path" in failing.out
    assert sweep_of("[ring, complete]", tmp_path / "b").code == 0


def test_a_wrong_persona_spec_is_refused_with_the_config_not_in_each_cell(tmp_path):
    from tests.cli_in_process import run_cli

    config = tmp_path / "c.yaml"
    config.write_text(
        "name: sw\nsteps: 2\npopulation: {size: 20, personas: {age: {normal: [40]}}}\n"
        "agents: {policy: degroot}\nclaims: [{id: c1, text: The river is poisoned.}]\n"
        "sweep: {seed: [1, 2]}\n"
    )
    done = run_cli("sweep", str(config), "--out", str(tmp_path / "s"), "--executor", "serial")
    assert done.code == 2 and len(done.err_lines) == 1
    assert "population.personas.age" in done.err_lines[0]
    assert not (tmp_path / "s").exists()


def test_bad_executor_and_bad_cell_fail_before_running(tmp_path):
    with pytest.raises(ConfigError, match="--executor 'gpu'"):
        ss.sweep(_cfg(tmp_path), out=tmp_path / "s", executor="gpu")
    with pytest.raises(ConfigError, match="network.kind"):
        ss.sweep(_cfg(tmp_path, **{"network.kind": ["hexagonal"]}), out=tmp_path / "s2")
    assert not (tmp_path / "s2" / "cells").exists() or not any(
        (tmp_path / "s2" / "cells").iterdir()
    )


@pytest.mark.slow
def test_process_executor_matches_serial(tmp_path):
    cfg = _cfg(tmp_path)
    serial = ss.sweep(cfg, out=tmp_path / "a", executor="serial", report=False)
    procs = ss.sweep(cfg, out=tmp_path / "b", executor="processes", workers=2, report=False)
    cols = [c for c in serial.columns if c != "run_dir"]
    pd.testing.assert_frame_equal(serial[cols], procs[cols])


@pytest.mark.ray
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs the ray extra")
@pytest.mark.slow
def test_ray_executor_matches_processes(tmp_path):
    import ray

    cfg = _cfg(tmp_path)
    procs = ss.sweep(cfg, out=tmp_path / "a", executor="processes", workers=2, report=False)
    try:
        on_ray = ss.sweep(cfg, out=tmp_path / "b", executor="ray", workers=2, report=False)
    finally:
        ray.shutdown()
    cols = [c for c in procs.columns if c != "run_dir"]
    pd.testing.assert_frame_equal(procs[cols], on_ray[cols])
