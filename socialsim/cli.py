"""The `socialsim` command line: run, sweep, analyze, plan, report, llm check, version."""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import typer  # noqa: E402

from socialsim.cli_errors import (  # noqa: E402
    command_name,
    is_click_error,
    report_failure,
    report_usage_error,
    warning_line,
)
from socialsim.cli_output import (  # noqa: E402
    console,
    err_console,
    print_arms,
    print_summary,
    print_sweep,
)
from socialsim.core.errors import Notice, SocialsimError  # noqa: E402

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

PluginsOption = Annotated[
    bool,
    typer.Option(
        "--plugins",
        help="import the plugins: the directory's config.yaml names (a plugin is Python code: "
        "pass this only for a directory you trust)",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set network.kind=ring (repeatable)",
    ),
]


def _print_version() -> None:
    from socialsim import __version__

    console.print(f"socialsim {__version__}")


def _version_flag(value: bool) -> None:
    if value:
        _print_version()
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_flag, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """The options taken before any command (the help text is the app's)."""


@app.command()
def version() -> None:
    """Print the socialsim version."""
    _print_version()


@app.command("run")
def run_cmd(
    config: Annotated[
        Path | None, typer.Argument(help="experiment config (YAML); none with --resume")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="run directory (default: output.dir/NAME-sSEED)")
    ] = None,
    set_: SetOption = None,
    report: Annotated[
        bool | None,
        typer.Option("--report/--no-report", help="write report.html (default: output.report)"),
    ] = None,
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
    plugins: PluginsOption = False,
) -> None:
    """Run one experiment and write its run directory (or its arms, with --control)."""
    from dataclasses import replace

    from socialsim.experiments.plan import execute, plan_run
    from socialsim.experiments.progress import RunProgress

    if resume is not None:
        _resume(resume, config, out, set_, control, replicates, report, quiet, plugins)
        return
    if config is None:
        raise SocialsimError("give a config (socialsim run CONFIG) or --resume RUN_DIR")
    _trust_received(config, plugins)

    overrides = list(set_ or [])
    if control:
        overrides.append("control=true")
    if replicates is not None:
        overrides.append(f"replicates={replicates}")
    plan = plan_run(config, overrides, out=out, report=report)
    name, total = plan.cfg.name, plan.steps_total
    with (
        _interruptible(),
        RunProgress(name, total, console=err_console, enabled=not quiet) as progress,
    ):
        result = execute(replace(plan, on_step=progress.update))
    if hasattr(result, "runs"):
        print_arms(result)
    else:
        print_summary(result)


def _trust_received(config: Path, plugins: bool) -> None:
    """The config.yaml of a directory socialsim wrote (a received run, arms or sweep) has its
    plugins imported only with --plugins, as for analyze, report and the dashboard."""
    from socialsim.core.registry import trust_plugins, written_by_socialsim

    if config.name == "config.yaml" and written_by_socialsim(config.parent):
        trust_plugins(config.parent, plugins, needed=True, command="run")


