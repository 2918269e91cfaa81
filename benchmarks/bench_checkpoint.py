"""What checkpoints cost per step: a large rule run and a large LLM run, checkpointed after every step.

    python benchmarks/bench_checkpoint.py [--rule-size 100000] [--llm-size 10000] [--steps 5]

Rule run: the end-to-end benchmark's experiment (``bench_end_to_end.py``: independent
cascade on barabasi_albert, default outputs and report) with `--rule-size` agents. LLM run: `--llm-size`
LLM agents against the loopback stub (50 ms x 64 slots, as in ``bench_llm_scale.py``), so
that agents carry memories. Each is stepped by hand with a checkpoint forced after every
step, and each step's time is printed beside its checkpoint's time and size (the ratio is
the cost a checkpoint after every step would add). Then the rule run goes end to end
through ``socialsim run`` twice, with ``output.checkpoint`` off and on (the default policy:
a checkpoint when 20x the last one's cost has passed), and the ratio of the two wall times
is printed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_llm_scale  # noqa: E402
import stub_server  # noqa: E402

import socialsim as ss  # noqa: E402
from socialsim.experiments import checkpoint  # noqa: E402


def rule_config(size: int, steps: int, out: str) -> dict:
    """The end-to-end benchmark's experiment: independent cascade on barabasi_albert (m=3)."""
    return {
        "name": "ckpt", "seed": 1, "steps": steps, "population": {"size": size},
        "network": {"kind": "barabasi_albert", "params": {"m": 3}},
        "agents": {"policy": "independent_cascade"},
        "output": {"dir": out},
    }  # fmt: skip


def per_step(cfg: ss.ExperimentConfig, label: str) -> None:
    """Step `cfg` by hand, a checkpoint after every step; print both times per step."""
    checkpoint.COST_FACTOR = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        with ss.SocialModel(cfg, Path(tmp)) as model:
            saver = checkpoint.Checkpointer(model, Path(tmp))
            rows = []
            while model.running:
                start = time.perf_counter()
                model.step()
                step = time.perf_counter() - start
                before = saver.seconds
                model.running, running = True, model.running  # checkpoint the last step too
                saver.after_step(model)
                model.running = running
                rows.append((model.steps, step, saver.seconds - before, saver.bytes))
    print(f"{label}:")
    for k, step, cost, size in rows:
        print(f"  step {k}: step {step:7.2f} s, checkpoint {cost:6.3f} s "
              f"({cost / step:6.1%} of the step), {size / 2**20:7.1f} MiB")  # fmt: skip
    total_step = sum(r[1] for r in rows)
    total_cost = sum(r[2] for r in rows)
    print(f"  all steps: checkpoints {total_cost:.2f} s = {total_cost / total_step:.1%} of "
          f"{total_step:.1f} s of steps")  # fmt: skip


def end_to_end(size: int, steps: int) -> None:
    """`socialsim run` of the rule config with checkpoints off and on (default policy)."""
    walls = {}
    with tempfile.TemporaryDirectory() as tmp:
        for on in (False, True, False, True):
            cfg = rule_config(size, steps, tmp)
            cfg["output"]["checkpoint"] = on
            path = Path(tmp) / f"c{on}.yaml"
            path.write_text(yaml.safe_dump(cfg))
            out = Path(tmp) / f"run-{on}-{len(walls.get(on, []))}"
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "socialsim.cli", "run", str(path), "--out", str(out), "-q"],
                check=True,
            )
            walls.setdefault(on, []).append(time.perf_counter() - start)
    off, on = min(walls[False]), min(walls[True])
    print(f"end to end, {size:,} rule agents x {steps} steps through `socialsim run` "
          f"(best of 2): checkpoints off {off:.1f} s, on {on:.1f} s: {on / off:.2f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rule-size", type=int, default=100_000)
    parser.add_argument("--llm-size", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    rule = ss.ExperimentConfig.from_dict(rule_config(args.rule_size, args.steps, "runs"))
    per_step(rule, f"rule run, {args.rule_size:,} independent-cascade agents")
    proc, base = stub_server.start(0.05, 64, answer=bench_llm_scale.DECISION)
    try:
        llm = bench_llm_scale.config(args.llm_size, 3, base, 64)
        per_step(llm, f"LLM run, {args.llm_size:,} LLM agents (stub 50 ms x 64 slots)")
    finally:
        stub_server.stop(proc)
    end_to_end(args.rule_size, 10)


if __name__ == "__main__":
    main()
