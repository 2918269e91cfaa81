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


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ("!!python/object/apply:os.system [echo hi]\n", "config.yaml"),
        ("name: a\nname: b\n", "config.yaml"),
        ("[" * 5000 + "]" * 5000 + "\n", "nesting depth"),
        ("- just\n- a list\n", "not a mapping of settings"),
    ],
)
def test_a_config_that_cannot_be_read_is_refused_not_read_as_empty(made, tmp_path, config, says):
    """A refused or unreadable config.yaml: analyze, report and export stop in one line (exit 2)
    and rewrite nothing; the plugin check reads it within the YAML limits too."""
    run = damaged_copy(made, tmp_path, "run")
    (run / "config.yaml").write_text(config)
    before = digests(run)
    for command in (["analyze"], ["report"], ["export", "--what", "transcripts"]):
        refused(run_cli(*command, "run", cwd=tmp_path), says)
    assert digests(run) == before


def test_analyze_of_a_killed_run_points_to_resume_and_writes_nothing(made, tmp_path):
    run = damaged_copy(made, tmp_path, "run")
    (run / "summary.json").unlink()
    (run / "checkpoint.npz").write_bytes(b"PK")  # a checkpoint, as a killed run keeps
    before = digests(run)
    refused(run_cli("analyze", "run", cwd=tmp_path), "killed before it finished", "--resume")
    assert digests(run) == before


@pytest.mark.parametrize(
    "link", ["report.html", "config.yaml", "figures", "tables", "figures/adoption.png"]
)
def test_a_link_in_a_received_run_is_neither_read_nor_written_through(made, tmp_path, link):
    """A symbolic link where socialsim reads or writes (the report, the config, figures/ or
    tables/ or a file in them) is refused in one line by every command; the file it points
    at, outside the directory, is neither copied into a page nor written over."""
    run = damaged_copy(made, tmp_path, "run")
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("hunter2\n")
    target = outside if link in ("figures", "tables") else secret
    path = run / link
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
    path.symlink_to(target)
    for command in (["analyze"], ["report"], ["export", "--what", "transcripts"]):
        refused(run_cli(*command, "run", cwd=tmp_path), "symbolic link", link.split("/")[0])
    assert secret.read_text() == "hunter2\n" and sorted(outside.iterdir()) == [secret]
    pages = [p for p in run.glob("*.html") if not p.is_symlink()]
    assert "hunter2" not in "".join(p.read_text(errors="ignore") for p in pages)


def test_a_linked_run_of_an_arms_directory_and_a_linked_export_are_refused(made, tmp_path):
    """An arm's run directory that links to a run elsewhere is neither analysed into nor
    reported into; an export's own file that links outside is not written through."""
    arms = damaged_copy(made, tmp_path, "arms")
    victim = tmp_path / "victim"
    shutil.move(arms / "treatment" / "s4", victim)
    (arms / "treatment" / "s4").symlink_to(victim)
    before = digests(victim)
    for command in (["analyze"], ["report"], ["export", "--what", "events"]):
        refused(run_cli(*command, "arms", cwd=tmp_path), "symbolic link", "treatment/s4")
    assert digests(victim) == before
    run = damaged_copy(made, tmp_path, "run")
    outside = tmp_path / "outside.txt"
    outside.write_text("keep\n")
    (run / "graph.gexf").symlink_to(outside)
    refused(run_cli("export", "run", "--what", "gexf", "--force", cwd=tmp_path), "graph.gexf")
    (run / "graph.gexf").unlink()
    (run / "export-graphml").symlink_to(tmp_path)
    refused(run_cli("export", "run", "--what", "graphml", cwd=tmp_path), "export-graphml")
    assert outside.read_text() == "keep\n" and not list(tmp_path.glob("*.graphml"))


@pytest.mark.parametrize(
    "line", ["garbage", '{"run": "x", "step": 1', "null", '{"kind": "message", "payload": [1]}']
)
def test_a_damaged_line_inside_the_log_is_refused_not_skipped(made, tmp_path, line):
    """Only a last line cut short by a kill may be skipped: a line inside the log that is not
    an event stops analyze, report and export in one line naming it (exit 2)."""
    run = damaged_copy(made, tmp_path, "run")
    log = run / "events.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    lines[19] = line + "\n"
    log.write_text("".join(lines))
    before = digests(run)
    for command in (["analyze"], ["report"], ["export", "--what", "transcripts"]):
        refused(run_cli(*command, "run", cwd=tmp_path), "line 20 is not an event")
    assert digests(run) == before


def test_a_last_line_cut_by_a_kill_is_skipped(made, tmp_path):
    from socialsim.core.event_tables import read_event_lines

    log = (made / "run" / "events.jsonl").read_bytes()
    whole = read_event_lines(log)
    assert read_event_lines(log + b'{"run": "d", "st') == whole


def test_an_agent_id_far_past_the_agents_table_is_refused_before_any_array_is_sized(made, tmp_path):
    """One row naming agent 10**9 would size every per-agent array by it (gigabytes): the
    table is refused in one line instead."""
    import pandas as pd

    run = damaged_copy(made, tmp_path, "run")
    table = pd.read_parquet(run / "agents.parquet").head(1)
    table["agent"] = 10**9
    table.to_parquet(run / "agents.parquet", index=False)
    before = digests(run)
    for command in (["analyze"], ["report"], ["export", "--what", "agents"]):
        refused(run_cli(*command, "run", cwd=tmp_path), "1,000,000,001 agents but holds 1 rows")
    assert digests(run) == before


def test_report_refuses_an_unreadable_summary_and_a_killed_run(made, tmp_path):
    """A page is never made from a summary that cannot be read (it would show no measure as
    if there were none) or of a run killed before it finished (--resume finishes it)."""
    run = damaged_copy(made, tmp_path, "run")
    (run / "summary.json").write_text("{not json")
    before = digests(run)
    refused(run_cli("report", "run", cwd=tmp_path), "summary.json", "socialsim analyze")
    assert digests(run) == before
    (run / "summary.json").unlink()
    (run / "checkpoint.npz").write_bytes(b"PK")
    refused(run_cli("report", "run", cwd=tmp_path), "killed before it finished", "--resume")
    (run / "checkpoint.npz").unlink()  # a run without a summary, not killed: measured now
    done = run_cli("report", "run", cwd=tmp_path)
    assert done.code == 0, done.err
    assert not (run / "summary.json").exists() and (run / "report.html").is_file()


def test_edges_naming_agents_the_run_does_not_have_are_refused(made, tmp_path):
    import pandas as pd

    run = damaged_copy(made, tmp_path, "run")
    pd.DataFrame({"source": [0, 5], "target": [1, 999]}).to_parquet(run / "edges.parquet")
    before = digests(run)
    for command in (["analyze"], ["report"], ["export", "--what", "graphml"]):
        refused(run_cli(*command, "run", cwd=tmp_path), "edges.parquet", "agent ids from 0 to 29")
    assert digests(run) == before


def test_report_refuses_a_log_cut_after_its_summary_was_written(made, tmp_path):
    """The page would pair the summary's measures with figures of the shortened log."""
    run = damaged_copy(made, tmp_path, "run")
    lines = (run / "events.jsonl").read_text().splitlines(keepends=True)
    (run / "events.jsonl").write_text("".join(lines[:10] + lines[11:]))
    before = digests(run)
    refused(run_cli("report", "run", cwd=tmp_path), "summary.json counted")
    assert digests(run) == before
