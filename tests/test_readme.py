"""The README's Quickstart has exactly two commands, and CI runs the second one verbatim."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def test_quickstart_has_two_single_line_commands():
    commands = quickstart_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert "socialsim run examples/quickstart.yaml" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert quickstart_commands()[1] in ci


def test_quickstart_example_exists_and_validates():
    from socialsim.simulation.config import ExperimentConfig

    cfg = ExperimentConfig.from_yaml(ROOT / "examples" / "quickstart.yaml")
    assert cfg.agents.policy == "llm" and cfg.agents.llm.model == "local/smollm2"


@pytest.mark.slow
def test_the_python_snippet_runs_as_written(tmp_path, monkeypatch):
    import shutil

    text = (ROOT / "README.md").read_text()
    section = text.split("## From Python", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "quickstart.yaml", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)  # the snippet's relative paths, and its run directory
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README's own snippet
    run, rows = scope["run"], scope["rows"]
    assert str(run.dir) == "runs/quickstart-s7" and (tmp_path / run.dir / "summary.json").is_file()
    assert 0.0 <= run.summary["headline"][0]["value"] <= 1.0
    assert len(rows) == 4 and all(r["time"] == 10.0 for r in rows)
    assert {r["policy"] for r in rows} == {"degroot", "voter"}