def _resume(run_dir, config, out, set_, control, replicates, report, quiet, plugins) -> None:
    """`socialsim run --resume RUN_DIR`: the run's own config, nothing else."""
    from socialsim.experiments.plan import RunPlan
    from socialsim.experiments.progress import RunProgress
    from socialsim.experiments.resume import check_resumable, resumable_config, resume

    if config is not None or out is not None or set_ or control or replicates is not None:
        raise SocialsimError(
            "--resume takes the run directory alone: the run's own config.yaml is used "
            "(no CONFIG, --out, --set, --control or --replicates)"
        )
    check_resumable(run_dir)
    cfg = resumable_config(run_dir, plugins=plugins)
    with (
        _interruptible(),
        RunProgress(
            cfg.name, RunPlan(cfg).steps_total, console=err_console, enabled=not quiet
        ) as progress,
    ):
        result = resume(run_dir, on_step=progress.update, report=report, plugins=plugins)
    if hasattr(result, "runs"):
        print_arms(result)
    else:
        resumed = result.summary["run"].get("resumed") or {}
        kept = run_dir / str(resumed.get("interrupted_log") or "")
        if resumed.get("matched") is False and kept.is_file():
            err_console.print(
                "warning: the replay differs from the killed run's log (the code, config or "
                f"cache changed); the old log is kept as {kept}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        print_summary(result)


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
    """Run the config's parameter grid over seeds; write results.csv and a run per cell (exit 1
    when a cell failed: the others are kept, and running it again runs the failed ones)."""
    from socialsim.experiments.sweep import sweep as run_sweep
    from socialsim.simulation.given import coerce_config

    if workers is not None and workers < 1:
        raise SocialsimError(f"--workers {workers} must be >= 1 (worker processes)")
    cfg = coerce_config(config, set_ or [])
    with _interruptible("finished cells are kept; running the sweep again resumes it"):
        results = run_sweep(
            cfg,
            out=out,
            executor=executor,
            workers=workers,
            progress=not quiet,
            report=cfg.output.report,
            address=address,
        )
    failed = print_sweep(results, list(cfg.sweep))
    if failed:
        err_console.print(
            f"{failed} of {len(results)} cells failed (errors above and in results.csv); "
            "running the same command again runs them again",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)


@app.command()
def analyze(
    run_dir: Annotated[Path, typer.Argument(help="a run, arms or sweep directory")],
    plugins: PluginsOption = False,
) -> None:
    """Compute the measures of a run (every run of an arms directory; a sweep's summary) again."""
    from socialsim.analysis.summarize import analyze_dir
    from socialsim.core.registry import trust_plugins
    from socialsim.experiments.arms import analyze_arms, is_arms_dir

    _need_dir(run_dir)
    trust_plugins(run_dir, plugins, needed=True, command="analyze")  # measures may be theirs
    if is_arms_dir(run_dir):
        result = analyze_arms(run_dir, plugins=plugins)
        console.print(f"wrote {run_dir / 'summary.json'}, results.csv and every run's summary")
        print_arms(result)
        return
    summary = analyze_dir(run_dir)
    if (run_dir / "sweep.json").is_file():
        console.print(f"wrote {run_dir / 'summary.json'}")
        sensitivity = (summary or {}).get("prompt_sensitivity") or {}
        if sensitivity:
            from socialsim.analysis.prompt_sensitivity import sensitivity_lines

            for line in sensitivity_lines(sensitivity):
                console.print(line, markup=False, highlight=False)
        if sensitivity.get("template_sensitive"):
            console.print(
                "[bold red]a headline measure is template-sensitive[/bold red]: the prompt's "
                "wording moves it beyond seed-to-seed variation (see the sweep's report)"
            )
        return
    console.print(f"wrote {run_dir / 'summary.json'} and {run_dir / 'tables'}/")
    stopped = (summary.get("run") or {}).get("stopped_in_step")
    if stopped is not None:
        warnings.warn(
            f"this run stopped inside step {stopped}, before its end: its measures cover the "
            f"steps before it; `socialsim run --resume {run_dir}` finishes it",
            Notice,
            stacklevel=1,
        )


@app.command()
def plan(
    arms_dir: Annotated[Path, typer.Argument(help="a pilot arms directory (run with --control)")],
    effect: Annotated[float, typer.Option("--effect", help="the difference to detect, e.g. 0.05")],
    measure: Annotated[
        str | None, typer.Option("--measure", help="one compared measure (default: all)")
    ] = None,
    power: Annotated[float, typer.Option("--power", help="chance to detect the effect")] = 0.8,
    alpha: Annotated[float, typer.Option("--alpha", help="two-sided test level")] = 0.05,
) -> None:
    """Replicates needed to detect an effect, from a pilot arms directory (paired t-test)."""
    from socialsim.analysis.stats import MIN_REPLICATES
    from socialsim.experiments.arms import plan_arms

    _need_dir(arms_dir, "the arms directory of a pilot (socialsim run CONFIG --control)")
    rows = plan_arms(arms_dir, effect, measure, power, alpha)
    n = max((r["n"] for r in rows), default=0)
    console.print(
        f"[bold]plan[/bold] from {arms_dir} ({n} replicate{'s' if n != 1 else ''}): to detect "
        f"{effect:g} with power {power:.0%} (paired t-test, {alpha:g} two-sided)",
        highlight=False,
    )
    for r in rows:
        if r.get("undefined"):
            console.print(
                f"  {r['measure']}: not defined in any replicate of the pilot (no agent or "
                "answer it is taken over); no number of replicates gives it",
                highlight=False,
                markup=False,
            )
            continue
        flat = " (the pilot's differences did not vary: no estimate of their SD)"
        flat = flat if r.get("pilot_sd_zero") else ""
        if r["basis"] is None:
            console.print(
                f"  {r['measure']}: no SD from {r['n']} replicate(s){flat} and not a share or "
                f"credence; run a larger pilot (--replicates {max(MIN_REPLICATES, r['n'] + 3)})",
                highlight=False,
                markup=False,
            )
            continue
        if r.get("too_many"):
            sd = f"SD of paired differences {r['sd_used']:.4g} from {r['n']} replicates{flat}"
            many = r["too_many"]
        elif r["basis"] == "pilot":
            sd = f"SD of paired differences {r['sd_used']:.4g} from {r['n']} replicates"
            many = (
                f"{r['replicates']} replicates (on average over what {r['n']} replicates leave "
                f"unknown of the SD; {r['replicates_at_pilot_sd']} if it were exactly "
                f"{r['sd_used']:.4g}, which falls short of the power about half the time)"
            )
        else:
            sd = f"worst case{flat}: SD at most 1 (a share or credence: differences lie in [-1, 1])"
            many = f"{r['replicates']} replicates"
        now = (
            f"; at {r['n']} replicates the minimum detectable effect is {r['mde']:.3g}"
            if r["mde"] is not None
            else f"; at {r['n']} replicates no difference of a share (at most 1) is detected"
            if r.get("mde_above_one")
            else ""
        )
        console.print(f"  {r['measure']}: {sd}; {many}{now}", highlight=False, markup=False)
    if n < MIN_REPLICATES:
        console.print(
            f"a pilot with at least {MIN_REPLICATES} replicates (--replicates "
            f"{MIN_REPLICATES}) gives a sharper answer",
            highlight=False,
        )


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="a run, arms or sweep directory")],
    plugins: PluginsOption = False,
) -> None:
    """Write a self-contained report.html for a run, arms or sweep directory."""
    from socialsim.analysis.report import write_report
    from socialsim.analysis.summarize import check_record
    from socialsim.core.registry import trust_plugins

    _need_dir(run_dir)
    trust_plugins(run_dir, plugins, needed=False, command="report")
    if any((run_dir / f"events.{kind}").is_file() for kind in ("jsonl", "parquet", "csv")):
        check_record(run_dir)  # a run's page is made of a whole record, as analyze reads it
    console.print(f"wrote {write_report(run_dir)}")


