"""The `socialsim` command line: run, sweep, analyze, report, llm check, version."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from socialsim.errors import SocialsimError  # noqa: E402

app = typer.Typer(
    name="socialsim",
    help="Social experiments on populations of LLM-backed agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
llm_app = typer.Typer(
    help="Talk to models: check an endpoint or the embedded model.", no_args_is_help=True
)
app.add_typer(llm_app, name="llm")
console = Console()
err_console = Console(stderr=True)

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="override a config key, e.g. --set network.kind=ring (repeatable)"),
]


@app.command()
def version() -> None:
    """Print the socialsim version."""
    from socialsim import __version__

    console.print(f"socialsim {__version__}")


@app.command("run")
def run_cmd(
    config: Annotated[Path, typer.Argument(help="experiment config (YAML)")],
    out: Annotated[
        Path | None, typer.Option("--out", help="run directory (default: output.dir/NAME-sSEED)")
    ] = None,
    set_: SetOption = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="write report.html")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Run one experiment and write its run directory."""
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.progress import RunProgress
    from socialsim.simulation.runner import run

    cfg = ExperimentConfig.from_yaml(config, overrides=set_ or [])
    total = cfg.steps if cfg.mode == "step" else None
    with RunProgress(cfg, total=total, console=err_console, enabled=not quiet) as progress:
        result = run(cfg, out=out, on_step=progress.update, report=report)
    _print_summary(result)


@app.command()
def sweep(
    config: Annotated[Path, typer.Argument(help="experiment config with a `sweep:` section")],
    out: Annotated[Path | None, typer.Option("--out", help="sweep directory")] = None,
    executor: Annotated[str, typer.Option(help="serial | processes | ray")] = "processes",
    workers: Annotated[int | None, typer.Option(help="worker processes (default: cores)")] = None,
    set_: SetOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Run the config's parameter grid over seeds; write results.csv and a run per cell."""
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.experiment import sweep as run_sweep

    cfg = ExperimentConfig.from_yaml(config, overrides=set_ or [])
    results = run_sweep(cfg, out=out, executor=executor, workers=workers, progress=not quiet)
    _print_sweep(results, list(cfg.sweep))


@app.command()
def analyze(run_dir: Annotated[Path, typer.Argument(help="a run or sweep directory")]) -> None:
    """Compute the measures of a run directory: summary.json and tables/*.csv."""
    from socialsim.analysis.summarize import analyze_dir

    _need_dir(run_dir)
    analyze_dir(run_dir)
    console.print(f"wrote {run_dir / 'summary.json'} and {run_dir / 'tables'}/")


@app.command()
def report(run_dir: Annotated[Path, typer.Argument(help="a run or sweep directory")]) -> None:
    """Write a self-contained report.html for a run or sweep directory."""
    from socialsim.analysis.report import write_report

    _need_dir(run_dir)
    console.print(f"wrote {write_report(run_dir)}")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="a run directory")],
    what: Annotated[str, typer.Option(help="transcripts | gexf")] = "transcripts",
) -> None:
    """Export conversations as Markdown transcripts per agent pair, or the graph as GEXF."""
    from socialsim.simulation.export import export_gexf, export_transcripts

    _need_dir(run_dir)
    if what == "transcripts":
        console.print(f"wrote {export_transcripts(run_dir)}")
    elif what == "gexf":
        console.print(f"wrote {export_gexf(run_dir)}")
    else:
        raise SocialsimError(f"--what {what!r} is not one of transcripts, gexf")


@llm_app.command("check")
def llm_check(
    model: Annotated[
        str | None, typer.Option(help="model string, e.g. local/smollm2 or openai/gpt-4o-mini")
    ] = None,
    api_base: Annotated[
        str | None, typer.Option(help="endpoint, e.g. http://127.0.0.1:8000/v1")
    ] = None,
) -> None:
    """One round trip to a model: prints the answer, latency and tokens/s."""
    from socialsim.llm.check import run_check

    result = run_check(model, api_base)
    for key, value in result.items():
        shown = f"{value:.3f}" if isinstance(value, float) else value
        console.print(f"[bold]{key}[/bold]: {shown}", highlight=False, markup=True)


def _need_dir(path: Path) -> None:
    if not path.is_dir():
        raise SocialsimError(f"{str(path)!r} is not a directory; pass a run or sweep directory")


def _print_summary(result) -> None:
    s = result.summary
    console.print(f"[bold]run[/bold] {result.dir}")
    console.print(
        f"steps {s['steps_run']}, agents {s['agents']}, events {sum(s['events'].values())}, "
        f"LLM calls {s['llm']['calls']} (cached {s['llm']['cached']}, errors {s['llm']['errors']})"
    )
    scenario = s.get("scenario", {})
    scalars = {
        k: v for k, v in scenario.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }
    if scalars:
        shown = ", ".join(f"{k} {v:.3g}" for k, v in list(scalars.items())[:6])
        console.print(f"{scenario.get('kind')}: {shown}", highlight=False)
    probes = scenario.get("probe_manipulated_share")
    if isinstance(probes, dict):
        for distance, by_step in probes.items():
            trail = " -> ".join(f"step {k}: {v:.0%}" for k, v in by_step.items())
            console.print(
                f"probe answers the manipulated way ({distance}): {trail}", highlight=False
            )
    for cid, c in s["claims"].items():
        console.print(
            f"claim {cid}: believers {c['believers_initial']:.0%} -> {c['believers_final']:.0%}, "
            f"mean credence {c['mean_credence_initial']:.2f} -> {c['mean_credence_final']:.2f}",
            highlight=False,
        )


def _print_sweep(results, keys: list[str]) -> None:
    if results.empty:
        console.print("no cells")
        return
    failed = results[results["status"] != "ok"]
    folder = __import__("pathlib").Path(results["run_dir"].iloc[0]).parent.parent
    console.print(f"[bold]sweep[/bold] {folder}: {len(results)} cells, {len(failed)} failed")
    metrics = [
        c for c in results.columns if c.startswith(("reach.", "believers_final.", "adherence."))
    ][:3]
    if metrics:
        by = [k for k in keys if k != "seed"] or keys
        ok = results[results["status"] == "ok"]
        table = ok.groupby(by, sort=False)[metrics].mean() if by else ok[metrics]
        console.print(table.round(3).to_string(), highlight=False)
    for row in failed.itertuples():
        console.print(f"cell {row.cell} failed: {row.error}", highlight=False, markup=False)


def main() -> None:
    """Entry point: user errors print one line and exit 2, without a traceback."""
    try:
        app()
    except SocialsimError as exc:
        err_console.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted: the run directory keeps every completed step", markup=False)
        sys.exit(130)


if __name__ == "__main__":
    main()
