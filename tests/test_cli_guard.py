"""The command line's guard: every failure one line (exit 2 bad input, 1 a fault), nothing half-made."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialsim.experiments import runner
from tests.cli_in_process import run_cli

RULE = (
    "steps: 2\npopulation: {size: 8}\nnetwork: {kind: ring}\nagents: {policy: degroot}\n"
    "claims: [{id: c1, text: The river is poisoned.}]\n"
)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(RULE + "output: {report: false}\n")
    return path


def _boom(*args, **kwargs):
    raise RuntimeError("boom in the writer")


def test_a_fault_is_one_line_exit_1_naming_the_command_and_a_traceback_log(
    config, tmp_path, monkeypatch
):
    monkeypatch.setattr(runner, "config_text", _boom)  # after events.jsonl, before config.yaml
    deep = tmp_path / "made" / "runs"
    done = run_cli("run", str(config), "--set", f"output.dir={deep}", "-q")
    assert done.code == 1
    assert len(done.err_lines) == 1, done.err
    line = done.err_lines[0]
    assert "socialsim run failed: RuntimeError: boom in the writer" in line
    assert "a fault in socialsim" in line and "Traceback" not in line
    log = Path(line.split("the traceback is in ")[1].split(";")[0])
    text = log.read_text()
    assert "Traceback" in text and "_boom" in text and "boom in the writer" in text
    # the run directory (and the folders made for it) held events.jsonl but no config.yaml
    assert "removed the half-made" in line
    assert not (tmp_path / "made").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_debug_shows_the_traceback_and_still_removes_the_half_made_run(
    config, tmp_path, monkeypatch
):
    monkeypatch.setattr(runner, "config_text", _boom)
    with pytest.raises(RuntimeError, match="boom in the writer"):
        run_cli("run", str(config), "--out", str(tmp_path / "r"), "--debug", "-q")
    assert not (tmp_path / "r").exists()


def test_an_empty_out_the_user_made_is_kept_and_left_empty(config, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "config_text", _boom)
    out = tmp_path / "mine"
    out.mkdir()
    done = run_cli("run", str(config), "--out", str(out), "-q")
    assert done.code == 1 and out.is_dir() and list(out.iterdir()) == []


def test_a_run_that_fails_after_its_config_is_written_is_kept_for_resume(
    config, tmp_path, monkeypatch
):
    def fail_mid_run(model, run_dir, *args, **kwargs):
        model.close()
        raise RuntimeError("fault while stepping")

    monkeypatch.setattr(runner, "finish_run", fail_mid_run)
    done = run_cli("run", str(config), "--out", str(tmp_path / "r"), "-q")
    assert done.code == 1 and "fault while stepping" in done.err
    assert "removed" not in done.err
    assert (tmp_path / "r" / "config.yaml").is_file() and (tmp_path / "r" / "events.jsonl").exists()


def test_ctrl_c_keeps_its_line_exit_130_and_the_directory(config, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "config_text", interrupted)
    done = run_cli("run", str(config), "--out", str(tmp_path / "r"), "-q")
    assert done.code == 130
    assert done.err_lines == ["interrupted: the run directory keeps every completed step"]
    assert (tmp_path / "r" / "events.jsonl").exists()


def test_ctrl_c_that_lands_where_python_ignores_it_still_ends_the_command_130(
    config, tmp_path, monkeypatch
):
    """Ctrl-C during the report can land in a weakref callback, whose exception Python only
    prints ("Exception ignored in ..."): the command then ran on to the end. It must still
    end with the interrupted line and 130, and print no traceback."""
    import os
    import signal
    import time
    import weakref

    def signal_inside_a_callback(*args, **kwargs):
        class Held:
            pass

        held = Held()

        def callback(ref):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # the handler runs here, inside the callback

        keep = weakref.ref(held, callback)
        del held  # the callback runs, and its KeyboardInterrupt is ignored
        assert keep() is None
        return "name: x\n"

    monkeypatch.setattr(runner, "config_text", signal_inside_a_callback)
    done = run_cli("run", str(config), "--out", str(tmp_path / "r"), "-q")
    assert done.code == 130, done.err
    assert done.err_lines == ["interrupted: the run directory keeps every completed step"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("raise ValueError('plugin refuses')\n", "raised ValueError: plugin refuses (bad_plugin.py line 1)"),
        ("def f(:\n    pass\n", "has a syntax error (bad_plugin.py line 1"),
        ("import sys\nsys.exit(0)\n", "called exit(0) while being imported"),
    ],
)  # fmt: skip
def test_a_plugin_that_fails_on_import_is_one_line_naming_the_file(tmp_path, source, message):
    (tmp_path / "bad_plugin.py").write_text(source)
    (tmp_path / "c.yaml").write_text(RULE + "plugins: [bad_plugin.py]\n")
    done = run_cli("run", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r"), "-q")
    assert done.code == 2, done.err
    assert len(done.err_lines) == 1 and message in done.err and "'bad_plugin.py'" in done.err
    assert not (tmp_path / "r").exists()


def test_a_plugin_path_that_is_not_a_python_file_says_what_it_is(tmp_path):
    (tmp_path / "notes.txt").write_text("not python\n")
    (tmp_path / "folder.py").mkdir()
    cases = {
        str(tmp_path / "notes.txt"): "is not a .py file",
        "folder.py": "is a directory",
        "/dev/zero": "is not a regular file",
        "missing/nowhere.py": "does not exist",
    }
    for plugin, message in cases.items():
        (tmp_path / "c.yaml").write_text(RULE + f"plugins: ['{plugin}']\n")
        done = run_cli("run", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r"), "-q")
        assert done.code == 2 and len(done.err_lines) == 1, done.err
        assert message in done.err and "Assertion" not in done.err, done.err


@pytest.mark.parametrize("workers", ["-3", "0"])
def test_workers_below_one_are_refused(config, tmp_path, workers):
    done = run_cli(
        "sweep", str(config), "--workers", workers, "--set", "sweep.seed=[1]",
        "--out", str(tmp_path / "s"), "-q",
    )  # fmt: skip
    assert done.code == 2 and done.err_lines == [
        f"error: --workers {workers} must be >= 1 (worker processes)"
    ]
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("seed=-5", "seed: -5 must be >= 0"),
        ("agents.llm.max_tokens=true", "agents.llm.max_tokens: true is not a number"),
        ("steps=false", "steps: false is not a number"),
        ("agents.llm.temperature=true", "agents.llm.temperature: true is not a number"),
        ("control=1", "control: 1 must be true, false or instrument"),
        ("output.report=0", "output.report: 0 must be true or false"),
        ("agents.llm.timeout=.inf", "agents.llm.timeout: inf must be a finite number"),
        ("agents.llm.step_deadline=.inf", "agents.llm.step_deadline: inf must be a finite number"),
        ("agents.llm.temperature=.nan", "agents.llm.temperature: NaN must be a finite number"),
        ("agents.llm.api_base=localhost:8000", "agents.llm.api_base: 'localhost:8000' is not an http(s) URL"),
        ("agents.llm.api_base=''", "agents.llm.api_base: '' is not an http(s) URL"),
        ("agents.llm.cache_path=/dev/null", "agents.llm.cache_path: '/dev/null' is not a regular file"),
        ("agents.llm.cache_path=/", "agents.llm.cache_path: '/' is a directory"),
    ],
)  # fmt: skip
def test_wrong_values_are_refused_naming_the_field_before_anything_is_written(
    config, tmp_path, setting, message
):
    done = run_cli("run", str(config), "--set", setting, "--out", str(tmp_path / "r"), "-q")
    assert done.code == 2 and len(done.err_lines) == 1, done.err
    assert message in done.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_cache_path_under_a_file_or_a_file_that_is_not_a_cache(config, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    done = run_cli("run", str(config), "--set", f"agents.llm.cache_path={notes}/c.sqlite", "-q")
    assert done.code == 2 and "agents.llm.cache_path:" in done.err
    assert "cannot be used (Not a directory)" in done.err
    from socialsim.core.errors import LLMSetupError
    from socialsim.llm.cache import ResponseCache

    with pytest.raises(LLMSetupError, match="is not an SQLite file"):
        ResponseCache(notes)
    assert notes.read_text() == "my notes\n"


def test_a_huge_value_is_echoed_cut_short(config, tmp_path):
    name = "x/" * 50_000
    (tmp_path / "big.yaml").write_text(RULE + f"name: '{name}'\n")
    done = run_cli("run", str(tmp_path / "big.yaml"), "--out", str(tmp_path / "r"), "-q")
    assert done.code == 2 and len(done.err_lines) == 1
    assert "name: 'x/x/" in done.err and "…" in done.err and len(done.err) < 400


def test_output_report_false_is_honoured_and_the_flag_overrides_it(config, tmp_path):
    quiet = run_cli("run", str(config), "--out", str(tmp_path / "a"), "-q")
    assert quiet.code == 0, quiet.err
    assert (tmp_path / "a" / "summary.json").is_file()
    assert not (tmp_path / "a" / "report.html").exists()
    loud = run_cli("run", str(config), "--out", str(tmp_path / "b"), "--report", "-q")
    assert loud.code == 0, loud.err
    assert (tmp_path / "b" / "report.html").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "c.yaml", "--workers", "many"], "Invalid value for '--workers'"),
        (["run", "c.yaml", "--no-such-option"], "No such option: --no-such-option"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_a_bad_option_or_command_is_one_line_exit_2(config, tmp_path, args, message):
    done = run_cli(*args, cwd=tmp_path)
    assert done.code == 2 and len(done.err_lines) == 1, done.err
    assert done.err.startswith("error: ") and message in done.err and "--help)" in done.err


def test_help_and_a_bare_group_still_print_the_help():
    assert run_cli("--help").code == 0
    bare = run_cli("llm")
    assert bare.code == 2 and "check" in bare.out


def test_a_validation_error_that_escaped_its_check_is_still_bad_input(
    config, tmp_path, monkeypatch
):
    from socialsim.simulation.config import EventConfig

    def unchecked(*args, **kwargs):
        EventConfig.model_validate({"window": -1})

    monkeypatch.setattr(runner, "simulate_into", unchecked)
    done = run_cli("run", str(config), "--out", str(tmp_path / "r"), "-q")
    assert done.code == 2 and len(done.err_lines) == 1, done.err
    assert not (tmp_path / "r").exists()  # the run directory it made is removed
    assert "window: -1 must be > 0.0 (socialsim run; the traceback is in " in done.err


@pytest.mark.parametrize("command", ["analyze", "report"])
def test_analyze_and_report_refuse_a_directory_that_holds_no_run(tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(command, str(empty))
    assert result.code == 2
    assert result.err_lines == [
        f"error: {str(empty)!r} holds no run (no events.jsonl); pass a run, arms or sweep directory"
    ]
    assert list(empty.iterdir()) == []  # nothing written into it


def test_a_long_value_is_never_echoed_back_whole(config, tmp_path):
    long = "x" * 100_000
    result = run_cli(
        "run", str(config), "--out", str(tmp_path / "o"),
        "--set", "scenario.kind=misinformation", "--set", f"scenario.params.claim={long}",
    )  # fmt: skip
    assert result.code == 2 and len(result.err_lines) == 1
    assert len(result.err_lines[0]) < 400 and "x" * 77 + "…" in result.err_lines[0]
    assert not (tmp_path / "o").exists()


def test_the_version_is_a_flag_and_a_command_and_runs_nothing_else(tmp_path):
    from socialsim import __version__

    for args in (("--version",), ("version",), ("--version", "run", "missing.yaml")):
        done = run_cli(*args, cwd=tmp_path)
        assert (done.code, done.out.strip(), done.err) == (0, f"socialsim {__version__}", "")
    assert list(tmp_path.iterdir()) == []


def test_the_printed_summary_gives_each_probe_line_once_and_says_when_no_credence_is_known(
    capsys,
):
    from types import SimpleNamespace

    from socialsim.cli_output import print_summary

    probes = {"direct": {"asked": 4, "answered": 4, "failed": 0, "manipulated_share": 0.25}}
    claim = {
        "adoption_benign": {"n": 0, "unmeasured": 7, "final_reach": None},
        "probes_benign": probes,
        "probes_benign_last": probes,  # the last probe step's alone: not printed again
    }
    summary = {
        "run": {"steps_run": 2, "agents": 9, "events": 40},
        "data_quality": {},
        "measures": {"claims": {"c1": claim}},
        "headline": [],
    }
    print_summary(SimpleNamespace(summary=summary, dir="runs/x"))
    out = capsys.readouterr().out
    assert "claim c1 (benign agents): no credence known at the end (7 unmeasured" in out
    claim["adoption_benign"] = {"n": 7, "unmeasured": 0, "initial_reach": 0.0,
                                "final_reach": 0.5, "mean_credence_initial": 0.1,
                                "mean_credence_final": 0.4}  # fmt: skip
    print_summary(SimpleNamespace(summary=summary, dir="runs/x"))
    out = capsys.readouterr().out
    assert out.count("probes (direct): 25% answered the manipulated way") == 1
