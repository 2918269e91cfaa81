"""Every concrete `socialsim ...` command in the README and the documentation site's pages
works; those that need a model are checked to need one (an LLM policy), the rest are run as
written."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBCOMMANDS = ("run", "sweep", "analyze", "report", "export", "list", "llm", "version", "dashboard")
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]{1,}\b|\b[A-Z]\b|\[|\||\.\.\.")


DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def readme_commands() -> list[str]:
    """Commands in the README's and docs pages' code blocks and inline code, comments stripped."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in DOC_FILES)
    chunks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    chunks += re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    found: list[str] = []
    for chunk in chunks:
        chunk = re.sub(r"\\\n\s*", " ", chunk)  # continued lines
        for line in chunk.splitlines():
            for part in line.split("&&"):
                m = re.match(rf"\s*(socialsim (?:{'|'.join(SUBCOMMANDS)})\b[^#]*)", part)
                if m and m.group(1).strip() not in found:
                    found.append(m.group(1).strip())
    return found


def concrete(command: str) -> bool:
    """False for syntax lines (CONFIG, [--out DIR], a|b), a bare `socialsim run` and one whose
    first argument is an option (`socialsim run --resume` named in prose)."""
    argv = command.split()
    if argv[1] in ("run", "sweep", "analyze", "report", "export") and (
        len(argv) < 3 or argv[2].startswith("-")
    ):
        return False
    return not PLACEHOLDER.search(" ".join(argv[2:]))


def needs_model(argv: list[str]) -> bool:
    """True when the config (with its --set overrides) has LLM agents."""
    from socialsim.core.registry import POLICIES
    from socialsim.simulation.config import ExperimentConfig

    sets = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
    cfg = ExperimentConfig.from_yaml(ROOT / argv[2], overrides=sets)
    policies = [cfg.agents.policy, *(m.policy for m in cfg.agents.mix)]
    return any(POLICIES.get(p).sort == "deciding" for p in policies)


COMMANDS = [c for c in readme_commands() if concrete(c)]


def test_the_readme_has_commands_to_check():
    assert len(readme_commands()) >= 15
    runnable = [c for c in COMMANDS if shlex.split(c)[1] in ("run", "sweep", "list", "version")]
    assert len(runnable) >= 8


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.slow
def test_readme_command(command, tmp_path):
    argv = shlex.split(command)
    sub = argv[1]
    if sub == "dashboard":
        pytest.skip("serves a page until stopped; tests/dashboard loads it in a browser")
    if sub == "llm":
        pytest.skip("talks to a model endpoint")
    if sub in ("run", "sweep"):
        if needs_model(argv):
            assert "llm" in command or "examples/" in command
            pytest.skip("needs a model: the embedded-model tests run the LLM path")
        argv += ["--set", f"output.dir={tmp_path}", "-q"]
    code = "import sys; from socialsim.cli import main; sys.argv = sys.argv[1:]; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
