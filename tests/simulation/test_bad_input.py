"""Bad input: one line, exit 2, nothing written outside the output folder, nothing lost."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import socialsim as ss
from socialsim.core.errors import ConfigError
from socialsim.experiments import memory
from tests.cli_in_process import run_cli

RULE = (
    "steps: 2\npopulation: {size: 8}\nnetwork: {kind: ring}\nagents: {policy: degroot}\n"
    "claims: [{id: c1, text: The river is poisoned.}]\n"
)


def cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    code = "import sys; from socialsim.cli import main; sys.argv = ['socialsim', *sys.argv[1:]]; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the config is empty"),
        ("[1, 2]\n", "expected a mapping at the top level"),
        ("population: {size: true}\n", "population.size: true is not a number"),
        ("steps: 2.5\n", "steps: 2.5 must be a whole number"),
        ("network: {kind: watts_strogatz, params: {p: 2}}\n", "network.params.p: 2 must be <= 1"),
        ("network: {kind: watts_strogatz, params: {p: .nan}}\n", "network.params.p: NaN must be a finite number"),
        ("network: {kind: erdos_renyi, params: {p: -0.5}}\n", "network.params.p: -0.5 must be >= 0"),
        ("agents: {activation_fraction: .nan}\n", "agents.activation_fraction: NaN must be a finite number"),
        ("name: '../../escaped'\n", "name: '../../escaped' must start with a letter or digit"),
        ("name: /tmp/abs\n", "name: '/tmp/abs' must start with a letter or digit"),
        ("name: _run\n", "name: '_run' must start with a letter or digit and hold at most 100"),
        ("claims: [{id: 'a/b', text: x}]\n", "claims[0].id: 'a/b' must start with a letter or digit"),
        ("sweep: {network.kind: []}\n", "sweep: network.kind has no values; give at least one"),
        ("until: 5\n", "until: 5 ends an event-mode run; a step-mode run takes steps"),
        ("event: {window: 2}\n", "event.window: event settings apply in event mode only"),
        ("mode: event\nagents: {activation: fraction}\n", "agents.activation: fraction applies in step mode only"),
        (RULE.replace("{kind: ring}", "{kind: erdos_renyi, params: {p: 0.1, mean_degree: 4}}"), "p (0.1) and mean_degree (4.0) both set"),
    ],
)  # fmt: skip
def test_bad_configs_are_one_line_exit_2_and_write_nothing(tmp_path, text, message):
    (tmp_path / "c.yaml").write_text(text)
    done = run_cli("run", "c.yaml", "--set", "output.dir=out", "-q", cwd=tmp_path)
    assert done.code == 2, done.err
    assert message in done.err and "Traceback" not in done.err
    assert len(done.err_lines) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


@pytest.mark.slow
def test_a_bad_config_is_one_line_from_the_installed_command_too(tmp_path):
    (tmp_path / "c.yaml").write_text("steps: 2.5\n")
    done = cli("run", "c.yaml", "--set", "output.dir=out", "-q", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "steps: 2.5 must be a whole number" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


@pytest.mark.slow
def test_errors_found_while_building_leave_no_directory_behind(tmp_path):
    # k >= n is only known once the population size meets the network
    (tmp_path / "c.yaml").write_text(RULE.replace("ring", "watts_strogatz").replace("8", "3"))
    scenario = ["--set", "scenario.kind=misinformation", "--set", "scenario.params.claim=australia_capital"]  # fmt: skip
    for extra in ([], ["--control", *scenario]):
        done = cli("run", "c.yaml", "--out", "r", "-q", *extra, cwd=tmp_path)
        assert (
            done.returncode == 2 and "network.params.k: 4 must be < population.size (8)" not in ""
        )
        assert "must be < population.size" in done.stderr
        assert not (tmp_path / "r").exists()
    (tmp_path / "empty").mkdir()
    done = cli("run", "c.yaml", "--out", "empty", "-q", cwd=tmp_path)
    assert done.returncode == 2 and list((tmp_path / "empty").iterdir()) == []
    fixed = cli("run", "c.yaml", "--out", "r", "-q", "--set", "network.params.k=2", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr  # the corrected rerun is not blocked


@pytest.mark.slow
def test_out_that_is_a_file_or_holds_other_files_is_refused_and_kept(tmp_path):
    (tmp_path / "c.yaml").write_text(RULE)
    (tmp_path / "afile").write_text("mine")
    done = cli("run", "c.yaml", "--out", "afile", "-q", cwd=tmp_path)
    assert done.returncode == 2 and "is a file" in done.stderr
    assert (tmp_path / "afile").read_text() == "mine"
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "summary.json").write_text("my own")
    done = cli("run", "c.yaml", "--out", "notes", "-q", cwd=tmp_path)
    assert done.returncode == 2 and "holds other files" in done.stderr
    assert [p.name for p in notes.iterdir()] == ["summary.json"]
    assert (notes / "summary.json").read_text() == "my own"
    sweep = cli("sweep", "c.yaml", "--out", "notes", "--set", "sweep.seed=[1]", "-q", cwd=tmp_path)
    assert sweep.returncode == 2 and "holds other files" in sweep.stderr


def test_a_run_too_large_for_memory_is_refused_before_writing(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "_available_memory", lambda: 2**30)  # 1 GiB
    cfg = ss.ExperimentConfig.from_dict(
        {"population": {"size": 2_000_000}, "agents": {"policy": "degroot"}}
    )
    with pytest.raises(ConfigError, match=r"population.size 2,000,000 with 10 steps needs about"):
        ss.run(cfg, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_the_memory_estimate_counts_the_interpreter_the_graphml_and_what_is_held_already(
    monkeypatch,
):
    def cfg(size: int, **output) -> ss.ExperimentConfig:
        data = {"population": {"size": size}, "steps": 4, "agents": {"policy": "degroot"}}
        return ss.ExperimentConfig.from_dict({**data, "output": output})

    per_agent = memory.BYTES_PER_AGENT + memory.BYTES_PER_AGENT_STEP * 5  # one claim, 5 rows
    big = memory.BASE_BYTES + 300_000 * per_agent
    assert memory.memory_needed(cfg(300_000)) == big  # above graphml_max_agents: no graphml
    with_graphml = big + 300_000 * memory.GRAPHML_BYTES_PER_AGENT
    assert memory.memory_needed(cfg(300_000, graphml_max_agents=300_000)) == with_graphml

    def quarter_llm(steps: int, fraction: float) -> int:
        """Bytes the quarter of LLM agents adds, on Barabasi-Albert m=2 (mean degree 4)."""
        llm = {
            "population": {"size": 300_000},
            "steps": steps,
            "network": {"kind": "barabasi_albert", "params": {"m": 2}},
            "agents": {
                "policy": "degroot",
                "mix": [{"policy": "llm", "fraction": 0.25}],
                "activation": "fraction",
                "activation_fraction": fraction,
            },
        }
        rule = {**llm, "agents": {**llm["agents"], "mix": []}}
        needed = (memory.memory_needed(ss.ExperimentConfig.from_dict(c)) for c in (llm, rule))
        return next(needed) - next(needed)

    def expected(items: float) -> float:
        return 0.25 * 300_000 * (memory.LLM_BYTES_PER_AGENT + memory.MEMORY_ITEM_BYTES * items)

    # each step a tenth speak, and each message reaches 4 neighbours and the sender: 0.5 items
    assert quarter_llm(4, 0.1) == pytest.approx(expected(4 * 0.1 * 5), abs=1)
    assert quarter_llm(8, 0.1) == pytest.approx(expected(8 * 0.1 * 5), abs=1)
    assert quarter_llm(400, 1.0) == pytest.approx(expected(50), abs=1)  # memory_size: 50 items

    need = memory.memory_needed(cfg(300_000))
    monkeypatch.setattr(memory, "_available_memory", lambda: need)
    monkeypatch.setattr(memory, "_resident_memory", lambda: int(0.2 * need))
    memory.check_memory(cfg(300_000))  # 80% of what is available is still to come
    monkeypatch.setattr(memory, "_resident_memory", lambda: int(0.05 * need))
    with pytest.raises(ConfigError, match=r"GiB more than this process holds now") as err:
        memory.check_memory(cfg(300_000))
    assert str(err.value).endswith("reduce population.size or steps")
    llm = cfg(300_000).with_overrides({"agents.policy": "llm"})
    monkeypatch.setattr(memory, "_available_memory", lambda: memory.memory_needed(llm))
    with pytest.raises(ConfigError) as err:
        memory.check_memory(llm)  # an LLM run can remember less
    assert str(err.value).endswith("reduce population.size, steps or agents.memory_size "
                                   "(what each LLM agent remembers)")  # fmt: skip
    monkeypatch.undo()
    assert 0 < memory._resident_memory() < 2**40  # this process, read from /proc


@pytest.mark.parametrize(
    "network",
    [
        {"kind": "erdos_renyi", "params": {"p": 0.02}},
        {"kind": "erdos_renyi", "params": {"mean_degree": 7}},
        {"kind": "barabasi_albert", "params": {"m": 3}},
        {"kind": "powerlaw_cluster", "params": {"m": 2}},
        {"kind": "watts_strogatz", "params": {"k": 6}},
        {"kind": "stochastic_block", "params": {"blocks": 4, "p_in": 0.1, "p_out": 0.01}},
        {"kind": "complete"},
        {"kind": "ring"},
        {"kind": "grid"},
    ],
)
def test_the_mean_degree_known_before_the_network_is_built_is_the_built_ones(network):
    from socialsim.simulation.network import build_network

    cfg = ss.ExperimentConfig.from_dict({"population": {"size": 400}, "network": network})
    built = build_network(cfg.network.kind, 400, cfg.network.params, seed=1)
    assert memory.mean_degree(cfg) == pytest.approx(built.degree.mean(), rel=0.1)


def test_a_network_read_from_a_file_is_taken_at_the_typical_degree_unread():
    network = {"kind": "file", "params": {"path": "not-there.edgelist"}}
    cfg = ss.ExperimentConfig.from_dict({"population": {"size": 50}, "network": network})
    assert memory.mean_degree(cfg) == memory.TYPICAL_DEGREE


@pytest.mark.slow
def test_ctrl_c_prints_what_was_kept_and_exits_130(tmp_path):
    big = RULE.replace("steps: 2", "steps: 5000").replace("size: 8", "size: 2000")
    (tmp_path / "c.yaml").write_text(big + "output: {formats: [jsonl]}\n")
    code = "import sys; from socialsim.cli import main; sys.argv = ['socialsim', *sys.argv[1:]]; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "run", "c.yaml", "--out", "r", "-q"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    events = tmp_path / "r" / "events.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not events.exists() or events.stat().st_size == 0):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: the run directory keeps every completed step" in err
    assert "Traceback" not in err and "Aborted" not in err
    lines = events.read_text().splitlines()
    assert lines and all(line.endswith("}") for line in lines)  # no torn line


@pytest.mark.slow
def test_transcripts_escape_names_and_text(tmp_path):
    from tests.simulation.test_llm_run import ScriptedClient, _cfg

    names = ["<script>alert(1)</script>", "**bold** [x](javascript:y)", "<img src=x onerror=alert(2)>", "Ann"]  # fmt: skip
    answer = (
        '{"message": "hi <b onmouseover=alert(3)>there</b> | # not a heading", "to": "all",'
        ' "beliefs": {"c1": {"reason": "r", "credence": 0.5}}}'
    )
    cfg = _cfg(tmp_path, size=4, steps=1)
    run = ss.run(
        cfg, out=tmp_path / "r", personas=pd.DataFrame({"name": names}),
        clients={cfg.agents.llm.model_dump_json(): ScriptedClient(lambda r: answer)},
    )  # fmt: skip
    from socialsim.experiments.export import export_transcripts

    folder = export_transcripts(run.dir)
    text = "".join(p.read_text() for p in sorted(folder.glob("*.md")))
    assert text and "<" not in text and ">" not in text
    assert (
        "&lt;script&gt;" in text and "\\*\\*bold\\*\\*" in text and "\\[x\\]\\(javascript" in text
    )
    assert "onerror" in text  # shown as text, inert once its tag is escaped
    assert all(p.resolve().parent == folder.resolve() for p in folder.iterdir())


def test_one_override_given_as_a_string_is_one_override(tmp_path):
    from socialsim.simulation.given import coerce_config

    (tmp_path / "c.yaml").write_text(RULE)
    for config in (tmp_path / "c.yaml", str(tmp_path / "c.yaml"), {"steps": 5}):
        assert coerce_config(config, "steps=3").steps == 3  # not 's', 't', 'e', ...


def test_a_network_error_at_set_up_leaves_no_output_folder_behind(tmp_path):
    text = RULE.replace("{kind: ring}", "{kind: barabasi_albert, params: {m: 20}}")
    (tmp_path / "c.yaml").write_text(text)
    done = run_cli("run", "c.yaml", "--set", "output.dir=out/deeper", "-q", cwd=tmp_path)
    assert done.code == 2 and "network.params.m: 20" in done.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]
    (tmp_path / "mine").mkdir()  # an output folder of the user's stays, empty as it was
    done = run_cli("run", "c.yaml", "--set", "output.dir=mine", "-q", cwd=tmp_path)
    assert (
        done.code == 2 and (tmp_path / "mine").is_dir() and not any((tmp_path / "mine").iterdir())
    )


def test_a_run_refused_beside_one_in_progress_leaves_its_files_alone(tmp_path):
    """A second `socialsim run --out DIR` while a first (another process) is still setting
    DIR up (only its events.jsonl there, no config.yaml yet) is refused and neither empties
    nor reuses DIR."""
    from socialsim.experiments.half_made import note_new_dir, remove_half_made, tracking_new_dirs
    from socialsim.simulation.log import FileSink, being_written

    (tmp_path / "c.yaml").write_text(RULE)
    out = tmp_path / "out"
    out.mkdir()
    (out / "events.jsonl").write_text('{"kind": "message"}\n')
    holder = (  # the first run's process: its log open, and locked, until told to stop
        "import sys, time; from socialsim.simulation.log import FileSink; "
        "s = FileSink(sys.argv[1]); print('open', flush=True); sys.stdin.readline(); s.close()"
    )
    first = subprocess.Popen(
        [sys.executable, "-c", holder, str(out / "events.jsonl")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert first.stdout.readline().strip() == "open"
        assert being_written(out / "events.jsonl")
        done = run_cli("run", "c.yaml", "--out", "out", "-q", cwd=tmp_path)
        assert done.code == 2 and "is being written by another run now" in done.err
        with pytest.raises(ConfigError, match="is being written by another run"):
            FileSink(out / "events.jsonl")  # a second writer of the same log
        with tracking_new_dirs() as noted:  # a failing command's clean-up spares it too
            note_new_dir(out, "config.yaml")
            remove_half_made(noted)
        assert (out / "events.jsonl").read_text() == '{"kind": "message"}\n'
    finally:
        first.communicate("\n", timeout=30)
    assert not being_written(out / "events.jsonl")
