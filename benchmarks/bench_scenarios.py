"""End-to-end cost of the newer scenarios' rule baselines through `socialsim run`.

    python benchmarks/bench_scenarios.py [--sizes 2500,10000] [--only donor_game,...]

Each scenario's example runs with a rule policy (no model) at each size, in a fresh process,
through the CLI with the report (what a user runs). Prints wall seconds, peak memory and the
ratio of the largest to the smallest size's time against the ratio of sizes (linear cost:
time ratio <= size ratio; a fixed start-up cost makes it smaller).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def overrides(kind: str, n: int) -> list[str]:
    """The documented rule-baseline settings of each example at `n` agents."""
    common = ["--set", "agents.policy=degroot", "--set", f"population.size={n}"]
    extra = {
        "donor_game": ["steps=15", "scenario.params.rounds_per_generation=5"],
        "network_growth": [
            "steps=99", f"scenario.params.initial={n // 100}",
            f"scenario.params.joiners_per_step={n // 100}",
        ],
        "manipulation": [],
        "negotiation": ["scenario.params.max_turns=8"],
    }[kind]  # fmt: skip
    return common + [arg for value in extra for arg in ("--set", value)]


RUN = """
import resource, sys
from socialsim.cli import main
sys.argv = ["socialsim", *sys.argv[1:]]
try:
    main()
finally:
    print("maxrss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def measure(kind: str, n: int, out: Path) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one run."""
    args = ["run", str(EXAMPLES / f"{kind}.yaml"), "--out", str(out), "-q", *overrides(kind, n)]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{kind} at {n}: {done.stderr[-2000:]}")
    rss = [line for line in done.stderr.splitlines() if line.startswith("maxrss_kb")][-1]
    return wall, int(rss.split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2500,10000")
    parser.add_argument("--only", default="donor_game,network_growth,manipulation,negotiation")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'scenario':16} "
        + " ".join(f"{n:>8,} agents" for n in sizes)
        + "  time ratio / size ratio"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.only.split(","):
            cells, walls = [], []
            for n in sizes:
                wall, mb = measure(kind, n, Path(tmp) / f"{kind}-{n}")
                walls.append(wall)
                cells.append(f"{wall:6.1f} s {mb:5.0f} MB")
            ratio = walls[-1] / walls[0]
            print(f"{kind:16} " + " ".join(cells) + f"  {ratio:.2f} / {sizes[-1] / sizes[0]:.0f}")


if __name__ == "__main__":
    main()
