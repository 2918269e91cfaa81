"""`socialsim run --resume` from a checkpoint refuses a config.yaml edited since the run began."""

from __future__ import annotations

from pathlib import Path

import pytest

import socialsim as ss
from socialsim.core.errors import ConfigError
from socialsim.experiments.checkpoint import CHECKPOINT, config_digest, read_header
from socialsim.experiments.resume import resume
from tests.cli_in_process import run_cli
from tests.simulation.test_checkpoint import Stop, stop_after
from tests.simulation.test_resume import same_run

DEFFUANT = {
    "name": "edited",
    "seed": 4,
    "steps": 6,
    "population": {"size": 80},
    "network": {"kind": "barabasi_albert", "params": {"m": 2}},
    "agents": {"policy": "deffuant", "params": {"epsilon": 0.2}},
    "claims": [{"id": "c1", "text": "The river is poisoned.", "truth": False}],
    "output": {"report": False},
}


@pytest.fixture
def every_step(monkeypatch):
    """A checkpoint after every step, whatever it costs."""
    from socialsim.experiments import checkpoint

    monkeypatch.setattr(checkpoint, "COST_FACTOR", 0.0)


def stopped(tmp_path: Path, name: str = "cut") -> Path:
    """A deffuant run stopped after step 2, with a checkpoint taken then."""
    cut = tmp_path / name
    with pytest.raises(Stop):
        ss.run(ss.ExperimentConfig.from_dict(DEFFUANT), out=cut, on_step=stop_after(2))
    assert read_header(cut)["step"] == 2
    return cut


def contents(run_dir: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of `run_dir` with its bytes and modification time."""
    return {
        str(p.relative_to(run_dir)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
    }


def test_the_checkpoint_keeps_the_digest_of_the_config_the_run_wrote(tmp_path, every_step):
    cut = stopped(tmp_path)
    text = (cut / "config.yaml").read_text(encoding="utf-8")
    assert read_header(cut)["config_sha256"] == config_digest(text)


def test_an_edited_config_is_refused_from_the_cli_with_nothing_changed(tmp_path, every_step):
    cut = stopped(tmp_path)
    config = cut / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert "epsilon: 0.2" in text
    config.write_text(text.replace("epsilon: 0.2", "epsilon: 0.9"), encoding="utf-8")
    before = contents(cut)
    done = run_cli("run", "--resume", str(cut), "-q", "--no-report")
    assert done.code == 2, done.err
    assert len(done.err_lines) == 1, done.err
    line = done.err_lines[0]
    assert "config.yaml" in line and "changed since the run started" in line
    assert "restore it" in line and "new directory" in line
    assert contents(cut) == before
    assert not (cut / "summary.json").exists() and (cut / CHECKPOINT).exists()


@pytest.mark.slow
def test_a_restored_config_resumes_to_the_uninterrupted_run(tmp_path, every_step):
    whole = ss.run(ss.ExperimentConfig.from_dict(DEFFUANT), out=tmp_path / "whole").dir
    cut = stopped(tmp_path)
    config = cut / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "# a note\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="changed since the run started"):
        resume(cut)
    config.write_text(text, encoding="utf-8")
    done = resume(cut)
    assert done.summary["run"]["resumed"] == {"from_checkpoint_at_step": 2}
    same_run(whole, cut)


@pytest.mark.slow
def test_a_resumed_run_keeps_the_digest_for_its_next_checkpoints(tmp_path, every_step):
    cut = stopped(tmp_path)
    digest = read_header(cut)["config_sha256"]
    with pytest.raises(Stop):
        resume(cut, on_step=stop_after(4))
    assert read_header(cut)["step"] == 4 and read_header(cut)["config_sha256"] == digest
    config = cut / "config.yaml"
    config.write_text(config.read_text().replace("epsilon: 0.2", "epsilon: 0.9"))
    with pytest.raises(ConfigError, match="changed since the run started"):
        resume(cut)
