"""The LLM layer: one client for every model (hosted, self-hosted or embedded).

from socialsim.llm import LLMClient, LLMConfig, LLMRequest
client = LLMClient(LLMConfig(model="local/smollm2"))
[res] = client.run([LLMRequest(messages=[{"role": "user", "content": "Hi"}])])
"""

from __future__ import annotations

from socialsim.llm.check import run_check, validate_model
from socialsim.llm.client import LLMClient
from socialsim.llm.types import CallRecord, LLMConfig, LLMRequest, LLMResult

__all__ = [
    "CallRecord",
    "LLMClient",
    "LLMConfig",
    "LLMRequest",
    "LLMResult",
    "run_check",
    "validate_model",
]
