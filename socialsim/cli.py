"""The `socialsim` command line: run, sweep, analyze, report, llm check, version."""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager
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
console = Console(soft_wrap=True)
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
    config: Annotated[
        Path | None, typer.Argument(help="experiment config (YAML); none with --resume")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="run directory (default: output.dir/NAME-sSEED)")
    ] = None,
    set_: SetOption = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="write report.html")] = True,
    control: Annotated[
        bool,
        typer.Option(
            "--control", help="also run the matched control arm (the manipulation removed)"
        ),
    ] = False,
    replicates: Annotated[
        int | None, typer.Option("--replicates", help="seeds to run (seed, seed+1, ...)")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    resume: Annotated[
        Path | None,
        typer.Option("--resume", help="finish a killed run (or arms) directory in place"),
    ] = None,
) -> None:
    """Run one experiment and write its run directory (or its arms, with --control)."""
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.progress import RunProgress
    from socialsim.simulation.runner import run

    if resume is not None:
        _resume(resume, config, out, set_, control, replicates, report, quiet)
        return
    if config is None:
        raise SocialsimError("give a config (socialsim run CONFIG) or --resume RUN_DIR")

    overrides = list(set_ or [])
    if control:
        overrides.append("control=true")
    if replicates is not None:
        overrides.append(f"replicates={replicates}")
    cfg = ExperimentConfig.from_yaml(config, overrides=overrides)
    arms = 2 if cfg.control else 1
    per_run = cfg.steps if cfg.mode == "step" else None
    total = per_run * cfg.replicates * arms if per_run is not None else None
    with (
        _interruptible(),
        RunProgress(cfg, total=total, console=err_console, enabled=not quiet) as progress,
    ):
        result = run(cfg, out=out, on_step=progress.update, report=report)
    if hasattr(result, "runs"):
        _print_arms(result)
    else:
        _print_summary(result)


def _resume(run_dir, config, out, set_, control, replicates, report, quiet) -> None:
    """`socialsim run --resume RUN_DIR`: the run's own config, nothing else."""
    from socialsim.simulation.progress import RunProgress
    from socialsim.simulation.resume import resumable_config, resume

    if config is not None or out is not None or set_ or control or replicates is not None:
        raise SocialsimError(
            "--resume takes the run directory alone: the run's own config.yaml is used "
            "(no CONFIG, --out, --set, --control or --replicates)"
        )
    _need_dir(run_dir)
    cfg = resumable_config(run_dir)
    arms = 2 if cfg.control else 1
    total = cfg.steps * cfg.replicates * arms if cfg.mode == "step" else None
    with (
        _interruptible(),
        RunProgress(cfg, total=total, console=err_console, enabled=not quiet) as progress,
    ):
        result = resume(run_dir, on_step=progress.update, report=report)
    if hasattr(result, "runs"):
        _print_arms(result)
    else:
        resumed = result.summary["run"].get("resumed") or {}
        if resumed and not resumed.get("matched"):
            err_console.print(
                "warning: the replay differs from the killed run's log (the code, config or "
                f"cache changed); the old log is kept as {resumed.get('interrupted_log')}",
                markup=False,
            )
        _print_summary(result)


@app.command()
def sweep(
    config: Annotated[Path, typer.Argument(help="experiment config with a `sweep:` section")],
    out: Annotated[Path | None, typer.Option("--out", help="sweep directory")] = None,
    executor: Annotated[str, typer.Option(help="serial | processes | ray")] = "processes",
    workers: Annotated[int | None, typer.Option(help="worker processes (default: cores)")] = None,
    set_: SetOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    address: Annotated[
        str | None,
        typer.Option(help="with --executor ray: join the cluster at HOST:PORT (or auto)"),
    ] = None,
) -> None:
    """Run the config's parameter grid over seeds; write results.csv and a run per cell."""
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.experiment import sweep as run_sweep

    cfg = ExperimentConfig.from_yaml(config, overrides=set_ or [])
    with _interruptible("finished cells are kept; running the sweep again resumes it"):
        results = run_sweep(
            cfg, out=out, executor=executor, workers=workers, progress=not quiet, address=address
        )
    _print_sweep(results, list(cfg.sweep))