@app.command()
def dashboard(
    path: Annotated[
        Path,
        typer.Argument(
            help="experiment config (run live), run directory (replayed) or arms directory "
            "(treatment and control replayed side by side)"
        ),
    ],
    set_: SetOption = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8765,
    plugins: PluginsOption = False,
) -> None:
    """Serve a live dashboard (laid out like Mesa's SolaraViz) of a config, or replay a run
    directory, or an arms directory's treatment and control side by side."""
    from socialsim.dashboard.serve import serve

    code = serve(path, list(set_ or []), host=host, port=port, plugins=plugins)
    if code:
        raise typer.Exit(code)


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="a run, arms or sweep directory")],
    what: Annotated[
        str, typer.Option(help="events | agents | measures | transcripts | gexf | graphml")
    ] = "transcripts",
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv | parquet | jsonl (tables; default parquet)"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="the table's file, or the folder for one transcript/graph per run"),
    ] = None,
    force: Annotated[bool, typer.Option(help="replace files the export would write")] = False,
    plugins: PluginsOption = False,
) -> None:
    """Export tables (events, agents, measures: one file of every run, with cell, swept
    parameters, arm, seed and run_dir columns), Markdown transcripts or the graph.

    Transcripts and GEXF go into each run directory unless --out names a folder."""
    from socialsim.experiments.export import KINDS
    from socialsim.experiments.export import export as export_kind

    if what not in KINDS:
        raise SocialsimError(f"--what {what!r} is not one of {', '.join(KINDS)}")
    _need_dir(run_dir)
    from socialsim.core.registry import trust_plugins

    trust_plugins(run_dir, plugins, needed=False, command="export")
    written = export_kind(run_dir, what, fmt, out, force)
    for path in written:
        console.print(f"wrote {path}")
    if len(written) > 1:
        console.print(f"exported {what} of {len(written)} runs under {run_dir}")


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
    from socialsim.core.registry import listing, load_plugins

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


