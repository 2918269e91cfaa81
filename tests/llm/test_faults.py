"""LLM runs against a server that fails on a fixed schedule: every fault is one failed answer.

Each run goes through ``ss.run`` (or the CLI, in a subprocess) against the fault stub
(:mod:`tests.llm.fault_stub`) and must end within a bound given to the call; the logs must
read back whole, failures must match the injected faults one to one and no key may reach
a file or stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import socialsim as ss
from socialsim.agents.policies.llm import request_seed
from socialsim.core.errors import EndpointDown
from socialsim.llm.cache import ResponseCache
from socialsim.simulation.log import read_events
from socialsim.simulation.model import AllCallsFailed
from tests.llm.fault_stub import FaultStub, free_port

ANSWER = json.dumps(
    {"message": "The river is fine.", "to": "all",
     "beliefs": {"c1": {"reason": "I saw it", "credence": 0.3}}}
)  # fmt: skip
SEED = 7
FAST = {  # small limits so that faults resolve in about a second
    "retries": 1,
    "timeout": 1.5,
    "connect_timeout": 1,
    "call_timeout": 4,
    "step_deadline": 30,
}


def config(tmp_path: Path, api_base: str, size: int = 12, steps: int = 2, **llm) -> dict:
    """An LLM run of `size` agents on a ring, talking to `api_base`."""
    settings = {
        "model": "openai/stub",
        "api_base": api_base,
        "cache_path": str(tmp_path / "cache.sqlite"),
        **FAST,
        **llm,
    }
    return {
        "name": "faults",
        "seed": SEED,
        "steps": steps,
        "population": {"size": size},
        "network": {"kind": "ring"},
        "claims": [{"id": "c1", "text": "The river is poisoned.", "truth": False}],
        "agents": {"policy": "llm", "llm": settings},
        "output": {"dir": str(tmp_path / "runs"), "report": False},
    }


def within(seconds: float, fn):
    """`fn()`, failing the test when it has not returned after `seconds`."""
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the test's thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"the run did not end within {seconds}s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def run(cfg: dict, out: Path, seconds: float = 120):
    return within(seconds, lambda: ss.run(ss.ExperimentConfig.from_dict(cfg), out=out))


def assert_valid_log(run_dir: Path) -> pd.DataFrame:
    """Every line of events.jsonl reads, and the CSV and Parquet tables hold the same rows."""
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line)["kind"] for line in lines)
    events = read_events(run_dir / "events.jsonl")
    assert len(events) == len(lines)
    for name, read in (("events.csv", pd.read_csv), ("events.parquet", pd.read_parquet)):
        if (run_dir / name).exists():
            assert len(read(run_dir / name)) == len(lines)
    return events


def decide_errors(events: pd.DataFrame) -> pd.DataFrame:
    """The error events of failed answers (not the mark of a step that stopped)."""
    errors = events[events.kind == "error"]
    return errors[errors.payload.map(lambda p: p["where"]) != "step"]


def assert_marked_incomplete(run_dir: Path, step: int) -> None:
    """The stopped step is marked: one ``where: step`` error event, steps.csv complete False,
    and its counts match the events it logged."""
    events = read_events(run_dir / "events.jsonl")
    errors = events[events.kind == "error"]
    marks = errors[errors.payload.map(lambda p: p["where"]) == "step"]
    assert len(marks) == 1 and int(marks.step.iloc[0]) == step
    assert marks.payload.iloc[0]["incomplete"] is True
    steps = pd.read_csv(run_dir / "steps.csv")
    assert steps.loc[steps.step == step, "complete"].tolist() == [False]
    assert steps.loc[steps.step != step, "complete"].all()
    row = steps[steps.step == step].iloc[0]
    at = events[events.step == step]
    assert row["errors"] == (at.kind == "error").sum()
    assert row["llm_calls"] == (at.kind == "llm_call").sum()


def seed_of(agent: int, step: int) -> int:
    return request_seed(SEED, agent, step)


@pytest.mark.slow
def test_each_injected_fault_is_one_error_event_and_the_run_completes(tmp_path):
    schedule = {  # (agent, step) -> fault, every kind once
        (0, 1): "500", (3, 1): "429", (5, 1): "reset", (8, 1): "malformed",
        (2, 2): "schema", (6, 2): "hang", (9, 2): "401",
    }  # fmt: skip
    faults = {seed_of(a, s): f for (a, s), f in schedule.items()}
    with FaultStub(ANSWER, faults) as stub:
        result = run(config(tmp_path, stub.api_base, breaker_failures=0), tmp_path / "r")
    events = assert_valid_log(tmp_path / "r")
    errors = events[events.kind == "error"]
    assert sorted(zip(errors.agent, errors.step, strict=True)) == sorted(schedule)
    message = {(a, s): m["message"] for a, s, m in zip(*errors[["agent", "step", "payload"]].T.values, strict=True)}  # fmt: skip
    expected = {"500": "HTTP 500", "429": "HTTP 429", "reset": "transient:",
                "malformed": "malformed response", "schema": "structured:",
                "hang": "timeout after", "401": "HTTP 401"}  # fmt: skip
    for where, fault in schedule.items():
        assert expected[fault] in message[where], (fault, message[where])
    calls = events[events.kind == "llm_call"]
    failed = calls[calls.payload.map(lambda p: p["error"] is not None)]
    assert len(calls) == 24 and len(failed) == len(schedule)
    assert (events.kind == "decision").sum() == 24 - len(schedule)
    assert result.summary["data_quality"]["calls"] == 24


@pytest.mark.slow
def test_a_hung_request_is_cut_at_the_step_deadline_and_the_rest_goes_on(tmp_path):
    faults = {seed_of(4, 1): "hang", seed_of(7, 2): "hang"}
    slow = {"timeout": 600, "call_timeout": 600, "step_deadline": 1.5}
    with FaultStub(ANSWER, faults) as stub:
        run(config(tmp_path, stub.api_base, **slow), tmp_path / "r")
    events = assert_valid_log(tmp_path / "r")
    errors = events[events.kind == "error"]
    assert sorted(zip(errors.agent, errors.step, strict=True)) == [(4, 1), (7, 2)]
    assert errors.payload.map(lambda p: "step deadline of 1.5s" in p["message"]).all()
    assert (events.kind == "decision").sum() == 22


@pytest.mark.slow
def test_a_dead_port_stops_the_run_with_one_line_naming_the_endpoint(tmp_path):
    api_base = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EndpointDown) as caught:
        run(config(tmp_path, api_base), tmp_path / "r")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"model endpoint {api_base} failed 8 requests in a row")
    assert "(connection refused); check that the server is running" in message
    events = assert_valid_log(tmp_path / "r")
    errors = decide_errors(events)
    assert len(errors) == 12 and set(errors.step) == {1}  # every call of step 1, one each
    assert_marked_incomplete(tmp_path / "r", 1)
    calls = events[events.kind == "llm_call"]
    assert len(calls) == 12 and (calls.payload.map(lambda p: p["attempts"]).sum() < 12 * 2)


@pytest.mark.slow
def test_a_step_where_every_call_fails_names_the_endpoint_and_the_fix(tmp_path):
    with FaultStub(ANSWER, every="500") as stub:
        cfg = config(tmp_path, stub.api_base, size=4, retries=0, breaker_failures=0)
        with pytest.raises(AllCallsFailed) as caught:
            run(cfg, tmp_path / "r")
        faulted = stub.stats()["faulted"]
    assert str(caught.value).startswith(
        f"every model call of step 1 failed (4 calls) on model endpoint {stub.api_base}; "
        "check the server's own log"
    )
    events = assert_valid_log(tmp_path / "r")
    assert len(decide_errors(events)) == faulted == 4
    assert_marked_incomplete(tmp_path / "r", 1)


@pytest.mark.slow
def test_a_hung_server_stops_the_run_through_the_breaker(tmp_path):
    with FaultStub(ANSWER, every="hang") as stub:
        cfg = config(tmp_path, stub.api_base, timeout=0.5, retries=3, call_timeout=30)
        with pytest.raises(EndpointDown, match=r"failed \d+ requests in a row \(timeout after"):
            run(cfg, tmp_path / "r")
        assert stub.stats()["answered"] == 0
    events = assert_valid_log(tmp_path / "r")
    assert len(decide_errors(events)) == 12
    assert_marked_incomplete(tmp_path / "r", 1)


@pytest.mark.slow
def test_a_server_that_dies_mid_run_stops_it_and_a_rerun_pays_for_nothing_twice(tmp_path):
    cfg = config(tmp_path, "", size=10, steps=3)
    with FaultStub(ANSWER, die_after=15) as stub:  # step 1 (10) and half of step 2
        cfg["agents"]["llm"]["api_base"] = stub.api_base
        with pytest.raises(EndpointDown, match="connection refused"):
            run(cfg, tmp_path / "first")
    events = assert_valid_log(tmp_path / "first")
    assert (events.kind == "decision").sum() == 10  # step 2 stopped the run: not applied
    calls = events[events.kind == "llm_call"]
    assert len(calls) == 20 and calls.payload.map(lambda p: p["error"] is None).sum() == 15
    errors = decide_errors(events)
    assert len(errors) == 5 and set(errors.step) == {2}
    assert_marked_incomplete(tmp_path / "first", 2)
    with FaultStub(ANSWER, port=stub.port) as again:
        run(cfg, tmp_path / "second")
        assert again.stats()["received"] == 30 - 15  # the 15 answers came from the cache
    events = assert_valid_log(tmp_path / "second")
    assert (events.kind == "decision").sum() == 30


@pytest.mark.slow
def test_every_answer_is_cached_as_it_arrives_and_survives_a_kill(tmp_path):
    """A run killed mid-step keeps the answers that arrived; the rerun does not ask again."""
    hang = {seed_of(a, 1): "hang" for a in range(5, 12)}
    with FaultStub(ANSWER, hang) as stub:
        cfg = config(tmp_path, stub.api_base, timeout=600, call_timeout=600, step_deadline=600)
        script = (
            "import json, sys, socialsim as ss\n"
            "cfg = ss.ExperimentConfig.from_dict(json.loads(sys.argv[1]))\n"
            "ss.run(cfg, out=sys.argv[2])\n"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", script, json.dumps(cfg), str(tmp_path / "killed")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            give_up = time.monotonic() + 60  # the five answers are stored while the step waits
            while cached(tmp_path / "cache.sqlite") < 5 and time.monotonic() < give_up:
                time.sleep(0.05)
            assert proc.poll() is None and stub.stats()["received"] == 12
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
    assert cached(tmp_path / "cache.sqlite") == 5
    with FaultStub(ANSWER) as stub:
        run(config(tmp_path, stub.api_base, steps=1), tmp_path / "rerun")
        assert stub.stats()["received"] == 12 - 5


def cached(path: Path) -> int:
    """Answers in the cache file (0 before it exists)."""
    if not path.exists():
        return 0
    cache = ResponseCache(path)
    try:
        return len(cache)
    finally:
        cache.close()


KEY = "sk-live-Zq0123456789abcdefXYZ"
PLAIN_KEY = "plainsecret-0123456789abcdef"  # no key shape: only known as the variable's value


@pytest.mark.parametrize(("key", "fast_path"), [(KEY, True), (PLAIN_KEY, True), (KEY, False)])
@pytest.mark.slow
def test_a_key_echoed_by_the_server_reaches_no_file_and_no_stderr(tmp_path, key, fast_path):
    faults = {seed_of(1, 1): "401", seed_of(4, 2): "401"}
    env = {**os.environ, "STUB_API_KEY": key}
    with FaultStub(ANSWER, faults) as stub, FaultStub(ANSWER, every="401") as refusing:
        cfg = config(tmp_path, stub.api_base, size=6, api_key_env="STUB_API_KEY")
        cfg["agents"]["llm"]["fast_path"] = fast_path
        cfg["output"]["report"] = True
        done = cli(cfg, tmp_path / "r", env)
        cfg["agents"]["llm"].update(api_base=refusing.api_base, cache=False)
        failed = cli(cfg, tmp_path / "f", env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert failed.returncode == 2
    [line] = failed.stderr.strip().splitlines()
    assert "every model call of step 1 failed" in line and "[redacted]" in line
    assert "check the API key in $STUB_API_KEY" in line
    for output in (done.stdout, done.stderr, failed.stdout, failed.stderr):
        assert key not in output
    events = assert_valid_log(tmp_path / "r")
    errors = events[events.kind == "error"]
    assert len(errors) == 2 and errors.payload.map(lambda p: "[redacted]" in p["message"]).all()
    configs = {tmp_path / "r.json", tmp_path / "f.json"}  # the inputs, which name no key
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p not in configs]
    assert any(p.name == "report.html" for p in written)
    assert any(p.name == "summary.json" for p in written)
    assert [p for p in written if key.encode() in p.read_bytes()] == []


def cli(cfg: dict, out: Path, env: dict) -> subprocess.CompletedProcess:
    """`socialsim run` of `cfg` in a subprocess, killed if it runs past two minutes."""
    path = out.with_suffix(".json")
    path.write_text(json.dumps(cfg))
    code = "from socialsim.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "run", str(path), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.slow
def test_with_the_default_limits_a_hung_server_stops_the_run_within_two_minutes(tmp_path):
    with FaultStub(ANSWER, every="hang") as stub:
        cfg = config(tmp_path, stub.api_base, size=10, steps=3)
        for name in FAST:
            del cfg["agents"]["llm"][name]  # the defaults
        with pytest.raises((EndpointDown, AllCallsFailed)):
            run(cfg, tmp_path / "r", seconds=120)
    events = assert_valid_log(tmp_path / "r")
    assert len(decide_errors(events)) == 10


@pytest.mark.slow
def test_analyze_of_a_stopped_run_says_so_and_leaves_it_resumable(tmp_path):
    """`socialsim analyze` of a run an endpoint stopped writes a summary marked with the step
    it stopped in; `--resume` still finishes the run, and its summary is then unmarked."""
    from tests.cli_in_process import run_cli

    cfg = config(tmp_path, "", size=10, steps=3)
    with FaultStub(ANSWER, die_after=15) as stub:  # step 1 (10) and half of step 2
        cfg["agents"]["llm"]["api_base"] = stub.api_base
        with pytest.raises(EndpointDown):
            run(cfg, tmp_path / "r")
    done = run_cli("analyze", str(tmp_path / "r"))
    assert done.code == 0 and "stopped inside step 2" in done.err, done.err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["run"]["stopped_in_step"] == 2
    assert run_cli("report", str(tmp_path / "r")).code == 0  # the page says so, first
    page = (tmp_path / "r" / "report.html").read_text()
    assert "This run stopped in step 2 of 3</strong>" in page
    assert page.index("stopped in step 2") < page.index("<h2>Findings</h2>")
    with FaultStub(ANSWER, port=stub.port):
        done = run_cli("run", "--resume", str(tmp_path / "r"), "-q")
    assert done.code == 0, done.err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert "stopped_in_step" not in summary["run"] and summary["run"]["steps_run"] == 3
    assert (assert_valid_log(tmp_path / "r").kind == "decision").sum() == 30
    done = run_cli("run", "--resume", str(tmp_path / "r"), "-q")
    assert done.code == 2 and "is a finished run" in done.err
