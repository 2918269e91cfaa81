"""`socialsim run --resume`: a killed run finishes in place, equal to an uninterrupted one."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import socialsim as ss
from socialsim.core.errors import ConfigError
from socialsim.experiments.resume import INTERRUPTED, resume

CONFIG = {
    "name": "res",
    "seed": 3,
    "steps": 6,
    "population": {"size": 60},
    "network": {"kind": "barabasi_albert", "params": {"m": 2}},
    "agents": {"policy": "voter", "activation": "fraction", "activation_fraction": 0.5},
    "scenario": {
        "kind": "misinformation",
        "params": {
            "claim": "australia_capital",
            "attackers": {"count": 3},
            "remove_attackers_at": 4,
        },
    },
    "output": {"report": False},
}


def cut(run: Path, into: Path, keep: float) -> None:
    """A copy of the start of `run` as a kill would leave it: config and a torn log."""
    into.mkdir(parents=True)
    shutil.copy(run / "config.yaml", into / "config.yaml")
    log = (run / "events.jsonl").read_bytes()
    (into / "events.jsonl").write_bytes(log[: int(len(log) * keep)])  # ends mid-line


def same_run(a: Path, b: Path) -> None:
    assert (a / "events.jsonl").read_bytes() == (b / "events.jsonl").read_bytes()
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "agents.parquet"), pd.read_parquet(b / "agents.parquet")
    )
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    assert sa["measures"] == sb["measures"] and sa["headline"] == sb["headline"]


@pytest.mark.slow
@pytest.mark.parametrize("keep", [0.0, 0.37, 0.999])
def test_a_cut_run_resumes_to_the_uninterrupted_one(tmp_path, keep):
    cfg = ss.ExperimentConfig.from_dict(CONFIG)
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    cut(whole, tmp_path / "cut", keep)
    done = resume(tmp_path / "cut")
    same_run(whole, tmp_path / "cut")
    assert done.summary["run"]["resumed"]["matched"] is True
    assert not (tmp_path / "cut" / INTERRUPTED).exists()


@pytest.mark.slow
def test_a_replay_that_differs_keeps_the_old_log(tmp_path):
    whole = ss.run(ss.ExperimentConfig.from_dict(CONFIG), out=tmp_path / "whole").dir
    cut(whole, tmp_path / "cut", 0.5)
    log = tmp_path / "cut" / "events.jsonl"
    log.write_text(log.read_text().replace('"step": 1,', '"step": 9,', 1))
    done = resume(tmp_path / "cut")
    assert done.summary["run"]["resumed"]["matched"] is False
    assert (tmp_path / "cut" / INTERRUPTED).exists()


@pytest.mark.slow
def test_arms_resume_every_unfinished_run_and_keep_the_finished(tmp_path):
    cfg = ss.ExperimentConfig.from_dict({**CONFIG, "control": True, "replicates": 2})
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    part = tmp_path / "part"
    shutil.copytree(whole, part)
    for name in ("summary.json", "results.csv", "results.parquet"):
        (part / name).unlink()
    finished = (part / "treatment" / "s3" / "summary.json").read_text()
    shutil.rmtree(part / "control" / "s3")
    shutil.rmtree(part / "treatment" / "s4")
    cut(whole / "treatment" / "s4", part / "treatment" / "s4", 0.6)
    arms = resume(part)
    assert (part / "treatment" / "s3" / "summary.json").read_text() == finished
    for arm, seed in (("control", 3), ("treatment", 4), ("control", 4)):
        same_run(whole / arm / f"s{seed}", part / arm / f"s{seed}")
    pd.testing.assert_frame_equal(
        arms.results, pd.read_csv(whole / "results.csv"), check_dtype=False
    )
    assert (
        json.loads((part / "summary.json").read_text())["effects"]
        == json.loads((whole / "summary.json").read_text())["effects"]
    )


@pytest.mark.slow
def test_what_cannot_be_resumed_says_so(tmp_path):
    whole = ss.run(ss.ExperimentConfig.from_dict(CONFIG), out=tmp_path / "whole").dir
    with pytest.raises(ConfigError, match="finished run"):
        resume(whole)
    with pytest.raises(ConfigError, match="not a run directory"):
        resume(tmp_path)
    llm = ss.ExperimentConfig.from_dict(
        {"agents": {"policy": "llm", "llm": {"model": "openai/x", "cache": False}}}
    )
    (tmp_path / "l").mkdir()
    (tmp_path / "l" / "config.yaml").write_text(llm.to_yaml())
    with pytest.raises(ConfigError, match="agents.llm.cache: false"):
        resume(tmp_path / "l")


@pytest.mark.slow
def test_a_sigkilled_cli_run_resumes_from_the_cli(tmp_path):
    text = json.dumps({**CONFIG, "steps": 40, "population": {"size": 1500}})
    (tmp_path / "c.yaml").write_text(text)  # JSON is YAML
    code = "import sys; from socialsim.cli import main; sys.argv = ['socialsim', *sys.argv[1:]]; main()"
    args = [sys.executable, "-c", code]
    whole = subprocess.run([*args, "run", "c.yaml", "--out", "whole", "-q", "--no-report"], cwd=tmp_path, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    proc = subprocess.Popen([*args, "run", "c.yaml", "--out", "killed", "-q", "--no-report"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)  # fmt: skip
    log = tmp_path / "killed" / "events.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and (not log.exists() or log.stat().st_size < 100_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert not (tmp_path / "killed" / "summary.json").exists()
    blocked = subprocess.run([*args, "run", "c.yaml", "--out", "killed", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert blocked.returncode == 2 and "already holds a run" in blocked.stderr
    done = subprocess.run([*args, "run", "--resume", "killed", "-q", "--no-report"], cwd=tmp_path, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    same_run(tmp_path / "whole", tmp_path / "killed")