@app.command()
def analyze(
    run_dir: Annotated[Path, typer.Argument(help="a run, arms or sweep directory")],
) -> None:
    """Compute the measures of a run (every run of an arms directory; a sweep's summary) again."""
    from socialsim.analysis.summarize import analyze_dir
    from socialsim.simulation.arms import analyze_arms, is_arms_dir

    _need_dir(run_dir)
    if is_arms_dir(run_dir):
        result = analyze_arms(run_dir)
        console.print(f"wrote {run_dir / 'summary.json'}, results.csv and every run's summary")
        _print_arms(result)
        return
    summary = analyze_dir(run_dir)
    if (run_dir / "sweep.json").is_file():
        console.print(f"wrote {run_dir / 'summary.json'}")
        sensitivity = (summary or {}).get("prompt_sensitivity") or {}
        if sensitivity.get("template_sensitive"):
            console.print(
                "[bold red]a headline measure is template-sensitive[/bold red]: its spread "
                "across prompt wordings exceeds its effect (see the sweep's report)"
            )
        return
    console.print(f"wrote {run_dir / 'summary.json'} and {run_dir / 'tables'}/")


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="a run, arms or sweep directory")],
) -> None:
    """Write a self-contained report.html for a run, arms or sweep directory."""
    from socialsim.analysis.report import write_report

    _need_dir(run_dir)
    console.print(f"wrote {write_report(run_dir)}")


@app.command()
def dashboard(
    path: Annotated[
        Path, typer.Argument(help="experiment config (run live) or run directory (replayed)")
    ],
    set_: SetOption = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8765,
) -> None:
    """Serve a live dashboard (laid out like Mesa's SolaraViz) of a config, or replay a run directory."""
    from socialsim.dashboard.serve import serve

    code = serve(path, list(set_ or []), host=host, port=port)
    if code:
        raise typer.Exit(code)


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


@app.command("list")
def list_cmd(
    what: Annotated[
        str | None,
        typer.Argument(help="policies | networks | scenarios | measures (default: all)"),
    ] = None,
    plugin: Annotated[
        list[str] | None,
        typer.Option("--plugin", help="a module or .py file that registers more (repeatable)"),
    ] = None,
) -> None:
    """List what a config may name: policies, networks, scenarios, measures, with parameters."""
    from socialsim.registry import listing, load_plugins

    load_plugins(list(plugin or []), Path.cwd())
    tables = listing()
    if what is not None and what not in tables:
        raise SocialsimError(f"{what!r} is not one of {', '.join(tables)}")
    for title, entries in tables.items():
        if what is not None and title != what:
            continue
        console.print(f"[bold]{title}[/bold]")
        for e in entries:
            sort = f" ({e['sort']})" if e["sort"] else ""
            console.print(f"  [cyan]{e['name']}[/cyan]{sort}: {e['summary']}")
            for key, spec in e["params"].items():
                note = f"  {spec['description']}" if spec["description"] else ""
                console.print(f"      {key} = {spec['default']!r}{note}", highlight=False)


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


@contextmanager
def _interruptible(kept: str = "the run directory keeps every completed step"):
    """Ctrl-C: one line saying what was kept, exit code 130 (not the CLI library's 'Aborted!')."""
    try:
        yield
    except KeyboardInterrupt:
        err_console.print(f"interrupted: {kept}", markup=False)
        raise typer.Exit(130) from None


def _need_dir(path: Path) -> None:
    if not path.is_dir():
        raise SocialsimError(f"{str(path)!r} is not a directory; pass a run or sweep directory")


