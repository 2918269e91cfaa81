"""A sweep over a parameter of your own policy, on worker processes.

    python examples/sweep_custom_parameter.py [OUT_DIR]

Sweeps the backfire threshold of the `backfire` policy (examples/custom_policy.py, loaded
through `plugins:` so every worker process registers it too) over three seeds each, and
prints how polarised the population ends up: the share of agents at an extreme.
"""

from __future__ import annotations

import sys
from pathlib import Path

import socialsim as ss
from socialsim.core.rundata import load_run

here = Path(__file__).parent


def extreme_share(run_dir: Path) -> float:
    """Share of agents whose final credence is below 0.1 or above 0.9."""
    agents = load_run(run_dir).agents
    final = agents.loc[agents["step"] == agents["step"].max(), "credence"]
    return float(((final < 0.1) | (final > 0.9)).mean())


def main() -> None:
    cfg = ss.ExperimentConfig.from_yaml(here / "custom_policy.yaml").with_overrides(
        {"steps": 20, "population.size": 120}
    )
    grid = {"agents.params.backfire_at": [0.4, 0.7, 1.0], "seed": [1, 2, 3]}
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    results = ss.sweep(cfg, grid=grid, out=out, executor="processes", workers=2)
    results["extreme_share"] = [extreme_share(Path(d)) for d in results["run_dir"]]
    print(results.groupby("agents.params.backfire_at")["extreme_share"].agg(["mean", "count"]))


if __name__ == "__main__":
    main()