def _need_dir(path: Path, what: str = "a run, arms or sweep directory") -> None:
    """`what` to read and write in: no symbolic link where socialsim reads or writes (a
    received directory's link could point outside it)."""
    from socialsim.core.rundata import refuse_links

    if not path.is_dir():
        raise SocialsimError(f"{str(path)!r} is not a directory; pass {what}")
    refuse_links(path)


@contextmanager
def _noting_interrupts():
    """Ctrl-C raises KeyboardInterrupt as before and is also noted in the list yielded: one
    raised inside a callback Python ignores exceptions of still ends the command with 130."""
    import signal
    import threading

    pressed: list[bool] = []

    def on_interrupt(signum: int, frame: object) -> None:
        pressed.append(True)
        raise KeyboardInterrupt

    mine = threading.current_thread() is threading.main_thread() and (
        signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )
    previous_hook = sys.unraisablehook

    def quiet(unraisable: object) -> None:  # Ctrl-C there is noted: no traceback for it
        if not isinstance(getattr(unraisable, "exc_value", None), KeyboardInterrupt):
            previous_hook(unraisable)  # type: ignore[arg-type]

    if mine:
        signal.signal(signal.SIGINT, on_interrupt)
        sys.unraisablehook = quiet
    try:
        yield pressed
    finally:
        if mine:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            sys.unraisablehook = previous_hook


def main() -> None:
    """Entry point: every failure is one line on stderr (exit 2: bad input, 1: a fault).

    A failed command removes the run or sweep directories it left half-made; ``--debug``
    (anywhere on the command line) shows the traceback instead of the line.
    """
    from socialsim.experiments.half_made import remove_half_made, tracking_new_dirs

    warnings.showwarning = warning_line
    warnings.filterwarnings("always", category=Notice)  # over -W ignore and PYTHONWARNINGS
    debug = "--debug" in sys.argv[1:] or os.environ.get("SOCIALSIM_DEBUG", "") not in ("", "0")
    args = [a for a in sys.argv[1:] if a != "--debug"]
    command = command_name(args)
    with tracking_new_dirs() as made, _noting_interrupts() as pressed:
        try:
            code = app(args=args, prog_name="socialsim", standalone_mode=False)
            if pressed and code != 130:  # Ctrl-C raised where Python ignored it (a callback)
                raise KeyboardInterrupt
            if isinstance(code, int) and code:
                sys.exit(code)
        except KeyboardInterrupt:
            err_console.print(
                "interrupted: the run directory keeps every completed step", markup=False
            )
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the one place every failure is reported
            if is_click_error(exc):
                sys.exit(report_usage_error(exc))
            removed = remove_half_made(made)
            if debug:
                raise
            sys.exit(report_failure(exc, command, removed))


if __name__ == "__main__":
    main()