def _print_summary(result) -> None:
    s = result.summary
    r, q = s["run"], s.get("data_quality", {})
    console.print(f"[bold]run[/bold] {result.dir}")
    console.print(
        f"steps {r['steps_run']}, agents {r['agents']}, events {r['events']}, "
        f"LLM calls {q.get('calls', 0)} (cached {q.get('cached', 0)}, repaired "
        f"{q.get('repaired', 0)}, unusable {q.get('unusable', 0)})",
        highlight=False,
    )
    for area, counts in q.get("answers", {}).items():
        console.print(
            f"answers {area}: {counts.get('answered')} of {counts.get('asked')} usable, "
            f"{counts.get('failed')} failed (left out of the measures)",
            highlight=False,
        )
    for claim, m in s["measures"].get("claims", {}).items():
        pop = "benign" if "adoption_benign" in m else "all"
        a = m.get(f"adoption_{pop}") or {}
        if a.get("final_reach") is None:
            continue
        console.print(
            f"claim {claim} ({pop} agents, n={a.get('n')}): believers {a['initial_reach']:.0%}"
            f" -> {a['final_reach']:.0%}, mean credence {a['mean_credence_initial']:.2f} -> "
            f"{a['mean_credence_final']:.2f}",
            highlight=False,
        )
        for key, table in m.items():
            if key.startswith("probes_") and isinstance(table, dict):
                for distance, row in table.items():
                    share = row.get("manipulated_share")
                    shown = "n/a" if share is None else f"{share:.0%}"
                    console.print(
                        f"  probes ({distance}): {shown} answered the manipulated way "
                        f"({row.get('answered')} answered, {row.get('failed')} failed)",
                        highlight=False,
                    )
    for h in s.get("headline", []):
        if not h["measure"].startswith("claims."):
            console.print(f"{h['label']}: {h['value']:.3g}", highlight=False)
    console.print(
        "no control arm: this cannot tell an effect of the scenario from drift; "
        "add --control (and --replicates N) for the effect with its interval",
        highlight=False,
    )


def _print_arms(result) -> None:
    from socialsim.simulation.arms import describe_effect

    s = result.summary
    console.print(f"[bold]arms[/bold] {result.dir}")
    console.print(
        f"seeds {s['seeds'][0]}..{s['seeds'][-1]} ({s['replicates']} replicates), arms: "
        f"{', '.join(s['arms'])}",
        highlight=False,
    )
    for arm, q in s.get("data_quality", {}).items():
        if q.get("calls"):
            console.print(
                f"{arm}: LLM calls {q['calls']} (cached {q.get('cached', 0)}, repaired "
                f"{q.get('repaired', 0)}, unusable {q.get('unusable', 0)})",
                highlight=False,
            )
    if s.get("effects"):
        console.print("effect of the scenario (treatment minus matched control, 95% interval):")
        for effect in s["effects"]:
            console.print("  " + describe_effect(effect), highlight=False, markup=False)
    else:
        for arm, means in s.get("means", {}).items():
            for key, value in means.items():
                console.print(f"{arm} {key}: mean {value:.3f}", highlight=False)


def _print_sweep(results, keys: list[str]) -> None:
    if results.empty:
        console.print("no cells")
        return
    failed = results[results["status"] != "ok"]
    folder = __import__("pathlib").Path(results["run_dir"].iloc[0]).parent.parent
    console.print(f"[bold]sweep[/bold] {folder}: {len(results)} cells, {len(failed)} failed")
    metrics = [
        c
        for c in results.columns
        if c.endswith((".final_reach", ".adherence", ".adherence_non_violators"))
    ][:3]
    if metrics:
        by = [k for k in keys if k != "seed"] or keys
        ok = results[results["status"] == "ok"]
        table = ok.groupby(by, sort=False)[metrics].mean() if by else ok[metrics]
        console.print(table.round(3).to_string(), highlight=False)
    for row in failed.itertuples():
        console.print(f"cell {row.cell} failed: {row.error}", highlight=False, markup=False)


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr (no file name or source line)."""
    err_console.print(f"warning: {message}", highlight=False, markup=False, soft_wrap=True)


def main() -> None:
    """Entry point: user errors print one line and exit 2, without a traceback."""
    warnings.showwarning = _warning_line
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
