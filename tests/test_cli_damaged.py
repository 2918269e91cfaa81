"""Damaged directories, refused writes, keys in URLs: one line, exit 2, nothing rewritten."""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.cli_in_process import run_cli

CONFIG = (
    "name: d\nseed: 3\nsteps: 3\npopulation: {size: 30}\n"
    "network: {kind: watts_strogatz, params: {k: 4, p: 0.1}}\n"
    "agents: {policy: independent_cascade, params: {p: 0.3}}\n"
    "scenario: {kind: misinformation, params: {claim: australia_capital, "
    "attackers: {count: 2, strategy: random}, probe_steps: [3], probe_distances: [direct]}}\n"
)


def digests(root: Path) -> dict[str, str]:
    """Every file under `root` and its content's hash."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A run and an arms directory (3 seeds, with control) of a rule config."""
    root = tmp_path_factory.mktemp("made")
    (root / "c.yaml").write_text(CONFIG)
    assert run_cli("run", "c.yaml", "-q", "--out", "run", cwd=root).code == 0
    arms = run_cli("run", "c.yaml", "-q", "--no-report", "--control", "--replicates", "3",
                   "--out", "arms", cwd=root)  # fmt: skip
    assert arms.code == 0, arms.err
    return root


def damaged_copy(made: Path, tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(made / name, tmp_path / name))


def refused(result, *says: str) -> None:
    assert result.code == 2, result.err
    assert len(result.err_lines) == 1 and "Traceback" not in result.err
    for said in says:
        assert said in result.err


def test_analyze_refuses_arms_with_a_run_missing_its_config_and_rewrites_nothing(made, tmp_path):
    arms = damaged_copy(made, tmp_path, "arms")
    (arms / "treatment" / "s4" / "config.yaml").unlink()
    before = digests(arms)
    done = run_cli("analyze", "arms", cwd=tmp_path)  # a short path: messages clip long ones
    refused(done, "'arms/treatment/s4' is missing config.yaml", "nothing was rewritten")
    assert digests(arms) == before
    shutil.rmtree(arms / "control" / "s5")
    refused(run_cli("analyze", "arms", cwd=tmp_path), "is missing the runs control/s5")


def test_analyze_refuses_a_run_whose_log_was_cut(made, tmp_path):
    run = damaged_copy(made, tmp_path, "run")
    log = run / "events.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[: len(lines) // 2]))
    for name in ("events.parquet", "events.csv"):
        (run / name).unlink(missing_ok=True)
    before = digests(run)
    done = run_cli("analyze", str(run))
    refused(done, f"its event log holds {len(lines) // 2} events, but its summary.json counted "
                  f"{len(lines)}")  # fmt: skip
    assert digests(run) == before


def test_plan_and_report_say_which_file_is_damaged(made, tmp_path):
    cut = damaged_copy(made, tmp_path, "arms")
    with open(cut / "results.csv", "a") as fh:
        fh.write('garbage,"\n')
    for command in (("plan", str(cut), "--effect", "0.1"), ("report", str(cut))):
        refused(run_cli(*command), "cannot be read (ParserError", "restore it")
    (cut / "summary.json").write_text("{bad")
    (cut / "results.csv").write_bytes((made / "arms" / "results.csv").read_bytes())
    refused(run_cli("plan", str(cut), "--effect", "0.1"), "cannot be read (JSONDecodeError")
    (cut / "summary.json").unlink()
    refused(run_cli("plan", str(cut), "--effect", "0.1"), "has no summary.json")


def test_a_refused_write_is_the_machines_not_a_fault(made, tmp_path, monkeypatch):
    run = damaged_copy(made, tmp_path, "run")
    real = Path.write_text

    def read_only(self, *args, **kwargs):
        if self.name.startswith("summary.json"):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", read_only)
    refused(run_cli("analyze", str(run)), "summary.json", "Permission denied",
            "check its permissions, or write elsewhere (--out)")  # fmt: skip


def test_export_never_replaces_a_file_without_force(made, tmp_path):
    run = damaged_copy(made, tmp_path, "run")
    for what, path in (("gexf", run / "graph.gexf"), ("transcripts", run / "transcripts")):
        assert run_cli("export", str(run), "--what", what).code == 0
        mine = path / "notes.md" if path.is_dir() else path
        mine.write_text("MY NOTES")
        done = run_cli("export", "run", "--what", what, cwd=tmp_path)
        refused(done, f"'run/{path.name}' exists; pass --force")
        assert mine.read_text() == "MY NOTES"
        assert run_cli("export", str(run), "--what", what, "--force").code == 0


def test_a_key_in_the_endpoint_url_is_written_nowhere(tmp_path):
    (tmp_path / "c.yaml").write_text(CONFIG + "sweep: {seed: [1, 2]}\n")
    base = "agents.llm.api_base=http://{}127.0.0.1:9/v1{}"
    keys = (base.format("", "?api_key=sk-LEAKEDKEY1234567890"), base.format("me:hunter2pass@", ""))
    for i, key in enumerate(keys):
        assert (
            run_cli("run", "c.yaml", "-q", "--out", f"r{i}", "--set", key, cwd=tmp_path).code == 0
        )
        done = run_cli("sweep", "c.yaml", "-q", "--out", f"s{i}", "--executor", "serial",
                       "--set", key, cwd=tmp_path)  # fmt: skip
        assert done.code == 0, done.err
        # the same sweep again: its record compares equal, keys redacted on both sides
        again = run_cli("sweep", "c.yaml", "-q", "--out", f"s{i}", "--executor", "serial",
                        "--set", key, cwd=tmp_path)  # fmt: skip
        assert again.code == 0, again.err
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "c.yaml"]
    assert any(p.name == "sweep.json" for p in written) and any(
        p.name == "report.html" for p in written
    )
    for path in written:
        data = path.read_bytes()
        assert b"LEAKEDKEY" not in data and b"hunter2pass" not in data, path
    assert "me:[redacted]@127.0.0.1" in (tmp_path / "r1" / "config.yaml").read_text()


def test_a_sweep_over_lists_and_mappings_prints_its_cells(tmp_path):
    (tmp_path / "c.yaml").write_text(
        CONFIG + "sweep:\n  network.params: [{k: 4, p: 0.1}, {k: 6, p: 0.2}]\n"
    )
    done = run_cli("sweep", "c.yaml", "-q", "--out", "s", "--executor", "serial", cwd=tmp_path)
    assert done.code == 0, done.err
    assert '{"k": 4, "p": 0.1}' in done.out and '{"k": 6, "p": 0.2}' in done.out


def test_a_dotted_sweep_key_can_be_set_from_the_command_line(tmp_path):
    (tmp_path / "c.yaml").write_text(CONFIG)
    done = run_cli("sweep", "c.yaml", "-q", "--out", "s", "--executor", "serial",
                   "--set", "sweep.agents.params.p=[0.1, 0.3]", cwd=tmp_path)  # fmt: skip
    assert done.code == 0, done.err
    grid = json.loads((tmp_path / "s" / "sweep.json").read_text())["grid"]
    assert grid == {"agents.params.p": [0.1, 0.3]}
    refused(run_cli("plan", str(tmp_path / "s"), "--effect", "0.1"), "is a sweep directory")
