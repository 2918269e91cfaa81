"""How cost grows with the population: time and peak memory on log-log axes, with the slope.

    python benchmarks/plot_scaling.py            # reads benchmarks/scaling.csv, writes docs/scaling.png

`scaling.csv` holds the figures the scale benchmarks printed (``bench_end_to_end.py`` for
rule agents, ``bench_llm_million.py`` for LLM agents), one row per run: ``kind`` (rule or
llm), ``agents``, ``seconds`` (rule: the whole ``socialsim run``; llm: set-up plus steps),
``peak_gb``, ``load`` (the load average printed beside them) and ``date``. The slope of
log(cost) on log(agents) is printed per kind and drawn: 1 is linear growth.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent


def read(path: Path) -> list[dict[str, str]]:
    """The rows of scaling.csv."""
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of log y on log x."""
    return float(np.polyfit(np.log10(x), np.log10(y), 1)[0])


def main() -> None:
    """Plot time and memory against agents for each kind; print the slopes."""
    rows = read(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "scaling.csv")
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE.parent / "docs" / "scaling.png"
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, column, label in ((axes[0], "seconds", "seconds"), (axes[1], "peak_gb", "peak GB")):
        for kind, marker in (("rule", "o"), ("llm", "s")):
            picked = sorted((r for r in rows if r["kind"] == kind), key=lambda r: int(r["agents"]))
            if len(picked) < 2:
                continue
            x = np.array([int(r["agents"]) for r in picked], dtype=float)
            y = np.array([float(r[column]) for r in picked])
            b = slope(x, y)
            print(f"{kind} {column}: slope {b:.2f} over {int(x[0]):,}-{int(x[-1]):,} agents")
            ax.loglog(x, y, marker=marker, label=f"{kind} agents (slope {b:.2f})")
        ax.set_xlabel("agents")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_title("time")
    axes[1].set_title("peak resident memory")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
