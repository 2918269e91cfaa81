"""Make the figure gallery: run the examples on rule policies and save one PNG per result.

    python docs/gallery/make_gallery.py [OUT_DIR]      # default: docs/gallery

Every run goes to a temporary folder; only the PNG figures are written into OUT_DIR.
docs/gallery/index.md shows them with the command behind each.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import socialsim as ss
from socialsim.analysis.plots import save, sweep_plot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REACH = "claims.australia_capital.adoption_benign.final_reach"
FIGURES = (
    "quickstart_adoption.png",
    "quickstart_replicates.png",
    "network_kind_final_reach.png",
    "rewiring_final_reach.png",
    "drop_of_ink_probes.png",
    "frameref_acceptance.png",
    "norms_pressure.png",
)


def copy_figure(source: Path, target: Path) -> Path:
    """Copy one figure a run wrote into the gallery, failing clearly when it is missing."""
    if not source.is_file():
        raise FileNotFoundError(f"the run wrote no figure {source}; check the example still runs")
    shutil.copyfile(source, target)
    return target


def make_gallery(out_dir: Path, work_dir: Path) -> list[Path]:
    """Run every gallery example in `work_dir` and write its figures into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    rule = {"agents.policy": "independent_cascade"}

    quick = ss.run(
        EXAMPLES / "quickstart.yaml",
        out=work_dir / "quickstart",
        overrides={**rule, "replicates": 3},
    )
    figures = Path(quick.dir) / "figures"
    made.append(
        copy_figure(
            figures / "arms_0_adoption_australia_capital.png", out_dir / "quickstart_adoption.png"
        )
    )
    made.append(copy_figure(figures / "arms_1_values.png", out_dir / "quickstart_replicates.png"))

    network = EXAMPLES / "sweep_network_structure.yaml"
    kinds = ss.sweep(network, out=work_dir / "network_kind")
    made.append(
        save(
            sweep_plot(kinds, param="network.kind", metric=REACH),
            out_dir / "network_kind_final_reach.png",
        )
    )
    rewiring = ss.sweep(
        network,
        grid={"network.params.watts_strogatz.p": [0.0, 0.05, 0.2, 0.5, 1.0], "seed": [1, 2, 3, 4]},
        out=work_dir / "rewiring",
    )
    made.append(
        save(
            sweep_plot(rewiring, param="network.params.watts_strogatz.p", metric=REACH),
            out_dir / "rewiring_final_reach.png",
        )
    )

    ss.sweep(EXAMPLES / "replicate_drop_of_ink.yaml", out=work_dir / "drop_of_ink")
    ink = (
        "sweep_scenario.params.source_style_treatment.claims.water_boils_50c"
        ".probes_benign.direct.manipulated_share.png"
    )
    made.append(
        copy_figure(work_dir / "drop_of_ink" / "figures" / ink, out_dir / "drop_of_ink_probes.png")
    )

    feed = ss.run(EXAMPLES / "replicate_frameref.yaml", out=work_dir / "frameref")
    made.append(
        copy_figure(
            Path(feed.path) / "figures" / "feed_acceptance.png", out_dir / "frameref_acceptance.png"
        )
    )

    norms = ss.run(
        EXAMPLES / "norms.yaml", out=work_dir / "norms", overrides={**rule, "population.size": 60}
    )
    made.append(
        copy_figure(
            Path(norms.path) / "figures" / "norm_pressure.png", out_dir / "norms_pressure.png"
        )
    )
    return [Path(path) for path in made]


def main(argv: list[str] | None = None) -> None:
    """Write the gallery into the folder given (default: this file's folder)."""
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0]) if args else Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory(prefix="socialsim-gallery-") as work:
        for path in make_gallery(out_dir, Path(work)):
            print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":  # sweeps may start worker processes that import this file
    main()
