"""What LLM agents say on the embedded model: sentences, on topic, unusable answers, speed.

    python benchmarks/bench_agent_quality.py [--templates decide_v2,talk_v1]
        [--examples quickstart,persuasion_campaign,norms] [--set KEY=VALUE ...]

Runs each example through ``socialsim run`` once per decision template, with the response
cache off, and reads every run directory it wrote (both arms when the example has a
control). Prints per example and template: agent messages, the share that are sentences
and on topic (the rules of :mod:`socialsim.scenarios.message_quality`), the share of model
calls whose answer was unusable, repair rounds, and seconds per call (wall time of the run
over its calls) with the tokens generated per call. The last template's seconds per call is also given as a ratio to the
first's, measured in the same run. Targets on the embedded model: >= 90% sentences,
>= 70% on topic, <= 2% unusable, no slower per call than the first template.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from socialsim.core.rundata import load_run, of_kind, payload
from socialsim.scenarios.message_quality import quality_summary

ROOT = Path(__file__).resolve().parents[1]


def run_dirs(out: Path) -> list[Path]:
    """Every run directory under `out` (the run itself, or the arms of an arms directory)."""
    return sorted(p.parent for p in out.rglob("events.jsonl"))


def measure(example: str, template: str, extra: list[str], work: Path) -> dict:
    """Run one example with one template (no cache) and measure what its agents said."""
    out = work / f"{example}-{template}"
    sets = ["agents.llm.cache=false", f"agents.prompt.template={template}", *extra]
    cmd = [sys.executable, "-m", "socialsim.cli", "run", str(ROOT / "examples" / f"{example}.yaml")]
    cmd += [arg for s in sets for arg in ("--set", s)] + ["--out", str(out), "--quiet"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    wall = time.perf_counter() - start
    messages = sentences = checked = topical = calls = unusable = repaired = tokens = 0
    for path in run_dirs(out):
        run = load_run(path)
        quality = quality_summary(run) or {}
        messages += quality.get("messages", 0)
        sentences += quality.get("sentences", 0)
        checked += quality.get("checked_for_topic", 0)
        topical += quality.get("on_topic", 0)
        llm = of_kind(run.events, "llm_call")
        calls += len(llm)
        unusable += int(payload(llm, "error").notna().sum())
        repaired += int(payload(llm, "repaired").fillna(False).astype(bool).sum())
        tokens += int(pd.to_numeric(payload(llm, "completion_tokens"), errors="coerce").sum())
    return {
        "example": example,
        "template": template,
        "messages": messages,
        "sentences": sentences / messages if messages else float("nan"),
        "on_topic": topical / checked if checked else float("nan"),
        "calls": calls,
        "unusable": unusable / calls if calls else float("nan"),
        "repaired": repaired,
        "s_per_call": wall / calls if calls else float("nan"),
        "tokens_per_call": tokens / calls if calls else float("nan"),
    }


def main() -> None:
    """Measure every example with every template and print the table and the speed ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", default="decide_v2,talk_v1")
    parser.add_argument("--examples", default="quickstart,persuasion_campaign,norms")
    parser.add_argument("--set", action="append", default=[], dest="sets", metavar="KEY=VALUE")
    args = parser.parse_args()
    templates = args.templates.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for example in args.examples.split(","):
            for template in templates:
                rows.append(measure(example, template, args.sets, Path(tmp)))
                print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1))
    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    by = table.groupby("template", sort=False)
    overall = pd.DataFrame(
        {
            "sentences": by.apply(lambda t: (t.sentences * t.messages).sum() / t.messages.sum()),
            "unusable": by.apply(lambda t: (t.unusable * t.calls).sum() / t.calls.sum()),
            "s_per_call": by.apply(lambda t: (t.s_per_call * t.calls).sum() / t.calls.sum()),
            "tokens_per_call": by.apply(
                lambda t: (t.tokens_per_call * t.calls).sum() / t.calls.sum()
            ),
        }
    )
    print()
    print(overall.to_string(float_format=lambda x: f"{x:.3f}"))
    if len(templates) > 1:
        ratio = overall.s_per_call[templates[-1]] / overall.s_per_call[templates[0]]
        print(f"\nseconds per call, {templates[-1]} / {templates[0]}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
