"""A run directory from someone else: reading it runs none of its code (checkpoints are data,
plugins are imported only with --plugins), and directories left by kills say what to do."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

import socialsim as ss
from socialsim.cli import main
from socialsim.core.registry import PluginsNotTrusted
from socialsim.dashboard.target import resolve_target
from socialsim.experiments import checkpoint
from socialsim.experiments.checkpoint import CHECKPOINT, LEGACY, SNAPSHOTS
from tests.simulation.test_resume import CONFIG, same_run


class Stop(BaseException):
    """Stands for a kill between two steps."""


def stop_after(step: int):
    def on_step(model) -> None:
        if model.steps == step:
            raise Stop

    return on_step


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run the command line in this process: exit code, stdout, stderr."""
    capsys.readouterr()
    argv = sys.argv
    sys.argv = ["socialsim", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
    out, err = capsys.readouterr()
    return code, out, err


def checksums(root: Path, skip: Path | None = None) -> dict[str, str]:
    """sha256 of every file under `root`, except those under `skip`."""
    sums = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and (skip is None or skip not in path.parents):
            sums[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A whole run and the same run killed after step 3 (with a checkpoint after every step)."""
    root = tmp_path_factory.mktemp("runs")
    cfg = ss.ExperimentConfig.from_dict(CONFIG)
    whole = ss.run(cfg, out=root / "whole").dir
    saved = checkpoint.COST_FACTOR
    checkpoint.COST_FACTOR = 0.0
    try:
        with pytest.raises(Stop):
            ss.run(cfg, out=root / "killed", on_step=stop_after(3))
    finally:
        checkpoint.COST_FACTOR = saved
    assert (root / "killed" / CHECKPOINT).is_file()
    return whole, root / "killed"


# --- checkpoints are data --------------------------------------------------------------------


class MemmapOver:
    """A pickle that, read, maps a file into memory in write mode (creating or zeroing it)."""

    def __init__(self, victim: Path) -> None:
        self.victim = victim

    def __reduce__(self):
        return (np.memmap, (str(self.victim), np.uint8, "w+", 0, (64,)))


class ShellCommand:
    """A pickle that, read, runs a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class PoolWithPlugin:
    """A pickle that, read, starts socialsim's sweep worker pool, which imports a .py file."""

    def __init__(self, plugin: Path) -> None:
        self.plugin = plugin

    def __reduce__(self):
        from socialsim.experiments.sweep_workers import WorkerPool

        return (WorkerPool, (1, [str(self.plugin)]))


def payloads(tmp: Path) -> dict[str, bytes]:
    victim = tmp / "victim.bin"
    victim.write_bytes(b"precious data " * 8)
    plugin = tmp / "planted_plugin.py"
    plugin.write_text(f"open({str(tmp / 'plugin-ran')!r}, 'w').close()\n")
    return {
        "memmap": pickle.dumps(MemmapOver(victim), protocol=5),
        "memmap-new": pickle.dumps(MemmapOver(tmp / "created.bin"), protocol=5),
        "shell": pickle.dumps({"state": ShellCommand(tmp / "shell-ran")}, protocol=5),
        "pool": pickle.dumps({"state": PoolWithPlugin(plugin)}, protocol=5),
    }


@pytest.mark.parametrize("name", [LEGACY, CHECKPOINT, SNAPSHOTS, CHECKPOINT + ".partial"])
@pytest.mark.slow
def test_a_planted_pickle_runs_nothing_and_changes_no_file(tmp_path, runs, capsys, name):
    whole, killed = runs
    around = tmp_path / "around"
    around.mkdir()
    planted = payloads(around)
    for kind, data in planted.items():
        run_dir = tmp_path / f"run-{kind}"
        shutil.copytree(killed, run_dir)
        if name == LEGACY:  # a directory of an older version has no checkpoint.npz
            (run_dir / CHECKPOINT).unlink()
        (run_dir / name).write_bytes(data)
        before = checksums(tmp_path, skip=run_dir)
        code, _, err = cli(capsys, "run", "--resume", str(run_dir), "-q", "--no-report")
        assert code == 0, err
        assert checksums(tmp_path, skip=run_dir) == before  # nothing around changed
        ran = {"shell-ran", "plugin-ran", "created.bin"} & {p.name for p in around.iterdir()}
        assert not ran, (kind, ran)
        lines = err.strip().splitlines()
        assert "Traceback" not in err and len(lines) <= 1, err
        if name in (LEGACY, CHECKPOINT):
            assert len(lines) == 1 and "replaying the run instead" in lines[0]
        same_run(whole, run_dir)  # replayed (or, past a bad snapshots file, refused)
        assert not any(p.name.startswith("checkpoint") for p in run_dir.iterdir())


def test_np_load_of_a_planted_checkpoint_refuses_the_pickle(tmp_path, runs):
    from socialsim.experiments.checkpoint import CheckpointError, read_header

    run_dir = tmp_path / "run"
    shutil.copytree(runs[1], run_dir)
    (run_dir / CHECKPOINT).write_bytes(payloads(tmp_path)["shell"])
    with pytest.raises(CheckpointError, match="does not read"):
        read_header(run_dir)
    assert not (tmp_path / "shell-ran").exists()


# --- plugins only when the user asks ---------------------------------------------------------


def with_plugin(run_dir: Path, tmp: Path, label: str) -> Path:
    """Name a fresh plugin file in `run_dir`'s config.yaml; the marker it writes if imported."""
    marker = tmp / f"imported-{label}"
    plugin = tmp / f"plugin_{label}.py"
    plugin.write_text(f"open({str(marker)!r}, 'w').close()\n")
    path = run_dir / "config.yaml"
    data = yaml.safe_load(path.read_text())
    data["plugins"] = [str(plugin)]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return marker


def one_line(err: str, *words: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.mark.slow
def test_resume_imports_plugins_only_with_the_option(tmp_path, runs, capsys):
    whole, killed = runs
    finished = tmp_path / "finished"
    shutil.copytree(whole, finished)
    marker = with_plugin(finished, tmp_path, "finished")
    code, _, err = cli(capsys, "run", "--resume", str(finished))
    assert code == 2 and not marker.exists()
    one_line(err, "finished run")
    run_dir = tmp_path / "killed"
    shutil.copytree(killed, run_dir)
    marker = with_plugin(run_dir, tmp_path, "resume")
    # naming a plugin edits config.yaml, which its checkpoint would refuse (tested apart):
    # without the checkpoint the resume replays the run, and the plugins are the question
    for name in (CHECKPOINT, SNAPSHOTS):
        (run_dir / name).unlink()
    code, _, err = cli(capsys, "run", "--resume", str(run_dir), "-q", "--no-report")
    assert code == 2 and not marker.exists()
    one_line(err, "plugin_resume.py", "--plugins", "Python code")
    code, _, err = cli(capsys, "run", "--resume", str(run_dir), "-q", "--no-report", "--plugins")
    assert code == 0, err
    assert marker.exists()
    same_run(whole, run_dir)


@pytest.mark.slow
def test_analyze_needs_the_option_report_export_and_a_replay_go_on_without(tmp_path, runs, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(runs[0], run_dir)
    marker = with_plugin(run_dir, tmp_path, "read")
    summary = (run_dir / "summary.json").read_bytes()
    code, _, err = cli(capsys, "analyze", str(run_dir))
    assert code == 2 and not marker.exists()
    one_line(err, "plugin_read.py", "--plugins", "analyze")
    assert (run_dir / "summary.json").read_bytes() == summary  # nothing half-written
    for command in (["report"], ["export", "--what", "transcripts"]):
        code, _, err = cli(capsys, *command, str(run_dir))
        assert code == 0, err
        one_line(err, "plugin_read.py", "not imported", "--plugins")
    assert (run_dir / "report.html").is_file() and (run_dir / "transcripts").is_dir()
    with pytest.warns(RuntimeWarning, match="not imported"):
        assert resolve_target(run_dir).kind == "replay"
    with pytest.raises(PluginsNotTrusted, match="--plugins to dashboard"):
        resolve_target(run_dir / "config.yaml")
    assert not marker.exists()
    code, _, err = cli(capsys, "analyze", str(run_dir), "--plugins")
    assert code == 0, err
    assert marker.exists()
    marker = with_plugin(run_dir, tmp_path, "dashboard")
    assert resolve_target(run_dir / "config.yaml", plugins=True).kind == "config"
    assert marker.exists()


def test_the_notices_are_shown_whatever_the_warning_filters_say(tmp_path, capsys):
    small = {**CONFIG, "population": {"size": 10}, "output": {"report": False}}
    run_dir = ss.run(ss.ExperimentConfig.from_dict(small), out=tmp_path / "run").dir
    marker = with_plugin(run_dir, tmp_path, "quiet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as -W ignore or PYTHONWARNINGS=ignore would
        code, _, err = cli(capsys, "report", str(run_dir))
    assert code == 0, err
    one_line(err, "warning:", "plugin_quiet.py", "not imported", "--plugins")
    assert not marker.exists()


def test_a_config_loaded_without_plugins_imports_none(tmp_path):
    marker = tmp_path / "imported"
    plugin = tmp_path / "plugin_load.py"
    plugin.write_text(f"open({str(marker)!r}, 'w').close()\n")
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "plugins": [str(plugin)]}))
    with pytest.raises(PluginsNotTrusted, match="plugin_load.py"):
        ss.ExperimentConfig.from_yaml(path, plugins=False)
    assert not marker.exists()
    ss.ExperimentConfig.from_yaml(path)
    assert marker.exists()


# --- kills and stops -------------------------------------------------------------------------


@pytest.mark.slow
def test_a_directory_killed_during_set_up_is_recognised_and_run_into_again(tmp_path, runs, capsys):
    whole, _ = runs
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    out = tmp_path / "set-up"
    out.mkdir()
    log = (whole / "events.jsonl").read_bytes()
    (out / "events.jsonl").write_bytes(log[: len(log) // 50])  # the set-up's torn log
    code, _, err = cli(capsys, "run", "--resume", str(out))
    assert code == 2
    one_line(err, "set-up", "run the config again")
    code, _, err = cli(capsys, "run", str(config), "--out", str(out), "-q", "--no-report")
    assert code == 0, err
    same_run(whole, out)


def test_resume_of_an_empty_or_foreign_directory_says_so_in_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = cli(capsys, "run", "--resume", str(empty))
    assert code == 2
    one_line(err, "empty", "socialsim run")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    code, _, err = cli(capsys, "run", "--resume", str(foreign))
    assert code == 2
    one_line(err, "not a run directory")
    code, _, err = cli(capsys, "run", "--resume", str(tmp_path / "absent"))
    assert code == 2
    one_line(err, "not a directory")
    assert (foreign / "notes.txt").read_text() == "mine"


@pytest.mark.slow
def test_the_replay_warning_only_when_it_differs_and_naming_a_file(tmp_path, runs, capsys):
    whole, killed = runs
    from_checkpoint = tmp_path / "from-checkpoint"
    shutil.copytree(killed, from_checkpoint)
    code, _, err = cli(capsys, "run", "--resume", str(from_checkpoint), "-q", "--no-report")
    assert code == 0 and "differs" not in err and err.strip() == "", err
    differs = tmp_path / "differs"
    shutil.copytree(killed, differs)
    for name in (CHECKPOINT, SNAPSHOTS):
        (differs / name).unlink()
    log = differs / "events.jsonl"
    log.write_text(log.read_text().replace('"step": 1,', '"step": 9,', 1))
    code, _, err = cli(capsys, "run", "--resume", str(differs), "-q", "--no-report")
    assert code == 0, err
    line = one_line(err, "differs", "kept as")
    kept = Path(line.rsplit("kept as ", 1)[1].strip())
    assert kept.is_file() and kept.parent == differs


def test_a_received_config_needs_the_option_wherever_socialsim_wrote_it(tmp_path, capsys):
    """The config.yaml of a killed arms run (no summary.json anywhere), of a killed run (a
    log and a checkpoint only) or of a sweep's cell is someone else's: running it, or
    opening it in the dashboard, imports its plugins only with --plugins."""
    small = {**CONFIG, "population": {"size": 10}, "output": {"report": False}}
    arms = tmp_path / "arms"
    ss.run(ss.ExperimentConfig.from_dict({**small, "control": True}), out=arms)
    for name in ("summary.json", "results.csv", "results.parquet", "report.html"):
        (arms / name).unlink(missing_ok=True)
    for run in (arms / "treatment").iterdir():
        (run / "summary.json").unlink()  # as if killed before any arm finished
    killed = tmp_path / "killed"
    killed.mkdir()
    (killed / "events.jsonl").write_text("")
    (killed / CHECKPOINT).write_bytes(b"")
    shutil.copy(arms / "config.yaml", killed / "config.yaml")
    for folder in (arms, killed, next((arms / "treatment").iterdir())):
        marker = with_plugin(folder, tmp_path, folder.name)
        with pytest.raises(PluginsNotTrusted, match="--plugins to dashboard"):
            resolve_target(folder / "config.yaml")
        out = tmp_path / f"again-{folder.name}"
        code, _, err = cli(capsys, "run", str(folder / "config.yaml"), "--out", str(out), "-q")
        assert code == 2 and not marker.exists() and not out.exists()
        one_line(err, f"plugin_{folder.name}.py", "--plugins to run")
    # a config of the user's own, beside nothing socialsim wrote, is theirs to run
    own = tmp_path / "mine"
    own.mkdir()
    shutil.copy(arms / "config.yaml", own / "config.yaml")
    marker = with_plugin(own, tmp_path, "own")
    code, _, err = cli(capsys, "run", str(own / "config.yaml"), "--out", str(tmp_path / "o"), "-q")
    assert code == 0 and marker.exists(), err
